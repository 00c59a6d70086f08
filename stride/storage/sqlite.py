"""The SQLite backend: opening the database file, migrating it, and every query."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from stride.config import Settings
from stride.errors import StorageBusy, StorageError
from stride.records import (
    BoardSlice,
    CheckinRow,
    Claim,
    ClubSettings,
    Highlight,
    Lease,
    MemberRecord,
    MemberUpdate,
    Reminder,
    ShardSet,
)
from stride.streaks import StreakState

from . import migrations
from .boards import board_query, page_sql, rank_sql, ranked
from .club_week import WeekStore, follow_checkin
from .errors_wrap import storage_errors
from .interface import FiringResult, Plan
from .rows import (
    MEMBER_COLUMNS,
    REMINDER_COLUMNS,
    REMINDER_INSERTED,
    iso,
    member_record,
    reminder_values,
)
from .runs import Query, RunStore

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_MS = Settings.database_busy_timeout_ms  # when no setting is passed (tools, tests)
CONNECTION_WAIT_MS = 50  # SQLite's own wait per attempt on the bot's shared connection
RETRY_EVERY = 0.025  # seconds between attempts while the database is locked
BUSY_EPISODE_GAP = 0.5  # seconds without a refusal after which a lock counts as a new one

PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    # A check-in writes ~100 KB to the WAL (its row, the board indexes, the log, the counts);
    # after a burst, the next reset of the WAL trims the file back to this size (64 MiB:
    # large enough that steady use never trims it, since growing the file again slows commits).
    "PRAGMA journal_size_limit = 67108864",
)
# "full": every commit is flushed to disk before it is acknowledged, so it survives a power
# loss or an OS crash. "normal": a crash of the bot (even kill -9) loses nothing either, but a
# power loss may take back the last commits (never corrupts); a check-in is ~0.35 ms faster.
SYNC_MODES = ("full", "normal")
CHECKPOINT_EVERY = 10.0  # seconds between WAL checkpoints, made off the commands' path


def is_busy(error: BaseException) -> bool:
    """Whether `error` is SQLite refusing because another connection holds a lock."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(error, sqlite3.OperationalError) and code is not None and (
        (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    )


def _translated(error: sqlite3.Error) -> StorageError:
    return (StorageBusy if is_busy(error) else StorageError)(str(error))


# Every public coroutine (and async generator) of the class raises the domain's
# StorageError / StorageBusy instead of SQLite's own errors, so no caller knows SQLite.
_storage_errors = storage_errors((sqlite3.Error,), _translated)


