"""Small helpers shared by the unit tests (fixtures are in conftest.py; the clock for tests is
`stride.clock.ManualClock`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stride.records import Claim, Lease, Reminder
from stride.storage import SqliteStorage, Storage
from stride.storage.boards import numbered
from stride.storage.postgres import PostgresStorage
from stride.storage.sqlite import prepare

#: The server `seed` puts its members in.
GUILD = 77
#: A lease that has run out: firings held under it are anyone's to take over.
LAPSED = Lease("a process that stopped", 0)


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


def db_rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """A read of the SQLite file at `db` on a read-only connection of its own."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def claim_now(storage: Storage, reminder: Reminder, lease: Lease = LAPSED) -> Claim:
    """Record `reminder`'s firing at its due time as claimed (and move it on a day), as the
    scheduler does; by default under a lapsed lease, as a process that died left it."""
    assert reminder.next_due is not None

    def plan(due: list[Reminder]) -> tuple[list[Claim], dict[int, int | None]]:
        moves = {r.id: r.next_due for r in due}
        moves[reminder.id] = (reminder.next_due or 0) + 86400
        return [Claim(r, r.next_due or 0, "claimed") for r in due if r.id == reminder.id], moves

    [claim] = await storage.claim_due(reminder.next_due, 10_000, plan, lease)
    return claim


async def due_now(storage: Storage, now: int, limit: int = 100) -> list[Reminder]:
    """The reminders claim_due finds due at `now`, with nothing recorded or moved."""
    found: list[Reminder] = []

    def plan(due: list[Reminder]) -> tuple[list[Claim], dict[int, int | None]]:
        found.extend(due)
        return [], {r.id: r.next_due for r in due}

    await storage.claim_due(now, limit, plan, LAPSED)
    return found


async def open_firings(storage: Storage, now: int) -> list[Claim]:
    """Every firing still 'claimed', left under a lapsed lease (anyone may take it over)."""
    return await storage.take_over(LAPSED, now, everything=True)


async def rows(storage: Storage, sql: str, params: Mapping[str, Any] | None = None
               ) -> list[tuple[Any, ...]]:
    """Run a read written with :named parameters on either backend; its rows as tuples."""
    params = params or {}
    if isinstance(storage, SqliteStorage):
        return [tuple(r) for r in await storage.conn.execute_fetchall(sql, params)]
    assert isinstance(storage, PostgresStorage)
    text, names = numbered(sql)
    async with storage.connection() as conn:
        return [tuple(r) for r in await conn.fetch(text, *(params[n] for n in names))]
