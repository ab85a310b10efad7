"""The answering engine: text in, `Reply` out. Pure: no Telegram, no network, no globals.

Order matters, and is the order of `Engine.answer`:
1. language and safety: red flags first, on the new message alone; a card replaces any answer.
   A message in another language gets its card, or a short "I answer in English" reply.
2. prepare: the one normaliser (bot/answering/text.py) prepares the message once.
3. smalltalk: greetings, thanks, "who are you".
4. subject (bot/answering/subjects.py): not covered, "what causes it", another part of the body.
5. follow-up: a short message may be read against the entry just answered (`previous`).
6. matching: answer, clarify (two or three choices that fit the subject) or fallback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rapidfuzz import fuzz

from bot.answering.entrymodel import NONE, EntryModel, load_current, model_text
from bot.answering.kinds import AdviceCard, Decision, FallbackReason, PartStyle
from bot.answering.knowledge import Entry, Knowledge
from bot.answering.language import detect_all
from bot.answering.matching import MatchConfig, Matcher, Scored
from bot.answering.replies import Outgoing, Part, Renderer, Reply, Topic
from bot.answering.safety import (
    SIGNAL_CHECK_IN,
    Found,
    SafetyFinding,
    SafetyGate,
    about_someone_else,
)
from bot.answering.semantic import EMBEDDER, Semantic
from bot.answering.subjects import Subject, SubjectCheck
from bot.answering.text import Prepared, words

MAX_INPUT_CHARS = 10_000  # longer messages are read up to here (Telegram caps text at 4096)
SMALLTALK_MAX_WORDS = 8
SMALLTALK_SCORE = 85.0
SMALLTALK_TOPICAL_SCORE = 95.0
CLOSING_INTENTS = frozenset({"thanks", "bye"})  # smalltalk that may be followed by chatter
# The words that make a thanks or a goodbye a closing ("great, feeling worthless" is not one).
CLOSING_WORDS = frozenset({"thanks", "thank", "thx", "ty", "cheers", "bye", "goodbye", "cya"})
QUESTION_WORDS = frozenset(
    "what how when where why which who whose can could should would will do does did is are".split()
)


class Smalltalk:
    """Recognises short social messages; anything with a question in it goes to matching."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._filler = knowledge.fillers["smalltalk"]
        # Phrases lose the filler words too, as what was said does ("thank you so much").
        self._intents = [
            (intent, [self._without_fillers(p) for p in intent.phrases])
            for intent in knowledge.smalltalk
        ]

    def _without_fillers(self, phrase: str) -> str:
        return " ".join(w for w in words(phrase) if w not in self._filler)

    def reply_for(
        self, said_words: tuple[str, ...], text: str = "", topical: bool = True
    ) -> str | None:
        """The smalltalk reply, if the message is smalltalk. `topical`: it names the back,
        massage or a part of the body (then thanks followed by more is not just thanks)."""
        said = [w for w in said_words if w not in self._filler]
        if not said or len(said) > 2 * SMALLTALK_MAX_WORDS:
            return None
        closing = self._closing(said) if "?" not in text and not topical else None
        if closing is not None:  # "many thanks for your patience with an old man."
            return closing
        if len(said) > SMALLTALK_MAX_WORDS:
            return self._covered(said)
        cleaned = " ".join(said)
        # A message that names massage, oil or the back must be nearer a phrase to be only
        # smalltalk ("whats the oil for" is not "what is this bot for").
        best, best_score = None, SMALLTALK_TOPICAL_SCORE if topical else SMALLTALK_SCORE
        for intent, phrases in self._intents:
            for phrase in phrases:
                score = fuzz.ratio(cleaned, phrase)
                if score >= best_score:
                    best, best_score = intent.reply, score
        return best or self._covered(said)

    def _closing(self, said: list[str]) -> str | None:
        """A message that opens with a thanks or a goodbye ("thanks", "cheers", "bye", not
        "great" or "cool"), asks nothing (no question mark, no question word) and names nothing
        the bot knows about is that thanks or goodbye, whatever follows it."""
        for intent, phrases in self._intents:
            if intent.id not in CLOSING_INTENTS:
                continue
            for phrase in phrases:
                size = phrase.count(" ") + 1
                if not CLOSING_WORDS & set(phrase.split()) or " ".join(said[:size]) != phrase:
                    continue
                if QUESTION_WORDS & set(said[size:]):
                    return None  # "thanks, what should I wear"
                return intent.reply
        return None

    def _covered(self, said: list[str]) -> str | None:
        """"cheers, bye": a message made wholly of smalltalk phrases, one after another, gets
        the reply to the last of them; any other word in it makes it not smalltalk."""
        # reach[i]: the reply of the last phrase in a cover of said[:i], when one exists
        reach: list[str | None] = [None] * (len(said) + 1)
        covered = [False] * (len(said) + 1)
        covered[0] = True
        for i in range(len(said)):
            if not covered[i]:
                continue
            for intent, phrases in self._intents:
                for phrase in phrases:
                    size = phrase.count(" ") + 1
                    if " ".join(said[i : i + size]) == phrase:
                        covered[i + size] = True
                        reach[i + size] = intent.reply
        return reach[len(said)] if covered[len(said)] else None


