"""Telegram handlers for users: thin, they parse the update, ask the engine, send the reply.

Private chats: any text is a question. Groups: only when addressed (/ask@bot, a mention, or a
reply to the bot), answered as a reply in the same forum topic. Inline mode: the best matches as
shareable articles. Buttons: clarify suggestions, related topics, 👍 / 👎. Every message sent is
rendered by `Renderer`, so every one carries the disclaimer.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from bot.engine import Engine
from bot.replies import Part, Reply, Topic
from bot.store import Recorder

log = logging.getLogger("bot.telegram")

# Callback data, at most 64 bytes (entry ids are at most 40 characters):
TOPIC = "t:"  # "t:<entry id>": a topic or related-topic button
CHOICE = "c:"  # "c:<clarify event id>:<entry id>": a clarify suggestion
VOTE = "f:"  # "f:u:<entry id>" / "f:d:<entry id>": feedback on an answer
INLINE_RESULTS = 5
INLINE_MIN_SCORE = 35.0  # inline lists candidates, so it shows weaker matches than a reply
SEND_ATTEMPTS = 4  # one send plus three retries on 5xx / timeouts
SEND_BACKOFF = 0.5  # seconds, doubled each retry

T = TypeVar("T")


# --- helpers -------------------------------------------------------------------------------


def engine_of(context: ContextTypes.DEFAULT_TYPE) -> Engine:
    """The engine serving now (live reload swaps it between updates)."""
    engine: Engine = context.bot_data["engine"]
    return engine


def recorder_of(context: ContextTypes.DEFAULT_TYPE) -> Recorder:
    recorder: Recorder = context.bot_data["recorder"]
    return recorder


async def with_retries(send: Callable[[], Awaitable[T]]) -> T:
    """Retry a send on transient errors (5xx, timeouts) with backoff. Flood waits the rate
    limiter gave up on are waited out too; permanent errors (bad request, blocked) are raised."""
    delay = SEND_BACKOFF
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await send()
        except RetryAfter as exc:
            if attempt == SEND_ATTEMPTS:
                raise
            wait = exc.retry_after
            await asyncio.sleep(wait if isinstance(wait, int | float) else wait.total_seconds())
        except (BadRequest, Forbidden):
            raise
        except (TimedOut, NetworkError):
            if attempt == SEND_ATTEMPTS:
                raise
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def keyboard(reply: Reply, clarify_id: int | None = None) -> InlineKeyboardMarkup | None:
    """Buttons: a clarify reply's suggestions; an answer's related topics and 👍 / 👎."""
    if reply.kind == "clarify":
        rows = [
            [InlineKeyboardButton(t.title, callback_data=f"{CHOICE}{clarify_id or 0}:{t.id}")]
            for t in reply.suggestions
        ]
        return InlineKeyboardMarkup(rows) if rows else None
    if reply.kind != "answer" or reply.entry_id is None:
        return None
    rows = [[InlineKeyboardButton(t.title, callback_data=f"{TOPIC}{t.id}")] for t in reply.related]
    rows.append(
        [
            InlineKeyboardButton("👍 Helpful", callback_data=f"{VOTE}u:{reply.entry_id}"),
            InlineKeyboardButton("👎 Not helpful", callback_data=f"{VOTE}d:{reply.entry_id}"),
        ]
    )
    return InlineKeyboardMarkup(rows)


def topics_keyboard(topics: list[Topic]) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(t.title, callback_data=f"{TOPIC}{t.id}") for t in topics]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def send_reply(
    message: Message,
    engine: Engine,
    reply: Reply,
    *,
    quote: bool,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send a reply as one or more HTML messages, in the same forum topic; buttons go last."""
    parts = engine.renderer.html(reply)
    thread = message.message_thread_id if message.is_topic_message else None
    for index, text in enumerate(parts):
        first, last = index == 0, index == len(parts) - 1

        async def send(text: str = text, first: bool = first, last: bool = last) -> Message:
            return await message.get_bot().send_message(
                chat_id=message.chat_id,
                text=text,
                message_thread_id=thread,
                reply_parameters=ReplyParameters(
                    message.message_id, allow_sending_without_reply=True
                )
                if quote and first
                else None,
                reply_markup=markup if last else None,
            )

        await with_retries(send)


