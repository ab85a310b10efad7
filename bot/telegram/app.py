"""The Telegram bot's wiring: logging, the Application, background tasks, polling or webhook.

The handlers live in `bot.telegram.handlers` (users) and `bot.telegram.admin` (maintainers);
this module puts them in order, starts live reload and retention pruning, and runs the bot.
Run: `python run_bot.py` with TELEGRAM_BOT_TOKEN set (see README).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import logging
import re
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.answering.engine import Engine
from bot.answering.knowledge import KnowledgeError, load_knowledge
from bot.config import Settings
from bot.reloader import Reloader
from bot.store import Recorder, Store
from bot.telegram import admin, handlers
from bot.telegram.handlers import BotState

log = logging.getLogger("bot.telegram")

ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]
CONCURRENT_UPDATES = 64  # updates handled at once, over all chats
MAX_GROUP_BACKLOG = 20  # updates waiting in one group; beyond it the oldest is dropped: a
# group gets 20 replies a minute from the rate limiter, so this is a minute's worth
STALE_AT_STOP = 3.0  # seconds: on shutdown, waiting updates older than this are dropped
STOP_GRACE = 6.0  # seconds: on shutdown, what is still running after this is cancelled
# systemd's TimeoutStopSec (deploy/) is 15 s: the stop takes under 10 s with these.
BOOTSTRAP_RETRIES = -1  # Telegram unreachable at start: keep trying, one log line per try
AIO_RETRIES = 2  # a 429 is waited out by the rate limiter alone, then the reply is dropped

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


TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")


def redact(text: str, token: str | None) -> str:
    if token:
        text = text.replace(token, "<token>")
    return TOKEN_SHAPE.sub("<token>", text)


class RedactToken(logging.Filter):
    """Replace the bot token (and anything shaped like one) in every log record."""

    PATTERN = TOKEN_SHAPE

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token

    def redact(self, text: str) -> str:
        return redact(text, self.token)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


class OneLineFailures(logging.Filter):
    """python-telegram-bot's network retry loop logs a failure it gives up on with a traceback.
    `run` reports a rejected token in one line itself, so that record is left out; any other
    is cut to one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            if isinstance(record.exc_info[1], InvalidToken):
                return False
            message = record.getMessage().split(":", 1)[0]
            record.msg = f"{message}: gave up: {record.exc_info[1]!s}"
            record.args = None
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
    # python-telegram-bot's utility modules (the network retry loop among them) log as
    # "telegram.ext" itself; its Application and Updater log as children, untouched by this.
    logging.getLogger("telegram.ext").filters[:] = [OneLineFailures()]
    install_excepthook(token)


