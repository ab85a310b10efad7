"""A learned crisis signal under the crisis word rules.

No list of words can keep up with the ways people say they don't want to go on ("not planning
on being around that long", "sorted the will and the dog this week, feel weirdly calm"). So
beside the crisis flags (word rules in `knowledge/safety.yaml`) a small logistic-regression
model scores each English message for crisis wording. It is trained, in plain Python, on the
labelled messages of `knowledge/crisis-examples.yaml` (written by people who never saw the
word rules or the test sets) and on the knowledge base's own phrasings (questions the bot
answers are not a crisis); the trained weights live in `knowledge/crisis-model.json`, with the
digest of what they were trained on, so `check` can say when the examples changed and the
model was not retrained (`python run_bot.py train`).

Features are stemmed words, word pairs and triples; the English crisis model also pairs words
two apart ("planning ... needing"), which caught more of the blind sets' crises at the same
false alarms. A message is scored as a whole and two sentences at a time, and the highest
score counts: a crisis sentence in the middle of a long question about massage is not diluted
by the rest. Scoring is a few dictionary look-ups per word.

A second model of the same kind reads the other languages (`knowledge/languages/`), trained on
the examples labelled with their `lang`. Its words are cut to their first letters, without
accents, in place of an English stemmer ("morirme", "morir", "muerto" share "mori"/"muer";
"жить", "живу" share "жи"): a crude stemmer, but one that works alike for every language.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.answering.text import sentences, stem, words

# Training settings; changing one changes the model, so they are part of its digest.
SETTINGS: Mapping[str, float] = {
    "epochs": 40,
    "rate": 0.5,
    "l2": 0.1,  # strong: many weak features generalise better than a few strong ones
    "min_count": 2,  # a feature seen fewer times in training is left out
    "min_features": 10,  # short messages lean towards the prior
    "seed": 20261127,
}
MODEL_VERSION = 2
# A sentence counts on its own only with this many words: "chiedo per curiosità" (asking out of
# curiosity) says nothing alone, though crisis questions often end with it.
SENTENCE_MIN_WORDS = 4


# Words that carry a writer's style, not what they say: a word, pair or triple made only of them
# is left out ("i do not think", "it i" taught the model that everyday English is a crisis).
FUNCTION_WORDS = frozenset(
    """
    i it do not to the a an and of that is be me my so but just this was am are have has had in
    on at for with you your he she they we our its s t can will would should could
    """.split()
)


ENGLISH = "english"  # Snowball stems
PREFIX = "prefix"  # words of other languages: accents dropped, cut to PREFIX_LENGTH letters
PREFIX_LENGTH = 5


def folded_prefix(word: str) -> str:
    """A word of any language without its accents (but "й" stays "й"), cut to its first
    PREFIX_LENGTH letters."""
    if not word.isascii():
        decomposed = unicodedata.normalize("NFD", word)
        word = unicodedata.normalize(
            "NFC", "".join(c for c in decomposed if not unicodedata.combining(c) or c == "\u0306")
        )
    return word[:PREFIX_LENGTH]


def features(text: str, stemming: str = ENGLISH, skips: bool = False) -> list[str]:
    """Stemmed words, pairs and triples of `text` (contractions expanded, case folded), and
    with `skips` pairs of words two apart, except those made only of function words."""
    cut = stem if stemming == ENGLISH else folded_prefix
    stems = [cut(w) for w in words(text)]
    grams: list[tuple[str, ...]] = [(s,) for s in stems]
    grams += itertools.pairwise(stems)
    grams += zip(stems, stems[1:], stems[2:], strict=False)
    kinds = {1: "w", 2: "b", 3: "t"}
    found = {f"{kinds[len(g)]} {' '.join(g)}" for g in grams if not FUNCTION_WORDS.issuperset(g)}
    if skips:
        found.update(
            f"s {a} {b}"
            for a, b in zip(stems, stems[2:], strict=False)
            if not FUNCTION_WORDS.issuperset((a, b))
        )
    return sorted(found)


def norm(count: int) -> float:
    """How much each feature counts in a piece of `count` features: 1/sqrt(count), but never
    as if there were fewer than `min_features` ("tell me a joke" is too short to be sure)."""
    return 1 / math.sqrt(max(count, SETTINGS["min_features"])) if count else 0.0


def pieces(text: str) -> list[str]:
    """What a message is scored on: the whole of it and, in a longer one, each two sentences
    in a row (a single short sentence says too little on its own: "i don't have any of it")."""
    parts = sentences(text)
    if len(parts) <= 2:
        return [text]
    return [text, *(" ".join(parts[i : i + 2]) for i in range(len(parts) - 1))]


@dataclass(frozen=True)
class Score:
    value: float  # the log-odds of crisis wording; > 0 means more likely than not
    quote: str  # the piece of the message that scored highest


@dataclass(frozen=True)
class CrisisModel:
    weights: Mapping[str, float]
    bias: float
    digest: str  # of the examples and settings it was trained on
    stemming: str = ENGLISH  # how words become features: ENGLISH or PREFIX
    skips: bool = False  # pairs of words two apart are features too

    def raw(self, text: str) -> float:
        found = features(text, self.stemming, self.skips)
        feats = [self.weights[f] for f in found if f in self.weights]
        if not feats:
            return self.bias
        return self.bias + math.fsum(feats) * norm(len(feats))

    def score(self, text: str, each_sentence: bool = False) -> Score:
        """The best-scoring piece of `text`; with `each_sentence`, every sentence is a piece
        too (after a red-flag card, where helplines cost little: "numb and can't pee. got a
        rope out in the shed")."""
        parts = pieces(text)
        if each_sentence:
            parts += [
                p
                for p in sentences(text)
                if p not in parts and len(words(p)) >= SENTENCE_MIN_WORDS
            ]
        best = max(parts, key=self.raw)
        return Score(self.raw(best), best.strip())

    def to_json(self) -> str:
        data = {
            "version": MODEL_VERSION,
            "digest": self.digest,
            **({} if self.stemming == ENGLISH else {"stemming": self.stemming}),
            **({"skips": True} if self.skips else {}),
            "bias": round(self.bias, 6),
            "weights": {f: round(w, 6) for f, w in sorted(self.weights.items()) if round(w, 6)},
        }
        return json.dumps(data, ensure_ascii=False, indent=0, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> CrisisModel:
        data = json.loads(text)
        if data.get("version") != MODEL_VERSION:
            raise ValueError(f"model version {data.get('version')!r}, expected {MODEL_VERSION}")
        weights = {str(f): float(w) for f, w in data["weights"].items()}
        bias = float(data["bias"])
        stemming = str(data.get("stemming", ENGLISH))
        if stemming not in (ENGLISH, PREFIX):
            raise ValueError(f"stemming {stemming!r}, expected {ENGLISH!r} or {PREFIX!r}")
        if not all(map(math.isfinite, (bias, *weights.values()))):
            raise ValueError("a weight or the bias is not a finite number")
        skips = data.get("skips", False)
        if not isinstance(skips, bool):
            raise ValueError(f"skips {skips!r}, expected true or false")
        return cls(weights, bias, str(data["digest"]), stemming, skips)

    @classmethod
    def load(cls, path: Path) -> CrisisModel:
        return cls.from_json(path.read_text(encoding="utf-8"))


def digest(
    examples: Sequence[tuple[str, bool]], stemming: str = ENGLISH, skips: bool = False
) -> str:
    """What a model was trained on: the examples (in order) and the settings."""
    h = hashlib.sha256()
    settings: list[object] = [MODEL_VERSION, dict(SETTINGS)]
    if stemming != ENGLISH:  # the English models' digests stay what they were
        settings.append({"stemming": stemming, "prefix_length": PREFIX_LENGTH})
    if skips:
        settings.append({"skips": True})
    h.update(json.dumps(settings, sort_keys=True).encode())
    for text, crisis in examples:
        h.update(f"{int(crisis)}\t{text}\n".encode())
    return h.hexdigest()


def train(
    examples: Sequence[tuple[str, bool]], stemming: str = ENGLISH, skips: bool = False
) -> CrisisModel:
    """Logistic regression by stochastic gradient descent; the same examples give the same
    model on every machine (fixed seed, fixed order, rounding on save)."""
    rows = [(features(t, stemming, skips), 1.0 if crisis else 0.0) for t, crisis in examples]
    counts = Counter(f for feats, _ in rows for f in feats)
    keep = {f for f, n in counts.items() if n >= SETTINGS["min_count"]}
    rows = [([f for f in feats if f in keep], y) for feats, y in rows]
    positives = sum(y for _, y in rows) or 1.0
    negatives = (len(rows) - positives) or 1.0
    balance = {1.0: len(rows) / (2 * positives), 0.0: len(rows) / (2 * negatives)}
    weights: dict[str, float] = dict.fromkeys(sorted(keep), 0.0)
    bias = 0.0
    order = list(range(len(rows)))
    rng = random.Random(int(SETTINGS["seed"]))
    epochs = int(SETTINGS["epochs"])
    for epoch in range(epochs):
        rng.shuffle(order)
        rate = SETTINGS["rate"] / (1 + epoch / 4)
        for i in order:
            feats, y = rows[i]
            scale = norm(len(feats))
            z = bias + scale * math.fsum(weights[f] for f in feats)
            p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - y) * balance[y]
            bias -= rate * g
            for f in feats:
                weights[f] -= rate * (g * scale + SETTINGS["l2"] * weights[f])
    model = CrisisModel(weights, bias, digest(examples, stemming, skips), stemming, skips)
    return CrisisModel.from_json(model.to_json())  # exactly what a saved model scores
