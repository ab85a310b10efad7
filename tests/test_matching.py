"""Normalisation, typo correction, refusal of uncovered topics, and the decision rule."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.matching import Scored, decide, suggestions
from bot.phrases import Message, contains, phrase_tokens
from bot.text import words


def test_words_expand_contractions_and_drop_punctuation() -> None:
    assert words("I can’t PEE!!") == ["i", "can", "not", "pee"]
    assert words("cant") == ["can", "not"]
    assert words("🍕 🍕") == []


def test_normalise_maps_synonyms_and_stems(engine: Engine) -> None:
    assert engine.matcher.normalise("Do they use lotion?") == ["oil"]
    assert engine.matcher.normalise("lower back ache") == ["back", "pain"]


def test_typos_are_corrected_to_knowledge_words(engine: Engine) -> None:
    assert engine.matcher.normalise("remedail masage") == engine.matcher.normalise(
        "remedial massage"
    )


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("what is remedial massage", "remedial-massage"),
        ("do they use oil", "massage-oil"),
        ("WILL IT HURT", "pressure-intensity"),
        ("passive joint stretching??", "joint-stretching"),
    ],
)
def test_clear_questions_are_answered(engine: Engine, question: str, entry_id: str) -> None:
    reply = engine.answer(question)
    assert (reply.kind, reply.entry_id) == ("answer", entry_id)


@pytest.mark.parametrize(
    "question",
    [
        "how long does a slipped disc take to heal",
        "can remedial massage cure my sciatica",
        "is massage covered by insurance",
        "what's the weather like",
    ],
)
def test_uncovered_topics_never_get_a_massage_answer(engine: Engine, question: str) -> None:
    reply = engine.answer(question)
    assert reply.kind == "fallback"
    assert "/topics" in engine.render_plain(reply)


def test_not_covered_names_the_topic(engine: Engine) -> None:
    assert "sciatica" in engine.render_plain(engine.answer("is massage good for sciatica"))


def test_relax_is_not_muscle_relaxer(engine: Engine) -> None:
    assert engine.answer("will my other muscles relax too").kind != "fallback"


def test_long_message_is_answered_by_its_question(engine: Engine) -> None:
    text = (
        "So I've been reading a lot about different options lately. My partner books a session "
        "every month and swears by it, and my sister is a nurse. Anyway. "
        "Do remedial massage therapists use oil on your skin? "
        "I'm asking because my skin is sensitive."
    )
    reply = engine.answer(text)
    assert (reply.kind, reply.entry_id) == ("answer", "massage-oil")


def test_phrase_window_allows_order_and_typos_but_not_distance() -> None:
    phrase = phrase_tokens("can't pee")
    assert contains(Message.of("pee? I can't"), phrase)
    assert contains(Message.of("I cant really pee"), phrase)
    far = "I can not tell you how long I have waited to go and finally pee"
    assert not contains(Message.of(far), phrase)


def test_decide_rule() -> None:
    assert decide([]) == "fallback"
    assert decide([Scored("a", 30.0)]) == "fallback"
    assert decide([Scored("a", 80.0), Scored("b", 40.0)]) == "answer"
    assert decide([Scored("a", 80.0), Scored("b", 79.0)]) == "clarify"
    assert decide([Scored("a", 44.0)]) == "clarify"


def test_suggestions_are_close_to_the_top() -> None:
    ranked = [Scored("a", 60.0), Scored("b", 58.0), Scored("c", 30.0), Scored("d", 59.0)]
    assert [s.entry_id for s in suggestions(ranked)] == ["a", "b"]
