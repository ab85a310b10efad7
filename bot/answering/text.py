"""Text normalisation shared by safety, smalltalk and matching.

Everything here is pure and cheap; the knowledge base is normalised once at load, and a user
message once per question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz, process

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
# Contractions in one pass, so "can't" and the common typo "cant" both become "can not".
_WHOLE = {
    "can't": "can not",
    "cant": "can not",
    "cannot": "can not",
    "won't": "will not",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "isnt": "is not",
    "im": "i am",
    "ive": "i have",
    "havent": "have not",
    "hasnt": "has not",
    "wasnt": "was not",
    "werent": "were not",
    "arent": "are not",
    "couldnt": "could not",
    "wouldnt": "would not",
    "shouldnt": "should not",
    "wont": "will not",
    "aint": "is not",
    "idk": "i do not know",
    "dunno": "do not know",
    "whats": "what is",
    "thats": "that is",
    "wat": "what",
    "wot": "what",
    "hows": "how is",
    "theyre": "they are",
    "youre": "you are",
    "u": "you",
    "r": "are",
    "ur": "your",
    "pls": "please",
    "plz": "please",
    # text-speak for the words a symptom turns on ("cnt lift my foot", "cudnt feel it")
    "cnt": "can not",
    "carnt": "can not",
    "cn": "can",
    "cud": "could",
    "cudnt": "could not",
    "coudnt": "could not",
    "wud": "would",
    "wudnt": "would not",
    "dnt": "do not",
    "dint": "did not",
    "dosnt": "does not",
    "havnt": "have not",
    "hvnt": "have not",
    "shud": "should",
    "shudnt": "should not",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmoz": "tomorrow",
    "2moro": "tomorrow",
    "2day": "today",
    "tonite": "tonight",
    # dialect: "pissed meself", "hurt meself"
    "meself": "myself",
    # Scots: "dinnae want tae be here anymair", "cannae feel ma legs"
    "dinnae": "do not",
    "didnae": "did not",
    "cannae": "can not",
    "canna": "can not",
    "wouldnae": "would not",
    "couldnae": "could not",
    "isnae": "is not",
    "wasnae": "was not",
    "havenae": "have not",
    "tae": "to",
    "anymair": "anymore",
    "masel": "myself",
}
_SUFFIX = {
    "n't": " not",
    "'m": " am",
    "'re": " are",
    "'ve": " have",
    "'ll": " will",
    "'d": " would",
    "'s": "",
}
_CONTRACTION = re.compile(
    r"\b(" + "|".join(re.escape(w) for w in _WHOLE) + r")\b|(n't|'m|'re|'ve|'ll|'d|'s)\b"
)


def _expand(match: re.Match[str]) -> str:
    whole = match.group(1)
    return _WHOLE[whole] if whole else _SUFFIX[match.group(2)]


_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


_stemmer = snowballstemmer.stemmer("english")
ENGLISH_MIN_COUNT = 50  # a word this frequent in pyspellchecker's English list is a real word


@lru_cache(maxsize=1)
def _english() -> Mapping[str, int]:
    """Word counts from pyspellchecker's English dictionary (shipped in its wheel, ~0.1 s)."""
    from spellchecker import SpellChecker

    counts: Mapping[str, int] = SpellChecker(language="en", distance=1).word_frequency.dictionary
    return counts


