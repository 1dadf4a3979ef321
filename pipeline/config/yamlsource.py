"""Safe YAML loading that remembers where every key came from.

Config errors must name file, line and key path, so the loader walks PyYAML's node tree
itself and records `(path) -> line` for every mapping key and sequence item. It also
refuses what a plain `yaml.safe_load` would accept silently: duplicate keys, alias bombs,
very deep nesting, huge files, non-UTF-8 bytes.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 40

KeyPath = tuple[str | int, ...]
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


class YamlProblem(Exception):
    """One problem in one file, already phrased as `file:line: message`."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


@dataclass
class Located:
    """A loaded YAML document plus the line of every key path in it."""

    file: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int:
        """The line of the longest known prefix of `path` (1 when nothing matches)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


def display_path(path: Path) -> str:
    """Path as the user would type it: relative to the working directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_file(path: Path) -> Located:
    """Read and parse one YAML file; every failure is a YamlProblem naming the file."""
    name = display_path(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(str(path))
        if not stat.S_ISREG(info.st_mode):
            # a FIFO, socket or device (e.g. a link to /dev/zero) would block or never end
            raise YamlProblem(name, 1, "is not a regular file (a device, FIFO or socket?)")
        if info.st_size > MAX_FILE_BYTES:
            raise YamlProblem(name, 1, _too_large(info.st_size))
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
        if len(raw) > MAX_FILE_BYTES:
            raise YamlProblem(name, 1, _too_large(len(raw)))
    except FileNotFoundError:
        raise YamlProblem(name, 1, "file not found") from None
    except IsADirectoryError:
        raise YamlProblem(name, 1, "is a directory, expected a YAML file") from None
    except PermissionError:
        raise YamlProblem(name, 1, "cannot read file (permission denied)") from None
    return parse_text(name, raw)


def _too_large(size: int) -> str:
    return f"file is too large ({size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES // 1024} KiB)"


def parse_text(name: str, raw: bytes) -> Located:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlProblem(name, line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset "
                                      f"{exc.start})") from None
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise YamlProblem(name, 1, "file is empty")
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # its reader refuses control characters right here
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and exc.problem_mark and exc.problem_mark.line >= len(text.splitlines()):
            mark = exc.context_mark  # the file ended: point at what was left open
        line = mark.line + 1 if mark else 1
        what = exc.problem or exc.context
        if exc.context and exc.problem and exc.problem.startswith("but "):  # "expected X" + "but found Y"
            what = f"{exc.context}, {exc.problem}"
        raise YamlProblem(name, line, f"YAML syntax error: {what}") from None
    except yaml.reader.ReaderError as exc:  # e.g. a NUL or other control character; str(exc) spans two lines
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise YamlProblem(name, line, f"control character #x{code:04x} is not allowed in YAML") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise YamlProblem(name, 1, f"YAML error: {first}") from None
    except RecursionError:
        # PyYAML composes recursively: thousands of nested [ or { exhaust the stack before our depth check
        raise YamlProblem(name, 1, f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise YamlProblem(name, 1, "file is empty")
    walker = _Walker(name, loader)
    located = Located(name, None)
    located.data = walker.build(node, (), located.lines, 0)
    return located


class _Walker:
    def __init__(self, name: str, loader: yaml.SafeLoader) -> None:
        self.name = name
        self.loader = loader
        self.count = 0

    def build(self, node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], depth: int) -> Any:
        self.count += 1
        line = node.start_mark.line + 1
        if self.count > MAX_NODES:
            raise YamlProblem(self.name, line, f"document too large: more than {MAX_NODES} values "
                                               "(alias expansion?)")
        if depth > MAX_DEPTH:
            raise YamlProblem(self.name, line, f"{_dotted(path)}: nested deeper than {MAX_DEPTH} levels")
        lines.setdefault(path, line)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
            raise YamlProblem(self.name, line, f"{_dotted(path) or 'document'}: unsupported YAML tag {node.tag!r}")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, lines, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), lines, depth + 1) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            raise YamlProblem(self.name, line, f"{_dotted(path)}: {exc.problem}") from None

    def _mapping(self, node: yaml.MappingNode, path: KeyPath, lines: dict[KeyPath, int],
                 depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem(self.name, key_line, f"{_dotted(path) or 'top level'}: YAML merge keys "
                                                       "('<<') are not supported")
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem(self.name, key_line, f"{_dotted(path)}: keys must be plain strings")
            key = str(self.loader.construct_object(key_node))
            if key in result:
                first = lines.get((*path, key), key_line)
                raise YamlProblem(self.name, key_line, f"{_dotted((*path, key))}: duplicate key "
                                                       f"(first defined on line {first})")
            lines[(*path, key)] = key_line
            result[key] = self.build(value_node, (*path, key), lines, depth + 1)
            lines[(*path, key)] = key_line
        return result


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


dotted = _dotted