async def answer_question(
    message: Message, context: ContextTypes.DEFAULT_TYPE, question: str, *, quote: bool
) -> None:
    """Answer a question from the engine, record what maintainers learn from, and send it."""
    engine = engine_of(context)
    reply = engine.answer(question)
    clarify_id = recorder_of(context).reply(reply, message.chat.type)
    await send_reply(message, engine, reply, quote=quote, markup=keyboard(reply, clarify_id))


def text_reply(engine: Engine, key: str, kind: str = "smalltalk", **values: str) -> Reply:
    return Reply(kind, key, (Part("text", engine.knowledge.text(key, **values)),))


async def send_text(
    message: Message,
    context: ContextTypes.DEFAULT_TYPE,
    key: str | None,
    *,
    quote: bool,
    kind: str = "smalltalk",
    **values: str,
) -> None:
    """Send one of the bot's texts; with no key, the disclaimer alone (the renderer adds it)."""
    engine = engine_of(context)
    reply = text_reply(engine, key, kind, **values) if key else Reply(kind, "/disclaimer", ())
    await send_reply(message, engine, reply, quote=quote)


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


def addressed_text(message: Message, username: str, bot_id: int) -> str | None:
    """In a group, the question if the message is addressed to the bot, else None."""
    text = message.text or ""
    mention = f"@{username}".casefold()
    for entity in message.entities:
        if entity.type == MessageEntityType.MENTION:
            value = message.parse_entity(entity)
            if value.casefold() == mention:
                return (text[: entity.offset] + text[entity.offset + entity.length :]).strip()
    if mention in text.casefold():
        return re.sub(re.escape(mention), "", text, flags=re.IGNORECASE).strip()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        # In forum topics every message "replies" to the topic's first message: not to us.
        if message.is_topic_message and replied.message_id == message.message_thread_id:
            return None
        return text
    return None


# --- commands ------------------------------------------------------------------------------


async def _command_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, key: str | None, **values: str
) -> None:
    message = update.effective_message
    if message is not None:
        await send_text(message, context, key, quote=not is_private(message), **values)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the welcome when /start is issued."""
    await _command_text(update, context, "welcome")


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to ask when /help is issued."""
    await _command_text(update, context, "help")


async def source_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say where the answers come from when /source is issued."""
    await _command_text(update, context, "source")


async def privacy_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what is stored, and for how long, when /privacy is issued."""
    days = str(context.bot_data["settings"].retention_days)
    await _command_text(update, context, "privacy", days=days)


