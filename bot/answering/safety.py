"""Red-flag detection. Runs before anything else: a card replaces any massage answer.

A flag is a rule over concepts (`bot/answering/lexicon.py`): "numbness words with saddle-area
words in a short window", "bladder or bowel words with loss-of-control words", and so on, kept
as data in `knowledge/safety.yaml` (English) and `knowledge/languages/*.yaml` (other languages,
which reuse the English flags with their own concept lexicons). Context (negated, historical,
hypothetical, intended, family history) drops a concept only where a trigger's scope clearly
covers it.

Tiers, most serious first: crisis (suicidal thoughts or self-harm), emergency, same-day. A fourth,
`advice`, never replaces an answer: it adds a "see a doctor if it doesn't settle" line to it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.answering.kinds import (
    CARD_TIERS as CARD_TIERS,  # most serious first; bot/answering/knowledge.py uses it
)
from bot.answering.kinds import CONTEXT_KINDS, AdviceCard, CardTier, ContextKind, Tier
from bot.answering.lexicon import Context, ContextRules, Lexicon, Occurrence, Tokens
from bot.answering.signal import CrisisModel, Score
from bot.answering.text import sentences, words

ADVICE: Tier = "advice"
TIERS: tuple[Tier, ...] = (*CARD_TIERS, ADVICE)  # most serious first
QUOTE_MAX = 160  # characters of the user's words an emergency-signal card repeats
IDIOM_MARGIN = 0.3  # above card_at by this much, idioms no longer lower the crisis signal
SIGNAL_EMERGENCY = "emergency-signal"  # the flag id that stands for the emergency signal
SIGNAL_CARD = "crisis-signal"  # the flag ids that stand for the learned crisis signal
SIGNAL_CHECK_IN = "crisis-signal-check-in"

# Whose thought is it? An English crisis message is about someone else only when a third
# person is named in the words that raised the flag or just before them ("my dad keeps saying
# he wants to end his life") and the writer is not ("my husband says I'd be better off dead",
# "don't tell my wife, thinking about ending my life"). When unsure, the writer's own card:
# a person at risk must never be spoken to as if they were only worried about someone else.
_THIRD = frozenset("he she him his her himself herself hes shes hed shed".split())
_RELATIVES = frozenset(
    "dad father mum mom mother husband hubby wife partner son daughter brother sister friend "
    "mate boyfriend girlfriend bf gf grandad granddad grandpa grandmother grandfather nan nana "
    "gran granny grandma uncle aunt auntie cousin colleague flatmate roommate".split()
)
_FIRST = frozenset("i me my mine myself im ive id ill".split())
_NEAR, _BEFORE = 3, 6  # words before the quote: for the third person, for the writer


def about_someone_else(text: str, quote: str) -> bool:
    """Whether the words that raised a crisis flag speak of someone else, not the writer."""
    said, quoted = words(text), words(quote)  # the one text pipeline: "I’d" is "i would"
    if not quoted:
        return False
    for start in range(len(said) - len(quoted) + 1):
        if said[start : start + len(quoted)] != quoted:
            continue
        end = start + len(quoted)
        near = said[max(0, start - _NEAR) : end]
        wide = said[max(0, start - _BEFORE) : end]
        # "my" before a relative is theirs ("my dad"), anywhere else the writer's
        writer = any(
            w in _FIRST and not (w == "my" and k + 1 < len(wide) and wide[k + 1] in _RELATIVES)
            for k, w in enumerate(wide)
        )
        return bool(set(near) & _THIRD) and not writer
    return False


DEFAULT_WINDOW = 12  # words within which a flag's concepts must occur together
# Context kinds that drop a flag unless it says otherwise: "intended" ("want to lose weight")
# only matters where a flag asks for it.
DEFAULT_CANCELLED_BY: frozenset[ContextKind] = frozenset(CONTEXT_KINDS) - {"intended"}
MAX_TRIED = 6  # occurrences per concept tried when looking for the tightest quote


@dataclass(frozen=True)
class Flag:
    id: str
    tier: Tier
    noticed: str  # what the card repeats back: plain words, never a diagnosis
    when: tuple[tuple[str, ...], ...]  # alternatives, each concepts that occur together
    also: tuple[str, ...] = ()  # concepts that must occur somewhere in the message too
    window: int = DEFAULT_WINDOW
    card: AdviceCard = "advice"  # an advice flag's line: "advice", or "check-in" for low mood
    cancelled_by: frozenset[ContextKind] = DEFAULT_CANCELLED_BY  # context kinds that drop it
    source: str = ""

    def concepts(self) -> set[str]:
        return {c for combo in self.when for c in combo} | set(self.also)


@dataclass(frozen=True)
class Card:
    heading: str
    action: str
    outro: str = ""


@dataclass(frozen=True)
class LanguagePack:
    """One language's concepts, context words and card texts."""

    code: str
    name: str
    concepts: Mapping[str, tuple[str, ...]]
    context: ContextRules
    cards: Mapping[str, Card]  # by tier, including "advice"
    texts: Mapping[str, str]  # noticed_intro, english_only, disclaimer (other languages)
    noticed: Mapping[str, str]  # by flag id; English falls back to the flag's own


