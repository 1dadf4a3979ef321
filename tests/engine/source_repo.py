"""A repository as an operator's machine holds it, for the pipeline's S3 source: the product's tracked files
(buildspec.yml installs the package from them) and the test world's environments/, committed in a fresh git
repository, so the pipeline's Build knows the commit and that the tree was clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from helpers import REPO

PARTS = ("pipeline", "templates", "go-function", "setup.cfg", "pyproject.toml", "README.md", "buildspec.yml")


def make_repo(root: Path) -> str:
    """Copy the product's tracked files into `root` (which holds environments/ already), commit everything;
    the commit's sha."""
    tracked = subprocess.run(["git", "ls-files", *PARTS], cwd=REPO, check=True, capture_output=True,
                             text=True).stdout.split()
    for name in tracked:
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    git = ["git", "-c", "user.name=Operator", "-c", "user.email=operator@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "release"], cwd=root, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True,
                          text=True).stdout.strip()
