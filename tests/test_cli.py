"""The command line, in-process where possible and as a real process where it matters."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import DB_FILE, Store
from tests.conftest import LABELLED, ROOT


def run_cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_ask_prints_the_reply() -> None:
    code, out, _ = run_cli("ask", "do they use oil?")
    assert code == 0
    assert "lubricant" in out and "not medical advice" in out


def test_ask_json_reads_one_question_per_line() -> None:
    code, out, _ = run_cli(
        "ask",
        "--json",
        "-",
        stdin="what is remedial massage\nhow do I cook pasta\n"
        "I cannot control my bladder and my back hurts\n",
    )
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["kind"] for r in rows] == ["answer", "fallback", "urgent"]
    for row in rows:
        assert set(row) == {
            "question", "kind", "entry_id", "score", "suggestions", "text", "tier", "language",
            "reason", "advice",
        }
        assert "not medical advice" in row["text"]


def test_check_passes_on_shipped_knowledge() -> None:
    code, out, _ = run_cli("check")
    assert code == 0 and out.splitlines()[-1].startswith("ok: ")


@pytest.mark.parametrize("where", ["above", "inside", "elsewhere"])
def test_check_prints_paths_that_open_from_the_working_directory(
    knowledge_copy: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    path = knowledge_copy / "entries.yaml"
    path.write_text(
        path.read_text().replace(
            "related: [techniques, pressure-intensity]", "related: [techniques, gone]"
        )
    )
    cwd = {
        "above": knowledge_copy.parent,
        "inside": knowledge_copy,
        "elsewhere": knowledge_copy.parent / "elsewhere",
    }[where]
    cwd.mkdir(exist_ok=True)
    monkeypatch.chdir(cwd)
    code, out, _ = run_cli("--knowledge", str(knowledge_copy), "check")
    assert code == 1
    [line] = [line for line in out.splitlines() if "'gone'" in line]
    file, number, _ = line.split(":", 2)
    # Relative to the working directory when the file is under it, else absolute.
    expected = {"above": "knowledge/entries.yaml", "inside": "entries.yaml", "elsewhere": str(path)}
    assert file == expected[where]
    assert "related: [techniques, gone]" in Path(file).read_text().splitlines()[int(number) - 1]


def test_strict_check_fails_on_warnings(knowledge_copy: Path) -> None:
    path = knowledge_copy / "entries.yaml"
    # The same phrasing in two entries is a warning, an error with --strict.
    duplicate = "      - what techniques are used in remedial massage\n"
    text = path.read_text().replace(
        "      - do they use oil\n", "      - do they use oil\n" + duplicate
    )
    path.write_text(text)
    code, out, _ = run_cli("--knowledge", str(knowledge_copy), "check")
    assert code == 0 and "warning:" in out
    code, out, _ = run_cli("--knowledge", str(knowledge_copy), "check", "--strict")
    assert code == 1


def test_ask_with_broken_knowledge_says_so(knowledge_copy: Path) -> None:
    (knowledge_copy / "texts.yaml").write_text("disclaimer: [\n")
    code, _, err = run_cli("--knowledge", str(knowledge_copy), "ask", "oil?")
    assert code == 1 and "texts.yaml:" in err and "Traceback" not in err


def test_eval_prints_the_table() -> None:
    code, out, _ = run_cli("eval", str(LABELLED))
    assert code == 0 and "in-scope top-1" in out and "red flags escalated" in out


def test_eval_missing_file_is_one_line(tmp_path: Path) -> None:
    code, _, err = run_cli("eval", str(tmp_path / "nope.yaml"))
    assert code == 1 and "Traceback" not in err and "cannot read file" in err


def test_console_session() -> None:
    code, out, _ = run_cli("console", stdin="/topics\n1\nwill it hurt\n/quit\n")
    assert code == 0
    assert "What remedial massage is" in out  # /topics, then 1 picks the first topic
    assert "vigorous or gentle" in out
    assert "Take care" in out


def _process(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    return subprocess.run(
        [sys.executable, "run_bot.py", *argv],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_bad_arguments_are_one_line() -> None:
    result = _process("frobnicate")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_ask_does_not_import_telegram() -> None:
    code = (
        "import sys, io; from bot.cli import main; "
        "main(['ask', 'oil?'], stdout=io.StringIO()); "
        "print('telegram' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr


# Maintainers run these where python-telegram-bot may not even be installed.
MAINTAINER_TOOLS = (
    "bot.maintain.lint",
    "bot.maintain.evaluation",
    "bot.maintain.report",
    "bot.maintain.bench",
    "bot.answering.knowledge",
    "bot.answering.yamlsource",
)


@pytest.mark.parametrize("package", ["bot.answering", "bot.maintain"])
def test_a_package_without_telegram_never_imports_it(package: str) -> None:
    """Every module of the answering core and of the maintainer tools, found by walking the
    package (so a new module is covered too), imports without python-telegram-bot."""
    code = (
        "import importlib, pkgutil, sys\n"
        f"package = importlib.import_module({package!r})\n"
        "walk = pkgutil.walk_packages(package.__path__, package.__name__ + '.')\n"
        "names = [m.name for m in walk]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "    assert 'telegram' not in sys.modules, name\n"
        "print(len(names))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 4  # the walk found the package's modules


def test_the_telegram_package_is_where_telegram_is_imported() -> None:
    """python-telegram-bot is imported by bot/telegram/ and nowhere else in bot/."""
    bot = ROOT / "bot"
    importers = {
        p.relative_to(bot).parts[0]
        for p in bot.rglob("*.py")
        if re.search(r"^\s*(from|import) telegram\b", p.read_text(encoding="utf-8"), re.M)
    }
    assert importers == {"telegram"}


def test_maintainer_tools_do_not_import_telegram(tmp_path: Path) -> None:
    Store(tmp_path / DB_FILE).close()  # an empty store, for `report`
    code = (
        "import importlib, io, sys\n"
        f"for name in {MAINTAINER_TOOLS!r}:\n"
        "    importlib.import_module(name)\n"
        "    assert 'telegram' not in sys.modules, name\n"
        "from bot.cli import main\n"
        f"for argv in (['check'], ['eval', {str(LABELLED)!r}], ['report']):\n"
        "    assert main(argv, stdout=io.StringIO()) == 0, argv\n"
        "    assert 'telegram' not in sys.modules, argv\n"
        "print('ok')\n"
    )
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path) -> None:
    """`python run_bot.py ask - | head -1`: the reader closes the pipe after one line; the
    command stops without a traceback."""
    questions = tmp_path / "questions.txt"
    questions.write_text("will it hurt?\n" * 3000, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    with questions.open("rb") as stdin:
        process = subprocess.Popen(
            [sys.executable, "run_bot.py", "ask", "-"],
            cwd=ROOT,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline()  # one line read, then the reader goes
        process.stdout.close()
        stderr = process.stderr.read()
        process.wait(timeout=120)
    assert b"Traceback" not in stderr and b"BrokenPipeError" not in stderr, stderr
    assert process.returncode == 1
