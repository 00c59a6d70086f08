"""The online backup copy (stride/storage/backup_copy.py): checked, self-contained, never
over the database, and nothing left behind when it fails or is cancelled."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from stride.storage import BackupCancelled, BackupError, backup_database
from tests.helpers import GUILD, db_rows, seed


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
