"""A learned entry model: which entry a question is about, from many people's wordings.

The lexical matcher finds the entry whose wordings share the most (weighted) words with a
question; where two entries come close, or none scores enough, it offers choices or falls back.
Beside it, a small multinomial logistic regression is trained on every entry's phrasings, title
and asked wordings (`knowledge/asked.yaml`: questions written by people who never saw the
knowledge base), with asked.yaml's `not_answered` questions as a class of their own ("none").
Its features are the stemmed words, pairs and triples of the crisis signal
(`bot/answering/signal.py`) and the question's WordLlama embedding (`bot/answering/semantic.py`),
so it learns what each entry is *about* from hundreds of wordings rather than from the nearest
one. The engine asks it after the safety check and the subject rules (causes, other body parts,
topics not covered), which always come first: it may answer where the lexical matcher would
offer choices or fall back, and replace or veto a lexical answer when it is sure
(`MatchConfig`: `model_clarify`, `model_fallback`, `model_override`, `model_veto`). The
trained weights live in `knowledge/entry-model.json` with the digest of what they were trained
on; `check` says when that is stale (`python run_bot.py train`). Without the `wordllama`
package, or without the file, the engine matches as before.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.answering.signal import features
from bot.answering.text import words

if TYPE_CHECKING:
    from bot.answering.knowledge import Knowledge

MODEL_FILE = "entry-model.json"
NONE = ""  # the class of questions no entry answers (asked.yaml `not_answered`)
MODEL_VERSION = 2  # 2: the embedding is of the words alone (`model_text`)
# Training settings; changing one changes the model, so they are part of its digest. Measured
# on the blind matching sets (the model never trains on them): the embedding weighed twice a
# word feature, 1,200 full-batch steps.
SETTINGS: Mapping[str, float] = {
    "epochs": 1200,
    "rate": 2.0,
    "l2": 0.1,
    "min_count": 2,  # a feature seen in fewer training wordings is left out
    "embedding": 2.0,  # the weight of the (unit) embedding beside the word features
}


def model_text(text: str) -> str:
    """What is embedded: the message's words alone, so that ten emoji or a row of dots do not
    outweigh "will it hurt?"."""
    return " ".join(words(text))


@dataclass(frozen=True)
class EntryModel:
    classes: tuple[str, ...]  # entry ids, and NONE
    words: Mapping[str, tuple[float, ...]]  # feature -> a weight per class
    embedding: tuple[tuple[float, ...], ...]  # one row per embedding dimension
    bias: tuple[float, ...]
    digest: str  # of the examples and settings it was trained on
    _arrays: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def probabilities(self, text: str, vector: Any) -> dict[str, float]:
        """Per class, how likely `text` is about it; `vector` is the unit embedding of
        `model_text(text)`."""
        import numpy as np

        if not self._arrays:
            self._arrays["embedding"] = np.asarray(self.embedding, dtype=np.float64)
            self._arrays["bias"] = np.asarray(self.bias, dtype=np.float64)
        scores = self._arrays["bias"].copy()
        found = [self.words[f] for f in features(text) if f in self.words]
        if found:
            scores += np.asarray(found, dtype=np.float64).sum(axis=0) / math.sqrt(len(found))
        embedded = np.asarray(vector, dtype=np.float64) @ self._arrays["embedding"]
        scores += SETTINGS["embedding"] * embedded
        scores = np.exp(scores - scores.max())
        scores /= scores.sum()
        return {c: float(p) for c, p in zip(self.classes, scores, strict=True)}

    def to_json(self) -> str:
        data = {
            "version": MODEL_VERSION,
            "digest": self.digest,
            "classes": list(self.classes),
            "bias": [round(b, 4) for b in self.bias],
            "embedding": [[round(w, 4) for w in row] for row in self.embedding],
            "words": {f: [round(w, 4) for w in ws] for f, ws in sorted(self.words.items())},
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text: str) -> EntryModel:
        data = json.loads(text)
        if data.get("version") != MODEL_VERSION:
            raise ValueError(f"model version {data.get('version')!r}, expected {MODEL_VERSION}")
        classes = tuple(str(c) for c in data["classes"])
        size = len(classes)

        def row(values: Any) -> tuple[float, ...]:
            out = tuple(float(v) for v in values)
            if len(out) != size or not all(map(math.isfinite, out)):
                raise ValueError("a row of weights does not fit the classes")
            return out

        return cls(
            classes,
            {str(f): row(ws) for f, ws in data["words"].items()},
            tuple(row(r) for r in data["embedding"]),
            row(data["bias"]),
            str(data["digest"]),
        )

    @classmethod
    def load(cls, path: Path) -> EntryModel:
        return cls.from_json(path.read_text(encoding="utf-8"))


def examples(knowledge: Knowledge) -> list[tuple[str, str]]:
    """What the model learns from, in a fixed order: each entry's phrasings, title and asked
    wordings (labelled with its id), then asked.yaml's `not_answered` questions (NONE)."""
    pairs = [
        (text, entry.id)
        for entry in knowledge.entries
        for text in (*entry.phrasings, entry.title, *entry.asked)
    ]
    pairs += [(text, NONE) for _, text in knowledge.not_answered]
    return pairs


