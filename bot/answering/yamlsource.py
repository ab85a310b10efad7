"""Read YAML safely, keeping the line of every value so problems can be shown as file:line.

Hostile input is expected: maintainers edit these files by hand, often on the server. Non-UTF-8
bytes, syntax errors, duplicate keys, huge files and alias bombs all become `Problem`s, never
tracebacks or unbounded memory.

What loads is what `yaml.safe_load` gives, built several times faster from libyaml's parser
events. What safe_load would refuse, or build into something other than plain data (sets,
ordered maps, bytes, unknown tags, merge keys, a value that doesn't fit its tag, keys that
aren't text), is a `Problem` at its line instead. A value still comes back beside its problems,
so that later checks can report more in the same run; the knowledge loader refuses the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

# libyaml's parser when PyYAML has it (several times faster on large files); see `_build` for
# where its events would differ from PyYAML's own parser.
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


class _Refused(Exception):
    """A scalar safe_load would refuse or build into something other than plain data."""


class _Differs(Exception):
    """libyaml's parser would read this file otherwise than PyYAML's (the file is parsed again)."""


class _ValueKey(_Refused):
    """A plain '=': refused as a value, but text as a mapping key (as safe_load reads it)."""


_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_VALUE = _TAG + "value"
_RESOLVER: Any = yaml.resolver.Resolver()
_SCALAR_LOADER = yaml.SafeLoader("")
# The scalar tags that make plain data, built by PyYAML's own constructors so that the values
# are safe_load's; text never reaches them. Every other tag is refused.
_SCALAR_CONSTRUCTORS = {
    _TAG + name: yaml.SafeLoader.yaml_constructors[_TAG + name]
    for name in ("null", "bool", "int", "float", "timestamp")
}
_COLLECTION_TAGS = {
    yaml.MappingStartEvent: (None, "!", _TAG + "map"),
    yaml.SequenceStartEvent: (None, "!", _TAG + "seq"),
}
_IMPLICIT_KINDS = {
    "int": "a number",
    "float": "a number",
    "timestamp": "a date",
    "bool": "true/false",
}
_BLOCK_HEADER_COMMENT = re.compile(r"[|>][-+0-9]*#")
# Plain scalars YAML 1.1 reads as something other than text: checked the slow way.
_NOT_PLAIN_TEXT = frozenset("null true false yes no on off y n".split())


def _shown(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def _tag_problem(tag: str, where: str | None = None) -> str:
    """Why a tag is refused on a scalar (`where` None) or on a "mapping" or "list"."""
    name = tag.removeprefix(_TAG)
    if name == "merge":
        return "'<<' is YAML's merge key, which is not supported: write the fields out"
    if name == "value":
        return "a plain '=' is YAML's value key, which safe_load refuses; put it in quotes"
    if name in ("set", "omap", "pairs", "binary"):
        return f"the tag {_shown(tag)} is not supported; write plain text, lists and mappings"
    if where is None:
        return f"the tag {_shown(tag)} is not supported; remove it"
    return f"the tag {_shown(tag)} does not fit a {where}; remove it"


def _scalar(event: yaml.ScalarEvent) -> Any:
    """The value safe_load gives a scalar, or `_Refused`; quoted text and words take a fast path."""
    value = event.value
    tag = event.tag
    if tag is None:
        if not event.implicit[0]:  # quoted or a block: text
            return value
        if value and value[0].isalpha() and value.casefold() not in _NOT_PLAIN_TEXT:
            return value
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, event.implicit)
    elif tag == "!":  # the non-specific tag: resolved as plain (PyYAML's parser says so even
        # where libyaml's doesn't: '!' alone is null, not '')
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    if tag == _STR:
        return value
    constructor = _SCALAR_CONSTRUCTORS.get(tag)
    if constructor is None:
        raise (_ValueKey if tag == _VALUE else _Refused)(_tag_problem(tag))
    node_type: Any = yaml.ScalarNode
    node = node_type(tag, value, event.start_mark, event.end_mark, event.style)
    try:
        return constructor(_SCALAR_LOADER, node)
    except Exception as exc:  # PyYAML's constructors raise whatever their parsing raises
        shown = repr(value if len(value) <= 40 else value[:40] + "…")
        if event.tag is None:
            kind = _IMPLICIT_KINDS.get(tag.removeprefix(_TAG), _shown(tag))
            message = f"{shown} reads as {kind} but is not a valid one; put it in quotes"
        else:
            message = f"{shown} is not a valid {_shown(tag)}"
        raise _Refused(message) from exc


def _key_problem(key: Any) -> str:
    if isinstance(key, dict | list):
        return "keys must be plain text"
    kinds = {bool: "true/false", int: "a number", float: "a number", type(None): "null"}
    kind = kinds.get(type(key), "a date")
    return f"keys must be text, and YAML reads this one as {kind}; put it in quotes"


@dataclass(slots=True)
class _Frame:
    """A mapping or sequence being built, with what it needs until its end event."""

    container: dict[str, Any] | list[Any]
    path: Path_ | None  # None: the value is dropped (a refused key, or a value under one)
    line: int
    anchor: str | None
    size: int = 0  # values inside so far, an alias counting every value it repeats
    key: str = ""  # mappings: the key read last
    value_next: bool = False  # mappings: a key has been read and its value comes next
    keep: bool = True  # mappings: False when that key was refused, so its value is dropped
    flow: bool = False  # written in flow style, [ ] or { }

    def child_path(self) -> Path_ | None:
        """The path of the next value placed in this container."""
        if self.path is None:
            return None
        if isinstance(self.container, list):
            return (*self.path, len(self.container))
        if self.value_next and self.keep:
            return (*self.path, self.key)
        return None


class _Builder:
    """Plain values from parser events, with the line of every path and located problems.

    Works on events rather than composed nodes (half the time on large files); counts every
    value an alias repeats against MAX_NODES, so an alias bomb is refused, not expanded.
    """

    def __init__(self, display: str, libyaml_text: str | None = None) -> None:
        self.display = display
        # The text libyaml's events come from, to spot where PyYAML would read it otherwise;
        # None for PyYAML's own events.
        self.libyaml_text = libyaml_text
        self.bom = 1 if libyaml_text and libyaml_text.startswith("\ufeff") else 0  # not counted
        self.problems: list[Problem] = []
        self.lines: dict[Path_, int] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, values it holds)
        self.anchors_begun: set[str] = set()  # including those of containers not yet ended
        self.budget = MAX_NODES
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.flow = 0  # how many [ ] or { } the next value is inside

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
        if self.libyaml_text is not None and (self.flow or event.style in ("|", ">")):
            self.check_libyaml(event, self.libyaml_text)
        refused = False
        try:
            value = _scalar(event)
        except _ValueKey as refusal:
            value = event.value
            if not self.expects_key():
                self.problem(line, str(refusal))
                refused = True
        except _Refused as refusal:
            self.problem(line, str(refusal))
            value, refused = event.value, True  # the text stands in, so later checks still run
        if event.anchor:
            self.begin_anchor(event.anchor, line)
            self.anchors[event.anchor] = (value, 1)
        self.add(value, 1, line, refused)

    def check_libyaml(self, event: yaml.ScalarEvent, text: str) -> None:
        """Raise `_Differs` where PyYAML's parser would read this scalar otherwise."""
        style = event.style
        if not style:  # plain ("" from libyaml)
            if self.flow and "?" in event.value:
                raise _Differs  # libyaml reads [a?b] and [?b] as text; PyYAML sees a '?' key
        elif style in "|>" and event.start_mark is not None:  # libyaml takes '|#' as a comment
            start = event.start_mark.index + self.bom
            header = text[start : start + 200].split("\n", 1)[0]
            if _BLOCK_HEADER_COMMENT.search(header):
                raise _Differs

    def expects_key(self) -> bool:
        frame = self.stack[-1] if self.stack else None
        return frame is not None and isinstance(frame.container, dict) and not frame.value_next

    def begin_anchor(self, anchor: str, line: int) -> None:
        if anchor in self.anchors_begun:
            self.problem(line, f"the anchor &{anchor} is used twice; rename one")
        self.anchors_begun.add(anchor)

    def alias(self, event: yaml.AliasEvent, line: int) -> None:
        if event.anchor not in self.anchors:
            self.problem(line, f"unknown alias *{event.anchor}")
            self.add(None, 1, line, refused=True)
        else:
            value, size = self.anchors[event.anchor]
            self.add(value, size, line)

    def start(self, event: yaml.CollectionStartEvent, line: int) -> None:
        kind = type(event)
        if event.tag not in _COLLECTION_TAGS[kind]:
            where = "mapping" if kind is yaml.MappingStartEvent else "list"
            self.problem(line, _tag_problem(event.tag, where))
        if event.anchor:
            self.begin_anchor(event.anchor, line)
        container: dict[str, Any] | list[Any] = {} if kind is yaml.MappingStartEvent else []
        path = self.stack[-1].child_path() if self.stack else ()
        flow = bool(event.flow_style)
        self.stack.append(_Frame(container, path, line, event.anchor, flow=flow))
        self.flow += flow
        if len(self.stack) > 100:
            raise RecursionError

    def end(self) -> None:
        frame = self.stack.pop()
        self.flow -= frame.flow
        if frame.anchor:
            self.anchors[frame.anchor] = (frame.container, frame.size + 1)
        self.add(frame.container, 0, frame.line)
        if self.stack:
            self.stack[-1].size += frame.size
        self.budget -= 1

    def add(self, value: Any, size: int, line: int, refused: bool = False) -> None:
        """Place a finished value in the innermost container (or as the document).

        `refused`: its problem is already reported; as a key, its value is dropped.
        """
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
        elif not frame.value_next:
            self.add_key(frame, container, value, line, refused)
        else:
            if frame.keep:
                container[frame.key] = value
            frame.value_next = False

    def add_key(
        self, frame: _Frame, mapping: dict[str, Any], key: Any, line: int, refused: bool
    ) -> None:
        frame.value_next = True
        frame.keep = False
        if refused:
            return
        if not isinstance(key, str):  # safe_load would keep a number, a date, null, true/false
            self.problem(line, _key_problem(key))
            return
        if key in mapping:
            self.problem(line, f"duplicate key '{key}' (the later one would win)")
        frame.key, frame.keep = key, True
        if frame.path is not None:
            self.lines[(*frame.path, key)] = line


def _build(text: str, display: str) -> tuple[Any, dict[Path_, int], list[Problem]]:
    """Build from libyaml's events; from PyYAML's own (slower) parser where the two differ.

    libyaml accepts tabs between tokens and '|#' (which PyYAML refuses), skips a byte order mark
    anywhere (PyYAML only at the start), and reads a '?' inside [ ] or { } as text where PyYAML
    sees a key; such files are parsed again as safe_load parses them.
    """
    if "\t" not in text and text.find("\ufeff", 1) < 0 and _LOADER is not yaml.SafeLoader:
        builder = _Builder(display, libyaml_text=text)
        try:
            value, lines = builder.build(yaml.parse(text, Loader=_LOADER))
        except _Differs:
            pass
        else:
            return value, lines, builder.problems
    builder = _Builder(display)
    value, lines = builder.build(yaml.parse(text, Loader=yaml.SafeLoader))
    return value, lines, builder.problems


def read_yaml(path: Path, display: str) -> tuple[Located | None, list[Problem]]:
    """Parse one YAML file; return its located value, or None with the problems found."""
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
        value, lines, problems = _build(text, display)
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
