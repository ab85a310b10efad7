"""Read YAML safely, keeping the line of every value so problems can be shown as file:line.

Hostile input is expected: maintainers edit these files by hand, often on the server. Non-UTF-8
bytes, syntax errors, duplicate keys, huge files and alias bombs all become `Problem`s, never
tracebacks or unbounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000  # values built from one file, aliases counted each time they are used


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the knowledge base, shown to maintainers as `file:line: message`."""

    file: str
    line: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {prefix}{self.message}"


Path_ = tuple[str | int, ...]


@dataclass
class Located:
    """A document's plain Python value plus the line (1-based) of every path in it."""

    value: Any
    lines: dict[Path_, int]

    def line(self, path: Path_) -> int:
        """Line of the deepest known prefix of path."""
        for n in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:n]))
            if line is not None:
                return line
        return 1


class _TooBig(Exception):
    pass


def _convert(
    node: yaml.Node,
    path: Path_,
    lines: dict[Path_, int],
    budget: list[int],
    problems: list[Problem],
    file: str,
) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(file, key_node.start_mark.line + 1, "keys must be plain text")
                )
                continue
            key = str(key_node.value)
            if key == "<<":
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        "merge keys (<<) are not supported; write the fields out",
                    )
                )
                continue
            if key in result:
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        f"duplicate key '{key}' (the later one would win)",
                    )
                )
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, child, lines, budget, problems, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*path, i), lines, budget, problems, file)
            for i, item in enumerate(node.value)
        ]
    assert isinstance(node, yaml.ScalarNode)
    return _resolve_scalar(node)


_SCALAR_LOADER = yaml.SafeLoader("")


def _resolve_scalar(node: yaml.ScalarNode) -> Any:
    constructor = yaml.SafeLoader.yaml_constructors.get(node.tag)
    if constructor is None:
        return str(node.value)
    try:
        return constructor(_SCALAR_LOADER, node)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        return str(node.value)


def read_yaml(path: Path, display: str) -> tuple[Located | None, list[Problem]]:
    """Parse one YAML file; return its located value, or None with the problems found."""
    problems: list[Problem] = []
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Problem(display, 1, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
            ]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(display, 1, f"cannot read file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            Problem(display, line, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8")
        ]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [Problem(display, line, "contains a NUL character")]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(display, line, f"YAML syntax error: {reason}")]
    except (yaml.YAMLError, RecursionError) as exc:
        return None, [Problem(display, 1, f"YAML error: {type(exc).__name__}")]
    if node is None:
        return None, [Problem(display, 1, "file is empty")]
    lines: dict[Path_, int] = {}
    try:
        value = _convert(node, (), lines, [MAX_NODES], problems, display)
    except _TooBig:
        return None, [
            Problem(
                display,
                1,
                f"document expands to more than {MAX_NODES:,} values "
                "(an alias bomb, or a file far too large)",
            )
        ]
    except RecursionError:
        return None, [Problem(display, 1, "document is nested too deeply")]
    return Located(value, lines), problems
