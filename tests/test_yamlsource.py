"""The YAML loader builds exactly what `yaml.safe_load` builds, or refuses with file:line.

Generated documents of the kinds the knowledge files hold (nested mappings and lists, plain,
quoted and block text, numbers, true/false, nulls, dates, Unicode, comments) must load as
safe_load loads them; whatever safe_load would refuse, or build into something other than plain
data (sets, ordered maps, bytes, keys that aren't text), is a located problem instead.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answering.yamlsource import Located, Problem, read_yaml

NAME = "x.yaml"


def load(tmp_path: Path, text: str) -> tuple[Located | None, list[Problem]]:
    path = tmp_path / NAME
    path.write_text(text, encoding="utf-8")
    return read_yaml(path, NAME)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 == 1.0 == True would hide a drift)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(a[ka], b[kb]) for ka, kb in zip(a, b, strict=True)
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)  # nan equals nan, -0.0 is not 0.0
    return bool(a == b)


PLAIN_DATA = (str, int, float, bool, type(None), datetime.date, datetime.datetime)


def plain_data(value: Any) -> bool:
    """Only what the loader builds: text keys; text, numbers, true/false, null, dates."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain_data(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain_data(v) for v in value)
    return isinstance(value, PLAIN_DATA)


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> set[tuple[str | int, ...]]:
    found = {prefix}
    if isinstance(value, dict):
        for key, item in value.items():
            found |= paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found |= paths(item, (*prefix, index))
    return found


# --- generated documents -------------------------------------------------------------------

# Letters, digits, punctuation, symbols (emoji too) and spaces, in any script; no line breaks
# or control characters, which a maintainer's text does not hold.
CHARS = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"))
LINE = st.text(CHARS, max_size=24)
TEXT = LINE | st.lists(LINE, min_size=2, max_size=4).map("\n".join)
WORDS = st.sampled_from(
    "id title phrasings answer quotes related source caution entries language name text "
    "massage back pain Rückenschmerzen массаж 按摩 مساج café ok".split()
)
# Plain words YAML 1.1 reads as something other than text; the loader must read them alike.
SPECIAL = st.sampled_from(
    "1 -7 +3 017 0o17 0x1F 1_000 190:20:30 3.5 -0.0 .5 1e3 1.0e+3 .inf -.Inf .nan NaN "
    "true False yes No on OFF y n null Null ~ 2012-12-20 2012-12-20t10:00:00Z ... x?y".split()
)
# Plain words safe_load refuses (a bad date or number, the value and merge keys).
REFUSED = st.sampled_from("2012-13-45 0b_ 0x_ = <<".split())  # as keys, = and << are fine
# One document in three has keys that read as numbers, true/false, null or dates, one in three
# has values safe_load refuses: the others must all load.
ODD_KEYS = st.shared(st.sampled_from([False, False, True]), key="odd keys")
ODD_VALUES = st.shared(st.sampled_from([False, False, True]), key="odd values")
KEY_TEXT = ODD_KEYS.flatmap(lambda odd: WORDS | LINE.filter(bool) | (SPECIAL if odd else WORDS))
INDICATORS = "-?:,[]{}#&*!|>'\"%@`"


def plain_ok(text: str, flow: bool = False) -> bool:
    """A conservative test that `text` can be written plain (it may still read as a number)."""
    return (
        bool(text)
        and text == text.strip(" ")
        and text[0] not in INDICATORS
        and "\n" not in text
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
        and not (flow and any(c in ",[]{}?" for c in text))  # PyYAML: '?' in [ ] is a key
    )


def single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def double_quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@st.composite
def scalar(draw: st.DrawFn, flow: bool = False) -> str:
    """One scalar as it would be written after `key: ` or `- ` (a block scalar as its lines)."""
    kind = draw(st.sampled_from([*["text"] * 5, "int", "float", "bool", "null", "special"]))
    if kind == "int":
        return str(draw(st.integers(-(10**20), 10**20)))
    if kind == "float":
        return repr(draw(st.floats(allow_nan=False)))
    if kind == "bool":
        return draw(st.sampled_from(["true", "false", "True", "FALSE", "yes", "No", "on"]))
    if kind == "null":
        return draw(st.sampled_from(["null", "~", "Null"] + ([] if flow else [""])))
    if kind == "special":
        pool = SPECIAL | REFUSED if draw(ODD_VALUES) else SPECIAL
        return draw(pool.filter(lambda s: plain_ok(s, flow)))
    text = draw(TEXT)
    styles = ["single", "double"]
    if plain_ok(text, flow):
        styles.append("plain")
    if "\n" in text:
        styles = ["double"]
    if not flow and not any(line.startswith(" ") for line in text.split("\n")):
        styles += ["|", "|-", ">", ">-"]
    style = draw(st.sampled_from(styles))
    if style == "plain":
        return text
    if style == "single":
        return single_quoted(text)
    if style == "double":
        return double_quoted(text)
    return style + "".join("\n" + line for line in text.split("\n"))


