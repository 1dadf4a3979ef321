"""No fixed sleeps: tests poll with a deadline, the product waits on what AWS says (issue 11).

Parsed with `ast`: a call to anything named `sleep` (`time.sleep`, `ctx.sleep`, an injected `sleep`)
whose argument is a number known before the program runs (a literal, a module-level constant, or
arithmetic of those) is a fixed sleep. Tests may pause for at most MAX_TEST_SLEEP (yielding to a
thread, letting a process exit while idle); the product (pipeline/, the emulator aside) for none.
"""

from __future__ import annotations

import ast
import operator
from pathlib import Path

from helpers import REPO

MAX_TEST_SLEEP = 0.05
# Sleeps that are not waits for a state, each with why.
ALLOWED = {
    ("tests/launcher.py", "WAIT_LIMIT"): "parks the thread until the SIGKILL timer set just before it fires",
}
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _constants(tree: ast.Module) -> dict[str, float]:
    found: dict[str, float] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = _value(node.value, found)
            if value is not None:
                found[node.targets[0].id] = value
    return found


def _value(node: ast.AST, constants: dict[str, float]) -> float | None:
    """The number `node` always is, or None when it depends on the run."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _value(node.left, constants), _value(node.right, constants)
        if left is not None and right is not None:
            return _OPS[type(node.op)](left, right)
    return None


def fixed_sleeps(path: Path) -> list[tuple[int, str, float]]:
    tree = ast.parse(path.read_text(), str(path))
    constants = _constants(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name != "sleep":
            continue
        value = _value(node.args[0], constants)
        if value is not None:
            found.append((node.lineno, ast.unparse(node.args[0]), value))
    return found


def _violations(paths: list[Path], limit: float) -> list[str]:
    out = []
    for path in paths:
        rel = path.relative_to(REPO).as_posix()
        for line, text, seconds in fixed_sleeps(path):
            if seconds > limit and (rel, text) not in ALLOWED:
                out.append(f"{rel}:{line}: sleep({text}) = {seconds:g} s")
    return out


def test_tests_sleep_no_longer_than_a_tick():
    paths = sorted((REPO / "tests").rglob("*.py"))
    assert not _violations(paths, MAX_TEST_SLEEP), "poll with a deadline instead"


def test_the_product_has_no_fixed_sleep():
    paths = [p for p in sorted((REPO / "pipeline").rglob("*.py")) if "local" not in p.relative_to(REPO).parts]
    assert not _violations(paths, 0.0), "wait on a state AWS reports instead"


def test_the_checker_sees_fixed_sleeps(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import time\nPAUSE = 0.5\ntime.sleep(PAUSE * 2)\nctx.sleep(1)\ntime.sleep(delay)\n"
                      "time.sleep(0.01)\n")
    assert [(line, seconds) for line, _, seconds in fixed_sleeps(sample)] == [(3, 1.0), (4, 1.0), (6, 0.01)]


def test_allowed_entries_still_exist():
    for rel, text in ALLOWED:
        assert any(t == text for _, t, _ in fixed_sleeps(REPO / rel)), f"{rel}: sleep({text}) is gone: drop it"
