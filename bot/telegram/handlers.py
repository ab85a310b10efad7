"""Telegram handlers for users: thin, they parse the update, ask the engine, send the reply.

Private chats: any text (or a caption) is a question. Groups: only when addressed (/ask@bot, a
mention of the bot's exact username or a text mention of the bot, or a reply to the bot),
answered as a reply in the same forum topic. Inline mode: the best matches as shareable
articles. Buttons: clarify suggestions, related topics, topic pages, 👍 / 👎. Every message sent
is rendered by `Renderer`, so every one carries the disclaimer.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import CallbackContext, ExtBot

from bot.answering.engine import Engine
from bot.answering.followups import FollowUps
from bot.answering.replies import Notice, Outgoing, Reply, Topic
from bot.config import Settings
from bot.reloader import Reloader
from bot.store import Recorder

log = logging.getLogger("bot.telegram")

INLINE_RESULTS = 5
SEND_ATTEMPTS = 4  # one send plus three retries, only when the request surely did not arrive
SEND_BACKOFF = 0.5  # seconds, doubled each retry
SEND_READ_TIMEOUT = 20.0  # sendMessage is never retried after a read timeout: wait longer instead
TOPICS_PER_PAGE = 24  # /topics: 12 rows of 2, then a row to page; Telegram allows 100 buttons

T = TypeVar("T")


# --- button data: one small codec, typed values, at most 64 bytes ----------------------------

ENTRY_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"  # knowledge/schema.json: ids, at most 40 characters


@dataclass(frozen=True)
class TopicButton:
    """A topic or related-topic button: send that entry."""

    entry_id: str


@dataclass(frozen=True)
class ChoiceButton:
    """A clarify suggestion: send that entry and record which suggestion resolved it."""

    clarify_id: int  # the recorded clarify event, 0 when none was recorded
    entry_id: str


@dataclass(frozen=True)
class VoteButton:
    """👍 / 👎 under an answer."""

    up: bool
    entry_id: str


@dataclass(frozen=True)
class PageButton:
    """A page of /topics."""

    page: int


Button = TopicButton | ChoiceButton | VoteButton | PageButton

# One pattern per kind; the handlers are registered with these, anything else is stale.
TOPIC_DATA = re.compile(rf"^t:({ENTRY_ID})$")
CHOICE_DATA = re.compile(rf"^c:(\d{{1,15}}):({ENTRY_ID})$")  # fits SQLite's 64-bit integers
VOTE_DATA = re.compile(rf"^f:([ud]):({ENTRY_ID})$")
PAGE_DATA = re.compile(r"^p:(\d{1,4})$")


def encode(button: Button) -> str:
    match button:
        case TopicButton(entry_id):
            data = f"t:{entry_id}"
        case ChoiceButton(clarify_id, entry_id):
            data = f"c:{clarify_id}:{entry_id}"
        case VoteButton(up, entry_id):
            data = f"f:{'u' if up else 'd'}:{entry_id}"
        case PageButton(page):
            data = f"p:{page}"
    assert len(data.encode()) <= 64, data
    return data


def decode(data: str | None) -> Button | None:
    """The typed value of a button's data, or None for anything this bot never sent."""
    data = data or ""
    if m := TOPIC_DATA.match(data):
        return TopicButton(m[1])
    if m := CHOICE_DATA.match(data):
        return ChoiceButton(int(m[1]), m[2])
    if m := VOTE_DATA.match(data):
        return VoteButton(m[1] == "u", m[2])
    if m := PAGE_DATA.match(data):
        return PageButton(int(m[1]))
    return None


# --- shared state, typed ----------------------------------------------------------------------