async def disclaimer_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the medical disclaimer when /disclaimer is issued."""
    await _command_text(update, context, None)


async def topics_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List every topic as buttons when /topics is issued."""
    message = update.effective_message
    if message is None:
        return
    engine = engine_of(context)
    await send_reply(
        message,
        engine,
        text_reply(engine, "topics"),
        quote=not is_private(message),
        markup=topics_keyboard(engine.topics()),
    )


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the question after /ask (works in groups whatever the privacy mode)."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or []).strip()
    if not question:
        await send_text(message, context, "empty", quote=True, kind="fallback")
        return
    await answer_question(message, context, question, quote=not is_private(message))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer an unknown command in a private chat; stay silent in groups."""
    message = update.effective_message
    if message is not None and is_private(message):
        await send_text(message, context, "unknown_command", quote=False, kind="fallback")


# --- messages, buttons, inline -------------------------------------------------------------


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text message: any in private chats, addressed ones in groups."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    if is_private(message):
        await answer_question(message, context, message.text, quote=False)
        return
    question = addressed_text(message, context.bot.username, context.bot.id)
    if question is None:
        return  # not addressed to us: stay silent in groups
    if not question:
        await send_text(message, context, "empty", quote=True, kind="fallback")
        return
    await answer_question(message, context, question, quote=True)


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for text when a sticker, photo, voice note or other media arrives privately."""
    message = update.effective_message
    if message is not None and is_private(message):
        await send_text(message, context, "non_text", quote=False, kind="fallback")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle a button: a topic, a clarify choice or feedback. Every query is answered."""
    query = update.callback_query
    if query is None:
        return
    engine = engine_of(context)
    recorder = recorder_of(context)
    data = query.data or ""
    message = query.message if isinstance(query.message, Message) else None
    chat_type = message.chat.type if message is not None else "unknown"

    if data.startswith(VOTE) and data[2:4] in ("u:", "d:") and data[4:] in engine.knowledge.by_id:
        recorder.feedback("up" if data[2] == "u" else "down", data[4:], chat_type)
        await with_retries(lambda: query.answer(engine.knowledge.text("feedback_thanks")))
        return

    entry_id, clarify_id = None, None
    if data.startswith(TOPIC):
        entry_id = data[len(TOPIC) :]
    elif data.startswith(CHOICE):
        number, _, entry_id = data[len(CHOICE) :].partition(":")
        clarify_id = int(number) if number.isdigit() else None
    reply = engine.entry_reply(entry_id) if entry_id else None
    if reply is None or message is None:
        await with_retries(lambda: query.answer(engine.knowledge.text("stale_button")))
        return
    if data.startswith(CHOICE) and entry_id:
        recorder.chosen(clarify_id, entry_id, chat_type)
    await with_retries(lambda: query.answer())
    await send_reply(message, engine, reply, quote=False, markup=keyboard(reply))


def inline_replies(engine: Engine, text: str) -> list[Reply]:
    """Up to INLINE_RESULTS replies: every topic for an empty query; an urgent card alone."""
    if not text:
        topics = engine.topics()[:INLINE_RESULTS]
        return [r for t in topics if (r := engine.entry_reply(t.id)) is not None]
    first = engine.answer(text)
    if first.kind == "urgent":
        return [first]
    replies = [first] if first.kind in ("answer", "smalltalk") else []
    for scored in engine.matcher.rank(text):
        if len(replies) >= INLINE_RESULTS or scored.score < INLINE_MIN_SCORE:
            break
        if scored.entry_id != first.entry_id:
            reply = engine.entry_reply(scored.entry_id, text)
            if reply is not None:
                replies.append(reply)
    return replies or [first]


def _inline_title(engine: Engine, reply: Reply) -> tuple[str, str]:
    if reply.kind == "urgent":
        return "⚠️ Please get medical help", reply.parts[0].text[:100]
    if reply.entry_id:
        entry = engine.knowledge.by_id[reply.entry_id]
        return entry.title, entry.answer[:100]
    return "Remedial massage FAQ", reply.parts[0].text[:100] if reply.parts else ""


async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the best matches (or topics, for an empty query) as shareable articles."""
    query = update.inline_query
    if query is None:
        return
    engine = engine_of(context)
    results = [
        InlineQueryResultArticle(
            id=f"{index}-{reply.entry_id or reply.kind}"[:64],
            title=title,
            description=description,
            # Entries fit one message (check warns otherwise); the last part has the disclaimer.
            input_message_content=InputTextMessageContent(
                engine.renderer.html(reply)[-1], parse_mode=ParseMode.HTML
            ),
        )
        for index, reply in enumerate(inline_replies(engine, query.query.strip()))
        for title, description in [_inline_title(engine, reply)]
    ]
    await with_retries(lambda: query.answer(results, cache_time=60, is_personal=False))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log any error with its traceback; the bot keeps running."""
    log.error("error while handling an update", exc_info=context.error)
