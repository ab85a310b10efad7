"""Find short phrases in a message: all their words close together, any order, typos forgiven.

Used for red flags and for topics the article does not cover, where a missed phrase matters
more than a spurious one. "cant pee", "I can't really pee", "pee, can't" all match "can't pee".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.text import stem, words

# Words too common to anchor a phrase; dropped from phrases and messages alike.
FILLER = frozenset(
    """
    a an the i my me im am is are was were be been to of in on at it its and that this so
    just really very quite bit little some do does did have has had
    """.split()
)
SLACK = 3  # extra words allowed inside a phrase's window ("can't really pee")
TYPO_MIN_LEN = 4
TYPO_SCORE = 84.0  # one dropped or added letter in a 5-letter word; never chill/child


def _plural(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def phrase_tokens(
    text: str, stems: bool = True, filler: frozenset[str] = FILLER
) -> tuple[str, ...]:
    fold = stem if stems else _plural
    return tuple(fold(w) for w in words(text) if w not in filler)


@dataclass(frozen=True)
class Message:
    """A message prepared once for many phrase look-ups."""

    positions: dict[str, tuple[int, ...]]
    exact: dict[str, tuple[int, ...]]  # words with only plurals folded, for exact phrases

    @classmethod
    def of(cls, text: str) -> Message:
        return cls(_positions(phrase_tokens(text)), _positions(phrase_tokens(text, stems=False)))

    @classmethod
    def of_words(cls, said: Sequence[str], filler: frozenset[str] = FILLER) -> Message:
        """From words already split (and typo-corrected) by the normaliser."""
        kept = [w for w in said if w not in filler]
        return cls(_positions([stem(w) for w in kept]), _positions([_plural(w) for w in kept]))

    def where(self, token: str, typos: bool = True) -> tuple[int, ...]:
        """Positions of token in the message; with typos, near misses of longer words count."""
        if not typos:
            return self.exact.get(token, ())
        exact = self.positions.get(token)
        if exact is not None or len(token) < TYPO_MIN_LEN:
            return exact or ()
        found: list[int] = []
        for candidate, places in self.positions.items():
            if (
                len(candidate) >= TYPO_MIN_LEN
                and candidate[0] == token[0]
                and fuzz.ratio(candidate, token) >= TYPO_SCORE
            ):
                found.extend(places)
        return tuple(sorted(found))


def _positions(tokens: Sequence[str]) -> dict[str, tuple[int, ...]]:
    positions: dict[str, list[int]] = {}
    for i, token in enumerate(tokens):
        positions.setdefault(token, []).append(i)
    return {k: tuple(v) for k, v in positions.items()}


def _smallest_window(lists: Sequence[Sequence[int]]) -> int:
    """Length of the smallest window holding one position from every list."""
    events = sorted((pos, idx) for idx, positions in enumerate(lists) for pos in positions)
    need = len(lists)
    counts = [0] * need
    covered = 0
    best = 1 << 30
    left = 0
    for pos, idx in events:
        if counts[idx] == 0:
            covered += 1
        counts[idx] += 1
        while covered == need:
            lpos, lidx = events[left]
            best = min(best, pos - lpos + 1)
            counts[lidx] -= 1
            if counts[lidx] == 0:
                covered -= 1
            left += 1
    return best


def contains(
    message: Message, phrase: Sequence[str], typos: bool = True, ordered: bool = False
) -> bool:
    """Whether all of the phrase's tokens occur within a window of len(phrase) + SLACK; with
    `ordered`, in the phrase's order ("baby massage" is not "massage ... the baby")."""
    if not phrase:
        return False
    lists = []
    for token in phrase if ordered else dict.fromkeys(phrase):
        places = message.where(token, typos)
        if not places:
            return False
        lists.append(places)
    if len(lists) == 1:
        return True
    if ordered:
        return _ordered_window(lists) <= len(phrase) + SLACK
    return _smallest_window(lists) <= len(phrase) + SLACK


def _ordered_window(lists: Sequence[Sequence[int]]) -> int:
    """Length of the smallest window holding the lists' positions in order."""
    best = 1 << 30
    for start in lists[0]:
        at = start
        for positions in lists[1:]:
            later = [p for p in positions if p > at]
            if not later:
                break
            at = later[0]
        else:
            best = min(best, at - start + 1)
    return best


class PhraseSet:
    """Named groups of phrases; `find` returns the names whose phrases occur in a message.

    With `fuzzy` (red flags), words match by stem and small typos are forgiven; without it
    (topics to refuse), only the same word or its plural counts, so "relax" is not "relaxer".
    """

    def __init__(
        self,
        groups: Iterable[tuple[str, Iterable[str]]],
        fuzzy: bool = True,
        filler: frozenset[str] = FILLER,
        ordered: bool = False,
    ) -> None:
        self.ordered = ordered
        self.fuzzy = fuzzy
        self.groups = [
            (name, [t for t in (phrase_tokens(p, fuzzy, filler) for p in phrases) if t])
            for name, phrases in groups
        ]

    def find(self, message: Message) -> list[str]:
        return [
            name
            for name, phrases in self.groups
            if any(contains(message, phrase, self.fuzzy, self.ordered) for phrase in phrases)
        ]
