"""Small helpers shared by the unit tests (fixtures are in conftest.py; the clock for tests is
`stride.clock.ManualClock`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from stride.storage.sqlite import prepare

#: The server `seed` puts its members in.
GUILD = 77


def seed(db: Path, members: range, day: str = "2026-03-01") -> None:
    """A migrated Stride database in which `members` checked in on `day`."""
    prepare(db)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.executemany(
            "INSERT INTO members (guild_id, user_id, last_day, last_at, run, best, total) "
            "VALUES (?, ?, ?, ?, 1, 1, 1)",
            [(GUILD, m, day, f"{day}T06:00:00Z") for m in members],
        )
    finally:
        conn.close()