@st.composite
def key(draw: st.DrawFn, text: str, flow: bool = False) -> str:
    if text != "<<" and plain_ok(text, flow) and draw(st.booleans()):
        return text
    return draw(st.sampled_from([single_quoted(text), double_quoted(text)]))


def indented(block: str, indent: int) -> str:
    """A block scalar's lines indented under their key (empty lines stay empty)."""
    head, *lines = block.split("\n")
    return head + "".join("\n" + (" " * indent + line if line else "") for line in lines)


COMMENT = LINE.map(lambda text: "# " + text)


@st.composite
def flow(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        items = draw(st.lists(scalar(flow=True), max_size=4))
        return "[" + ", ".join(items) + "]"
    keys = draw(st.lists(KEY_TEXT, max_size=3, unique=True))
    pairs = [f"{draw(key(k, flow=True))}: {draw(scalar(flow=True))}" for k in keys]
    return "{" + ", ".join(pairs) + "}"


@st.composite
def node(draw: st.DrawFn, indent: int, depth: int) -> tuple[str, list[str]]:
    """A value under a key or a dash: (what follows on the same line, the lines below it)."""
    choices = ["scalar", "scalar", "flow"] + (["mapping", "list"] if depth < 3 else [])
    choice = draw(st.sampled_from(choices))
    if choice == "scalar":
        value = draw(scalar())
        comment = draw(st.none() | COMMENT)
        if value[:1] in "|>":
            return indented(value, indent + 2), []
        if comment and value:
            value += "  " + comment
        return value, []
    if choice == "flow":
        return draw(flow()), []
    if choice == "mapping":
        return "", draw(mapping(indent + 2, depth + 1))
    return "", draw(sequence(indent + 2, depth + 1))


@st.composite
def mapping(draw: st.DrawFn, indent: int, depth: int) -> list[str]:
    keys = draw(st.lists(KEY_TEXT, min_size=1, max_size=5, unique=True))
    lines: list[str] = []
    for k in keys:
        if draw(st.integers(0, 5)) == 0:
            lines.append(" " * indent + draw(COMMENT))
        inline, below = draw(node(indent, depth))
        lines.append(" " * indent + f"{draw(key(k))}:" + (" " + inline if inline else ""))
        lines.extend(below)
    return lines


@st.composite
def sequence(draw: st.DrawFn, indent: int, depth: int) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        inline, below = draw(node(indent, depth))
        if inline or not below:
            lines.append(" " * indent + ("- " + inline).rstrip())
            lines.extend(below)
        else:  # a nested block starts on the dash's line: "- id: x" then "  title: y"
            lines.append(" " * indent + "- " + below[0].lstrip())
            lines.extend(below[1:])
    return lines


@st.composite
def documents(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(["", "# yaml-language-server: $schema=schema.json\n", "---\n"]))
    body = draw(mapping(0, 0) if draw(st.integers(0, 4)) else sequence(0, 0))
    return head + "\n".join(body) + "\n"


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(documents())
def test_loads_exactly_as_safe_load_or_refuses(tmp_path: Path, text: str) -> None:
    """Loaded means equal to safe_load's value; refused means safe_load fails or goes beyond
    plain data. (The generator writes no duplicate keys and no '<<' merge keys: safe_load
    takes both, the loader refuses them on purpose.)"""
    try:
        expected = yaml.safe_load(text)
    except Exception:  # safe_load raises ValueError, KeyError … as well as YAMLError
        refused = True
    else:
        refused = not plain_data(expected)
    doc, problems = load(tmp_path, text)
    if refused:
        assert problems, text
        for problem in problems:
            assert 1 <= problem.line <= text.count("\n") + 1
    else:
        assert not problems, (text, problems)
        assert doc is not None
        assert same(doc.value, expected), (text, doc.value, expected)
        assert set(doc.lines) == paths(doc.value)  # every value has its line, nothing else


def accepted_by_safe_load(text: str) -> bool:
    try:
        return plain_data(yaml.safe_load(text))
    except Exception:
        return False


def test_the_generator_mostly_makes_documents_the_loader_accepts() -> None:
    """So the property above is tested on loaded documents, not only on refusals. (300: a
    derandomised run starts with its simplest documents, nearly all accepted, and which come
    first shifted with unrelated changes; over 1,000 the share accepted is about 0.78.)"""
    examples: list[str] = []

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(documents())
    def collect(text: str) -> None:
        examples.append(text)

    collect()
    accepted = sum(accepted_by_safe_load(text) for text in examples)
    assert 0.5 * len(examples) <= accepted <= 0.9 * len(examples), (accepted, len(examples))


# Fragments of YAML syntax, glued at random: hostile input for both parsers.
NOISE = st.lists(
    st.sampled_from(
        [
            *" \t\n\r-?:,[]{}#&*!|>'\"%@`~=<.\\",
            *("\x85", "\u2028", "\ufeff", "é", "a", "0", "  ", "- ", ": ", "\n  ", "!!"),
            *("&a ", "*a", "---", "...", "yes", "1.5", "\\t", "!!int", "2001-12-14"),
            *("%YAML 1.1\n", "%TAG ! tag:yaml.org,2002:\n"),
        ]
    ),
    max_size=25,
).map("".join)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(NOISE)
def test_yaml_noise_loads_as_safe_load_or_is_refused(tmp_path: Path, text: str) -> None:
    """Where libyaml's parser and PyYAML's disagree, the loader goes with PyYAML's."""
    try:
        expected = yaml.safe_load(text)
    except Exception:
        raised = True
    else:
        raised = False
    doc, problems = load(tmp_path, text)
    if raised:
        assert problems, text
    elif not problems:
        assert doc is not None and same(doc.value, expected), (text, doc.value, expected)


# --- what is refused, and where ------------------------------------------------------------

HEAD = "# yaml-language-server: $schema=schema.json\nentries:\n  - id: first\n"


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("    answer: !!set {a, b}", "the tag !!set is not supported"),
        ("    answer: !!omap [{a: 1}, {b: 2}]", "the tag !!omap is not supported"),
        ("    answer: !!pairs [{a: 1}, {a: 2}]", "the tag !!pairs is not supported"),
        ("    answer: !!binary aGVsbG8=", "the tag !!binary is not supported"),
        ("    answer: !!float abc", "'abc' is not a valid !!float"),
        ("    answer: !!int twelve", "'twelve' is not a valid !!int"),
        ("    answer: !!bool maybe", "'maybe' is not a valid !!bool"),
        ("    answer: !!timestamp soon", "'soon' is not a valid !!timestamp"),
        ("    answer: 2012-13-45", "'2012-13-45' reads as a date but is not a valid one"),
        ("    answer: 0x_", "'0x_' reads as a number but is not a valid one"),
        ("    answer: =", "a plain '=' is YAML's value key"),
        ("    answer: <<", "'<<' is YAML's merge key"),
        ("    <<: {title: x}", "'<<' is YAML's merge key"),
        ("    answer: !custom x", "the tag !custom is not supported"),
        ("    answer: !!python/object:os.system x", "the tag !!python/object:os.system is"),
        ("    answer: !!str [a, b]", "the tag !!str does not fit a list"),
        ("    answer: !!seq {a: 1}", "the tag !!seq does not fit a mapping"),
        ("    answer: !!map [a]", "the tag !!map does not fit a list"),
        ('    answer: ! "true\\n"', "'true\\n' is not a valid !!bool"),
        ("    1: x", "YAML reads this one as a number"),
        ("    yes: x", "YAML reads this one as true/false"),
        ("    ~: x", "YAML reads this one as null"),
        ("    2012-12-20: x", "YAML reads this one as a date"),
        ("    [a]: x", "keys must be plain text"),
        ("    id: second", "duplicate key 'id'"),
        ("    answer: *nowhere", "unknown alias *nowhere"),
        ("    answer: &a [x, &a y]", "the anchor &a is used twice"),
        # Where libyaml's parser is more lenient than PyYAML's, PyYAML's own error:
        ("    answer:\tx", "found character '\\t' that cannot start any token"),
        ("    answer: |# a note\n      x", "expected chomping or indentation indicators"),
        ("    related: [why?]", "expected ',' or ']', but got '?'"),
        ("---\nx: 1", "only one YAML document per file"),
    ],
)
def test_refused_with_file_and_line(tmp_path: Path, line: str, fragment: str) -> None:
    _, problems = load(tmp_path, HEAD + line + "\n")
    assert problems
    assert all(fragment in p.message and str(p).startswith(f"{NAME}:4: ") for p in problems), (
        problems
    )


