"""The labelled question set: the bars from the answering-core issue, measured every run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import Engine
from bot.evaluation import evaluate, read_labelled
from bot.knowledge import Knowledge
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
