"""An interactive local chat with the engine: the bot without Telegram."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TextIO

from bot.engine import Engine
from bot.followups import FollowUps

HISTORY = Path(os.environ.get("BOT_DATA_DIR", "data")) / "console_history"


def _readline_setup(interactive: bool) -> None:
    if not interactive:
        return
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        return
    with contextlib.suppress(OSError):
        readline.read_history_file(HISTORY)
    import atexit

    def save() -> None:
        with contextlib.suppress(OSError):
            HISTORY.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(HISTORY)

    atexit.register(save)


def console(engine: Engine, stdin: TextIO, out: TextIO) -> int:
    """Chat until /quit or end of input. A number picks from the last list of choices."""
    interactive = stdin.isatty() and out.isatty()
    _readline_setup(interactive)
    texts = engine  # the bot's texts (knowledge/texts.yaml)
    out.write(
        texts.text("welcome") + "\nType /topics, /help or /quit. A number picks a choice.\n\n"
    )
    choices: list[str] = []
    follow_ups = FollowUps()
    while True:
        if interactive:
            try:
                line = input("you> ")
            except (EOFError, KeyboardInterrupt):
                out.write("\n")
                return 0
        else:
            raw = stdin.readline()
            if not raw:
                return 0
            line = raw.rstrip("\r\n")
            out.write(f"you> {line}\n")
        line = line.strip()
        if line in ("/quit", "/exit", "quit", "exit"):
            out.write("Take care of your back!\n")
            return 0
        if line in ("/topics", "topics"):
            choices = [t.id for t in engine.topics()]
            out.write(texts.text("topics") + "\n")
            for n, topic in enumerate(engine.topics(), 1):
                out.write(f"{n:3d}. {topic.title}\n")
            out.write("\n")
            continue
        if line in ("/help", "help"):
            out.write(texts.text("help") + "\n\n")
            continue
        if line in ("/start",):
            out.write(texts.text("welcome") + "\n\n")
            continue
        if line in ("/source",):
            out.write(texts.text("source") + "\n\n")
            continue
        reply = None
        if line.isdigit() and 1 <= int(line) <= len(choices):
            reply = engine.entry_reply(choices[int(line) - 1])
        if reply is None:
            reply = engine.answer(line, follow_ups.previous("console"))
        follow_ups.remember("console", reply)
        out.write("bot> " + engine.render_plain(reply).replace("\n", "\n     ") + "\n")
        options = reply.suggestions or reply.related
        if options and reply.kind != "clarify":
            out.write(
                "     Related: "
                + "; ".join(f"{n}. {t.title}" for n, t in enumerate(options, 1))
                + "\n"
            )
        choices = [t.id for t in options] if options else choices
        out.write("\n")