@pytest.mark.parametrize(
    "text",
    [
        "a: '='\n",  # quoted, these are text, as safe_load reads them
        "'<<': x\n",
        "'1': x\n'yes': y\n",
        "a: ! 123\nb: ! '123'\n",  # the non-specific tag: resolved as safe_load resolves it
        "a: !!float 1\nb: !!int '0x1F'\nc: !!null x\nd: !!str 12\ne: !!bool yes\n",
        "a: 2012-12-20\nb: 2001-12-14t21:59:43.10-05:00\n",
        "a: 190:20:30\nb: 017\nc: 1_000\nd: .NaN\ne: -.inf\n",
        "a: &x [1, 2]\nb: *x\n",
        "!!map {a: !!seq [x]}\n",
        "=: x\nb: {=: y}\n",  # a plain '=' key is text; only as a value it is refused
        "a: !\nb: ! ''\n",  # libyaml reads the first as '', PyYAML as null
        "a: '\tx'  # tabs: fine in quotes\nb: |\n  \ty\n",
        "\ufeff\ufeffa: x\n",  # PyYAML skips the first byte order mark only (libyaml: both)
        "a: x?y\nb: [x, ? y]\n",
    ],
)
def test_accepted_documents_load_as_safe_load(tmp_path: Path, text: str) -> None:
    doc, problems = load(tmp_path, text)
    assert not problems
    assert doc is not None and same(doc.value, yaml.safe_load(text))
