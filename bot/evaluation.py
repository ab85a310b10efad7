"""Score a labelled question file: per-kind accuracy, wrong answers, confusion, confidence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.engine import Engine
from bot.yamlsource import Problem, read_yaml

SPECIAL = ("fallback", "urgent", "smalltalk")


@dataclass(frozen=True)
class Labelled:
    question: str
    expect: str
    line: int


@dataclass(frozen=True)
class Outcome:
    item: Labelled
    kind: str
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
        return self.rate("in-scope", lambda o: o.kind == "answer" and o.entry_id == o.item.expect)

    @property
    def wrong(self) -> float:
        return self.rate("in-scope", lambda o: o.kind == "answer" and o.entry_id != o.item.expect)

    @property
    def clarify_right(self) -> float:
        return self.rate(
            "in-scope", lambda o: o.kind == "clarify" and o.item.expect in o.suggestions
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
                ok = o.kind == "answer" and o.entry_id == o.item.expect
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
                if o.kind == "answer" and o.entry_id == o.item.expect and low <= o.score < high
            )
            wrong = sum(
                1
                for o in self.outcomes
                if o.kind == "answer" and o.entry_id != o.item.expect and low <= o.score < high
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
        if not (
            isinstance(item, dict)
            and isinstance(item.get("q"), str)
            and isinstance(item.get("expect"), str)
        ):
            problems.append(Problem(str(path), line, "each item needs text 'q' and 'expect'"))
            continue
        out.append(Labelled(item["q"], item["expect"], line))
    return out, problems


def evaluate(engine: Engine, items: list[Labelled]) -> EvalReport:
    report = EvalReport()
    disclaimer = engine.renderer.disclaimer
    for item in items:
        reply = engine.answer(item.question)
        text = engine.render_plain(reply)
        report.outcomes.append(
            Outcome(
                item,
                reply.kind,
                reply.entry_id,
                reply.score,
                tuple(s.id for s in reply.suggestions),
                text.endswith(disclaimer),
            )
        )
    return report
