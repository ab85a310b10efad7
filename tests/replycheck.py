"""What every reply must be, whatever the input: shared by the engine and fuzz tests."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

from bot.answering.engine import Engine
from bot.answering.replies import KINDS, TELEGRAM_LIMIT

ALLOWED_TAGS = {"b", "i"}  # all the renderer uses; Telegram accepts these


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in ALLOWED_TAGS or attrs:
            self.errors.append(f"tag <{tag}> {attrs}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.errors.append(f"entity &{name};")

    def handle_charref(self, name: str) -> None:
        self.errors.append(f"charref &#{name};")


def assert_well_formed(message: str) -> None:
    checker = _TagChecker()
    checker.feed(message)
    checker.close()
    assert checker.errors == [] and checker.stack == [], (checker.errors, checker.stack)
    assert (
        "<"
        not in html.unescape(
            message.replace("<b>", "").replace("</b>", "").replace("<i>", "").replace("</i>", "")
        )
        or "&lt;" in message
    )


def check(engine: Engine, text: str) -> None:
    reply = engine.answer(text)
    assert reply.kind in KINDS
    assert engine.render_plain(reply).endswith(engine.disclaimer)
    parts = engine.render_html(reply)
    assert parts and all(0 < len(p) <= TELEGRAM_LIMIT for p in parts)
    assert "not medical advice" in parts[-1]
    for part in parts:
        assert_well_formed(part)
