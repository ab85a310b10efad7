"""Replies: what the engine decided (`Reply`), the bot's other texts (`Notice`), and the one
renderer that turns either into text.

`Renderer` is the only place the disclaimer and the source line are added, and the only place
that knows Telegram's 4096-character limit: every channel renders through it, so every message
the bot sends, a reply or a notice, ends with the disclaimer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answering.kinds import (
    REPLY_KINDS,
    AdviceCard,
    CardTier,
    FallbackReason,
    PartStyle,
    ReplyKind,
)
from bot.answering.knowledge import Knowledge

TELEGRAM_LIMIT = 4096
KINDS = REPLY_KINDS


@dataclass(frozen=True)
class Part:
    style: PartStyle
    text: str
    source: str = ""  # for a caution: who says so


@dataclass(frozen=True)
class Topic:
    id: str
    title: str


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    question: str
    parts: tuple[Part, ...]
    entry_id: str | None = None
    score: float = 0.0
    suggestions: tuple[Topic, ...] = ()  # clarify: the entries offered
    related: tuple[Topic, ...] = ()  # answer: follow-up topics
    source: str | None = None  # "article", or the named source of a non-article entry
    tier: CardTier | None = None  # urgent cards only
    language: str = "en"  # the language the reply is written in
    reason: FallbackReason | None = None  # fallbacks only
    advice: tuple[AdviceCard, ...] = ()  # the advice lines added to it: "advice", "check-in"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown reply kind {self.kind!r}")

    def as_json(self, text: str) -> dict[str, object]:
        """The `ask --json` contract: question, kind, entry_id, score, suggestions, text."""
        return {
            "question": self.question,
            "kind": self.kind,
            "entry_id": self.entry_id,
            "score": self.score,
            "suggestions": [s.id for s in self.suggestions],
            "text": text,
            "tier": self.tier,
            "language": self.language,
            "reason": self.reason,
            "advice": list(self.advice),
        }


@dataclass(frozen=True)
class Notice:
    """A bot text that answers no question: /start, /help, /privacy, an admin notice, or no
    parts at all for the disclaimer alone. Never counted or recorded; rendered like a reply,
    so it ends with the disclaimer too."""

    parts: tuple[Part, ...] = ()

    @classmethod
    def of(cls, text: str) -> Notice:
        return cls((Part("text", text),))


Outgoing = Reply | Notice  # what the renderer renders: everything the bot sends


class Renderer:
    """Renders replies as plain text or Telegram HTML, always ending with the disclaimer."""

    def __init__(self, knowledge: Knowledge, limit: int = TELEGRAM_LIMIT) -> None:
        self.disclaimer = knowledge.text("disclaimer")
        self._translated = {
            code: pack.texts["disclaimer"]
            for code, pack in knowledge.safety.languages.items()
            if "disclaimer" in pack.texts
        }
        self.article_source = knowledge.text("source_line")
        self.limit = limit

    def _source_line(self, message: Outgoing) -> str | None:
        if not isinstance(message, Reply) or message.source is None:
            return None
        if message.source == "article":
            return self.article_source
        return f"Source: {message.source}"

    def disclaimers(self, message: Outgoing) -> list[str]:
        """The disclaimer, preceded by its translation when the reply is in another language."""
        translated = self._translated.get(message.language) if isinstance(message, Reply) else None
        return [translated, self.disclaimer] if translated else [self.disclaimer]

    # --- plain text ----------------------------------------------------------------------

    def plain_blocks(self, message: Outgoing, before_disclaimer: Sequence[str] = ()) -> list[str]:
        """The message's blocks; `before_disclaimer` (the console's numbered topics) go just
        before the disclaimer, which stays last."""
        blocks: list[str] = []
        choices: list[str] = []
        for part in message.parts:
            if part.style == "choice":
                choices.append(f"{len(choices) + 1}. {part.text}")
                continue
            if choices:  # a numbered list is one block
                blocks.append("\n".join(choices))
                choices = []
            if part.style == "caution":
                blocks.append(f"⚠️ Caution: {part.text} (Source: {part.source})")
            elif part.style == "quote":
                blocks.append(f"The article: “{part.text}”")
            else:
                blocks.append(part.text)
        if choices:
            blocks.append("\n".join(choices))
        source = self._source_line(message)
        if source:
            blocks.append(source)
        blocks.extend(before_disclaimer)
        blocks.extend(self.disclaimers(message))
        return blocks

    def plain(self, message: Outgoing, before_disclaimer: Sequence[str] = ()) -> str:
        """The whole reply or notice as plain text (console, CLI, JSON), disclaimer last."""
        return "\n\n".join(self.plain_blocks(message, before_disclaimer))

    # --- Telegram HTML -------------------------------------------------------------------

    def html_blocks(self, message: Outgoing) -> list[str]:
        blocks: list[str] = []
        for part in message.parts:
            text = html.escape(part.text, quote=False)
            if part.style == "heading":
                blocks.append(f"<b>{text}</b>")
            elif part.style == "caution":
                source = html.escape(part.source, quote=False)
                blocks.append(f"⚠️ <b>Caution:</b> {text} <i>(Source: {source})</i>")
            elif part.style == "choice":
                blocks.append(f"• {text}")
            elif part.style == "quote":
                blocks.append(f"The article: <i>“{text}”</i>")
            else:
                blocks.append(text)
        source_line = self._source_line(message)
        if source_line:
            blocks.append(f"<i>{html.escape(source_line, quote=False)}</i>")
        blocks.extend(f"<i>{html.escape(d, quote=False)}</i>" for d in self.disclaimers(message))
        return blocks

    def html(self, message: Outgoing) -> list[str]:
        """As Telegram HTML messages, each within the limit, the disclaimer in the last."""
        return pack(self.html_blocks(message), self.limit)


def pack(blocks: list[str], limit: int) -> list[str]:
    """Join blocks with blank lines into as few messages as fit; the last block stays last.

    A block longer than the limit (only user text can be) is cut at spaces between tags.
    """
    pieces: list[str] = []
    for block in blocks:
        pieces.extend(_cut(block, limit) if len(block) > limit else [block])
    messages: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}\n\n{piece}" if current else piece
        if len(joined) <= limit:
            current = joined
        else:
            messages.append(current)
            current = piece
    if current:
        messages.append(current)
    return messages


def _tokens(block: str) -> list[str]:
    """A block as tags, entities, runs of spaces and words (a word never holds "<" or "&")."""
    return re.findall(r"<[^>]*>|&[^;]*;|\s+|[^\s<&]+|[<&]", block)


def _cut(block: str, limit: int) -> list[str]:
    """Cut an over-long HTML block into pieces of at most `limit`, at spaces between words,
    never inside a tag or entity; only a word longer than a whole piece is cut inside.

    Any open tags are closed at the end of a piece and reopened at the start of the next.
    """
    pieces: list[str] = []
    open_tags: list[str] = []
    current = ""
    tokens = _tokens(block)
    while tokens:
        token = tokens.pop(0)
        closing = "".join(f"</{t}>" for t in reversed(open_tags))
        if token.startswith("<") and not token.startswith("</") and len(token) > 1:
            closing += f"</{token[1:-1].split()[0]}>"  # an opened tag must close in the piece
        if len(current) + len(token) + len(closing) > limit:
            reopen = "".join(f"<{t}>" for t in open_tags)
            if len(reopen) + len(token) + len(closing) > limit and not token.startswith("<"):
                # A word longer than a whole piece: cut it where the piece is full.
                room = max(1, limit - len(current) - len(closing))
                tokens[:0] = [token[:room], token[room:]]
                continue
            if _visible(current):
                shut = "".join(f"</{t}>" for t in reversed(open_tags))
                pieces.append(_tidy(current.rstrip() + shut))
            current = reopen  # a piece of only spaces or tags is dropped, never sent
            if token.isspace():
                continue  # a new piece does not start with the space it was cut at
        current += token
        if token.startswith("</"):
            if open_tags:
                open_tags.pop()
        elif token.startswith("<") and len(token) > 1:
            open_tags.append(token[1:-1].split()[0])
    if _visible(current):
        pieces.append(_tidy(current))
    return pieces


def _tidy(piece: str) -> str:
    """Drop tag pairs left empty at a cut ("<b></b>")."""
    return re.sub(r"<(\w+)>\s*</\1>", "", piece).strip()


def _visible(html_text: str) -> bool:
    """Whether a piece has any text besides tags and spaces."""
    return bool(re.sub(r"<[^>]*>", "", html_text).strip())
