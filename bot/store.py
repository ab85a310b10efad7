"""What users asked that the bot could not answer, and what they thought of its answers.

SQLite (standard library) under BOT_DATA_DIR, WAL mode, schema created on first use. Stored:
the question text, the outcome, the entry, the score, the chat type and the time. Never user
ids, names or usernames: a vote keeps only a salted hash of (message, user), so one user has
one vote per answer and votes cannot be linked across messages; it is deleted with the vote.
Records older than the retention period are deleted.

The bot writes through `Recorder`, whose writes run on one writer thread, never on the event
loop. Recording must never cost a user their reply: every failure here is logged and swallowed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.answering.kinds import EVENT_OUTCOMES, EventOutcome, Vote
from bot.answering.replies import Reply

log = logging.getLogger("bot.store")

DB_FILE = "bot.sqlite3"
SCHEMA_VERSION = 2
PRUNE_BATCH = 2000  # rows per DELETE, so a large prune never holds the database for long
T = TypeVar("T")
MAX_QUESTION_CHARS = 1000
# outcome: an EventOutcome (bot/answering/kinds.py): fallback | clarify | chosen (a clarify
# suggestion tapped) | up | down (feedback)
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id        INTEGER PRIMARY KEY,
    at        REAL    NOT NULL,              -- unix time
    outcome   TEXT    NOT NULL,
    question  TEXT,                          -- what was asked (fallback, clarify)
    entry_id  TEXT,                          -- entry answered, chosen, rated or closest
    score     REAL,
    chat_type TEXT,                          -- private, group, supergroup, inline
    parent    INTEGER REFERENCES events(id), -- for chosen: the clarify it resolves
    voter     TEXT                           -- up/down: salted hash of (message, user)
);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE INDEX IF NOT EXISTS events_outcome ON events(outcome, at);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
VOTER_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS events_voter ON events(voter) WHERE voter IS NOT NULL"
)
OUTCOMES = EVENT_OUTCOMES


@dataclass(frozen=True)
class Event:
    id: int
    at: float
    outcome: EventOutcome
    question: str | None
    entry_id: str | None
    score: float | None
    chat_type: str | None
    parent: int | None


class Store:
    """A small thread-safe wrapper over one SQLite connection."""

    def __init__(self, path: Path, retention_days: int = 90) -> None:
        self.path = path
        self.retention_days = retention_days
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=2000")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
        if "voter" not in columns:  # a version 1 database
            self._db.execute("ALTER TABLE events ADD COLUMN voter TEXT")
        self._db.execute(VOTER_INDEX)
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)", (secrets.token_hex(16),)
        )
        self._salt = str(self._db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()[0])

    def voter_key(self, voter: str) -> str:
        """A salted hash standing for one user's vote on one message; not reversible to an id
        without the salt, and different for the same user on another message."""
        return hashlib.sha256(f"{self._salt}:{voter}".encode()).hexdigest()[:32]

    @classmethod
    def open(cls, data_dir: Path, retention_days: int = 90) -> Store | None:
        """Open the store, or None (logged) if the data directory cannot be used."""
        try:
            return cls(data_dir / DB_FILE, retention_days)
        except (OSError, sqlite3.Error) as exc:
            log.warning("not recording questions: cannot open %s: %s", data_dir / DB_FILE, exc)
            return None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def record(
        self,
        outcome: EventOutcome,
        *,
        question: str | None = None,
        entry_id: str | None = None,
        score: float | None = None,
        chat_type: str | None = None,
        parent: int | None = None,
        at: float | None = None,
        voter: str | None = None,
    ) -> int | None:
        """Add one event; returns its id, or None if it could not be written.

        With `voter` (a vote), a later vote by the same voter replaces the earlier one.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        text = question[:MAX_QUESTION_CHARS] if question is not None else None
        key = self.voter_key(voter) if voter is not None else None
        try:
            with self._guard() as db:
                cursor = db.execute(
                    "INSERT INTO events (at, outcome, question, entry_id, score, chat_type,"
                    " parent, voter) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(voter) WHERE voter IS NOT NULL DO UPDATE SET"
                    " at = excluded.at, outcome = excluded.outcome, entry_id = excluded.entry_id",
                    (
                        at if at is not None else time.time(),
                        outcome,
                        text,
                        entry_id,
                        score,
                        chat_type,
                        parent,
                        key,
                    ),
                )
                return cursor.lastrowid
        except (sqlite3.Error, OverflowError, ValueError) as exc:
            log.warning("could not record a %s event: %s", outcome, exc)
            return None

    def prune(self, now: float | None = None) -> int:
        """Delete events older than the retention period; returns how many."""
        cutoff = (now if now is not None else time.time()) - self.retention_days * 86400
        removed = 0
        try:
            while True:  # in batches: writers wait for one batch, never for the whole prune
                with self._guard() as db:
                    count = db.execute(
                        "DELETE FROM events WHERE id IN"
                        " (SELECT id FROM events WHERE at < ? LIMIT ?)",
                        (cutoff, PRUNE_BATCH),
                    ).rowcount
                removed += count
                if count < PRUNE_BATCH:
                    return removed
        except sqlite3.Error as exc:
            log.warning("could not prune old events: %s", exc)
            return removed

    def events(self, since: float = 0.0, outcome: EventOutcome | None = None) -> list[Event]:
        query = (
            "SELECT id, at, outcome, question, entry_id, score, chat_type, parent "
            "FROM events WHERE at >= ?"
        )
        args: list[object] = [since]
        if outcome is not None:
            query += " AND outcome = ?"
            args.append(outcome)
        with self._guard() as db:
            rows = db.execute(query + " ORDER BY id", args).fetchall()
        return [Event(*row) for row in rows]

    def counts(self, since: float = 0.0) -> dict[str, int]:
        with self._guard() as db:
            rows = db.execute(
                "SELECT outcome, COUNT(*) FROM events WHERE at >= ? GROUP BY outcome", (since,)
            ).fetchall()
        return {outcome: int(n) for outcome, n in rows}


