"""The semantic signal: loads from the wheel with downloads off, and only picks among the choices
the lexical matcher would offer; a lexical answer or fallback stands."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.answering.engine import Engine
from bot.answering.knowledge import Knowledge
from bot.answering.matching import MatchConfig

pytest.importorskip("wordllama")


@pytest.fixture(scope="module")
def lexical(knowledge: Knowledge) -> Engine:
    return Engine(knowledge, replace(MatchConfig(), semantic=False))


def test_it_is_on_by_default_and_loads_from_the_wheel(engine: Engine) -> None:
    assert engine.config.semantic
    assert engine.semantic is not None, "the pinned model loads from the wheel"


def test_cosines_rank_the_right_entry_first(engine: Engine) -> None:
    assert engine.semantic is not None
    cosines = engine.semantic.cosines("is there oil on their hands")
    assert max(cosines, key=lambda k: cosines[k]) == "massage-oil"


def test_a_lexical_fallback_is_never_rescued(engine: Engine, lexical: Engine) -> None:
    for text in ("best pizza dough recipe", "learn guitar chords fast", "capital of peru"):
        assert lexical.answer(text).kind == "fallback"
        assert engine.answer(text).kind == "fallback"


def test_it_picks_only_among_the_lexical_choices(engine: Engine, lexical: Engine) -> None:
    question = "what goes on during the actual massage"
    offered = lexical.answer(question)
    assert offered.kind == "clarify"
    picked = engine.answer(question)
    assert picked.kind == "answer"
    assert picked.entry_id == "techniques"
    assert picked.entry_id in {t.id for t in offered.suggestions}


def test_a_lexical_answer_stands(engine: Engine, lexical: Engine) -> None:
    for text in ("do they use oil", "is massage safe when pregnant", "what is remedial massage"):
        before = lexical.answer(text)
        assert before.kind == "answer"
        assert engine.answer(text).entry_id == before.entry_id


def test_a_choice_all_three_agree_on_is_answered(knowledge: Knowledge, engine: Engine) -> None:
    """Lexical best, fused best and closest in meaning are one entry, though no choice leads
    by `fused_gap`: it is answered; without the agreement rule the bot would ask."""
    question = "back has been bad for a long time, would massage still work on it"
    assert engine.semantic is not None
    cosines = engine.semantic.cosines(question, ["chronic-pain", "massage-for-back-pain"])
    assert abs(cosines["chronic-pain"] - cosines["massage-for-back-pain"]) < 0.05
    reply = engine.answer(question)
    assert (reply.kind, reply.entry_id) == ("answer", "chronic-pain")
    never = Engine(knowledge, replace(MatchConfig(), agree_cosine=1.01, entry_model=False))
    assert never.answer(question).kind == "clarify"


def test_a_choice_far_in_meaning_is_not_answered(knowledge: Knowledge) -> None:
    question = "what goes on during the actual massage"
    # Neither the agreement rule nor the entry model: the cosine floor alone decides.
    config = replace(MatchConfig(), fused_cosine=0.99, agree_cosine=1.01, entry_model=False)
    assert Engine(knowledge, replace(config, fused_cosine=0.6)).answer(question).kind == "answer"
    assert Engine(knowledge, config).answer(question).kind == "clarify"


def test_safety_and_subjects_come_before_it(engine: Engine) -> None:
    assert engine.answer("i want to kill myself").tier == "crisis"
    assert engine.answer("my neck hurts").reason == "other-body"
    assert engine.answer("how much does a session cost").reason == "not-covered"


def test_a_wrong_checksum_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.answering import semantic

    monkeypatch.setattr(semantic, "SHA256", "0" * 64)
    monkeypatch.setattr(semantic, "_MODEL_CACHE", {})
    assert semantic._model() is None
