"""Benchmark: the engine against difflib, a naive WRatio loop and the rapidfuzz floor.

`python run_bot.py bench` builds deterministic synthetic knowledge bases (15, 1,000 and 10,000
entries of 6 phrasings each, words drawn from the project's own texts), writes them as YAML, and
for each size measures in one run: load time (YAML to a ready engine), the engine's
per-question latency (p50, p99) over a fixed mix of questions (in scope, typos, off-topic,
long), the same questions through a ChatterBot-style difflib `SequenceMatcher` loop and a naive
`fuzz.WRatio` loop, and the floor: one `process.extractOne` over the pre-normalised phrasings
with `processor=None`. It prints ratios (engine ÷ floor, difflib ÷ engine, WRatio ÷ engine),
peak memory while loading, and the cold start of `ask`. It measures; it never fails on time.
"""

from __future__ import annotations

import difflib
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from bot.answering.engine import Engine
from bot.answering.knowledge import ASKED_FILE, CRISIS_EXAMPLES_FILE, load_knowledge
from bot.answering.safety import SafetyGate

SIZES = (15, 1000, 10_000)
PHRASINGS = 6
SEED = 20121220  # the article's date
TEMPLATES = (
    "what is {a} {b}",
    "how does {a} help with {b}",
    "can {a} make my {b} worse",
    "{a} and {b}?",
    "tell me about {a} for {b} {c}",
    "is {a} {b} safe if i have {c}",
    "why do people use {a} on their {b}",
    "does {c} {a} really work",
)
FILLER = "i my the a really just so please about when after before with for".split()
OFF_TOPIC = (
    "weather forecast tomorrow",
    "best pizza dough recipe",
    "football score tonight",
    "how to reset a router password",
    "cheap flights to lisbon",
    "capital of peru",
    "bitcoin price prediction",
    "learn guitar chords fast",
)
# A base of real words for the synthetic vocabulary, besides those of the knowledge base.
EXTRA_WORDS = """
ankle knee hip shoulder neck wrist elbow spine disc nerve muscle tendon ligament joint bone
cartilage posture stretch yoga pilates swim walk run cycle lift squat bend twist sit stand sleep
mattress pillow chair desk heat ice cream gel tablet injection scan xray physio doctor nurse
chiropractor osteopath acupuncture cupping needle tape brace splint cast bandage rest recovery
week month year morning night stiffness spasm cramp numbness tingling burning throbbing sharp
dull ache swelling bruise strain sprain tear fracture arthritis sciatica hernia scoliosis
inflammation circulation lymph toxin fascia trigger point knot tension stress anxiety fatigue
headache migraine jaw pelvis glute hamstring quad calf foot heel arch toe finger thumb hand arm
""".split()


@dataclass(frozen=True)
class SizeResult:
    entries: int
    load_s: float
    peak_mb: float
    engine_p50_ms: float
    engine_p99_ms: float
    floor_p50_ms: float
    floor_p99_ms: float
    difflib_ms: float
    wratio_ms: float
    difflib_sample: int
    wratio_sample: int

    @property
    def engine_over_floor(self) -> float:
        return self.engine_p99_ms / self.floor_p99_ms if self.floor_p99_ms else float("nan")

    @property
    def difflib_over_engine(self) -> float:
        return self.difflib_ms / self.engine_p50_ms if self.engine_p50_ms else float("nan")

    @property
    def wratio_over_engine(self) -> float:
        return self.wratio_ms / self.engine_p50_ms if self.engine_p50_ms else float("nan")


def vocabulary(knowledge_dir: Path) -> list[str]:
    words: set[str] = set(EXTRA_WORDS)
    for path in knowledge_dir.glob("*.yaml"):
        if path.name in (ASKED_FILE, CRISIS_EXAMPLES_FILE):  # users' words, not the base's
            continue
        words.update(re.findall(r"[a-z]{4,}", path.read_text(encoding="utf-8").casefold()))
    return sorted(words)


def synthetic_entries(
    size: int, words: Sequence[str], rng: random.Random
) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    for n in range(size):
        a, b, c = rng.sample(words, 3)
        phrasings = []
        for template in rng.sample(TEMPLATES, PHRASINGS):
            text = template.format(a=a, b=b, c=c)
            if rng.random() < 0.5:
                text = f"{rng.choice(FILLER)} {text} {rng.choice(words)}"
            phrasings.append(text)
        entries.append(
            {
                "id": f"topic-{n}",
                "title": f"{a} {b}"[:40],
                "phrasings": phrasings,
                "answer": f"About {a} and {b}: " + " ".join(rng.choices(words, k=30)) + ".",
                "related": [f"topic-{(n + 1) % size}"] if size > 1 else [],
                "source": "synthetic benchmark data",
            }
        )
    return entries


