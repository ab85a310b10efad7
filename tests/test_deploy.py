"""Deployment: the systemd unit is valid and gives the bot the time its stop needs; running the
bot needs only the runtime dependencies."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.telegram.app import STALE_AT_STOP, STOP_GRACE
from tests.conftest import ROOT

UNIT = ROOT / "deploy" / "backpain-massage-bot.service"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_systemd_unit_stop_timeout_covers_the_shutdown() -> None:
    text = UNIT.read_text()
    (timeout,) = re.findall(r"^TimeoutStopSec=(\d+)$", text, flags=re.MULTILINE)
    assert STOP_GRACE + STALE_AT_STOP < 10 < int(timeout)  # the stop, then a margin
    assert "KillSignal=SIGTERM" in text and "RestartPreventExitStatus=2" in text
    assert re.search(r"^ExecStart=\S*python \S*run_bot\.py$", text, flags=re.MULTILINE)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    # The unit names /opt/backpain-massage-bot; verify it against this checkout instead.
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/opt/backpain-massage-bot", str(ROOT)))
    python = ROOT / ".venv" / "bin" / "python"
    if not python.exists():
        unit.write_text(unit.read_text().replace(f"{ROOT}/.venv/bin/python", sys.executable))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in result.stderr.splitlines() if UNIT.name in line]
    assert result.returncode == 0 and not problems, result.stderr


def test_running_needs_only_runtime_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    for tool in ("pytest", "hypothesis", "ruff", "mypy", "jsonschema>"):
        assert tool not in runtime
    assert "pip install ." in README  # the runtime-only install, beside the test install
    assert "pip install -e '.[test]'" in README


def test_run_help_shows_the_webhook_defaults() -> None:
    result = subprocess.run(
        [sys.executable, "run_bot.py", "run", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    text = " ".join(result.stdout.split())
    for default in ("(default: 127.0.0.1)", "(default: 8443)", "(default: telegram)"):
        assert default in text
    assert "443, 80, 88 and 8443" in text and "--url-path" in text
