"""The emulated CodeBuild image: this machine's toolchains, and a Python whose installs never touch the host.

There is no Docker here, so a build runs on this machine (its go and python stand in for the
`runtime-versions` the buildspec asks for). The buildspec's install phase still runs for real: it is
`python -m pip install -e .` on AWS's image. So each emulator process gets one image virtualenv (made once,
~0.2 s, removed at shutdown) whose site-packages sees the product venv's through a `.pth` line: what is
installed there counts as installed, pip needs no index (PIP_NO_INDEX, as a custom image's pip.conf would
say) and builds without isolation (the venv has setuptools and wheel). An install then puts the build's own
`pipeline` entry point in the image venv's bin, first on the build's PATH; the product's own venv and the
host's Python are never written. Measured: `pip install -e '.[dev]'` of this repository in it, 2.2 s.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

_LOCK = threading.Lock()
_IMAGE: dict[str, Path] = {}
IMAGE_NAME = "aws/codebuild/amazonlinux-x86_64-standard:5.0 (emulated: this machine)"


def root() -> Path:
    """The image venv, made on first use."""
    with _LOCK:
        if "root" not in _IMAGE:
            path = Path(tempfile.mkdtemp(prefix="codebuild-image-")) / "venv"
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True,
                           capture_output=True, timeout=120)
            image_python = path / "bin" / "python"
            ask = "import sysconfig; print(sysconfig.get_path('purelib'))"
            purelib = subprocess.run([str(image_python), "-c", ask],
                                     check=True, capture_output=True, text=True, timeout=60).stdout.strip()
            Path(purelib, "_codebuild_image.pth").write_text("\n".join(site.getsitepackages()) + "\n")
            _IMAGE["root"] = path
        return _IMAGE["root"]


def environment(base_path: str | None = None) -> dict[str, str]:
    """The image's own variables: PATH with its venv first, pip's offline settings, a HOME and Go's caches."""
    venv = root()
    host_bin = str(Path(sys.executable).parent)  # the product venv's tools (ruff, pytest) come after
    path = os.pathsep.join([str(venv / "bin"), host_bin, base_path or os.environ.get("PATH", "/usr/bin:/bin")])
    env = {"PATH": path, "VIRTUAL_ENV": str(venv), "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "LANG": os.environ.get("LANG", "C.UTF-8"),
           "HOME": os.environ.get("HOME", "/root")}
    for name in ("GOPATH", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOFLAGS", "GONOSUMDB", "GOPRIVATE", "TMPDIR"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def remove() -> None:
    with _LOCK:
        path = _IMAGE.pop("root", None)
    if path is not None:
        shutil.rmtree(path.parent, ignore_errors=True)
