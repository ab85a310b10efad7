"""The answering engine: text in, `Reply` out. Pure: no Telegram, no network, no globals.

Order matters, and is the order of `Engine.answer`:
1. safety: red flags first; the urgent card replaces any answer.
2. smalltalk: greetings, thanks, "who are you".
3. matching: answer, clarify or fallback.
"""

from __future__ import annotations

from dataclasses import replace

from rapidfuzz import fuzz

from bot.knowledge import Entry, Knowledge
from bot.language import detect
from bot.matching import Matcher, MatchResult, Scored, suggestions
from bot.phrases import Message
from bot.replies import Part, Renderer, Reply, Topic
from bot.safety import Found, SafetyFinding, SafetyGate
from bot.text import words

MAX_INPUT_CHARS = 10_000  # longer messages are read up to here (Telegram caps text at 4096)
SMALLTALK_MAX_WORDS = 6
SMALLTALK_SCORE = 85.0
SMALLTALK_FILLER = frozenset(
    ["bot", "mate", "buddy", "dude", "friend", "pal", "there", "again", "please", "so"]
)


class Smalltalk:
    """Recognises short social messages; anything with a question in it goes to matching."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._intents = [
            (intent, [" ".join(words(p)) for p in intent.phrases]) for intent in knowledge.smalltalk
        ]

    def reply_for(self, text: str) -> str | None:
        said = [w for w in words(text) if w not in SMALLTALK_FILLER]
        if not said or len(said) > SMALLTALK_MAX_WORDS:
            return None
        cleaned = " ".join(said)
        best, best_score = None, SMALLTALK_SCORE
        for intent, phrases in self._intents:
            for phrase in phrases:
                score = fuzz.ratio(cleaned, phrase)
                if score >= best_score:
                    best, best_score = intent.reply, score
        return best


class Engine:
    """Answers questions from one loaded knowledge base."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.safety = SafetyGate(knowledge.safety)
        self._languages = frozenset(knowledge.safety.languages) - {"en"}
        self.smalltalk = Smalltalk(knowledge)
        self.matcher = Matcher(knowledge.entries, knowledge.synonyms, knowledge.not_covered)
        self.renderer = Renderer(knowledge)

    def topics(self) -> list[Topic]:
        return [Topic(e.id, e.title) for e in self.knowledge.entries]

    def answer(self, text: str) -> Reply:
        """Reply to one message. Never raises for any text."""
        question = text[:MAX_INPUT_CHARS]
        language = detect(question, self._languages)
        # 1. Safety before anything else, on this message alone: a card replaces any answer.
        finding = self.safety.check(question, language)
        if finding is not None and finding.tier is not None:
            return self._urgent(question, finding)
        if language != "en":
            return self._english_only(question, language)
        reply = self._reply(question)
        if finding is not None and finding.advice and reply.kind != "smalltalk":
            reply = self._with_advice(reply, finding.advice)
        return reply

    def _reply(self, question: str) -> Reply:
        message = Message.of(question)
        if not words(question):
            return Reply("fallback", question, (Part("text", self.knowledge.text("empty")),))
        # 2. Smalltalk.
        social = self.smalltalk.reply_for(question)
        if social is not None:
            return Reply("smalltalk", question, (Part("text", social),))
        # 3. Matching.
        return self._from_match(question, self.matcher.match(question, message))

    def entry_reply(self, entry_id: str, question: str = "") -> Reply | None:
        """The answer for one entry (a tapped button or suggestion); None if it is gone."""
        entry = self.knowledge.by_id.get(entry_id)
        if entry is None:
            return None
        return self._answer(question or entry.title, entry, 100.0)

    def _from_match(self, question: str, result: MatchResult) -> Reply:
        top = result.top
        if result.decision == "answer" and top is not None:
            return self._answer(question, self.knowledge.by_id[top.entry_id], top.score)
        if result.decision == "clarify" and top is not None:
            return self._clarify(question, suggestions(result.ranked), top)
        if result.not_covered is not None:
            text = self.knowledge.text("not_covered", topic=result.not_covered)
        else:
            text = self.knowledge.text("fallback")
        return Reply("fallback", question, (Part("text", text),), score=top.score if top else 0.0)

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
        parts = [Part("heading", card.heading)]
        if finding.tier != "crisis":
            template = pack.texts.get("noticed") or self.knowledge.texts["urgent_noticed"]
            for found in finding.found[:3]:
                noticed = pack.noticed.get(found.flag.id, found.flag.noticed)
                parts.append(Part("text", template.format(noticed=noticed, quote=found.quote)))
        parts.append(Part("text", card.action))
        if card.outro:
            parts.append(Part("text", card.outro))
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
        return Reply("fallback", question, (Part("text", text),), language=language)

    def _with_advice(self, reply: Reply, advice: tuple[Found, ...]) -> Reply:
        card = self.knowledge.safety.languages["en"].cards["advice"]
        source = advice[0].flag.source
        return replace(reply, parts=(*reply.parts, Part("caution", card.action, source)))

    def render_plain(self, reply: Reply) -> str:
        return self.renderer.plain(reply)

