"""The engine end to end: kinds, smalltalk, odd input, and a property test over any text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answering.engine import Engine
from bot.answering.matching import Scored
from bot.telegram.handlers import keyboard
from tests.replycheck import check


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hi", "smalltalk"),
        ("Thanks!", "smalltalk"),
        ("who are you?", "smalltalk"),
        ("", "fallback"),
        ("   ", "fallback"),
        ("🙂🙂", "fallback"),
        ("?", "fallback"),
    ],
)
def test_kinds(engine: Engine, text: str, kind: str) -> None:
    assert engine.answer(text).kind == kind


def test_greeting_with_a_question_is_a_question(engine: Engine) -> None:
    reply = engine.answer("hi there, do they use oil during the massage?")
    assert (reply.kind, reply.entry_id) == ("answer", "massage-oil")


def test_clarify_offers_buttons(engine: Engine) -> None:
    # "session" alone fits several entries: the engine asks which one, with a button for each.
    reply = engine.answer("session")
    assert (reply.kind, reply.entry_id) == ("clarify", None)
    ids = [t.id for t in reply.suggestions]
    assert 2 <= len(ids) <= 3 and len(set(ids)) == len(ids)
    assert all(i in engine.knowledge.by_id for i in ids)
    choices = [p.text for p in reply.parts if p.style == "choice"]
    assert choices == [t.title for t in reply.suggestions]
    markup = keyboard(reply, clarify_id=7)
    assert markup is not None
    buttons = [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]
    assert buttons == [(t.title, f"c:7:{t.id}") for t in reply.suggestions]


def test_answer_carries_related_topics(engine: Engine) -> None:
    reply = engine.answer("do they use oil")
    assert [t.id for t in reply.related] == ["techniques", "pressure-intensity"]


def test_entry_reply_for_unknown_id_is_none(engine: Engine) -> None:
    assert engine.entry_reply("no-such-entry") is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_any_text_gets_a_reply_with_the_disclaimer(engine: Engine, text: str) -> None:
    check(engine, text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=60).map(lambda s: (s * (10_000 // len(s) + 1))[:10_000]))
def test_huge_messages(engine: Engine, text: str) -> None:
    check(engine, text)


@pytest.mark.parametrize(
    "text",
    [
        "\u202eevil rtl\u202c oil?",
        "o\u200bil\u200d?",
        "\x00\x01\x1b[31mred",
        "<b>oil</b> & <i>",
        "massage " * 2000,
        "🏋️‍♀️ athletes?",
    ],
)
def test_strange_input(engine: Engine, text: str) -> None:
    check(engine, text)


def test_inline_candidates_pass_the_same_gates_as_chat(engine: Engine) -> None:
    crisis = engine.candidates("whats the point of going on, i just want it all to stop")
    assert [(r.kind, r.tier) for r in crisis] == [("urgent", "crisis")]
    disc = engine.candidates("can massage cure my herniated disc")
    assert [r.entry_id for r in disc] == ["sciatica-disc"]
    price = engine.candidates("how much does a session cost")
    assert [(r.kind, r.reason) for r in price] == [("fallback", "not-covered")]
    spanish = engine.candidates("me duele mucho la espalda, que hago")
    assert [(r.kind, r.reason, r.language) for r in spanish] == [("fallback", "language", "es")]


def test_inline_lists_only_entries_chat_would_offer(engine: Engine) -> None:
    for text in ("will it hurt", "do they use oil", "massage", "is it good for my back"):
        chat = engine.answer(text)
        listed = engine.candidates(text)
        assert listed and len(listed) <= 5
        if chat.kind == "answer":
            assert listed[0].entry_id == chat.entry_id
        for reply in listed:
            assert reply.kind == "answer"
            assert engine.render_plain(reply).endswith(engine.disclaimer)


@pytest.mark.parametrize(
    "text", ["cheers, bye", "thanks mate, bye", "who am i talking to, is this a real person?"]
)
def test_smalltalk_strung_together_is_smalltalk(engine: Engine, text: str) -> None:
    assert engine.answer(text).kind == "smalltalk"


@pytest.mark.parametrize("text", ["thanks, and does it hurt?", "hi, can massage help my back"])
def test_smalltalk_with_a_question_in_it_is_a_question(engine: Engine, text: str) -> None:
    assert engine.answer(text).kind == "answer"


@pytest.mark.parametrize(
    "text",
    [
        "would a deep tissue massage fix my bulging disc",
        "is a firm massage ok with sciatica",
        "trapped nerve in my lower back, when can i get a massage",
        "my chiropractor wants to massage my slipped disc, is that ok",  # not "not covered"
    ],
)
def test_a_disc_or_sciatica_gets_the_signpost_never_a_massage_answer(
    engine: Engine, text: str
) -> None:
    reply = engine.answer(text)
    assert (reply.kind, reply.entry_id) == ("answer", "sciatica-disc")


@pytest.mark.parametrize(
    "text",
    [
        "i play rugby on saturdays, do sports people use remedial massage",  # not "sports massage"
        "marathon training is wrecking my lower back, do runners get massages",  # not a career
    ],
)
def test_words_of_a_not_covered_phrase_far_apart_are_not_that_topic(
    engine: Engine, text: str
) -> None:
    reply = engine.answer(text)
    assert reply.reason != "not-covered", engine.render_plain(reply)


@pytest.mark.parametrize(
    "text", ["is my back pain because of my weight?", "what is it that makes backs go stiff"]
)
def test_why_questions_get_the_honest_cause_reply(engine: Engine, text: str) -> None:
    assert engine.answer(text).reason == "cause"


@pytest.mark.parametrize(
    "text",
    [
        "no sciatica, just a stiff lower back, will massage help",
        "my physio ruled out a trapped nerve, can i get a massage for my back",
    ],
)
def test_a_ruled_out_disc_or_sciatica_does_not_get_the_signpost(engine: Engine, text: str) -> None:
    assert engine.answer(text).entry_id != "sciatica-disc"


@pytest.mark.parametrize(
    "text", ["will a neck massage hurt?", "massage for my knee, will it hurt?"]
)
def test_will_the_massage_hurt_is_not_pain_in_that_part_of_the_body(
    engine: Engine, text: str
) -> None:
    subject = engine.subject(text)
    assert subject.other_region is not None and subject.massage
    assert not subject.region_hurts  # so a whole-body entry may answer, if it leads
    assert engine.subject("my knee hurts, would a massage help?").region_hurts


def test_warning_signs_need_no_back_word_in_a_back_pain_bot(engine: Engine) -> None:
    for text in ("what are the warning signs", "what signs mean its serious"):
        reply = engine.answer(text)
        assert (reply.kind, reply.entry_id) == ("answer", "when-to-see-doctor"), text


def test_arms_and_legs_stretched_in_a_massage_are_joint_stretching(engine: Engine) -> None:
    reply = engine.answer("does the therapist stretch your arms and legs during the massage")
    assert (reply.kind, reply.entry_id) == ("answer", "joint-stretching")
    # Stretching a part of the body yourself is not what the article's stretching is.
    assert engine.answer("what's a good stretch for tight hamstrings").kind != "answer"



@pytest.mark.parametrize(
    "text", ["thank u so much that helped", "Good morning! How are you today?", "ok thanks"]
)
def test_smalltalk_with_filler_words_in_its_phrases(engine: Engine, text: str) -> None:
    # "so" and "today" are filler words: dropped from what was said and from the phrases alike.
    assert engine.answer(text).kind == "smalltalk"


def test_a_lone_weak_candidate_falls_back_instead_of_being_answered(engine: Engine) -> None:
    lone = engine.config.lone_answer_score
    assert lone > engine.config.clarify_score
    assert engine.decide([Scored("techniques", lone - 1)]) == "fallback"
    assert engine.decide([Scored("techniques", lone)]) == "answer"
    # Two close candidates are still offered as a choice.
    two = [Scored("techniques", lone - 1), Scored("pressure-intensity", lone - 2)]
    assert engine.decide(two) == "clarify"


@pytest.mark.parametrize(
    ("text", "fresh_injury"),
    [
        ("tweaked my back this morning, is a massage today a good idea", True),
        ("my back is killing me, would a massage help at all", False),
        ("how do i deal with a pulled muscle", False),  # no back word
    ],
)
def test_the_new_injury_signpost_needs_the_back_and_a_new_injury(
    engine: Engine, text: str, fresh_injury: bool
) -> None:
    assert (engine.answer(text).entry_id == "just-hurt-back") is fresh_injury


@pytest.mark.parametrize(
    ("text", "self_care"),
    [
        ("lower back pain - what should I do?", True),
        ("how can I ease my back ache at home", True),
        ("I hurt my lower back and now I'm walking bent over", True),  # a new injury, told
        ("my back hurts, what should I do before my first massage?", False),  # about massage
        ("my neck and back are stiff, what can I do", False),  # another part of the body too
        ("bad posture back pain what helps", False),  # the article's massage and exercise
        ("I have scoliosis in my lower back, how do I treat it", False),  # not covered
        # A caution's or the disc signpost's subject comes first (a reviewer's probes).
        ("back pain with a dvt in my leg, what should i do", False),
        ("I'm on blood thinners and my back aches, any tips", False),
        ("pins and needles down my leg from my lower back, what should i do", False),
        ("my upper back is tight from stress, how can i ease it", False),
    ],
)
def test_what_to_do_about_back_pain_gets_the_self_care_signpost(
    engine: Engine, text: str, self_care: bool
) -> None:
    reply = engine.answer(text)
    assert (reply.entry_id == "just-hurt-back") is self_care, engine.render_plain(reply)


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("sprained my ankle badly, need a second opinion?", None),  # about the ankle
        ("would remedial massage help a sprained ankle heal", "injuries-treated"),
        # A caution elsewhere in the body is answered without the word "massage".
        ("a DVT in my calf, is it ok for someone to work on my legs?", "caution-blood-clots"),
    ],
)
def test_an_injury_elsewhere_in_the_body_is_answered_only_about_massage(
    engine: Engine, text: str, entry_id: str | None
) -> None:
    assert engine.answer(text).entry_id == entry_id


def test_the_shoulder_blades_are_the_back(engine: Engine) -> None:
    subject = engine.subject("knot under my shoulder blade")
    assert subject.back and not subject.elsewhere
    assert engine.subject("my shoulder hurts").elsewhere


def test_soreness_after_a_massage_is_about_pressure(engine: Engine) -> None:
    reply = engine.answer("my back hurts more after the massage than before")
    assert (reply.kind, reply.entry_id) == ("answer", "pressure-intensity")


def test_what_a_condition_feels_like_is_not_covered(engine: Engine) -> None:
    assert engine.answer("what does RSI pain feel like").reason == "not-covered"
    # What the massage feels like is still a question for the article.
    assert engine.answer("what does the pressure feel like in a massage").kind != "fallback"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Many thanks for your patience with an old man.", "smalltalk"),
        ("bye, going to bed now", "smalltalk"),
        ("thanks, does it hurt?", "answer"),  # a question after the thanks is answered
        ("thanks, my back still hurts after the massage", "answer"),  # it names the back
        ("thanks, what should I wear", "fallback"),  # a question, even without "?"
        ("cool so how much does it cost", "fallback"),  # "cool" is not a closing
    ],
)
def test_thanks_or_goodbye_followed_by_chatter(engine: Engine, text: str, kind: str) -> None:
    assert engine.answer(text).kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "thanks, I'm feeling really low and hopeless lately",
        "great. feeling worthless again today",
        "good night. I feel so empty and alone",
    ],
)
def test_thanks_or_goodbye_with_low_mood_keeps_the_helplines(engine: Engine, text: str) -> None:
    reply = engine.answer(text)
    assert reply.kind != "smalltalk"
    assert "116 123" in engine.render_plain(reply)


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("my doctor says I have osteoporosis, is a deep back massage ok?", "caution-osteoporosis"),
        ("I'm on warfarin, how firm will the therapist go on my back?", "caution-blood-thinners"),
    ],
)
def test_a_named_caution_answers_before_the_general_entry(
    engine: Engine, text: str, entry: str
) -> None:
    assert engine.answer(text).entry_id == entry


def test_a_caution_named_nowhere_does_not_answer_first(engine: Engine) -> None:
    reply = engine.answer("how firm will the therapist go on my back?")
    assert not (reply.entry_id or "").startswith("caution-")


def test_set_s2_kinds_of_question(engine: Engine) -> None:
    """Kinds of question set S2's first run missed (tests/data/BLIND.md), written afresh."""
    assert engine.answer("hiiii").kind == "smalltalk"
    reply = engine.answer("when does back ache need a physician to look at it")
    assert reply.entry_id == "when-to-see-doctor"
    assert engine.answer("does sitting on the sofa all day give you a bad back").reason == "cause"
    reply = engine.answer("is it ok to take ibuprofen and paracetamol for back pain")
    assert reply.reason == "not-covered"
    reply = engine.answer("will they figure out why it hurts before they begin")
    assert reply.entry_id == "assessment"


def test_reviewer_probes_of_the_set_s_phrases(engine: Engine) -> None:
    assert engine.answer("is it normal to ache round here after a massage").kind == "answer"
    assert engine.answer("should i take ibuprofen before my massage").reason != "not-covered"
