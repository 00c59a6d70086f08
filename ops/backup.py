"""`bot.py backup [PATH] [--overwrite]`: a checked copy of the database, also while the bot
runs; needs no Discord token. A PostgreSQL database is backed up with pg_dump instead: this
says how (exit code 2: nothing was done)."""

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


NOT_SQLITE = 2  # the exit code when DATABASE_URL is set: this command does not apply


def pg_dump_advice(url: str) -> str:
    """How to back up and restore the PostgreSQL database at `url` (its password hidden)."""
    from stride.storage.postgres import redact  # asyncpg only for those who use it

    return (
        f"Stride's database is PostgreSQL ({redact(url)}): `bot.py backup` copies SQLite "
        "files only, and the daily automatic backup (BACKUP_DIR) does not run on PostgreSQL.\n"
        "Back it up with pg_dump (also while the bot runs; DATABASE_URL from .env, e.g. after "
        "`set -a; . ./.env; set +a`):\n"
        '  pg_dump --format=custom --file=stride-$(date +%Y%m%d-%H%M%S).dump "$DATABASE_URL"\n'
        "Restore one with the bot stopped, into a new empty database (then set DATABASE_URL "
        "to it):\n"
        "  createdb -O USER stride_restored\n"
        "  pg_restore --no-owner --single-transaction "
        '--dbname="postgresql://USER:PASSWORD@HOST/stride_restored" '
        "stride-YYYYMMDD-HHMMSS.dump\n"
        "See docs/postgresql.md (Backups)."
    )


def backup_command(settings: Settings, path: str | None, *, overwrite: bool = False) -> int:
    """`python bot.py backup [PATH] [--overwrite]`: back up the database (the bot may be
    running) to PATH (a file, or a folder to put a dated backup in); returns the exit code."""
    if settings.database_url:
        print(pg_dump_advice(settings.database_url), file=sys.stderr)
        return NOT_SQLITE
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
