"""The Telegram bot (built in the Telegram issue)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import Settings


def run(settings: Settings, knowledge_dir: Path, args: argparse.Namespace) -> int:
    """Start the bot."""
    del settings, knowledge_dir, args
    print(
        "run_bot.py: the Telegram bot is not built yet; try 'python run_bot.py console'",
        file=sys.stderr,
    )
    return 2
