"""The one place that talks SQL: opening the database, migrating it, and every query."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import aiosqlite

from . import migrations

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",  # wait for another writer instead of failing
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = FULL",  # a committed write survives a crash or power loss
)


def prepare(path: Path) -> list[str]:
    """Create the file if needed, switch it to WAL, and apply pending migrations (blocking)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            log.warning("SQLite refused WAL mode for %s (got %s)", path, mode)
        return migrations.apply(conn)
    finally:
        conn.close()


class Storage:
    """Async access to Stride's SQLite database. Owns one connection; writes are transactions."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None

    async def open(self) -> None:
        applied = await asyncio.to_thread(prepare, self.path)
        if applied:
            log.info("Database %s: applied migrations %s", self.path, ", ".join(applied))
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        for pragma in PRAGMAS:
            await self._conn.execute(pragma)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("Storage is not open")
        return self._conn

    async def schema_version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
