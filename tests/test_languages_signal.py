"""The learned crisis signal for the other languages: one model for every language of
knowledge/languages/, trained on the examples of crisis-examples.yaml that carry a `lang`, a
net under those languages' crisis word rules."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.answering.engine import Engine
from bot.answering.knowledge import Knowledge, check_knowledge, read_training_pairs
from bot.answering.safety import SafetyGate
from bot.answering.signal import PREFIX, CrisisModel, features, folded_prefix, train
from tests.conftest import KNOWLEDGE_DIR, edit, with_signal
from tests.test_cli import run_cli

# A Spanish crisis said in words no Spanish crisis rule covers: only the model catches it.
UNLISTED = (
    "ya regalé mi guitarra y mis libros, total no los voy a necesitar, y la espalda sigue igual"
)


def _with(knowledge: Knowledge, **changes: object) -> Knowledge:
    return with_signal(knowledge, "languages_signal", **changes)


@pytest.mark.parametrize(
    ("word", "cut"),
    [
        ("morirme", "morir"),
        ("está", "esta"),
        ("żyć", "zyc"),
        ("найкраще", "найкр"),  # "й" keeps its breve: it is a letter of its own
        ("ёлка", "елка"),
        ("schön", "schon"),
        ("no", "no"),
    ],
)
def test_words_of_other_languages_are_cut_to_their_first_letters(word: str, cut: str) -> None:
    assert folded_prefix(word) == cut


def test_two_forms_of_a_word_share_a_feature() -> None:
    one = features("ya me quiero morir", PREFIX)
    other = features("quería morirme", PREFIX)
    assert "w morir" in one and "w morir" in other  # "morir" and "morirme"
    assert "b quier morir" in one and "b queri morir" in other  # forms apart stay apart


def test_the_english_and_the_languages_signals_learn_from_their_own_examples() -> None:
    data = yaml.safe_load((KNOWLEDGE_DIR / "crisis-examples.yaml").read_text("utf-8"))
    other = {e["text"].strip() for e in data["crisis_examples"] if e.get("lang", "en") != "en"}
    english = read_training_pairs(KNOWLEDGE_DIR, "crisis")
    languages = read_training_pairs(KNOWLEDGE_DIR, "crisis-languages")
    assert not other & {text for text, _ in english}
    assert {text for text, _ in languages} == other
    assert sum(1 for _, crisis in languages if crisis) >= 150  # every language has its crises
    langs = {e["lang"] for e in data["crisis_examples"] if e.get("lang", "en") != "en"}
    assert langs == {p.stem for p in (KNOWLEDGE_DIR / "languages").glob("*.yaml")}


def test_retraining_gives_the_shipped_model() -> None:
    shipped = CrisisModel.load(KNOWLEDGE_DIR / "crisis-languages-model.json")
    assert shipped.stemming == PREFIX
    model = train(read_training_pairs(KNOWLEDGE_DIR, "crisis-languages"), PREFIX)
    assert model.bias == pytest.approx(shipped.bias, abs=1e-5)
    assert model.weights.keys() == shipped.weights.keys()


def test_the_model_catches_what_the_word_rules_miss(knowledge: Knowledge) -> None:
    without = replace(knowledge, safety=replace(knowledge.safety, languages_signal=None))
    assert Engine(without).answer(UNLISTED).kind != "urgent"  # the Spanish words alone miss it
    engine = Engine(knowledge)
    reply = engine.answer(UNLISTED)
    assert (reply.kind, reply.tier, reply.language) == ("urgent", "crisis", "es")
    spanish = knowledge.safety.languages["es"].cards["crisis"]
    assert reply.parts[0].text == spanish.heading  # the card in the message's language
    spoken = knowledge.safety.languages["es"].texts["disclaimer"]
    assert spoken in engine.render_plain(reply)  # the disclaimer in Spanish, then in English
    finding = SafetyGate(knowledge.safety).check(UNLISTED, "es", ("es",))
    assert finding is not None and finding.found[0].flag.id == "crisis-signal"


@pytest.mark.parametrize(
    "text",
    [
        "me muero de dolor de espalda, ¿qué masaje me recomiendas?",
        "ich bin total fertig, der Rücken bringt mich um",
        "я умираю от боли в спине, какой массаж поможет?",
        "mam dość tego bólu pleców, jaki masaż polecacie?",
        "tô morta de cansaço, minhas costas estão me matando",
    ],
)
def test_idioms_of_pain_get_no_crisis_card(engine: Engine, text: str) -> None:
    assert engine.answer(text).tier != "crisis"


def test_it_reads_only_other_languages_and_never_replaces_an_emergency(
    knowledge: Knowledge,
) -> None:
    gate = SafetyGate(_with(knowledge, card_at=-100.0).safety)  # it would call anything a crisis
    assert gate.check("does massage help a stiff lower back") is None
    emergency = gate.check(
        "no siento nada en la zona genital y no puedo orinar, me duele la espalda", "es", ("es",)
    )
    assert emergency is not None and emergency.tier == "emergency"
    assert all(f.flag.id != "crisis-signal" for f in emergency.found)
    ordinary = gate.check("¿el masaje ayuda con el dolor de espalda?", "es", ("es",))
    assert ordinary is not None and ordinary.tier == "crisis"  # read, at this threshold


@pytest.mark.parametrize("name", ["crisis-languages-model.json", "emergency-languages-model.json"])
def test_check_and_train_look_after_the_models(knowledge_copy: Path, name: str) -> None:
    (knowledge_copy / name).unlink()
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any(f"{name} unusable" in str(p) for p in problems)
    code, out, _ = run_cli("--knowledge", str(knowledge_copy), "train")
    assert code == 0 and "crisis-languages" in out and "emergency-languages" in out
    assert check_knowledge(knowledge_copy)[0] is not None


def test_check_warns_when_only_the_languages_examples_changed(knowledge_copy: Path) -> None:
    path = knowledge_copy / "crisis-examples.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["crisis_examples"].append({"text": "una frase nueva", "expect": "none", "lang": "es"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    stale = [str(p) for p in check_knowledge(knowledge_copy)[1] if "run_bot.py train" in str(p)]
    assert len(stale) == 2  # the two languages' signals, not the English ones
    assert all("languages-model.json" in p for p in stale)


def test_a_bad_language_code_is_refused(knowledge_copy: Path) -> None:
    path = knowledge_copy / "crisis-examples.yaml"
    with path.open("a", encoding="utf-8") as fh:
        fh.write('  - {text: "hola", expect: none, lang: Spanish}\n')
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None and any("Spanish" in str(p) for p in problems)


def test_its_model_needs_a_file_of_its_own(knowledge_copy: Path) -> None:
    edit(
        knowledge_copy / "safety.yaml",
        "  model: crisis-languages-model.json\n",
        "  model: emergency-model.json\n",
    )
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("another signal's file" in p.message for p in problems)
    code, _, err = run_cli("--knowledge", str(knowledge_copy), "train")
    assert code == 1 and "a model file of its own" in err


# A German emergency (nothing comes out on the toilet) in words no German rule covers.
UNLISTED_EMERGENCY = (
    "seit heute früh kommt beim Klo gar nichts mehr raus, obwohl ich muss, und das Kreuz tut weh"
)


def test_the_emergency_model_catches_what_the_word_rules_miss(knowledge: Knowledge) -> None:
    without = replace(knowledge, safety=replace(knowledge.safety, languages_emergency=None))
    assert Engine(without).answer(UNLISTED_EMERGENCY).kind != "urgent"
    engine = Engine(knowledge)
    reply = engine.answer(UNLISTED_EMERGENCY)
    assert (reply.kind, reply.tier, reply.language) == ("urgent", "emergency", "de")
    german = knowledge.safety.languages["de"]
    assert reply.parts[0].text == german.cards["emergency"].heading
    text = engine.render_plain(reply)
    assert german.noticed["emergency-signal"] in text  # what was noticed, in German
    assert "kommt beim Klo gar nichts mehr raus" in text  # in the user's own words


def test_a_crisis_comes_before_an_emergency_of_the_languages_signals(knowledge: Knowledge) -> None:
    safety = knowledge.safety
    assert safety.languages_signal is not None and safety.languages_emergency is not None
    eager = replace(
        safety,
        languages_signal=replace(safety.languages_signal, card_at=-100.0),
        languages_emergency=replace(safety.languages_emergency, card_at=-100.0),
    )
    finding = SafetyGate(eager).check(UNLISTED_EMERGENCY, "de", ("de",))
    assert finding is not None and finding.tier == "crisis"  # both would fire: the crisis card
    calm = replace(eager, languages_signal=replace(safety.languages_signal, card_at=100.0))
    finding = SafetyGate(calm).check(UNLISTED_EMERGENCY, "de", ("de",))
    assert finding is not None and finding.tier == "emergency"


def test_a_sure_other_language_is_answered_in_it_though_its_words_look_english(
    engine: Engine,
) -> None:
    # "el", "con", "dolor" and "de" are in the English word list: 71 % "English", but the
    # detector is 99.8 % sure of Spanish, so the reply (and the languages' signals) are Spanish.
    reply = engine.answer("¿el masaje ayuda con el dolor de espalda?")
    assert (reply.kind, reply.language, reply.reason) == ("fallback", "es", "language")
    for text in ("what are the actual benefits", "does massage help a bad back"):
        assert engine.answer(text).language == "en"


@pytest.mark.parametrize(
    "text",
    [
        "feverish and sweating buckets at night, back agony since saturday",  # was emergency
        "tengo fiebre alta y tiritona desde anoche y me duele la espalda",
    ],
)
def test_a_fever_is_the_same_day_card_not_the_signals_emergency(engine: Engine, text: str) -> None:
    assert engine.answer(text).tier == "same-day"


def test_each_sentence_counts_for_the_crisis_signal(engine: Engine) -> None:
    # A reviewer's probe: retention, then a burden; scored whole, neither reached a card.
    reply = engine.answer(
        "od rana nic nie leci w toalecie, choć muszę. Nie chcę już nikomu być ciężarem."
    )
    assert (reply.kind, reply.language) == ("urgent", "pl") and reply.tier in (
        "crisis",
        "emergency",
    )


def test_a_short_message_likely_in_another_language_is_read_by_its_signals(engine: Engine) -> None:
    # Too short to be answered in Spanish, but likely Spanish: the languages' signals read it.
    reply = engine.answer("ya me despedí de todos")
    assert (reply.kind, reply.tier, reply.language) == ("urgent", "crisis", "es")


@pytest.mark.parametrize(
    ("name", "setting", "instead", "message"),
    [
        (
            "crisis-languages-model.json",
            '"stemming": "prefix",',
            "",
            "its words are english, not prefix",
        ),
        # The English crisis model pairs words two apart; one without them is another model,
        # and so is an emergency model with them.
        ("crisis-model.json", '"skips": true,', "", '"skips" (words two apart) is false in it'),
        (
            "emergency-model.json",
            '"bias":',
            '"skips": true,\n"bias":',
            '"skips" (words two apart) is true in it, not false',
        ),
    ],
)
def test_a_model_of_the_wrong_kind_is_refused(
    knowledge_copy: Path, name: str, setting: str, instead: str, message: str
) -> None:
    path = knowledge_copy / name
    text = path.read_text("utf-8")
    assert setting in text
    path.write_text(text.replace(setting, instead, 1), "utf-8")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any(message in str(p) for p in problems)


def test_the_languages_emergency_signal_needs_the_emergency_signal(knowledge_copy: Path) -> None:
    (knowledge_copy / "emergency-model.json").unlink()
    problems = [str(p) for p in check_knowledge(knowledge_copy)[1]]
    assert any("needs an emergency_signal that loads" in p for p in problems)


def test_each_language_says_what_the_emergency_signal_noticed(knowledge_copy: Path) -> None:
    path = knowledge_copy / "languages" / "de.yaml"
    text = path.read_text("utf-8")
    start = text.index("  emergency-signal:")
    path.write_text(text[:start] + text[text.index("\n", start) + 1 :], "utf-8")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("'de' lacks noticed: emergency-signal" in str(p) for p in problems)


def test_an_example_in_a_language_without_a_file_is_refused(knowledge_copy: Path) -> None:
    with (knowledge_copy / "crisis-examples.yaml").open("a", encoding="utf-8") as fh:
        fh.write('  - {text: "ik wil niet meer", expect: crisis, lang: nl}\n')
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("lang 'nl' has no file in languages/" in str(p) for p in problems)
