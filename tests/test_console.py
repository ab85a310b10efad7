"""The local console (`python run_bot.py console`), read as a person in a terminal reads it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.answering.knowledge import check_knowledge, load_knowledge
from bot.config import Settings
from bot.console import columns, console, terminal_width, wrap
from tests.conftest import KNOWLEDGE_DIR

# What someone with a bad back might type, in order (the last is a follow-up).
IN_PAIN = [
    "just hurt my back lifting a box and it is killing me",
    "can massage help",
    "/help",
    "/privacy",
    "I've had this dull ache low down in my back for about three months, ever since I started "
    "working from home at the kitchen table, and I keep wondering whether a remedial massage "
    "therapist could actually help or whether I should see a physiotherapist first",
    "does it hurt?",
    "/topics",
    "massage",
    "/source",
    "/disclaimer",
    "/start",
]


def settings(data_dir: Path = Path("data"), retention_days: int = 90) -> Settings:
    return Settings(
        token=None,
        base_url="",
        knowledge_dir=KNOWLEDGE_DIR,
        data_dir=data_dir,
        admin_ids=frozenset(),
        webhook_secret=None,
        retention_days=retention_days,
    )


def session(
    engine: Engine, lines: list[str], width: int = 80, config: Settings | None = None
) -> str:
    out = io.StringIO()
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    assert console(engine, stdin, out, config or settings(), width=width) == 0
    return out.getvalue()


def replies(output: str) -> list[str]:
    """Each bot reply of a session, unwrapped to one line per paragraph's words."""
    found = []
    for block in output.split("bot> ")[1:]:
        block = block.split("\nyou> ")[0]
        found.append(" ".join(block.split()))
    return found


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("width", [80, 60])
def test_lines_fit_the_terminal_and_no_word_is_split(engine: Engine, width: int) -> None:
    output = session(engine, IN_PAIN, width)
    for line in output.splitlines():
        # Only a single word longer than a line may run over it (none in these replies).
        assert columns(line) <= width, line
        assert line == line.rstrip(), "no trailing spaces"
    # Wrapping only moves line breaks: the replies' words are the renderer's words, whole.
    first = flat(engine.render_plain(engine.answer(IN_PAIN[0])))
    answer = first.removesuffix(flat(engine.knowledge.text("disclaimer")))
    assert len(answer) > 300 and answer in flat(output)


def test_every_reply_ends_with_the_disclaimer(engine: Engine) -> None:
    disclaimer = flat(engine.knowledge.text("disclaimer"))
    found = replies(session(engine, IN_PAIN))
    assert len(found) == 1 + len(IN_PAIN)  # the opening, then one reply per line
    for reply in found:
        assert reply.endswith(disclaimer), reply[-200:]


def test_related_topics_come_before_the_disclaimer_and_a_number_reads_one(
    engine: Engine,
) -> None:
    answer = engine.answer("do they use oil")
    first, second = (t.title for t in answer.related)
    output = session(engine, ["do they use oil", "2"])
    oil = replies(output)[1]
    assert f"1. {first} 2. {second} ⚕️" in oil
    assert "Related" not in oil.split("⚕️")[-1]
    assert replies(output)[2].startswith(second)


def test_a_title_reads_its_topic(engine: Engine) -> None:
    # Typed as a question, this title alone is not answered; picked from a list it is read.
    assert engine.answer("when to see a doctor").kind in ("fallback", "clarify")
    output = session(engine, [IN_PAIN[0], "When to see a doctor?"])
    assert "1. When to see a doctor" in replies(output)[1]
    assert replies(output)[2].startswith("When to see a doctor")


def test_lists_say_what_to_type_not_what_to_tap(engine: Engine) -> None:
    output = session(engine, ["/topics", "session", "do they use oil"])
    assert "tap" not in output.casefold()
    topics, clarify, answer = replies(output)[1:]
    assert flat(engine.knowledge.text("console_topics")) in topics
    assert "25. Slipped disc or sciatica" in topics
    assert flat(engine.knowledge.text("console_choose")) in clarify
    assert flat(engine.knowledge.text("console_related")) in answer


def test_privacy_gives_the_telegram_text(engine: Engine, tmp_path: Path) -> None:
    reply = replies(session(engine, ["/privacy"], config=settings(tmp_path, 30)))[1]
    assert flat(engine.knowledge.text("privacy", days="30")) in reply
    assert str(tmp_path / "console_history") in reply
    assert "Sorry" not in reply


def test_settings_are_read_when_the_console_starts(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bot.console is imported already: a data folder set now must still be the one used.
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BOT_RETENTION_DAYS", "7")
    out = io.StringIO()
    console(engine, io.StringIO("/privacy\n"), out, width=200)
    reply = replies(out.getvalue())[1]
    assert str(tmp_path / "console_history") in reply and "after 7 days" in reply


def test_width_comes_from_the_terminal(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    assert terminal_width() == 50
    out = io.StringIO()
    console(engine, io.StringIO("can massage help\n"), out, settings())
    assert max(columns(line) for line in out.getvalue().splitlines()) <= 50


def test_wrap_keeps_links_and_numbered_lines_readable() -> None:
    link = "https://www.nhs.uk/conditions/back-pain/" + "x" * 40
    text = f"See {link} for more.\n\n12. A title long enough to need a second line here"
    assert wrap(text, 30).splitlines() == [
        "bot> See",
        f"     {link}",
        "     for more.",
        "",
        "     12. A title long enough",
        "         to need a second line",
        "         here",
    ]
    assert columns("👍 ok") == 5 and columns("⚕️") == 2


def test_commands_answer_as_in_telegram(engine: Engine) -> None:
    text = engine.knowledge.text
    found = replies(session(engine, ["/frobnicate", "/ask", "/ask do they use oil"]))
    assert found[1].startswith(flat(text("unknown_command")))
    assert found[2].startswith(flat(text("empty")))
    assert found[3].startswith("Massage oil")


def test_console_words_come_from_texts_yaml(knowledge_copy: Path) -> None:
    path = knowledge_copy / "texts.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            'console_bye: "Take care of your back!"', 'console_bye: "Bye for now, back soon."'
        ),
        encoding="utf-8",
    )
    output = session(Engine(load_knowledge(knowledge_copy)), ["/quit"])
    assert output.rstrip().endswith("bot> Bye for now, back soon.")


def test_check_requires_the_console_texts(knowledge_copy: Path) -> None:
    path = knowledge_copy / "texts.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(x for x in lines if not x.startswith("console_bye:")), "utf-8")
    knowledge, problems = check_knowledge(knowledge_copy)
    assert knowledge is None
    assert any("console_bye" in p.message for p in problems)
