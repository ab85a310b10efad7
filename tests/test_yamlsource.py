"""The YAML loader builds exactly what `yaml.safe_load` builds, or refuses with file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.yamlsource import Located, Problem, read_yaml

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
        "a: \ufeffx\n",  # a byte order mark inside the file is text to PyYAML
        "a: x?y\nb: [x, ? y]\n",
    ],
)
def test_accepted_documents_load_as_safe_load(tmp_path: Path, text: str) -> None:
    doc, problems = load(tmp_path, text)
    assert not problems
    assert doc is not None and same(doc.value, yaml.safe_load(text))
