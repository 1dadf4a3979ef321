"""Staging and promoting across regions (issue 13), measured on the embedded emulator. Prints, does not judge.

For an env whose targets sit in 1, 2 and 4 regions (one account each): the calls of `stage` (a first
stage, then a re-stage of the same bytes), the bytes the client sent in request bodies (the zip once;
replicas are server-side copies), and the calls of a code-only promotion of that env.

Run: .venv/bin/python bench/regions.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from promote import Calls, build_two, cli, counting, describe  # noqa: E402

REGIONS = ("us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2")
ACCOUNTS = ("111111111111", "555555555555", "666666666666", "777777777777")


class Bytes:
    def __init__(self) -> None:
        self.sent = 0

    def hook(self, request, **_kwargs) -> None:
        """Request body bytes as sent (Content-Length; a CopyObject has none: S3 copies the bytes)."""
        length = request.headers.get("Content-Length")
        if length is not None:
            self.sent += int(length)
        elif isinstance(request.body, (bytes, str)):
            self.sent += len(request.body)


def counting_bytes(sent: Bytes) -> None:
    from pipeline.aws import session as session_module

    original = session_module.SessionFactory.__init__

    def patched(self, *args, **kwargs):
        kwargs["event_hooks"] = [*(kwargs.get("event_hooks") or []), ("before-send", sent.hook)]
        original(self, *args, **kwargs)

    session_module.SessionFactory.__init__ = patched


def main() -> None:
    from pipeline.local.emulator import Emulator

    work = Path(tempfile.mkdtemp(prefix="bench-regions-"))
    artifacts = build_two(work)
    calls, sent = Calls(), Bytes()
    counting(calls)
    counting_bytes(sent)
    with Emulator() as emulator:
        emulator.export_environment(os.environ)
        for n in (1, 2, 4):
            emulator.reset()
            envs = work / f"environments-{n}"
            shutil.copytree(REPO / "environments", envs)
            pairs = zip(ACCOUNTS[:n], REGIONS[:n], strict=True)
            targets = "".join(f'  - {{account: "{a}", region: {r}}}\n' for a, r in pairs)
            (envs / "dev.yml").write_text(f"targets:\n{targets}wave_size: {n}\n")
            os.chdir(work)
            assert cli("--config-dir", str(envs), "bootstrap", "--tooling") == 0
            assert cli("--config-dir", str(envs), "bootstrap", "--env", "dev") == 0
            (first, _), (second, digest2) = artifacts
            assert cli("--config-dir", str(envs), "stage", str(first)) == 0
            calls.calls.clear()
            sent.sent = 0
            assert cli("--config-dir", str(envs), "stage", str(second)) == 0
            print(f"{n} region(s): stage: {describe(calls.calls)} (+ CopyObject: server-side); {sent.sent} bytes sent "
                  f"(zip {second.stat().st_size} bytes)")
            calls.calls.clear()
            sent.sent = 0
            assert cli("--config-dir", str(envs), "stage", str(second)) == 0
            print(f"{n} region(s): re-stage: {describe(calls.calls)}; {sent.sent} bytes sent")
            assert cli("--config-dir", str(envs), "promote", "--to", "dev", "--artifact", artifacts[0][1]) == 0
            calls.calls.clear()
            assert cli("--config-dir", str(envs), "promote", "--to", "dev", "--artifact", digest2) == 0
            print(f"{n} region(s): code-only promotion of dev ({n} target(s)): {describe(calls.calls)}")


if __name__ == "__main__":
    main()
