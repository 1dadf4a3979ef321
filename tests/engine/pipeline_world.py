"""The product's own pipeline, ready to run on the emulator: the world bootstrapped, `build_tests: false` (the
pipeline's Build would run this very suite), a committed repository in the working directory, the operator's
keys (the `operated` fixture, tests/engine/conftest.py); helpers to change the repository and read
`pipeline --output json pipeline ...`."""

from __future__ import annotations

import subprocess

OPERATOR = "arn:aws:iam::444444444444:user/operator"
MAIN_GO = "go-function/main.go"


def commit(root, path: str, text: str, message: str) -> str:
    """Change one file in the repository and commit it: the new commit's sha."""
    (root / path).write_text(text)
    git = ["git", "-c", "user.name=Operator", "-c", "user.email=operator@example.com"]
    subprocess.run([*git, "commit", "-q", "-am", message], cwd=root, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True,
                          text=True).stdout.strip()


def pipeline_json(world, *args: str) -> tuple[int, dict, str]:
    """`pipeline --output json pipeline ...`: exit code, the document, stderr (progress and the error line)."""
    import json

    code, out, err = world.cli("--output", "json", "pipeline", *args)
    return code, (json.loads(out) if out.strip() else {}), err


def rows(doc: dict) -> dict[str, dict]:
    """The document's actions by `stage/action`."""
    return {f"{a['stage']}/{a['action']}": a for a in doc.get("actions", [])}
