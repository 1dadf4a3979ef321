"""One botocore data loader for the whole process, which does not scan every service to load one.

botocore's `Loader.load_service_model` first lists all ~430 services it knows (a directory listing per
service, ~0.04 s) only to check that the one asked for is among them. Here that check looks in the
asked service's own directory first; only an unknown name falls back to the full list (so the error,
botocore's UnknownServiceError with every known name, is unchanged). The loader is shared by every
session (`aws/session.py`), so each service model is parsed once per process, however many threads ask:
a second thread asking for a model being parsed waits for that parse instead of doing it again. That lets a
command parse the models it will need in a thread while it waits on its first STS answer (`preload`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from botocore.exceptions import DataNotFoundError
from botocore.loaders import Loader


class _ServiceNames(Sequence[str]):
    """The services having `type_name` data: membership asked per service, the full list only when read."""

    def __init__(self, loader: SharedLoader, type_name: str) -> None:
        self._loader = loader
        self._type_name = type_name
        self._names: list[str] | None = None

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str) and name and os.sep not in name and name not in (".", ".."):
            try:
                return bool(self._loader.list_api_versions(name, self._type_name))
            except DataNotFoundError:
                pass
        return name in self._all()

    def _all(self) -> list[str]:
        if self._names is None:
            self._names = Loader.list_available_services(self._loader, self._type_name)
        return self._names

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())


class SharedLoader(Loader):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = threading.Lock()
        self._parsing: dict[tuple[Any, ...], threading.Lock] = {}

    def list_available_services(self, type_name: str) -> Sequence[str]:  # type: ignore[override]
        return _ServiceNames(self, type_name)

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        """botocore's (cached per instance), one parse per model: concurrent askers wait for the first."""
        with self._guard:
            once = self._parsing.setdefault((service_name, type_name, api_version), threading.Lock())
        with once:
            return super().load_service_model(service_name, type_name, api_version)

    def preload(self, services: Iterable[str]) -> threading.Thread:
        """Parse what a client of each service loads (its API model and endpoint rules) in a daemon thread;
        a client made meanwhile waits for the parse under way. Errors are left for that client to meet."""
        def load() -> None:
            for service in services:
                for type_name in ("service-2", "endpoint-rule-set-1"):
                    try:
                        self.load_service_model(service, type_name)
                    except Exception:  # the client that needs it raises it, in botocore's words
                        return
        thread = threading.Thread(target=load, name="preload-models", daemon=True)
        thread.start()
        return thread


_LOADER: SharedLoader | None = None


def shared_loader() -> SharedLoader:
    """The process's loader; honours AWS_DATA_PATH like botocore's own `create_loader`."""
    global _LOADER
    if _LOADER is None:
        paths = os.environ.get("AWS_DATA_PATH")
        extra = [os.path.expanduser(os.path.expandvars(p)) for p in paths.split(os.pathsep)] if paths else []
        _LOADER = SharedLoader(extra_search_paths=extra)
    return _LOADER