def install_excepthook(token: str | None) -> None:
    """Uncaught exceptions (main thread or any other) are printed with the token redacted."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb)), token))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook


class _FromABot(filters.MessageFilter):
    """A message sent by another bot. Not a person posting as the group (an anonymous admin
    arrives from "GroupAnonymousBot") or as a channel ("Channel_Bot"): those carry the chat
    they speak for in `sender_chat`."""

    def filter(self, message: Message) -> bool:
        sender = message.from_user
        return bool(sender and sender.is_bot and message.sender_chat is None)


_FROM_A_BOT = _FromABot(name="from a bot")


# --- per-chat order --------------------------------------------------------------------------


@dataclass(eq=False)
class _Waiting:
    coroutine: Awaitable[Any]
    done: asyncio.Future[None]
    arrived: float = field(default_factory=time.monotonic)


def _discard(coroutine: Awaitable[Any]) -> None:
    if inspect.iscoroutine(coroutine):
        coroutine.close()  # never started: close it so Python does not warn


class PerChatOrder(BaseUpdateProcessor):
    """One chat's updates strictly in the order they arrived; other chats never wait on it.

    Each chat with work has a queue; the first update of a chat drains it, one update at a
    time. Only the update whose turn it is takes one of the `max_concurrent_updates` slots,
    so a busy group's waiting updates hold no slot, and a private question goes straight
    through. A group's queue is capped (`max_group_backlog`, None for no cap): beyond it the
    oldest waiting update is dropped, with a log line; private chats are never capped.
    On shutdown, waiting updates older than a few seconds are dropped and whatever still runs
    after a grace period is cancelled.

    python-telegram-bot's own semaphore is set wide open: it is taken before the chat's turn.
    """

    UNLIMITED = 1_000_000

    def __init__(
        self, max_concurrent_updates: int, max_group_backlog: int | None = MAX_GROUP_BACKLOG
    ) -> None:
        super().__init__(self.UNLIMITED)
        self.limit = max_concurrent_updates
        self.max_group_backlog = max_group_backlog
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._chats: dict[int, deque[_Waiting]] = {}
        self._running: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self.dropped = 0
        self._drops: dict[int, int] = {}  # chat -> updates dropped since its queue was empty

    def waiting(self) -> int:
        return sum(len(q) for q in self._chats.values())

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:  # inline queries: no chat, no order to keep
            await self._run(coroutine)
            return
        item = _Waiting(coroutine, asyncio.get_running_loop().create_future())
        queue = self._chats.get(chat.id)
        if queue is not None:
            queue.append(item)
            cap = self.max_group_backlog
            if cap is not None and chat.type != ChatType.PRIVATE and len(queue) > cap:
                self._drop(chat.id, queue.popleft(), f"more than {cap} waiting in the group")
        else:
            queue = self._chats[chat.id] = deque([item])
            await self._drain(chat.id, queue)
        await item.done

    async def _run(self, coroutine: Awaitable[Any]) -> None:
        async with self._slots:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await coroutine
            finally:
                if task is not None:
                    self._running.discard(task)

    async def _drain(self, chat_id: int, queue: deque[_Waiting]) -> None:
        try:
            while queue:
                item = queue.popleft()
                if self._stopping and time.monotonic() - item.arrived > STALE_AT_STOP:
                    self._drop(chat_id, item, "shutting down")
                    continue
                try:
                    await self._run(item.coroutine)
                except asyncio.CancelledError:
                    if not item.done.done():  # its waiting task must not wait forever
                        item.done.set_result(None)
                    raise
                except Exception as exc:  # the waiting task re-raises it to the Application
                    item.done.set_exception(exc)
                else:
                    item.done.set_result(None)
        finally:
            # Cancelled at shutdown: the rest of this chat's queue is dropped, not left waiting.
            while queue:
                self._drop(chat_id, queue.popleft(), "shutting down")
            if self._chats.get(chat_id) is queue:
                del self._chats[chat_id]
            self._sum_up(chat_id)

    def _drop(self, chat_id: int, item: _Waiting, why: str) -> None:
        """Drop a waiting update. The first drop in a chat is logged at once; the rest are
        counted and summed up in one line when the chat's queue is empty again."""
        _discard(item.coroutine)
        if not item.done.done():
            item.done.set_result(None)
        self.dropped += 1
        count = self._drops[chat_id] = self._drops.get(chat_id, 0) + 1
        if count == 1:
            log.warning(
                "chat %s: dropped an update that waited %.1f s (%s)",
                chat_id,
                time.monotonic() - item.arrived,
                why,
            )
        if chat_id not in self._chats:  # nothing left to drain: sum up now
            self._sum_up(chat_id)

    def _sum_up(self, chat_id: int) -> None:
        count = self._drops.pop(chat_id, 0)
        if count > 1:
            log.warning("chat %s: dropped %d updates in all", chat_id, count)

    def begin_shutdown(self) -> None:
        """Stop starting old work: drop waiting updates older than STALE_AT_STOP seconds."""
        self._stopping = True
        now = time.monotonic()
        for chat_id, queue in list(self._chats.items()):
            keep = deque(i for i in queue if now - i.arrived <= STALE_AT_STOP)
            for item in queue:
                if now - item.arrived > STALE_AT_STOP:
                    self._drop(chat_id, item, "shutting down")
            queue.clear()
            queue.extend(keep)

    async def cancel_after(self, seconds: float) -> None:
        """At shutdown: cancel whatever is still running after `seconds`."""
        await asyncio.sleep(seconds)
        if self._running:
            log.warning("shutting down: cancelling %d updates still running", len(self._running))
        for task in list(self._running):
            task.cancel()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class BotApplication(Application[Any, Any, Any, Any, Any, Any]):
    """The Application: one log line per failed try at start, a stop that fits 10 seconds."""

    _tries = 0

    async def initialize(self) -> None:
        """Called once per try by run_polling / run_webhook's bootstrap retries."""
        self._tries += 1
        try:
            await super().initialize()
        except (NetworkError, RetryAfter) as exc:  # not InvalidToken: that one is final
            log.warning("Telegram not reachable yet (try %d: %s); retrying", self._tries, exc)
            raise

    async def stop(self) -> None:
        processor = self.update_processor
        watchdog = None
        started = time.monotonic()
        if isinstance(processor, PerChatOrder):
            processor.begin_shutdown()
            watchdog = asyncio.create_task(processor.cancel_after(STOP_GRACE))
        try:
            await super().stop()
        finally:
            if watchdog is not None:
                watchdog.cancel()
        log.info("stopped handling updates in %.1f s", time.monotonic() - started)


