"""The shipped knowledge base, entry by entry, and `check` on broken copies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.answering.knowledge import Knowledge, check_knowledge, load_knowledge, min_phrasings
from bot.answering.replies import TELEGRAM_LIMIT
from tests.conftest import KNOWLEDGE_DIR, edit

SHIPPED = load_knowledge(KNOWLEDGE_DIR)
REQUIRED_IDS = [
    "remedial-massage",
    "injuries-treated",
    "massage-for-back-pain",
    "pain-without-medication",
    "massage-and-exercise",
    "assessment",
    "techniques",
    "pressure-intensity",
    "massage-oil",
    "joint-stretching",
    "benefits",
    "whole-body",
    "athletes",
    "chronic-pain",
    "back-pain-common",
]
CAUTION_IDS = [
    "caution-blood-clots",
    "caution-blood-thinners",
    "caution-skin",
    "caution-surgery",
    "caution-pregnancy",
    "caution-osteoporosis",
    "caution-cancer",
]


def test_required_entries_exist(knowledge: Knowledge) -> None:
    missing = [i for i in REQUIRED_IDS + CAUTION_IDS if i not in knowledge.by_id]
    assert missing == []


@pytest.mark.parametrize("entry", SHIPPED.entries, ids=lambda e: e.id)
def test_entry_is_complete(entry, knowledge: Knowledge) -> None:  # type: ignore[no-untyped-def]
    assert len({p.casefold() for p in entry.phrasings}) >= min_phrasings(KNOWLEDGE_DIR)
    assert entry.related and all(r in knowledge.by_id for r in entry.related)
    if entry.from_article:
        article = re.sub(r"\s+", " ", knowledge.article.replace("’", "'")).casefold()
        for quote in entry.quotes:
            assert re.sub(r"\s+", " ", quote.replace("’", "'")).casefold() in article
    else:
        # Not from the article: it must name where it comes from.
        assert any(name in entry.source for name in ("NHS", "NICE", "NCCIH", "Mayo", "Cochrane"))


@pytest.mark.parametrize("entry", SHIPPED.entries, ids=lambda e: e.id)
def test_entry_renders_within_limit_with_disclaimer(entry, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    reply = engine.entry_reply(entry.id)
    assert reply is not None and reply.kind == "answer"
    messages = engine.render_html(reply)
    assert all(len(m) <= TELEGRAM_LIMIT for m in messages)
    assert "not medical advice" in messages[-1]
    plain = engine.render_plain(reply)
    assert entry.answer in plain
    if entry.from_article:
        assert "2012" in plain  # answers say how old their source is
        assert f"“{entry.quotes[0]}”" in plain  # and quote the article
    if entry.caution:
        assert entry.caution.source in plain


def test_fracture_answer_keeps_article_point_and_adds_caution(engine: Engine) -> None:
    reply = engine.entry_reply("injuries-treated")
    assert reply is not None
    text = engine.render_plain(reply)
    assert "fractured bones" in text
    assert "not done directly over a fracture" in text and "Mayo Clinic" in text


def test_disclaimer_says_not_medical_advice(knowledge: Knowledge) -> None:
    assert "not medical advice" in knowledge.text("disclaimer")


def test_check_passes_on_shipped_knowledge() -> None:
    knowledge, problems = check_knowledge(KNOWLEDGE_DIR)
    assert knowledge is not None
    assert [p for p in problems if p.severity == "error"] == []


def _line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


def test_too_few_phrasings_is_reported_at_the_entry(knowledge_copy: Path) -> None:
    path = knowledge_copy / "entries.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: massage-oil")
    block_start = text.index("    phrasings:\n", start) + len("    phrasings:\n")
    block_end = text.index("    answer:", block_start)
    five = "".join(f"      - oil question {n}\n" for n in range(5))
    path.write_text(text[:block_start] + five + text[block_end:], encoding="utf-8")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    matching = [p for p in problems if "at least 6 are needed" in p.message]
    assert matching and matching[0].line == _line_of(path, "id: massage-oil") + 2


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "  - id: injuries-treated",
            "  - id: remedial-massage  # dup",
            "# dup",
            "duplicate id 'remedial-massage'",
        ),
        (
            "related: [remedial-massage, athletes, caution-skin]",
            "related: [remedial-massage, athletes, no-such-entry]",
            "no-such-entry",
            "related id 'no-such-entry' does not exist",
        ),
        (
            "      - Remedial massage a form of deep tissue massage",
            "      - Remedial massage cures everything",
            "cures everything",
            "not found in the article",
        ),
        ("    title: Massage oil\n", "", "id: massage-oil", '"title" is a required property'),
        (
            "    title: Massage oil",
            "    title: [Massage oil",
            "title: [Massage oil",
            "YAML syntax error",
        ),
    ],
)
def test_check_reports_file_and_line(
    knowledge_copy: Path, old: str, new: str, needle: str, message: str
) -> None:
    path = knowledge_copy / "entries.yaml"
    edit(path, old, new)
    expected_line = _line_of(path, needle)
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    matching = [p for p in problems if message in p.message]
    assert matching, [str(p) for p in problems]
    assert matching[0].file.endswith("entries.yaml")
    # The line of the value at fault, or of the key just below the named line.
    assert 0 <= matching[0].line - expected_line <= 3, (str(matching[0]), expected_line)


def test_non_utf8_file_is_a_problem_not_a_crash(knowledge_copy: Path) -> None:
    (knowledge_copy / "extra.yaml").write_bytes(b"entries:\n  - id: caf\xe9\n")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("not valid UTF-8" in p.message and p.line == 2 for p in problems)


def test_alias_bomb_is_refused(knowledge_copy: Path) -> None:
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        bomb.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]")
    (knowledge_copy / "bomb.yaml").write_text("\n".join(bomb) + "\n", encoding="utf-8")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("alias bomb" in p.message for p in problems)


def test_missing_disclaimer_words_are_refused(knowledge_copy: Path) -> None:
    edit(knowledge_copy / "texts.yaml", "not medical advice", "general information")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("not medical advice" in p.message for p in problems)


def test_one_run_reports_every_kind_of_problem(knowledge_copy: Path) -> None:
    """A missing title (a schema error) must not hide a duplicate id or a broken `related`,
    in other entries or in its own."""
    path = knowledge_copy / "entries.yaml"
    edit(path, "    title: Massage oil\n", "")
    edit(path, "related: [techniques, pressure-intensity]", "related: [techniques, oil-gone]")
    edit(path, "  - id: injuries-treated", "  - id: remedial-massage  # dup")
    edit(
        path,
        "related: [remedial-massage, athletes, caution-skin]",
        "related: [remedial-massage, athletes, no-such-entry]",
    )
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    found = {
        message: [p.line for p in problems if message in p.message]
        for message in (
            '"title" is a required property',
            "duplicate id 'remedial-massage'",
            "related id 'no-such-entry' does not exist",
            "related id 'oil-gone' does not exist",
        )
    }
    assert found == {
        '"title" is a required property': [_line_of(path, "id: massage-oil")],
        "duplicate id 'remedial-massage'": [_line_of(path, "# dup")],
        "related id 'no-such-entry' does not exist": [_line_of(path, "no-such-entry")],
        "related id 'oil-gone' does not exist": [_line_of(path, "oil-gone")],
    }, [str(p) for p in problems]


def test_a_file_that_cannot_be_read_does_not_cascade(knowledge_copy: Path) -> None:
    """entries.yaml unreadable: its ids are unknown, so other files' `related` are not
    reported as missing; the other files' own problems still are."""
    edit(knowledge_copy / "entries.yaml", "    title: Massage oil", "    title: [Massage oil")
    path = knowledge_copy / "cautions.yaml"
    edit(path, "  - id: caution-skin", "  - id: caution-blood-clots  # dup")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    messages = [str(p) for p in problems]
    assert not any("does not exist" in m for m in messages), messages
    assert any("YAML syntax error" in m for m in messages), messages
    assert any(f"cautions.yaml:{_line_of(path, '# dup')}: duplicate id" in m for m in messages)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("related: [techniques, pressure-intensity]", "related: 7"),
        ("related: [techniques, pressure-intensity]", "related: [techniques, Not_An_Id]"),
        ("      - do they use oil\n", "      - [do they use oil]\n"),
        ("    source: article\n\n  - id: joint-stretching", "\n  - id: joint-stretching"),
    ],
    ids=["related-not-a-list", "related-not-an-id", "phrasing-not-text", "no-source"],
)
def test_a_schema_fault_is_reported_once(knowledge_copy: Path, old: str, new: str) -> None:
    """The checks after the schema skip the part it already reported: one problem, not two."""
    edit(knowledge_copy / "entries.yaml", old, new)
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert len(problems) == 1, [str(p) for p in problems]


