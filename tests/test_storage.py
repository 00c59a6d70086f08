"""The database: WAL mode, numbered migrations, refusing newer schemas."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stride.storage import SchemaError, Storage
from stride.storage import migrations as mig


def test_migrations_are_numbered_from_one() -> None:
    found = mig.available()
    assert [m.version for m in found] == list(range(1, len(found) + 1))


async def test_open_creates_the_database_in_wal_mode(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "sub" / "stride.db")
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
        storage = Storage(path)
        await storage.open()
        await storage.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(mig.available())


def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    good = mig.Migration(1, "0001_ok", "CREATE TABLE a (x INTEGER);")
    bad = mig.Migration(2, "0002_bad", "CREATE TABLE b (x INTEGER); INSERT INTO nope VALUES (1);")
    with pytest.raises(SchemaError, match="0002_bad failed"):
        mig.apply(conn, [good, bad])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"a"}


def test_a_newer_database_is_refused_not_altered(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    conn.execute("PRAGMA user_version = 99")
    with pytest.raises(SchemaError, match="newer than this Stride knows"):
        mig.apply(conn)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
