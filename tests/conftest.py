"""Shared fixtures for the unit tests."""

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
from stride.storage import Storage

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "data" / "exercises.toml"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(EXERCISES)


@pytest.fixture
def raw_catalog() -> dict[str, Any]:
    """The shipped data file, parsed but not validated, for tests that break it."""
    return tomllib.loads(EXERCISES.read_text("utf-8"))


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    """A fresh, migrated database in a temporary folder."""
    s = Storage(tmp_path / "stride.db")
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