def test_a_missing_article_is_one_problem_not_one_per_quote(knowledge_copy: Path) -> None:
    (knowledge_copy / "article.txt").unlink()
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert [p.message.split(":")[0] for p in problems] == ["cannot read the article"]


@pytest.mark.parametrize(
    ("old", "new", "reads_as"),
    [
        (
            "    title: Massage oil",
            "    title: 2012-12-20",
            "entry 'massage-oil' title: this value reads as a date, not text: put it in quotes",
        ),
        (  # the loader refuses the tag itself (bot/answering/yamlsource.py), at its line
            "      - do they use oil\n",
            "      - !!binary ZG8gdGhleSB1c2Ugb2ls\n",
            "the tag !!binary is not supported; write plain text, lists and mappings",
        ),
    ],
    ids=["date", "binary"],
)
def test_a_value_json_has_no_type_for_is_a_problem_not_a_crash(
    knowledge_copy: Path, old: str, new: str, reads_as: str
) -> None:
    path = knowledge_copy / "entries.yaml"
    edit(path, old, new)
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert [(p.line, p.message) for p in problems] == [(_line_of(path, new.strip()), reads_as)]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "      - do they use oil\n",
            "      - do they use oil: yes or no\n",
            "entry 'massage-oil' phrasings.0: \"do they use oil: yes or no\" reads as a key and "
            "a value (a colon followed by a space does that): put the whole text in quotes",
        ),
        (
            "    title: Massage oil\n",
            "    title: yes\n",
            "entry 'massage-oil' title: reads as a yes/no value, not text: put it in quotes",
        ),
        (
            "    related: [techniques, pressure-intensity]",
            "    relatd: [techniques, pressure-intensity]",
            "entry 'massage-oil': unknown key 'relatd'; did you mean 'related'?",
        ),
        (
            "    related: [techniques, pressure-intensity]",
            "    related: techniques",
            "entry 'massage-oil' related: \"techniques\" should be a list: write [techniques], "
            'or each item on a "- " line',
        ),
        (
            "    related: [techniques, pressure-intensity]",
            "    related: [techniques, pressure-intensty]",
            "related id 'pressure-intensty' does not exist; did you mean 'pressure-intensity'?",
        ),
        (
            "  - id: massage-oil\n",
            "  - id: Massage-Oil\n",
            "entry 'Massage-Oil' id: \"Massage-Oil\" does not fit (lower-case letters and digits, "
            "words joined by single hyphens, like massage-oil)",
        ),
    ],
    ids=["colon", "yes", "misspelt-key", "not-a-list", "misspelt-id", "capitals"],
)
def test_messages_say_what_to_do(knowledge_copy: Path, old: str, new: str, message: str) -> None:
    """What a new maintainer gets for the usual slips: the line of the slip, in plain words."""
    path = knowledge_copy / "entries.yaml"
    edit(path, old, new)
    _, problems = check_knowledge(knowledge_copy)
    found = [p for p in problems if p.message == message]
    assert found, [str(p) for p in problems]
    assert found[0].line == _line_of(path, new.strip())


