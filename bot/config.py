"""Settings from the environment, read once into one frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_URL = "https://api.telegram.org/bot"


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
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
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
        return cls(
            token=env.get("TELEGRAM_BOT_TOKEN", "").strip() or None,
            base_url=env.get("TELEGRAM_BASE_URL", "").strip() or DEFAULT_BASE_URL,
            knowledge_dir=Path(env.get("KNOWLEDGE_DIR", "").strip() or "knowledge"),
            data_dir=Path(env.get("BOT_DATA_DIR", "").strip() or "data"),
            admin_ids=frozenset(admins),
            webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None,
            retention_days=int(retention),
            reload_seconds=reload_seconds,
            flood_limit=flood == "on",
        )


def load_dotenv(path: Path = Path(".env")) -> None:
    """Read KEY=VALUE lines from a .env file into the environment, never overriding it."""
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
