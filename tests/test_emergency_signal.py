"""The learned emergency signal: a net under the emergency flags, trained on the emergency
messages of crisis-examples.yaml (kinds `emergency-*`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.answering.knowledge import Knowledge, check_knowledge, read_training_pairs
from bot.answering.safety import SafetyGate
from bot.answering.signal import CrisisModel, train
from tests.conftest import KNOWLEDGE_DIR, edit, with_signal
from tests.test_cli import run_cli

# Saddle numbness said in a way no emergency flag's words cover: only the model catches it.
UNLISTED = (
    "sat on the toilet this morning and it was like sitting on someone elses bum, back has been "
    "bad all week"
)


def _with(knowledge: Knowledge, **changes: object) -> Knowledge:
    return with_signal(knowledge, "emergency", **changes)


def test_retraining_gives_the_shipped_model() -> None:
    shipped = CrisisModel.load(KNOWLEDGE_DIR / "emergency-model.json")
    pairs = read_training_pairs(KNOWLEDGE_DIR, "emergency")
    assert 300 <= sum(1 for _, emergency in pairs if emergency) < len(pairs) / 5
    model = train(pairs)
    assert model.bias == pytest.approx(shipped.bias, abs=1e-5)
    assert model.weights.keys() == shipped.weights.keys()


def test_the_model_catches_what_the_word_rules_miss(knowledge: Knowledge) -> None:
    without = replace(knowledge, safety=replace(knowledge.safety, emergency=None))
    assert Engine(without).answer(UNLISTED).kind != "urgent"  # the words alone miss it
    reply = Engine(knowledge).answer(UNLISTED)
    assert (reply.kind, reply.tier) == ("urgent", "emergency")
    finding = SafetyGate(knowledge.safety).check(UNLISTED)
    assert finding is not None and finding.found[0].flag.id == "emergency-signal"
    assert "sitting on someone elses bum" in finding.found[0].quote  # the user's own words


def test_its_card_quotes_one_sentence_not_the_whole_story(knowledge: Knowledge) -> None:
    story = " ".join(f"Day {n} of moving house, carrying boxes up the stairs." for n in range(12))
    finding = SafetyGate(knowledge.safety).check(f"{story} {UNLISTED}.")
    assert finding is not None and finding.found[0].flag.id == "emergency-signal"
    assert len(finding.found[0].quote) <= 160 and "Day 3" not in finding.found[0].quote


def test_numbness_down_one_leg_rules_it_out(knowledge: Knowledge) -> None:
    text = "numbness in my left foot since yesterday and back ache too"
    eager = _with(knowledge, card_at=-100.0)  # the model would call anything an emergency
    assert Engine(eager).answer(text).tier is None
    assert Engine(_with(eager, unless=frozenset())).answer(text).tier == "emergency"


def test_it_never_replaces_a_card_of_the_word_rules(knowledge: Knowledge) -> None:
    gate = SafetyGate(_with(knowledge, card_at=-100.0).safety)
    crisis = gate.check("i want to kill myself")
    assert crisis is not None and crisis.tier == "crisis"
    assert all(f.flag.id != "emergency-signal" for f in crisis.found)
    emergency = gate.check("numb down below and i cant pee, back agony")
    assert emergency is not None and emergency.found[0].flag.id != "emergency-signal"
    assert gate.check("¿el masaje ayuda con el dolor de espalda?", "es", ("es",)) is None


@pytest.mark.parametrize(
    "text",
    [
        "does remedial massage help lower back pain",
        "my legs felt like jelly after my massage",
        "had a cold last week, back is a bit stiff from lying in bed",
        "can I get a massage while pregnant, my lower back aches",
    ],
)
def test_ordinary_messages_get_no_card(engine: Engine, text: str) -> None:
    assert engine.answer(text).kind != "urgent"


def test_check_and_train_look_after_the_model(knowledge_copy: Path) -> None:
    (knowledge_copy / "emergency-model.json").unlink()
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("emergency model emergency-model.json unusable" in str(p) for p in problems)
    code, out, _ = run_cli("--knowledge", str(knowledge_copy), "train")
    assert code == 0 and "emergency" in out
    assert check_knowledge(knowledge_copy)[0] is not None


def test_check_refuses_an_unknown_flag_in_unless(knowledge_copy: Path) -> None:
    edit(knowledge_copy / "safety.yaml", "  unless: [one-leg, fever]\n", "  unless: [one-legs]\n")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("unless names no flag 'one-legs'" in p.message for p in problems)


def test_the_two_models_need_files_of_their_own(knowledge_copy: Path) -> None:
    path = knowledge_copy / "safety.yaml"
    edit(path, "  model: emergency-model.json\n", "  model: crisis-model.json\n")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("the crisis signal's file" in p.message for p in problems)
    before = (knowledge_copy / "crisis-model.json").read_bytes()
    code, _, err = run_cli("--knowledge", str(knowledge_copy), "train")
    assert code == 1 and "a model file of its own" in err
    assert (knowledge_copy / "crisis-model.json").read_bytes() == before
