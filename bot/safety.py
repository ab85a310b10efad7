"""Red-flag detection. Runs before any matching: an urgent card replaces any massage answer."""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge import Knowledge, RedFlag
from bot.phrases import Message, PhraseSet

TIER_ORDER = ("emergency", "urgent")


@dataclass(frozen=True)
class SafetyFinding:
    tier: str  # the most serious tier among the flags found
    flags: tuple[RedFlag, ...]


class SafetyGate:
    """Knows every red flag's phrases; `check` says which ones a message raises."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._flags = {f.id: f for f in knowledge.flags}
        self._phrases = PhraseSet((f.id, f.phrases) for f in knowledge.flags)
        self._with = {f.id: PhraseSet([(f.id, f.with_)]) for f in knowledge.flags if f.with_}

    def check(self, message: Message) -> SafetyFinding | None:
        found = []
        for flag_id in self._phrases.find(message):
            also = self._with.get(flag_id)
            if also is not None and not also.find(message):
                continue
            found.append(self._flags[flag_id])
        if not found:
            return None
        found.sort(key=lambda f: TIER_ORDER.index(f.tier))
        return SafetyFinding(found[0].tier, tuple(found))
