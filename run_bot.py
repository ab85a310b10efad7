#!/usr/bin/env python3
"""Entry point: `python run_bot.py [run|console|ask|check|eval] ...`; see --help."""

import sys
from pathlib import Path

from bot.cli import entry

if __name__ == "__main__":
    sys.exit(entry(root=Path(__file__).resolve().parent))
