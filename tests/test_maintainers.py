"""Maintainers: live reload, schema, lint, the store's retention and the report."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.answering.engine import Engine
from bot.answering.knowledge import check_knowledge, load_knowledge
from bot.maintain.lint import leave_one_out, lint
from bot.maintain.report import build_report
from bot.reloader import Reloader
from bot.store import Recorder, Store
from tests.conftest import ENTRIES, KNOWLEDGE_DIR
from tests.test_cli import run_cli

NEW_PHRASING = "is the stuff they smear on me vegan"


async def make_reloader(directory: Path) -> tuple[Reloader, dict[str, Any], list[str]]:
    holder: dict[str, Any] = {"engine": Engine(load_knowledge(directory))}
    told: list[str] = []

    async def notify(text: str) -> None:
        told.append(text)

    return Reloader(directory, holder, notify, interval=0.05), holder, told


def _touch_later(path: Path, text: str) -> None:
    """Write text so that the change is visible even on coarse file-time clocks."""
    path.write_text(text, encoding="utf-8")
    stamp = time.time() + 5
    import os

    os.utime(path, (stamp, stamp))


async def test_valid_edit_goes_live_without_restart(knowledge_copy: Path) -> None:
    reloader, holder, told = await make_reloader(knowledge_copy)
    before = holder["engine"].answer(NEW_PHRASING)
    assert (before.kind, before.entry_id) != ("answer", "massage-oil")
    path = knowledge_copy / "entries.yaml"
    text = path.read_text().replace(
        "      - do they use oil\n", f"      - do they use oil\n      - {NEW_PHRASING}\n"
    )
    _touch_later(path, text)
    outcome = await reloader.check_once()
    assert outcome is not None and outcome.ok and outcome.entries == ENTRIES
    after = holder["engine"].answer(NEW_PHRASING)
    assert (after.kind, after.entry_id) == ("answer", "massage-oil")
    assert told == [f"Knowledge reloaded: {ENTRIES} entries."]
    assert await reloader.check_once() is None  # nothing changed since


@pytest.mark.parametrize(
    "damage",
    ["typo", "half-written", "deleted", "broken-related"],
)
async def test_invalid_edit_keeps_the_last_good_knowledge(
    knowledge_copy: Path, damage: str
) -> None:
    reloader, holder, told = await make_reloader(knowledge_copy)
    serving = holder["engine"]
    entries = knowledge_copy / "entries.yaml"
    text = entries.read_text()
    if damage == "typo":
        _touch_later(entries, text.replace("    title: Massage oil", "    title: [Massage oil"))
    elif damage == "half-written":
        _touch_later(entries, text[: len(text) // 2])
    elif damage == "deleted":
        (knowledge_copy / "texts.yaml").unlink()
    else:
        _touch_later(
            entries,
            text.replace(
                "related: [techniques, pressure-intensity]", "related: [techniques, no-such-topic]"
            ),
        )
    outcome = await reloader.check_once()
    assert outcome is not None and not outcome.ok and outcome.problems
    assert holder["engine"] is serving  # the last good engine still answers
    assert serving.answer("do they use oil").entry_id == "massage-oil"
    assert len(told) == 1 and "NOT reloaded" in told[0]
    assert any(f"{p.file}:{p.line}:" in told[0] for p in outcome.problems)
    code, out, _ = run_cli("--knowledge", str(knowledge_copy), "check")
    assert code == 1 and str(outcome.problems[0]) in out


async def test_reload_loop_picks_up_an_edit(knowledge_copy: Path) -> None:
    import asyncio

    reloader, holder, _ = await make_reloader(knowledge_copy)
    task = asyncio.create_task(reloader.run())
    try:
        path = knowledge_copy / "entries.yaml"
        _touch_later(
            path,
            path.read_text().replace(
                "      - do they use oil\n", f"      - {NEW_PHRASING}\n      - do they use oil\n"
            ),
        )
        for _ in range(100):
            await asyncio.sleep(0.05)
            if holder["engine"].answer(NEW_PHRASING).entry_id == "massage-oil":
                break
        assert holder["engine"].answer(NEW_PHRASING).entry_id == "massage-oil"
    finally:
        task.cancel()


@pytest.mark.parametrize("path", sorted(KNOWLEDGE_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_yaml_validates_against_the_schema(path: Path) -> None:
    schema = json.loads((KNOWLEDGE_DIR / "schema.json").read_text())
    jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    assert path.read_text().startswith("# yaml-language-server: $schema=schema.json")


def test_schema_rejects_a_wrong_type(knowledge_copy: Path) -> None:
    path = knowledge_copy / "entries.yaml"
    path.write_text(
        path.read_text().replace("related: [techniques, pressure-intensity]", "related: 7")
    )
    code, out, _ = run_cli("--knowledge", str(knowledge_copy), "check")
    assert code == 1 and '7 is not of type "array"' in out and "entries.yaml:" in out


def test_lint_finds_a_colliding_pair(knowledge_copy: Path) -> None:
    path = knowledge_copy / "entries.yaml"
    # Give 'athletes' a phrasing that is really about oil: leave-one-out must flag it.
    path.write_text(
        path.read_text().replace(
            "      - massage for sports injuries\n",
            "      - massage for sports injuries\n      - do therapists put oil on you\n",
        )
    )
    knowledge = load_knowledge(knowledge_copy)
    collisions = [
        p for p in leave_one_out(knowledge) if "do therapists put oil on you" in p.message
    ]
    assert collisions and "'massage-oil'" in collisions[0].message
    assert collisions[0].severity == "warning"
    athletes = knowledge.by_id["athletes"]
    index = athletes.phrasings.index("do therapists put oil on you")
    assert collisions[0].line == athletes.phrasing_lines[index]


def test_lint_flags_long_answers(knowledge_copy: Path) -> None:
    path = knowledge_copy / "entries.yaml"
    long_text = "a long sentence " * 170  # each under the schema's 3000, together over 4096
    text = path.read_text()
    text = text.replace(
        "      The article lists these benefits for back pain: more blood flow, removal of toxins",
        f"      {long_text}",
    )
    text = text.replace(
        "        The idea that massage flushes out toxins is not supported by research: one study",
        f"        {long_text}",
    )
    path.write_text(text)
    problems = lint(load_knowledge(knowledge_copy))
    assert any("longer than one Telegram message" in p.message for p in problems)


def test_retention_pruning(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3", retention_days=90)
    now = time.time()
    store.record("fallback", question="old", at=now - 91 * 86400)
    store.record("fallback", question="recent", at=now - 89 * 86400)
    assert store.prune(now) == 1
    assert [e.question for e in store.events()] == ["recent"]
    mode = store._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


async def test_store_failure_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    assert Store.open(blocker) is None  # logged; the bot runs without recording
    recorder = Recorder(None)
    reply = Engine(load_knowledge(KNOWLEDGE_DIR)).answer("pasta")
    assert await recorder.reply(reply, "private") is None


def seed(store: Store) -> None:
    for question in [
        "how much is a session",
        "how much is a session?",
        "How much is a session",
        "can I bring my dog",
        "what's the weather",
    ]:
        store.record("fallback", question=question, chat_type="private")
    clarify = store.record(
        "clarify",
        question="is massage any good for a bad lower back",
        entry_id="benefits",
        score=77.0,
        chat_type="group",
    )
    store.record("chosen", entry_id="massage-for-back-pain", parent=clarify, chat_type="group")
    for vote, entry in [
        ("down", "benefits"),
        ("down", "benefits"),
        ("up", "benefits"),
        ("up", "massage-oil"),
    ]:
        store.record(vote, entry_id=entry, chat_type="private")


def test_report_on_a_seeded_database(tmp_path: Path, engine: Engine) -> None:
    store = Store(tmp_path / "bot.sqlite3")
    seed(store)
    report = build_report(store, engine)
    first = report.unanswered[0]
    assert (first.question, first.count) == ("how much is a session", 3)
    assert {g.question for g in report.unanswered} == {
        "how much is a session",
        "can I bring my dog",
        "what's the weather",
    }
    assert [(r.entry_id, r.down, r.up) for r in report.ratings] == [
        ("benefits", 2, 1),
        ("massage-oil", 0, 1),
    ]
    assert [(r.question, r.chosen_entry) for r in report.resolved] == [
        ("is massage any good for a bad lower back", "massage-for-back-pain")
    ]
    text = report.format()
    assert "3 × 'how much is a session'" in text and "benefits: 2 👎 / 1 👍" in text


def test_report_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path))
    code, _, err = run_cli("report")
    assert code == 1 and "no records yet" in err
    store = Store(tmp_path / "bot.sqlite3")
    seed(store)
    store.close()
    code, out, _ = run_cli("report")
    assert code == 0 and "Unanswered questions" in out and "how much is a session" in out
    code, out, _ = run_cli("report", "--json")
    data = json.loads(out)
    assert data["unanswered"][0]["count"] == 3 and data["totals"]["fallback"] == 5


def test_report_works_with_a_broken_knowledge_base(
    tmp_path: Path, knowledge_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The moment a maintainer most wants the report: it runs, without the closest entries,
    and warns with the first problems' file:line."""
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path))
    store = Store(tmp_path / "bot.sqlite3")
    seed(store)
    store.close()
    path = knowledge_copy / "entries.yaml"
    path.write_text(
        path.read_text().replace(
            "related: [techniques, pressure-intensity]", "related: [techniques, gone]"
        )
    )
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "gone" in text)
    code, out, err = run_cli("--knowledge", str(knowledge_copy), "report")
    assert code == 0, err
    assert "warning: the knowledge base has 1 problem(s)" in err
    assert f"entries.yaml:{line}: related id 'gone' does not exist" in err
    assert "closest entries left out" in out
    assert "   3 × 'how much is a session'\n" in out  # grouped as before, no "→ entry"
    assert "benefits: 2 👎 / 1 👍" in out and "massage-for-back-pain" in out
    code, out, _ = run_cli("--knowledge", str(knowledge_copy), "report", "--json")
    data = json.loads(out)
    assert code == 0 and data["closest_entries"] is False
    assert data["unanswered"][0]["count"] == 3 and data["unanswered"][0]["closest_entry"] is None


