"""The learned crisis signal (bot/answering/signal.py), its place under the crisis flags, and
the files that feed it and the matcher: crisis-examples.yaml and asked.yaml."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.answering.engine import Engine
from bot.answering.knowledge import (
    Knowledge,
    check_knowledge,
    load_knowledge,
    read_training_pairs,
    skips_for,
)
from bot.answering.safety import SafetyGate
from bot.answering.signal import CrisisModel, digest, features, pieces, train
from bot.maintain.lint import answered_but_should_not_be, leave_one_out
from tests.conftest import KNOWLEDGE_DIR
from tests.test_cli import run_cli

TOY = [
    ("i do not want to be alive any more", True),
    ("i want to go to sleep and never wake up", True),
    ("everyone would be better off if i was gone", True),
    ("i have been saving my pills to take them all", True),
    ("i am so tired of this pain", False),
    ("does massage help a sore back", False),
    ("my back is killing me after the gym", False),
    ("how much oil do they use", False),
]


def test_features_are_stemmed_words_pairs_and_triples() -> None:
    feats = features("Can't sleep, hurting")
    assert "w sleep" in feats and "w hurt" in feats
    assert "b not sleep" in feats  # contractions expanded before pairing
    assert "t not sleep hurt" in feats
    # Made only of function words: style, not content.
    assert "b can not" not in feats and "w not" not in feats
    assert not any(f.startswith("s ") for f in feats)


def test_with_skips_words_two_apart_are_paired_too() -> None:
    feats = features("not planning on needing her back", skips=True)
    assert "s plan need" in feats and "s need back" in feats
    assert "b plan on" in feats  # the plain pairs stay
    assert "s not on" not in feats  # made only of function words
    assert set(features("not planning on needing her back")) < set(feats)


def test_the_skips_setting_is_saved_and_part_of_the_digest() -> None:
    model = train(TOY * 3, skips=True)
    assert model.skips and any(f.startswith("s ") for f in model.weights)
    assert model.digest == digest(TOY * 3, skips=True) != digest(TOY * 3)
    again = CrisisModel.from_json(model.to_json())
    assert again == model
    assert not CrisisModel.from_json(train(TOY * 3).to_json()).skips
    with pytest.raises(ValueError, match="skips"):
        CrisisModel.from_json(model.to_json().replace('"skips": true', '"skips": "yes"'))


def test_a_long_message_is_scored_sentence_by_sentence_too() -> None:
    text = (
        "My back has been sore for weeks. The gym is closed. Work is busy. I want to sleep and "
        "never wake up. Oil or not?"
    )
    assert pieces(text)[0] == text and len(pieces(text)) == 5
    assert pieces("Short one. Another.") == ["Short one. Another."]
    model = train(TOY * 3)
    whole = model.raw(text)
    score = model.score(text)
    assert "I want to sleep and never wake up." in score.quote
    assert score.value > whole  # the crisis sentence is not diluted by the rest


def test_training_learns_and_is_deterministic() -> None:
    one, two = train(TOY * 3), train(TOY * 3)
    assert one == two
    assert one.score("i would rather never wake up").value > 0
    assert one.score("does massage help my back").value < 0
    assert one.digest == digest(TOY * 3) != digest(TOY * 2)


def test_a_saved_model_scores_like_the_trained_one(tmp_path: Path) -> None:
    model = train(TOY * 3)
    path = tmp_path / "model.json"
    path.write_text(model.to_json(), encoding="utf-8")
    again = CrisisModel.load(path)
    assert again.digest == model.digest and again.bias == model.bias
    for text, _ in TOY:
        assert again.score(text) == model.score(text)
    with pytest.raises(ValueError, match="version"):
        CrisisModel.from_json(json.dumps({"version": 99, "weights": {}, "bias": 0, "digest": ""}))


def test_the_shipped_model_is_trained_on_the_shipped_examples() -> None:
    pairs = read_training_pairs(KNOWLEDGE_DIR)
    assert sum(crisis for _, crisis in pairs) >= 400
    assert sum(not crisis for _, crisis in pairs) >= 1000
    model = CrisisModel.load(KNOWLEDGE_DIR / "crisis-model.json")
    assert model.skips and skips_for("crisis")  # the English crisis model pairs words two apart
    assert model.digest == digest(pairs, skips=skips_for("crisis"))


def test_retraining_gives_the_shipped_model() -> None:
    shipped = CrisisModel.load(KNOWLEDGE_DIR / "crisis-model.json")
    model = train(read_training_pairs(KNOWLEDGE_DIR), skips=skips_for("crisis"))
    assert model.bias == pytest.approx(shipped.bias, abs=1e-5)
    assert model.weights.keys() == shipped.weights.keys()
    worst = max(abs(model.weights[f] - shipped.weights[f]) for f in model.weights)
    assert worst < 1e-4


# --- in the safety gate ---------------------------------------------------------------------

# Crisis wordings that no crisis flag's words cover: only the model can catch them.
UNLISTED = "honestly the pets are rehomed and the paperwork is done, i feel ready now"


def test_the_model_catches_what_the_word_rules_miss(knowledge: Knowledge) -> None:
    without = replace(knowledge, safety=replace(knowledge.safety, signal=None))
    assert Engine(without).answer(UNLISTED).kind != "urgent"  # the words alone miss it
    reply = Engine(knowledge).answer(UNLISTED)
    assert reply.kind == "urgent" and reply.tier == "crisis"
    finding = SafetyGate(knowledge.safety).check(UNLISTED)
    assert finding is not None and finding.found[0].flag.id == "crisis-signal"


@pytest.mark.parametrize(
    "text",
    [
        "dying for a massage after this week, my back is killing me",
        "does remedial massage help lower back pain",
        "i'm so fed up with this back, three weeks now and work is a nightmare",
    ],
)
def test_innocent_messages_get_no_crisis_card(engine: Engine, text: str) -> None:
    reply = engine.answer(text)
    assert reply.tier != "crisis"


def test_a_middling_score_adds_the_check_in_line(knowledge: Knowledge) -> None:
    signal = knowledge.safety.signal
    assert signal is not None
    text = "what oil do they use? been feeling pretty flat about everything lately"
    plain = Engine(knowledge).answer(text)
    assert plain.kind == "answer" and plain.advice == ()  # no word rule, and a low score
    score = signal.model.score(text).value
    # Put the thresholds around this message's score: a check-in, not a card.
    lowered = replace(signal, check_in_at=score - 0.1, card_at=score + 0.1)
    engine = Engine(replace(knowledge, safety=replace(knowledge.safety, signal=lowered)))
    reply = engine.answer(text)
    assert reply.kind == "answer" and reply.entry_id == plain.entry_id
    assert reply.advice == ("check-in",)
    assert "116 123" in engine.render_plain(reply)


def test_a_card_from_the_word_rules_is_never_replaced_by_the_model(
    knowledge: Knowledge,
) -> None:
    signal = knowledge.safety.signal
    assert signal is not None
    always = replace(signal, card_at=-100.0, check_in_at=-100.0)  # the model says crisis
    engine = Engine(replace(knowledge, safety=replace(knowledge.safety, signal=always)))
    assert engine.answer("numb down below and i cant pee, back agony").tier == "emergency"
    assert engine.answer("¿el masaje ayuda con el dolor de espalda?").tier is None  # English only


# --- maintainers -----------------------------------------------------------------------------


def _problems(directory: Path) -> list[str]:
    return [str(p) for p in check_knowledge(directory)[1]]


def test_check_warns_when_the_model_is_older_than_its_examples(knowledge_copy: Path) -> None:
    path = knowledge_copy / "crisis-examples.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["crisis_examples"].append({"text": "a new wording nobody trained on", "expect": "none"})
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    stale = [p for p in _problems(knowledge_copy) if "run `python run_bot.py train`" in p]
    assert len(stale) == 2 and all("warning" in p for p in stale)  # both signals
    code, out, _ = run_cli("--knowledge", str(knowledge_copy), "train")
    assert code == 0 and "trained on" in out
    assert not [p for p in _problems(knowledge_copy) if "run_bot.py train" in p]


def test_a_missing_model_is_an_error(knowledge_copy: Path) -> None:
    (knowledge_copy / "crisis-model.json").unlink()
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("crisis model crisis-model.json unusable" in str(p) for p in problems)
    code, _, _ = run_cli("--knowledge", str(knowledge_copy), "train")  # and train mends it
    assert code == 0 and check_knowledge(knowledge_copy)[0] is not None


def test_thresholds_in_the_wrong_order_are_an_error(knowledge_copy: Path) -> None:
    path = knowledge_copy / "safety.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"check_in_at: \S+", "check_in_at: 9.5", text), encoding="utf-8")
    assert any("check_in_at is above card_at" in p for p in _problems(knowledge_copy))


def test_a_crisis_example_with_a_wrong_label_is_refused(knowledge_copy: Path) -> None:
    path = knowledge_copy / "crisis-examples.yaml"
    with path.open("a", encoding="utf-8") as fh:
        fh.write('  - {text: "i feel rough", expect: maybe}\n')
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("crisis-examples.yaml" in str(p) and "maybe" in str(p) for p in problems)


# --- asked.yaml --------------------------------------------------------------------------------


def test_asked_wordings_are_matched_like_phrasings(knowledge_copy: Path) -> None:
    question = "zorbing tonight, will the pressure wreck me tomorrow"
    before = Engine(load_knowledge(knowledge_copy)).answer(question)
    path = knowledge_copy / "asked.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["asked"]["pressure-intensity"].append("zorbing tonight, how hard will they press")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    after = Engine(load_knowledge(knowledge_copy)).answer(question)
    assert before.kind == "fallback"
    assert (after.kind, after.entry_id) == ("answer", "pressure-intensity")


def test_an_entry_needs_one_of_its_own_words(engine: Engine) -> None:
    # An asker of some entry mentioned cooking; that alone must not make "how do I cook pasta"
    # that entry: the question shares no word with the entry's own phrasings or title.
    assert engine.answer("how do I cook pasta").kind == "fallback"
    # (and without the entry model's veto, which also turns the pasta away)
    loose = engine.with_config(replace(engine.config, own_word=False, model_veto=1.01))
    assert loose.answer("how do I cook pasta").kind == "answer"


def test_asked_names_only_entries(knowledge_copy: Path) -> None:
    path = knowledge_copy / "asked.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("\n  massage-oil:\n", "\n  massage-oils:\n"),
        encoding="utf-8",
    )
    problems = _problems(knowledge_copy)
    assert any(
        "asked names no entry 'massage-oils'; did you mean 'massage-oil'?" in p for p in problems
    )


def test_leave_one_out_looks_at_phrasings_only(knowledge: Knowledge) -> None:
    assert sum(len(e.asked) for e in knowledge.entries) >= 500
    # Each entry's asked wordings copied into every other entry would make every phrasing
    # collide if they counted; leave-one-out must not see them.
    everything = tuple(a for e in knowledge.entries for a in e.asked)
    crowded = replace(
        knowledge, entries=tuple(replace(e, asked=everything) for e in knowledge.entries)
    )
    assert leave_one_out(crowded) == leave_one_out(knowledge)


def test_check_warns_when_a_not_answered_question_gets_an_entry(
    knowledge: Knowledge, engine: Engine
) -> None:
    assert not answered_but_should_not_be(knowledge, engine)
    planted = replace(
        knowledge,
        not_answered=(*knowledge.not_answered, ("off-topic", "do they use oil")),
    )
    warnings = answered_but_should_not_be(planted, Engine(planted))
    assert len(warnings) == 1
    assert "is answered with 'massage-oil'; it should not be" in str(warnings[0])


def test_short_messages_lean_towards_the_prior() -> None:
    from bot.answering.signal import SETTINGS, norm

    floor = int(SETTINGS["min_features"])
    assert floor > 1
    assert norm(2) == norm(floor) == 1 / floor**0.5  # two features weigh as if there were ten
    assert norm(4 * floor) == 1 / (4 * floor) ** 0.5
    assert norm(0) == 0.0


@pytest.mark.parametrize("text", ["tell me a joke", "what time is it", "done", "ok"])
def test_a_few_words_are_not_a_crisis(engine: Engine, text: str) -> None:
    assert engine.answer(text).tier is None


def test_the_signal_s_check_in_never_makes_a_low_mood_fallback(knowledge: Knowledge) -> None:
    """A middling score adds the helplines, but only words of low mood make a message that
    asks nothing about massage a low-mood fallback (never recorded, nothing else matched)."""
    signal = knowledge.safety.signal
    assert signal is not None
    text = "how long does a muscle spasm take to go away"
    score = signal.model.score(text).value
    lowered = replace(signal, check_in_at=score - 0.1, card_at=score + 0.1)
    reply = Engine(replace(knowledge, safety=replace(knowledge.safety, signal=lowered))).answer(
        text
    )
    assert reply.advice == ("check-in",)
    assert reply.reason != "low-mood"


def test_a_model_with_a_number_that_is_not_finite_is_refused(knowledge_copy: Path) -> None:
    path = knowledge_copy / "crisis-model.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    first, second = sorted(data["weights"])[:2]
    data["weights"][first], data["weights"][second] = float("inf"), float("-inf")
    path.write_text(json.dumps(data), encoding="utf-8")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("not a finite number" in str(p) for p in problems)


def test_the_signal_section_is_required(knowledge_copy: Path) -> None:
    path = knowledge_copy / "safety.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("\nsignal:\n"), text.index("\nflags:\n")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("signal" in str(p) for p in problems)


def test_casual_english_is_read_by_the_model(knowledge: Knowledge) -> None:
    """Lower case without apostrophes ("wont", "im") looks like other languages to the
    language detector; its words are still mostly English, so the model reads it."""
    text = "cancelled everything. wont need it where im going"
    without = replace(knowledge, safety=replace(knowledge.safety, signal=None))
    assert Engine(without).answer(text).tier is None
    assert Engine(knowledge).answer(text).tier == "crisis"


def test_an_idiom_never_silences_a_clear_score(engine: Engine) -> None:
    # "ready to go for" is an idiom ("ready to go for a massage"); here it is not.
    assert engine.answer("i'm ready to go for good").tier == "crisis"
    # Near the threshold an idiom may soften the card to the check-in, never to nothing.
    reply = engine.answer("i can't live with myself anymore")
    assert reply.tier == "crisis" or "check-in" in reply.advice


def test_a_red_flag_card_with_crisis_words_adds_the_helplines(engine: Engine) -> None:
    text = (
        "numb between my legs and cant pee since this morning. got a rope out in the shed and "
        "keep looking at the beam"
    )
    reply = engine.answer(text)
    assert reply.tier == "emergency"  # its instructions stay
    rendered = engine.render_plain(reply)
    assert "emergency number" in rendered and "116 123" in rendered
