"""The learned entry model: trained on many people's wordings, it answers where the lexical
matcher would offer choices or fall back, and never before the subject rules or safety."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.answering import entrymodel
from bot.answering.engine import Engine
from bot.answering.entrymodel import NONE, EntryModel, examples, model_text, train
from bot.answering.knowledge import Knowledge, load_knowledge
from bot.answering.matching import MatchConfig
from bot.answering.semantic import EMBEDDER
from bot.maintain.lint import entry_model_problems
from tests.conftest import KNOWLEDGE_DIR, edit

TOY = [
    ("do they rub oil in", "oil"),
    ("is the oil scented", "oil"),
    ("what oil goes on my skin", "oil"),
    ("will the massage hurt", "pressure"),
    ("how hard do they press", "pressure"),
    ("is deep pressure painful", "pressure"),
    ("what is the capital of france", NONE),
    ("tell me about football scores", NONE),
]


def flat(texts: list[str]) -> np.ndarray:
    """An embedder that knows nothing: the word features must do the work."""
    return np.zeros((len(texts), 4), dtype=np.float32)


def test_training_learns_the_classes() -> None:
    model = train(TOY * 2, flat, "none")  # a feature seen once is left out
    zero = np.zeros(4)
    assert set(model.classes) == {"oil", "pressure", NONE}
    for text, label in TOY:
        found = model.probabilities(text, zero)
        assert max(found, key=lambda c: found[c]) == label, text
        assert sum(found.values()) == pytest.approx(1.0)


def test_a_saved_model_scores_like_the_trained_one(tmp_path: Path) -> None:
    model = train(TOY, flat, "none")
    path = tmp_path / "model.json"
    path.write_text(model.to_json(), encoding="utf-8")
    loaded = EntryModel.load(path)
    assert loaded.classes == model.classes and loaded.digest == model.digest
    text = "does the oil smell"
    assert loaded.probabilities(text, np.zeros(4)) == model.probabilities(text, np.zeros(4))


def test_a_broken_model_file_is_refused() -> None:
    data = json.loads(train(TOY, flat, "none").to_json())
    with pytest.raises(ValueError, match="version"):
        EntryModel.from_json(json.dumps({**data, "version": 99}))
    data["bias"] = data["bias"][:-1]  # one weight short of the classes
    with pytest.raises(ValueError, match="does not fit"):
        EntryModel.from_json(json.dumps(data))


def test_the_digest_follows_the_examples_and_the_embedder() -> None:
    base = entrymodel.digest(TOY, "a")
    assert entrymodel.digest(TOY, "b") != base
    assert entrymodel.digest([*TOY[:-1], ("tell me about cricket", NONE)], "a") != base
    assert entrymodel.digest(list(TOY), "a") == base


def test_the_shipped_model_is_trained_on_the_shipped_knowledge(knowledge: Knowledge) -> None:
    pairs = examples(knowledge)
    # asked.yaml loses the wordings near each new test set; a few hundred must remain
    assert sum(label == NONE for _, label in pairs) >= 250
    assert len(pairs) >= 2000
    model = EntryModel.load(KNOWLEDGE_DIR / entrymodel.MODEL_FILE)
    assert model.digest == entrymodel.digest(pairs, EMBEDDER)
    assert set(model.classes) == {e.id for e in knowledge.entries} | {NONE}
    assert entry_model_problems(knowledge) == []


# --- in the engine ---------------------------------------------------------------------------

# Written for this test: a wording the lexical matcher cannot place, the model can.
PLACED = [("spotty skin on my back, still go?", "caution-skin")]  # a clarify without it


@pytest.mark.parametrize(("question", "entry_id"), PLACED)
def test_the_model_answers_what_the_matcher_would_not(
    knowledge: Knowledge, engine: Engine, question: str, entry_id: str
) -> None:
    assert engine.entry_model is not None
    without = Engine(knowledge, replace(MatchConfig(), entry_model=False))
    assert without.answer(question).kind != "answer"
    reply = engine.answer(question)
    assert (reply.kind, reply.entry_id) == ("answer", entry_id)
    assert 0 < reply.score <= 100  # the model's probability, in percent
    never = Engine(knowledge, replace(MatchConfig(), model_clarify=1.01, model_fallback=1.01))
    assert never.answer(question).kind != "answer"


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        # The model finds an entry most likely for each of these; the subject rule still wins.
        ("how much does a massage for my back cost", "not-covered"),
        ("is thai massage good for back pain", "not-covered"),
        ("how often should i get my back massaged", "not-covered"),
    ],
)
def test_the_subject_rules_come_first(engine: Engine, question: str, reason: str) -> None:
    assert engine.entry_model is not None and engine.semantic is not None
    found = engine.entry_model.probabilities(question, engine.semantic.vector(model_text(question)))
    assert max(found, key=lambda c: found[c]) != NONE
    reply = engine.answer(question)
    assert (reply.kind, reply.reason) == ("fallback", reason)


def test_a_question_naming_neither_massage_nor_the_back_is_not_answered_by_it(
    knowledge: Knowledge, engine: Engine
) -> None:
    # It reads like "will the massage hurt?", and the model says so; but it is about a tattoo.
    question = "will the tattoo hurt"
    assert engine.answer(question).kind != "answer"
    loose = Engine(knowledge, replace(MatchConfig(), model_needs_topic=False))
    assert loose.answer(question).entry_id == "pressure-intensity"
    # An injection is a treatment the article does not cover, whatever the model says.
    assert engine.answer("will the injection hurt").reason == "not-covered"


def test_an_entry_whose_subject_the_question_does_not_name_is_not_answered(
    engine: Engine,
) -> None:
    # The model reads this as "I've just hurt my back", but no back is named.
    question = "i tweaked something hoovering this morning, book a massage now or wait a bit"
    assert engine.entry_model is not None and engine.semantic is not None
    vector = engine.semantic.vector(model_text(question))
    found = engine.entry_model.probabilities(question, vector)
    assert max(found, key=lambda c: found[c]) == "just-hurt-back"
    assert engine.answer(question).entry_id != "just-hurt-back"


def test_safety_comes_before_the_model(engine: Engine) -> None:
    reply = engine.answer("will i be tender the day after? i cant feel my legs or my bum")
    assert reply.kind == "urgent"


def test_without_the_model_file_the_engine_matches_as_before(knowledge_copy: Path) -> None:
    (knowledge_copy / entrymodel.MODEL_FILE).unlink()
    knowledge = load_knowledge(knowledge_copy)
    assert Engine(knowledge).entry_model is None
    assert "no entry model" in entry_model_problems(knowledge)[0].message


def test_check_says_when_the_model_is_stale(knowledge_copy: Path) -> None:
    entries = knowledge_copy / "entries.yaml"
    edit(entries, "- what is remedial massage", "- what's remedial massage about")
    knowledge = load_knowledge(knowledge_copy)
    problems = entry_model_problems(knowledge)
    assert len(problems) == 1 and "trained on other wordings" in problems[0].message
    assert problems[0].severity == "warning"
    # A stale model is not used: it would override the maintainer's new phrasing.
    assert Engine(knowledge).entry_model is None


def test_a_model_naming_a_missing_entry_is_not_used(knowledge_copy: Path) -> None:
    path = knowledge_copy / entrymodel.MODEL_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data["classes"][data["classes"].index("athletes")] = "no-such-entry"
    path.write_text(json.dumps(data), encoding="utf-8")
    knowledge = load_knowledge(knowledge_copy)
    assert Engine(knowledge).entry_model is None
    assert "names no entry 'no-such-entry'" in entry_model_problems(knowledge)[0].message


def test_emoji_do_not_outweigh_the_words(engine: Engine) -> None:
    # Embedded whole, ten emoji made "will it hurt?" look like no entry's question (and the
    # model vetoed the matcher's right answer).
    assert engine.answer("🙏" * 10 + " will it hurt?").entry_id == "pressure-intensity"
    assert model_text("🙏🙏 will it hurt?!!") == "will it hurt"


def test_the_model_overrules_a_topic_named_in_passing(engine: Engine) -> None:
    """A not-covered topic named in passing in a question about massage: the model's
    confident entry answers; with `model_rules` out of reach, the rule declines."""
    question = "would massage plus a bit of yoga help my back when it goes stiff from stress"
    reply = engine.answer(question)
    assert reply.kind == "answer" and reply.entry_id == "massage-and-exercise"
    strict = engine.with_config(replace(engine.config, model_rules=1.01))
    assert strict.answer(question).reason == "not-covered"
    # Not where the question doesn't name massage, nor for a topic the model doesn't place.
    assert engine.answer("what are some exercises to strengthen my lower back?").kind != "answer"
    assert engine.answer("how much does a remedial massage for back pain cost").kind != "answer"


def test_a_sure_model_needs_no_named_topic(engine: Engine) -> None:
    """A question naming neither massage nor the back ("do they ask u stuff b4 they begin"),
    answered when the model is sure of its entry (`model_topic_free`); below that, it isn't."""
    question = "do they ask u stuff b4 they begin"
    assert engine.answer(question).entry_id == "assessment"
    strict = engine.with_config(replace(engine.config, model_topic_free=1.01))
    assert strict.answer(question).kind == "fallback"
    assert engine.answer("will the tattoo hurt").kind != "answer"
