"""Red flags: positives in many wordings, and negatives that must not escalate."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.phrases import Message

EMERGENCY = [
    "I can't pee and my back is agony",
    "cant pee since this morning",
    "I cannot control my bladder",
    "wet myself without noticing, back hurts",
    "numb down there since yesterday",
    "numbnes around my genitals",
    "I can't feel it when I wipe",
    "both my legs feel weak",
    "legs giving way when I walk",
    "I have chest pain and back pain",
    "fell off a ladder at work, now my back hurts",
    "was in a car accident this morning",
    "lost control of my bowels",
    "pee cant",  # word order
]
URGENT = [
    "back pain with a fever",
    "I have chills and a sore back",
    "I'm losing weight without trying and my back aches",
    "pain is worse at night",
    "it hurts when I cough",
    "history of cancer, losing weight, now back pain",
    "pain between my shoulder blades",
    "there is a lump on my spine",
]
NOT_RED_FLAGS = [
    "what is remedial massage",
    "does the therapist use oil",
    "will remedial massage hurt",
    "is it ok to have a massage when pregnant",
    "I fell asleep during my last massage, is that normal",
    "can I relax and care for my child after a massage",  # 'child' is not 'chills'
    "my mum had cancer, can I still get a massage",  # cancer alone: the caution entry
    "how much pressure do they use",
    "the cost of living is hurting my back",
]


@pytest.mark.parametrize("text", EMERGENCY)
def test_emergency_flags(engine: Engine, text: str) -> None:
    reply = engine.answer(text)
    assert reply.kind == "urgent"
    finding = engine.safety.check(Message.of(text))
    assert finding is not None and finding.tier == "emergency"
    plain = engine.render_plain(reply)
    assert "999" in plain and "911" in plain and "000" in plain
    assert "not medical advice" in plain


@pytest.mark.parametrize("text", URGENT)
def test_urgent_flags(engine: Engine, text: str) -> None:
    reply = engine.answer(text)
    assert reply.kind == "urgent"
    finding = engine.safety.check(Message.of(text))
    assert finding is not None and finding.tier == "urgent"


@pytest.mark.parametrize("text", NOT_RED_FLAGS)
def test_not_red_flags(engine: Engine, text: str) -> None:
    assert engine.answer(text).kind != "urgent"


def test_urgent_card_replaces_massage_answer(engine: Engine) -> None:
    reply = engine.answer("can massage help? I can't pee and my back hurts")
    assert reply.kind == "urgent" and reply.entry_id is None
    plain = engine.render_plain(reply)
    assert "massage is not the answer" in plain
    assert "You mentioned new trouble with your bladder or bowels" in plain


def test_card_names_no_diagnosis(engine: Engine) -> None:
    plain = engine.render_plain(engine.answer("numb down there and can't pee"))
    for diagnosis in ("cauda equina", "syndrome", "tumour", "infection", "fracture"):
        assert diagnosis not in plain.casefold()


def test_negation_still_escalates(engine: Engine) -> None:
    # Documented decision: negation is not honoured; a false alarm is the cheap error.
    assert engine.answer("no numbness down there, just wondering").kind == "urgent"


def test_emergency_outranks_urgent(engine: Engine) -> None:
    finding = engine.safety.check(Message.of("fever and I can't pee"))
    assert finding is not None and finding.tier == "emergency"
    assert {f.id for f in finding.flags} == {"fever", "bladder-bowel"}
