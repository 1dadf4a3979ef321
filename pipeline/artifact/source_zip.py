"""The pipeline's S3 source as an operator makes it: a zip of a git work tree's tracked files and its `.git`,
so the Build action knows the commit and that the tree was clean (envs with approval refuse anything else)."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

from pipeline.errors import InputError


def work_tree(path: Path) -> Path:
    """The top of the git work tree holding `path`; exit 2 outside one."""
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True,
                         check=False)
    if top.returncode != 0:
        raise InputError(f"{path}: not in a git work tree (the pipeline's source is a zip of one; "
                         "or give --source ZIP)")
    return Path(top.stdout.strip())


def pack_source(root: Path) -> bytes:
    """The zip of `root`'s tracked files plus its `.git`; exit 2 when the tree has uncommitted changes
    (the pipeline would build a dirty artifact that approval envs refuse)."""
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True)
    if status.stdout.strip():
        first = status.stdout.strip().splitlines()[0]
        raise InputError(f"{root}: the work tree has uncommitted changes ({first.strip()}): commit them first, "
                         "or give --source ZIP")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.split("\0")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in tracked:
            if name and (root / name).is_file():
                archive.write(root / name, name)
        for path in sorted((root / ".git").rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
    return buf.getvalue()
