"""The Telegram bot's wiring: logging, the Application, background tasks, polling or webhook.

The handlers live in `bot.handlers` (users) and `bot.admin` (maintainers); this module puts
them in order, starts live reload and retention pruning, and runs the bot.
Run: `python run_bot.py` with TELEGRAM_BOT_TOKEN set (see README).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import sys
import traceback
from pathlib import Path
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import admin, handlers
from bot.config import Settings
from bot.engine import Engine
from bot.knowledge import KnowledgeError, load_knowledge
from bot.reloader import Reloader
from bot.store import Recorder, Store

log = logging.getLogger("bot.telegram")

ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]
CONCURRENT_UPDATES = 64

PUBLIC_COMMANDS = [
    BotCommand("start", "Welcome and what I can do"),
    BotCommand("help", "How to ask me questions"),
    BotCommand("topics", "Everything I can answer"),
    BotCommand("ask", "Ask a question, e.g. /ask will it hurt?"),
    BotCommand("source", "Where my answers come from"),
    BotCommand("disclaimer", "The medical disclaimer"),
    BotCommand("privacy", "What I store and for how long"),
]
PRUNE_SECONDS = 3600


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


# --- application -----------------------------------------------------------------------------


class PerChatOrder(BaseUpdateProcessor):
    """Updates run concurrently, but one chat's updates in the order they arrived.

    A slow chat never holds up the others, and two quick questions in one chat are answered
    in order. asyncio.Lock wakes its waiters first come, first served.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and self._locks.get(chat.id) is lock:
                del self._locks[chat.id]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Set the command menus, then start live reload and retention pruning."""
    bot = application.bot
    await bot.set_my_commands(PUBLIC_COMMANDS, scope=BotCommandScopeAllPrivateChats())
    group = [c for c in PUBLIC_COMMANDS if c.command != "start"]
    await bot.set_my_commands(group, scope=BotCommandScopeAllGroupChats())
    data = application.bot_data
    data["tasks"] = [
        asyncio.create_task(data["reloader"].run(), name="knowledge-reload"),
        asyncio.create_task(_prune_forever(data["recorder"]), name="retention-prune"),
    ]
    log.info("bot @%s started with %d entries", bot.username, len(data["engine"].knowledge.entries))


async def post_stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop the background tasks and close the store."""
    for task in application.bot_data.get("tasks", []):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    store = application.bot_data["recorder"].store
    if store is not None:
        store.close()


async def _prune_forever(recorder: Recorder) -> None:
    while True:
        if recorder.store is not None:
            removed = await asyncio.to_thread(recorder.store.prune)
            if removed:
                log.info(
                    "deleted %d records older than %d days", removed, recorder.store.retention_days
                )
        await asyncio.sleep(PRUNE_SECONDS)


def build_application(
    settings: Settings,
    engine: Engine,
    *,
    knowledge_dir: Path | None = None,
    store: Store | None = None,
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
        .concurrent_updates(PerChatOrder(CONCURRENT_UPDATES))
        .post_init(post_init)
        .post_stop(post_stop)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limit:
        # Flood control: ~30 messages/s overall, 20/min per group; RetryAfter retried.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    application = builder.build()
    data = application.bot_data
    data["engine"] = engine
    data["settings"] = settings
    data["recorder"] = Recorder(store)

    async def notify(text: str) -> None:
        await admin.notify_admins(application.bot, settings, data["engine"], text)

    data["reloader"] = Reloader(
        knowledge_dir or settings.knowledge_dir, data, notify, settings.reload_seconds
    )

    new = filters.UpdateType.MESSAGE  # edited messages never trigger a second answer
    application.add_handlers(
        [
            # Commands first, so a command is never taken for a question.
            CommandHandler("start", handlers.start, filters=new),
            CommandHandler("help", handlers.help_command, filters=new),
            CommandHandler("topics", handlers.topics_command, filters=new),
            CommandHandler("ask", handlers.ask_command, filters=new),
            CommandHandler("source", handlers.source_command, filters=new),
            CommandHandler("disclaimer", handlers.disclaimer_command, filters=new),
            CommandHandler("privacy", handlers.privacy_command, filters=new),
            # Admin commands answer non-admins exactly like an unknown command.
            CommandHandler("reload", admin.reload_command, filters=new),
            CommandHandler("stats", admin.stats_command, filters=new),
            CommandHandler("report", admin.report_command, filters=new),
            MessageHandler(new & filters.COMMAND, handlers.unknown_command),
            # Then questions (the engine runs its safety check before anything else).
            MessageHandler(new & filters.TEXT, handlers.on_text),
            MessageHandler(new & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.on_non_text),
            CallbackQueryHandler(handlers.on_button),
            InlineQueryHandler(handlers.on_inline),
        ]
    )
    application.add_error_handler(handlers.on_error)
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
    store = Store.open(settings.data_dir, settings.retention_days)
    if not settings.flood_limit:
        log.warning("BOT_FLOOD_LIMIT=off: Telegram's flood limits are not respected")
    application = build_application(
        settings, engine, knowledge_dir=knowledge_dir, store=store, rate_limit=settings.flood_limit
    )
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
