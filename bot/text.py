"""Text normalisation shared by safety, smalltalk and matching.

Everything here is pure and cheap; the knowledge base is normalised once at load, and a user
message once per question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import snowballstemmer

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
# Contractions first, so "can't" and the common typo "cant" both become "can not".
_CONTRACTIONS = [
    (re.compile(r"\b(can't|cant|cannot)\b"), "can not"),
    (re.compile(r"\b(won't)\b"), "will not"),
    (re.compile(r"\b(dont)\b"), "do not"),
    (re.compile(r"\b(doesnt)\b"), "does not"),
    (re.compile(r"\b(didnt)\b"), "did not"),
    (re.compile(r"\b(isnt)\b"), "is not"),
    (re.compile(r"\b(im)\b"), "i am"),
    (re.compile(r"\b(ive)\b"), "i have"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'s\b"), ""),
]
_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")

# Words that carry no topic in this domain: function words, and the conversational verbs and
# time words people wrap questions in ("I hate taking tablets, what else works?"). Safety
# uses its own, much smaller list (bot/phrases.py), because "not", "both" and "can" matter there.
STOP_WORDS = frozenset(
    """
    a about above after again all also am an and any anything are as at be because been
    before being below between but by can could did do does doing done during each else even
    ever every for from further get gets getting got had has have having he her here hers
    herself him himself his how i if in into is it its itself just kind know let like likely
    lot lots may maybe me might mine more most much must my myself need needs now of off ok
    okay on once one only or other our ours ourselves out over own please pretty quite
    rather really right said same say see she should so some something such sure tell than
    that the their theirs them themselves then there these they thing things this those
    through to too u under until up upon us use used using very via want wanted was way we
    well were what whats when where whether which while who whom whose why will with within
    without would yes yet you your yours yourself yourselves actually anyone someone
    somebody go going gone thanks thank hi hello hey exactly basically never heard stuff
    idea worth try trying tried point involved happen happens able possible anyway guys
    still already often sometimes usually truly definitely probably guess think thought
    wonder wondering curious question questions ask asking told says mean means help helps
    helped helping work works worked good great bad best better worse anybody everything
    nothing dear hiya pls plz thx im ive ago last next few several since yesterday today
    tomorrow week weeks day days month months take taking took takes deal dealing make makes
    made hate love
    """.split()
)

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Return the Snowball (Porter2) stem of one lower-case word."""
    return str(_stemmer.stemWord(word))


def clean(text: str) -> str:
    """Fold Unicode, case and apostrophes, and expand contractions."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text


def words(text: str) -> list[str]:
    """Split text into lower-case words, contractions expanded, punctuation and emoji dropped."""
    return _WORD.findall(clean(text))


def sentences(text: str) -> list[str]:
    """Split a message into rough sentences (for long, rambling messages)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


class PhraseMap:
    """Replace word sequences by canonical words, longest match first ("lower back" -> "back")."""

    def __init__(self, mapping: Mapping[str, Iterable[str]]) -> None:
        self._map: dict[tuple[str, ...], str] = {}
        for canonical, variants in mapping.items():
            for variant in variants:
                key = tuple(words(variant))
                if key:
                    self._map[key] = canonical
        self.max_len = max((len(k) for k in self._map), default=1)

    def apply(self, tokens: Sequence[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for n in range(min(self.max_len, len(tokens) - i), 0, -1):
                canonical = self._map.get(tuple(tokens[i : i + n]))
                if canonical is not None:
                    out.extend(canonical.split())
                    i += n
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def variant_words(self) -> set[str]:
        return {w for key in self._map for w in key}
