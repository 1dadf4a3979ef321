"""The promotion board as one self-contained HTML page (templates/board.html.j2). Pure.

jinja2 with autoescape on: every name, message, commit and smoke case is text, never markup, so a
`<script>` in a commit message shows as written. The page loads nothing: inline style, inline SVG,
no script; `--serve` adds a meta refresh. The SVG's geometry is computed here, one mark per record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from pipeline.core.board import Board, EnvBoard, Mark

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE = "board.html.j2"
WIDTH, HEIGHT, PAD = 760, 64, 24
SHAPES = {"ok": "circle", "bad": "square", "warn": "diamond", "idle": "dot", "error": "square"}


@dataclass(frozen=True)
class Point:
    """Where one mark sits on the timeline and which shape it takes (shape says the tone without colour)."""

    mark: Mark
    x: float
    y: float
    shape: str


def points(marks: tuple[Mark, ...]) -> list[Point]:
    """One point per record, evenly spaced oldest (left) to newest (right)."""
    if not marks:
        return []
    step = (WIDTH - 2 * PAD) / max(len(marks) - 1, 1)
    return [Point(m, round(PAD + i * step if len(marks) > 1 else WIDTH / 2, 1), HEIGHT / 2, SHAPES.get(m.tone, "dot"))
            for i, m in enumerate(marks)]


def matrix(board: Board) -> tuple[list[str], list[tuple[str, int]], dict[tuple[str, str, int], Any]]:
    """Columns (envs in order), rows (function, n-th target of its env) and the cell at (env, function, n):
    each env's accounts differ, so a row is a function, and an env of several targets has a row per target."""
    columns = [e.name for e in board.envs]
    rows: list[tuple[str, int]] = []
    cells = {}
    for env in board.envs:
        seen: dict[str, int] = {}
        for c in env.cells:
            n = seen[c.function] = seen.get(c.function, -1) + 1
            if (c.function, n) not in rows:
                rows.append((c.function, n))
            cells[(env.name, c.function, n)] = c
    first = {f: i for i, (f, _) in reversed(list(enumerate(rows)))}
    rows.sort(key=lambda r: (first[r[0]], r[1]))
    return columns, rows, cells


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(board: Board, *, refresh_seconds: int | None = None) -> str:
    """The page. `refresh_seconds`: served by `--serve`, reloads itself that often (None: a file)."""
    columns, rows, cells = matrix(board)
    timelines: dict[str, list[Point]] = {e.name: points(e.marks) for e in board.envs}
    by_name: dict[str, EnvBoard] = {e.name: e for e in board.envs}
    return _environment().get_template(TEMPLATE).render(
        board=board, columns=columns, rows=rows, cells=cells, timelines=timelines, envs=by_name,
        width=WIDTH, height=HEIGHT, refresh=refresh_seconds)
