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

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.answering.kinds import Decision
from bot.answering.knowledge import Entry
from bot.answering.text import Normaliser, Prepared, sentences, words


@dataclass(frozen=True)
class MatchConfig:
    """Every matching knob in one place; `run_bot.py eval --sweep` varies them.

    Tuned on tests/data/labelled.yaml and the tune half of the blind set (see the README).
    """

    coverage_weight: float = 0.5  # coverage separates on- from off-topic; closeness breaks ties
    answer_score: float = 48.0  # at or above, with a clear gap, answer
    answer_gap: float = 4.0  # the best must beat the runner-up by this much to answer outright
    clarify_score: float = 40.0  # between this and an answer, offer choices
    clarify_window: float = 12.0  # choices must be within this of the best
    # A single close candidate is answered (a clarify never offers one choice) from this score;
    # below it, the question falls back.
    lone_answer_score: float = 44.0
    own_word: bool = True  # an entry must share a word with its own phrasings or title
    asked_share: float = 0.5  # the weight of a word found only in an entry's asked wordings
    max_suggestions: int = 3
    # A word the knowledge base has never seen weighs this share of the rarest known word.
    unknown_weight: float = 0.3
    candidates: int = 40  # entries kept from the index before closeness is computed
    max_segments: int = 8  # sentences of a long message scored on their own
    min_segment_tokens: int = 3  # a sentence scored alone needs this many content words
    typo_long: float = 85.0  # "masage", "theripist", "sesion"; never "chilled" -> "children"
    typo_short: float = 86.0  # four-letter words: only an added or dropped letter
    # The semantic signal (bot/answering/semantic.py) picks among the choices the lexical
    # matcher would offer: their scores fused as (1 - w) x lexical + w x 100 x cosine, answered
    # when the best leads by `fused_gap` and its cosine is at least `fused_cosine`. A lexical
    # answer or fallback stands; without the `wordllama` package the bot matches lexically.
    semantic: bool = True
    semantic_weight: float = 0.3
    fused_gap: float = 2.0
    fused_cosine: float = 0.6
    # Or answered when the lexical best is also the fused best and the semantically closest,
    # with a cosine of at least this: all three agree on one of the choices.
    agree_cosine: float = 0.55
    semantic_min_words: int = 2  # a one-word message keeps its choices
    # The learned entry model (bot/answering/entrymodel.py) answers where the lexical matcher
    # would offer choices (from `model_clarify`) or fall back for want of a match (from
    # `model_fallback`), when the entry it finds most likely has at least that probability
    # and the question names massage or the back and that entry's subject. It comes after
    # the safety check and the subject rules, never before them.
    entry_model: bool = True
    model_clarify: float = 0.5
    model_fallback: float = 0.6
    model_min_words: int = 3  # "massage" alone is too vague to answer: it gets choices
    model_needs_topic: bool = True  # and the question must name massage or the back
    model_topic_free: float = 0.9  # ... unless its entry is at least this likely
    # And where the lexical matcher would answer, the model finds it most likely that no entry
    # answers the question ("is pilates good for back pain") with at least this probability:
    # it falls back instead.
    model_veto: float = 0.9
    # ... or finds another entry at least this likely: that entry answers instead.
    model_override: float = 0.7
    # And where a subject rule would decline a question about massage (a topic not covered or
    # a cause, named in passing: "would massage plus a bit of yoga help my back when it goes
    # stiff from stress", "tweaked my back on Sunday gardening, how soon can I book in for a
    # massage"), an entry the model finds at least this likely answers instead. A named
    # signpost and the safety check come first.
    model_rules: float = 0.9
    follow_up_words: int = 6  # a message of at most this many words can be a follow-up


@dataclass(frozen=True)
class Scored:
    entry_id: str
    score: float


@dataclass(frozen=True)
class _HeldOut:
    index: int  # the entry a phrasing is held out of
    shares: dict[str, float]  # its word shares without that phrasing
    phrasings: list[str]  # its other normalised phrasings
    own: set[str]  # its own words without that phrasing


