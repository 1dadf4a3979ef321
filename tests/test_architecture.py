"""The import rules of ARCHITECTURE.md, checked on every module's imports (parsed with ast, not run).

Every import counts: module level, inside functions (lazy imports) and under TYPE_CHECKING, because
each is a dependency a reader has to follow. A rule broken anywhere fails with the importing file,
line and the imported module.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"

# Who may not import whom (by top folder under pipeline/).
PURE = ("core", "config", "artifact", "infra")  # decide: no AWS, no engine, no emulator
FORBIDDEN = {**{layer: ("aws", "engine", "commands", "local") for layer in PURE},
             "aws": ("engine", "commands", "local"),
             "engine": ("commands", "local")}
# The only doors into the emulator from outside pipeline/local/.
LOCAL_DOORS = ("pipeline.commands.local", "pipeline.commands.demo", "pipeline.commands.demo_steps",
               "pipeline.commands.demo_service", "pipeline.commands.demo_pipeline")
# Import circles that exist on purpose until their owner removes them: each entry names why. The test
# below fails when one disappears, so the list cannot go stale.
KNOWN_CYCLES: dict[frozenset[str], str] = {
    frozenset({"pipeline.local.emulator", "pipeline.local.invoke"}):
        "issue 11 composes the emulator's layers explicitly (emulator.py is that issue's)",
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: Path
    line: int

    def where(self) -> str:
        return f"{self.path.relative_to(PACKAGE.parent)}:{self.line}: {self.source} imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module a dotted import names (a `from m import x` may name module m.x or a member of m)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[Edge]:
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        seen: set[str] = set()
        for target in targets:
            if not target.startswith("pipeline"):
                continue
            resolved = resolve(target, known)
            if resolved and resolved != name and resolved not in seen:
                seen.add(resolved)
                yield Edge(name, resolved, path, node.lineno)


def graph() -> list[Edge]:
    known = modules()
    return [edge for name, path in known.items() for edge in imports_of(name, path, known)]


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else ""


def broken_rules(edges: list[Edge]) -> list[str]:
    problems = []
    for edge in edges:
        source, target = layer(edge.source), layer(edge.target)
        if target in FORBIDDEN.get(source, ()):
            problems.append(f"{edge.where()} ({source}/ never imports {target}/)")
        elif target == "local" and source != "local" and edge.source not in LOCAL_DOORS:
            problems.append(f"{edge.where()} (only {', '.join(LOCAL_DOORS)} and tests import pipeline.local)")
    return problems


def cycles(edges: list[Edge]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan), plus self-imports."""
    succ: dict[str, list[str]] = {}
    for edge in edges:
        succ.setdefault(edge.source, []).append(edge.target)
        succ.setdefault(edge.target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(succ):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read_from_every_module():
    edges = graph()
    assert len(modules()) > 100 and len(edges) > 300
    assert any(e.source == "pipeline.engine.bootstrap" and e.target == "pipeline.core.bootstrap_plan" for e in edges)
    # a lazy import inside a function is an edge too
    assert any(e.source == "pipeline.commands.bootstrap" and e.target == "pipeline.engine.bootstrap" for e in edges)


def test_no_module_breaks_the_layer_rules():
    problems = broken_rules(graph())
    assert not problems, "\n".join(problems)


def test_no_import_circle_in_pipeline():
    found = [c for c in cycles(graph()) if c not in KNOWN_CYCLES]
    assert not found, "import circles: " + "; ".join(" <-> ".join(sorted(c)) for c in found)


@pytest.mark.parametrize("cycle", list(KNOWN_CYCLES), ids=lambda c: " <-> ".join(sorted(c)))
def test_known_circles_still_exist_until_removed_from_the_list(cycle):
    assert cycle in cycles(graph()), f"circle gone: remove it from KNOWN_CYCLES ({KNOWN_CYCLES[cycle]})"


def test_the_checker_catches_what_it_claims():
    """The rules and the cycle finder on a made-up graph: each kind of breach is reported."""
    p = PACKAGE / "x.py"
    edges = [Edge("pipeline.core.plan", "pipeline.aws.functions", p, 1),
             Edge("pipeline.aws.ledger", "pipeline.engine.context", p, 2),
             Edge("pipeline.engine.promote", "pipeline.local.emulator", p, 3),
             Edge("pipeline.cli", "pipeline.local.emulator", p, 4),
             Edge("pipeline.commands.demo", "pipeline.local.emulator", p, 5),
             Edge("pipeline.engine.a", "pipeline.engine.b", p, 6), Edge("pipeline.engine.b", "pipeline.engine.c", p, 7),
             Edge("pipeline.engine.c", "pipeline.engine.a", p, 8)]
    problems = broken_rules(edges)
    assert [int(line.split(":")[1]) for line in problems] == [1, 2, 3, 4]
    assert cycles(edges) == [frozenset({"pipeline.engine.a", "pipeline.engine.b", "pipeline.engine.c"})]


def test_no_module_over_300_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > 300}
    assert not long, f"modules over 300 lines: {long}"


def test_only_the_error_helper_reads_a_client_errors_response():
    """`aws/errors.py` is the one reading of `ClientError.response` (the emulator builds answers: not counted)."""
    pattern = re.compile(r"""response(\.get\(|\[)["']Error["']|["']HTTPStatusCode["']""")
    readers = [f"{path.relative_to(PACKAGE.parent)}:{n}" for name, path in modules().items()
               if name != "pipeline.aws.errors" and not name.startswith("pipeline.local")
               for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not readers, "use pipeline.aws.errors instead: " + ", ".join(readers)
