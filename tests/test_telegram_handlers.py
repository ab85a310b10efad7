"""Handlers through Application.process_update, with the Bot API answered in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.answering.engine import Engine
from bot.answering.matching import Matcher, Scored
from bot.config import Settings
from bot.store import Store
from bot.telegram.app import RedactToken, build_application
from bot.telegram.handlers import TOPICS_PER_PAGE, with_retries
from tests.botapi import BOT, TOKEN, FakeBotAPI, RecordingRequest
from tests.conftest import ENTRIES, KNOWLEDGE_DIR

GROUP = -100123


ADMIN = 4242


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "bot.sqlite3")


@pytest.fixture
async def bot(engine: Engine, store: Store) -> AsyncIterator[tuple[Any, FakeBotAPI]]:
    api = FakeBotAPI()
    settings = Settings(
        token=TOKEN,
        base_url="http://127.0.0.1:9/bot",
        knowledge_dir=KNOWLEDGE_DIR,
        data_dir=Path(),
        admin_ids=frozenset({ADMIN}),
        webhook_secret=None,
        retention_days=90,
    )
    app = build_application(
        settings, engine, store=store, rate_limit=False, request=RecordingRequest(api)
    )
    await app.initialize()
    yield app, api
    await app.shutdown()


async def feed(app: Any, api: FakeBotAPI, kind: str, payload: dict[str, Any]) -> None:
    update_id = api.push(kind, payload)
    await app.process_update(Update.de_json({"update_id": update_id, kind: payload}, app.bot))


async def test_private_question_is_answered_with_disclaimer_and_buttons(bot: Any) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(5, "do they use oil?"))
    (sent,) = api.sent()
    assert sent["chat_id"] == 5 and sent["parse_mode"] == "HTML"
    assert "lubricant" in sent["text"] and "not medical advice" in sent["text"]
    buttons = [b for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in buttons] == [
        "t:techniques",
        "t:pressure-intensity",
        "f:u:massage-oil",
        "f:d:massage-oil",
    ]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)


async def test_html_in_question_is_escaped(bot: Any, engine: Engine) -> None:
    # The urgent card quotes the user's own words back: markup and "&" in them must arrive
    # as text, not as HTML Telegram would parse (or refuse, failing the whole message).
    question = "numb & <b>down</b> below"
    plain = engine.render_plain(engine.answer(question))
    assert "(you wrote “numb & <b>down</b> below”)" in plain  # the premise: the card quotes it
    app, api = bot
    await feed(app, api, "message", api.message(5, question))
    (sent,) = api.sent()
    assert sent["parse_mode"] == "HTML"
    assert "(you wrote “numb &amp; &lt;b&gt;down&lt;/b&gt; below”)" in sent["text"]
    assert "<b>down</b>" not in sent["text"] and "& " not in sent["text"]


CLARIFY_QUESTION = "session"  # one word that fits several entries


async def test_clarify_choice_is_shown_and_recorded(bot: Any, engine: Engine, store: Store) -> None:
    app, api = bot
    reply = engine.answer(CLARIFY_QUESTION)
    assert reply.kind == "clarify"  # the premise of this test
    await feed(app, api, "message", api.message(5, CLARIFY_QUESTION))
    (sent,) = api.sent()
    (clarify,) = store.events(outcome="clarify")
    assert clarify.question == CLARIFY_QUESTION and clarify.chat_type == "private"
    buttons = [b["callback_data"] for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == [f"c:{clarify.id}:{t.id}" for t in reply.suggestions]
    assert all(len(b.encode()) <= 64 for b in buttons)
    chosen_id = reply.suggestions[-1].id
    await feed(
        app,
        api,
        "callback_query",
        {
            "id": "cb",
            "from": api.user(5),
            "chat_instance": "1",
            "data": buttons[-1],
            "message": api.message(5, "x"),
        },
    )
    assert engine.entry(chosen_id).answer[:40] in api.sent()[-1]["text"]
    (chosen,) = store.events(outcome="chosen")
    assert (chosen.entry_id, chosen.parent) == (chosen_id, clarify.id)


async def test_a_message_of_low_mood_is_answered_with_the_helplines_and_never_recorded(
    bot: Any, store: Store
) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(4242, "honestly ive had enough of all of it"))
    sent = api.sent("sendMessage")
    assert sent and "116 123" in sent[-1]["text"]
    assert store.events() == []


async def test_fallback_and_feedback_are_recorded_without_user_ids(bot: Any, store: Store) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(31337, "how do I cook pasta al dente"))
    await feed(
        app,
        api,
        "callback_query",
        {
            "id": "cb",
            "from": api.user(31337),
            "chat_instance": "1",
            "data": "f:d:massage-oil",
            "message": api.message(31337, "x"),
        },
    )
    assert "feedback" in api.sent("answerCallbackQuery")[0]["text"]
    outcomes = [(e.outcome, e.question, e.entry_id) for e in store.events()]
    assert outcomes == [
        ("fallback", "how do I cook pasta al dente", None),
        ("down", None, "massage-oil"),
    ]
    dump = "\n".join(store._db.iterdump())  # every stored value, schema included
    assert "31337" not in dump and "User31337" not in dump
    columns = [row[1] for row in store._db.execute("PRAGMA table_info(events)")]
    assert not any(word in c for c in columns for word in ("user", "name", "from"))


async def test_privacy_command_states_retention(bot: Any) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(5, "/privacy"))
    text = api.sent()[0]["text"]
    assert "90 days" in text and "never store your user id" in text


@pytest.mark.parametrize("command", ["/reload", "/stats", "/report"])
async def test_admin_commands_refused_like_unknown_ones(bot: Any, command: str) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(5, command))
    await feed(app, api, "message", api.message(5, "/nonsense"))
    refused, unknown = api.sent()
    assert refused["text"] == unknown["text"]
    await feed(app, api, "message", api.message(GROUP, command, chat_type="group", user_id=5))
    assert len(api.sent()) == 2  # silence in groups, as for any unknown command


async def test_admin_commands_for_admins(bot: Any) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(5, "what's the capital of peru"))
    for command in ("/stats", "/report", "/reload"):
        await feed(app, api, "message", api.message(ADMIN, command))
    stats, report, reload = api.sent()[1:]
    assert "fallback 1" in stats["text"] and f"{ENTRIES} entries" in stats["text"]
    assert "capital of peru" in report["text"]
    assert f"Knowledge reloaded: {ENTRIES} entries" in reload["text"]
    assert all("not medical advice" in m["text"] for m in (stats, report, reload))


async def test_commands(bot: Any) -> None:
    app, api = bot
    for command in ("/start", "/help", "/source", "/disclaimer", "/topics", "/nonsense"):
        await feed(app, api, "message", api.message(5, command))
    sent = api.sent()
    assert len(sent) == 6
    assert all("not medical advice" in s["text"] for s in sent)
    assert "Allan" in sent[2]["text"]
    buttons = [b for row in sent[4]["reply_markup"]["inline_keyboard"] for b in row]
    topic_buttons = [b for b in buttons if b["callback_data"].startswith("t:")]
    assert len(topic_buttons) == min(ENTRIES, TOPICS_PER_PAGE)
    if ENTRIES > TOPICS_PER_PAGE:  # the rest are a page away
        assert any(b["callback_data"] == "p:1" for b in buttons)
    assert "don't know that command" in sent[5]["text"]


async def test_ask_command_with_and_without_question(bot: Any) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(5, "/ask will it hurt?"))
    await feed(app, api, "message", api.message(5, "/ask"))
    first, second = api.sent()
    assert "vigorous or gentle" in first["text"]
    assert "send me your question" in second["text"]


async def test_button_tap_sends_the_topic_and_answers_the_query(bot: Any) -> None:
    app, api = bot
    msg = api.message(5, "x")
    msg["from"] = BOT
    await feed(
        app,
        api,
        "callback_query",
        {
            "id": "cb1",
            "from": api.user(5),
            "chat_instance": "1",
            "data": "t:massage-oil",
            "message": msg,
        },
    )
    assert api.sent("answerCallbackQuery")[0]["callback_query_id"] == "cb1"
    assert "lubricant" in api.sent()[0]["text"]


@pytest.mark.parametrize("data", ["t:gone-entry", "garbage", ""])
async def test_stale_button_gets_a_polite_answer(bot: Any, data: str) -> None:
    app, api = bot
    msg = api.message(5, "x")
    await feed(
        app,
        api,
        "callback_query",
        {"id": "cb2", "from": api.user(5), "chat_instance": "1", "data": data, "message": msg},
    )
    (answered,) = api.sent("answerCallbackQuery")
    assert "expired" in answered["text"]
    assert api.sent() == []


async def test_group_silence_mention_reply_and_ask(bot: Any) -> None:
    app, api = bot
    kw = {"chat_type": "supergroup", "user_id": 7}
    await feed(app, api, "message", api.message(GROUP, "does remedial massage hurt?", **kw))
    assert api.sent() == []  # not addressed: silence
    mention = api.message(GROUP, "@massage_faq_bot do they use oil?", **kw)
    await feed(app, api, "message", mention)
    (sent,) = api.sent()
    assert "lubricant" in sent["text"]
    assert sent["reply_parameters"]["message_id"] == mention["message_id"]
    await feed(app, api, "message", api.message(GROUP, "/ask@massage_faq_bot will it hurt", **kw))
    await feed(app, api, "message", api.message(GROUP, "/ask@other_bot will it hurt", **kw))
    assert len(api.sent()) == 2  # the other bot's command is not ours
    bot_msg = api.bot_message(GROUP)
    await feed(
        app,
        api,
        "message",
        api.message(GROUP, "and is it safe when pregnant?", reply_to_message=bot_msg, **kw),
    )
    assert len(api.sent()) == 3 and "midwife" in api.sent()[-1]["text"]


async def test_forum_topic_is_not_a_reply_to_the_bot(bot: Any) -> None:
    app, api = bot
    topic_start = api.bot_message(
        GROUP, message_id=50, forum_topic_created={"name": "t", "icon_color": 1}
    )
    kw = {
        "chat_type": "supergroup",
        "user_id": 7,
        "is_topic_message": True,
        "message_thread_id": 50,
        "reply_to_message": topic_start,
    }
    await feed(app, api, "message", api.message(GROUP, "just chatting in the topic", **kw))
    assert api.sent() == []
    await feed(app, api, "message", api.message(GROUP, "@massage_faq_bot oil?", **kw))
    (sent,) = api.sent()
    assert sent["message_thread_id"] == 50


async def test_sticker_and_edits(bot: Any) -> None:
    app, api = bot
    sticker = api.sticker(5)
    await feed(app, api, "message", sticker)
    assert "as text" in api.sent()[0]["text"]
    await feed(app, api, "edited_message", api.message(5, "do they use oil?", edit_date=1))
    assert len(api.sent()) == 1  # an edit does not trigger a second answer


async def test_inline_query(bot: Any) -> None:
    app, api = bot
    await feed(
        app, api, "inline_query", {"id": "iq", "from": api.user(5), "query": "oil", "offset": ""}
    )
    (answer,) = api.sent("answerInlineQuery")
    results = answer["results"]
    assert 1 <= len(results) <= 5 and results[0]["title"] == "Massage oil"
    for result in results:
        assert "not medical advice" in result["input_message_content"]["message_text"]
    await feed(
        app, api, "inline_query", {"id": "iq2", "from": api.user(5), "query": "", "offset": ""}
    )
    assert len(api.sent("answerInlineQuery")[1]["results"]) == 5
    await feed(
        app,
        api,
        "inline_query",
        {"id": "iq3", "from": api.user(5), "query": "oil massage but I can't pee", "offset": ""},
    )
    urgent = api.sent("answerInlineQuery")[2]["results"]
    assert "emergency" in urgent[0]["input_message_content"]["message_text"]


async def test_inline_query_ranks_each_query_once(
    bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entries listed after the reply come from the reply's own ranking, not a second one."""
    ranked: list[object] = []
    rank = Matcher.rank

    def counting(self: Matcher, text: Any) -> list[Scored]:
        ranked.append(text)
        return rank(self, text)

    monkeypatch.setattr(Matcher, "rank", counting)
    app, api = bot
    queries = ("does massage hurt", "session", "oil")
    for n, query in enumerate(queries):
        payload = {"id": f"q{n}", "from": api.user(5), "query": query, "offset": ""}
        await feed(app, api, "inline_query", payload)
    assert len(ranked) == len(queries)
    listed = [len(a["results"]) for a in api.sent("answerInlineQuery")]
    assert all(n > 1 for n in listed[:2])  # entries besides the reply's were listed


