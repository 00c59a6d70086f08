"""The SQLite database (stride/storage/sqlite.py): WAL mode, migrations applied once, a newer
schema refused at open, closing around a transaction in progress (PostgreSQL's own:
test_postgres.py)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from stride.records import ClubSettings
from stride.storage import SchemaError, SqliteStorage
from stride.storage import migrations as mig


async def test_open_creates_the_database_in_wal_mode(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "sub" / "stride.db")
    await storage.open()
    try:
        assert await storage.schema_version() == len(mig.available())
        async with storage.conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
    finally:
        await storage.close()


async def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "stride.db"
    for _ in range(2):
        storage = SqliteStorage(path)
        await storage.open()
        await storage.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(mig.available())


@pytest.mark.parametrize("journal", ["wal", "delete"])
async def test_a_newer_database_is_refused_not_altered(tmp_path: Path, journal: str) -> None:
    """A database from a newer Stride (e.g. a backup restored after rolling the code back) is
    refused at start with both versions named; its file is left byte for byte as it was."""
    path = tmp_path / "stride.db"
    storage = SqliteStorage(path)
    await storage.open()
    await storage.save_club_settings(42, ClubSettings("Europe/Berlin", 1))
    await storage.close()
    newer = len(mig.available()) + 1
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode = {journal}")
    conn.execute("CREATE TABLE from_the_future (x INTEGER)")
    conn.execute(f"PRAGMA user_version = {newer}")
    conn.close()
    before = path.read_bytes()

    storage = SqliteStorage(path)
    with pytest.raises(SchemaError) as refused:
        await storage.open()
    assert str(refused.value) == (
        f"the database is at schema version {newer}, newer than this Stride knows "
        f"({newer - 1}); upgrade Stride or restore a backup made by this version")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stride.db"]


async def test_close_lets_the_transaction_in_progress_finish(tmp_path: Path) -> None:
    path = tmp_path / "stride.db"
    storage = SqliteStorage(path)
    await storage.open()
    began = asyncio.Event()

    async def two_clubs() -> None:
        async with storage.transaction() as conn:
            await conn.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
            began.set()
            await asyncio.sleep(0.2)
            await conn.execute("INSERT INTO guild_settings (guild_id) VALUES (2)")

    writing = asyncio.create_task(two_clubs())
    await began.wait()
    await storage.close(timeout=5)
    assert writing.done() and writing.exception() is None
    with pytest.raises(RuntimeError, match="not open"):
        await storage.club_settings(1)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT guild_id FROM guild_settings").fetchall() == [(1,), (2,)]


async def test_close_gives_up_on_a_stuck_transaction_and_rolls_it_back(tmp_path: Path) -> None:
    path = tmp_path / "stride.db"
    storage = SqliteStorage(path)
    await storage.open()
    began = asyncio.Event()

    async def stuck() -> None:
        async with storage.transaction() as conn:
            await conn.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
            began.set()
            await asyncio.sleep(30)

    writing = asyncio.create_task(stuck())
    await began.wait()
    started = time.monotonic()
    await storage.close(timeout=0.2)
    assert time.monotonic() - started < 1.0
    writing.cancel()
    await asyncio.gather(writing, return_exceptions=True)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM guild_settings").fetchone() == (0,)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