class Engine:
    """Answers questions from one loaded knowledge base.

    Callers (channels, maintainer tools) use its public methods only: `answer`, `candidates`,
    `entry_reply`, `topics`, the renderings, the bot's texts and entries, and the matcher's
    view of a text (`normalise`, `rank`, `decide`). The matcher and renderer are its own.
    """

    def __init__(self, knowledge: Knowledge, config: MatchConfig | None = None) -> None:
        self.knowledge = knowledge  # the loaded knowledge base, never changed
        self.safety = SafetyGate(knowledge.safety)
        self._languages = frozenset(knowledge.safety.languages)  # English too: see SafetyGate
        self.smalltalk = Smalltalk(knowledge)
        subject_words = {
            w
            for group in (
                knowledge.subjects.back,
                knowledge.subjects.other,
                *(t.phrases for t in knowledge.not_covered),
            )
            for phrase in group
            for w in words(phrase)
        }
        self._matcher = Matcher(
            knowledge.entries, knowledge.synonyms, knowledge.stop_words, subject_words, config
        )
        self.config = self._matcher.config
        self.subjects = SubjectCheck(knowledge)
        # caution id -> entries whose own phrasings name that caution's subject ("what do they
        # rub into the skin" is the oil entry's): a question such an entry answers best keeps it.
        prepared = {
            e.id: [self._matcher.normaliser.prepare(t) for t in (e.title, *e.phrasings)]
            for e in knowledge.entries
        } if knowledge.subjects.named_first else {}
        self._named_by = {
            caution: frozenset(
                entry_id
                for entry_id, texts in prepared.items()
                if entry_id != caution
                and any(self.subjects.names_subject_in(caution, p) for p in texts)
            )
            for caution in knowledge.subjects.named_first
        }
        self._renderer = Renderer(knowledge)
        self.semantic = Semantic.load(knowledge.entries) if self.config.semantic else None
        self.entry_model = (
            _entry_model(knowledge)
            if self.semantic is not None and self.config.entry_model
            else None
        )

    def with_config(self, config: MatchConfig) -> Engine:
        """A new engine on the same knowledge base with other matching settings."""
        return Engine(self.knowledge, config)

    # --- the knowledge base, as callers need it -------------------------------------------

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self.knowledge.entries

    def entry(self, entry_id: str) -> Entry | None:
        """The entry with this id; None if there is none (an old button, a reload)."""
        return self.knowledge.by_id.get(entry_id)

    def text(self, key: str, **values: str) -> str:
        """One of the bot's texts (knowledge/texts.yaml), with its values filled in."""
        return self.knowledge.text(key, **values)

    def topics(self) -> list[Topic]:
        return [Topic(e.id, e.title) for e in self.knowledge.entries]

    # --- rendering: every channel goes through the one renderer ----------------------------

    @property
    def disclaimer(self) -> str:
        return self._renderer.disclaimer

    def render_plain(self, message: Outgoing, before_disclaimer: Sequence[str] = ()) -> str:
        """A reply or notice as plain text (console, CLI, JSON), the disclaimer last;
        `before_disclaimer` (the console's numbered topics) goes just before it."""
        return self._renderer.plain(message, before_disclaimer)

    def render_html(self, message: Outgoing) -> list[str]:
        """A reply or notice as Telegram HTML messages, the disclaimer in the last."""
        return self._renderer.html(message)

    # --- the matcher's view, for the maintainer tools ---------------------------------------

    def normalise(self, text: str) -> list[str]:
        """The text's matching tokens: typos corrected, synonyms mapped, stop words dropped."""
        return self._matcher.normalise(text)

    def rank(self, text: str) -> list[Scored]:
        """Entries by lexical score for a text, best first, before any subject or safety check
        (the closest entries, not the reply: `answer` gives that)."""
        return self._matcher.rank(text)

    def subject(self, text: str) -> Subject:
        """What a message is about (subjects.yaml): the back, another part of the body, a
        cause question, a topic not covered..."""
        return self.subjects.check(self._matcher.normaliser.prepare(text))

    def decide(self, ranked: Sequence[Scored]) -> Decision:
        """What a ranking alone would lead to: answer, clarify or fallback."""
        return self._matcher.decide(ranked)

    def rank_held_out(self, entry_index: int, phrasing_index: int) -> list[Scored]:
        """Leave-one-out: rank an entry's phrasing as if the entry did not have it."""
        return self._matcher.rank_held_out(entry_index, phrasing_index)

    # --- answering ---------------------------------------------------------------------------

    def answer(self, text: str, previous: str | None = None) -> Reply:
        """Reply to one message. Never raises for any text.

        `previous` is the entry this chat was last answered with (within the follow-up window),
        so "and is it safe?" can be read against it. Safety never looks at it.
        """
        return self._respond(text, previous)[0]

    def candidates(self, text: str, limit: int = 5) -> list[Reply]:
        """What inline mode may list, through the same gates as a chat reply.

        A card, a not-covered, cause or other-language reply comes alone; otherwise the answer
        (or the clarify choices) and then only entries a chat would also offer as choices.
        An empty query lists the first topics.
        """
        if not text.strip():
            topics = self.topics()[:limit]
            return [self._answer(t.title, self.knowledge.by_id[t.id], 100.0) for t in topics]
        reply, ranked = self._respond(text, None)
        if reply.kind not in ("answer", "clarify"):
            return [reply]
        first = [reply] if reply.kind == "answer" else []
        if reply.kind == "clarify":
            offered = [t.id for t in reply.suggestions]
        else:
            offered = [s.entry_id for s in self._matcher.suggestions(ranked)]
        for entry_id in offered:
            if entry_id != reply.entry_id:
                first.append(self._answer(reply.question, self.knowledge.by_id[entry_id], 0.0))
        return first[:limit]

    def _respond(self, text: str, previous: str | None) -> tuple[Reply, list[Scored]]:
        question = text[:MAX_INPUT_CHARS]
        language, likely = detect_all(question, self._languages)
        # 1. Safety before anything else, on this message alone: a card replaces any answer.
        finding = self.safety.check(question, language, likely)
        if finding is not None and finding.tier is not None:
            return self._urgent(question, finding), []
        if language != "en":
            return self._english_only(question, language), []
        # Words of low mood (not the crisis signal's middling score, which only adds the line)
        # make a message that asks nothing about massage or the back a low-mood fallback.
        low = [
            f
            for f in (finding.advice if finding else ())
            if f.flag.card == "check-in" and f.flag.id != SIGNAL_CHECK_IN
        ]
        advised = finding is not None and bool(finding.advice)
        reply, ranked = self._reply(question, previous, bool(low), advised)
        if low and reply.reason in ("no-match", "low-mood"):
            # The words of low mood are answered by the check-in line; what else the message
            # asks is matched on its own ("feeling low lately, do I need to undress?").
            rest = question
            for found in low:
                rest = re.sub(re.escape(found.quote), " ", rest, count=1, flags=re.IGNORECASE)
            if rest != question:
                retried, again = self._reply(rest, previous, True, True)
                if retried.kind in ("answer", "clarify"):
                    reply, ranked = replace(retried, question=question), again
        if finding is not None and finding.advice and reply.kind != "smalltalk":
            reply = self._with_advice(reply, finding.advice)
        return reply, ranked

    def _reply(
        self, question: str, previous: str | None, low_mood: bool = False, advice: bool = False
    ) -> tuple[Reply, list[Scored]]:
        prepared = self._matcher.normaliser.prepare(question)
        if not prepared.words:
            return Reply("fallback", question, (Part("text", self.knowledge.text("empty")),)), []
        subject = self.subjects.check(prepared)
        # A message with an advice line (low mood, one leg) is never waved off as thanks.
        topical = subject.back or subject.massage or subject.other_region is not None or advice
        social = self.smalltalk.reply_for(prepared.words, question, topical)
        if social is not None:
            return Reply("smalltalk", question, (Part("text", social),)), []
        declined = (subject.not_covered is not None and subject.first is None) or subject.cause
        if declined and subject.massage:
            # In a question about massage, the learned model may overrule a subject rule
            # that fired on words said in passing; a named signpost always comes first.
            picked = self._model_pick(question, subject, self.config.model_rules)
            if picked is not None:
                ranked = [picked] + [
                    s for s in self._rank(prepared, subject) if s.entry_id != picked.entry_id
                ]
                return self._from_match(question, "answer", ranked, subject), ranked
        if subject.not_covered is not None and subject.first is None:
            # A named signpost comes first: "herniated disc and the chiro wants to massage
            # it" gets the disc signpost, not "chiropractic is not covered".
            text = self.knowledge.text("not_covered", topic=subject.not_covered)
            return self._fallback(question, text, "not-covered"), []
        if subject.cause:
            return self._fallback(question, self.knowledge.text("cause"), "cause"), []
        if low_mood and not (subject.massage or subject.back):
            # "I've had enough of all of it, nothing helps": not a question for an entry; the
            # check-in line is the reply that matters.
            return self._fallback(question, self.knowledge.text("fallback"), "low-mood"), []
        ranked = [s for s in self._rank(prepared, subject) if s.entry_id not in subject.ruled_out]
        if subject.first is not None:
            score = next((s.score for s in ranked if s.entry_id == subject.first), 0.0)
            first = [Scored(subject.first, max(score, self.config.answer_score))]
            ranked = first + [s for s in ranked if s.entry_id != subject.first]
            return self._from_match(question, "answer", ranked, subject), ranked
        named = self._named_first(ranked, subject)
        if named is not None:
            ranked = [named] + [s for s in ranked if s.entry_id != named.entry_id]
            return self._from_match(question, "answer", ranked, subject), ranked
        decision = self._matcher.decide(ranked)
        if decision != "answer" and previous in self.knowledge.by_id and self._is_follow_up(
            prepared, subject
        ):
            title = self.knowledge.by_id[str(previous)].title
            joined = self._matcher.normaliser.prepare(f"{question} {title}")
            followed = self._rank(joined, self.subjects.check(joined))
            if self._matcher.decide(followed) == "answer":
                ranked, decision = followed, "answer"
        ranked, decision = self._fuse(question, ranked, decision)
        ranked, decision = self._learned(question, ranked, decision, subject)
        return self._from_match(question, decision, ranked, subject), ranked

    def _named_first(self, ranked: list[Scored], subject: Subject) -> Scored | None:
        """A caution whose subject the question names ("brittle bones", "on warfarin"), in a
        question about massage that the best entry would answer outright, ranked within
        `clarify_window` of the best: it answers first, scored as the best - unless the best
        entry's own phrasings name that subject too."""
        if not ranked or ranked[0].score < self.config.answer_score or not subject.massage:
            return None
        best = ranked[0]
        for scored in ranked:
            if best.score - scored.score > self.config.clarify_window:
                break
            # Every ranked entry already names its subject (`_rank` keeps no other).
            covered = self._named_by.get(scored.entry_id)
            if covered is not None and best.entry_id not in covered:
                return Scored(scored.entry_id, max(best.score, scored.score))
        return None

    def _fuse(
        self, question: str, ranked: list[Scored], decision: Decision
    ) -> tuple[list[Scored], Decision]:
        """Where the lexical matcher would offer choices, the semantic signal may pick one: the
        choices' lexical scores fused with their cosines, answered when the best leads by
        `fused_gap` and means nearly the same (cosine at least `fused_cosine`), or when the
        lexical best is also the fused best and the closest in meaning (cosine at least
        `agree_cosine`). A lexical answer or fallback stands: measured, re-deciding those
        answered real questions loosely. A one-word message ("session") keeps its choices:
        the embedding of one word says too little to pick among them."""
        config = self.config
        if (
            self.semantic is None
            or decision != "clarify"
            or not ranked
            or len(words(question)) < config.semantic_min_words
        ):
            return ranked, decision
        offered = self._matcher.suggestions(ranked)  # the choices a clarify would offer
        cosines = self.semantic.cosines(question, [s.entry_id for s in offered])
        weight = config.semantic_weight
        fused = sorted(
            (
                Scored(
                    s.entry_id,
                    round((1 - weight) * s.score + weight * 100 * cosines.get(s.entry_id, 0.0), 1),
                )
                for s in offered
            ),
            key=lambda s: s.score,
            reverse=True,
        )
        gap = fused[0].score - (fused[1].score if len(fused) > 1 else 0.0)
        best = fused[0].entry_id
        cosine = cosines.get(best, 0.0)
        clear = gap >= config.fused_gap and cosine >= config.fused_cosine
        agreed = (
            best == ranked[0].entry_id
            and cosine >= config.agree_cosine
            and cosine >= max(cosines.values(), default=0.0)
        )
        if clear or agreed:
            return fused + [s for s in ranked if s not in offered], "answer"
        return ranked, decision

    def _learned(
        self, question: str, ranked: list[Scored], decision: Decision, subject: Subject
    ) -> tuple[list[Scored], Decision]:
        """The learned entry model's say. Where the lexical matcher would answer, the model
        may veto it (no entry at least `model_veto` likely: the question falls back) or put
        another entry in its place (at least `model_override` likely). Where the matcher
        would offer choices or fall back, the model's most likely entry answers from
        `model_clarify` (choices) or `model_fallback` (no match). Only for questions of at
        least `model_min_words` words, and only an entry whose subject the question names;
        its score is the probability in percent."""
        config = self.config
        probabilities = self._probabilities(question)
        if probabilities is None:
            return ranked, decision
        if decision == "answer":
            if probabilities.get(NONE, 0.0) >= config.model_veto:
                return ranked, "fallback"
            picked = self._model_pick(question, subject, config.model_override, probabilities)
            if picked is None or picked.entry_id == ranked[0].entry_id:
                return ranked, decision
        else:
            need = config.model_clarify if decision == "clarify" else config.model_fallback
            picked = self._model_pick(question, subject, need, probabilities)
            if picked is None:
                return ranked, decision
        return [picked] + [s for s in ranked if s.entry_id != picked.entry_id], "answer"

    def _probabilities(self, question: str) -> dict[str, float] | None:
        """The entry model's probabilities for a question, or None where it has no say (no
        model, no embedder, or fewer than `model_min_words` words)."""
        if (
            self.entry_model is None
            or self.semantic is None
            or len(words(question)) < self.config.model_min_words
        ):
            return None
        vector = self.semantic.vector(model_text(question))
        return self.entry_model.probabilities(question, vector)

    def _model_pick(
        self,
        question: str,
        subject: Subject,
        need: float,
        probabilities: dict[str, float] | None = None,
    ) -> Scored | None:
        """The entry the model finds most likely, if it is at least `need` likely, is an
        entry (not "no entry") and may answer this question; scored in percent."""
        if probabilities is None:
            probabilities = self._probabilities(question)
        if not probabilities:
            return None
        best = max(probabilities, key=lambda c: probabilities[c])
        if (
            best == NONE
            or best not in self.knowledge.by_id
            or probabilities[best] < need
            or not self._may_answer(best, subject, probabilities[best])
        ):
            return None
        return Scored(best, round(100 * probabilities[best], 1))

    def _may_answer(self, entry_id: str, subject: Subject, probability: float = 0.0) -> bool:
        """The filters of `_rank`, for one entry: its subject named, not ruled out, about the
        whole body if the question is about another part of it, not general health advice;
        and the question names massage or the back ("will the injection hurt" is not a
        question about massage, however like one it reads)."""
        if (
            not (subject.massage or subject.back)
            and self.config.model_needs_topic
            and probability < self.config.model_topic_free
        ):
            return False
        if entry_id in subject.ruled_out or not self.subjects.names_its_subject(entry_id, subject):
            return False
        if subject.elsewhere and not self.subjects.whole_body(entry_id, subject):
            return False
        return subject.in_context or entry_id not in self.subjects.needs_context

    def _rank(self, prepared: Prepared, subject: Subject) -> list[Scored]:
        ranked = self._matcher.rank(prepared)
        ranked = [s for s in ranked if self.subjects.names_its_subject(s.entry_id, subject)]
        if subject.elsewhere:
            # Another part of the body: an entry about the whole body may answer, if it is the
            # best match anyway ("neck massage, will it hurt?"); otherwise none does.
            if ranked and not self.subjects.whole_body(ranked[0].entry_id, subject):
                return []
            ranked = [s for s in ranked if self.subjects.whole_body(s.entry_id, subject)]
        if not subject.in_context:  # general health advice: no massage entry answers it
            ranked = [s for s in ranked if s.entry_id not in self.subjects.needs_context]
        return ranked

    def _is_follow_up(self, prepared: Prepared, subject: Subject) -> bool:
        """Short, or opening like a follow-up, and saying something the knowledge base knows:
        "is it safe?" is a follow-up, "ok" or "what about pizza?" is not."""
        if not any(self._matcher.knows(t) for t in prepared.tokens):
            return False
        return subject.follow_up or len(prepared.words) <= self.config.follow_up_words

    def _fallback(
        self, question: str, text: str, reason: FallbackReason, score: float = 0.0
    ) -> Reply:
        return Reply("fallback", question, (Part("text", text),), score=score, reason=reason)

    def entry_reply(self, entry_id: str, question: str = "") -> Reply | None:
        """The answer for one entry (a tapped button or suggestion); None if it is gone."""
        entry = self.knowledge.by_id.get(entry_id)
        if entry is None:
            return None
        return self._answer(question or entry.title, entry, 100.0)

    def _from_match(
        self, question: str, decision: Decision, ranked: list[Scored], subject: Subject
    ) -> Reply:
        top = ranked[0] if ranked else None
        if decision == "answer" and top is not None:
            return self._answer(question, self.knowledge.by_id[top.entry_id], top.score)
        if decision == "clarify" and top is not None and not subject.elsewhere:
            return self._clarify(question, self._matcher.suggestions(ranked), top)
        score = top.score if top else 0.0
        if subject.elsewhere:
            text = self.knowledge.text("other_region", region=subject.other_region or "")
            return self._fallback(question, text, "other-body", score)
        return self._fallback(question, self.knowledge.text("fallback"), "no-match", score)

    def _answer(self, question: str, entry: Entry, score: float) -> Reply:
        parts = [Part("heading", entry.title), Part("text", entry.answer)]
        if entry.quotes:  # the article's own words, so the answer can be checked against it
            parts.append(Part("quote", entry.quotes[0]))
        if entry.caution is not None:
            parts.append(Part("caution", entry.caution.text, entry.caution.source))
        related = tuple(
            Topic(r, self.knowledge.by_id[r].title)
            for r in entry.related
            if r in self.knowledge.by_id
        )
        return Reply(
            "answer",
            question,
            tuple(parts),
            entry_id=entry.id,
            score=score,
            related=related,
            source=entry.source,
        )

    def _clarify(self, question: str, offered: list[Scored], top: Scored) -> Reply:
        topics = tuple(Topic(s.entry_id, self.knowledge.by_id[s.entry_id].title) for s in offered)
        parts = [Part("text", self.knowledge.text("clarify"))]
        parts.extend(Part("choice", t.title) for t in topics)
        return Reply("clarify", question, tuple(parts), score=top.score, suggestions=topics)

    def _urgent(self, question: str, finding: SafetyFinding) -> Reply:
        """The card of the most serious tier found, in the message's language.

        It repeats back only what was noticed, with the user's own words; a crisis card does
        not list symptoms at all.
        """
        assert finding.tier is not None
        pack = self.knowledge.safety.languages[finding.language]
        english = self.knowledge.safety.languages["en"]
        card = pack.cards.get(finding.tier) or english.cards[finding.tier]
        other = pack.cards.get("crisis-other")  # for the person worried about someone else
        worried = finding.tier == "crisis" and about_someone_else(question, finding.found[0].quote)
        if worried and other is not None:
            card = other
        parts = [Part("heading", card.heading)]
        if finding.tier != "crisis":
            template = pack.texts.get("noticed") or self.knowledge.texts["urgent_noticed"]
            for found in finding.found[:3]:
                noticed = pack.noticed.get(found.flag.id, found.flag.noticed)
                parts.append(Part("text", template.format(noticed=noticed, quote=found.quote)))
        parts.append(Part("text", card.action))
        if card.outro:
            parts.append(Part("text", card.outro))
        check_in = finding.tier != "crisis" and any(
            f.flag.card == "check-in" for f in finding.advice
        )
        if check_in:  # "numb down below ... got a rope out in the shed": both, the card first
            line = pack.cards.get("check-in") or english.cards["check-in"]
            parts.append(Part("text", line.action))
        return Reply(
            "urgent",
            question,
            tuple(parts),
            score=100.0,
            tier=finding.tier,
            language=finding.language,
        )

    def _english_only(self, question: str, language: str) -> Reply:
        text = self.knowledge.safety.languages[language].texts["english_only"]
        return Reply(
            "fallback", question, (Part("text", text),), language=language, reason="language"
        )

    def _with_advice(self, reply: Reply, advice: tuple[Found, ...]) -> Reply:
        """Each advice card's line once, after the answer ("see a doctor if one leg...", the
        check-in for low mood); never instead of it."""
        cards = self.knowledge.safety.languages["en"].cards
        lines: dict[AdviceCard, Part] = {}
        for found in advice:
            card = found.flag.card
            if card not in lines:
                style: PartStyle = "caution" if card == "advice" else "text"
                lines[card] = Part(style, cards[card].action, found.flag.source)
        return replace(reply, parts=(*reply.parts, *lines.values()), advice=tuple(lines))


def _entry_model(knowledge: Knowledge) -> EntryModel | None:
    """The trained entry model beside the knowledge base, if it was trained on the wordings the
    knowledge base holds now. A stale one is not used: it would override a maintainer's new
    phrasing with what it learnt before (`check` warns until `python run_bot.py train`).
    Without it the engine matches as before."""
    return load_current(knowledge, EMBEDDER)[0]