@dataclass(frozen=True)
class CrisisSignal:
    """The learned crisis signal (`bot/answering/signal.py`) and what its scores lead to."""

    model: CrisisModel
    card_at: float  # at or above: the crisis card
    check_in_at: float  # at or above (and below card_at): the check-in line
    card: Flag  # a crisis flag that stands for the model
    check_in: Flag  # an advice flag with the check-in line


@dataclass(frozen=True)
class EmergencySignal:
    """The learned emergency signal: a model of the same kind as the crisis signal, trained on
    the emergency messages of crisis-examples.yaml (kinds `emergency-*`) against all the
    others; a net under the emergency flags for wordings no list foresaw."""

    model: CrisisModel
    card_at: float  # at or above, on an English message with no crisis or emergency card
    card: Flag  # an emergency flag that stands for the model
    # flags whose finding says the message was read and is not an emergency ("numb in my left
    # foot" is the one-leg advice, not both legs)
    unless: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LanguagesSignal:
    """A learned signal for the other languages: a model of the crisis signal's kind, trained
    on the examples in those languages, with words cut to their first letters (one model for
    every language: "no quiero seguir así" and "nie chcę już żyć" share no words to confuse).
    A net under the word rules of `knowledge/languages/`: one for crises, one for emergencies,
    each showing its tier's card in the message's language."""

    model: CrisisModel
    card_at: float  # at or above, on a message answered in another language: the card
    card: Flag  # the English signal's flag of the same tier


@dataclass(frozen=True)
class SafetyData:
    flags: tuple[Flag, ...]
    languages: Mapping[str, LanguagePack]  # "en" first
    signal: CrisisSignal | None = None
    emergency: EmergencySignal | None = None
    languages_signal: LanguagesSignal | None = None
    languages_emergency: LanguagesSignal | None = None


@dataclass(frozen=True)
class Found:
    flag: Flag
    quote: str  # the user's own words that raised it
    language: str = "en"  # the language whose words raised it


@dataclass(frozen=True)
class SafetyFinding:
    tier: CardTier | None  # the most serious card tier found; None when only advice applies
    found: tuple[Found, ...]  # card flags, most serious first
    advice: tuple[Found, ...]
    language: str


class _Detector:
    def __init__(self, pack: LanguagePack) -> None:
        english = pack.code == "en"
        self.english = english
        self.lexicon = Lexicon(pack.concepts, english)
        self.context = Context(pack.context, english)
        self.concepts = frozenset(pack.concepts)


