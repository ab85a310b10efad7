"""The Telegram bot: handlers thin over the engine, polling or webhook.

Private chats: any text is a question. Groups: only when addressed (/ask@bot, a mention, or a
reply to the bot), answered as a reply in the same forum topic. Inline mode: the best matches as
shareable articles. Buttons: clarify suggestions and related topics. Every message sent carries
the disclaimer, because every message is rendered by `Renderer`.

Run: `python run_bot.py` with TELEGRAM_BOT_TOKEN set (see README).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.engine import Engine
from bot.knowledge import KnowledgeError, load_knowledge
from bot.replies import Part, Reply, Topic

log = logging.getLogger("bot.telegram")

ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]
TOPIC_PREFIX = "t:"  # callback data: "t:<entry id>", at most 42 bytes (ids are <= 40)
INLINE_RESULTS = 5
INLINE_MIN_SCORE = 35.0  # inline lists candidates, so it shows weaker matches than a reply
SEND_ATTEMPTS = 4  # one send plus three retries on 5xx / timeouts
SEND_BACKOFF = 0.5  # seconds, doubled each retry
CONCURRENT_UPDATES = 64

PUBLIC_COMMANDS = [
    BotCommand("start", "Welcome and what I can do"),
    BotCommand("help", "How to ask me questions"),
    BotCommand("topics", "Everything I can answer"),
    BotCommand("ask", "Ask a question, e.g. /ask will it hurt?"),
    BotCommand("source", "Where my answers come from"),
    BotCommand("disclaimer", "The medical disclaimer"),
]

T = TypeVar("T")


# --- logging: the token must never appear ------------------------------------------------


class RedactToken(logging.Filter):
    """Replace the bot token (and anything shaped like one) in every log record."""

    PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token

    def redact(self, text: str) -> str:
        if self.token:
            text = text.replace(self.token, "<token>")
        return self.PATTERN.sub("<token>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            record.exc_text = self.redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


def setup_logging(token: str | None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # httpx logs every request URL at INFO, and the URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


# --- helpers -------------------------------------------------------------------------------


def engine_of(context: ContextTypes.DEFAULT_TYPE) -> Engine:
    engine: Engine = context.bot_data["engine"]
    return engine


async def with_retries(send: Callable[[], Awaitable[T]]) -> T:
    """Retry a send on transient errors (5xx, timeouts) with backoff; flood waits are left to
    the rate limiter, and permanent errors (bad request, blocked) are raised at once."""
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


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Buttons: a clarify reply's suggestions, or an answer's related topics."""
    topics: tuple[Topic, ...] = reply.suggestions if reply.kind == "clarify" else reply.related
    if not topics:
        return None
    rows = [[InlineKeyboardButton(t.title, callback_data=f"{TOPIC_PREFIX}{t.id}")] for t in topics]
    return InlineKeyboardMarkup(rows)


