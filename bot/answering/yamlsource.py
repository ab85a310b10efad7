"""Read YAML safely, keeping the line of every value so problems can be shown as file:line.

Hostile input is expected: maintainers edit these files by hand, often on the server. Non-UTF-8
bytes, syntax errors, duplicate keys, huge files and alias bombs all become `Problem`s, never
tracebacks or unbounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

# libyaml's parser when PyYAML has it (several times faster on large files); same events.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_NODES = 1_000_000  # values built from one file, aliases counted each time they are used


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the knowledge base, shown to maintainers as `file:line: message`."""

    file: str
    line: int
    message: str
    severity: Literal["error", "warning"] = "error"

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


_STR = "tag:yaml.org,2002:str"
_RESOLVER: Any = yaml.resolver.Resolver()
_SCALAR_LOADER = yaml.SafeLoader("")
# Plain scalars YAML 1.1 reads as something other than text: checked the slow way.
_NOT_PLAIN_TEXT = frozenset("null true false yes no on off y n".split())


def _scalar(event: yaml.ScalarEvent) -> Any:
    """The value of a scalar, with YAML 1.1's tags; plain words take a fast path."""
    value = event.value
    if event.implicit[0]:
        if value and value[0].isalpha() and value.casefold() not in _NOT_PLAIN_TEXT:
            return value
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, event.implicit)
    else:
        tag = event.tag if event.tag not in (None, "!") else _STR
    constructor = yaml.SafeLoader.yaml_constructors.get(tag)
    if constructor is None or tag == _STR:
        return value
    node_type: Any = yaml.ScalarNode
    node = node_type(tag, value, event.start_mark, event.end_mark, event.style)
    try:
        return constructor(_SCALAR_LOADER, node)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        return value


def _build(events: Any, display: str, problems: list[Problem]) -> tuple[Any, dict[Path_, int]]:
    """Build plain values from parser events, recording the line of every path.

    Works on events rather than composed nodes (half the time on large files); counts every
    value an alias repeats against MAX_NODES, so an alias bomb is refused, not expanded.
    """
    lines: dict[Path_, int] = {}
    anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, how many values it holds)
    budget = MAX_NODES
    # Each frame: [container, path, pending key (mappings), values inside, anchor, keys seen]
    stack: list[list[Any]] = []
    root: Any = None
    documents = 0

    def add(value: Any, size: int, line: int) -> None:
        nonlocal root, budget
        budget -= size
        if budget < 0:
            raise _TooBig
        if not stack:
            root = value
            lines.setdefault((), line)
            return
        frame = stack[-1]
        container, path = frame[0], frame[1]
        frame[3] += size
        if isinstance(container, list):
            lines.setdefault((*path, len(container)), line)
            container.append(value)
        elif frame[2] is _NO_KEY:
            if isinstance(value, dict | list):
                problems.append(Problem(display, line, "keys must be plain text"))
                frame[2] = _BAD_KEY
            else:
                key = str(value)
                if key == "<<":
                    problems.append(
                        Problem(
                            display, line, "merge keys (<<) are not supported; write the fields out"
                        )
                    )
                    frame[2] = _BAD_KEY
                else:
                    if key in frame[5]:
                        problems.append(
                            Problem(
                                display, line, f"duplicate key '{key}' (the later one would win)"
                            )
                        )
                    frame[5].add(key)
                    lines[(*path, key)] = line
                    frame[2] = key
        else:
            if frame[2] is not _BAD_KEY:
                container[frame[2]] = value
            frame[2] = _NO_KEY

    for event in events:
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                problems.append(Problem(display, line, "only one YAML document per file"))
                break
        elif isinstance(event, yaml.ScalarEvent):
            value = _scalar(event)
            if event.anchor:
                anchors[event.anchor] = (value, 1)
            add(value, 1, line)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
            parent_path: Path_ = ()
            if stack:
                frame = stack[-1]
                parent_path = (*frame[1], frame[2] if isinstance(frame[0], dict) else len(frame[0]))
            stack.append([container, parent_path, _NO_KEY, 0, event.anchor, set(), line])
            if len(stack) > 100:
                raise RecursionError
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frame = stack.pop()
            if frame[4]:
                anchors[frame[4]] = (frame[0], frame[3] + 1)
            add(frame[0], 0, frame[6])
            if stack:
                stack[-1][3] += frame[3]
            budget -= 1
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                problems.append(Problem(display, line, f"unknown alias *{event.anchor}"))
                add(None, 1, line)
            else:
                value, size = anchors[event.anchor]
                add(value, size, line)
    return root, lines


class _Marker:
    pass


_NO_KEY = _Marker()
_BAD_KEY = _Marker()


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
        value, lines = _build(yaml.parse(text, Loader=_LOADER), display, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(display, line, f"YAML syntax error: {reason}")]
    except yaml.YAMLError as exc:
        return None, [Problem(display, 1, f"YAML error: {type(exc).__name__}")]
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
        return None, [Problem(display, 1, "document is nested too deeply (over 100 levels)")]
    if value is None:
        return None, [*problems, Problem(display, 1, "file is empty")]
    return Located(value, lines), problems