def test_a_text_file_missing_its_first_key_is_still_checked_as_texts(knowledge_copy: Path) -> None:
    """The schema tells the files apart by their keys: without `disclaimer`, texts.yaml is still
    the texts file (it was checked as the vocabulary file: 'synonyms is a required property')."""
    path = knowledge_copy / "texts.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text[: text.index("disclaimer:")] + text[text.index("source_line:") :], encoding="utf-8"
    )
    _, problems = check_knowledge(knowledge_copy)
    assert [p.message for p in problems] == ['(top level): "disclaimer" is a required property']


def test_an_entry_without_its_dash_is_duplicate_keys_and_nothing_more(
    knowledge_copy: Path,
) -> None:
    """Forgetting the "- " that starts an entry merges it into the one above (duplicate keys);
    the entry that lost its values must not also show up as missing wherever it is named."""
    path = knowledge_copy / "entries.yaml"
    edit(path, "  - id: massage-oil\n", "    id: massage-oil\n")
    _, problems = check_knowledge(knowledge_copy)
    assert problems and all("duplicate key" in p.message for p in problems), [
        str(p) for p in problems
    ]
    assert problems[0].line == _line_of(path, "    id: massage-oil")


def test_check_refuses_answers_first_naming_no_entry(knowledge_copy: Path) -> None:
    path = knowledge_copy / "subjects.yaml"
    edit(path, "\n  sciatica-disc: [sciatica,", "\n  sciatica-dsc: [sciatica,")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("answers_first names no entry 'sciatica-dsc'" in p.message for p in problems)


def test_check_refuses_named_first_without_a_subject(knowledge_copy: Path) -> None:
    path = knowledge_copy / "subjects.yaml"
    wrong = "named_first: [caution-blood-clot, techniques,"
    edit(path, "named_first: [caution-blood-clots,", wrong)
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    messages = [p.message for p in problems]
    assert any("named_first names no entry 'caution-blood-clot'" in m for m in messages), messages
    assert any("'techniques' has no needs_words" in m for m in messages), messages