class SafetyGate:
    """Knows every flag and language; `check` says which flags a message raises."""

    def __init__(self, data: SafetyData) -> None:
        self.data = data
        self.flags = data.flags
        self._detectors = {code: _Detector(pack) for code, pack in data.languages.items()}

    def languages(self) -> list[str]:
        return list(self.data.languages)

    def check(
        self, text: str, language: str = "en", also: Sequence[str] = ()
    ) -> SafetyFinding | None:
        """Flags raised by `text`, read in English, in `language` (the one the reply is in) and
        in any other language it may be written in (`also`)."""
        codes = list(dict.fromkeys([language, *also, "en"]))
        codes = [c for c in codes if c in self._detectors]
        found: dict[str, Found] = {}
        for code in codes:
            # English typo correction only for English: "cardiaco" is not a typo of "cardiac".
            correct = code != "en" or language == "en"
            for item in self._find(self._detectors[code], text, correct):
                found.setdefault(item.flag.id, replace(item, language=code))
        # The model reads English only: a message answered in English counts when English is
        # among the languages it is likely written in ("wont need it where im going" is also
        # likely German), not when it is not ("¿el masaje ayuda con el dolor de espalda?").
        if language == "en" and (not also or "en" in also):
            found.update(self._signal(text, found))
            found.update(self._emergency(text, found))
        else:
            # A message in another language, or a short one answered in English that is only
            # likely another ("ya me despedí de todos"): the languages' signals, in that language.
            other = language if language != "en" else next((c for c in codes if c != "en"), None)
            if other is not None:
                found.update(self._languages_signal(text, other, found))
        if not found:
            return None
        order = {tier: i for i, tier in enumerate(TIERS)}
        ranked = sorted(found.values(), key=lambda f: order[f.flag.tier])
        cards = tuple(f for f in ranked if f.flag.tier != ADVICE)
        advice = tuple(f for f in ranked if f.flag.tier == ADVICE)
        top = cards[0].flag.tier if cards else None
        assert top != "advice"  # cards hold card tiers only
        # The card speaks the language of the words that raised the most serious flag.
        spoken = cards[0].language if cards and language == "en" else language
        return SafetyFinding(top, cards, advice, spoken)

    def _signal(self, text: str, found: Mapping[str, Found]) -> dict[str, Found]:
        """The learned crisis signal on an English message: the crisis card at a high score,
        the check-in line at a middling one. After a card of the word rules, a high score adds
        the check-in line to that card instead (a crisis card would hide an emergency's
        instructions, and the model takes 2 % of red-flag messages for a crisis)."""
        signal = self.data.signal
        if signal is None or any(f.flag.tier == "crisis" for f in found.values()):
            return {}
        carded = any(f.flag.tier != ADVICE for f in found.values())
        if carded:  # helplines on a card cost little: every sentence counts on its own
            score = signal.model.score(text, each_sentence=True)
        else:
            score = self._score(signal, text)
        checked_in = any(f.flag.card == "check-in" for f in found.values())
        if score.value >= signal.card_at and not carded:
            return {signal.card.id: Found(signal.card, score.quote)}
        threshold = signal.card_at if carded else signal.check_in_at
        if score.value >= threshold and not checked_in:
            return {signal.check_in.id: Found(signal.check_in, score.quote)}
        return {}

    def _languages_signal(
        self, text: str, language: str, found: Mapping[str, Found]
    ) -> dict[str, Found]:
        """The languages' signals on a message answered in another language, where the word
        rules found no crisis or emergency: the crisis card from the crisis signal, else the
        emergency card from the emergency signal (not where a flag of the English emergency
        signal's `unless` was found), in that language. After an emergency card of the word
        rules they add nothing (its instructions come first; the crisis word rules still
        apply)."""
        if any(f.flag.tier in ("crisis", "emergency") for f in found.values()):
            return {}
        # The flags that rule an emergency out for the English emergency signal do so here too.
        unless = self.data.emergency.unless if self.data.emergency is not None else frozenset()
        ruled_out = any(f.flag.id in unless for f in found.values())
        # For the crisis signal every sentence counts on its own too: "nothing comes out on the
        # toilet. I don't want to be a burden to anyone" must not dilute the burden into
        # nothing. (Not for the emergency signal: a sentence alone loses its negations,
        # "pregnant, no bleeding nor contractions" scored as an emergency.)
        emergency = None if ruled_out else self.data.languages_emergency
        for signal, each_sentence in ((self.data.languages_signal, True), (emergency, False)):
            if signal is None:
                continue
            score = signal.model.score(text, each_sentence=each_sentence)
            if score.value >= signal.card_at:
                quote = _best_sentence(signal.model, score)
                return {signal.card.id: Found(signal.card, quote, language)}
        return {}

    def _emergency(self, text: str, found: Mapping[str, Found]) -> dict[str, Found]:
        """The learned emergency signal, where neither a crisis nor an emergency card was
        found (nor a flag that rules an emergency out): the emergency card, quoting the
        message's highest-scoring part."""
        emergency = self.data.emergency
        if emergency is None or any(
            f.flag.tier in ("crisis", "emergency") or f.flag.id in emergency.unless
            for f in found.values()
        ):
            return {}
        score = emergency.model.score(text)
        if score.value < emergency.card_at:
            return {}
        return {emergency.card.id: Found(emergency.card, _best_sentence(emergency.model, score))}

    def _score(self, signal: CrisisSignal, text: str) -> Score:
        """The model's score, lowered by idioms ("can't live with this pain forever") only
        when it is near the card threshold, and then to the check-in line at the lowest: an
        idiom may soften a borderline card, never silence a clear one ("ready to go for good"
        holds the idiom "ready to go for")."""
        score = signal.model.score(text)
        # Below the check-in line a lower score changes nothing: most messages stop here,
        # without a second pass over their words.
        if not signal.check_in_at <= score.value < signal.card_at + IDIOM_MARGIN:
            return score
        plain = self._without_idioms(text)
        if plain == text:
            return score
        lowered = signal.model.score(plain)
        if lowered.value >= score.value:
            return score
        return Score(max(lowered.value, signal.check_in_at), lowered.quote)

    def _without_idioms(self, text: str) -> str:
        """The message with its English idioms left out ("can't live with this pain forever",
        "dying for a massage"), as the word rules read it."""
        detector = self._detectors["en"]
        tokens = Tokens.of(text, detector.context.terminators, True)
        blank = detector.context.blanks(tokens)
        if not any(blank):
            return text
        kept, at = [], 0
        for i, (start, end) in enumerate(tokens.spans):
            if blank[i]:
                kept.append(tokens.text[at:start])
                at = end
        kept.append(tokens.text[at:])
        return "".join(kept)

    def _find(self, detector: _Detector, text: str, correct: bool = True) -> list[Found]:
        tokens = Tokens.of(text, detector.context.terminators, detector.english)
        if not tokens.words:
            return []
        blank = detector.context.blanks(tokens)
        occurrences = detector.lexicon.find(tokens, blank, correct)
        if not occurrences:
            return []
        covered = detector.context.covering(tokens, blank, occurrences)
        by_concept: dict[str, list[Occurrence]] = {}
        for occ in occurrences:
            by_concept.setdefault(occ.name, []).append(occ)
        found = []
        for flag in self.flags:

            def live(name: str, flag: Flag = flag) -> list[Occurrence]:
                return [o for o in by_concept.get(name, ()) if not (covered[o] & flag.cancelled_by)]

            if not all(live(c) for c in flag.also):
                continue
            for combo in flag.when:
                lists = [live(c) for c in combo]
                if not all(lists):
                    continue
                best = _tightest(lists)
                if best is not None and best[1] - best[0] + 1 <= flag.window:
                    found.append(Found(flag, tokens.quote(*best)))
                    break
        return found


def _best_sentence(model: CrisisModel, score: Score) -> str:
    """What a card quotes: the sentence of the best-scoring piece that scores highest, at most
    QUOTE_MAX characters."""
    quote = max(sentences(score.quote) or [score.quote], key=model.raw).strip()
    if len(quote) > QUOTE_MAX:
        quote = quote[: QUOTE_MAX - 1].rsplit(" ", 1)[0] + "…"
    return quote


def _tightest(lists: Sequence[Sequence[Occurrence]]) -> tuple[int, int] | None:
    """The narrowest span holding one occurrence from every list."""
    best: tuple[int, int] | None = None
    for combo in itertools.product(*(lst[:MAX_TRIED] for lst in lists)):
        start = min(o.start for o in combo)
        end = max(o.end for o in combo)
        if best is None or end - start < best[1] - best[0]:
            best = (start, end)
    return best
