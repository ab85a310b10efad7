"""What a question is about, decided before any entry may answer (knowledge/subjects.yaml).

* another part of the body, and not the back: only entries about the whole body may answer;
* "what is causing my pain?": an honest "I can't tell", unless it asks about massage itself;
* a topic the article does not cover (prices, other treatments, ...): said so honestly;
* a short follow-up ("and how often?"): may be read against the entry just answered;
* a few phrases make one entry the answer outright ("slipped disc": the signposting entry,
  never a massage answer).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.answering.knowledge import Knowledge
from bot.answering.lexicon import Lexicon, Tokens
from bot.answering.phrases import Message, PhraseSet
from bot.answering.text import Prepared, sentence_starts

PAIN_NEAR_REGION = 3  # words between a part of the body and a pain word ("my knee has been sore")
ABOUT_THE_MASSAGE = frozenset({"it", "this", "that"})  # "will it hurt": the massage, not the knee
NEGATIONS = frozenset({"no", "not", "never", "without", "ruled", "nothing"})


@dataclass(frozen=True)
class Subject:
    back: bool  # names the back (or sciatica, a disc, posture...)
    other_region: str | None  # the first other body part named
    cause: bool  # asks what causes the pain, and not about massage
    not_covered: str | None  # a topic the article does not cover
    follow_up: bool  # opens like a follow-up ("and ...", "what about ...")
    in_context: bool  # not a general health question ("how do you relieve X?") without massage
    massage: bool  # names massage (a `context` word)
    region_hurts: bool  # a pain word next to the other part of the body ("my knee hurts")
    first: str | None  # an entry that answers outright (`answers_first`: "slipped disc")
    ruled_out: frozenset[str]  # such entries whose words are negated ("no sciatica")
    tokens: Tokens  # the corrected words, for the per-entry checks

    @property
    def elsewhere(self) -> bool:
        """About another part of the body only."""
        return self.other_region is not None and not self.back


class SubjectCheck:
    def __init__(self, knowledge: Knowledge) -> None:
        s = knowledge.subjects
        self._any_region = {
            entry_id: Lexicon({"needed": needed}, gap=0) if needed else None
            for entry_id, needed in s.any_region.items()
        }
        self._needs_words = {
            entry_id: [Lexicon({"needed": group}, gap=0) for group in groups]
            for entry_id, groups in s.needs_words.items()
        }
        self._lexicon = Lexicon(
            {
                "back": s.back,
                "other": s.other,
                "unless": s.cause_unless,
                "follow": s.follow_up,
                "context": s.context,
            },
            gap=0,
        )
        hurt = knowledge.synonyms.get("pain", ()) + knowledge.synonyms.get("hurt", ())
        self._pain = Lexicon({"pain": ("pain*", "hurt*", "sore*", "ache*", *hurt)}, gap=0)
        # Gap 1: "what is (are) back pain"
        self._cause = Lexicon({"cause": s.cause, "advice": s.general_advice}, gap=1)
        self.needs_context = s.needs_context
        self._with_massage = frozenset(s.any_region_with_massage)
        self._first = Lexicon(dict(s.answers_first), gap=0)
        self._first_order = list(s.answers_first)
        self._back_first = Lexicon(dict(s.answers_first_for_the_back), gap=0)
        self._back_first_order = list(s.answers_first_for_the_back)
        self._back_first_unless = Lexicon(
            {"unless": s.answers_first_for_the_back_unless}, gap=0
        )
        # The cautions named first and the signposts answered first yield nothing to it.
        self._yields_to = (*s.named_first, *s.answers_first)
        self._filler = knowledge.fillers["phrases"]
        self._not_covered = PhraseSet(
            ((t.topic, t.phrases) for t in knowledge.not_covered), self._filler
        )

    def whole_body(self, entry_id: str, subject: Subject) -> bool:
        """Whether an entry may answer a question about another part of the body."""
        if entry_id not in self._any_region:
            return False
        needed = self._any_region[entry_id]
        if needed is None:  # about massage itself: the question must be too ("neck massage?"),
            # and not about the pain there ("my knee hurts, would massage help?")
            return subject.massage and not subject.region_hurts
        # Some must also be asked about massage: "I sprained my ankle, need a second opinion"
        # is about the ankle, not about what massage treats.
        if entry_id in self._with_massage and not subject.massage:
            return False
        return bool(needed.find(subject.tokens, correct=False))

    def names_its_subject(self, entry_id: str, subject: Subject) -> bool:
        """Whether the question uses one word of each group an entry needs (needs_words)."""
        return self._uses_needed(entry_id, subject.tokens)

    def names_subject_in(self, entry_id: str, prepared: Prepared) -> bool:
        """Whether a prepared text (an entry's own phrasing) names the subject of an entry
        that has needs_words."""
        return entry_id in self._needs_words and self._uses_needed(
            entry_id, _corrected_tokens(prepared)
        )

    def _uses_needed(self, entry_id: str, tokens: Tokens) -> bool:
        groups = self._needs_words.get(entry_id, ())
        return all(group.find(tokens, correct=False) for group in groups)

    def check(self, prepared: Prepared) -> Subject:
        tokens = _corrected_tokens(prepared)
        found: dict[str, list[int]] = {}
        occurrences = self._lexicon.find(tokens, correct=False)  # corrected already
        for occ in occurrences:
            found.setdefault(occ.name, []).append(occ.start)
        other = None
        regions = [o for o in occurrences if o.name == "other"]
        if regions:
            first = min(regions, key=lambda o: o.start)
            other = tokens.quote(first.start, first.end)  # "tennis elbow", not "tennis"
        # A pain word about the massage ("will it hurt", "does the massage hurt") is not pain
        # in that part of the body.
        massage_at = set(found.get("context", ()))
        pains = [
            o.start
            for o in (self._pain.find(tokens, correct=False) if regions else ())
            if not (massage_at & {o.start - 1, o.start - 2, o.start - 3})
            and tokens.words[max(0, o.start - 1)] not in ABOUT_THE_MASSAGE
        ]
        region_hurts = any(
            -PAIN_NEAR_REGION <= at - r.start <= PAIN_NEAR_REGION + r.end - r.start
            for r in regions
            for at in pains
        )
        for occ in self._cause.find(tokens, correct=False):
            found.setdefault(occ.name, []).append(occ.start)
        said = Message.of_words(prepared.corrected, self._filler, sentence_starts(prepared))
        topic = self._not_covered.find(said)
        # "no sciatica, just a stiff back" or "the physio ruled out a trapped nerve": the
        # signpost is ruled out, not the answer.
        named: set[str] = set()
        ruled_out: set[str] = set()
        for occ in self._first.find(tokens, correct=False):
            negated = NEGATIONS & set(tokens.words[max(0, occ.start - 3) : occ.start])
            (ruled_out if negated else named).add(occ.name)
        answers = next((e for e in self._first_order if e in named), None)
        if (
            answers is None
            and "back" in found
            and not ("context" in found or other or topic)
            and not self._back_first_unless.find(tokens, correct=False)
            and not any(
                e in self._needs_words and self._uses_needed(e, tokens) for e in self._yields_to
            )
        ):
            # "Lower back pain - what should I do?" asks what to do, not whether massage helps;
            # a topic the article does not cover ("spondylitis: how to cure it") stays so, and
            # a caution's or the disc signpost's subject ("on blood thinners", "a DVT", "pins
            # and needles down my leg") or the article's own cause ("from stress") comes first.
            asked = {occ.name for occ in self._back_first.find(tokens, correct=False)}
            answers = next((e for e in self._back_first_order if e in asked), None)
        return Subject(
            back="back" in found,
            other_region=other,
            cause="cause" in found and "unless" not in found,
            not_covered=topic[0] if topic else None,
            follow_up=0 in found.get("follow", ()),
            in_context="context" in found or "advice" not in found,
            massage="context" in found,
            region_hurts=region_hurts,
            first=answers,
            ruled_out=frozenset(ruled_out - named),
            tokens=tokens,
        )


def _corrected_tokens(prepared: Prepared) -> Tokens:
    """The corrected words, so "sesions" is "sessions" and "masage" is "massage"."""
    return Tokens.of(" ".join(prepared.corrected))