def _token_sorted(text: str) -> str:
    """The text's words in sorted order: fuzz.ratio on two of these is fuzz.token_sort_ratio."""
    return " ".join(sorted(text.split()))


class Matcher:
    """Scores questions against a fixed set of entries.

    The entries never change after construction; only a bounded cache of typo corrections grows.
    """

    def __init__(
        self,
        entries: Sequence[Entry],
        synonyms: dict[str, tuple[str, ...]],
        stop_words: frozenset[str],
        extra_vocabulary: Iterable[str] = (),
        config: MatchConfig | None = None,
    ) -> None:
        self.entries = tuple(entries)
        self.config = config = config or MatchConfig()
        # Words of every phrasing, the title and the asked wordings, split once; the title
        # comes right after the phrasings (leave-one-out counts on it).
        split = [
            [words(text) for text in (*entry.phrasings, entry.title, *entry.asked)]
            for entry in self.entries
        ]
        vocabulary = {w for texts in split for ws in texts for w in ws}
        vocabulary.update(extra_vocabulary)
        self.normaliser = Normaliser(
            synonyms, vocabulary, stop_words, config.typo_long, config.typo_short
        )

        # Per entry: normalised phrasings, each token's share, and the entry's own words.
        self._phrasings: list[list[str]] = []
        self._all_phrasings: list[list[str]] = []  # aligned with (*phrasings, title, *asked)
        self._own: list[set[str]] = []  # words of its phrasings and title, not the asked ones
        # The phrasings with their words sorted: token_sort_ratio is ratio on these, and one
        # C call over an entry's sorted phrasings is many times faster than a Python loop.
        self._sorted: list[list[str]] = []
        postings: dict[str, list[tuple[int, float]]] = {}
        for index, texts in enumerate(split):
            normalised = [" ".join(self.normaliser.tokens(ws)) for ws in texts]
            self._all_phrasings.append(normalised)
            self._phrasings.append([p for p in normalised if p])
            self._sorted.append([_token_sorted(p) for p in normalised if p])
            shares, own = self._shares(normalised, len(self.entries[index].phrasings) + 1)
            self._own.append(own)
            for token, weight in shares.items():
                postings.setdefault(token, []).append((index, weight))
        self._postings = postings
        n = max(len(self.entries), 1)
        self._idf = {
            t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()
        }
        self._idf_unknown = config.unknown_weight * math.log(1 + (n + 0.5) / 0.5)

    def knows(self, token: str) -> bool:
        """Whether a prepared token is in some entry's phrasings."""
        return token in self._postings

    def normalise(self, text: str) -> list[str]:
        """The question's tokens, typos corrected, in order, duplicates removed."""
        return list(self.normaliser.prepare(text).tokens)

    # --- scoring -------------------------------------------------------------------------

    def score_tokens(
        self, tokens: Sequence[str], limit: int | None = None, held_out: _HeldOut | None = None
    ) -> list[Scored]:
        config = self.config
        limit = limit or config.candidates
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
        ranked = sorted(coverage.items(), key=lambda item: item[1], reverse=True)
        if config.own_word:
            # Asked wordings help an entry along, but a question that shares no word with the
            # entry's own phrasings ("how do I cook pasta", a chef among the askers) is not it.
            present = set(tokens)
            ranked_own = (item for item in ranked if present & self._own_words(item[0], held_out))
            best = list(itertools.islice(ranked_own, limit))
        else:
            best = ranked[:limit]
        query = _token_sorted(" ".join(tokens))
        scored = []
        for index, covered in best:
            phrasings = self._sorted[index]
            if held_out is not None and index == held_out.index:
                phrasings = [_token_sorted(p) for p in held_out.phrasings]
            nearest = process.extractOne(query, phrasings, scorer=fuzz.ratio)
            closeness = nearest[1] if nearest is not None else 0.0
            score = 100 * (
                config.coverage_weight * covered / total
                + (1 - config.coverage_weight) * closeness / 100
            )
            scored.append(Scored(self.entries[index].id, round(score, 1)))
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored

    def _own_words(self, index: int, held_out: _HeldOut | None) -> set[str]:
        return (
            held_out.own if held_out is not None and index == held_out.index else self._own[index]
        )

    def _shares(self, normalised: Sequence[str], own: int) -> tuple[dict[str, float], set[str]]:
        """Each word's share of an entry: the first `own` texts are its phrasings and title, the
        rest its asked wordings (asked.yaml). A word in every phrasing is what the entry is
        about (1.0); one in a single phrasing still counts, but for less (over 0.5); a word
        only its askers used counts `asked_share`, however many of them used it. Also returns
        the entry's own words."""
        counts: dict[str, int] = {}
        for phrase in normalised[:own]:
            for token in set(phrase.split()):
                counts[token] = counts.get(token, 0) + 1
        shares = {t: 0.5 + 0.5 * c / own for t, c in counts.items()}
        for phrase in normalised[own:]:
            for token in phrase.split():
                shares.setdefault(token, self.config.asked_share)
        return shares, set(counts)

    def rank_held_out(self, entry_index: int, phrasing_index: int) -> list[Scored]:
        """Leave-one-out: rank one of an entry's phrasings as if the entry did not have it.

        One index serves every phrasing (rebuilding per phrasing would take minutes at a
        thousand entries): IDF stays that of the whole knowledge base, while the entry's word
        shares and nearest phrasing are recomputed without the held-out phrasing.
        """
        phrasings = self._all_phrasings[entry_index]
        rest = phrasings[:phrasing_index] + phrasings[phrasing_index + 1 :]
        # The held-out text is one of the phrasings (or the title): one fewer of its own.
        shares, own = self._shares(rest, len(self.entries[entry_index].phrasings))
        held_out = _HeldOut(entry_index, shares, [p for p in rest if p], own)
        tokens = list(dict.fromkeys(phrasings[phrasing_index].split()))
        return self.score_tokens(tokens, held_out=held_out)

    def rank(self, text: str | Prepared) -> list[Scored]:
        """Rank entries for a message; a long message is also scored sentence by sentence."""
        prepared = text if isinstance(text, Prepared) else self.normaliser.prepare(text)
        ranked = self.score_tokens(prepared.tokens)
        parts = sentences(prepared.text)
        if len(parts) > 1:
            # Questions first: in a rambling message the question is what to answer.
            parts.sort(key=lambda s: not s.rstrip().endswith("?"))
            for part in parts[: self.config.max_segments]:
                tokens = self.normalise(part)
                if len(tokens) < self.config.min_segment_tokens:
                    continue  # "is it worth it?" alone would match everything
                candidate = self.score_tokens(tokens)
                if candidate and (not ranked or candidate[0].score > ranked[0].score):
                    ranked = candidate
        return ranked

    def decide(self, ranked: Sequence[Scored]) -> Decision:
        """Answer when the best entry is clearly best; offer choices when unsure; else fall back.

        A clarify offers two or three choices, never one: a single close candidate is answered.
        """
        config = self.config
        if not ranked or ranked[0].score < config.clarify_score:
            return "fallback"
        gap = ranked[0].score - (ranked[1].score if len(ranked) > 1 else 0.0)
        if ranked[0].score >= config.answer_score and gap >= config.answer_gap:
            return "answer"
        if len(self.suggestions(ranked)) >= 2:
            return "clarify"
        return "answer" if ranked[0].score >= config.lone_answer_score else "fallback"

    def suggestions(self, ranked: Sequence[Scored]) -> list[Scored]:
        """The entries worth offering in a clarify reply, best first."""
        if not ranked:
            return []
        top = ranked[0].score
        return [
            s
            for s in ranked[: self.config.max_suggestions]
            if top - s.score <= self.config.clarify_window
        ]