async def test_long_question_still_fits(bot: Any) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(5, "oil " * 1024))
    assert all(len(s["text"]) <= 4096 for s in api.sent())
    assert "not medical advice" in api.sent()[-1]["text"]


async def test_transient_errors_are_retried() -> None:
    from telegram.error import BadRequest, NetworkError

    attempts = []

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise NetworkError("Bad Gateway")
        return "ok"

    assert await with_retries(flaky) == "ok" and len(attempts) == 3

    async def bad() -> str:
        attempts.append(1)
        raise BadRequest("message is too long")

    attempts.clear()
    with pytest.raises(BadRequest):
        await with_retries(bad)
    assert len(attempts) == 1


def test_token_is_redacted_from_logs() -> None:
    import logging

    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        "",
        0,
        "POST %s",
        (f"https://api.telegram.org/bot{TOKEN}/getMe",),
        None,
    )
    RedactToken(TOKEN).filter(record)
    assert TOKEN not in record.getMessage() and "<token>" in record.getMessage()


async def test_per_chat_order_keeps_one_chats_order_but_not_others_waiting() -> None:
    import asyncio

    from bot.telegram.app import PerChatOrder

    api = FakeBotAPI()
    finished: list[str] = []

    async def work(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        finished.append(name)

    def update(chat: int) -> Update:
        return Update.de_json({"update_id": 1, "message": api.message(chat, "x")}, None)

    processor = PerChatOrder(8)
    await asyncio.gather(
        processor.process_update(update(1), work("chat1-first-slow", 0.2)),
        processor.process_update(update(1), work("chat1-second", 0.0)),
        processor.process_update(update(2), work("chat2", 0.05)),
    )
    assert finished == ["chat2", "chat1-first-slow", "chat1-second"]


async def test_follow_up_is_read_against_this_users_last_answer(bot: Any) -> None:
    app, api = bot
    await feed(app, api, "message", api.message(5, "can i have a massage while pregnant"))
    await feed(app, api, "message", api.message(5, "is it safe?"))
    first, second = api.sent()
    heading = "<b>Massage in pregnancy</b>"  # an answer's heading, not a choice in a list
    assert heading in first["text"] and heading in second["text"]
    # In a group, another member's "is it safe?" is not read against that answer.
    kw = {"chat_type": "supergroup"}
    ask = "/ask@massage_faq_bot "
    q = api.message(GROUP, ask + "can i have a massage while pregnant", user_id=7, **kw)
    await feed(app, api, "message", q)
    other = api.message(GROUP, ask + "is it safe?", user_id=8, **kw)
    await feed(app, api, "message", other)
    group_first, group_other = api.sent()[2:]
    assert heading in group_first["text"]
    assert heading not in group_other["text"]


async def test_inline_gives_the_card_alone_and_no_massage_answer_for_a_disc(bot: Any) -> None:
    app, api = bot
    crisis = {"id": "c", "from": api.user(5), "query": "i just want it all to stop", "offset": ""}
    await feed(app, api, "inline_query", crisis)
    disc = {"id": "d", "from": api.user(5), "query": "can massage cure my herniated disc"}
    await feed(app, api, "inline_query", {**disc, "offset": ""})
    crisis_results, disc_results = (a["results"] for a in api.sent("answerInlineQuery"))
    assert len(crisis_results) == 1
    text = crisis_results[0]["input_message_content"]["message_text"]
    assert "116 123" in text and "massage" not in text.casefold().split("not medical advice")[0]
    assert [r["title"] for r in disc_results] == ["Slipped disc or sciatica"]


async def test_another_bot_in_a_group_is_never_answered(bot: Any) -> None:
    """Two bots answering each other loop: a bot's mention, reply or command gets silence."""
    app, api = bot
    other = {"id": 999, "is_bot": True, "first_name": "PromoBot", "username": "promo_bot"}
    kw = {"chat_type": "supergroup", "user_id": 999}
    for text in ("@massage_faq_bot buy our massage guns!", "/ask@massage_faq_bot will it hurt"):
        message = api.message(GROUP, text, **kw)
        message["from"] = other
        await feed(app, api, "message", message)
    reply = api.message(GROUP, "thanks for nothing", reply_to_message=api.bot_message(GROUP), **kw)
    reply["from"] = other
    await feed(app, api, "message", reply)
    assert api.sent() == []
    # A person's mention in the same group is still answered, and so is an anonymous admin
    # (Telegram sends them as GroupAnonymousBot, with the group as sender_chat).
    person = api.message(GROUP, "@massage_faq_bot oil?", chat_type="supergroup", user_id=7)
    await feed(app, api, "message", person)
    anonymous = api.message(GROUP, "@massage_faq_bot will it hurt?", chat_type="supergroup")
    anonymous["from"] = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    anonymous["sender_chat"] = {"id": GROUP, "type": "supergroup", "title": "Group"}
    await feed(app, api, "message", anonymous)
    assert len(api.sent()) == 2
