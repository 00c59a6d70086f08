"""`bot.py backup [PATH] [--overwrite]`: a checked copy of the database, also while the bot
runs; needs no Discord token."""

from __future__ import annotations

import sys
from pathlib import Path

from stride.backup_schedule import describe, new_backup_path
from stride.clock import SystemClock
from stride.config import Settings
from stride.storage import BackupError, backup_database


def default_folder(settings: Settings) -> Path:
    """BACKUP_DIR if set, else `backups/` beside the database."""
    return settings.backup_dir or settings.database_path.parent / "backups"


def backup_command(settings: Settings, path: str | None, *, overwrite: bool = False) -> int:
    """`python bot.py backup [PATH] [--overwrite]`: back up the database (the bot may be
    running) to PATH (a file, or a folder to put a dated backup in); returns the exit code."""
    now = SystemClock().now()
    target = Path(path).expanduser().absolute() if path else default_folder(settings)
    dest = new_backup_path(target, now) if path is None or target.is_dir() else target
    print(f"Backing up {settings.database_path} to {dest} ...", flush=True)
    try:
        result = backup_database(settings.database_path, dest, overwrite=overwrite,
                                 busy_timeout_ms=settings.database_busy_timeout_ms)
    except BackupError as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"Backup saved: {result.path}\n  {describe(result)}")
    return 0
