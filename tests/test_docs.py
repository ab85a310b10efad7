"""The README stays true: its accuracy table is what `eval` prints, its `check` example is what
`check` prints, its commands exist."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.cli import _parser
from bot.maintain.evaluation import evaluate, read_labelled
from tests.conftest import LABELLED, ROOT
from tests.test_cli import run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_accuracy_table_matches_eval(engine: Engine) -> None:
    items, _ = read_labelled(LABELLED)
    table = [line for line in evaluate(engine, items).format().splitlines() if line.startswith("|")]
    start = README.index("tests/data/labelled.yaml` prints")
    readme_table = [line for line in README[start:].splitlines()[1:] if line.startswith("|")]
    assert readme_table[: len(table)] == table


def test_every_command_is_documented() -> None:
    commands = _parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for command in commands:
        assert f"run_bot.py {command}" in README or f"`{command}`" in README, command


def test_every_setting_is_documented() -> None:
    import re

    source = (ROOT / "bot" / "config.py").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in set(re.findall(r'"((?:TELEGRAM|BOT|KNOWLEDGE)_[A-Z_]+)"', source)):
        assert name in README, name
        assert name in example or name == "BOT_FLOOD_LIMIT", name


def test_readme_check_example_is_what_check_prints(
    knowledge_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'Adding or changing an entry': the example file gives exactly the output shown."""
    section = README[README.index("### Adding or changing an entry") :]
    blocks = re.findall(r"\n   ```(?:yaml)?\n(.*?)\n   ```\n", section, re.S)
    example, output = (textwrap.dedent(block) for block in blocks[:2])
    (knowledge_copy / "nerves.yaml").write_text(example + "\n", encoding="utf-8")
    monkeypatch.chdir(knowledge_copy.parent)
    code, out, _ = run_cli("--knowledge", "knowledge", "check")
    assert code == 1
    assert out.splitlines() == output.splitlines()