# A message whose features and embedded text change whenever the text pipeline does (typos,
# contractions, dialect words, stems): a model trained before such a change is stale.
PROBE = "Dinnae y'know: can't it's the physio's 2nd sesh?! Sore-ish backs, tingling legs."


def digest(examples: Sequence[tuple[str, str]], embedder: str) -> str:
    """What a model was trained on: the examples (in order), the settings, the embedder and
    how the text pipeline reads `PROBE`."""
    h = hashlib.sha256()
    pipeline = [features(PROBE), model_text(PROBE)]
    h.update(json.dumps([MODEL_VERSION, dict(SETTINGS), embedder, pipeline]).encode())
    for text, label in examples:
        h.update(f"{label}\t{text}\n".encode())
    return h.hexdigest()


def load_current(knowledge: Knowledge, embedder: str) -> tuple[EntryModel | None, str | None]:
    """The trained model beside the knowledge base, if it loads, names only entries that
    exist and was trained on the wordings the knowledge base holds now (and `embedder`);
    otherwise None and why not. The engine uses it; `check` reports the reason."""
    path = knowledge.directory / MODEL_FILE
    try:
        model = EntryModel.load(path)
    except FileNotFoundError:
        return None, "no entry model"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return None, f"entry model unusable ({exc})"
    unknown = sorted(set(model.classes) - {NONE} - set(knowledge.by_id))
    if unknown:
        return None, f"entry model names no entry {unknown[0]!r}"
    if model.digest != digest(examples(knowledge), embedder):
        return None, "entry model trained on other wordings than the knowledge base holds"
    return model, None


def train(examples: Sequence[tuple[str, str]], embed: Any, embedder: str) -> EntryModel:
    """Multinomial logistic regression by full-batch gradient descent (numpy). `embed` maps a
    list of texts to their unit vectors (it is given `model_text` of each). The same examples
    give the same model up to rounding."""
    import numpy as np

    classes = tuple(sorted({label for _, label in examples}))
    index = {c: i for i, c in enumerate(classes)}
    rows = [features(text) for text, _ in examples]
    counts = Counter(f for feats in rows for f in set(feats))
    kept = sorted(f for f, n in counts.items() if n >= SETTINGS["min_count"])
    vocab = {f: i for i, f in enumerate(kept)}
    vectors = np.asarray(embed([model_text(text) for text, _ in examples]), dtype=np.float32)
    size, dims = len(examples), vectors.shape[1]
    matrix = np.zeros((size, len(vocab) + dims), dtype=np.float32)
    for r, feats in enumerate(rows):
        columns = sorted({vocab[f] for f in feats if f in vocab})
        if columns:
            matrix[r, columns] = 1 / math.sqrt(len(columns))
    matrix[:, len(vocab) :] = vectors * SETTINGS["embedding"]
    target = np.zeros((size, len(classes)), dtype=np.float32)
    target[np.arange(size), [index[label] for _, label in examples]] = 1
    weights = np.zeros((matrix.shape[1], len(classes)), dtype=np.float32)
    bias = np.zeros(len(classes), dtype=np.float32)
    rate, l2 = SETTINGS["rate"], SETTINGS["l2"]
    for _ in range(int(SETTINGS["epochs"])):
        scores = matrix @ weights + bias
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        grad = (probs - target) / size
        weights -= rate * (matrix.T @ grad + l2 * weights / size)
        bias -= rate * grad.sum(axis=0)
    words = {f: tuple(float(w) for w in weights[i]) for f, i in vocab.items()}
    embedding = tuple(tuple(float(w) for w in weights[len(vocab) + d]) for d in range(dims))
    model = EntryModel(
        classes, words, embedding, tuple(float(b) for b in bias), digest(examples, embedder)
    )
    return EntryModel.from_json(model.to_json())  # exactly what a saved model scores