def typo(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(max(1, len(chars) // 12)):
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.4:
            del chars[i]
        elif op < 0.7:
            chars.insert(i, rng.choice("aeiourstln"))
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def question_mix(entries: list[dict[str, object]], rng: random.Random, count: int) -> list[str]:
    """A fixed mix: 40 % reworded in-scope, 25 % typos, 20 % off-topic, 15 % long."""
    questions = []
    for n in range(count):
        entry = rng.choice(entries)
        phrasings = entry["phrasings"]
        assert isinstance(phrasings, list)
        kind = n % 20
        if kind < 8:
            words = str(rng.choice(phrasings)).split()
            rng.shuffle(words)
            questions.append(" ".join(words[: max(2, len(words) - 1)]))
        elif kind < 13:
            questions.append(typo(str(rng.choice(phrasings)), rng))
        elif kind < 17:
            questions.append(rng.choice(OFF_TOPIC))
        else:
            questions.append(
                "so I was wondering, "
                + ". ".join(rng.sample(phrasings, 3))
                + ", and also what my friend said about it yesterday?"
            )
    return questions


def write_knowledge(base: Path, entries: list[dict[str, object]], source: Path) -> Path:
    """A knowledge directory: the project's texts, safety and vocabulary, synthetic entries."""
    target = base / f"knowledge-{len(entries)}"
    target.mkdir()
    for name in (
        "texts.yaml",
        "safety.yaml",
        "vocabulary.yaml",
        "schema.json",
        "article.txt",
        "crisis-model.json",
        "emergency-model.json",
        "crisis-languages-model.json",
        "emergency-languages-model.json",
    ):
        (target / name).write_bytes((source / name).read_bytes())
    # The subject rules, without the entries they name (the synthetic base has other ids).
    subjects = yaml.safe_load((source / "subjects.yaml").read_text("utf-8"))
    subjects["any_region"] = {}
    subjects["needs_words"] = {}
    subjects["needs_context"] = []
    subjects["answers_first"] = {}
    subjects["named_first"] = []
    subjects["answers_first_for_the_back"] = {}
    subjects["any_region_with_massage"] = []
    (target / "subjects.yaml").write_text(yaml.safe_dump(subjects, allow_unicode=True), "utf-8")
    (target / "entries.yaml").write_text(
        yaml.safe_dump({"entries": entries}, sort_keys=False, allow_unicode=True), "utf-8"
    )
    return target


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[str], object], questions: Sequence[str]) -> list[float]:
    times = []
    for question in questions:
        start = time.perf_counter()
        fn(question)
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(
    size: int,
    knowledge_dir: Path,
    tmp: Path,
    words: list[str],
    count: int,
    log: Callable[[str], None],
) -> SizeResult:
    rng = random.Random(SEED + size)
    entries = synthetic_entries(size, words, rng)
    directory = write_knowledge(tmp, entries, knowledge_dir)
    questions = question_mix(entries, rng, count)

    start = time.perf_counter()
    engine = Engine(load_knowledge(directory))
    load_s = time.perf_counter() - start
    tracemalloc.start()
    Engine(load_knowledge(directory))
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    phrasings = [p for e in engine.entries for p in e.phrasings]
    normalised = [" ".join(engine.normalise(p)) for p in phrasings]
    for question in questions[:50]:  # warm caches (typo corrections, stems) as a live bot has
        engine.answer(question)

    engine_ms = timed(engine.answer, questions)
    prepared = [" ".join(engine.normalise(q)) for q in questions]
    floor_ms = timed(
        lambda q: process.extractOne(q, normalised, scorer=fuzz.token_sort_ratio, processor=None),
        prepared,
    )

    # The baselines are slow at 10,000 entries: a sample of the same questions, timed alike.
    sample = questions[: max(20, min(len(questions), 200_000 // max(1, len(phrasings))))]

    def difflib_best(question: str) -> str:
        q = question.casefold()
        best, best_score = "", -1.0
        for phrasing in phrasings:
            score = difflib.SequenceMatcher(None, q, phrasing.casefold()).ratio()
            if score > best_score:
                best, best_score = phrasing, score
        return best

    def wratio_best(question: str) -> str:
        best, best_score = "", -1.0
        for phrasing in phrasings:
            score = fuzz.WRatio(question, phrasing)
            if score > best_score:
                best, best_score = phrasing, score
        return best

    difflib_ms = statistics.median(timed(difflib_best, sample))
    wratio_ms = statistics.median(timed(wratio_best, sample))
    result = SizeResult(
        size,
        load_s,
        peak_mb,
        statistics.median(engine_ms),
        percentile(engine_ms, 0.99),
        statistics.median(floor_ms),
        percentile(floor_ms, 0.99),
        difflib_ms,
        wratio_ms,
        len(sample),
        len(sample),
    )
    log(f"  {size} entries done")
    return result


def cold_start(runs: int = 5) -> float:
    """Median seconds from process start to the first answer of `ask`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "run_bot.py", "ask", "do they use oil?"],
            capture_output=True,
            check=True,
            timeout=60,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@dataclass(frozen=True)
class Shipped:
    """Per-message costs on the shipped knowledge base (milliseconds)."""

    messages: int
    answer_p50: float
    answer_p99: float
    safety_p50: float
    safety_p99: float
    language_p50: float


def shipped_timing(knowledge_dir: Path) -> Shipped:
    """engine.answer, the safety check alone and language detection, over real-style messages:
    the labelled sets and the tune halves of the blind sets (never the sealed halves)."""
    from bot.answering.language import detect, detect_all
    from bot.maintain.evaluation import read_labelled

    knowledge = load_knowledge(knowledge_dir)
    engine = Engine(knowledge)
    gate = SafetyGate(knowledge.safety)  # the engine's first step, timed on its own
    data = Path(__file__).resolve().parents[2] / "tests" / "data"
    messages: list[str] = []
    names = ("labelled.yaml", "holdout.yaml", "blind-safety-tune.yaml", "blind-match-tune.yaml")
    for name in names:
        if (data / name).exists():
            messages.extend(item.question for item in read_labelled(data / name)[0])
    languages = gate.languages()
    for text in messages[:50]:  # warm caches and the language model
        engine.answer(text)
    answer = timed(engine.answer, messages)
    safety = timed(lambda t: gate.check(t, *detect_all(t, languages)), messages)
    language = timed(lambda t: detect(t, languages), messages)
    return Shipped(
        len(messages),
        percentile(answer, 0.5),
        percentile(answer, 0.99),
        percentile(safety, 0.5),
        percentile(safety, 0.99),
        percentile(language, 0.5),
    )


def format_table(results: list[SizeResult], cold: float, shipped: Shipped | None = None) -> str:
    lines = [
        "| entries | load (s) | peak MB | engine p50 / p99 (ms) | floor p50 / p99 (ms) "
        "| difflib (ms) | WRatio loop (ms) | engine p99 ÷ floor p99 | difflib ÷ engine "
        "| WRatio ÷ engine |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.entries:,} | {r.load_s:.2f} | {r.peak_mb:.1f} | {r.engine_p50_ms:.2f} / "
            f"{r.engine_p99_ms:.2f} | {r.floor_p50_ms:.2f} / {r.floor_p99_ms:.2f} | "
            f"{r.difflib_ms:.1f} | {r.wratio_ms:.1f} | {r.engine_over_floor:.2f}× | "
            f"{r.difflib_over_engine:.0f}× | {r.wratio_over_engine:.0f}× |"
        )
    lines.append("")
    lines.append(f"`ask` cold start (process start to first answer, median of 5): {cold:.2f} s")
    lines.append(
        "difflib and WRatio: medians over a sample of the same questions "
        f"({', '.join(str(r.difflib_sample) for r in results)} per size)."
    )
    if shipped is not None:
        lines.append(
            f"Shipped knowledge, {shipped.messages} real-style messages: answer p50 / p99 "
            f"{shipped.answer_p50:.2f} / {shipped.answer_p99:.2f} ms; of which the safety check "
            f"(with language detection) p50 / p99 {shipped.safety_p50:.3f} / "
            f"{shipped.safety_p99:.3f} ms, language detection alone p50 "
            f"{shipped.language_p50:.3f} ms."
        )
    return "\n".join(lines)


def main(
    knowledge_dir: Path,
    sizes: Sequence[int] = SIZES,
    count: int = 400,
    log: Callable[[str], None] = print,
) -> str:
    words = vocabulary(knowledge_dir)
    log(f"benchmark: {len(words)} vocabulary words, {count} questions per size, seed {SEED}")
    with tempfile.TemporaryDirectory() as tmp:
        results = [measure(size, knowledge_dir, Path(tmp), words, count, log) for size in sizes]
    return format_table(results, cold_start(), shipped_timing(knowledge_dir))
