"""Issue 9: the bot under real conditions, through the in-process Application and the stand-in.

Each test is a defect the issue lists, reproduced by feeding updates the way Telegram sends them
(UTF-16 entity offsets, captions, text mentions, old queries, failing sends).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.answering.engine import Engine
from bot.answering.replies import Topic
from bot.config import ConfigError, Settings
from bot.store import Store
from bot.telegram.app import PerChatOrder, build_application
from tests.botapi import BOT, TOKEN, FakeBotAPI, RecordingRequest

GROUP = -100321
ADMIN = 4242


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "token": TOKEN,
        "base_url": "http://127.0.0.1:9/bot",
        "knowledge_dir": Path("knowledge"),
        "data_dir": Path(),
        "admin_ids": frozenset({ADMIN}),
        "webhook_secret": None,
        "retention_days": 90,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "bot.sqlite3")


async def make_app(engine: Engine, store: Store | None, *, rate_limit: bool = False) -> Any:
    api = FakeBotAPI()
    app = build_application(
        settings(), engine, store=store, rate_limit=rate_limit, request=RecordingRequest(api)
    )
    await app.initialize()
    return app, api


@pytest.fixture
async def bot(engine: Engine, store: Store) -> AsyncIterator[tuple[Any, FakeBotAPI]]:
    app, api = await make_app(engine, store)
    yield app, api
    await app.shutdown()


async def feed(app: Any, api: FakeBotAPI, kind: str, payload: dict[str, Any]) -> None:
    update_id = api.push(kind, payload)
    await app.process_update(Update.de_json({"update_id": update_id, kind: payload}, app.bot))


def tap(api: FakeBotAPI, data: str, user: int = 5, **message: Any) -> dict[str, Any]:
    return {
        "id": f"q{random.random()}",
        "from": api.user(user),
        "chat_instance": "1",
        "data": data,
        "message": message or api.bot_message(user, "private", message_id=77),
    }


def telegram_error(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        error["parameters"] = parameters
    return error


# --- 2. per-chat order without head-of-line blocking ------------------------------------------


def _update(api: FakeBotAPI, chat: int, chat_type: str = "private") -> Update:
    message = api.message(chat, "x", chat_type=chat_type)
    return Update.de_json({"update_id": 1, "message": message}, None)


async def test_one_chats_burst_runs_one_at_a_time_in_order() -> None:
    api = FakeBotAPI()
    processor = PerChatOrder(8)
    rng = random.Random(3)
    active, most, finished = 0, 0, []

    async def work(n: int) -> None:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(rng.choice([0, 0, 0.001, 0.003]))
        active -= 1
        finished.append(n)

    tasks = []
    for n in range(200):
        tasks.append(asyncio.create_task(processor.process_update(_update(api, 1), work(n))))
        if rng.random() < 0.5:
            await asyncio.sleep(rng.choice([0, 0.001, 0.002]))
    await asyncio.gather(*tasks)
    assert most == 1
    assert finished == list(range(200))
    assert processor.waiting() == 0  # nothing left behind


async def test_three_updates_finish_in_order_when_the_third_comes_at_the_handover() -> None:
    api = FakeBotAPI()
    processor = PerChatOrder(8)
    finished: list[str] = []
    first_done = asyncio.Event()

    async def work(name: str, seconds: float, event: asyncio.Event | None = None) -> None:
        await asyncio.sleep(seconds)
        finished.append(name)
        if event is not None:
            event.set()

    u1 = asyncio.create_task(
        processor.process_update(_update(api, 1), work("u1", 0.02, first_done))
    )
    await asyncio.sleep(0)
    u2 = asyncio.create_task(processor.process_update(_update(api, 1), work("u2", 0.02)))
    await first_done.wait()  # u1 has just finished; u2 is being handed the chat
    u3 = asyncio.create_task(processor.process_update(_update(api, 1), work("u3", 0)))
    await asyncio.gather(u1, u2, u3)
    assert finished == ["u1", "u2", "u3"]


async def test_a_busy_group_does_not_hold_up_a_private_chat() -> None:
    api = FakeBotAPI()
    processor = PerChatOrder(4)
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()

    async def quick() -> None:
        return None

    group = [
        asyncio.create_task(processor.process_update(_update(api, GROUP, "supergroup"), slow()))
        for _ in range(10)
    ]
    await asyncio.sleep(0.01)
    private = processor.process_update(_update(api, 5), quick())
    try:
        await asyncio.wait_for(private, timeout=2)  # the group's waiting updates hold no slot
    finally:
        release.set()
        await asyncio.gather(*group)


async def test_a_groups_backlog_is_capped_oldest_dropped_with_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = FakeBotAPI()
    processor = PerChatOrder(8, 5)
    release = asyncio.Event()
    ran: list[int] = []

    async def work(n: int) -> None:
        await release.wait()
        ran.append(n)

    with caplog.at_level(logging.WARNING, logger="bot.telegram"):
        tasks = [
            asyncio.create_task(
                processor.process_update(_update(api, GROUP, "supergroup"), work(n))
            )
            for n in range(12)
        ]
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(*tasks)
    assert ran == [0, 7, 8, 9, 10, 11]  # the running one, then the newest five
    lines = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(lines) == 2 and "dropped 6 updates in all" in lines[1]  # first, then the sum


async def test_shutdown_drops_stale_waiting_updates_and_cancels_stuck_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = FakeBotAPI()
    processor = PerChatOrder(8)
    ran: list[str] = []

    async def stuck() -> None:
        await asyncio.Event().wait()  # e.g. a long flood wait

    async def work(name: str) -> None:
        await asyncio.sleep(0.005)  # long enough for the next two to queue behind it
        ran.append(name)

    chat = lambda: _update(api, GROUP, "supergroup")  # noqa: E731
    # The first task drains the chat: it runs its own update, then the next task's (stuck).
    tasks = [asyncio.create_task(processor.process_update(chat(), work("first")))]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(processor.process_update(chat(), stuck())))
    tasks.append(asyncio.create_task(processor.process_update(chat(), work("queued"))))
    tasks.append(asyncio.create_task(processor.process_update(_update(api, 5), stuck())))
    await asyncio.sleep(0.01)
    with caplog.at_level(logging.WARNING, logger="bot.telegram"):
        processor.begin_shutdown()  # nothing is older than a few seconds yet: all kept
        await processor.cancel_after(0.05)
        _, pending = await asyncio.wait(tasks, timeout=2)
    assert not pending  # no update is left waiting: the Application's stop can finish
    assert ran == ["first"]  # the queued one was dropped with its cancelled chat, not run
    assert processor.waiting() == 0
    assert any("cancelling 2" in r.getMessage() for r in caplog.records)


# --- 3. admin commands only in private chats ----------------------------------------------


@pytest.mark.parametrize("command", ["/report", "/stats", "/reload"])
async def test_admin_command_in_a_group_posts_nothing_there(bot: Any, command: str) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(77, "how do I cook pasta al dente"))
    assert len(api.sent()) == 1
    admin_in_group = api.message(GROUP, command, chat_type="supergroup", user_id=ADMIN)
    await feed(app, api, "message", admin_in_group)
    assert [s for s in api.sent() if s["chat_id"] == GROUP] == []
    await feed(app, api, "message", api.message(ADMIN, command))  # private: works
    assert "not medical advice" in api.sent()[-1]["text"]
    assert api.sent()[-1]["chat_id"] == ADMIN


async def test_whoami_answers_in_private_only(bot: Any) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(123456789, "/whoami"))
    (sent,) = api.sent()
    assert "123456789" in sent["text"] and "BOT_ADMIN_IDS" in sent["text"]
    await feed(app, api, "message", api.message(GROUP, "/whoami", chat_type="group", user_id=9))
    assert len(api.sent()) == 1


# --- 4. a tapped button whose query can no longer be answered ---------------------------------


async def test_topic_is_sent_when_answer_callback_query_fails(
    bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, api = bot
    api.fail_next(
        "answerCallbackQuery",
        400,
        telegram_error(400, "Bad Request: query is too old and response timeout expired"),
    )
    with caplog.at_level(logging.INFO):
        await feed(app, api, "callback_query", tap(api, "t:massage-oil"))
    assert "lubricant" in api.sent()[0]["text"]
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]
    assert any("query is too old" in r.getMessage().casefold() for r in caplog.records)


# --- 5. retries: no duplicates, no pile-up ------------------------------------------------


async def test_read_timeout_after_telegram_accepted_is_not_sent_twice(bot: Any) -> None:
    app, api = bot
    api.time_out_after_accepting("sendMessage")
    await feed(app, api, "message", api.message(5, "do they use oil?"))
    assert len(api.sent()) == 1  # the user got it once


async def test_a_persistent_429_is_tried_a_few_times_not_sixteen(engine: Engine) -> None:
    app, api = await make_app(engine, None, rate_limit=True)
    try:
        api.fail_always(
            "sendMessage",
            429,
            telegram_error(429, "Too Many Requests: retry after 1", retry_after=1),
        )
        await feed(app, api, "message", api.message(5, "do they use oil?"))
        assert 1 < api.attempts["sendMessage"] <= 3
    finally:
        await app.shutdown()


async def test_only_requests_that_did_not_arrive_are_retried() -> None:
    import httpx
    from telegram.error import TimedOut

    from bot.telegram.handlers import with_retries

    for cause, tries in ((httpx.ConnectTimeout("c"), 2), (httpx.ReadTimeout("r"), 1)):
        calls: list[int] = []

        async def send(cause: Exception = cause, calls: list[int] = calls) -> str:
            calls.append(1)
            if len(calls) == 1:
                raise TimedOut("Timed out") from cause
            return "ok"

        with contextlib.suppress(TimedOut):
            await with_retries(send)
        assert len(calls) == tries, cause


async def test_send_message_waits_longer_before_a_read_timeout(bot: Any) -> None:
    app, api = bot
    seen: list[Any] = []
    original = RecordingRequest.do_request

    async def spy(self: RecordingRequest, url: str, method: str, *args: Any, **kw: Any) -> Any:
        if url.endswith("/sendMessage"):
            seen.append(kw.get("read_timeout"))
        return await original(self, url, method, *args, **kw)

    RecordingRequest.do_request = spy  # type: ignore[method-assign]
    try:
        await feed(app, api, "message", api.message(5, "do they use oil?"))
    finally:
        RecordingRequest.do_request = original  # type: ignore[method-assign]
    assert seen and all(t is not None and t >= 15 for t in seen)


# --- 6. mentions ------------------------------------------------------------------------------


async def test_mention_after_emoji_uses_utf16_offsets(bot: Any) -> None:
    app, api = bot
    text = "🙏" * 10 + " @massage_faq_bot will it hurt?"
    await feed(app, api, "message", api.message(GROUP, text, chat_type="supergroup", user_id=7))
    (sent,) = api.sent()
    assert "vigorous or gentle" in sent["text"]  # the pressure answer, not a garbled question


async def test_mention_of_another_bot_with_our_name_as_prefix_is_not_ours(bot: Any) -> None:
    app, api = bot
    for text in ("@massage_faq_bot_v2 will it hurt?", "ask @MASSAGE_FAQ_BOTS will it hurt?"):
        await feed(app, api, "message", api.message(GROUP, text, chat_type="supergroup"))
    assert api.sent() == []
    await feed(
        app, api, "message", api.message(GROUP, "@Massage_FAQ_Bot will it hurt?", chat_type="group")
    )
    assert "vigorous or gentle" in api.sent()[0]["text"]  # any case of our exact name


async def test_without_entities_the_name_must_be_a_whole_word(bot: Any) -> None:
    app, api = bot
    for text in ("@massage_faq_bot_v2 will it hurt?", "hey @massage_faq_bot, will it hurt?"):
        message = api.message(GROUP, text, chat_type="supergroup")
        message.pop("entities", None)  # a forward or an old client: no entities at all
        await feed(app, api, "message", message)
    (sent,) = api.sent()
    assert "vigorous or gentle" in sent["text"]


async def test_text_mention_of_the_bot_is_answered(bot: Any) -> None:
    app, api = bot
    text = "Massage FAQ do they use oil?"
    message = api.message(GROUP, text, chat_type="supergroup", user_id=7)
    message["entities"] = [{"type": "text_mention", "offset": 0, "length": 11, "user": BOT}]
    await feed(app, api, "message", message)
    (sent,) = api.sent()
    assert "lubricant" in sent["text"]


# --- 7. captions --------------------------------------------------------------------------


async def test_captioned_photo_in_private_is_a_question(bot: Any) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(5, "do they use oil?", caption=True))
    (sent,) = api.sent()
    assert "as text" not in sent["text"] and "lubricant" in sent["text"]
    await feed(app, api, "message", api.message(5, None, caption=True))  # no caption
    assert "as text" in api.sent()[1]["text"]


async def test_captioned_mention_in_a_group_is_answered(bot: Any) -> None:
    app, api = bot
    text = "@massage_faq_bot does massage help sciatica?"
    await feed(app, api, "message", api.message(GROUP, text, chat_type="supergroup", caption=True))
    (sent,) = api.sent()
    assert sent["chat_id"] == GROUP and "sciatica" in sent["text"]


# --- 9. errors classified -----------------------------------------------------------------


async def test_blocked_by_the_user_is_one_warning_line(
    bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, api = bot
    api.fail_next("sendMessage", 403, telegram_error(403, "Forbidden: bot was blocked by the user"))
    with caplog.at_level(logging.INFO):
        await feed(app, api, "message", api.message(5, "do they use oil?"))
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert "blocked" in records[0].getMessage() and not records[0].exc_info


async def test_chat_migrated_is_followed_to_the_supergroup(bot: Any) -> None:
    app, api = bot
    api.fail_next(
        "sendMessage",
        400,
        telegram_error(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=-1009876,
        ),
    )
    await feed(app, api, "message", api.message(-55, "/ask do they use oil?", chat_type="group"))
    (sent,) = api.sent()
    assert sent["chat_id"] == -1009876 and "lubricant" in sent["text"]


async def test_reply_whose_forum_topic_is_gone_goes_to_the_chat(bot: Any) -> None:
    app, api = bot
    api.fail_next("sendMessage", 400, telegram_error(400, "Bad Request: message thread not found"))
    message = api.message(
        GROUP,
        "/ask do they use oil?",
        chat_type="supergroup",
        is_topic_message=True,
        message_thread_id=50,
    )
    await feed(app, api, "message", message)
    (sent,) = api.sent()
    assert sent["chat_id"] == GROUP and "message_thread_id" not in sent
    assert "lubricant" in sent["text"]


# --- 10. callbacks ------------------------------------------------------------------------


async def test_forged_huge_number_is_answered_not_raised(bot: Any, store: Store) -> None:
    app, api = bot
    await feed(app, api, "callback_query", tap(api, "c:" + "9" * 30 + ":massage-oil"))
    (answered,) = api.sent("answerCallbackQuery")
    assert "expired" in answered["text"]
    assert store.events() == []


async def test_one_vote_per_user_per_message(bot: Any, store: Store) -> None:
    app, api = bot
    for _ in range(20):
        await feed(app, api, "callback_query", tap(api, "f:u:massage-oil", user=31337))
    await feed(app, api, "callback_query", tap(api, "f:d:massage-oil", user=31337))  # changed
    await feed(app, api, "callback_query", tap(api, "f:u:massage-oil", user=8))  # someone else
    votes = [(e.outcome, e.entry_id) for e in store.events()]
    assert sorted(votes) == [("down", "massage-oil"), ("up", "massage-oil")]
    assert len(api.sent("answerCallbackQuery")) == 22  # every tap answered
    dump = "\n".join(store._db.iterdump())
    assert "31337" not in dump  # only a salted hash stands for the voter


async def test_tap_under_an_inaccessible_message_still_gets_the_answer(bot: Any) -> None:
    app, api = bot
    old = {"chat": {"id": 5, "type": "private"}, "message_id": 9, "date": 0}
    await feed(app, api, "callback_query", tap(api, "t:massage-oil", **old))
    assert api.sent("answerCallbackQuery")
    (sent,) = api.sent()
    assert sent["chat_id"] == 5 and "lubricant" in sent["text"]


# --- 12. SQLite off the event loop --------------------------------------------------------


async def test_a_held_database_does_not_stall_the_event_loop(bot: Any, store: Store) -> None:
    app, api = bot
    held = threading.Event()

    def hold() -> None:  # what a long prune does: hold the store's lock in a worker thread
        with store._lock:
            held.set()
            time.sleep(1.0)

    threading.Thread(target=hold, daemon=True).start()
    held.wait()
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        for _ in range(60):
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    await feed(app, api, "message", api.message(5, "how do I cook pasta al dente"))
    await ticking
    print(f"\nlongest event-loop stall while the database was held: {max(gaps) * 1000:.0f} ms")
    assert max(gaps) < 0.5  # held for 1 s: a write on the loop would stall it that long
    assert [e.outcome for e in store.events()] == ["fallback"]  # and the write still happened


# --- 13. smaller ----------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["has space", "semi;colon", "ü-umlaut", "x" * 257])
def test_webhook_secret_outside_telegrams_alphabet_is_refused(secret: str) -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        Settings.from_env({"TELEGRAM_WEBHOOK_SECRET": secret})
    assert Settings.from_env({"TELEGRAM_WEBHOOK_SECRET": "Ok_-9" * 10}).webhook_secret


async def test_topics_are_paged_within_telegrams_keyboard_limits(
    bot: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.telegram.handlers import TOPICS_PER_PAGE

    app, api = bot
    real = engine.topics()
    many = real + [Topic(f"extra-{n}", f"Extra topic {n}") for n in range(300)]
    monkeypatch.setattr(engine, "topics", lambda: many)
    await feed(app, api, "message", api.message(5, "/topics"))
    rows = api.sent()[0]["reply_markup"]["inline_keyboard"]
    buttons = [b for row in rows for b in row]
    assert len(buttons) <= 100 and all(len(row) <= 8 for row in rows)
    assert [b["callback_data"] for b in buttons[:2]] == [f"t:{real[0].id}", f"t:{real[1].id}"]
    more = rows[-1][-1]
    assert more["callback_data"] == "p:1"
    await feed(app, api, "callback_query", tap(api, more["callback_data"]))
    (edit,) = api.sent("editMessageReplyMarkup")
    page2 = [b for row in edit["reply_markup"]["inline_keyboard"] for b in row]
    assert page2[0]["callback_data"] == f"t:{many[TOPICS_PER_PAGE].id}"


async def test_bot_state_is_typed(bot: Any, engine: Engine) -> None:
    from bot.telegram.handlers import BotState

    app, _ = bot
    state = app.bot_data
    assert isinstance(state, BotState)
    assert state.engine is engine and state.settings.admin_ids == {ADMIN}
    slot = state.engine_slot()  # what live reload swaps a new engine into
    slot["engine"] = Engine(engine.knowledge)
    assert state.engine is not engine


def test_button_codec_round_trips_within_64_bytes() -> None:
    from bot.telegram.handlers import (
        ChoiceButton,
        PageButton,
        TopicButton,
        VoteButton,
        decode,
        encode,
    )

    longest = "a" * 40  # the schema's longest entry id
    for button in (
        TopicButton(longest),
        ChoiceButton(10**15 - 1, longest),
        VoteButton(True, longest),
        VoteButton(False, "massage-oil"),
        PageButton(3),
    ):
        data = encode(button)
        assert len(data.encode()) <= 64 and decode(data) == button
    for forged in ("", "t:", "t:Bad Id", "c:-1:x", "c:" + "9" * 16 + ":x", "f:x:oil", "p:99999"):
        assert decode(forged) is None


def test_a_version_1_database_gets_the_voter_column(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "bot.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at REAL NOT NULL, outcome TEXT NOT NULL,"
        " question TEXT, entry_id TEXT, score REAL, chat_type TEXT, parent INTEGER);"
        "INSERT INTO events (at, outcome, question) VALUES (1e9, 'fallback', 'kept');"
        "PRAGMA user_version=1;"
    )
    old.commit()
    old.close()
    store = Store(path)
    store.record("up", entry_id="massage-oil", voter="1:2:3")
    store.record("down", entry_id="massage-oil", voter="1:2:3")
    assert [(e.outcome, e.question) for e in store.events()] == [
        ("fallback", "kept"),
        ("down", None),
    ]
    store.close()
