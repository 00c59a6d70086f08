"""Automatic backups (stride/backup_schedule.py): names and pruning, and the daily schedule
on an injected clock."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stride.backup_schedule import (
    MAX_SLEEP,
    BackupService,
    backup_name,
    list_backups,
    new_backup_path,
    next_backup_delay,
    parse_backup_name,
    prune_backups,
)
from stride.clock import ManualClock
from stride.storage import BackupResult, backup_database
from tests.helpers import db_rows, seed

T0 = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"x")


# --- names and pruning ------------------------------------------------------------------------

def test_names_sort_in_time_order_and_only_strides_own_names_count(tmp_path: Path) -> None:
    assert backup_name(T0) == "stride-20260301-063000.db"
    assert backup_name(T0, 2) == "stride-20260301-063000-2.db"
    berlin = T0.astimezone(ZoneInfo("Europe/Berlin"))
    assert backup_name(berlin) == "stride-20260301-063000.db"  # always UTC
    assert parse_backup_name("stride-20260301-063000-2.db") == (T0, 2)
    for other in ("stride.db", "stride.db-wal", "stride-20261301-063000.db", "notes.txt",
                  "stride-20260301-063000.db.bak", "stride-20260301-063000-0.db",
                  "my-stride-20260301-063000.db", "stride-manual.db"):
        assert parse_backup_name(other) is None, other
    folder = tmp_path / "b"
    touch(folder, "stride-20260301-063000.db", "stride-20260301-063000-2.db",
          "stride-20260301-063001.db", "stride-20260228-230000.db", "notes.txt")
    assert [p.path.name for p in list_backups(folder)] == [
        "stride-20260228-230000.db", "stride-20260301-063000.db",
        "stride-20260301-063000-2.db", "stride-20260301-063001.db"]
    assert new_backup_path(folder, T0).name == "stride-20260301-063000-3.db"
    assert new_backup_path(folder, T0 + timedelta(seconds=5)).name == "stride-20260301-063005.db"
    assert list_backups(tmp_path / "missing") == []


def test_prune_keeps_the_newest_and_touches_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    dated = [backup_name(T0 - timedelta(days=d)) for d in range(6)]
    others = ["stride.db", "stride.db-wal", "notes.txt", "stride-manual.db",
              "stride-20200101-000000.db.bak"]
    touch(folder, *dated, *others)
    (folder / "stride-20190101-000000.db").mkdir()  # a folder with a backup's name: left alone
    deleted = prune_backups(folder, 2, T0)
    assert sorted(p.name for p in deleted) == sorted(dated[2:])
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([*dated[:2], *others, "stride-20190101-000000.db"])
    assert prune_backups(folder, 2, T0) == []


def test_prune_spares_the_new_backup_and_clears_only_stale_temporary_copies(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "b"
    future = backup_name(T0 + timedelta(days=30))  # the clock was set back since
    touch(folder, future, backup_name(T0))
    assert prune_backups(folder, 1, T0, protect=folder / backup_name(T0)) == []
    stale = folder / ".stride-20260227-063000.db.abc123.part"
    fresh = folder / ".stride-20260301-063000.db.def456.part"
    foreign = folder / ".notes.txt.ghi789.part"
    touch(folder, stale.name, fresh.name, foreign.name)
    old = (T0 - timedelta(days=2)).timestamp()
    for path in (stale, foreign):
        os.utime(path, (old, old))
    os.utime(fresh, (T0.timestamp(), T0.timestamp()))
    assert prune_backups(folder, 5, T0) == [stale]
    assert fresh.exists() and foreign.exists()


# --- the schedule -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("newest", "failed", "expected"),
    [
        (None, None, 0.0),  # none yet: at once
        (T0 - timedelta(hours=25), None, 0.0),  # overdue
        (T0 - timedelta(hours=3), None, 21 * 3600.0),
        (T0, None, 24 * 3600.0),
        (T0 - timedelta(hours=30), T0 - timedelta(minutes=10), 50 * 60.0),  # after a failure
        (T0 - timedelta(hours=23, minutes=30), T0 - timedelta(minutes=50), 30 * 60.0),
    ],
)
def test_next_backup_delay(newest: datetime | None, failed: datetime | None,
                           expected: float) -> None:
    assert next_backup_delay(T0, newest, failed) == expected


class Stopped(Exception):
    """Raised by FakeTime.sleep once its time is up: ends the service's loop."""


