"""A semantic signal: WordLlama's small static embeddings, fused with the lexical score.

The model (`l2_supercat`, 256 dimensions, about 16 MB) ships inside the `wordllama` wheel. It is
loaded from the package's own folder with downloads disabled (its default loader looks for the
tokenizer in the wrong folder and would then try the network), and the weights file's sha256
is checked against the pinned one. If anything is missing or different, the bot says so once
in the log and matches lexically only: the semantic signal is an improvement, never a
requirement.

Use: `Semantic.load(entries)` once per knowledge base; `cosines(text, among)` gives, per entry
of `among`, the best cosine between the message and the entry's phrasings, title and asked
wordings (about 0.1 ms once an entry's wordings are embedded; each is embedded on first use).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.answering.knowledge import Entry

log = logging.getLogger("bot.answering.semantic")

MODEL = "l2_supercat"
DIM = 256
WEIGHTS = f"{MODEL}_{DIM}.safetensors"
SHA256 = "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5"
EMBEDDER = f"wordllama {MODEL} {DIM} {SHA256[:16]}"  # what a trained model's inputs came from
_MODEL_CACHE: dict[str, Any] = {}


def _model() -> Any | None:
    """The pinned WordLlama model from the wheel, or None (logged once) if it can't be had."""
    if "model" in _MODEL_CACHE:
        return _MODEL_CACHE["model"]
    model = None
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama  # its import calls logging.basicConfig(INFO): undone in `finally`
        from wordllama import WordLlama

        folder = Path(wordllama.__file__).parent
        weights = folder / "weights" / WEIGHTS
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        if digest != SHA256:
            log.warning("semantic matching off: %s sha256 %s is not pinned", WEIGHTS, digest)
        else:
            model = WordLlama.load(
                config=MODEL, dim=DIM, cache_dir=folder, disable_download=True
            )
    except Exception as exc:  # any failure: lexical matching only, never a crash
        log.warning("semantic matching off: %s", exc)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    _MODEL_CACHE["model"] = model
    return model


def unit_vectors(model: Any, texts: Sequence[str]) -> Any:
    """The texts' embeddings, each scaled to length 1 (a zero vector stays zero)."""
    import numpy as np

    raw = np.asarray(model.embed([t[:2000] for t in texts]), dtype=np.float32)
    return raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-9)


class Semantic:
    """Entry embeddings for one knowledge base, computed for an entry the first time it is one
    of the matcher's choices (so start-up and a large knowledge base cost little)."""

    def __init__(self, model: Any, entries: Sequence[Entry]) -> None:
        import numpy as np

        self._np = np
        self._model = model
        self.ids = [e.id for e in entries]
        self._texts = {e.id: (*e.phrasings, e.title, *e.asked) for e in entries}
        self._vectors: dict[str, Any] = {}

    def _entry(self, entry_id: str) -> Any:
        """An entry's wordings as unit vectors, embedded once."""
        vectors = self._vectors.get(entry_id)
        if vectors is None:
            np = self._np
            raw = np.asarray(self._model.embed(list(self._texts[entry_id])), dtype=np.float32)
            vectors = raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-9)
            self._vectors[entry_id] = vectors
        return vectors

    @classmethod
    def load(cls, entries: Sequence[Entry]) -> Semantic | None:
        model = _model()
        if model is None or not entries:
            return None
        return cls(model, entries)

    def vector(self, text: str) -> Any:
        """The message's embedding as a unit vector (zero for a message of no known words)."""
        return unit_vectors(self._model, [text])[0]

    def cosines(self, text: str, among: Sequence[str] | None = None) -> dict[str, float]:
        """Per entry (or per entry of `among`: the matcher's few choices), the best cosine
        between `text` and its wordings."""
        np = self._np
        vector = np.asarray(self._model.embed([text[:2000]]), dtype=np.float32)[0]
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            return {}
        vector = vector / norm
        wanted = self.ids if among is None else [i for i in among if i in self._texts]
        return {entry_id: float((self._entry(entry_id) @ vector).max()) for entry_id in wanted}
