"""Backups: the online copy, names and pruning, the daily schedule on an injected clock, the
settings, and `python bot.py backup` as a subprocess."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
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
from stride.config import ROOT, ConfigError, Settings
from stride.storage import BackupCancelled, BackupError, BackupResult, backup_database
from stride.storage.database import prepare
from tests.e2e.guards import db_rows

T0 = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
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




def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"x")


# --- the copy --------------------------------------------------------------------------------

def test_copy_is_checked_self_contained_and_includes_what_is_still_in_the_wal(
    tmp_path: Path,
) -> None:
    db = tmp_path / "stride.db"
    seed(db, range(1, 51))
    # A connection that never checkpoints keeps 50 more check-ins only in the -wal file:
    # a plain file copy of stride.db would miss them, the backup API must not.
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.executemany(
        "INSERT INTO members (guild_id, user_id, last_day, last_at, total) VALUES (?, ?, ?, ?, 1)",
        [(GUILD, m, "2026-03-02", "2026-03-02T06:00:00Z") for m in range(51, 101)],
    )
    assert Path(f"{db}-wal").stat().st_size > 0
    try:
        result = backup_database(db, tmp_path / "out" / "copy.db")
    finally:
        writer.close()
    copy = tmp_path / "out" / "copy.db"
    assert result.path == copy and result.size == copy.stat().st_size
    assert result.checkins == 100
    assert db_rows(copy, "SELECT COUNT(*) FROM checkins") == [(100,)]
    assert db_rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert db_rows(copy, "PRAGMA journal_mode") == [("delete",)]  # one file, no -wal needed
    assert sorted(p.name for p in copy.parent.iterdir()) == ["copy.db"]  # no temp files
    assert oct(copy.stat().st_mode & 0o777) == "0o600"  # members' data: owner only


def test_refuses_to_overwrite_unless_asked_and_never_writes_over_the_database(
    tmp_path: Path,
) -> None:
    db = tmp_path / "stride.db"
    seed(db, range(1, 4))
    dest = tmp_path / "keep.db"
    dest.write_bytes(b"an older backup")
    with pytest.raises(BackupError, match=r"keep\.db already exists.*--overwrite"):
        backup_database(db, dest)
    assert dest.read_bytes() == b"an older backup"
    assert backup_database(db, dest, overwrite=True).checkins == 3
    assert db_rows(dest, "SELECT COUNT(*) FROM checkins") == [(3,)]
    for target in (db, Path(f"{db}-wal"), tmp_path / "." / "stride.db"):
        with pytest.raises(BackupError, match="is the database itself"):
            backup_database(db, target, overwrite=True)
    assert db_rows(db, "SELECT COUNT(*) FROM checkins") == [(3,)]
    with pytest.raises(BackupError, match="is a folder"):
        backup_database(db, tmp_path)


def test_missing_or_foreign_source_fails_clearly_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(BackupError, match=r"there is no database at .*DATABASE_PATH"):
        backup_database(tmp_path / "nope.db", out / "a.db")
    assert not (tmp_path / "nope.db").exists()
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, but long enough to have a header " * 20)
    with pytest.raises(BackupError, match="is not a SQLite database"):
        backup_database(text, out / "b.db")
    assert list(out.iterdir()) == []  # the temporary copy is gone too


def test_a_damaged_database_gives_no_backup(tmp_path: Path) -> None:
    db = tmp_path / "damaged.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
    conn.execute("CREATE INDEX tb ON t (b)")
    with conn:  # one transaction
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO t (b) VALUES (?)", [(f"v{i:06d}",) for i in range(5000)])
    pages, size = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
    conn.close()
    with open(db, "r+b") as f:  # scramble the second half of the pages
        for page in range(pages // 2, pages):
            f.seek(page * size + 8)
            f.write(bytes(range(256)) * 4)
    with pytest.raises(BackupError, match=r"failed SQLite's integrity check.*out of range"):
        backup_database(db, tmp_path / "out" / "copy.db")
    assert list((tmp_path / "out").iterdir()) == []


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


class FakeTime:
    """A clock that only moves when the service sleeps; stops the service at `until`."""

    def __init__(self, start: datetime, until: datetime) -> None:
        self.now = start
        self.until = until
        self.sleeps: list[float] = []
        self.on_sleep: list = []

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        for hook in self.on_sleep:
            hook(self.now)
        if self.now > self.until:
            raise Stopped
        await asyncio.sleep(0)


async def test_daily_backups_on_a_fake_clock_keep_the_newest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    db, folder = tmp_path / "stride.db", tmp_path / "backups"
    seed(db, range(1, 11))
    fake = FakeTime(T0, T0 + timedelta(days=3, hours=1))
    service = BackupService(db, folder, 2, clock=fake.clock, sleep=fake.sleep)
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
        await BackupService(db, folder, 7, clock=fake.clock, sleep=fake.sleep).run()
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
    service = BackupService(db, folder, 7, clock=fake.clock, sleep=fake.sleep)
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


def test_a_cancelled_backup_stops_in_its_integrity_check_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stride.storage.backup_copy as backup_module

    db = tmp_path / "stride.db"
    seed(db, range(1, 3001))
    cancel, checking = threading.Event(), threading.Event()
    real_check = backup_module._check

    def check_then_cancel(partial: Path, stop: threading.Event | None = None) -> int | None:
        checking.set()
        cancel.set()  # as BackupService.stop() would, while the check runs
        return real_check(partial, stop)

    monkeypatch.setattr(backup_module, "_check", check_then_cancel)
    dest = tmp_path / "b" / "stride-20260301-063000.db"
    with pytest.raises(BackupCancelled, match="Stride is stopping") as stopped:
        backup_database(db, dest, cancel=cancel)
    assert isinstance(stopped.value.__cause__, sqlite3.OperationalError)  # interrupted mid-check
    assert checking.is_set() and sorted(p.name for p in dest.parent.iterdir()) == []
    monkeypatch.undo()
    cancel.clear()  # the same call, not cancelled, makes the backup
    assert backup_database(db, dest, cancel=cancel).checkins == 3000


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


# --- settings ---------------------------------------------------------------------------------

def test_backup_settings(tmp_path: Path) -> None:
    base = {"DISCORD_TOKEN": "t"}
    default = Settings.from_env(base)
    assert (default.backup_dir, default.backup_keep) == (None, 7)
    s = Settings.from_env({**base, "BACKUP_DIR": " backups ", "BACKUP_KEEP": "14"})
    assert (s.backup_dir, s.backup_keep) == (ROOT / "backups", 14)
    assert Settings.from_env({**base, "BACKUP_DIR": str(tmp_path)}).backup_dir == tmp_path
    afile = tmp_path / "f.txt"
    afile.write_text("x")
    with pytest.raises(ConfigError, match=r"BACKUP_DIR='.*f\.txt' is a file, not a folder"):
        Settings.from_env({**base, "BACKUP_DIR": str(afile)})
    for bad in ("0", "-1", "seven", "1001"):
        with pytest.raises(ConfigError, match=f"BACKUP_KEEP='{bad}' must be a number from 1"):
            Settings.from_env({**base, "BACKUP_KEEP": bad})


# --- python bot.py backup ---------------------------------------------------------------------

def run_backup(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python bot.py backup ...` as an operator runs it: no Discord token at all."""
    clean = {**os.environ, "DATABASE_PATH": str(tmp_path / "stride.db"), "DISCORD_TOKEN": "",
             "BACKUP_DIR": "", **env}  # set, even if empty: a developer's .env never wins
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "backup", *args], cwd=tmp_path, env=clean,
        capture_output=True, text=True, timeout=60,
    )


