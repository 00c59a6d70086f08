"""Migrations (stride/storage/migrations.py): numbered from one, each applied atomically.
(A database carried through every earlier version: test_upgrades.py; PostgreSQL's runs:
test_postgres.py.)"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stride.storage import SchemaError
from stride.storage import migrations as mig


@pytest.mark.parametrize("dialect", mig.DIALECTS)
def test_migrations_are_numbered_from_one(dialect: str) -> None:
    found = mig.available(dialect)
    assert [m.version for m in found] == list(range(1, len(found) + 1))


def test_each_dialect_has_every_migration_under_the_same_name() -> None:
    names = {d: [m.name for m in mig.available(d)] for d in mig.DIALECTS}
    assert names["postgresql"] == names["sqlite"]


def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    good = mig.Migration(1, "0001_ok", "CREATE TABLE a (x INTEGER);")
    bad = mig.Migration(2, "0002_bad", "CREATE TABLE b (x INTEGER); INSERT INTO nope VALUES (1);")
    with pytest.raises(SchemaError, match="0002_bad failed"):
        mig.apply(conn, [good, bad])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"a"}
