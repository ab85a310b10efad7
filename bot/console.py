"""An interactive local chat with the engine: the bot without Telegram.

Every reply goes through the same renderer as in Telegram, so it ends with the disclaimer. What
Telegram shows as buttons (related topics, clarify choices, /topics) is a numbered list here,
before the disclaimer: typing a number or a title reads that topic. Replies are wrapped to the
terminal's width without splitting words or links. The console's own words are in texts.yaml.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.answering.engine import Engine
from bot.answering.followups import FollowUps
from bot.answering.replies import Notice, Part, Topic
from bot.config import Settings

YOU = "you> "
BOT = "bot> "
QUIT = frozenset({"/quit", "/exit", "quit", "exit"})
CONVERSATION = "console"  # the one conversation follow-ups are remembered for
FALLBACK_WIDTH = 80
MIN_WIDTH = 20  # below this a terminal reports nonsense (some report 0 columns)
_NUMBERED = re.compile(r"\d+\. ")
_COMMAND = re.compile(r"/(\w+)(?:\s+(.*))?", re.DOTALL)


def terminal_width() -> int:
    """The terminal's columns ($COLUMNS first), or 80 when there is no usable terminal."""
    columns = shutil.get_terminal_size((FALLBACK_WIDTH, 24)).columns
    return columns if columns >= MIN_WIDTH else FALLBACK_WIDTH


def columns(text: str) -> int:
    """How many terminal columns `text` takes: wide characters (👍, CJK) take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, width: int, prefix: str = BOT) -> str:
    """`text` after `prefix`, wrapped to `width` columns with later lines indented under it.

    Lines break only at spaces, so words and links are never split (a link longer than a line
    runs over it); blank lines stay blank; a numbered line ("3. Massage oil") continues under
    its text, not under its number.
    """
    width = max(width, MIN_WIDTH)
    indent = " " * len(prefix)
    out: list[str] = []
    for n, line in enumerate(text.split("\n")):
        first = prefix if n == 0 else indent
        said = line.split()
        if not said:
            out.append(first.rstrip())
            continue
        numbered = _NUMBERED.match(line)
        hanging = indent + " " * (numbered.end() if numbered else 0)
        current = first + said[0]
        for word in said[1:]:
            if columns(current) + 1 + columns(word) > width:
                out.append(current)
                current = hanging + word
            else:
                current += " " + word
        out.append(current)
    return "\n".join(out)


def numbered(topics: Sequence[Topic]) -> str:
    return "\n".join(f"{n}. {t.title}" for n, t in enumerate(topics, 1))


class Session:
    """One console conversation: the last list shown (for numbers and titles) and follow-ups."""

    def __init__(self, engine: Engine, settings: Settings, history: Path) -> None:
        self.engine = engine
        self.settings = settings
        self.history = history
        self.choices: list[Topic] = []
        self.follow_ups = FollowUps()

    def _text(self, key: str, **values: str) -> str:
        return self.engine.text(key, **values)

    def _notice(self, *keys: str, **values: str) -> Notice:
        """A bot text that is not an answer (/help, /privacy…), rendered like one."""
        return Notice(tuple(Part("text", self._text(key, **values)) for key in keys))

    def opening(self) -> str:
        return self.engine.render_plain(self._notice("welcome", "console_hint"))

    def respond(self, line: str) -> str:
        """The rendered reply to one typed line (not /quit), disclaimer last."""
        if line.casefold() in ("help", "topics"):
            line = "/" + line.casefold()
        command = _COMMAND.fullmatch(line)
        if command:
            rest = (command[2] or "").strip()
            notice = self._command(command[1].casefold(), rest)
            if notice is not None:
                return self.engine.render_plain(notice)
            line = rest  # /ask <question>: answered as the question
        picked = self._picked(line)
        reply = (self.engine.entry_reply(picked.id) if picked else None) or self.engine.answer(
            line, self.follow_ups.previous(CONVERSATION)
        )
        self.follow_ups.remember(CONVERSATION, reply)
        # As in Telegram: an answer offers its related topics, a clarify its choices.
        extra: list[str] = []
        if reply.kind == "answer" and reply.related:
            self.choices = list(reply.related)
            extra.append(self._text("console_related") + "\n" + numbered(reply.related))
        elif reply.kind == "clarify" and reply.suggestions:
            self.choices = list(reply.suggestions)
            extra.append(self._text("console_choose"))
        return self.engine.render_plain(reply, extra)

    def _command(self, name: str, rest: str) -> Notice | None:
        """The reply to a command; None for /ask with a question, which is answered as one."""
        if name == "start":
            return self._notice("welcome", "console_hint")
        if name == "help":
            return self._notice("help", "console_hint")
        if name == "source":
            return self._notice("source")
        if name == "privacy":
            days = str(self.settings.retention_days)
            return self._notice("privacy", "console_privacy", days=days, history=str(self.history))
        if name == "disclaimer":
            return self._notice()
        if name == "topics":
            topics = self.engine.topics()
            self.choices = topics
            notice = self._notice("console_topics")
            return Notice((*notice.parts, *(Part("choice", t.title) for t in topics)))
        if name == "ask":
            return None if rest else self._notice("empty")
        return self._notice("unknown_command")

    def _picked(self, line: str) -> Topic | None:
        """The topic a number or a title picks from the last list shown, if it does."""
        if line.isdigit() and 1 <= int(line) <= len(self.choices):
            return self.choices[int(line) - 1]
        said = line.casefold().rstrip(".?! ")
        return next((t for t in self.choices if t.title.casefold() == said), None)


def _readline_setup(interactive: bool, history: Path) -> None:
    if not interactive:
        return
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        return
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    import atexit

    def save() -> None:
        with contextlib.suppress(OSError):
            history.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(history)

    atexit.register(save)


def console(
    engine: Engine,
    stdin: TextIO,
    out: TextIO,
    settings: Settings | None = None,
    width: int | None = None,
) -> int:
    """Chat until /quit or end of input. A number or a title picks from the last list shown.

    Settings (the data folder for the history, the retention days /privacy states) and the
    terminal's width are read now, when the console starts.
    """
    settings = Settings.from_env() if settings is None else settings
    width = terminal_width() if width is None else width
    history = settings.data_dir / "console_history"
    interactive = stdin.isatty() and out.isatty()
    _readline_setup(interactive, history)
    session = Session(engine, settings, history)
    out.write(wrap(session.opening(), width) + "\n\n")
    while True:
        if interactive:
            try:
                line = input(YOU)
            except (EOFError, KeyboardInterrupt):
                out.write("\n")
                return 0
        else:
            raw = stdin.readline()
            if not raw:
                return 0
            line = raw.rstrip("\r\n")
            out.write(wrap(line, width, YOU) + "\n")
        line = line.strip()
        if line.casefold() in QUIT:
            out.write(wrap(engine.text("console_bye"), width) + "\n")
            return 0
        out.write(wrap(session.respond(line), width) + "\n\n")
