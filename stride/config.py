"""Settings from the environment (and a `.env` file), checked once at start."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = ROOT / "data" / "stride.db"
DEFAULT_EXERCISES = ROOT / "data" / "exercises.toml"
DEFAULT_CLUB_EXERCISES = ROOT / "data" / "club-exercises.toml"
DEFAULT_FIGURES = ROOT / "data" / "figures.toml"

TOKEN_HELP = (
    "Create a bot at https://discord.com/developers/applications (New Application -> Bot -> "
    "Reset Token), then put the token in a .env file beside bot.py as DISCORD_TOKEN=... "
    "(copy .env.example to start)."
)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class Settings:
    token: str = field(repr=False)
    database_path: Path = DEFAULT_DATABASE
    exercises_path: Path = DEFAULT_EXERCISES
    # The club's own entries, merged over the shipped library; used only if the file exists.
    club_exercises_path: Path = DEFAULT_CLUB_EXERCISES
    figures_path: Path = DEFAULT_FIGURES  # the shipped figures' poses (a club's go in its file)
    log_level: str = "INFO"
    log_file: Path | None = None  # None: standard output
    dev_guild_id: int | None = None
    reminder_rate: float = 40.0
    reminder_grace_minutes: int = 30
    # How long a write waits while another process holds the database's write lock: less than
    # the 3 s Discord gives a command to answer, so a member whose write gave up is still told.
    database_busy_timeout_ms: int = 2000
    database_sync: str = "full"  # "full": commits survive power loss; "normal": a crash only
    shard_count: int | None = None  # None: as many shards as Discord recommends
    shard_ids: tuple[int, ...] | None = None  # this process's shards; None: all of them
    # PostgreSQL (postgresql://user:password@host/db) instead of the SQLite file; several
    # processes may share it. None: SQLite at database_path.
    database_url: str | None = field(default=None, repr=False)
    database_pool_size: int = 10  # PostgreSQL connections this process keeps open at most
    # Seconds a process holds the reminder firings it claimed without renewing them; a
    # process that died leaves its firings to the others after this (PostgreSQL only).
    reminder_lease_seconds: int = 30
    backup_dir: Path | None = None  # daily automatic backups go here; None: off
    backup_keep: int = 7  # automatic backups kept (the newest)

    @property
    def processes(self) -> int:
        """How many processes share the bot's shards (each running as many as this one)."""
        if self.shard_ids is None or self.shard_count is None:
            return 1
        return -(-self.shard_count // len(self.shard_ids))

    @property
    def figure_cache(self) -> Path:
        """Where figures the bot draws itself are kept: beside the database."""
        return self.database_path.parent / "figure-cache"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, need_token: bool = True) -> Settings:
        """Read settings from `env` (default: os.environ); raise ConfigError on bad values."""
        env = os.environ if env is None else env
        token = env.get("DISCORD_TOKEN", "").strip()
        if need_token and not token:
            raise ConfigError(f"DISCORD_TOKEN is not set. {TOKEN_HELP}")
        level = env.get("LOG_LEVEL", "").strip().upper() or cls.log_level
        if level not in logging.getLevelNamesMapping():
            raise ConfigError(
                f"LOG_LEVEL={level!r} is not a log level; use DEBUG, INFO, WARNING or ERROR."
            )
        guild = env.get("DEV_GUILD_ID", "").strip()
        if guild and not guild.isdigit():
            raise ConfigError(
                f"DEV_GUILD_ID={guild!r} is not a server id; it is a number like "
                "123456789012345678 (right-click the server -> Copy Server ID)."
            )
        rate = _number(env, "REMINDER_RATE", cls.reminder_rate, float, 0.1, 100_000)
        grace = _number(env, "REMINDER_GRACE_MINUTES", cls.reminder_grace_minutes, int, 0,
                        24 * 60)
        busy = _number(env, "DATABASE_BUSY_TIMEOUT_MS", cls.database_busy_timeout_ms, int, 0,
                       60_000)
        sync = env.get("DATABASE_SYNC", "").strip().lower() or cls.database_sync
        if sync not in ("full", "normal"):
            raise ConfigError(
                f"DATABASE_SYNC={sync!r} must be full (the default: every acknowledged write "
                "survives a power loss) or normal (faster commits; survives a crash of the bot, "
                "but a power loss may take back the last few seconds of writes)."
            )
        shards = env.get("SHARD_COUNT", "").strip()
        shard_count = _number(env, "SHARD_COUNT", None, int, 1, 10_000) if shards else None
        shard_ids = _shard_ids(env.get("SHARD_IDS", ""), shard_count)
        url = _database_url(env.get("DATABASE_URL", ""))
        pool = _number(env, "DATABASE_POOL_SIZE", cls.database_pool_size, int, 2, 1000)
        lease = _number(env, "REMINDER_LEASE_SECONDS", cls.reminder_lease_seconds, int, 3, 3600)
        if shard_ids is not None and url is None:
            raise ConfigError(
                "SHARD_IDS runs some of the shards in this process, for several processes; "
                "they must share a PostgreSQL database (set DATABASE_URL): a SQLite file "
                "belongs to one process, which runs every shard."
            )
        backup_dir = _backup_dir(env.get("BACKUP_DIR", ""))
        backup_keep = _number(env, "BACKUP_KEEP", cls.backup_keep, int, 1, 1000)
        return cls(
            token=token,
            reminder_rate=rate,
            reminder_grace_minutes=grace,
            database_busy_timeout_ms=busy,
            database_sync=sync,
            shard_count=shard_count,
            shard_ids=shard_ids,
            database_url=url,
            database_pool_size=pool,
            reminder_lease_seconds=lease,
            backup_dir=backup_dir,
            backup_keep=backup_keep,
            database_path=_path(env.get("DATABASE_PATH"), DEFAULT_DATABASE),
            exercises_path=_path(env.get("EXERCISES_PATH"), DEFAULT_EXERCISES),
            club_exercises_path=_path(env.get("CLUB_EXERCISES_PATH"), DEFAULT_CLUB_EXERCISES),
            figures_path=_path(env.get("FIGURES_PATH"), DEFAULT_FIGURES),
            log_level=level,
            log_file=_log_file(env.get("LOG_FILE")),
            dev_guild_id=int(guild) if guild else None,
        )


