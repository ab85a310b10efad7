"""Admin commands (/reload, /stats, /report), /whoami, and messages to the admins.

Admins are the Telegram user ids in BOT_ADMIN_IDS, and the commands work only in a private
chat with one of them (a report quotes users' questions: it must never land in a group).
Anyone else, or anywhere else, gets exactly the reply an unknown command gets (silence in
groups), so the commands reveal nothing; they are not in the command menu. /whoami, in private
chats only, tells anyone their numeric user id: how a maintainer finds theirs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from functools import partial, wraps
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.answering.engine import Engine
from bot.answering.replies import Notice
from bot.config import Settings
from bot.maintain.report import build_report
from bot.telegram.handlers import (
    Context,
    engine_of,
    recorder_of,
    send_reply,
    unknown_command,
    with_retries,
)

log = logging.getLogger("bot.telegram.admin")
WEEK = 7 * 86400


def is_admin(update: Update, context: Context) -> bool:
    """An admin, in a private chat with the bot."""
    settings = context.bot_data.settings
    user = update.effective_user
    chat = update.effective_chat
    return (
        user is not None
        and user.id in settings.admin_ids
        and chat is not None
        and chat.type == ChatType.PRIVATE
    )


def admin_notice(text: str) -> Notice:
    """A message for an admin: rendered, like every message, with the disclaimer."""
    return Notice.of(text)


async def _reply(update: Update, context: Context, text: str) -> None:
    message = update.effective_message
    if message is not None:
        await send_reply(message, engine_of(context), admin_notice(text), quote=False)


Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def admin_only(handler: Handler) -> Handler:
    """Run the handler for admins; answer anyone else exactly like an unknown command."""

    @wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        if is_admin(update, context):
            await handler(update, context)
        else:
            await unknown_command(update, context)

    return guarded


async def whoami_command(update: Update, context: Context) -> None:
    """Tell a user their numeric Telegram id, for BOT_ADMIN_IDS (private chats only)."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.chat.type != ChatType.PRIVATE:
        return
    text = engine_of(context).text("whoami", id=str(user.id))
    await send_reply(message, engine_of(context), admin_notice(text), quote=False)


@admin_only
async def reload_command(update: Update, context: Context) -> None:
    """Reload the knowledge base now and say how it went (admins only)."""
    reloader = context.bot_data.reloader
    if reloader is None:
        await _reply(update, context, "Live reload is not set up in this process.")
        return
    outcome = await reloader.reload()
    await _reply(update, context, outcome.message())


@admin_only
async def stats_command(update: Update, context: Context) -> None:
    """Show reply counts since start and in the last 7 days (admins only)."""
    recorder = recorder_of(context)
    hours = (time.time() - recorder.started) / 3600
    since_start = ", ".join(f"{k} {v}" for k, v in sorted(recorder.since_start.items()))
    lines = [f"Since start ({hours:.1f} h ago): {since_start or 'nothing yet'}."]
    if recorder.store is not None:
        week = recorder.store.counts(time.time() - WEEK)
        recorded = ", ".join(f"{k} {v}" for k, v in sorted(week.items()))
        lines.append(f"Recorded in the last 7 days: {recorded or 'nothing'}.")
    else:
        lines.append("Recording is off (the data directory could not be opened).")
    lines.append(f"Knowledge: {len(engine_of(context).entries)} entries.")
    await _reply(update, context, "\n".join(lines))


@admin_only
async def report_command(update: Update, context: Context) -> None:
    """Send the short maintainers' report for the last 7 days (admins only)."""
    store = recorder_of(context).store
    if store is None:
        await _reply(update, context, "Recording is off: no report.")
        return
    report = build_report(store, engine_of(context), time.time() - WEEK)
    await _reply(
        update, context, report.format(limit=5) + "\n\nFull report: python run_bot.py report"
    )


async def notify_admins(bot: Any, settings: Settings, engine: Engine, text: str) -> None:
    """Send a message to every admin; one who never started the bot is logged and skipped."""
    parts = engine.render_html(admin_notice(text))
    for admin in sorted(settings.admin_ids):
        try:
            for part in parts:
                await with_retries(partial(bot.send_message, admin, part))
        except TelegramError as exc:
            log.warning("could not message admin %s: %s", admin, exc)