# --- application -----------------------------------------------------------------------------


async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Set the command menus, then start live reload and retention pruning."""
    bot = application.bot
    group = [c for c in PUBLIC_COMMANDS if c.command != "start"]
    try:
        await bot.set_my_commands(PUBLIC_COMMANDS, scope=BotCommandScopeAllPrivateChats())
        await bot.set_my_commands(group, scope=BotCommandScopeAllGroupChats())
    except TelegramError as exc:  # the menu is a convenience: the bot answers without it
        log.warning("could not set the command menu (%s); carrying on without it", exc)
    state: BotState = application.bot_data
    if state.reloader is not None:
        state.tasks.append(asyncio.create_task(state.reloader.run(), name="knowledge-reload"))
    state.tasks.append(asyncio.create_task(_prune_forever(state.recorder), name="retention-prune"))
    log.info("bot @%s started with %d entries", bot.username, len(state.engine.entries))


async def post_stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop the background tasks, finish the queued writes and close the store."""
    state: BotState = application.bot_data
    for task in state.tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await asyncio.to_thread(state.recorder.close)


async def _prune_forever(recorder: Recorder) -> None:
    while True:
        if recorder.store is not None:
            # Its own thread, in batches: the writer thread waits for one batch at most.
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
        .application_class(BotApplication)
        .context_types(ContextTypes(bot_data=BotState))
        .token(settings.token)
        .base_url(settings.base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        )
        # The group backlog cap is there because of the rate limiter's 20 replies a minute.
        .concurrent_updates(
            PerChatOrder(CONCURRENT_UPDATES, MAX_GROUP_BACKLOG if rate_limit else None)
        )
        .post_init(post_init)
        .post_stop(post_stop)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limit:
        # Flood control: ~30 messages/s overall, 20/min per group. A 429 is retried here and
        # only here (the handlers never retry one), so one reply is tried at most 3 times.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=AIO_RETRIES))
    application = builder.build()
    state: BotState = application.bot_data
    state.current_engine = engine
    state.current_settings = settings
    state.recorder = Recorder(store)

    async def notify(text: str) -> None:
        await admin.notify_admins(application.bot, settings, state.engine, text)

    state.reloader = Reloader(
        knowledge_dir or settings.knowledge_dir,
        state.engine_slot(),
        notify,
        settings.reload_seconds,
    )

    # Edited messages never trigger a second answer, and another bot in a group (one that
    # mentions us, or replies to us) is never answered: two bots answering each other loop.
    new = filters.UpdateType.MESSAGE & ~_FROM_A_BOT
    private = new & filters.ChatType.PRIVATE
    # Admin commands: in a private chat with an admin only; anywhere else they fall through to
    # the unknown-command reply (silence in groups), so they reveal nothing.
    admins = private & filters.User(user_id=sorted(settings.admin_ids))
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
            CommandHandler("whoami", admin.whoami_command, filters=private),
            CommandHandler("reload", admin.reload_command, filters=admins),
            CommandHandler("stats", admin.stats_command, filters=admins),
            CommandHandler("report", admin.report_command, filters=admins),
            MessageHandler(new & filters.COMMAND, handlers.unknown_command),
            # Then questions, in text or in a caption (the engine's safety check runs first).
            MessageHandler(new & (filters.TEXT | filters.CAPTION), handlers.on_text),
            MessageHandler(new & ~filters.StatusUpdate.ALL, handlers.on_non_text),
            CallbackQueryHandler(handlers.on_topic_button, pattern=handlers.TOPIC_DATA),
            CallbackQueryHandler(handlers.on_topic_button, pattern=handlers.CHOICE_DATA),
            CallbackQueryHandler(handlers.on_vote_button, pattern=handlers.VOTE_DATA),
            CallbackQueryHandler(handlers.on_page_button, pattern=handlers.PAGE_DATA),
            CallbackQueryHandler(handlers.on_stale_button),
            InlineQueryHandler(handlers.on_inline),
        ]
    )
    application.add_error_handler(handlers.on_error)
    return application


WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram sends webhooks to


def webhook_url_problem(url: str) -> str | None:
    """Why Telegram would refuse this webhook URL, or None. Checked before start-up, where
    set_webhook's refusal would otherwise be retried for ever."""
    try:
        parsed = urlsplit(url)
        port = parsed.port or 443
    except ValueError:
        return f"--webhook-url {url!r} is not a URL"
    if parsed.scheme != "https" or not parsed.hostname:
        return f"--webhook-url must be a public https:// URL (Telegram requires HTTPS), not {url!r}"
    if port not in WEBHOOK_PORTS:
        return (
            f"--webhook-url uses port {port}; Telegram sends webhooks to ports 443, 80, 88 and "
            "8443 only (run the bot behind a reverse proxy on one of them)"
        )
    return None


def _fail(message: str, token: str | None) -> int:
    print(f"run_bot.py: {redact(message, token)}", file=sys.stderr)
    return 2


def run(settings: Settings, knowledge_dir: Path, args: argparse.Namespace) -> int:
    """Start the bot: long polling, or a webhook with --webhook-url. Stops cleanly on SIGTERM.

    A network failure at start is retried (one log line per try); a rejected token or another
    start-up failure is one line on stderr, token redacted, and exit status 2.
    """
    if not settings.token:
        print(
            "run_bot.py: TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather (/newbot), "
            "then export TELEGRAM_BOT_TOKEN=...; or try 'python run_bot.py console' to chat "
            "locally.",
            file=sys.stderr,
        )
        return 2
    token = settings.token
    setup_logging(token)
    refused = webhook_url_problem(args.webhook_url) if args.webhook_url else None
    if refused:
        return _fail(refused, token)
    if args.webhook_url and not settings.webhook_secret:
        return _fail(
            "webhook mode needs TELEGRAM_WEBHOOK_SECRET (a long random string of A-Z, a-z, "
            "0-9, _ and -; Telegram sends it back with every update)",
            token,
        )
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
    try:
        if args.webhook_url:
            application.run_webhook(
                listen=args.listen,
                port=args.port,
                url_path=args.url_path,
                webhook_url=args.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=args.drop_pending,
                bootstrap_retries=BOOTSTRAP_RETRIES,
            )
        else:
            application.run_polling(
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=args.drop_pending,
                bootstrap_retries=BOOTSTRAP_RETRIES,
            )
    except InvalidToken:
        return _fail(
            "Telegram rejected TELEGRAM_BOT_TOKEN; copy it again from @BotFather (/token)", token
        )
    except (TelegramError, OSError) as exc:
        return _fail(f"could not start: {type(exc).__name__}: {exc}", token)
    log.info("stopped")
    return 0