def prepare(path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> list[str]:
    """Create the file if needed, switch it to WAL, and apply pending migrations (blocking)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        migrations.refuse_newer(conn)  # before WAL mode: a refused file stays as it was
        for pragma in PRAGMAS:
            conn.execute(pragma)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            log.warning("SQLite refused WAL mode for %s (got %s)", path, mode)
        return migrations.apply(conn)
    finally:
        conn.close()


@_storage_errors
class _SqliteRuns(RunStore):
    """The /runs rows, raising the domain's storage errors."""


@_storage_errors
class _SqliteWeek(WeekStore):
    """The recap's and nudges' rows, raising the domain's storage errors."""


@_storage_errors
class SqliteStorage:
    """Async access to Stride's SQLite database. Owns one connection; writes are transactions.

    While another process holds the write lock, writes try again for up to `busy_timeout_ms`,
    then raise StorageBusy (nothing written); other SQLite errors become StorageError. The
    waiting happens here, between attempts, not inside SQLite: the shared connection keeps
    serving reads meanwhile.
    """

    shared = False  # one process owns the file

    def __init__(self, path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS,
                 sync: str = "full") -> None:
        if sync not in SYNC_MODES:
            raise ValueError(f"sync must be one of {SYNC_MODES}, not {sync!r}")
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.pragmas = (*PRAGMAS, f"PRAGMA synchronous = {sync.upper()}")
        self._conn: aiosqlite.Connection | None = None
        # Small indexed reads run inline on the event loop's thread, on a connection of their
        # own: a read that touches a few cached pages takes microseconds, several times less
        # than a hop to aiosqlite's thread and back. Writes and scans still go to the thread.
        self._reader: sqlite3.Connection | None = None
        self._checkpoints: asyncio.Task[None] | None = None
        # Multi-statement transactions share the one connection with everything else; this
        # lock keeps other writes out of them, so a rollback can only undo its own work.
        self._write = asyncio.Lock()
        self._busy_since: float | None = None  # when writes began to be refused (loop time)
        self._busy_seen = 0.0  # the latest refusal
        self.runs: RunStore = _SqliteRuns(self._named, self._named_transaction)
        self.week: WeekStore = _SqliteWeek(self._named, self._named_transaction)

    @property
    def where(self) -> str:
        return str(self.path)

    async def open(self) -> None:
        applied = await asyncio.to_thread(prepare, self.path, self.busy_timeout_ms)
        if applied:
            log.info("Database %s: applied migrations %s", self.path, ", ".join(applied))
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        wait = min(CONNECTION_WAIT_MS, self.busy_timeout_ms)
        for pragma in (f"PRAGMA busy_timeout = {wait}", *self.pragmas):
            await self._conn.execute(pragma)
        self._reader = sqlite3.connect(self.path, isolation_level=None)
        self._reader.execute("PRAGMA busy_timeout = 0")  # never wait on the event loop
        self._reader.execute("PRAGMA query_only = ON")
        # A commit that happens to trigger SQLite's automatic checkpoint waits for it (10+ ms);
        # checkpoints run from a background task on their own connection instead.
        await self._conn.execute("PRAGMA wal_autocheckpoint = 0")
        self._checkpoints = asyncio.create_task(self._checkpoint_loop(), name="stride-wal")

    async def close(self, timeout: float | None = None) -> None:
        """Close the connection once the write or transaction in progress, if any, has finished
        (waiting at most `timeout` seconds; one still unfinished then is rolled back by the
        close, never half-written). Later calls find the storage closed."""
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            await asyncio.gather(self._checkpoints, return_exceptions=True)
            self._checkpoints = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._conn is None:
            return
        try:
            await asyncio.wait_for(self._write.acquire(), timeout)
            holding = True
        except TimeoutError:
            holding = False
            log.warning("Closing the database with a write unfinished after %.1f s: it is "
                        "rolled back, nothing half-written", timeout)
        try:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                await conn.close()  # the last connection to close checkpoints the WAL itself
        finally:
            if holding:
                self._write.release()

    def _checkpoint(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # never waits for other connections
        finally:
            conn.close()

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY)
            try:
                await asyncio.to_thread(self._checkpoint)
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint failed (will retry): %s", exc)

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("Storage is not open")
        return self._conn

    async def _attempt(self, write: Callable[[], Awaitable[T]]) -> T:
        """Run `write` (one statement, or BEGIN), again while another process holds the lock.

        Gives up with StorageBusy once the database has been locked for `busy_timeout_ms`,
        counted from the first refusal of this lock episode: writes queued behind one that
        gave up fail at once, so every member waiting on the lock hears back in time. A refused
        statement wrote nothing.
        """
        loop = asyncio.get_running_loop()
        while True:
            try:
                result = await write()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                now = loop.time()
                if self._busy_since is None or now - self._busy_seen > BUSY_EPISODE_GAP:
                    self._busy_since = now  # a new lock episode
                self._busy_seen = now
                if now + RETRY_EVERY - self._busy_since >= self.busy_timeout_ms / 1000:
                    raise StorageBusy(str(exc)) from exc
                await asyncio.sleep(RETRY_EVERY)
            else:
                self._busy_since = None
                return result

    # Each call below is one hop to the database thread (execute + fetch together): a hop
    # costs far more than an indexed read, so no cursor is kept open across awaits.
    async def _rows(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def _row(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        return next(iter(await self._rows(sql, params)), None)

    async def _lookup(self, sql: str, params: Any = ()) -> Sequence[Sequence[Any]]:
        """A read of a few rows found through an index (never a scan): inline, unless a lock
        is in the way (then on the database thread, which waits its turn)."""
        if self._reader is not None:
            try:
                return self._reader.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
        return await self._rows(sql, params)

    async def _rowcount(self, sql: str, params: Any) -> int:
        cursor = await self.conn.execute(sql, params)
        return cursor.rowcount

    async def _named(self, sql: str, params: Mapping[str, object]) -> Sequence[Sequence[Any]]:
        return await self._rows(sql, params)

    @contextlib.asynccontextmanager
    async def _named_transaction(self) -> AsyncIterator[Query]:
        async with self.transaction() as conn:
            async def query(sql: str, params: Mapping[str, object]) -> Sequence[Sequence[Any]]:
                return list(await conn.execute_fetchall(sql, params))
            yield query

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error), with other writes held off."""
        async with self._write:
            await self._attempt(lambda: self.conn.execute("BEGIN IMMEDIATE"))
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    async def write(self, sql: str, params: Any = ()) -> int:
        """One write statement on its own (not inside another task's transaction); returns
        how many rows it changed."""
        async with self._write:
            return await self._attempt(lambda: self._rowcount(sql, params))

    async def write_returning(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        """Like `write`, for a statement with RETURNING: its first row (None: no row)."""
        async with self._write:
            return await self._attempt(lambda: self._row(sql, params))

    async def schema_version(self) -> int:
        row = await self._row("PRAGMA user_version")
        return int(row[0]) if row else 0

    # --- clubs -----------------------------------------------------------------------------

    async def club_settings(self, guild_id: int) -> ClubSettings:
        rows = await self._lookup(
            "SELECT timezone, rest_days FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return ClubSettings(*rows[0]) if rows else ClubSettings()

    async def save_club_settings(self, guild_id: int, settings: ClubSettings) -> None:
        await self.write(
            "INSERT INTO guild_settings (guild_id, timezone, rest_days) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET timezone = excluded.timezone, "
            "rest_days = excluded.rest_days, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            (guild_id, settings.timezone, settings.rest_days),
        )

    # --- members and check-ins ------------------------------------------------------------------

    async def member(self, guild_id: int, user_id: int) -> tuple[ClubSettings, MemberRecord]:
        """The club's settings and the member's stored figures, in one round trip."""
        [row] = await self._lookup(
            f"SELECT g.timezone, g.rest_days, {MEMBER_COLUMNS} "
            "FROM (SELECT ? AS gid, ? AS uid) AS k "
            "LEFT JOIN guild_settings AS g ON g.guild_id = k.gid "
            "LEFT JOIN members AS m ON m.guild_id = k.gid AND m.user_id = k.uid",
            (guild_id, user_id),
        )
        club = ClubSettings(row[0], row[1]) if row[1] is not None else ClubSettings()
        return club, member_record(row[2:])

    async def member_days(self, guild_id: int, user_id: int, since: date
                          ) -> tuple[ClubSettings, MemberRecord, list[date]]:
        """`member`, and the member's check-in days from `since` on (two inline reads)."""
        club, member = await self.member(guild_id, user_id)
        return club, member, await self.checkin_days(guild_id, user_id, since)

    async def save_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        expected: StreakState | None,
        state: StreakState,
        rest_days: int,
        breaks_at: int | None,
        at: str | None = None,
        what: str | None = None,
        highlights: Sequence[Highlight] = (),
        nudge_due: int | None = None,
        move_nudge: bool = False,
    ) -> bool:
        """Write the member's figures if they still are `expected` (None: no row yet).

        One statement: triggers append (or take back) the check-in in the log. With the day's
        `highlights` or a nudge to move (`move_nudge`, to `nudge_due`), those are written in
        the same transaction. Returns False when another write got there first; the caller
        re-reads and decides again.
        """
        values = {
            "guild": guild_id, "user": user_id, "last_day": iso(state.last_day), "at": at,
            "what": what, "run": state.run, "best": state.best, "total": state.total,
            "week_key": state.week_key, "week_count": state.week_count,
            "month_key": state.month_key, "month_count": state.month_count,
            "breaks_at": breaks_at, "rest_days": rest_days,
        }
        if expected is None:
            guard = "FALSE"
        else:
            values.update(exp_day=iso(expected.last_day), exp_total=expected.total)
            guard = "members.last_day IS :exp_day AND members.total = :exp_total"
        sql = (
            "INSERT INTO members (guild_id, user_id, last_day, last_at, last_what, run, "
            "best, total, week_key, week_count, month_key, month_count, breaks_at, rest_days) "
            "VALUES (:guild, :user, :last_day, :at, :what, :run, :best, :total, :week_key, "
            ":week_count, :month_key, :month_count, :breaks_at, :rest_days) "
            "ON CONFLICT (guild_id, user_id) DO UPDATE SET last_day = excluded.last_day, "
            "last_at = COALESCE(excluded.last_at, members.last_at), "
            "last_what = CASE WHEN excluded.last_at IS NULL THEN members.last_what "
            "ELSE excluded.last_what END, "
            "run = excluded.run, best = excluded.best, total = excluded.total, "
            "week_key = excluded.week_key, week_count = excluded.week_count, "
            "month_key = excluded.month_key, month_count = excluded.month_count, "
            "breaks_at = excluded.breaks_at, rest_days = excluded.rest_days, present = 1 "
            f"WHERE {guard} RETURNING total"
        )
        if not highlights and not move_nudge:
            return await self.write_returning(sql, values) is not None
        async with self._named_transaction() as query:  # the row and what follows from it
            saved = bool(await query(sql, values))
            if saved:
                await follow_checkin(query, guild_id, user_id, state.last_day, highlights,
                                     nudge_due, move_nudge)
        return saved

    async def checkin_days(
        self, guild_id: int, user_id: int, since: date | None = None
    ) -> list[date]:
        """The member's check-in days, oldest first (from `since` on, if given)."""
        return [date.fromisoformat(r[0]) for r in await self._lookup(
            "SELECT day FROM checkins WHERE guild_id = ? AND user_id = ? AND day >= ? "
            "ORDER BY day",
            (guild_id, user_id, iso(since) or ""),
        )]

    async def checkins(self, guild_id: int, user_id: int) -> list[CheckinRow]:
        return [CheckinRow(date.fromisoformat(r[0]), r[1], r[2]) for r in await self._rows(
            "SELECT day, at, what FROM checkins WHERE guild_id = ? AND user_id = ? ORDER BY day",
            (guild_id, user_id),
        )]

    async def set_member_timezone(
        self, guild_id: int, user_id: int, timezone: str | None, breaks_at: int | None
    ) -> None:
        await self.write(
            "INSERT INTO members (guild_id, user_id, timezone, breaks_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (guild_id, user_id) DO UPDATE SET timezone = excluded.timezone, "
            "breaks_at = excluded.breaks_at",
            (guild_id, user_id, timezone, breaks_at),
        )

    async def set_present(self, guild_id: int, user_id: int, present: bool) -> None:
        """Mark a member as in the server or gone (gone members leave the boards)."""
        await self.write(
            "UPDATE members SET present = ? WHERE guild_id = ? AND user_id = ?",
            (int(present), guild_id, user_id),
        )

    async def forget_member(self, guild_id: int, user_id: int) -> int:
        """Delete every row about the member in this server; returns check-ins removed."""
        async with self.transaction() as conn:
            row = await self._row(
                "DELETE FROM members WHERE guild_id = ? AND user_id = ? RETURNING total",
                (guild_id, user_id),
            )
            for table in ("reminders", "run_dm_members"):  # DM reminders and run DMs
                await conn.execute(
                    f"DELETE FROM {table} WHERE guild_id = ? AND user_id = ?"
                    + (" AND kind = 'dm'" if table == "reminders" else ""),
                    (guild_id, user_id),
                )
            # The DM channel is the member's across servers: forget it when nothing uses it.
            await conn.execute(
                "DELETE FROM dm_channels WHERE user_id = ?1 AND NOT EXISTS "
                "(SELECT 1 FROM reminders WHERE kind = 'dm' AND user_id = ?1)",
                (user_id,),
            )
        return int(row[0]) if row else 0

    async def members_of(self, guild_id: int) -> list[tuple[int, str | None]]:
        """(user id, own zone) of every member with a row in this server."""
        return [(r[0], r[1]) for r in await self._rows(
            "SELECT user_id, timezone FROM members WHERE guild_id = ?", (guild_id,)
        )]

    async def guild_days(self, guild_id: int) -> AsyncIterator[tuple[int, date]]:
        """Every check-in day in the server as (user id, day), grouped by member, in order."""
        async with self.conn.execute(
            "SELECT user_id, day FROM checkins WHERE guild_id = ? ORDER BY user_id, day",
            (guild_id,),
        ) as cur:
            cur.arraysize = 10_000
            while rows := await cur.fetchmany():
                for user_id, day in rows:
                    yield user_id, date.fromisoformat(day)

    async def rewrite_members(self, guild_id: int, updates: list[MemberUpdate]) -> int:
        """Store recomputed figures for many members in one transaction; returns rows changed.

        Each row is guarded by the figures it was computed from, so a member who checked in
        meanwhile keeps that newer row (it is then recomputed on their next visit).
        """
        rows = [
            {"guild": guild_id, "user": u.user_id, "exp_day": iso(u.state.last_day),
             "exp_total": u.state.total, "run": u.state.run, "best": u.state.best,
             "breaks_at": u.breaks_at, "rest_days": u.rest_days}
            for u in updates
        ]
        return await asyncio.to_thread(self._rewrite_members, rows)

    def _rewrite_members(self, rows: Sequence[Mapping[str, object]]) -> int:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            for pragma in (f"PRAGMA busy_timeout = {self.busy_timeout_ms}", *self.pragmas):
                conn.execute(pragma)
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.executemany(
                    "UPDATE members SET run = :run, best = :best, breaks_at = :breaks_at, "
                    "rest_days = :rest_days WHERE guild_id = :guild AND user_id = :user "
                    "AND last_day IS :exp_day AND total = :exp_total",
                    rows,
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return cur.rowcount
        finally:
            conn.close()

    # --- reminders ------------------------------------------------------------------------

    async def add_reminder(self, r: Reminder) -> Reminder:
        """Store a new reminder (a member's DM reminder replaces their earlier one)."""
        values = {**reminder_values(r)}
        row = await self.write_returning(
            f"INSERT INTO reminders ({', '.join(REMINDER_INSERTED)}) "
            f"VALUES ({', '.join(f':{f}' for f in REMINDER_INSERTED)}) "
            "ON CONFLICT (guild_id, user_id) WHERE kind = 'dm' AND event_id IS NULL "
            "AND purpose IS NULL DO UPDATE SET "
            "at = excluded.at, days = excluded.days, timezone = excluded.timezone, "
            "next_due = excluded.next_due, paused = NULL "
            f"RETURNING {REMINDER_COLUMNS}",
            values,
        )
        assert row is not None
        return Reminder(*row)

    async def reminder(self, reminder_id: int) -> Reminder | None:
        rows = await self._lookup(
            f"SELECT {REMINDER_COLUMNS} FROM reminders WHERE id = ?", (reminder_id,)
        )
        return Reminder(*rows[0]) if rows else None

    async def reminders(self, guild_id: int, kind: str = "channel") -> list[Reminder]:
        return [Reminder(*row) for row in await self._rows(
            f"SELECT {REMINDER_COLUMNS} FROM reminders WHERE guild_id = ? AND kind = ? "
            "AND event_id IS NULL AND purpose IS NULL ORDER BY id",
            (guild_id, kind),
        )]

    async def dm_reminder(self, guild_id: int, user_id: int) -> Reminder | None:
        rows = await self._lookup(
            f"SELECT {REMINDER_COLUMNS} FROM reminders "
            "WHERE guild_id = ? AND user_id = ? AND kind = 'dm' "
            "AND event_id IS NULL AND purpose IS NULL",
            (guild_id, user_id),
        )
        return Reminder(*rows[0]) if rows else None

    async def delete_reminder(self, reminder_id: int) -> bool:
        return await self.write("DELETE FROM reminders WHERE id = ?", (reminder_id,)) > 0

    async def schedule_reminder(
        self, reminder_id: int, next_due: int | None, paused: str | None
    ) -> None:
        """Set when a reminder fires next, or pause it (next_due None) with a reason."""
        await self.write(
            "UPDATE reminders SET next_due = ?, paused = ? WHERE id = ?",
            (next_due, paused, reminder_id),
        )

    async def next_due(self, shards: ShardSet | None = None) -> int | None:
        """When the earliest active reminder is due (unix time), if any."""
        del shards  # one process owns the file: every reminder is its own
        row = await self._row(
            "SELECT MIN(next_due) FROM reminders WHERE next_due IS NOT NULL"
        )
        return row[0] if row else None

    async def claim_due(
        self, now: int, limit: int, plan: Plan, lease: Lease, *,
        shards: ShardSet | None = None, adopt_before: int | None = None,
    ) -> list[Claim]:
        del shards, adopt_before  # one process owns the file: every reminder is its own
        async with self.transaction() as conn:  # the write lock: nobody claims meanwhile
            due = [Reminder(*row) for row in await self._rows(
                f"SELECT {REMINDER_COLUMNS} FROM reminders "
                "WHERE next_due IS NOT NULL AND next_due <= ? ORDER BY next_due, id LIMIT ?",
                (now, limit),
            )]
            if not due:
                return []
            claims, next_due = plan(due)
            ids = ",".join(str(c.reminder.id) for c in claims)
            known = {(r[0], r[1]) for r in await self._rows(
                f"SELECT reminder_id, due_at FROM reminder_firings WHERE reminder_id IN ({ids})"
            )} if claims else set()
            fresh = [c for c in claims if (c.reminder.id, c.due_at) not in known]
            sent = {c.reminder.id for c in fresh if c.status == "claimed"}
            await conn.executemany(
                "INSERT INTO reminder_firings (reminder_id, due_at, status, owner, lease_until) "
                "VALUES (?, ?, ?, ?, ?)",
                [(c.reminder.id, c.due_at, c.status, lease.owner, lease.until) for c in fresh],
            )
            await conn.executemany(
                "UPDATE reminders SET next_due = ?, fired = fired + ? WHERE id = ?",
                [(next_due[r.id], int(r.id in sent), r.id) for r in due],
            )
        return fresh

    async def take_over(self, lease: Lease, now: int, *, everything: bool = False
                        ) -> list[Claim]:
        async with self.transaction():
            rows = await self._rows(
                "UPDATE reminder_firings SET owner = ?, lease_until = ? "
                "WHERE status = 'claimed' AND (? OR lease_until IS NULL OR lease_until < ?) "
                "RETURNING reminder_id, due_at, attempted_at",
                (lease.owner, lease.until, everything, now),
            )
            if not rows:
                return []
            found = {r[0]: Reminder(*r) for r in await self._rows(
                f"SELECT {REMINDER_COLUMNS} FROM reminders "
                f"WHERE id IN ({','.join(str(int(r[0])) for r in rows)})"
            )}
        return sorted(
            (Claim(found[rid], due, "claimed", attempted_at=attempted)
             for rid, due, attempted in rows),
            key=lambda c: (c.due_at, c.reminder.id),
        )

    async def watch(self, changed: Callable[[int], None]) -> None:
        """Nothing to hear: the one process owning the file knows what it changed."""

    async def next_lapse(self) -> int | None:
        row = await self._row(
            "SELECT MIN(lease_until) FROM reminder_firings WHERE status = 'claimed'")
        return row[0] if row else None

    async def renew(self, lease: Lease) -> int:
        return await self.write(
            "UPDATE reminder_firings SET lease_until = ? WHERE status = 'claimed' AND owner = ?",
            (lease.until, lease.owner),
        )

    async def release(self, owner: str) -> None:
        await self.write(
            "UPDATE reminder_firings SET lease_until = 0 WHERE status = 'claimed' AND owner = ?",
            (owner,),
        )

    async def finish_firings(self, results: list[FiringResult]) -> None:
        """Record how firings ended: (reminder id, due at, status, message id, detail)."""
        async with self.transaction() as conn:
            await conn.executemany(
                "UPDATE reminder_firings SET status = ?, message_id = ?, detail = ?, "
                "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                "WHERE reminder_id = ? AND due_at = ?",
                [(status, mid, detail, rid, due) for rid, due, status, mid, detail in results],
            )

    async def mark_attempted(self, firings: list[tuple[int, int]], at: int) -> None:
        """Record, durably and before the requests leave, that these firings (reminder id,
        due at) are being sent: if the process dies now, their outcome is unknown."""
        async with self.transaction() as conn:
            await conn.executemany(
                "UPDATE reminder_firings SET attempted_at = COALESCE(attempted_at, ?) "
                "WHERE reminder_id = ? AND due_at = ? AND status = 'claimed'",
                [(at, rid, due) for rid, due in firings],
            )

    async def firing_count(self, status: str | None = None) -> int:
        row = await self._row(
            "SELECT COUNT(*) FROM reminder_firings WHERE ?1 IS NULL OR status = ?1", (status,)
        )
        return int(row[0]) if row else 0

    async def dm_channel(self, user_id: int) -> int | None:
        rows = await self._lookup(
            "SELECT channel_id FROM dm_channels WHERE user_id = ?", (user_id,)
        )
        return rows[0][0] if rows else None

    async def save_dm_channel(self, user_id: int, channel_id: int) -> None:
        await self.write(
            "INSERT OR REPLACE INTO dm_channels (user_id, channel_id) VALUES (?, ?)",
            (user_id, channel_id),
        )

    # --- boards ---------------------------------------------------------------------------

    async def board(
        self, guild_id: int, user_id: int, board: str, period: str, *, now: int, week: str,
        month: str, offset: int, limit: int,
    ) -> BoardSlice:
        """A page of `board` over `period` (this `week` and `month` by their keys, streaks
        still alive at unix time `now`) and the caller's value and rank, in two queries.

        Ranks are competition ranks (ties share one): 1 + members with a greater value.
        """
        query = board_query(board, period)
        p = {"now": now, "week": week, "month": month, "guild": guild_id, "user": user_id,
             "offset": offset, "limit": limit + 1}
        page = [(r[0], r[1]) for r in await self._lookup(page_sql(query), p)]
        has_more, page = len(page) > limit, page[:limit]
        # With per-value counts a rank sums a few rows (inline); the streak boards count index
        # entries, which in a big club may be thousands (on the database thread).
        read_rank = self._lookup if query.counts else self._rows
        [(my_value, ahead, ahead_of_first)] = await read_rank(
            rank_sql(query), {**p, "first": page[0][1] if page else None})
        my_rank = None if my_value is None else ahead + 1
        return BoardSlice(ranked(page, offset, ahead_of_first), has_more, my_value, my_rank)




