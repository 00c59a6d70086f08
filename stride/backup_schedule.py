"""Backups of Stride's database: their names, keeping the last few, the daily schedule, the
service that makes them while the bot runs, and `python bot.py backup`.

Backups are named `stride-YYYYMMDD-HHMMSS.db` after the moment they were taken, in UTC (so
names sort in time order, also across daylight-saving changes); `-2`, `-3`... is added when
two are taken within the same second. Pruning only ever deletes files with such names. The
copying itself is in `stride.storage.backup_copy`; `bot.py backup` is `ops.backup`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stride.clock import Clock, SystemClock
from stride.config import Settings
from stride.storage import BackupCancelled, BackupError, BackupResult, backup_database
from stride.storage.backup_copy import PARTIAL_SUFFIX

log = logging.getLogger(__name__)

NAME = re.compile(r"stride-(\d{8}-\d{6})(?:-([1-9]\d{0,5}))?\.db")
STAMP = "%Y%m%d-%H%M%S"
EVERY = timedelta(hours=24)  # time between automatic backups
FIRST_DELAY = 2.0  # seconds after start before the first look (the bot connects meanwhile)
RETRY_AFTER = timedelta(hours=1)  # after a failed automatic backup
MAX_SLEEP = 3600.0  # the schedule reads the clock at least this often (seconds)
STALE_PARTIAL = timedelta(hours=24)  # a temporary copy this old was left by a stopped backup

Copier = Callable[..., BackupResult]


# --- names ------------------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class BackupFile:
    """A file in the backup folder with one of Stride's own backup names."""

    taken: datetime
    serial: int
    path: Path = field(compare=False)


def backup_name(taken: datetime, serial: int = 1) -> str:
    """`stride-YYYYMMDD-HHMMSS.db` for `taken` (in UTC); serial 2 and up add `-2`..."""
    stamp = taken.astimezone(UTC).strftime(STAMP)
    return f"stride-{stamp}.db" if serial <= 1 else f"stride-{stamp}-{serial}.db"


def parse_backup_name(name: str) -> tuple[datetime, int] | None:
    """(when taken, serial) for one of Stride's backup names, else None."""
    match = NAME.fullmatch(name)
    if match is None:
        return None
    try:
        taken = datetime.strptime(match[1], STAMP).replace(tzinfo=UTC)
    except ValueError:  # e.g. month 13: not a name Stride made
        return None
    return taken, int(match[2] or 1)


def list_backups(folder: Path) -> list[BackupFile]:
    """Stride's backups in `folder`, oldest first (nothing if the folder does not exist)."""
    found = []
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    for path in entries:
        parsed = parse_backup_name(path.name)
        if parsed is not None and path.is_file() and not path.is_symlink():
            found.append(BackupFile(*parsed, path))
    return sorted(found)


def new_backup_path(folder: Path, now: datetime) -> Path:
    """A free backup name in `folder` for a backup taken `now`."""
    serial = 1
    while (path := folder / backup_name(now, serial)).exists():
        serial += 1
    return path


def prune_backups(folder: Path, keep: int, now: datetime, protect: Path | None = None
                  ) -> list[Path]:
    """Delete all but the newest `keep` of Stride's backups in `folder` (never `protect`),
    and temporary copies left by a backup that was stopped over a day ago. Other files are
    never touched. Returns what was deleted."""
    backups = list_backups(folder)
    doomed = [b.path for b in backups[: max(0, len(backups) - max(1, keep))]
              if b.path != protect]
    for path in folder.glob(f".stride-*.db.*{PARTIAL_SUFFIX}"):
        stem = path.name[1:].split(".db.", 1)[0] + ".db"
        if parse_backup_name(stem) is not None and path.is_file() and (
            now - datetime.fromtimestamp(path.stat().st_mtime, UTC) > STALE_PARTIAL
        ):
            doomed.append(path)
    deleted = []
    for path in doomed:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        deleted.append(path)
    return deleted


# --- the schedule -----------------------------------------------------------------------------

def next_backup_delay(now: datetime, newest: datetime | None,
                      failed_at: datetime | None = None) -> float:
    """Seconds until the next automatic backup is due: at once when there is none yet or the
    newest is 24 h old, else 24 h after the newest; at least an hour after a failure."""
    due = now if newest is None else newest + EVERY
    if failed_at is not None:
        due = max(due, failed_at + RETRY_AFTER)
    return max(0.0, (due - now).total_seconds())


