"""The renderer: disclaimer always last, escaping, and the 4096-character limit."""

from __future__ import annotations

import re

from bot.answering.engine import Engine
from bot.answering.replies import TELEGRAM_LIMIT, Notice, Part, Reply, pack


def test_every_kind_ends_with_the_disclaimer(engine: Engine) -> None:
    for text in ("oil?", "hi", "pasta recipe", "numb down there", "back pain"):
        reply = engine.answer(text)
        assert engine.render_plain(reply).endswith(engine.disclaimer)
        assert engine.disclaimer.split()[0] in engine.render_html(reply)[-1]


def test_notices_end_with_the_disclaimer_and_no_source_line(engine: Engine) -> None:
    disclaimer = engine.disclaimer
    assert engine.render_plain(Notice.of("Hi <you>")) == f"Hi <you>\n\n{disclaimer}"
    assert engine.render_html(Notice.of("Hi <you>")) == [
        f"Hi &lt;you&gt;\n\n<i>{disclaimer}</i>"
    ]
    assert engine.render_plain(Notice()) == disclaimer  # /disclaimer: the disclaimer alone


def test_html_escapes_knowledge_and_user_text(engine: Engine) -> None:
    reply = Reply("fallback", "<b>x</b>", (Part("text", "a < b & <script>"),))
    html = "".join(engine.render_html(reply))
    assert "&lt;script&gt;" in html and "a &lt; b &amp;" in html


def test_long_reply_is_split_with_disclaimer_last(engine: Engine) -> None:
    long_text = "word " * 3000
    reply = Reply("fallback", "q", (Part("heading", "H"), Part("text", long_text)))
    messages = engine.render_html(reply)
    assert len(messages) > 1
    assert all(len(m) <= TELEGRAM_LIMIT for m in messages)
    assert "not medical advice" in messages[-1]
    assert all("not medical advice" not in m for m in messages[:-1])


def test_pack_cuts_inside_tags_cleanly() -> None:
    block = "<i>" + "a&amp;b " * 1000 + "</i>"
    pieces = pack([block, "<i>end</i>"], 500)
    assert all(len(p) <= 500 for p in pieces)
    for piece in pieces:
        assert piece.count("<i>") == piece.count("</i>")
        assert not re.search(r"&[a-z]*$", piece.split("</i>")[0])


def test_json_contract(engine: Engine) -> None:
    reply = engine.answer("do they use oil")
    data = reply.as_json(engine.render_plain(reply))
    assert list(data) == [
        "question", "kind", "entry_id", "score", "suggestions", "text", "tier", "language",
        "reason", "advice",
    ]
    assert data["kind"] == "answer" and data["entry_id"] == "massage-oil"


def test_long_blocks_are_cut_at_spaces_not_inside_words() -> None:
    from bot.answering.replies import pack

    words = ["abcdefghij"] * 300
    pieces = pack([" ".join(words)], 50)
    assert all(len(p) <= 50 for p in pieces)
    assert [w for p in pieces for w in p.split()] == words  # every word whole, none lost
    bold = pack(["<b>" + "x" * 120 + "</b>"], 50)  # one word longer than a piece
    assert all(len(p) <= 50 and p.startswith("<b>") and p.endswith("</b>") for p in bold)
    assert "".join(p[3:-4] for p in bold) == "x" * 120


def test_cut_pieces_stay_within_the_limit_and_keep_all_text() -> None:
    import random
    import re

    from bot.answering.replies import _cut

    rng = random.Random(7)
    for _ in range(2000):
        parts = []
        for _ in range(rng.randint(1, 30)):
            word = "".join(rng.choice("ab &<") for _ in range(rng.randint(1, 12)))
            word = word.replace("&", "&amp;").replace("<", "&lt;")
            parts.append(rng.choice([f"<b>{word}</b>", f"<i>{word}</i>", word, " "]))
        block, limit = " ".join(parts), rng.randint(16, 60)
        pieces = _cut(block, limit)
        assert all(len(p) <= limit for p in pieces), (block, limit)
        assert all(re.sub(r"<[^>]*>", "", p).strip() for p in pieces)  # no empty piece

        def text(html: str) -> str:
            return re.sub(r"\s+", "", re.sub(r"<[^>]*>", "", html))

        assert text("".join(pieces)) == text(block)
    assert [len(p) for p in _cut(" " + "x" * 4096, 4096)] == [4096]
