"""Bot throughput end to end: questions per second through the Bot API stand-in on 127.0.0.1.

    python -m tests.benchmarks.throughput [--questions 600] [--users 60]

Runs the real `python run_bot.py run` twice, flood limiter off (BOT_FLOOD_LIMIT=off) and on,
sends the same private questions from many users, and reports how long until every reply
arrived, the rate, and how many were lost. Measures only; never fails on time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from tests.botapi import running_bot
from tests.conftest import LABELLED


def measure(questions: list[str], users: int, count: int, limiter: str) -> tuple[float, int]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_bot(Path(tmp), BOT_FLOOD_LIMIT=limiter) as bot,
    ):
        api = bot.api
        start = time.monotonic()
        for n in range(count):
            api.send_text(20_000 + n % users, questions[n % len(questions)])
        api.wait_for(lambda: len(api.sent()) >= count, timeout=max(120.0, count / 10))
        elapsed = time.monotonic() - start
        return elapsed, count - len(api.sent())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--users", type=int, default=60)
    args = parser.parse_args()
    questions = [q["q"] for q in yaml.safe_load(LABELLED.read_text())["questions"]]
    print("| flood limiter | questions | users | seconds | replies/s | lost |")
    print("|---|---:|---:|---:|---:|---:|")
    for limiter in ("off", "on"):
        elapsed, lost = measure(questions, args.users, args.questions, limiter)
        print(
            f"| {limiter} | {args.questions} | {args.users} | {elapsed:.1f} | "
            f"{args.questions / elapsed:.0f} | {lost} |"
        )


if __name__ == "__main__":
    main()
