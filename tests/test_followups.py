"""The follow-up memory: a window in time, bounded in size, and nothing of the question kept."""

from __future__ import annotations

import sys

from bot.answering.engine import Engine
from bot.answering.followups import FollowUps
from bot.answering.replies import Part, Reply


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _answer(entry_id: str) -> Reply:
    return Reply("answer", "private question text", (Part("text", "x"),), entry_id=entry_id)


def test_remembers_within_the_window_only() -> None:
    clock = Clock()
    memory = FollowUps(ttl=300, clock=clock)
    memory.remember(("chat", 1), _answer("massage-oil"))
    clock.now = 299
    assert memory.previous(("chat", 1)) == "massage-oil"
    clock.now = 301
    assert memory.previous(("chat", 1)) is None
    assert len(memory) == 0


def test_other_replies_end_the_thread() -> None:
    memory = FollowUps()
    memory.remember("c", _answer("massage-oil"))
    memory.remember("c", Reply("fallback", "q", (Part("text", "x"),)))
    assert memory.previous("c") is None


def test_conversations_are_kept_apart() -> None:
    memory = FollowUps()
    memory.remember((1, 10, None), _answer("massage-oil"))
    memory.remember((1, 11, None), _answer("techniques"))
    assert memory.previous((1, 10, None)) == "massage-oil"
    assert memory.previous((1, 11, None)) == "techniques"
    assert memory.previous((1, 10, 7)) is None  # another forum thread


def test_memory_is_bounded_with_100000_chats() -> None:
    memory = FollowUps(max_conversations=10_000)
    for chat in range(100_000):
        memory.remember(chat, _answer("massage-oil"))
    assert len(memory) == 10_000
    assert memory.previous(0) is None and memory.previous(99_999) == "massage-oil"
    # Only ids and times: no question text is held.
    stored = memory._last[99_999]
    assert stored[0] == "massage-oil" and isinstance(stored[1], float)
    assert sys.getsizeof(memory._last) < 2_000_000


def test_console_reads_follow_ups_in_context(engine: Engine) -> None:
    import io

    from bot.console import console

    out = io.StringIO()
    console(engine, io.StringIO("can i have a massage while pregnant\nis it safe?\n"), out)
    replies = out.getvalue().split("bot> ")  # the opening, then one reply per line
    assert "Massage in pregnancy" in replies[2] and "Massage in pregnancy" in replies[3]
