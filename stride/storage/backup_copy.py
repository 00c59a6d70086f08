"""Online backups with SQLite's backup API: a consistent copy while the bot keeps writing.

The copy is made in one step (`Connection.backup(pages=-1)`), which is one read transaction
on the source. The database is in WAL mode, where a reader never blocks a writer, so the bot
goes on committing check-ins during the whole copy; the copy is the database exactly as it
was when that read began. Copying in page batches instead would not help writers here and
would hurt: between batches the read ends, and SQLite restarts a backup from the first page
whenever another connection wrote meanwhile, so on a busy bot a batched backup of a big
database may never finish.

The copy is written under a hidden temporary name beside the destination, checked with
`PRAGMA integrity_check`, flushed to disk, and only then given its real name, so a file with
a backup's name is always a complete, checked backup.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from stride.config import Settings

PARTIAL_SUFFIX = ".part"  # a copy in progress: ".<name>.<random>.part" beside the destination
SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """The backup could not be made; the message says why, in plain words. Nothing was left
    under the destination's name."""


class BackupCancelled(BackupError):
    """The backup was abandoned on request (the bot is stopping); nothing was left behind."""

    def __init__(self) -> None:
        super().__init__("stopped before it was finished, because Stride is stopping")


@dataclass(frozen=True)
class BackupResult:
    """A finished backup: where it is, how big, what it holds, how long it took."""

    path: Path
    size: int  # bytes
    checkins: int | None  # rows in `checkins`; None if the copy has no such table
    copy_seconds: float
    check_seconds: float

    @property
    def seconds(self) -> float:
        return self.copy_seconds + self.check_seconds


def backup_database(
    source: Path, dest: Path, *, overwrite: bool = False,
    busy_timeout_ms: int = Settings.database_busy_timeout_ms,
    cancel: threading.Event | None = None,
) -> BackupResult:
    """Copy the database at `source` to `dest` while others may be using it (blocking).

    Refuses to replace an existing `dest` unless `overwrite`, and never writes over the
    database itself. Raises BackupError with a readable message on any failure. Setting
    `cancel` (from another thread) abandons the backup at the next chance, within
    milliseconds during the integrity check: nothing is left behind.
    """
    source, dest = Path(source), Path(dest)
    if not source.is_file():
        raise BackupError(f"there is no database at {source} (check DATABASE_PATH).")
    if dest.is_dir():
        raise BackupError(f"{dest} is a folder; give a file name for the backup.")
    if _is_part_of(dest, source):
        raise BackupError(f"{dest} is the database itself; choose another place for the backup.")
    if not overwrite and _exists(dest):
        raise BackupError(f"{dest} already exists. Choose another name, or add --overwrite "
                          "to replace it.")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=PARTIAL_SUFFIX,
                                    dir=dest.parent)
    except OSError as exc:
        raise BackupError(f"cannot write in {dest.parent}: {exc.strerror or exc}.") from exc
    os.close(fd)
    partial = Path(name)
    try:
        started = time.perf_counter()
        _copy(source, partial, busy_timeout_ms)
        _stop_if(cancel)
        copied = time.perf_counter()
        checkins = _check(partial, cancel)
        checked = time.perf_counter()
        _stop_if(cancel)
        _publish(partial, dest, overwrite)
    except sqlite3.Error as exc:
        if cancel is not None and cancel.is_set():
            raise BackupCancelled() from exc
        raise BackupError(_explain(exc, source)) from exc
    except OSError as exc:
        raise BackupError(f"cannot write the backup in {dest.parent}: "
                          f"{exc.strerror or exc}.") from exc
    finally:
        for path in (partial, *(Path(f"{partial}{side}") for side in SIDE_FILES)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return BackupResult(dest, dest.stat().st_size, checkins, copied - started, checked - copied)


def _copy(source: Path, partial: Path, busy_timeout_ms: int) -> None:
    # mode=rw: a missing or misspelt path is an error, never a new empty database.
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True,
                          isolation_level=None)
    try:
        src.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        dst = sqlite3.connect(partial, isolation_level=None)
        try:
            # The copy is private until published, and is flushed to disk then: no journal
            # and no syncs while writing it (3x faster, so the source's read is shorter).
            dst.execute("PRAGMA journal_mode = OFF")
            dst.execute("PRAGMA synchronous = OFF")
            src.backup(dst)  # all pages in one step: one consistent read (see module docs)
            # The copy inherits WAL mode from the source; make it one self-contained file.
            # (Stride switches a restored file back to WAL when it opens it.)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _stop_if(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise BackupCancelled()


def _check(partial: Path, cancel: threading.Event | None = None) -> int | None:
    """Run `PRAGMA integrity_check` on the copy; return how many check-ins it holds."""
    conn = sqlite3.connect(f"{partial.resolve().as_uri()}?mode=ro", uri=True,
                           isolation_level=None)
    if cancel is not None:  # a non-zero answer interrupts the statement running
        conn.set_progress_handler(cancel.is_set, 10_000)
    try:
        rows = [str(row[0]) for row in conn.execute("PRAGMA integrity_check(20)")]
        if rows != ["ok"]:
            problems = [line for row in rows for line in row.splitlines()
                        if not line.startswith("***")]
            raise BackupError(
                "the copy failed SQLite's integrity check, so the database itself is probably "
                f"damaged ({'; '.join(problems[:2])}; ...). Keep your earlier backups."
            )
        try:
            row = conn.execute("SELECT COUNT(*) FROM checkins").fetchone()
        except sqlite3.OperationalError:  # not a Stride database (or a very old one)
            return None
        return int(row[0])
    finally:
        conn.close()


def _publish(partial: Path, dest: Path, overwrite: bool) -> None:
    """Flush the checked copy to disk and give it its real name in one atomic step."""
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if overwrite:
        os.replace(partial, dest)
    else:
        try:
            os.link(partial, dest)  # atomic, and fails if a file of that name appeared meanwhile
        except FileExistsError:
            raise BackupError(f"{dest} appeared while the backup was being made; "
                              "choose another name.") from None
        except OSError:  # a file system without hard links
            if _exists(dest):
                raise BackupError(f"{dest} already exists.") from None
            os.replace(partial, dest)
    with contextlib.suppress(OSError):  # make the new name itself survive a power cut
        fd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _is_part_of(dest: Path, source: Path) -> bool:
    """Whether `dest` is the database file or one of its -wal/-shm/-journal files."""
    target = dest.resolve()
    base = source.resolve()
    if target in {base, *(Path(f"{base}{side}") for side in SIDE_FILES)}:
        return True
    with contextlib.suppress(OSError):
        return dest.exists() and os.path.samefile(dest, source)
    return False


def _explain(exc: sqlite3.Error, source: Path) -> str:
    text = str(exc)
    if "file is not a database" in text:
        return f"{source} is not a SQLite database (check DATABASE_PATH)."
    if "locked" in text or "busy" in text:
        return f"the database {source} stayed locked by another program; try again shortly."
    if "unable to open" in text or "readonly" in text:
        return (f"cannot open the database {source} ({text}); run the backup as the user "
                "the bot runs as.")
    return f"SQLite error while copying {source}: {text}."