@dataclass
class BotState:
    """What the handlers share: python-telegram-bot's `bot_data`, as one typed object.

    python-telegram-bot creates it with no arguments (`ContextTypes(bot_data=BotState)`);
    `build_application` fills it in before the first update.
    """

    current_engine: Engine | None = None
    current_settings: Settings | None = None
    recorder: Recorder = field(default_factory=lambda: Recorder(None))
    reloader: Reloader | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # The entry each conversation was last answered with, for follow-ups (ids only, bounded).
    follow_ups: FollowUps = field(default_factory=FollowUps)

    @property
    def engine(self) -> Engine:
        """The engine serving now (live reload swaps it between updates)."""
        assert self.current_engine is not None, "build_application sets the engine"
        return self.current_engine

    @property
    def settings(self) -> Settings:
        assert self.current_settings is not None, "build_application sets the settings"
        return self.current_settings

    def engine_slot(self) -> MutableMapping[str, Any]:
        """The one key, "engine", that `Reloader` swaps a new engine into."""
        return _EngineSlot(self)


class _EngineSlot(MutableMapping[str, Any]):
    def __init__(self, state: BotState) -> None:
        self.state = state

    def __getitem__(self, key: str) -> Any:
        if key != "engine":
            raise KeyError(key)
        return self.state.engine

    def __setitem__(self, key: str, value: Any) -> None:
        if key != "engine" or not isinstance(value, Engine):
            raise KeyError(key)
        self.state.current_engine = value

    def __delitem__(self, key: str) -> None:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(["engine"])

    def __len__(self) -> int:
        return 1


# The handlers' context: bot_data is a BotState, the rest as python-telegram-bot's default.
Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotState]


# --- helpers -------------------------------------------------------------------------------


def engine_of(context: Context) -> Engine:
    """The engine serving now (live reload swaps it between updates)."""
    return context.bot_data.engine


def recorder_of(context: Context) -> Recorder:
    return context.bot_data.recorder


def not_delivered(exc: BaseException) -> bool:
    """True when a request surely did not reach Telegram (or Telegram failed with a 5xx):
    safe to send again. A read timeout may come after Telegram accepted the message, so it
    is never retried; a 429 is the rate limiter's to wait out."""
    if isinstance(exc, TimedOut):
        cause = exc.__cause__
        return isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout) or (
            "Pool timeout" in str(exc)
        )
    if isinstance(
        exc, BadRequest | Forbidden | ChatMigrated | RetryAfter | InvalidToken | Conflict
    ):
        return False
    return isinstance(exc, NetworkError)  # connection refused or reset, 5xx


async def with_retries(send: Callable[[], Awaitable[T]]) -> T:
    """Retry a send that did not arrive (connection errors, 5xx) with backoff; raise the rest."""
    delay = SEND_BACKOFF
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await send()
        except TelegramError as exc:
            if attempt == SEND_ATTEMPTS or not not_delivered(exc):
                raise
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def keyboard(reply: Reply, clarify_id: int | None = None) -> InlineKeyboardMarkup | None:
    """Buttons: a clarify reply's suggestions; an answer's related topics and 👍 / 👎."""
    if reply.kind == "clarify":
        rows = [
            [
                InlineKeyboardButton(
                    t.title, callback_data=encode(ChoiceButton(clarify_id or 0, t.id))
                )
            ]
            for t in reply.suggestions
        ]
        return InlineKeyboardMarkup(rows) if rows else None
    if reply.kind != "answer" or reply.entry_id is None:
        return None
    rows = [
        [InlineKeyboardButton(t.title, callback_data=encode(TopicButton(t.id)))]
        for t in reply.related
    ]
    rows.append(
        [
            InlineKeyboardButton(
                "👍 Helpful", callback_data=encode(VoteButton(True, reply.entry_id))
            ),
            InlineKeyboardButton(
                "👎 Not helpful", callback_data=encode(VoteButton(False, reply.entry_id))
            ),
        ]
    )
    return InlineKeyboardMarkup(rows)


