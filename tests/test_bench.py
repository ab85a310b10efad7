"""The benchmark runs end to end on a small size (it measures; nothing here is timed)."""

from __future__ import annotations

from bot.maintain.bench import main
from tests.conftest import KNOWLEDGE_DIR


def test_bench_runs_on_a_small_knowledge_base() -> None:
    lines: list[str] = []
    table = main(KNOWLEDGE_DIR, sizes=[15], count=20, log=lines.append)
    assert "| 15 |" in table
    assert "Shipped knowledge" in table and "safety check" in table
