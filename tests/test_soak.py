"""Soak: a few thousand mixed updates through the stand-in to the real bot process.

Bounded in count and time, flood limiter off (BOT_FLOOD_LIMIT=off) so it finishes quickly.
Asserts no lost replies, no unhandled errors, and flat memory after warm-up.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from tests.botapi import Running, running_bot
from tests.conftest import LABELLED

pytestmark = pytest.mark.e2e
GROUP = -100555
USERS = 120


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def send_mixed(
    bot: Running, rng: random.Random, questions: list[str], count: int
) -> dict[str, int]:
    """Push `count` mixed updates; return how many replies of each kind they must get."""
    api = bot.api
    expect = {"sendMessage": 0, "answerCallbackQuery": 0, "answerInlineQuery": 0}
    bot_message = api.bot_message(GROUP)
    for _ in range(count):
        user = 10_000 + rng.randrange(USERS)
        roll = rng.random()
        if roll < 0.50:
            api.send_text(user, rng.choice(questions))
            expect["sendMessage"] += 1
        elif roll < 0.57:
            api.send_text(
                user,
                rng.choice(
                    [
                        "/start",
                        "/help",
                        "/topics",
                        "/privacy",
                        "/source",
                        "/disclaimer",
                        "/nonsense",
                        "/ask oil?",
                    ]
                ),
            )
            expect["sendMessage"] += 1
        elif roll < 0.67:
            data = rng.choice(
                [
                    "t:massage-oil",
                    "c:0:techniques",
                    "f:u:benefits",
                    "f:d:athletes",
                    "garbage",
                    "t:gone",
                    "x" * 64,
                ]
            )
            api.push(
                "callback_query",
                {
                    "id": str(rng.random()),
                    "from": api.user(user),
                    "chat_instance": "c",
                    "data": data,
                    "message": api.bot_message(user, "private", message_id=5),
                },
            )
            expect["answerCallbackQuery"] += 1
            if data in ("t:massage-oil", "c:0:techniques"):
                expect["sendMessage"] += 1
        elif roll < 0.77:
            api.push(
                "inline_query",
                {
                    "id": str(rng.random()),
                    "from": api.user(user),
                    "query": rng.choice([*questions, ""]),
                    "offset": "",
                },
            )
            expect["answerInlineQuery"] += 1
        elif roll < 0.82:
            api.push("message", api.sticker(user))
            expect["sendMessage"] += 1
        elif roll < 0.90:
            api.send_text(GROUP, rng.choice(questions), chat_type="supergroup", user_id=user)
        elif roll < 0.95:
            api.send_text(
                GROUP,
                "@massage_faq_bot " + rng.choice(questions),
                chat_type="supergroup",
                user_id=user,
            )
            expect["sendMessage"] += 1
        elif roll < 0.97:
            api.send_text(
                GROUP,
                "and what about oil?",
                chat_type="supergroup",
                user_id=user,
                reply_to_message=bot_message,
            )
            expect["sendMessage"] += 1
        else:
            api.push("edited_message", api.message(user, "edited: do they use oil?", edit_date=1))
    return expect


def wait_all(bot: Running, expect: dict[str, int], timeout: float = 120) -> None:
    for method, count in expect.items():
        ok = bot.api.wait_for(lambda m=method, c=count: len(bot.api.sent(m)) >= c, timeout)
        assert ok, f"{method}: {len(bot.api.sent(method))} of {count}"


def test_soak_mixed_updates(tmp_path: Path) -> None:
    questions = [q["q"] for q in yaml.safe_load(LABELLED.read_text())["questions"]]
    questions += ["<b>html</b> & <script>", "x" * 4000, "🙂" * 50, "\u202eoil?", "?"]
    rng = random.Random(7)
    with running_bot(tmp_path, BOT_FLOOD_LIMIT="off") as bot:
        expect = send_mixed(bot, rng, questions, 600)  # warm-up: caches, imports, database
        wait_all(bot, expect)
        before = rss_kb(bot.proc.pid)
        more = send_mixed(bot, rng, questions, 3000)
        total = {k: expect[k] + more[k] for k in expect}
        wait_all(bot, total)
        after = rss_kb(bot.proc.pid)
        # No lost replies, and none extra (silence in groups stayed silence).
        assert {k: len(bot.api.sent(k)) for k in total} == total
        sent = bot.api.sent()
        assert all("not medical advice" in s["text"] for s in sent)
        assert all(len(s["text"]) <= 4096 for s in sent)
    print(
        f"\nsoak: 3,600 updates, RSS {before / 1024:.0f} MB after warm-up, "
        f"{after / 1024:.0f} MB at the end"
    )
    assert after - before < 40 * 1024, (before, after)  # flat: well under 40 MB of growth
    assert bot.proc.returncode == 0
    assert "Traceback" not in bot.output and "error while handling" not in bot.output
