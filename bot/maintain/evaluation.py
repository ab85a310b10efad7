"""Score a labelled question file: per-kind accuracy, wrong answers, confusion, confidence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, get_args

from bot.answering.engine import Engine
from bot.answering.kinds import ReplyKind, SafetyLabel
from bot.answering.matching import MatchConfig
from bot.answering.replies import Reply
from bot.answering.yamlsource import Problem, read_yaml

SPECIAL = ("fallback", "urgent", "smalltalk")
# Labels of the blind sets (tests/data/BLIND.md) that all mean "no entry should answer this".
NOT_AN_ENTRY = ("cause", "other-body", "not-covered", "off-topic")
SAFETY_LABELS: tuple[SafetyLabel, ...] = get_args(SafetyLabel)  # most serious first


@dataclass(frozen=True)
class Labelled:
    question: str
    expect: str
    line: int
    accept: tuple[str, ...] = ()  # other entries that would also be a right answer
    category: str = ""  # the blind sets' finer label ("cause", "negation", ...)
    lang: str = "en"

    def right(self, entry_id: str | None) -> bool:
        return entry_id == self.expect or entry_id in self.accept


@dataclass(frozen=True)
class Outcome:
    item: Labelled
    kind: ReplyKind
    entry_id: str | None
    score: float
    suggestions: tuple[str, ...]
    has_disclaimer: bool

    @property
    def group(self) -> str:
        return self.item.expect if self.item.expect in SPECIAL else "in-scope"


@dataclass
class EvalReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def of(self, group: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.group == group]

    def rate(self, group: str, predicate: Callable[[Outcome], bool]) -> float:
        items = self.of(group)
        return sum(1 for o in items if predicate(o)) / len(items) if items else 0.0

    @property
    def top1(self) -> float:
        return self.rate("in-scope", lambda o: o.kind == "answer" and o.item.right(o.entry_id))

    @property
    def wrong(self) -> float:
        return self.rate(
            "in-scope", lambda o: o.kind == "answer" and not o.item.right(o.entry_id)
        )

    @property
    def clarify_right(self) -> float:
        return self.rate(
            "in-scope",
            lambda o: o.kind == "clarify" and any(o.item.right(s) for s in o.suggestions),
        )

    @property
    def off_topic_answered(self) -> float:
        return self.rate("fallback", lambda o: o.kind == "answer")

    @property
    def red_flags(self) -> float:
        return self.rate("urgent", lambda o: o.kind == "urgent")

    @property
    def smalltalk(self) -> float:
        return self.rate("smalltalk", lambda o: o.kind == "smalltalk")

    @property
    def disclaimer(self) -> float:
        return (
            sum(o.has_disclaimer for o in self.outcomes) / len(self.outcomes)
            if self.outcomes
            else 0.0
        )

    def misses(self) -> list[Outcome]:
        """Every outcome that is not what the label expects."""
        out = []
        for o in self.outcomes:
            if o.group == "in-scope":
                ok = o.kind == "answer" and o.item.right(o.entry_id)
            else:
                ok = o.kind == o.item.expect
            if not ok:
                out.append(o)
        return out

    def format(self) -> str:
        def pct(x: float) -> str:
            return f"{100 * x:5.1f} %"

        in_scope = self.of("in-scope")
        kinds = Counter(o.kind for o in in_scope)
        off = self.of("fallback")
        off_kinds = Counter(o.kind for o in off)
        lines = [
            f"questions: {len(self.outcomes)} (in-scope {len(in_scope)}, off-topic {len(off)}, "
            f"red flags {len(self.of('urgent'))}, smalltalk {len(self.of('smalltalk'))})",
            "",
            "| measure | value |",
            "|---|---|",
            f"| in-scope top-1 (answered with the right entry) | {pct(self.top1)} |",
            f"| in-scope wrong answers | {pct(self.wrong)} |",
            f"| in-scope clarify offering the right entry | {pct(self.clarify_right)} |",
            f"| in-scope clarify without it / fallback / urgent | "
            f"{kinds['clarify'] - round(self.clarify_right * len(in_scope))} / "
            f"{kinds['fallback']} / {kinds['urgent']} |",
            f"| off-topic answered (kind answer) | {pct(self.off_topic_answered)} |",
            f"| off-topic clarify / fallback / urgent | {off_kinds['clarify']} / "
            f"{off_kinds['fallback']} / {off_kinds['urgent']} |",
            f"| red flags escalated | {pct(self.red_flags)} |",
            f"| smalltalk recognised | {pct(self.smalltalk)} |",
            f"| replies with the disclaimer | {pct(self.disclaimer)} |",
        ]
        lines += ["", "confidence of answers (top score): right | wrong"]
        buckets = range(40, 101, 10)
        for low in buckets:
            high = low + 10
            right = sum(
                1
                for o in in_scope
                if o.kind == "answer" and o.item.right(o.entry_id) and low <= o.score < high
            )
            wrong = sum(
                1
                for o in self.outcomes
                if o.kind == "answer" and not o.item.right(o.entry_id) and low <= o.score < high
            )
            lines.append(f"  {low:3d}-{high:<3d} {'#' * right:<40} | {'x' * wrong}")
        misses = self.misses()
        confusion = Counter(
            (o.item.expect, o.entry_id or o.kind) for o in misses if o.kind == "answer"
        )
        if confusion:
            lines += ["", "confusion (expected -> answered):"]
            lines += [f"  {exp} -> {got}: {n}" for (exp, got), n in confusion.most_common()]
        if misses:
            lines += ["", "misses:"]
            for o in misses:
                got = o.kind + (f" {o.entry_id}" if o.entry_id else "")
                if o.suggestions:
                    got += f" [{', '.join(o.suggestions)}]"
                lines.append(
                    f"  line {o.item.line}: {o.item.question!r} expected {o.item.expect},"
                    f" got {got} ({o.score:.1f})"
                )
        return "\n".join(lines)


def read_labelled(path: Path) -> tuple[list[Labelled], list[Problem]]:
    doc, problems = read_yaml(path, str(path))
    if doc is None:
        return [], problems
    value = doc.value
    items = value.get("questions") if isinstance(value, dict) else value
    if not isinstance(items, list):
        return [], [Problem(str(path), 1, "expected a list of {q, expect} under 'questions'")]
    out = []
    prefix: tuple[str | int, ...] = ("questions",) if isinstance(value, dict) else ()
    for i, item in enumerate(items):
        line = doc.line((*prefix, i))
        text = item.get("q", item.get("text")) if isinstance(item, dict) else None
        if not (isinstance(text, str) and isinstance(item.get("expect"), str)):
            problems.append(Problem(str(path), line, "each item needs text 'q' and 'expect'"))
            continue
        expect, category = item["expect"], str(item.get("category", ""))
        if expect in NOT_AN_ENTRY:
            expect, category = "fallback", expect
        out.append(
            Labelled(
                text,
                expect,
                line,
                tuple(item.get("accept") or ()),
                category,
                str(item.get("lang", "en")),
            )
        )
    return out, problems


def is_safety_set(items: list[Labelled]) -> bool:
    return bool(items) and all(i.expect in SAFETY_LABELS for i in items)


@dataclass(frozen=True)
class SafetyOutcome:
    item: Labelled
    tier: SafetyLabel  # the card's tier, or "none"
    kind: ReplyKind
    language: str
    has_disclaimer: bool
    text: str
    check_in: bool = False  # the low-mood check-in line was added (helplines, no card)


@dataclass
class SafetyReport:
    """Recall by tier, false alarms and the confusion between tiers (issue 8's measures)."""

    outcomes: list[SafetyOutcome] = field(default_factory=list)

    def of(self, *expect: str) -> list[SafetyOutcome]:
        return [o for o in self.outcomes if o.item.expect in expect]

    @staticmethod
    def _share(items: list[SafetyOutcome], ok: Callable[[SafetyOutcome], bool]) -> float:
        return sum(1 for o in items if ok(o)) / len(items) if items else 1.0

    def recall(self, tier: SafetyLabel) -> float:
        """Share of `tier` messages given a card at least as serious."""
        rank = {t: i for i, t in enumerate(SAFETY_LABELS)}
        return self._share(self.of(tier), lambda o: rank[o.tier] <= rank[tier])

    @property
    def any_card(self) -> float:
        return self._share(self.of(*SAFETY_LABELS[:3]), lambda o: o.tier != "none")

    @property
    def false_alarms(self) -> float:
        return self._share(self.of("none"), lambda o: o.tier != "none")

    @property
    def crisis_reached(self) -> float:
        """Crisis messages given the crisis card or, at least, the check-in line's helplines."""
        return self._share(self.of("crisis"), lambda o: o.tier == "crisis" or o.check_in)

    @property
    def check_in_on_none(self) -> float:
        return self._share(self.of("none"), lambda o: o.check_in)

    @property
    def wrong_tier(self) -> float:
        """Crisis or emergency messages given a less serious card (same-day)."""
        return self._share(self.of("crisis", "emergency"), lambda o: o.tier == "same-day")

    @property
    def disclaimer(self) -> float:
        return self._share(self.outcomes, lambda o: o.has_disclaimer)

    def format(self) -> str:
        def pct(x: float) -> str:
            return f"{100 * x:5.1f} %"

        n = Counter(o.item.expect for o in self.outcomes)
        lines = [
            f"messages: {len(self.outcomes)} (crisis {n['crisis']}, emergency {n['emergency']}, "
            f"same-day {n['same-day']}, none {n['none']}; "
            f"not English {sum(1 for o in self.outcomes if o.item.lang != 'en')})",
            "",
            "| measure | value |",
            "|---|---|",
            f"| crisis recall | {pct(self.recall('crisis'))} |",
            f"| crisis given the card or the check-in line | {pct(self.crisis_reached)} |",
            f"| emergency recall (emergency or crisis card) | {pct(self.recall('emergency'))} |",
            f"| same-day recall (any card) | {pct(self.recall('same-day'))} |",
            f"| all red flags given a card | {pct(self.any_card)} |",
            f"| false alarms (a card for a `none` message) | {pct(self.false_alarms)} |",
            f"| check-in line on a `none` message | {pct(self.check_in_on_none)} |",
            f"| wrong tier (crisis or emergency given same-day) | {pct(self.wrong_tier)} |",
            f"| replies with the disclaimer | {pct(self.disclaimer)} |",
            "",
            "expected \\ got | crisis | emergency | same-day | none",
        ]
        for exp in SAFETY_LABELS:
            got = Counter(o.tier for o in self.of(exp))
            lines.append(f"{exp} | " + " | ".join(str(got[t]) for t in SAFETY_LABELS))
        langs = sorted({o.item.lang for o in self.outcomes} - {"en"})
        if langs:
            lines += ["", "other languages (right / messages): " + ", ".join(
                f"{lang} {sum(1 for o in self.outcomes if o.item.lang == lang and _ok(o))}/"
                f"{sum(1 for o in self.outcomes if o.item.lang == lang)}"
                for lang in langs
            )]
        misses = [o for o in self.outcomes if not _ok(o)]
        if misses:
            lines += ["", "misses:"]
            lines += [
                f"  line {o.item.line}: expected {o.item.expect}, got {o.tier} ({o.kind}, "
                f"{o.language}): {o.item.question!r}"
                for o in misses
            ]
        return "\n".join(lines)


def _ok(o: SafetyOutcome) -> bool:
    return o.tier == o.item.expect or (o.item.expect == "emergency" and o.tier == "crisis")


def _replies(engine: Engine, items: list[Labelled]) -> Iterator[tuple[Labelled, Reply, str, bool]]:
    """Each labelled message with its reply, its plain text and whether the disclaimer ends it."""
    disclaimer = engine.disclaimer
    for item in items:
        reply = engine.answer(item.question)
        text = engine.render_plain(reply)
        yield item, reply, text, text.endswith(disclaimer)


def evaluate_safety(engine: Engine, items: list[Labelled]) -> SafetyReport:
    report = SafetyReport()
    for item, reply, text, has_disclaimer in _replies(engine, items):
        report.outcomes.append(
            SafetyOutcome(
                item,
                reply.tier or "none",
                reply.kind,
                reply.language,
                has_disclaimer,
                text,
                "check-in" in reply.advice,
            )
        )
    return report


def evaluate(engine: Engine, items: list[Labelled]) -> EvalReport:
    report = EvalReport()
    for item, reply, _, has_disclaimer in _replies(engine, items):
        report.outcomes.append(
            Outcome(
                item,
                reply.kind,
                reply.entry_id,
                reply.score,
                tuple(s.id for s in reply.suggestions),
                has_disclaimer,
            )
        )
    return report


# The settings `eval --sweep` tries, one knob at a time around the shipped MatchConfig.
SWEEP: dict[str, tuple[float, ...]] = {
    "unknown_weight": (0.2, 0.4, 0.6, 0.8),
    "answer_score": (44.0, 48.0, 52.0),
    "answer_gap": (2.0, 4.0, 6.0),
    "clarify_score": (36.0, 40.0, 44.0),
    "coverage_weight": (0.4, 0.5, 0.6),
    "fused_cosine": (0.5, 0.6),
    "agree_cosine": (0.5, 0.55, 1.01),  # 1.01: never answered on agreement alone
    "semantic_min_words": (1, 2, 3),
    "model_clarify": (0.3, 0.4, 0.5, 1.01),  # 1.01: the entry model never answers a clarify
    "model_fallback": (0.5, 0.6, 0.7, 1.01),
    "model_veto": (0.6, 0.7, 0.8, 0.9, 1.01),
    "model_override": (0.6, 0.7, 0.8, 0.9, 1.01),
    "model_rules": (0.7, 0.8, 0.9, 0.95, 1.01),
    "model_topic_free": (0.8, 0.9, 0.95, 1.01),
}


def sweep_table(
    engine: Engine,
    sets: dict[str, list[Labelled]],
    grid: dict[str, tuple[float, ...]] | None = None,
) -> str:
    """Top-1 / wrong / off-topic answered for each file, one knob varied at a time."""
    base = MatchConfig()
    configs = [("shipped", base)]
    configs.append(("semantic=off", replace(base, semantic=False)))
    for knob, values in (grid or SWEEP).items():
        for value in values:
            if value != getattr(base, knob):
                changed: dict[str, Any] = {knob: value}
                configs.append((f"{knob}={value:g}", replace(base, **changed)))
    names = [n for n, items in sets.items() if not is_safety_set(items)]
    header = "| setting | " + " | ".join(f"{n}: top-1 / wrong / off-topic" for n in names) + " |"
    lines = [header, "|---|" + "---|" * len(names)]
    for label, config in configs:
        tried = engine.with_config(config)
        cells = []
        for name in names:
            report = evaluate(tried, sets[name])
            cells.append(
                f"{100 * report.top1:.1f} / {100 * report.wrong:.1f} / "
                f"{100 * report.off_topic_answered:.1f}"
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
