"""Fuzzing: no input, however strange, breaks the engine, the renderer or the YAML loader."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answering.engine import Engine
from bot.answering.knowledge import check_knowledge
from bot.answering.replies import TELEGRAM_LIMIT
from bot.answering.yamlsource import read_yaml
from tests.conftest import KNOWLEDGE_DIR
from tests.replycheck import assert_well_formed, check

SPECIAL = [
    "\u202e",
    "\u202d",
    "\u200f",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\x00",
    "\x07",
    "\x1b[2J",
    "\r\n",
    "\t",
    "🙂",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "\U0001f9d8",
    "مساج",
    "עיסוי",
    "按摩",
    "массаж",
    "ﷺ",
    "<",
    ">",
    "&",
    "&amp;",
    "<b>",
    "</i>",
    "<a href='x'>",
    "\\",
    "'",
    '"',
    "\ud7ff",
    "\U0010ffff",
]
DOMAIN = [
    "massage",
    "oil",
    "back",
    "pain",
    "hurt",
    "can't",
    "pee",
    "numb",
    "legs",
    "fever",
    "remedial",
    "sciatica",
    "?",
    "!",
    "@massage_faq_bot",
    "/ask",
    "hi",
    "thanks",
]
messages = st.lists(
    st.one_of(st.sampled_from(SPECIAL), st.sampled_from(DOMAIN), st.text(max_size=20)),
    max_size=60,
).map(" ".join)
huge = st.tuples(messages, st.integers(min_value=1, max_value=400)).map(
    lambda t: (t[0] * t[1])[:10_000] if t[0] else "x" * 10_000
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_any_message(engine: Engine, text: str) -> None:
    check(engine, text)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(huge)
def test_messages_up_to_10000_characters(engine: Engine, text: str) -> None:
    check(engine, text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=5000))
def test_renderer_escapes_any_answer_text(engine: Engine, text: str) -> None:
    from bot.answering.replies import Part, Reply

    reply = Reply(
        "answer",
        "q",
        (
            Part("heading", text[:50]),
            Part("text", text),
            Part("caution", text, text[:30]),
            Part("quote", text[::-1]),
        ),
        entry_id="x",
        source=text[:80] or None,
    )
    for part in engine.render_html(reply):
        assert len(part) <= TELEGRAM_LIMIT
        assert_well_formed(part)


# --- the YAML loader ---------------------------------------------------------------------

SHIPPED = yaml.safe_load((KNOWLEDGE_DIR / "entries.yaml").read_text())
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def assert_problems_are_located(problems: list[Any]) -> None:
    for problem in problems:
        assert problem.line >= 1 and problem.file and problem.message
        assert str(problem).startswith(f"{problem.file}:{problem.line}: ")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode))
def test_yaml_loader_never_raises_on_any_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "any.yaml"
    path.write_bytes(data)
    _, problems = read_yaml(path, "any.yaml")
    assert_problems_are_located(problems)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.integers(min_value=0, max_value=len(SHIPPED["entries"]) - 1),
    st.sampled_from(
        ["id", "title", "phrasings", "answer", "quotes", "related", "source", "caution", "extra"]
    ),
    values,
)
def test_wrong_types_are_located_errors(
    knowledge_copy: Path, index: int, field: str, value: Any
) -> None:
    data = {"entries": [dict(e) for e in SHIPPED["entries"]]}
    data["entries"][index][field] = value
    (knowledge_copy / "entries.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    knowledge, problems = check_knowledge(knowledge_copy)
    assert_problems_are_located(problems)
    if knowledge is None:
        assert any(p.severity == "error" for p in problems)


def test_huge_string_and_alias_bombs_stay_bounded(tmp_path: Path) -> None:
    cases = {
        "huge.yaml": "entries:\n  - id: x\n    answer: '" + "a" * 3_000_000 + "'\n",
        "bomb.yaml": "a: &a ["
        + ",".join(["x"] * 50)
        + "]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 50) + "]\n"
            for i in range(8)
        ),
        "deep.yaml": "a: " + "[" * 5000 + "]" * 5000 + "\n",
        "recursive.yaml": "a: &a\n  b: *a\n",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        tracemalloc.start()
        doc, problems = read_yaml(tmp_path / name, name)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 100 * 2**20, (name, peak)
        if name in ("bomb.yaml", "deep.yaml"):
            assert doc is None and problems, name
        if name == "recursive.yaml":  # an alias inside its own anchor is refused, not followed
            assert any("unknown alias" in p.message for p in problems)
        assert_problems_are_located(problems)
    (tmp_path / "schema.json").write_bytes((KNOWLEDGE_DIR / "schema.json").read_bytes())
    knowledge, problems = check_knowledge(tmp_path)  # the whole lot as a knowledge directory
    assert knowledge is None
    assert_problems_are_located(problems)
    assert any(p.file.endswith("huge.yaml") and "answer" in p.message for p in problems)