# --- schema.json and check agree ---------------------------------------------------------------


def _field(text: str, entry_id: str, key: str, new: str) -> str:
    """`text` with the `key:` block of entry `entry_id` replaced by `new` (YAML lines)."""
    start = text.index(f"  - id: {entry_id}\n")
    end = text.find("\n  - id:", start + 1) % (len(text) + 1)
    block = re.search(rf"^    {key}:.*\n(?:      .*\n)*", text[start:end], re.M)
    assert block, (entry_id, key)
    return text[: start + block.start()] + new + text[start + block.end() :]


def _phrasings(*items: str) -> str:
    return "    phrasings:\n" + "".join(f"      - {p}\n" for p in items)


SIX = ["oil one", "oil two", "oil three", "oil four", "oil five", "oil six"]
# (file, edit): each case breaks one rule that both schema.json and check hold.
BOTH_REJECT = {
    "five-phrasings": (
        "entries.yaml",
        lambda t: _field(t, "massage-oil", "phrasings", _phrasings(*SIX[:5])),
    ),
    "article-entry-without-quotes": (
        "entries.yaml",
        lambda t: _field(t, "massage-oil", "quotes", ""),
    ),
    "article-entry-with-no-quotes": (
        "entries.yaml",
        lambda t: _field(t, "massage-oil", "quotes", "    quotes: []\n"),
    ),
    "id-not-lower-case": (
        "entries.yaml",
        lambda t: t.replace("id: massage-oil", "id: Massage-Oil", 1),
    ),
    "title-too-long": (
        "entries.yaml",
        lambda t: t.replace("title: Massage oil\n", f"title: {'oil ' * 11}\n", 1),
    ),
    "disclaimer-without-words": (
        "texts.yaml",
        lambda t: t.replace("not medical advice", "general information", 1),
    ),
    "no-whoami-text": ("texts.yaml", lambda t: t[: t.index("whoami:")]),
    "flag-without-tier": ("safety.yaml", lambda t: t.replace("    tier: crisis\n", "", 1)),
}
# What a JSON schema cannot say: check alone rejects these (the editor shows no error).
CHECK_ONLY = {
    "duplicate-id": (
        "entries.yaml",
        lambda t: t.replace("id: injuries-treated", "id: massage-oil", 1),
    ),
    "related-unknown": (
        "entries.yaml",
        lambda t: t.replace(
            "related: [techniques, pressure-intensity]", "related: [techniques, gone]", 1
        ),
    ),
    "related-to-itself": (
        "entries.yaml",
        lambda t: t.replace(
            "related: [techniques, pressure-intensity]", "related: [techniques, massage-oil]", 1
        ),
    ),
    "quote-not-in-article": (
        "entries.yaml",
        lambda t: t.replace(
            "      - Remedial massage a form of deep tissue massage",
            "      - Remedial massage cures all",
            1,
        ),
    ),
    "phrasings-differ-only-in-case": (
        "entries.yaml",
        lambda t: _field(t, "massage-oil", "phrasings", _phrasings(*SIX[:5], "Oil One")),
    ),
    "flag-names-no-concept": (
        "safety.yaml",
        lambda t: t.replace("when: [[self-harm], [harm-act", "when: [[self-ham], [harm-act", 1),
    ),
    "subjects-name-no-entry": (
        "subjects.yaml",
        lambda t: t.replace("needs_context: [remedial-massage,", "needs_context: [gone,", 1),
    ),
}
BOTH_ACCEPT = {
    "six-phrasings": (
        "entries.yaml",
        lambda t: _field(t, "massage-oil", "phrasings", _phrasings(*SIX)),
    ),
    "not-from-the-article-without-quotes": (
        "entries.yaml",
        lambda t: _field(
            _field(t, "massage-oil", "quotes", ""),
            "massage-oil",
            "source",
            "    source: NHS, 2024\n",
        ),
    ),
}


