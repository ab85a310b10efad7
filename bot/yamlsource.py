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


@dataclass(slots=True)
class _Frame:
    """A mapping or sequence being built, with what it needs until its end event."""

    container: dict[str, Any] | list[Any]
    path: Path_ | None  # None: the value is dropped (a key that is a collection, or its value)
    line: int
    anchor: str | None
    size: int = 0  # values inside so far, an alias counting every value it repeats
    key: str | None = None  # mappings: the key waiting for its value (None: a key comes next)
    keep: bool = True  # mappings: False when the waiting key was refused, so its value is dropped

    def child_path(self) -> Path_ | None:
        """The path of the next value placed in this container."""
        if self.path is None:
            return None
        if isinstance(self.container, list):
            return (*self.path, len(self.container))
        if self.key is None or not self.keep:
            return None
        return (*self.path, self.key)


class _Builder:
    """Plain values from parser events, with the line of every path and located problems.

    Works on events rather than composed nodes (half the time on large files); counts every
    value an alias repeats against MAX_NODES, so an alias bomb is refused, not expanded.
    """

    def __init__(self, display: str, problems: list[Problem]) -> None:
        self.display = display
        self.problems = problems
        self.lines: dict[Path_, int] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, values it holds)
        self.budget = MAX_NODES
        self.stack: list[_Frame] = []
        self.root: Any = None

    def build(self, events: Any) -> tuple[Any, dict[Path_, int]]:
        documents = 0
        for event in events:
            line = event.start_mark.line + 1 if event.start_mark is not None else 1
            kind = type(event)
            if kind is yaml.ScalarEvent:
                self.scalar(event, line)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self.start(event, line)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                self.end()
            elif kind is yaml.AliasEvent:
                self.alias(event, line)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.problem(line, "only one YAML document per file")
                    break
        return self.root, self.lines

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.display, line, message))

    def scalar(self, event: yaml.ScalarEvent, line: int) -> None:
        value = _scalar(event)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)
        self.add(value, 1, line)

    def alias(self, event: yaml.AliasEvent, line: int) -> None:
        if event.anchor not in self.anchors:
            self.problem(line, f"unknown alias *{event.anchor}")
            self.add(None, 1, line)
        else:
            value, size = self.anchors[event.anchor]
            self.add(value, size, line)

    def start(self, event: yaml.CollectionStartEvent, line: int) -> None:
        container: dict[str, Any] | list[Any] = {} if type(event) is yaml.MappingStartEvent else []
        path = self.stack[-1].child_path() if self.stack else ()
        self.stack.append(_Frame(container, path, line, event.anchor))
        if len(self.stack) > 100:
            raise RecursionError

    def end(self) -> None:
        frame = self.stack.pop()
        if frame.anchor:
            self.anchors[frame.anchor] = (frame.container, frame.size + 1)
        self.add(frame.container, 0, frame.line)
        if self.stack:
            self.stack[-1].size += frame.size
        self.budget -= 1

    def add(self, value: Any, size: int, line: int) -> None:
        """Place a finished value in the innermost container (or as the document)."""
        self.budget -= size
        if self.budget < 0:
            raise _TooBig
        if not self.stack:
            self.root = value
            self.lines.setdefault((), line)
            return
        frame = self.stack[-1]
        frame.size += size
        container = frame.container
        if isinstance(container, list):
            if frame.path is not None:
                self.lines.setdefault((*frame.path, len(container)), line)
            container.append(value)
        elif frame.key is None:
            self.add_key(frame, value, line)
        else:
            if frame.keep:
                container[frame.key] = value
            frame.key = None
            frame.keep = True

    def add_key(self, frame: _Frame, value: Any, line: int) -> None:
        if isinstance(value, dict | list):
            self.problem(line, "keys must be plain text")
            frame.key, frame.keep = "", False
            return
        key = str(value)
        frame.key = key
        if key == "<<":
            self.problem(line, "merge keys (<<) are not supported; write the fields out")
            frame.keep = False
            return
        if key in frame.container:
            self.problem(line, f"duplicate key '{key}' (the later one would win)")
        if frame.path is not None:
            self.lines[(*frame.path, key)] = line


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
        value, lines = _Builder(display, problems).build(yaml.parse(text, Loader=_LOADER))
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
