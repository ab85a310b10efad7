"""The labelled question set: the bars from the answering-core issue, measured every run."""

from __future__ import annotations

from pathlib import Path

import pytest
from rapidfuzz import fuzz, process

from bot.answering.engine import Engine
from bot.answering.knowledge import Knowledge
from bot.answering.text import words
from bot.maintain.evaluation import evaluate, read_labelled
from tests.conftest import HOLDOUT, LABELLED


def test_labelled_set_is_big_and_balanced(knowledge: Knowledge) -> None:
    items, problems = read_labelled(LABELLED)
    assert problems == []
    assert len(items) >= 150
    expects = [i.expect for i in items]
    assert expects.count("fallback") >= 40 and expects.count("urgent") >= 20
    assert "smalltalk" in expects
    for entry in knowledge.entries:
        assert expects.count(entry.id) >= 6, entry.id
    unknown = set(expects) - set(knowledge.by_id) - {"fallback", "urgent", "smalltalk"}
    assert unknown == set()


NEAR_COPY = 90  # rapidfuzz ratio on normalised words: a few letters apart
LONG_ENOUGH = 5  # words; shorter questions are compared whole ("what is remedial massage")


def near_copies(questions: list[str], phrasings: list[str]) -> list[tuple[str, str]]:
    """(question, phrasing) pairs where a question is a phrasing copied or nearly copied.

    Normalised with the bot's own `words` (case, contractions, punctuation). A question of five
    words or more is a near copy at ratio >= 90; a shorter one only when it is the same words,
    since "does it hurt" and "does it hurt much" are simply how everyone asks.
    """
    normalised = {" ".join(words(p)): p for p in phrasings}
    found = []
    for question in questions:
        said = " ".join(words(question))
        if said in normalised:
            found.append((question, normalised[said]))
        elif len(said.split()) >= LONG_ENOUGH:
            best = process.extractOne(said, normalised, scorer=fuzz.ratio, score_cutoff=NEAR_COPY)
            if best is not None:
                found.append((question, normalised[best[0]]))
    return found


def test_near_copies_are_caught() -> None:
    phrasings = ["do they use oil", "is it safe to have a massage when pregnant"]
    questions = [
        "Do they use oil?",  # the same words
        "is it safe to have massage when pregnant",  # one word dropped
        "is it safe to have a massage when I'm pregnant",  # one word added
        "can pregnant women get remedial massage",  # a real paraphrase
        "do they use oils",  # short: only the same words count
    ]
    assert near_copies(questions, phrasings) == [
        ("Do they use oil?", "do they use oil"),
        ("is it safe to have massage when pregnant", phrasings[1]),
        ("is it safe to have a massage when I'm pregnant", phrasings[1]),
    ]


@pytest.mark.parametrize("path", [LABELLED, HOLDOUT], ids=["labelled", "holdout"])
def test_evaluation_questions_are_not_knowledge_phrasings(knowledge: Knowledge, path: Path) -> None:
    """Measuring on the knowledge base's own wording, or a near copy of it, measures nothing."""
    items, _ = read_labelled(path)
    phrasings = [p for entry in knowledge.entries for p in entry.phrasings]
    assert near_copies([i.question for i in items], phrasings) == []


@pytest.mark.parametrize(
    ("path", "top1_min"),
    [(LABELLED, 0.90), (HOLDOUT, 0.85)],
    ids=["labelled", "holdout"],
)
def test_accuracy_bars(engine: Engine, path: Path, top1_min: float) -> None:
    """The issue's bars. The held-out set was written after tuning (see the README)."""
    items, problems = read_labelled(path)
    assert problems == [] and len(items) >= 80
    report = evaluate(engine, items)
    summary = report.format()
    assert report.top1 >= top1_min, summary
    assert report.wrong <= 0.05, summary
    assert report.off_topic_answered <= 0.10, summary
    assert report.red_flags == 1.0, summary
    assert report.disclaimer == 1.0, summary
    assert report.smalltalk >= 0.9, summary