def _apply(directory: Path, case: tuple[str, Any]) -> tuple[bool, bool]:
    """Edit one file of `directory`; whether schema.json (jsonschema) and check accept it."""
    name, edit = case
    path = directory / name
    text = path.read_text(encoding="utf-8")
    edited = edit(text)
    assert edited != text, "the edit did not apply"
    path.write_text(edited, encoding="utf-8")
    schema = json.loads((directory / "schema.json").read_text(encoding="utf-8"))
    schema_ok = jsonschema.Draft202012Validator(schema).is_valid(yaml.safe_load(edited))
    knowledge, _ = check_knowledge(directory)
    return schema_ok, knowledge is not None


@pytest.mark.parametrize("case", BOTH_REJECT.values(), ids=BOTH_REJECT.keys())
def test_schema_rejects_what_check_rejects(knowledge_copy: Path, case: tuple[str, Any]) -> None:
    assert _apply(knowledge_copy, case) == (False, False)


@pytest.mark.parametrize("case", CHECK_ONLY.values(), ids=CHECK_ONLY.keys())
def test_what_only_check_can_reject(knowledge_copy: Path, case: tuple[str, Any]) -> None:
    assert _apply(knowledge_copy, case) == (True, False)


@pytest.mark.parametrize("case", BOTH_ACCEPT.values(), ids=BOTH_ACCEPT.keys())
def test_schema_and_check_both_accept(knowledge_copy: Path, case: tuple[str, Any]) -> None:
    assert _apply(knowledge_copy, case) == (True, True)


def test_lint_flags_a_not_covered_phrase_that_is_one_word_without_fillers(
    knowledge_copy: Path,
) -> None:
    path = knowledge_copy / "subjects.yaml"
    text = path.read_text()
    assert ", claim it back," in text
    path.write_text(text.replace(", claim it back,", ", claim it on,"))
    problems = [p for p in lint(load_knowledge(knowledge_copy)) if "claim it on" in p.message]
    assert len(problems) == 1 and problems[0].severity == "warning"
    assert "just 'claim'" in problems[0].message
    lines = path.read_text().splitlines()
    assert "claim it on" in lines[problems[0].line - 1]


def test_check_warns_about_a_synonym_listed_under_two_words(tmp_path: Path) -> None:
    """A word under two synonym keys is read as only one of them: `check` says so."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    path = target / "vocabulary.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  kneading: [knead,", "  kneading: [percussion, knead,"), "utf-8")
    problems = lint(load_knowledge(target))
    assert any(
        "'percussion' is listed under both" in p.message and p.file.endswith("vocabulary.yaml")
        for p in problems
    ), problems
