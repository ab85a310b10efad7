"""Settings from the environment, read once into one frozen object."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
# What Telegram accepts as a webhook secret_token (setWebhook): 1-256 of A-Z a-z 0-9 _ -
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def project_root() -> Path:
    """The checkout this package runs from (where knowledge/ is), else the current directory.

    `run_bot.py` passes its own folder instead, so an installed package finds the project too.
    """
    root = Path(__file__).resolve().parent.parent
    return root if (root / "knowledge").is_dir() else Path.cwd()


def _path(value: str, default: str, root: Path) -> Path:
    """A setting's path; relative paths are taken from the project, not the current directory."""
    path = Path(value.strip() or default).expanduser()
    return path if path.is_absolute() else root / path


class ConfigError(ValueError):
    """A setting is present but unusable; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    token: str | None
    base_url: str
    knowledge_dir: Path
    data_dir: Path
    admin_ids: frozenset[int]
    webhook_secret: str | None
    retention_days: int
    reload_seconds: float = 2.0
    flood_limit: bool = True  # off only to measure raw throughput against a local stand-in

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, root: Path | None = None) -> Settings:
        env = os.environ if env is None else env
        root = project_root() if root is None else root
        admins: set[int] = set()
        for part in env.get("BOT_ADMIN_IDS", "").replace(" ", "").split(","):
            if not part:
                continue
            if not part.lstrip("-").isdigit():
                raise ConfigError(f"BOT_ADMIN_IDS: {part!r} is not a numeric Telegram user id")
            admins.add(int(part))
        retention = env.get("BOT_RETENTION_DAYS", "90").strip() or "90"
        if not retention.isdigit() or int(retention) < 1:
            raise ConfigError("BOT_RETENTION_DAYS must be a whole number of days, at least 1")
        reload_raw = env.get("BOT_RELOAD_SECONDS", "2").strip() or "2"
        try:
            reload_seconds = float(reload_raw)
        except ValueError:
            reload_seconds = -1.0
        if not 0.1 <= reload_seconds <= 3600:
            raise ConfigError("BOT_RELOAD_SECONDS must be a number of seconds from 0.1 to 3600")
        flood = env.get("BOT_FLOOD_LIMIT", "on").strip().casefold() or "on"
        if flood not in ("on", "off"):
            raise ConfigError("BOT_FLOOD_LIMIT must be 'on' or 'off'")
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None
        if secret is not None and not WEBHOOK_SECRET.fullmatch(secret):
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET may use only A-Z, a-z, 0-9, _ and -, 1 to 256 of them "
                "(Telegram refuses anything else)"
            )
        return cls(
            token=env.get("TELEGRAM_BOT_TOKEN", "").strip() or None,
            base_url=env.get("TELEGRAM_BASE_URL", "").strip() or DEFAULT_BASE_URL,
            knowledge_dir=_path(env.get("KNOWLEDGE_DIR", ""), "knowledge", root),
            data_dir=_path(env.get("BOT_DATA_DIR", ""), "data", root),
            admin_ids=frozenset(admins),
            webhook_secret=secret,
            retention_days=int(retention),
            reload_seconds=reload_seconds,
            flood_limit=flood == "on",
        )


def load_dotenv(path: Path | None = None) -> None:
    """Read KEY=VALUE lines from the project's .env file into the environment, never
    overriding it."""
    path = project_root() / ".env" if path is None else path
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip().strip('"').strip("'")
        if key and key not in os.environ:
            os.environ[key] = value
