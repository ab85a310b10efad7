"""Find short phrases in a message: their words in order, close together, plurals folded.

Used for the topics the article does not cover (knowledge/subjects.yaml): "how much does a
session cost" is found in "how much does one session cost, roughly?", but "baby massage" is not
"massage ... the baby". Filler words ("the", "my", "is") are dropped from phrases and messages
alike; red flags have their own matcher (bot/answering/lexicon.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.answering.text import words

# Words too common to anchor a phrase; vocabulary.yaml's `fillers.phrases` replaces this list
# for the bot itself.
FILLER = frozenset(
    """
    a an the i my me im am is are was were be been to of in on at it its and that this so
    just really very quite bit little some do does did have has had
    """.split()
)
SLACK = 3  # extra words allowed inside a phrase's window ("how much does one session cost")
_SENTENCE_GAP = 100  # positions skipped at a sentence start: wider than any phrase's window


def _plural(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def phrase_tokens(text: str, filler: frozenset[str] = FILLER) -> tuple[str, ...]:
    return tuple(_plural(w) for w in words(text) if w not in filler)


@dataclass(frozen=True)
class Message:
    """A message prepared once for many phrase look-ups: each folded word's positions."""

    positions: dict[str, tuple[int, ...]]

    @classmethod
    def of(cls, text: str, filler: frozenset[str] = FILLER) -> Message:
        return cls.of_words(words(text), filler)

    @classmethod
    def of_words(
        cls, said: Sequence[str], filler: frozenset[str] = FILLER, starts: Iterable[int] = ()
    ) -> Message:
        """From words already split (and typo-corrected) by the normaliser. `starts`: the
        indices of `said` that begin a new sentence; no phrase reaches across one ("massage
        for the back? My son thinks..." is not "massage my son")."""
        breaks = set(starts)
        positions: dict[str, list[int]] = {}
        at = 0
        for i, word in enumerate(said):
            if i in breaks:
                at += _SENTENCE_GAP
            if word in filler:
                continue
            positions.setdefault(_plural(word), []).append(at)
            at += 1
        return cls({k: tuple(v) for k, v in positions.items()})


def contains(message: Message, phrase: Sequence[str]) -> bool:
    """Whether the phrase's words occur in order within a window of len(phrase) + SLACK."""
    if not phrase:
        return False
    lists = [message.positions.get(token, ()) for token in phrase]
    if not all(lists):
        return False
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
    return best <= len(phrase) + SLACK


class PhraseSet:
    """Named groups of phrases; `find` returns the names whose phrases occur in a message."""

    def __init__(
        self, groups: Iterable[tuple[str, Iterable[str]]], filler: frozenset[str] = FILLER
    ) -> None:
        self.groups = [
            (name, [t for t in (phrase_tokens(p, filler) for p in phrases) if t])
            for name, phrases in groups
        ]
        # Each phrase under its first word: only phrases whose first word the message has
        # can occur in it.
        self._by_first: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for order, (_, phrases) in enumerate(self.groups):
            for phrase in phrases:
                self._by_first.setdefault(phrase[0], []).append((order, tuple(phrase)))

    def find(self, message: Message) -> list[str]:
        """The names of the groups with a phrase in the message, in the groups' order."""
        hits = {
            order
            for word in message.positions
            for order, phrase in self._by_first.get(word, ())
            if contains(message, phrase)
        }
        return [self.groups[order][0] for order in sorted(hits)]
