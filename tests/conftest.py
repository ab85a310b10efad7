"""Shared fixtures: the shipped knowledge base, loaded once, and an engine over it."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.answering.knowledge import Knowledge, load_knowledge

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = ROOT / "knowledge"
LABELLED = ROOT / "tests" / "data" / "labelled.yaml"
HOLDOUT = ROOT / "tests" / "data" / "holdout.yaml"
# Entries in the shipped knowledge base, for tests that count what a maintainer would see.
ENTRIES = len(load_knowledge(KNOWLEDGE_DIR).entries)


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge(KNOWLEDGE_DIR)


@pytest.fixture(scope="session")
def engine(knowledge: Knowledge) -> Engine:
    return Engine(knowledge)


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped knowledge directory."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a knowledge file copy, which must contain it."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def with_signal(knowledge: Knowledge, name: str, **changes: object) -> Knowledge:
    """The knowledge with one of the safety signals (`emergency`, `languages_signal`, ...)
    changed, e.g. its threshold."""
    signal = getattr(knowledge.safety, name)
    assert signal is not None
    changed = replace(signal, **changes)
    return replace(knowledge, safety=replace(knowledge.safety, **{name: changed}))