def topics_keyboard(topics: list[Topic], page: int = 0) -> InlineKeyboardMarkup:
    """One page of topics, two per row, with ‹ / › to page when there are more."""
    pages = max(1, -(-len(topics) // TOPICS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = topics[page * TOPICS_PER_PAGE : (page + 1) * TOPICS_PER_PAGE]
    buttons = [
        InlineKeyboardButton(t.title, callback_data=encode(TopicButton(t.id))) for t in shown
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(InlineKeyboardButton("‹ Back", callback_data=encode(PageButton(page - 1))))
        nav.append(
            InlineKeyboardButton(f"{page + 1} / {pages}", callback_data=encode(PageButton(page)))
        )
        if page < pages - 1:
            nav.append(InlineKeyboardButton("More ›", callback_data=encode(PageButton(page + 1))))
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


@dataclass(frozen=True)
class Target:
    """Where a reply goes: the chat, its forum topic, and the message it replies to."""

    chat_id: int
    thread_id: int | None = None
    reply_to: int | None = None

    @classmethod
    def of(cls, message: Message, *, quote: bool) -> Target:
        thread = message.message_thread_id if message.is_topic_message else None
        return cls(message.chat_id, thread, message.message_id if quote else None)


def _thread_gone(exc: BadRequest) -> bool:
    return "thread not found" in exc.message.casefold()


async def _send_one(
    bot: Bot, target: Target, text: str, markup: InlineKeyboardMarkup | None
) -> Message:
    return await with_retries(
        lambda: bot.send_message(
            chat_id=target.chat_id,
            text=text,
            message_thread_id=target.thread_id,
            reply_parameters=ReplyParameters(target.reply_to, allow_sending_without_reply=True)
            if target.reply_to is not None
            else None,
            reply_markup=markup,
            read_timeout=SEND_READ_TIMEOUT,
        )
    )


async def send_parts(
    bot: Bot, target: Target, parts: list[str], markup: InlineKeyboardMarkup | None = None
) -> None:
    """Send HTML messages in order (buttons on the last). A group that became a supergroup is
    followed to its new id; a forum topic that is gone gets the reply in the chat itself."""
    for index, text in enumerate(parts):
        last = index == len(parts) - 1
        while True:
            try:
                await _send_one(bot, target, text, markup if last else None)
                break
            except ChatMigrated as exc:
                if exc.new_chat_id == target.chat_id:
                    raise
                log.warning(
                    "chat %s became supergroup %s; replying there", target.chat_id, exc.new_chat_id
                )
                # The old message ids mean nothing in the new chat.
                target = Target(exc.new_chat_id, target.thread_id, None)
            except BadRequest as exc:
                if target.thread_id is None or not _thread_gone(exc):
                    raise
                log.warning(
                    "chat %s: forum topic %s is gone; replying in the chat itself",
                    target.chat_id,
                    target.thread_id,
                )
                target = Target(target.chat_id, None, None)
        target = Target(target.chat_id, target.thread_id, None)  # only the first part quotes


async def send_reply(
    message: Message,
    engine: Engine,
    outgoing: Outgoing,
    *,
    quote: bool,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send a reply or a notice as one or more HTML messages, in the same forum topic; buttons
    go last."""
    await send_parts(
        message.get_bot(), Target.of(message, quote=quote), engine.render_html(outgoing), markup
    )


def question_text(message: Message) -> str | None:
    """What a message says: its text, or a photo's or document's caption."""
    return message.text if message.text is not None else message.caption


async def answer_question(
    message: Message, context: Context, question: str, *, quote: bool
) -> None:
    """Answer a question from the engine, record what maintainers learn from, and send it.

    The one place where a user's message is answered: every text, caption, mention and /ask
    comes through here.
    """
    engine = engine_of(context)
    # A follow-up ("and is it safe?") is read against this conversation's last answer: per
    # user in a group, and per forum topic.
    user = message.from_user.id if message.from_user else None
    conversation = (message.chat.id, user, message.message_thread_id)
    follow_ups = context.bot_data.follow_ups
    reply = engine.answer(question, follow_ups.previous(conversation))
    follow_ups.remember(conversation, reply)
    clarify_id = await recorder_of(context).reply(reply, message.chat.type)
    await send_reply(message, engine, reply, quote=quote, markup=keyboard(reply, clarify_id))


def text_notice(engine: Engine, key: str, **values: str) -> Notice:
    """One of the bot's texts (knowledge/texts.yaml) as a notice."""
    return Notice.of(engine.text(key, **values))


async def send_text(
    message: Message, context: Context, key: str | None, *, quote: bool, **values: str
) -> None:
    """Send one of the bot's texts; with no key, the disclaimer alone (the renderer adds it)."""
    engine = engine_of(context)
    notice = text_notice(engine, key, **values) if key else Notice()
    await send_reply(message, engine, notice, quote=quote)


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


def _without(text: str, entities: list[MessageEntity]) -> str:
    """The text with the entities' spans removed. Offsets are UTF-16 code units."""
    raw = text.encode("utf-16-le")
    for entity in sorted(entities, key=lambda e: e.offset, reverse=True):
        raw = raw[: entity.offset * 2] + raw[(entity.offset + entity.length) * 2 :]
    return raw.decode("utf-16-le", errors="replace")


def addressed_text(message: Message, username: str, bot_id: int) -> str | None:
    """In a group, the question if the message is addressed to the bot, else None.

    Addressed: a mention of exactly @username (any case), a text mention of the bot, or a reply
    to one of the bot's messages. Captions count like text.
    """
    text = question_text(message)
    if text is None:
        return None
    kinds: list[str | None] = [MessageEntityType.MENTION, MessageEntityType.TEXT_MENTION]
    found = (
        message.parse_entities(kinds)
        if message.text is not None
        else message.parse_caption_entities(kinds)
    )
    mention = f"@{username}".casefold()
    ours = [
        entity
        for entity, value in found.items()
        if (entity.type == MessageEntityType.MENTION and value.casefold() == mention)
        or (
            entity.type == MessageEntityType.TEXT_MENTION
            and entity.user is not None
            and entity.user.id == bot_id
        )
    ]
    if ours:
        return _without(text, ours).strip()
    if not found:  # no entities at all (an old client, a forward): the name as a whole word
        pattern = re.compile(rf"(?<![\w@]){re.escape('@' + username)}(?!\w)", re.IGNORECASE)
        if pattern.search(text):
            return pattern.sub("", text).strip()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        # In forum topics every message "replies" to the topic's first message: not to us.
        if message.is_topic_message and replied.message_id == message.message_thread_id:
            return None
        return text
    return None


# --- commands ------------------------------------------------------------------------------


async def _command_text(update: Update, context: Context, key: str | None, **values: str) -> None:
    message = update.effective_message
    if message is not None:
        await send_text(message, context, key, quote=not is_private(message), **values)


async def start(update: Update, context: Context) -> None:
    """Send the welcome when /start is issued."""
    await _command_text(update, context, "welcome")


async def help_command(update: Update, context: Context) -> None:
    """Explain how to ask when /help is issued."""
    await _command_text(update, context, "help")


async def source_command(update: Update, context: Context) -> None:
    """Say where the answers come from when /source is issued."""
    await _command_text(update, context, "source")


async def privacy_command(update: Update, context: Context) -> None:
    """Say what is stored, and for how long, when /privacy is issued."""
    days = str(context.bot_data.settings.retention_days)
    await _command_text(update, context, "privacy", days=days)


async def disclaimer_command(update: Update, context: Context) -> None:
    """Show the medical disclaimer when /disclaimer is issued."""
    await _command_text(update, context, None)


async def topics_command(update: Update, context: Context) -> None:
    """List the topics as buttons, a page at a time, when /topics is issued."""
    message = update.effective_message
    if message is None:
        return
    engine = engine_of(context)
    await send_reply(
        message,
        engine,
        text_notice(engine, "topics"),
        quote=not is_private(message),
        markup=topics_keyboard(engine.topics()),
    )


async def ask_command(update: Update, context: Context) -> None:
    """Answer the question after /ask (works in groups whatever the privacy mode)."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or []).strip()
    if not question:
        await send_text(message, context, "empty", quote=True)
        return
    await answer_question(message, context, question, quote=not is_private(message))


async def unknown_command(update: Update, context: Context) -> None:
    """Answer an unknown command in a private chat; stay silent in groups."""
    message = update.effective_message
    if message is not None and is_private(message):
        await send_text(message, context, "unknown_command", quote=False)


# --- messages, buttons, inline -------------------------------------------------------------


async def on_text(update: Update, context: Context) -> None:
    """Answer a text or a caption: any in private chats, addressed ones in groups."""
    message = update.effective_message
    if message is None:
        return
    text = question_text(message)
    if text is None:
        return
    if is_private(message):
        if not text.strip():
            await send_text(message, context, "empty", quote=False)
            return
        await answer_question(message, context, text, quote=False)
        return
    question = addressed_text(message, context.bot.username, context.bot.id)
    if question is None:
        return  # not addressed to us: stay silent in groups
    if not question:
        await send_text(message, context, "empty", quote=True)
        return
    await answer_question(message, context, question, quote=True)


async def on_non_text(update: Update, context: Context) -> None:
    """Ask for text when a sticker, an uncaptioned photo, a voice note… arrives privately."""
    message = update.effective_message
    if message is not None and is_private(message):
        await send_text(message, context, "non_text", quote=False)


async def answer_query(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a button tap; a query Telegram no longer accepts is logged in one line."""
    try:
        await with_retries(lambda: query.answer(text))
    except TelegramError as exc:
        log.warning("could not answer a button tap (%s); carrying on", exc)


def _query_message(query: CallbackQuery) -> Message | None:
    message = query.message
    return message if isinstance(message, Message) and message.is_accessible else None


def _query_target(query: CallbackQuery) -> Target | None:
    """Where a tapped button's answer goes: the chat (and topic) of the message it is under."""
    message = _query_message(query)
    if message is not None:
        return Target.of(message, quote=False)
    if query.message is not None:  # too old to read, but its chat is known
        return Target(query.message.chat.id)
    return None  # a button under an inline message: there is no chat to send to


def _chat_type(query: CallbackQuery) -> str:
    if query.message is not None:
        return str(query.message.chat.type)
    return "inline" if query.inline_message_id else "unknown"


async def _tapped(
    update: Update, context: Context, kinds: type | tuple[type, ...]
) -> tuple[CallbackQuery, Any] | None:
    """The tapped query and its decoded button if it is one of `kinds`; otherwise the tap gets
    the stale-button answer and None is returned."""
    query = update.callback_query
    if query is None:
        return None
    button = decode(query.data)
    if not isinstance(button, kinds):
        await on_stale_button(update, context)
        return None
    return query, button


async def on_topic_button(update: Update, context: Context) -> None:
    """A topic or clarify choice: answer the tap, then send that entry."""
    tapped = await _tapped(update, context, (TopicButton, ChoiceButton))
    if tapped is None:
        return
    query, button = tapped
    engine = engine_of(context)
    reply = engine.entry_reply(button.entry_id)
    target = _query_target(query)
    if reply is None or target is None:
        await answer_query(query, engine.text("stale_button"))
        return
    await answer_query(query)
    if isinstance(button, ChoiceButton):
        await recorder_of(context).chosen(button.clarify_id, button.entry_id, _chat_type(query))
    await send_parts(query.get_bot(), target, engine.render_html(reply), keyboard(reply))


async def on_vote_button(update: Update, context: Context) -> None:
    """👍 / 👎: thank the user, record one vote per user per answer (no user id is kept)."""
    tapped = await _tapped(update, context, VoteButton)
    if tapped is None:
        return
    query, button = tapped
    engine = engine_of(context)
    if engine.entry(button.entry_id) is None:
        await on_stale_button(update, context)
        return
    await answer_query(query, engine.text("feedback_thanks"))
    if query.message is not None:
        where = f"{query.message.chat.id}:{query.message.message_id}"
    else:
        where = f"inline:{query.inline_message_id}"
    await recorder_of(context).feedback(
        "up" if button.up else "down",
        button.entry_id,
        _chat_type(query),
        voter=f"{where}:{query.from_user.id}",
    )


async def on_page_button(update: Update, context: Context) -> None:
    """Another page of /topics: the same message shows it."""
    tapped = await _tapped(update, context, PageButton)
    if tapped is None:
        return
    query, button = tapped
    await answer_query(query)
    markup = topics_keyboard(engine_of(context).topics(), button.page)
    try:
        await with_retries(lambda: query.edit_message_reply_markup(markup))
    except (TelegramError, TypeError) as exc:  # TypeError: the message is inaccessible
        log.warning("could not show another page of topics: %s", exc)


async def on_stale_button(update: Update, context: Context) -> None:
    """Any other button data: an old button, or data this bot never sent."""
    query = update.callback_query
    if query is not None:
        await answer_query(query, engine_of(context).text("stale_button"))


def inline_replies(engine: Engine, text: str) -> list[Reply]:
    """Up to INLINE_RESULTS replies, through the same gates as a chat (Engine.candidates)."""
    return engine.candidates(text, INLINE_RESULTS)


def _inline_title(engine: Engine, reply: Reply) -> tuple[str, str]:
    if reply.kind == "urgent":
        return "⚠️ Please get medical help", reply.parts[0].text[:100]
    entry = engine.entry(reply.entry_id) if reply.entry_id else None
    if entry is not None:
        return entry.title, entry.answer[:100]
    return "Remedial massage FAQ", reply.parts[0].text[:100] if reply.parts else ""


async def on_inline(update: Update, context: Context) -> None:
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
                engine.render_html(reply)[-1], parse_mode=ParseMode.HTML
            ),
        )
        for index, reply in enumerate(inline_replies(engine, query.query.strip()))
        for title, description in [_inline_title(engine, reply)]
    ]
    await with_retries(lambda: query.answer(results, cache_time=60, is_personal=False))


# --- errors --------------------------------------------------------------------------------

# Bad requests that say something about one chat or one message, not about the bot: a line each.
KNOWN_BAD_REQUESTS = (
    "chat not found",
    "message to be replied not found",
    "message thread not found",
    "message is not modified",
    "message to edit not found",
    "query is too old",
    "query id is invalid",
    "have no rights to send",
    "not enough rights",
    "chat_write_forbidden",
    "topic_closed",
    "topic closed",
)


def _where(update: object) -> str:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return f"chat {update.effective_chat.id}"
        if update.inline_query is not None:
            return "an inline query"
        if update.callback_query is not None:
            return "a button tap"
    return "an update"


async def on_error(update: object, context: Context) -> None:
    """One WARNING line for what one chat did (blocked us, left, a stale message); the
    traceback only for what looks like a bug. The bot keeps running."""
    error = context.error
    where = _where(update)
    if isinstance(error, Forbidden):
        log.warning("%s: Telegram refused the reply (%s); skipped", where, error.message)
    elif isinstance(error, BadRequest) and any(
        known in error.message.casefold() for known in KNOWN_BAD_REQUESTS
    ):
        log.warning("%s: %s; skipped", where, error.message)
    elif isinstance(error, ChatMigrated):
        log.warning("%s: %s; not followed", where, error.message)
    elif isinstance(error, RetryAfter):
        log.warning("%s: still rate limited after retries (%s); reply dropped", where, error)
    elif isinstance(error, TimedOut):
        log.warning("%s: Telegram did not answer in time (%s); not sent twice", where, error)
    elif isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        log.warning("%s: network error (%s); reply dropped after retries", where, error)
    else:
        log.error("error while handling %s", where, exc_info=error)