def topics_keyboard(engine: Engine) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(t.title, callback_data=f"{TOPIC_PREFIX}{t.id}")
        for t in engine.topics()
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def send_reply(
    message: Message,
    engine: Engine,
    reply: Reply,
    *,
    quote: bool,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send a reply as one or more HTML messages; buttons go on the last one."""
    parts = engine.renderer.html(reply)
    markup = markup if markup is not None else keyboard(reply)
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


def text_reply(engine: Engine, key: str, kind: str = "smalltalk") -> Reply:
    return Reply(kind, key, (Part("text", engine.knowledge.text(key)),))


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


# --- addressing in groups ------------------------------------------------------------------


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


# --- handlers (order of registration matters: see build_application) ----------------------


async def _send_text(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str | None) -> None:
    """Send one of the bot's texts; with no key, the disclaimer alone (the renderer adds it)."""
    message = update.effective_message
    if message is None:
        return
    engine = engine_of(context)
    reply = text_reply(engine, key) if key else Reply("smalltalk", "/disclaimer", ())
    await send_reply(message, engine, reply, quote=not is_private(message))


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the welcome when /start is issued."""
    await _send_text(update, context, "welcome")


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to ask when /help is issued."""
    await _send_text(update, context, "help")


async def source_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say where the answers come from when /source is issued."""
    await _send_text(update, context, "source")


async def disclaimer_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the medical disclaimer when /disclaimer is issued."""
    await _send_text(update, context, None)


async def topics_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List every topic as buttons when /topics is issued."""
    if update.effective_message:
        engine = engine_of(context)
        await send_reply(
            update.effective_message,
            engine,
            text_reply(engine, "topics"),
            quote=not is_private(update.effective_message),
            markup=topics_keyboard(engine),
        )


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the question after /ask (works in groups whatever the privacy mode)."""
    message = update.effective_message
    if message is None:
        return
    engine = engine_of(context)
    question = " ".join(context.args or []).strip()
    if not question:
        await send_reply(message, engine, text_reply(engine, "empty", "fallback"), quote=True)
        return
    await send_reply(message, engine, engine.answer(question), quote=not is_private(message))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text message: any in private chats, addressed ones in groups."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    engine = engine_of(context)
    if is_private(message):
        await send_reply(message, engine, engine.answer(message.text), quote=False)
        return
    bot = context.bot
    question = addressed_text(message, bot.username, bot.id)
    if question is None:
        return  # not addressed to us: stay silent in groups
    reply = engine.answer(question) if question else text_reply(engine, "empty", "fallback")
    await send_reply(message, engine, reply, quote=True)


async def on_other_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer an unknown command in a private chat; stay silent in groups."""
    message = update.effective_message
    if message is not None and is_private(message):
        engine = engine_of(context)
        await send_reply(
            message, engine, text_reply(engine, "unknown_command", "fallback"), quote=False
        )


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for text when a sticker, photo, voice note or other media arrives privately."""
    message = update.effective_message
    if message is not None and is_private(message):
        engine = engine_of(context)
        await send_reply(message, engine, text_reply(engine, "non_text", "fallback"), quote=False)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the tapped topic's answer; every callback query is answered."""
    query = update.callback_query
    if query is None:
        return
    engine = engine_of(context)
    data = query.data or ""
    reply = None
    if data.startswith(TOPIC_PREFIX):
        reply = engine.entry_reply(data[len(TOPIC_PREFIX) :])
    if reply is None:
        await with_retries(lambda: query.answer(engine.knowledge.text("stale_button")))
        return
    await with_retries(lambda: query.answer())
    message = query.message
    if isinstance(message, Message):
        await send_reply(message, engine, reply, quote=False)


async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the best matches (or every topic, for an empty query) as shareable articles."""
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


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log any error with its traceback; the bot keeps running."""
    log.error("error while handling an update", exc_info=context.error)


# --- application -----------------------------------------------------------------------------


async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Set the command menus for private chats and groups."""
    bot = application.bot
    await bot.set_my_commands(PUBLIC_COMMANDS, scope=BotCommandScopeAllPrivateChats())
    group = [c for c in PUBLIC_COMMANDS if c.command != "start"]
    await bot.set_my_commands(group, scope=BotCommandScopeAllGroupChats())
    log.info(
        "bot @%s started with %d entries",
        bot.username,
        len(application.bot_data["engine"].knowledge.entries),
    )


def build_application(
    settings: Settings,
    engine: Engine,
    *,
    rate_limit: bool = True,
    request: Any = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the Application and register handlers. Note: order matters!"""
    assert settings.token
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        )
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(post_init)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limit:
        # Flood control: ~30 messages/s overall, 20/min per group; RetryAfter retried.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    application = builder.build()
    application.bot_data["engine"] = engine
    application.bot_data["settings"] = settings

    new_messages = filters.UpdateType.MESSAGE  # edited messages never trigger a second answer
    application.add_handlers(
        [
            CommandHandler("start", start, filters=new_messages),
            CommandHandler("help", help_command, filters=new_messages),
            CommandHandler("topics", topics_command, filters=new_messages),
            CommandHandler("ask", ask_command, filters=new_messages),
            CommandHandler("source", source_command, filters=new_messages),
            CommandHandler("disclaimer", disclaimer_command, filters=new_messages),
            MessageHandler(new_messages & filters.COMMAND, on_other_command),
            MessageHandler(new_messages & filters.TEXT, on_text),
            MessageHandler(new_messages & ~filters.TEXT & ~filters.StatusUpdate.ALL, on_non_text),
            CallbackQueryHandler(on_button),
            InlineQueryHandler(on_inline),
        ]
    )
    application.add_error_handler(on_error)
    return application


def run(settings: Settings, knowledge_dir: Path, args: argparse.Namespace) -> int:
    """Start the bot: long polling, or a webhook with --webhook-url. Stops cleanly on SIGTERM."""
    if not settings.token:
        print(
            "run_bot.py: TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather (/newbot), "
            "then export TELEGRAM_BOT_TOKEN=...; or try 'python run_bot.py console' to chat "
            "locally.",
            file=sys.stderr,
        )
        return 2
    setup_logging(settings.token)
    try:
        engine = Engine(load_knowledge(knowledge_dir))
    except KnowledgeError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        print(
            "run_bot.py: the knowledge base is invalid; run 'python run_bot.py check'",
            file=sys.stderr,
        )
        return 1
    application = build_application(settings, engine)
    if args.webhook_url:
        if not settings.webhook_secret:
            print(
                "run_bot.py: webhook mode needs TELEGRAM_WEBHOOK_SECRET (any long random "
                "string; Telegram sends it back with every update)",
                file=sys.stderr,
            )
            return 2
        application.run_webhook(
            listen=args.listen,
            port=args.port,
            url_path=args.url_path,
            webhook_url=args.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=args.drop_pending,
        )
    else:
        application.run_polling(
            allowed_updates=ALLOWED_UPDATES, drop_pending_updates=args.drop_pending
        )
    log.info("stopped")
    return 0
