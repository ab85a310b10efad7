"""The maintainers' report: what users asked that the bot could not answer, and feedback.

Unanswered questions are grouped by similarity, each with the entry it came closest to;
answers are ranked by thumbs-down; clarifications users resolved are listed as candidate
phrasings for the entries they chose.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from rapidfuzz import fuzz

from bot.answering.engine import Engine
from bot.answering.kinds import EventOutcome
from bot.store import Store

SIMILAR = 80.0  # token_sort_ratio of normalised questions that counts as "the same question"


@dataclass
class Unanswered:
    question: str  # the most frequent wording
    count: int
    closest_entry: str | None
    closest_score: float
    examples: list[str] = field(default_factory=list)


@dataclass
class Rating:
    entry_id: str
    up: int
    down: int


@dataclass
class Resolved:
    question: str
    chosen_entry: str
    count: int


@dataclass
class Report:
    since: float
    unanswered: list[Unanswered]
    ratings: list[Rating]
    resolved: list[Resolved]
    totals: dict[EventOutcome, int]
    closest_entries: bool = True  # False: the knowledge base could not be loaded

    def as_json(self) -> dict[str, object]:
        return asdict(self)

    def format(self, limit: int = 20) -> str:
        days = max(1, round((time.time() - self.since) / 86400)) if self.since else None
        span = f"last {days} days" if days else "all records"
        lines = [
            f"Report ({span}): " + ", ".join(f"{k} {v}" for k, v in sorted(self.totals.items()))
            or "no records"
        ]
        heading = "Unanswered questions (most frequent first), closest entry:"
        if not self.closest_entries:
            heading = "Unanswered questions (most frequent first; closest entries left out):"
        lines += ["", heading]
        if not self.unanswered:
            lines.append("  (none)")
        for group in self.unanswered[:limit]:
            closest = (
                f"{group.closest_entry} ({group.closest_score:.0f})"
                if group.closest_entry
                else "nothing close"
            )
            arrow = f" → {closest}" if self.closest_entries else ""
            lines.append(f"  {group.count:4d} × {group.question!r}{arrow}")
            for example in group.examples[:2]:
                lines.append(f"         also: {example!r}")
        lines += ["", "Answers by 👎 (down / up):"]
        if not self.ratings:
            lines.append("  (no feedback)")
        for rating in self.ratings[:limit]:
            lines.append(f"  {rating.entry_id}: {rating.down} 👎 / {rating.up} 👍")
        lines += ["", "Clarifications users resolved (candidate phrasings):"]
        if not self.resolved:
            lines.append("  (none)")
        for item in self.resolved[:limit]:
            lines.append(f"  {item.count:4d} × {item.question!r} → {item.chosen_entry}")
        return "\n".join(lines)


def build_report(store: Store, engine: Engine | None, since: float = 0.0) -> Report:
    """The report; without an engine (the knowledge base is broken) the unanswered questions
    are grouped by their plain wording and no closest entry is given."""
    events = store.events(since)
    totals = Counter(e.outcome for e in events)

    # Group unanswered questions: most frequent wording first, similar ones joined to it.
    wordings = Counter(
        e.question.strip()
        for e in events
        if e.outcome == "fallback" and e.question and e.question.strip()
    )
    groups: list[tuple[str, list[str], int]] = []  # (normalised key, wordings, count)
    for wording, count in wordings.most_common():
        key = (" ".join(engine.normalise(wording)) if engine else "") or wording.casefold()
        for i, (other, members, total) in enumerate(groups):
            if fuzz.token_sort_ratio(key, other) >= SIMILAR:
                groups[i] = (other, [*members, wording], total + count)
                break
        else:
            groups.append((key, [wording], count))
    unanswered = []
    for _, members, count in sorted(groups, key=lambda g: -g[2]):
        ranked = engine.rank(members[0]) if engine else []
        top = ranked[0] if ranked else None
        unanswered.append(
            Unanswered(
                members[0],
                count,
                top.entry_id if top else None,
                top.score if top else 0.0,
                members[1:],
            )
        )

    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for e in events:
        if e.outcome in ("up", "down") and e.entry_id:
            votes[e.entry_id][e.outcome] += 1
    ratings = sorted(
        (Rating(entry, c["up"], c["down"]) for entry, c in votes.items()),
        key=lambda r: (-r.down, r.up, r.entry_id),
    )

    clarify_questions = {e.id: e.question for e in events if e.outcome == "clarify"}
    chosen = Counter(
        (clarify_questions[e.parent], e.entry_id)
        for e in events
        if e.outcome == "chosen"
        and e.parent in clarify_questions
        and e.entry_id
        and clarify_questions[e.parent]
    )
    resolved = [Resolved(q or "", entry or "", n) for (q, entry), n in chosen.most_common()]
    return Report(since, unanswered, ratings, resolved, dict(totals), engine is not None)
