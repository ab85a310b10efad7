"""The optional semantic signal: loads from the wheel with downloads off, and only re-decides
where the lexical matcher would answer or offer choices."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.answering.engine import Engine
from bot.answering.knowledge import Knowledge
from bot.answering.matching import MatchConfig

pytest.importorskip("wordllama")


@pytest.fixture(scope="module")
def fused(knowledge: Knowledge) -> Engine:
    engine = Engine(knowledge, replace(MatchConfig(), semantic=True))
    assert engine.semantic is not None, "the pinned model loads from the wheel"
    return engine


def test_cosines_rank_the_right_entry_first(fused: Engine) -> None:
    assert fused.semantic is not None
    cosines = fused.semantic.cosines("is there oil on their hands")
    assert max(cosines, key=lambda k: cosines[k]) == "massage-oil"


def test_a_lexical_fallback_is_never_rescued(fused: Engine, engine: Engine) -> None:
    for text in ("best pizza dough recipe", "learn guitar chords fast", "capital of peru"):
        assert engine.answer(text).kind == "fallback"
        assert fused.answer(text).kind == "fallback"


def test_safety_and_subjects_come_before_it(fused: Engine) -> None:
    assert fused.answer("i want to kill myself").tier == "crisis"
    assert fused.answer("my neck hurts").reason == "other-body"
    assert fused.answer("how much does a session cost").reason == "not-covered"


def test_a_wrong_checksum_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.answering import semantic

    monkeypatch.setattr(semantic, "SHA256", "0" * 64)
    monkeypatch.setattr(semantic, "_MODEL_CACHE", {})
    assert semantic._model() is None
