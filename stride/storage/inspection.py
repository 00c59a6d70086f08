"""Looking at a database without changing it: a consistent copy, and SQLite's integrity check
(used by `bot.py check`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def snapshot(path: Path, copy: Path) -> int:
    """Copy the database with SQLite's online backup API; return its schema version.

    Read-only: nothing is written to the database or beside it. While the bot runs (a -wal
    file exists) the copy is one consistent read through the WAL, as a backup would be; when
    it is stopped, the file is read as immutable, so no -wal or -shm file is created there,
    possibly owned by the wrong user.
    """
    quiet = not any(Path(f"{path}{side}").exists() for side in ("-wal", "-journal"))
    uri = path.resolve().as_uri() + ("?mode=ro&immutable=1" if quiet else "?mode=ro")
    source = sqlite3.connect(uri, uri=True, timeout=5.0)
    try:
        version = int(source.execute("PRAGMA user_version").fetchone()[0])
        target = sqlite3.connect(copy, isolation_level=None)
        try:
            target.execute("PRAGMA journal_mode = OFF")  # a private scratch copy
            target.execute("PRAGMA synchronous = OFF")
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    return version


def integrity_problems(path: Path, limit: int = 3) -> list[str]:
    """What `PRAGMA integrity_check` finds (at most `limit` lines); [] when it says ok."""
    conn = sqlite3.connect(path)
    try:
        rows = [str(row[0]) for row in conn.execute(f"PRAGMA integrity_check({limit + 1})")]
    finally:
        conn.close()
    if rows == ["ok"]:
        return []
    found = [line.strip() for row in rows for line in row.splitlines()
             if line.strip() and not line.startswith("*** in database")]  # one line each
    return found[:limit] + (["..."] if len(found) > limit else [])