def is_english_word(word: str) -> bool:
    """A real English word is never "corrected" into a knowledge word ("reset" is not "rest")."""
    return _english().get(word, 0) >= ENGLISH_MIN_COUNT


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Return the Snowball (Porter2) stem of one lower-case word."""
    return str(_stemmer.stemWord(word))


def clean(text: str, contractions: bool = True) -> str:
    """Fold Unicode, case and apostrophes, and expand (English) contractions."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold().translate(_APOSTROPHES)
    return _CONTRACTION.sub(_expand, text) if contractions else text


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
        # By first word, longest variant first: most words start nothing and are copied as is.
        self._by_first: dict[str, list[tuple[tuple[str, ...], list[str]]]] = {}
        for key, canonical in sorted(self._map.items(), key=lambda kv: -len(kv[0])):
            self._by_first.setdefault(key[0], []).append((key, canonical.split()))

    def apply(self, tokens: Sequence[str]) -> list[str]:
        out: list[str] = []
        i, n = 0, len(tokens)
        while i < n:
            for key, canonical in self._by_first.get(tokens[i], ()):
                if tuple(tokens[i : i + len(key)]) == key:
                    out.extend(canonical)
                    i += len(key)
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def variant_words(self) -> set[str]:
        return {w for key in self._map for w in key}


@dataclass(frozen=True)
class Prepared:
    """One message, prepared once for smalltalk, the subject check and matching."""

    text: str
    words: tuple[str, ...]  # lower-case words, contractions expanded
    corrected: tuple[str, ...]  # the same, typos corrected to the knowledge base's vocabulary
    tokens: tuple[str, ...]  # synonyms mapped, stop words and numbers dropped, stemmed, unique


def sentence_starts(prepared: Prepared) -> list[int]:
    """The indices of `prepared.words` at which a second, third ... sentence begins (none if
    the sentences' words do not add up to the message's, which a stray symbol can cause)."""
    starts, at = [], 0
    for sentence in sentences(prepared.text):
        if at:
            starts.append(at)
        at += len(words(sentence))
    return starts if at == len(prepared.words) else []


class Normaliser:
    """The one text pipeline: words -> typo correction -> synonyms -> stop words -> stems.

    Built once from the knowledge base's vocabulary; `prepare` runs once per message. Typos are
    corrected only towards words the knowledge base uses (so "teh" never becomes a topic word),
    only from words of four letters or more that are not English words ("chilled" stays
    "chilled"), and only to a word with the same first letter.
    """

    def __init__(
        self,
        synonyms: Mapping[str, Iterable[str]],
        vocabulary: Iterable[str],
        stop_words: frozenset[str],
        typo_long: float = 80.0,
        typo_short: float = 86.0,
    ) -> None:
        self.synonyms = PhraseMap(synonyms)
        self.stop_words = stop_words
        self.typo_long = typo_long
        self.typo_short = typo_short
        kb_words = set(vocabulary) | self.synonyms.variant_words()
        kb_words.update(w for c in synonyms for w in words(c))
        self.known = frozenset(kb_words | stop_words)
        self._targets: dict[str, list[str]] = {}
        for word in sorted(kb_words - stop_words):
            if len(word) >= 3 and word.isalpha():
                self._targets.setdefault(word[0], []).append(word)
        self._corrections: dict[str, str] = {}

    def correct(self, word: str) -> str:
        if word in self.known or len(word) < 4 or not word.isalpha() or is_english_word(word):
            return word
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        cutoff = self.typo_short if len(word) == 4 else self.typo_long
        best = process.extractOne(
            word, self._targets.get(word[0], []), scorer=fuzz.ratio, score_cutoff=cutoff
        )
        # An inflection is not a typo: "caused" stays "caused" (its stem is "cause" anyway).
        corrected = best[0] if best and stem(best[0]) != stem(word) else word
        if len(self._corrections) < 100_000:
            self._corrections[word] = corrected
        return corrected

    def tokens(self, raw: Iterable[str]) -> list[str]:
        """Synonyms, stop words and stems; numbers go first ("for 10 years" -> "for years")."""
        mapped = self.synonyms.apply([w for w in raw if not w.isdigit()])
        return [stem(w) for w in mapped if w not in self.stop_words]

    def prepare(self, text: str) -> Prepared:
        said = tuple(words(text))
        corrected = tuple(self.correct(w) for w in said)
        return Prepared(text, said, corrected, tuple(dict.fromkeys(self.tokens(corrected))))