def _number(env: Mapping[str, str], name: str, default: float | None, kind: type, low: float,
            high: float) -> Any:
    text = env.get(name, "").strip() or str(default)
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ConfigError(f"{name}={text!r} must be a number from {low:g} to {high:g}.")
    return value


def _shard_ids(value: str, count: int | None) -> tuple[int, ...] | None:
    """SHARD_IDS: the shards this process runs, out of SHARD_COUNT in all; numbers and ranges
    separated by commas ("0,1", "4-7": a systemd instance name, stride@4-7)."""
    text = value.strip()
    if not text:
        return None
    if count is None:
        raise ConfigError(
            f"SHARD_IDS={text!r} needs SHARD_COUNT, the number of shards across all processes "
            "(for example SHARD_IDS=0-1 with SHARD_COUNT=4 on one of two processes)."
        )
    ids: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        low, dash, high = part.partition("-")
        if not (low.isdigit() and (not dash or (high.isdigit() and int(high) >= int(low)))):
            raise ConfigError(f"SHARD_IDS={text!r} must be shard numbers or ranges separated "
                              "by commas, like 0,1 or 4-7.")
        ids.update(range(int(low), int(high or low) + 1))
    if max(ids) >= count:
        raise ConfigError(f"SHARD_IDS={text!r}: shards are numbered 0 to {count - 1} "
                          f"with SHARD_COUNT={count}.")
    return tuple(sorted(ids))


def _database_url(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if not text.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "DATABASE_URL must be a PostgreSQL URL like postgresql://stride:secret@localhost/"
            "stride (leave it empty to use the SQLite file at DATABASE_PATH)."
        )
    return text


def _path(value: str | None, default: Path) -> Path:
    if not value or not value.strip():
        return default
    path = Path(value.strip()).expanduser()
    return path if path.is_absolute() else ROOT / path


def _backup_dir(value: str) -> Path | None:
    if not value.strip():
        return None
    path = _path(value, ROOT)
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"BACKUP_DIR={value.strip()!r} is a file, not a folder. Point it at a folder for "
            "the backups (it is created if missing), or leave it empty to turn them off."
        )
    return path


def _log_file(value: str | None) -> Path | None:
    """LOG_FILE as a path, if set: a file whose folder exists or can be created, writable."""
    if not value or not value.strip():
        return None
    path = _path(value, ROOT)
    shown = f"LOG_FILE={value.strip()!r}"
    if path.is_dir():
        raise ConfigError(f"{shown} is a folder; name a file in it, e.g. {path / 'stride.log'}.")
    folder = path.parent
    while not folder.exists():  # the nearest folder that exists: the rest is created at start
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(f"{shown}: {folder} is a file, not a folder; pick another path.")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(
            f"{shown}: the user running Stride cannot write to {folder}; make it writable "
            "for that user, or pick another path (the log is rotated beside it, so the folder "
            "must be writable too)."
        )
    return path
