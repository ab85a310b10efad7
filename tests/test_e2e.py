"""End to end: the real `python run_bot.py run` process against the Bot API stand-in.

Polling and webhook mode, on 127.0.0.1 only, with a fake token. Slowest tests in the suite
(a few seconds each); the burst figure is printed for the record, never asserted on time.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.botapi import TOKEN, running_bot
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e
GROUP = -100777


def test_polling_end_to_end(tmp_path: Path) -> None:
    with running_bot(tmp_path, "--drop-pending") as bot:
        api = bot.api
        # a private question
        api.send_text(1, "what is remedial massage?")
        (reply,) = bot.wait_replies(1, 1)
        assert "deep tissue" in reply["text"] and "not medical advice" in reply["text"]
        # /start, /topics and a button tap
        api.send_text(2, "/start")
        api.send_text(2, "/topics")
        replies = bot.wait_replies(2, 2)
        button = replies[1]["reply_markup"]["inline_keyboard"][0][0]
        api.push(
            "callback_query",
            {
                "id": "cb",
                "from": api.user(2),
                "chat_instance": "c",
                "data": button["callback_data"],
                "message": api.bot_message(2, "private"),
            },
        )
        replies = bot.wait_replies(2, 3)
        assert "deep tissue" in replies[2]["text"]
        assert api.wait_for(lambda: len(api.sent("answerCallbackQuery")) == 1)
        # groups: silence, a mention, /ask@bot, a reply to the bot
        kw: dict[str, Any] = {"chat_type": "supergroup", "user_id": 9}
        api.send_text(GROUP, "anyone tried remedial massage for their back?", **kw)
        api.send_text(GROUP, "@massage_faq_bot do they use oil?", **kw)
        bot.wait_replies(GROUP, 1)
        api.send_text(GROUP, "/ask@massage_faq_bot will it hurt?", **kw)
        bot.wait_replies(GROUP, 2)
        earlier = api.bot_message(GROUP, message_id=3)
        api.send_text(GROUP, "thanks, and for athletes?", reply_to_message=earlier, **kw)
        group = bot.wait_replies(GROUP, 3)
        assert [
            "lubricant" in group[0]["text"],
            "vigorous" in group[1]["text"],
            "athletes" in group[2]["text"],
        ] == [True, True, True]
        # inline, sticker, HTML and a 4096-character question
        api.push("inline_query", {"id": "iq", "from": api.user(3), "query": "oil", "offset": ""})
        assert api.wait_for(lambda: len(api.sent("answerInlineQuery")) == 1)
        api.push(
            "message",
            api.sticker(3),
        )
        api.send_text(3, "<b>bold</b> & <script>oil?</script>")
        api.send_text(3, ("will it hurt " * 400)[:4096])
        replies = bot.wait_replies(3, 3)
        assert "as text" in replies[0]["text"]
        assert "<script>" not in replies[1]["text"]
        assert all(len(r["text"]) <= 4096 for r in replies)
        # a 429 with retry_after, then a 502: the replies still arrive
        api.fail_next(
            "sendMessage",
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            },
        )
        api.send_text(4, "do they stretch your joints?")
        bot.wait_replies(4, 1)
        api.fail_next(
            "sendMessage", 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        )
        api.send_text(4, "is back pain common?")
        replies = bot.wait_replies(4, 2)
        assert [m for m, _ in api.failed] == ["sendMessage", "sendMessage"]
        assert "passive joint stretching" in replies[0]["text"]
        assert "everyone" in replies[1]["text"]
        # silence in the group stayed silence
        assert len(bot.replies_to(GROUP)) == 3
        # a burst of 200 questions from 40 users
        questions = [
            "what is remedial massage",
            "do they use oil",
            "will it hurt",
            "is it good for athletes",
            "back pain for years, will it help",
        ]
        start = time.monotonic()
        for n in range(200):
            api.send_text(1000 + n % 40, questions[n % len(questions)])
        for user in range(40):
            bot.wait_replies(1000 + user, 5, timeout=120)
        elapsed = time.monotonic() - start
        print(
            f"\nburst: 200 questions from 40 users answered in {elapsed:.1f} s "
            f"({200 / elapsed:.0f}/s, rate limiter on)"
        )
    assert bot.proc.returncode == 0, bot.output  # SIGTERM stops cleanly
    assert TOKEN not in bot.output
    assert "Traceback" not in bot.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_webhook_requires_the_secret(tmp_path: Path) -> None:
    port = _free_port()
    with running_bot(
        tmp_path,
        "--webhook-url",
        "https://bot.example.invalid/telegram",
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        TELEGRAM_WEBHOOK_SECRET="s3cret-value",
    ) as bot:
        api = bot.api
        assert api.wait_for(lambda: len(api.sent("setWebhook")) == 1)
        (hook,) = api.sent("setWebhook")
        assert hook["secret_token"] == "s3cret-value"
        update = {"update_id": 1, "message": api.message(8, "do they use oil?")}
        body = json.dumps(update).encode()

        def post(headers: dict[str, str]) -> int:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/telegram",
                data=body,
                headers={"Content-Type": "application/json", **headers},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return int(response.status)
            except urllib.error.HTTPError as exc:
                return int(exc.code)

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the webhook server may start after setWebhook
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        assert post({}) == 403
        assert post({"X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403
        assert bot.replies_to(8) == []
        assert post({"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}) == 200
        assert "lubricant" in bot.wait_replies(8, 1)[0]["text"]
    assert bot.proc.returncode == 0, bot.output
    assert TOKEN not in bot.output


def test_without_token_it_says_what_to_do() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    result = subprocess.run(
        [sys.executable, "run_bot.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "@BotFather" in result.stderr and "console" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_live_reload_in_the_running_bot(tmp_path: Path, knowledge_copy: Path) -> None:
    phrasing = "what do therapists rub into the skin"
    with running_bot(
        tmp_path, KNOWLEDGE_DIR=str(knowledge_copy), BOT_RELOAD_SECONDS="0.2", BOT_ADMIN_IDS="77"
    ) as bot:
        api = bot.api
        entries = knowledge_copy / "entries.yaml"
        good = entries.read_text()
        entries.write_text(
            good.replace(
                "      - do they use oil\n", f"      - do they use oil\n      - {phrasing}\n"
            )
        )
        assert api.wait_for(lambda: any("reloaded" in s["text"] for s in bot.replies_to(77)))
        api.send_text(5, phrasing)
        assert "lubricant" in bot.wait_replies(5, 1)[0]["text"]
        # A broken edit: the admin is told where, users keep getting answers.
        entries.write_text(good.replace("    title: Massage oil", "    title: [Massage oil"))
        assert api.wait_for(lambda: any("NOT reloaded" in s["text"] for s in bot.replies_to(77)))
        warning = next(s["text"] for s in bot.replies_to(77) if "NOT reloaded" in s["text"])
        assert "entries.yaml:" in warning
        api.send_text(5, phrasing)
        assert "lubricant" in bot.wait_replies(5, 2)[1]["text"]
        # /reload from a non-admin reveals nothing.
        api.send_text(6, "/reload")
        assert "don't know that command" in bot.wait_replies(6, 1)[0]["text"]
    assert bot.proc.returncode == 0, bot.output
    assert "entries.yaml:" in bot.output  # the problem was logged as file:line too
    assert (tmp_path / "data" / "bot.sqlite3").exists()