class BackupService:
    """Makes a backup of the database every 24 h into `folder` and keeps the newest `keep`.

    Started by the bot when BACKUP_DIR is set. The copy runs in a thread, so the bot keeps
    answering. The schedule follows the backups on disk (a restart does not reset it) and the
    injected `clock`, so it can be tested without waiting. Failures are logged and
    retried an hour later; they never stop the bot.
    """

    def __init__(
        self, database: Path, folder: Path, keep: int, *,
        busy_timeout_ms: int = Settings.database_busy_timeout_ms,
        clock: Clock | None = None, first_delay: float = FIRST_DELAY,
        copier: Copier = backup_database,
    ) -> None:
        self.database = database
        self.folder = folder
        self.keep = keep
        self.busy_timeout_ms = busy_timeout_ms
        self.first_delay = first_delay
        self._clock = clock or SystemClock()
        self._copier = copier
        self._task: asyncio.Task[None] | None = None
        self._attempt: asyncio.Task[BackupResult | None] | None = None
        self._cancel = threading.Event()  # set when stopping: a copy in progress gives up
        self.failed_at: datetime | None = None

    def start(self) -> None:
        newest = self.newest(self._clock.now())
        log.info("Automatic backups: every 24 h into %s, keeping the newest %d (%s)",
                 self.folder, self.keep,
                 f"latest {newest:%Y-%m-%d %H:%M} UTC" if newest else "none yet")
        self._task = asyncio.create_task(self.run(), name="stride-backups")

    async def stop(self) -> None:
        """Stop the schedule, and abandon a backup in progress (it runs in a thread: it stops
        at its next chance, within milliseconds during the integrity check, and leaves nothing
        behind); the next start makes the backup instead."""
        self._cancel.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._attempt is not None and not self._attempt.done():
            log.info("Stopping the backup in progress")
            await asyncio.gather(self._attempt, return_exceptions=True)

    def newest(self, now: datetime) -> datetime | None:
        """When the newest backup was taken. One dated after `now` (the clock was set back)
        is left out, or it would hold off every backup until the clock catches up."""
        try:
            backups = list_backups(self.folder)
        except OSError:
            return None  # the backup itself will say what is wrong with the folder
        taken = [b.taken for b in backups if b.taken <= now + timedelta(minutes=1)]
        return taken[-1] if taken else None

    async def run(self) -> None:
        """The schedule: look shortly after start, then whenever the next backup is due."""
        await self._clock.sleep(self.first_delay)
        while True:
            now = self._clock.now()
            delay = next_backup_delay(now, self.newest(now), self.failed_at)
            if delay > 0:
                await self._clock.sleep(min(delay, MAX_SLEEP))
                continue
            self._attempt = asyncio.create_task(self.backup_now())
            await asyncio.shield(self._attempt)

    async def backup_now(self) -> BackupResult | None:
        """One backup plus pruning; logs the outcome and never raises (except cancellation)."""
        now = self._clock.now()
        try:
            dest = new_backup_path(self.folder, now)
            result = await asyncio.to_thread(
                self._copier, self.database, dest, busy_timeout_ms=self.busy_timeout_ms,
                cancel=self._cancel)
        except asyncio.CancelledError:
            raise
        except BackupCancelled:
            log.info("Automatic backup stopped half-way, as Stride is stopping; the next start "
                     "makes it")
            return None
        except Exception as exc:
            self.failed_at = now
            if isinstance(exc, BackupError | OSError):
                log.error("Automatic backup failed: %s. Trying again in an hour.",
                          str(exc).rstrip("."))
            else:
                log.exception("Automatic backup failed; trying again in an hour")
            return None
        self.failed_at = None
        log.info("Backup saved: %s (%s)", result.path, describe(result))
        try:
            pruned = await asyncio.to_thread(
                prune_backups, self.folder, self.keep, now, result.path)
        except OSError as exc:
            log.warning("Could not delete old backups in %s: %s", self.folder, exc)
        else:
            if pruned:
                log.info("Deleted %d old backup(s), keeping the newest %d: %s", len(pruned),
                         self.keep, ", ".join(p.name for p in pruned))
        return result


def describe(result: BackupResult) -> str:
    """Size, check-ins and time of a backup, e.g. for the log."""
    held = "" if result.checkins is None else f", {result.checkins:,} check-ins"
    return (f"{size_text(result.size)}{held}, integrity check ok; {result.seconds:.1f} s "
            f"(copy {result.copy_seconds:.1f} s, check {result.check_seconds:.1f} s)")


def size_text(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