class FakeTime(ManualClock):
    """A clock that only moves when the service sleeps; stops the service at `until`."""

    def __init__(self, start: datetime, until: datetime) -> None:
        super().__init__(start)
        self.until = until
        self.sleeps: list[float] = []
        self.on_sleep: list = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await super().sleep(seconds)
        for hook in self.on_sleep:
            hook(self.current)
        if self.current > self.until:
            raise Stopped


async def test_daily_backups_on_a_fake_clock_keep_the_newest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    db, folder = tmp_path / "stride.db", tmp_path / "backups"
    seed(db, range(1, 11))
    fake = FakeTime(T0, T0 + timedelta(days=3, hours=1))
    service = BackupService(db, folder, 2, clock=fake)
    caplog.set_level(logging.INFO, logger="stride.backup_schedule")
    with pytest.raises(Stopped):
        await service.run()
    first = T0 + timedelta(seconds=2)
    assert [b.taken for b in list_backups(folder)] == [
        first.replace(microsecond=0) + timedelta(days=d) for d in (2, 3)]
    saved = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Backup saved")]
    assert len(saved) == 4 and "10 check-ins, integrity check ok" in saved[0]
    deleted = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Deleted")]
    assert len(deleted) == 2
    assert max(fake.sleeps) <= MAX_SLEEP  # the clock is read again at least hourly
    for backup in list_backups(folder):
        assert db_rows(backup.path, "PRAGMA integrity_check") == [("ok",)]


async def test_schedule_follows_the_backups_on_disk_across_restarts(tmp_path: Path) -> None:
    db, folder = tmp_path / "stride.db", tmp_path / "backups"
    seed(db, range(1, 4))
    touch(folder, backup_name(T0 - timedelta(hours=5)))  # made 5 h before this start
    fake = FakeTime(T0, T0 + timedelta(hours=20))
    with pytest.raises(Stopped):
        await BackupService(db, folder, 7, clock=fake).run()
    assert [b.taken for b in list_backups(folder)] == [
        T0 - timedelta(hours=5), T0 + timedelta(hours=19)]


async def test_a_failed_backup_is_logged_and_retried_an_hour_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    db, folder = tmp_path / "stride.db", tmp_path / "backups"
    fake = FakeTime(T0, T0 + timedelta(hours=3))
    # The database appears 90 minutes in (say, a disk that was not mounted yet).
    fake.on_sleep.append(lambda now: now >= T0 + timedelta(minutes=90) and not db.exists()
                         and seed(db, range(1, 3)))
    service = BackupService(db, folder, 7, clock=fake)
    caplog.set_level(logging.INFO, logger="stride.backup_schedule")
    with pytest.raises(Stopped):
        await service.run()
    failures = [r for r in caplog.records if "Automatic backup failed" in r.getMessage()]
    assert len(failures) == 2 and failures[0].levelno == logging.ERROR
    assert "there is no database at" in failures[0].getMessage()
    assert "Traceback" not in caplog.text
    (backup,) = list_backups(folder)
    assert backup.taken == (T0 + timedelta(hours=2, seconds=2)).replace(microsecond=0)
    assert service.failed_at is None


async def test_stop_waits_for_a_copy_that_cannot_be_interrupted(tmp_path: Path) -> None:
    started, release = threading.Event(), threading.Event()

    def slow_copy(source: Path, dest: Path, **_: object) -> BackupResult:
        started.set()
        release.wait(5)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(b"done")
        return BackupResult(dest, 4, None, 0.1, 0.0)

    service = BackupService(tmp_path / "stride.db", tmp_path / "b", 7, first_delay=0,
                            copier=slow_copy)
    service.start()
    assert await asyncio.to_thread(started.wait, 5)
    stopping = asyncio.ensure_future(service.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()  # not abandoned half-way
    release.set()
    await asyncio.wait_for(stopping, 5)
    assert [b.path.read_bytes() for b in list_backups(tmp_path / "b")] == [b"done"]


async def test_stop_abandons_a_real_backup_in_progress(tmp_path: Path) -> None:
    db = tmp_path / "stride.db"
    seed(db, range(1, 201))
    calls: list[threading.Event] = []

    def copier(source: Path, dest: Path, **kw: object) -> BackupResult:
        cancel = kw["cancel"]
        assert isinstance(cancel, threading.Event)
        calls.append(cancel)
        assert cancel.wait(5)  # stop() sets it; the real copy then gives up like this
        return backup_database(source, dest, cancel=cancel)

    service = BackupService(db, tmp_path / "b", 7, first_delay=0, copier=copier)
    service.start()
    while not calls:
        await asyncio.sleep(0.01)
    await asyncio.wait_for(service.stop(), 5)
    assert list_backups(tmp_path / "b") == [] and service.failed_at is None
