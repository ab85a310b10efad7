"""Live reload: notice knowledge edits, validate everything, swap in atomically or keep serving.

The running bot holds its engine in one place (`holder["engine"]`); a reload builds a whole new
engine off the event loop and replaces that reference in one assignment, so an update is
answered by either the old knowledge base or the new one, never a mix. An invalid edit (typo,
half-written file, deleted file) leaves the last good engine serving and reports every problem
as file:line to the log and to the admins.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.answering.engine import Engine
from bot.answering.knowledge import check_knowledge
from bot.answering.yamlsource import Problem

log = logging.getLogger("bot.reload")

WATCHED = ("*.yaml", "*.txt", "*.json")
SETTLE_SECONDS = 0.3  # an editor may write a file in several steps: wait until it is quiet


@dataclass
class ReloadOutcome:
    ok: bool
    entries: int
    previous: int
    problems: list[Problem] = field(default_factory=list)

    def message(self) -> str:
        if self.ok:
            change = f" (was {self.previous})" if self.previous != self.entries else ""
            return f"Knowledge reloaded: {self.entries} entries{change}."
        lines = [
            f"Knowledge NOT reloaded; still serving the last good version "
            f"({self.previous} entries). {len(self.problems)} problem(s):"
        ]
        lines += [str(p) for p in self.problems[:20]]
        if len(self.problems) > 20:
            lines.append(f"… and {len(self.problems) - 20} more: run 'python run_bot.py check'")
        return "\n".join(lines)


def signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a maintainer saves, adds or deletes a knowledge file."""
    found = []
    for pattern in WATCHED:
        for path in directory.glob(pattern):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


class Reloader:
    def __init__(
        self,
        directory: Path,
        holder: MutableMapping[str, Any],
        notify: Callable[[str], Awaitable[None]] | None = None,
        interval: float = 2.0,
    ) -> None:
        self.directory = directory
        self.holder = holder
        self.notify = notify
        self.interval = interval
        self._seen = signature(directory)
        self._lock = asyncio.Lock()

    @property
    def engine(self) -> Engine:
        engine: Engine = self.holder["engine"]
        return engine

    async def reload(self) -> ReloadOutcome:
        """Validate the directory now; swap the engine in if valid. Never raises."""
        async with self._lock:
            self._seen = signature(self.directory)
            previous = len(self.engine.entries)
            try:
                engine, problems = await asyncio.to_thread(self._build)
            except Exception as exc:  # a bug must not take the serving engine down
                log.exception("reload failed")
                problems = [Problem(str(self.directory), 1, f"reload failed: {exc}")]
                engine = None
            if engine is None:
                outcome = ReloadOutcome(
                    False, previous, previous, [p for p in problems if p.severity == "error"]
                )
                for problem in outcome.problems:
                    log.error("%s", problem)
                log.error("knowledge not reloaded; still serving %d entries", previous)
            else:
                self.holder["engine"] = engine  # the atomic swap
                outcome = ReloadOutcome(True, len(engine.entries), previous)
                log.info("%s", outcome.message())
            return outcome

    def _build(self) -> tuple[Engine | None, list[Problem]]:
        knowledge, problems = check_knowledge(self.directory)
        return (Engine(knowledge) if knowledge is not None else None), problems

    async def check_once(self) -> ReloadOutcome | None:
        """Reload if anything changed since last time (and has settled); else None."""
        current = signature(self.directory)
        if current == self._seen:
            return None
        await asyncio.sleep(SETTLE_SECONDS)
        if signature(self.directory) != current:
            return None  # still being written: look again next time
        outcome = await self.reload()
        if self.notify is not None:
            try:
                await self.notify(outcome.message())
            except Exception:
                log.exception("could not notify the admins")
        return outcome

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("knowledge watch failed; will try again")