class Recorder:
    """Counts replies since start and records the ones maintainers learn from.

    Channel-agnostic: the Telegram handlers call it with the reply and the chat type. Its
    methods are coroutines: the SQLite work runs on one writer thread, so a slow disk or a
    prune holding the database never stalls the event loop.
    """

    def __init__(self, store: Store | None) -> None:
        self.store = store
        self.started = time.time()
        self.since_start: Counter[str] = Counter()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")

    async def run(self, work: Callable[[Store], T]) -> T | None:
        """Run `work(store)` on the writer thread; None without a store or when it fails."""
        store = self.store
        if store is None:
            return None
        try:
            return await asyncio.get_running_loop().run_in_executor(self._writer, work, store)
        except (RuntimeError, sqlite3.Error) as exc:  # RuntimeError: the writer was shut down
            log.warning("could not record: %s", exc)
            return None

    def close(self) -> None:
        """Finish the queued writes, then close the store."""
        self._writer.shutdown(wait=True)
        if self.store is not None:
            self.store.close()

    async def reply(self, reply: Reply, chat_type: str) -> int | None:
        """Count a reply; record fallbacks and clarifications. Returns a clarify's event id."""
        self.since_start[reply.kind] += 1
        if self.store is None or not reply.question.strip():
            return None
        if "check-in" in reply.advice:
            return None  # words of low mood are never kept, as crisis messages never are
        if reply.kind == "fallback":
            return await self.run(
                lambda s: s.record(
                    "fallback", question=reply.question, score=reply.score, chat_type=chat_type
                )
            )
        if reply.kind == "clarify":
            top = reply.suggestions[0].id if reply.suggestions else None
            return await self.run(
                lambda s: s.record(
                    "clarify",
                    question=reply.question,
                    entry_id=top,
                    score=reply.score,
                    chat_type=chat_type,
                )
            )
        return None

    async def chosen(self, clarify_id: int | None, entry_id: str, chat_type: str) -> None:
        self.since_start["chosen"] += 1
        await self.run(
            lambda s: s.record(
                "chosen", entry_id=entry_id, chat_type=chat_type, parent=clarify_id or None
            )
        )

    async def feedback(
        self, vote: Vote, entry_id: str, chat_type: str, voter: str | None = None
    ) -> None:
        """Record 👍 / 👎; with `voter` (message and user), a repeated vote replaces the last."""
        self.since_start[vote] += 1
        await self.run(
            lambda s: s.record(vote, entry_id=entry_id, chat_type=chat_type, voter=voter)
        )