def test_backup_command(tmp_path: Path) -> None:
    seed(tmp_path / "stride.db", range(1, 26))
    done = run_backup(tmp_path, "saved.db")  # relative to where it is run
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "saved.db"
    assert f"Backup saved: {copy}" in done.stdout
    assert "25 check-ins, integrity check ok" in done.stdout
    assert db_rows(copy, "SELECT COUNT(*) FROM checkins") == [(25,)]
    assert db_rows(copy, "PRAGMA integrity_check") == [("ok",)]

    again = run_backup(tmp_path, "saved.db")
    assert again.returncode == 1
    assert "Backup failed:" in again.stderr and "--overwrite" in again.stderr
    assert "Traceback" not in again.stderr + again.stdout
    assert run_backup(tmp_path, "saved.db", "--overwrite").returncode == 0

    dated = run_backup(tmp_path, BACKUP_DIR=str(tmp_path / "auto"))  # no PATH: BACKUP_DIR
    assert dated.returncode == 0, dated.stderr
    (made,) = list_backups(tmp_path / "auto")
    assert f"Backup saved: {made.path}" in dated.stdout


def test_backup_command_without_a_database(tmp_path: Path) -> None:
    result = run_backup(tmp_path)
    assert result.returncode == 1
    assert f"there is no database at {tmp_path / 'stride.db'}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "stride.db").exists()
    assert list_backups(tmp_path / "backups") == []
