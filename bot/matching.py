"""Match a question to knowledge entries and decide: answer, clarify or fallback.

Pipeline, built once at load for the knowledge base and run once per question:
words -> typo correction to the knowledge base's vocabulary -> synonyms -> stop words -> stems.

Each entry is scored on two things, both 0..1:
* coverage: how much of the question (weighted by IDF) the entry's phrasings explain. Words the
  knowledge base has never seen weigh as much as its rarest words, so "how long does a slipped
  disc take to heal" explains poorly against every entry and falls back, while short questions
  ("oil?") score high against the one entry about them.
* closeness: rapidfuzz `token_sort_ratio` against the entry's closest phrasing, which rewards
  phrasings that have little the question lacks. (`WRatio` and `partial_ratio` tie on any shared
  word and `token_set_ratio` gives 100 to subsets; see MATCHING-NOTES.)
Only entries that share a word with the question are scored (an inverted index), so the cost
grows with the matches, not the size of the knowledge base.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.knowledge import Entry, NotCovered
from bot.phrases import Message, PhraseSet
from bot.text import STOP_WORDS, PhraseMap, sentences, stem, words

# Weights and thresholds, tuned on tests/data/labelled.yaml with `run_bot.py eval` (see the
# README's accuracy table). COVERAGE_WEIGHT: coverage separates on-topic from off-topic better
# than closeness, which mostly breaks ties between entries that explain the same words.
COVERAGE_WEIGHT = 0.5
ANSWER_SCORE = 48.0  # at or above, with a clear gap, answer
ANSWER_GAP = 4.0  # the best must beat the runner-up by this much to answer outright
CLARIFY_SCORE = 40.0  # between this and an answer, offer choices
CLARIFY_WINDOW = 12.0  # suggestions must be within this of the best
MAX_SUGGESTIONS = 3
# A word the knowledge base has never seen weighs this share of the rarest known word: enough
# that questions about other things fall back, not so much that one stray word sinks a match.
UNKNOWN_WEIGHT = 0.8
CANDIDATES = 40  # entries kept from the index before closeness is computed
MAX_SEGMENTS = 8  # sentences of a long message scored on their own
TYPO_CUTOFF_LONG = 80.0
TYPO_CUTOFF_SHORT = 86.0  # four-letter words: only an added or dropped letter


@dataclass(frozen=True)
class Scored:
    entry_id: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    decision: str  # "answer", "clarify" or "fallback"
    ranked: tuple[Scored, ...]
    not_covered: str | None = None

    @property
    def top(self) -> Scored | None:
        return self.ranked[0] if self.ranked else None


@dataclass(frozen=True)
class _HeldOut:
    index: int  # the entry a phrasing is held out of
    shares: dict[str, float]  # its word shares without that phrasing
    phrasings: list[str]  # its other normalised phrasings


class Matcher:
    """Scores questions against a fixed set of entries.

    The entries never change after construction; only a bounded cache of typo corrections grows.
    """

    def __init__(
        self,
        entries: Sequence[Entry],
        synonyms: dict[str, tuple[str, ...]],
        not_covered: Sequence[NotCovered] = (),
    ) -> None:
        self.entries = tuple(entries)
        self._synonyms = PhraseMap(synonyms)
        self._not_covered = PhraseSet(((t.topic, t.phrases) for t in not_covered), fuzzy=False)

        # Words of every phrasing and title, split once and reused below.
        split = [
            [words(text) for text in (*entry.phrasings, entry.title)] for entry in self.entries
        ]
        kb_words: set[str] = {w for texts in split for ws in texts for w in ws}
        kb_words.update(self._synonyms.variant_words())
        kb_words.update(w for c in synonyms for w in words(c))
        for topic in not_covered:
            for phrase in topic.phrases:
                kb_words.update(words(phrase))
        self._known = frozenset(kb_words | STOP_WORDS)
        # Typo targets: content words only, so "teh" is never "corrected" into a topic word;
        # grouped by first letter, which typos rarely change ("option" is not "lotion").
        self._targets: dict[str, list[str]] = {}
        for word in sorted(kb_words - STOP_WORDS):
            if len(word) >= 3 and word.isalpha():
                self._targets.setdefault(word[0], []).append(word)
        self._corrections: dict[str, str] = {}

        # Per entry: normalised phrasings, and each token's share of the entry's phrasings.
        self._phrasings: list[list[str]] = []
        self._all_phrasings: list[list[str]] = []  # aligned with (*phrasings, title)
        postings: dict[str, list[tuple[int, float]]] = {}
        for index, texts in enumerate(split):
            normalised = [" ".join(self._tokens(ws)) for ws in texts]
            self._all_phrasings.append(normalised)
            self._phrasings.append([p for p in normalised if p])
            counts: dict[str, int] = {}
            for phrase in normalised:
                for token in set(phrase.split()):
                    counts[token] = counts.get(token, 0) + 1
            for token, count in counts.items():
                # A word in every phrasing is what the entry is about; one in a single
                # phrasing still counts, but for less.
                weight = 0.5 + 0.5 * count / len(normalised)
                postings.setdefault(token, []).append((index, weight))
        self._postings = postings
        n = max(len(self.entries), 1)
        self._idf = {
            t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()
        }
        self._idf_unknown = UNKNOWN_WEIGHT * math.log(1 + (n + 0.5) / 0.5)

    # --- normalisation -------------------------------------------------------------------

    def _correct(self, word: str) -> str:
        if word in self._known or len(word) < 4 or not word.isalpha():
            return word
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        cutoff = TYPO_CUTOFF_SHORT if len(word) == 4 else TYPO_CUTOFF_LONG
        targets = self._targets.get(word[0], [])
        best = process.extractOne(word, targets, scorer=fuzz.ratio, score_cutoff=cutoff)
        corrected = best[0] if best else word
        if len(self._corrections) < 100_000:
            self._corrections[word] = corrected
        return corrected

    def _tokens(self, raw: Iterable[str]) -> list[str]:
        # Numbers go first, so "for 10 years" meets the synonym "for years".
        mapped = self._synonyms.apply([w for w in raw if not w.isdigit()])
        return [stem(w) for w in mapped if w not in STOP_WORDS]

    def normalise(self, text: str) -> list[str]:
        """The question's tokens, typos corrected, in order, duplicates removed."""
        corrected = [self._correct(w) for w in words(text)]
        return list(dict.fromkeys(self._tokens(corrected)))

    # --- scoring -------------------------------------------------------------------------

    def score_tokens(
        self, tokens: Sequence[str], limit: int = CANDIDATES, held_out: _HeldOut | None = None
    ) -> list[Scored]:
        if not tokens:
            return []
        weights = [self._idf.get(t, self._idf_unknown) for t in tokens]
        total = sum(weights)
        coverage: dict[int, float] = {}
        for token, weight in zip(tokens, weights, strict=True):
            for index, share in self._postings.get(token, ()):
                if held_out is not None and index == held_out.index:
                    share = held_out.shares.get(token, 0.0)
                coverage[index] = coverage.get(index, 0.0) + weight * share
        if not coverage:
            return []
        best = sorted(coverage.items(), key=lambda item: item[1], reverse=True)[:limit]
        query = " ".join(tokens)
        scored = []
        for index, covered in best:
            phrasings = self._phrasings[index]
            if held_out is not None and index == held_out.index:
                phrasings = held_out.phrasings
            closeness = max((fuzz.token_sort_ratio(query, p) for p in phrasings), default=0.0)
            score = 100 * (
                COVERAGE_WEIGHT * covered / total + (1 - COVERAGE_WEIGHT) * closeness / 100
            )
            scored.append(Scored(self.entries[index].id, round(score, 1)))
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored

    def rank_held_out(self, entry_index: int, phrasing_index: int) -> list[Scored]:
        """Leave-one-out: rank one of an entry's phrasings as if the entry did not have it.

        One index serves every phrasing (rebuilding per phrasing would take minutes at a
        thousand entries): IDF stays that of the whole knowledge base, while the entry's word
        shares and nearest phrasing are recomputed without the held-out phrasing.
        """
        phrasings = self._all_phrasings[entry_index]
        rest = phrasings[:phrasing_index] + phrasings[phrasing_index + 1 :]
        counts: dict[str, int] = {}
        for phrase in rest:
            for token in set(phrase.split()):
                counts[token] = counts.get(token, 0) + 1
        held_out = _HeldOut(
            entry_index,
            {t: 0.5 + 0.5 * c / len(rest) for t, c in counts.items()},
            [p for p in rest if p],
        )
        tokens = list(dict.fromkeys(phrasings[phrasing_index].split()))
        return self.score_tokens(tokens, held_out=held_out)

    def rank(self, text: str) -> list[Scored]:
        """Rank entries for a message; a long message is also scored sentence by sentence."""
        ranked = self.score_tokens(self.normalise(text))
        parts = sentences(text)
        if len(parts) > 1:
            # Questions first: in a rambling message the question is what to answer.
            parts.sort(key=lambda s: not s.rstrip().endswith("?"))
            for part in parts[:MAX_SEGMENTS]:
                candidate = self.score_tokens(self.normalise(part))
                if candidate and (not ranked or candidate[0].score > ranked[0].score):
                    ranked = candidate
        return ranked

    def not_covered(self, message: Message) -> str | None:
        found = self._not_covered.find(message)
        return found[0] if found else None

    def match(self, text: str, message: Message | None = None) -> MatchResult:
        topic = self.not_covered(message or Message.of(text))
        ranked = tuple(self.rank(text))
        if topic is not None:
            return MatchResult("fallback", ranked, not_covered=topic)
        return MatchResult(decide(ranked), ranked)


def decide(ranked: Sequence[Scored]) -> str:
    """Answer when the best entry is clearly best; offer choices when unsure; else fall back."""
    if not ranked or ranked[0].score < CLARIFY_SCORE:
        return "fallback"
    gap = ranked[0].score - (ranked[1].score if len(ranked) > 1 else 0.0)
    if ranked[0].score >= ANSWER_SCORE and gap >= ANSWER_GAP:
        return "answer"
    return "clarify"


def suggestions(ranked: Sequence[Scored]) -> list[Scored]:
    """The entries worth offering in a clarify reply, best first."""
    if not ranked:
        return []
    top = ranked[0].score
    return [s for s in ranked[:MAX_SUGGESTIONS] if top - s.score <= CLARIFY_WINDOW]
