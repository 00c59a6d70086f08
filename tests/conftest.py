"""Shared fixtures for the unit tests. `storage` runs each test that takes it on both
backends (ids "sqlite" and "postgresql"; the latter on a throwaway server, skipped where
PostgreSQL is not installed); `sqlite_storage` is for tests of SQLite's own workings."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stride.catalog import Catalog, load_catalog
from stride.checkins import Checkins
from stride.clock import ManualClock
from stride.storage import SqliteStorage, Storage

pytest_plugins = ["tests.postgres_fixtures"]

BACKENDS = ["sqlite", "postgresql"]

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "data" / "exercises.toml"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(EXERCISES)


@pytest.fixture
def raw_catalog() -> dict[str, Any]:
    """The shipped data file, parsed but not validated, for tests that break it."""
    return tomllib.loads(EXERCISES.read_text("utf-8"))


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def storage_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a test's database is: a file in a temporary folder, or a new PostgreSQL
    database (its URL; dropped after the test)."""
    if request.param == "sqlite":
        return tmp_path / "stride.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def storage(storage_location: Path | str) -> AsyncIterator[Storage]:
    """A fresh, migrated database of each backend, opened."""
    if isinstance(storage_location, Path):
        s: Storage = SqliteStorage(storage_location)
    else:
        from stride.storage.postgres import PostgresStorage  # asyncpg only when it is used

        s = PostgresStorage(storage_location)
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def sqlite_storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    """For tests of SQLite's own workings (its connection, plans, locking): SQLite only."""
    s = SqliteStorage(tmp_path / "stride.db")
    await s.open()
    yield s
    await s.close()


@pytest.fixture
def clock() -> ManualClock:
    """The tests' clock: Monday 23 November 2026, 12:00 UTC, moved only by the test."""
    return ManualClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))


@pytest.fixture
def checkins(storage: Storage, clock: ManualClock) -> Checkins:
    return Checkins(storage, clock)
