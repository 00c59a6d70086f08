"""The PostgreSQL backend: one database shared by several processes, through a connection pool.

Every call is as few round trips as it can be: one statement where SQLite needs several
(data-modifying CTEs, arrays through `unnest`), so a member's command waits on the network
at most three times. Reminders are claimed with `FOR UPDATE SKIP LOCKED`: two processes
claiming at once take different reminders and never wait for each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped, unused-ignore]

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
from .boards import board_query, numbered, page_and_rank_sql, ranked
from .club_week import WeekStore, follow_checkin
from .errors_wrap import storage_errors
from .interface import FiringResult, Plan
from .rows import (
    MEMBER_COLUMNS,
    REMINDER_COLUMNS,
    REMINDER_COLUMNS_R,
    REMINDER_INSERTED,
    iso,
    member_record,
    reminder_values,
)
from .runs import Query, RunStore

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = Settings.database_busy_timeout_ms  # longest wait for a lock or a connection
CONNECT_TIMEOUT = 10.0  # seconds to reach the server
SCHEDULE_CHANNEL = "stride_schedule"  # NOTIFY channel of schedule changes (migration 0007)
GUILD_DAYS_BATCH = 10_000  # rows per fetch from guild_days' server-side cursor
# Taken for the whole migration run, so processes starting together migrate one at a time
# (the second then finds nothing left to do). Any fixed number; this one spells "STRIDE".
MIGRATION_LOCK = 0x5354_5249_4445_0001
# What SQLite's strftime('%Y-%m-%dT%H:%M:%fZ', 'now') writes, so copied rows look the same.
NOW_TEXT = "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

# Errors a retry may well cure: a lock or a connection not had in time, a serialization
# failure or deadlock (the transaction was rolled back), a server that is starting up.
_BUSY = (
    asyncpg.SerializationError, asyncpg.DeadlockDetectedError, asyncpg.LockNotAvailableError,
    asyncpg.QueryCanceledError, asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError,
    TimeoutError,
)
_CAUGHT = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)


def _translated(error: BaseException) -> StorageError:
    kind = StorageBusy if isinstance(error, _BUSY) else StorageError
    return kind(str(error) or type(error).__name__)


_storage_errors = storage_errors(_CAUGHT, _translated)


def redact(url: str) -> str:
    """`url` with its password (in the user part or a ?password= parameter) as ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hosts = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}:***@{hosts}"
    query = "&".join(
        "password=***" if pair.split("=", 1)[0].lower() == "password" else pair
        for pair in parts.query.split("&")
    ) if parts.query else ""
    return urlunsplit(parts._replace(netloc=netloc, query=query))


async def schema_version(conn: Any) -> int:
    """The schema version recorded in the database (0: none yet, a new database)."""
    if await conn.fetchval("SELECT to_regclass('stride_schema')") is None:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM stride_schema"))


async def migrate(conn: Any, shipped: list[migrations.Migration] | None = None) -> list[str]:
    """Apply the pending migrations on `conn`; return their names.

    The run holds an advisory lock, so a second process starting now waits, then finds the
    schema current. Each migration commits with its version bump, or not at all. A database
    newer than `shipped` is refused (SchemaError) before anything is written.
    """
    shipped = migrations.available("postgresql") if shipped is None else shipped
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        current = await schema_version(conn)
        migrations.check_version(current, shipped)
        done: list[str] = []
        for migration in shipped:
            if migration.version <= current:
                continue
            try:
                async with conn.transaction():
                    if current == 0 and not done:
                        await conn.execute("CREATE TABLE IF NOT EXISTS stride_schema "
                                           "(version integer NOT NULL)")
                    await conn.execute(migration.sql)
                    await conn.execute("DELETE FROM stride_schema")
                    await conn.execute("INSERT INTO stride_schema (version) VALUES ($1)",
                                       migration.version)
            except asyncpg.PostgresError as exc:
                raise migrations.SchemaError(
                    f"migration {migration.name} failed: {exc}") from exc
            done.append(migration.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


async def prepare(url: str) -> list[str]:
    """Connect, apply the pending migrations, return their names (for the start, and for
    `bot.py check` / `migrate`). An unreachable server raises StorageError; a database newer
    than this Stride, or a migration that failed, SchemaError."""
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
        try:
            return await migrate(conn)
        finally:
            await conn.close()
    except _CAUGHT as exc:
        raise _translated(exc) from exc


@dataclass(frozen=True, slots=True)
class _Sql:
    """A statement written with :named parameters (`sql`), as PostgreSQL's $1, $2, ..."""

    text: str
    names: tuple[str, ...]
    sql: str

    @classmethod
    def of(cls, sql: str) -> _Sql:
        text, names = numbered(sql)
        return cls(text, tuple(names), sql)

    def args(self, values: Mapping[str, object]) -> list[object]:
        return [values[name] for name in self.names]


@functools.lru_cache(maxsize=256)
def _named_sql(sql: str) -> _Sql:
    return _Sql.of(sql)


async def _keep_session(conn: Any) -> None:
    """Given to the pool instead of its reset on release (RESET ALL, UNLISTEN, ...): Stride
    changes no session state, and the reset would cost a round trip per call."""


@_storage_errors
class _PostgresRuns(RunStore):
    """The /runs rows, raising the domain's storage errors."""


@_storage_errors
class _PostgresWeek(WeekStore):
    """The recap's and nudges' rows, raising the domain's storage errors."""


@_storage_errors
class PostgresStorage:
    """Async access to Stride's PostgreSQL database through a pool of `pool_size` connections.

    A lock or a free connection not had within `busy_timeout_ms` raises StorageBusy (nothing
    written), as do deadlocks and serialization failures; other errors StorageError.
    """

    shared = True  # several processes may use the database at once

    def __init__(self, url: str, pool_size: int = 10,
                 busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, not {pool_size}")
        self.url = url
        self.pool_size = pool_size
        self.busy_timeout_ms = busy_timeout_ms
        self._pool: Any = None
        self._listener: Any = None  # the connection that LISTENs for schedule changes
        self.runs: RunStore = _PostgresRuns(self._named, self._named_transaction)
        self.week: WeekStore = _PostgresWeek(self._named, self._named_transaction)

    @property
    def where(self) -> str:
        return redact(self.url)

    async def open(self) -> None:
        applied = await prepare(self.url)
        if applied:
            log.info("Database %s: applied migrations %s", self.where, ", ".join(applied))
        self._pool = await asyncpg.create_pool(
            self.url, min_size=1, max_size=self.pool_size, reset=_keep_session,
            timeout=CONNECT_TIMEOUT,
            server_settings={"application_name": "stride",
                             "lock_timeout": str(int(self.busy_timeout_ms))},
        )

    async def close(self, timeout: float | None = None) -> None:
        """Close the pool once the calls in progress have given their connections back
        (waiting at most `timeout` seconds; the connections still in use then are cut, and
        the server rolls back what they had begun). Later calls find the storage closed."""
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with contextlib.suppress(Exception):  # closing: a dead connection is fine too
                await asyncio.wait_for(listener.close(), timeout)
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        try:
            await asyncio.wait_for(pool.close(), timeout)
        except TimeoutError:
            log.warning("Closing the database with a write unfinished after %.1f s: it is "
                        "rolled back, nothing half-written", timeout)
            pool.terminate()

    async def watch(self, changed: Callable[[int], None]) -> None:
        """LISTEN on a connection of its own: `changed(earliest next_due)` whenever any
        process adds or moves reminders (migration 0007 sends the notices)."""
        if self._listener is not None:
            return
        self._listener = await asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT,
                                               server_settings={"application_name": "stride"})

        def notice(connection: object, pid: int, channel: str, payload: str) -> None:
            with contextlib.suppress(ValueError):
                changed(int(payload))

        await self._listener.add_listener(SCHEDULE_CHANNEL, notice)

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise RuntimeError("Storage is not open")
        return self._pool

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A connection of the pool, waited for at most the busy timeout."""
        async with self.pool.acquire(timeout=self.busy_timeout_ms / 1000) as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def transaction(self, **options: Any) -> AsyncIterator[Any]:
        """A connection inside BEGIN ... COMMIT (ROLLBACK on error)."""
        async with self.connection() as conn, conn.transaction(**options):
            yield conn

    async def _named(self, sql: str, params: Mapping[str, object]) -> Sequence[Sequence[Any]]:
        statement = _named_sql(sql)
        return await self._rows(statement.text, *statement.args(params))

    @contextlib.asynccontextmanager
    async def _named_transaction(self) -> AsyncIterator[Query]:
        async with self.transaction() as conn:
            async def query(sql: str, params: Mapping[str, object]) -> Sequence[Sequence[Any]]:
                statement = _named_sql(sql)
                return list(await conn.fetch(statement.text, *statement.args(params)))
            yield query

    async def _rows(self, sql: str, *args: object) -> list[Any]:
        async with self.connection() as conn:
            return list(await conn.fetch(sql, *args))

    async def _row(self, sql: str, *args: object) -> Any:
        async with self.connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def _write(self, sql: str, *args: object) -> int:
        """One statement; how many rows it changed."""
        async with self.connection() as conn:
            status = await conn.execute(sql, *args)
        return int(str(status).rsplit(" ", 1)[-1])

    async def schema_version(self) -> int:
        async with self.connection() as conn:
            return await schema_version(conn)

    # --- clubs -----------------------------------------------------------------------------

    async def club_settings(self, guild_id: int) -> ClubSettings:
        row = await self._row(
            "SELECT timezone, rest_days FROM guild_settings WHERE guild_id = $1", guild_id)
        return ClubSettings(row[0], row[1]) if row else ClubSettings()

    async def save_club_settings(self, guild_id: int, settings: ClubSettings) -> None:
        await self._write(
            "INSERT INTO guild_settings (guild_id, timezone, rest_days) VALUES ($1, $2, $3) "
            "ON CONFLICT (guild_id) DO UPDATE SET timezone = excluded.timezone, "
            f"rest_days = excluded.rest_days, updated_at = {NOW_TEXT}",
            guild_id, settings.timezone, settings.rest_days,
        )

    # --- members and check-ins -------------------------------------------------------------

    async def member(self, guild_id: int, user_id: int) -> tuple[ClubSettings, MemberRecord]:
        """The club's settings and the member's stored figures, in one round trip."""
        row = await self._row(
            f"SELECT g.timezone, g.rest_days, {MEMBER_COLUMNS} "
            "FROM (SELECT $1::bigint AS gid, $2::bigint AS uid) AS k "
            "LEFT JOIN guild_settings AS g ON g.guild_id = k.gid "
            "LEFT JOIN members AS m ON m.guild_id = k.gid AND m.user_id = k.uid",
            guild_id, user_id,
        )
        club = ClubSettings(row[0], row[1]) if row[1] is not None else ClubSettings()
        return club, member_record(list(row)[2:])

    async def member_days(self, guild_id: int, user_id: int, since: date
                          ) -> tuple[ClubSettings, MemberRecord, list[date]]:
        """`member`, and the member's check-in days from `since` on, in one round trip."""
        row = await self._row(
            f"SELECT g.timezone, g.rest_days, {MEMBER_COLUMNS}, "
            "ARRAY(SELECT c.day FROM checkins AS c WHERE c.guild_id = k.gid "
            "AND c.user_id = k.uid AND c.day >= $3 ORDER BY c.day) "
            "FROM (SELECT $1::bigint AS gid, $2::bigint AS uid) AS k "
            "LEFT JOIN guild_settings AS g ON g.guild_id = k.gid "
            "LEFT JOIN members AS m ON m.guild_id = k.gid AND m.user_id = k.uid",
            guild_id, user_id, since.isoformat(),
        )
        fields = list(row)
        club = ClubSettings(fields[0], fields[1]) if fields[1] is not None else ClubSettings()
        return (club, member_record(fields[2:-1]),
                [date.fromisoformat(day) for day in fields[-1]])

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

        One statement (the conflict's guard is checked against the latest committed row, so
        of two writers from the same figures one wins); triggers append (or take back) the
        check-in in the log. With the day's `highlights` or a nudge to move (`move_nudge`, to
        `nudge_due`), those are written in the same transaction. False when another write got
        there first.
        """
        values: dict[str, object] = {
            "guild": guild_id, "user": user_id, "last_day": iso(state.last_day), "at": at,
            "what": what, "run": state.run, "best": state.best, "total": state.total,
            "week_key": state.week_key, "week_count": state.week_count,
            "month_key": state.month_key, "month_count": state.month_count,
            "breaks_at": breaks_at, "rest_days": rest_days,
        }
        if expected is None:
            save = _SAVE_NEW
        else:
            save = _SAVE_IF
            values.update(exp_day=iso(expected.last_day), exp_total=expected.total)
        if not highlights and not move_nudge:
            return await self._row(save.text, *save.args(values)) is not None
        async with self._named_transaction() as query:  # the row and what follows from it
            saved = bool(await query(save.sql, values))
            if saved:
                await follow_checkin(query, guild_id, user_id, state.last_day, highlights,
                                     nudge_due, move_nudge)
        return saved

    async def checkin_days(
        self, guild_id: int, user_id: int, since: date | None = None
    ) -> list[date]:
        """The member's check-in days, oldest first (from `since` on, if given)."""
        return [date.fromisoformat(r[0]) for r in await self._rows(
            "SELECT day FROM checkins WHERE guild_id = $1 AND user_id = $2 AND day >= $3 "
            "ORDER BY day",
            guild_id, user_id, iso(since) or "",
        )]

    async def checkins(self, guild_id: int, user_id: int) -> list[CheckinRow]:
        return [CheckinRow(date.fromisoformat(r[0]), r[1], r[2]) for r in await self._rows(
            "SELECT day, at, what FROM checkins WHERE guild_id = $1 AND user_id = $2 "
            "ORDER BY day",
            guild_id, user_id,
        )]

    async def set_member_timezone(
        self, guild_id: int, user_id: int, timezone: str | None, breaks_at: int | None
    ) -> None:
        await self._write(
            "INSERT INTO members (guild_id, user_id, timezone, breaks_at) "
            "VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (guild_id, user_id) DO UPDATE SET timezone = excluded.timezone, "
            "breaks_at = excluded.breaks_at",
            guild_id, user_id, timezone, breaks_at,
        )

    async def set_present(self, guild_id: int, user_id: int, present: bool) -> None:
        """Mark a member as in the server or gone (gone members leave the boards)."""
        await self._write(
            "UPDATE members SET present = $1 WHERE guild_id = $2 AND user_id = $3",
            int(present), guild_id, user_id,
        )

    async def forget_member(self, guild_id: int, user_id: int) -> int:
        """Delete every row about the member in this server; returns check-ins removed.
        One statement, so one transaction: the parts in WITH all happen, or none."""
        row = await self._row(
            "WITH gone AS (DELETE FROM members WHERE guild_id = $1 AND user_id = $2 "
            "RETURNING total), "
            "dms AS (DELETE FROM reminders WHERE guild_id = $1 AND user_id = $2 "
            "AND kind = 'dm' RETURNING id), "
            "run_dms AS (DELETE FROM run_dm_members WHERE guild_id = $1 AND user_id = $2), "
            # The DM channel is the member's across servers: forget it when nothing uses it
            # (the statement still sees the reminders it deletes: they are left out).
            "channel AS (DELETE FROM dm_channels WHERE user_id = $2 AND NOT EXISTS "
            "(SELECT 1 FROM reminders WHERE kind = 'dm' AND user_id = $2 "
            "AND id NOT IN (SELECT id FROM dms))) "
            "SELECT total FROM gone",
            guild_id, user_id,
        )
        return int(row[0]) if row else 0

    async def members_of(self, guild_id: int) -> list[tuple[int, str | None]]:
        """(user id, own zone) of every member with a row in this server."""
        return [(r[0], r[1]) for r in await self._rows(
            "SELECT user_id, timezone FROM members WHERE guild_id = $1", guild_id)]

    async def guild_days(self, guild_id: int) -> AsyncGenerator[tuple[int, date], None]:
        """Every check-in day in the server as (user id, day), grouped by member, in order:
        read through a server-side cursor, a batch at a time, in one read-only transaction
        (one consistent view however long the caller takes)."""
        async with self.transaction(readonly=True) as conn:
            cursor = await conn.cursor(
                "SELECT user_id, day FROM checkins WHERE guild_id = $1 ORDER BY user_id, day",
                guild_id,
            )
            while rows := await cursor.fetch(GUILD_DAYS_BATCH):
                for user_id, day in rows:
                    yield user_id, date.fromisoformat(day)

    async def rewrite_members(self, guild_id: int, updates: list[MemberUpdate]) -> int:
        """Store recomputed figures for many members in one statement; returns rows changed.

        Each row is guarded by the figures it was computed from, so a member who checked in
        meanwhile keeps that newer row (it is then recomputed on their next visit).
        """
        if not updates:
            return 0
        return await self._write(
            "UPDATE members AS m SET run = u.run, best = u.best, breaks_at = u.breaks_at, "
            "rest_days = u.rest_days "
            "FROM unnest($2::bigint[], $3::text[], $4::integer[], $5::integer[], "
            "$6::integer[], $7::bigint[], $8::integer[]) "
            "AS u(user_id, exp_day, exp_total, run, best, breaks_at, rest_days) "
            "WHERE m.guild_id = $1 AND m.user_id = u.user_id "
            "AND m.last_day IS NOT DISTINCT FROM u.exp_day AND m.total = u.exp_total",
            guild_id, [u.user_id for u in updates], [iso(u.state.last_day) for u in updates],
            [u.state.total for u in updates], [u.state.run for u in updates],
            [u.state.best for u in updates], [u.breaks_at for u in updates],
            [u.rest_days for u in updates],
        )

    # --- reminders -------------------------------------------------------------------------

    async def add_reminder(self, r: Reminder) -> Reminder:
        """Store a new reminder (a member's DM reminder replaces their earlier one)."""
        row = await self._row(_ADD_REMINDER.text, *_ADD_REMINDER.args(reminder_values(r)))
        return Reminder(*row)

    async def reminder(self, reminder_id: int) -> Reminder | None:
        row = await self._row(
            f"SELECT {REMINDER_COLUMNS} FROM reminders WHERE id = $1", reminder_id)
        return Reminder(*row) if row else None

    async def reminders(self, guild_id: int, kind: str = "channel") -> list[Reminder]:
        return [Reminder(*row) for row in await self._rows(
            f"SELECT {REMINDER_COLUMNS} FROM reminders WHERE guild_id = $1 AND kind = $2 "
            "AND event_id IS NULL AND purpose IS NULL ORDER BY id",
            guild_id, kind,
        )]

    async def dm_reminder(self, guild_id: int, user_id: int) -> Reminder | None:
        row = await self._row(
            f"SELECT {REMINDER_COLUMNS} FROM reminders "
            "WHERE guild_id = $1 AND user_id = $2 AND kind = 'dm' "
            "AND event_id IS NULL AND purpose IS NULL",
            guild_id, user_id,
        )
        return Reminder(*row) if row else None

    async def delete_reminder(self, reminder_id: int) -> bool:
        return await self._write("DELETE FROM reminders WHERE id = $1", reminder_id) > 0

    async def schedule_reminder(
        self, reminder_id: int, next_due: int | None, paused: str | None
    ) -> None:
        """Set when a reminder fires next, or pause it (next_due None) with a reason."""
        await self._write(
            "UPDATE reminders SET next_due = $1, paused = $2 WHERE id = $3",
            next_due, paused, reminder_id,
        )

    async def next_due(self, shards: ShardSet | None = None) -> int | None:
        """When the earliest active reminder (of servers on `shards`) is due: the first
        entry of the due index that passes the shard filter."""
        if shards is None:
            row = await self._row(
                "SELECT next_due FROM reminders WHERE next_due IS NOT NULL "
                "ORDER BY next_due LIMIT 1")
        else:
            row = await self._row(
                "SELECT next_due FROM reminders WHERE next_due IS NOT NULL "
                f"AND {_on_shards(1, 2)} "
                "ORDER BY next_due LIMIT 1",
                shards.count, list(shards.ids),
            )
        return int(row[0]) if row else None

    async def claim_due(
        self, now: int, limit: int, plan: Plan, lease: Lease, *,
        shards: ShardSet | None = None, adopt_before: int | None = None,
    ) -> list[Claim]:
        args: list[object] = [now, limit]
        if shards is None:
            where = "TRUE"
        else:
            where = f"({_on_shards(3, 4)} OR next_due < $5)"
            args += [shards.count, list(shards.ids), adopt_before]
        # Mostly nothing is due: one plain read says so, without BEGIN and COMMIT.
        if await self._row(_ANY_DUE.format(shards=where), *args) is None:
            return []
        async with self.transaction() as conn:
            due = [Reminder(*row) for row in await conn.fetch(_DUE.format(shards=where), *args)]
            if not due:
                return []
            claims, next_due = plan(due)
            recorded = {(r[0], r[1]) for r in await conn.fetch(
                _RECORD_CLAIMS,
                [c.reminder.id for c in claims], [c.due_at for c in claims],
                [c.status for c in claims], lease.owner, lease.until,
                [r.id for r in due], [next_due[r.id] for r in due],
            )}
        return [c for c in claims if (c.reminder.id, c.due_at) in recorded]

    async def take_over(self, lease: Lease, now: int, *, everything: bool = False
                        ) -> list[Claim]:
        """One statement: firings another process is handling right now (row locked) are
        skipped, not waited for."""
        rows = await self._rows(_TAKE_OVER, lease.owner, lease.until, everything, now)
        return [Claim(Reminder(*fields), due_at, "claimed", attempted_at=attempted)
                for *fields, due_at, attempted in map(tuple, rows)]

    async def next_lapse(self) -> int | None:
        row = await self._row(
            "SELECT MIN(lease_until) FROM reminder_firings WHERE status = 'claimed'")
        return None if row is None or row[0] is None else int(row[0])

    async def renew(self, lease: Lease) -> int:
        return await self._write(
            "UPDATE reminder_firings SET lease_until = $1 "
            "WHERE status = 'claimed' AND owner = $2",
            lease.until, lease.owner,
        )

    async def release(self, owner: str) -> None:
        await self._write(
            "UPDATE reminder_firings SET lease_until = 0 WHERE status = 'claimed' AND owner = $1",
            owner,
        )

    async def finish_firings(self, results: list[FiringResult]) -> None:
        """Record how firings ended: (reminder id, due at, status, message id, detail)."""
        # One row per firing, the last word kept (as SQLite's one UPDATE after another).
        final = list({(rid, due): (rid, due, *rest) for rid, due, *rest in results}.values())
        if not final:
            return
        await self._write(
            "UPDATE reminder_firings AS f SET status = u.status, message_id = u.message_id, "
            f"detail = u.detail, updated_at = {NOW_TEXT} "
            "FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[]) "
            "AS u(reminder_id, due_at, status, message_id, detail) "
            "WHERE f.reminder_id = u.reminder_id AND f.due_at = u.due_at",
            *([row[i] for row in final] for i in range(5)),
        )

    async def mark_attempted(self, firings: list[tuple[int, int]], at: int) -> None:
        """Record, durably and before the requests leave, that these firings (reminder id,
        due at) are being sent: if the process dies now, their outcome is unknown."""
        if not firings:
            return
        await self._write(
            "UPDATE reminder_firings AS f SET attempted_at = COALESCE(f.attempted_at, $3) "
            "FROM unnest($1::bigint[], $2::bigint[]) AS u(reminder_id, due_at) "
            "WHERE f.reminder_id = u.reminder_id AND f.due_at = u.due_at "
            "AND f.status = 'claimed'",
            [rid for rid, _ in firings], [due for _, due in firings], at,
        )

    async def firing_count(self, status: str | None = None) -> int:
        row = await self._row(
            "SELECT COUNT(*) FROM reminder_firings WHERE $1::text IS NULL OR status = $1",
            status,
        )
        return int(row[0])

    async def dm_channel(self, user_id: int) -> int | None:
        row = await self._row("SELECT channel_id FROM dm_channels WHERE user_id = $1", user_id)
        return int(row[0]) if row else None

    async def save_dm_channel(self, user_id: int, channel_id: int) -> None:
        await self._write(
            "INSERT INTO dm_channels (user_id, channel_id) VALUES ($1, $2) "
            "ON CONFLICT (user_id) DO UPDATE SET channel_id = excluded.channel_id",
            user_id, channel_id,
        )

    # --- boards ----------------------------------------------------------------------------

    async def board(
        self, guild_id: int, user_id: int, board: str, period: str, *, now: int, week: str,
        month: str, offset: int, limit: int,
    ) -> BoardSlice:
        """A page of `board` over `period` (this `week` and `month` by their keys, streaks
        still alive at unix time `now`) and the caller's value and rank, in one statement.

        Ranks are competition ranks (ties share one): 1 + members with a greater value.
        """
        sql = _board_sql(board, period)
        p: dict[str, object] = {"now": now, "week": week, "month": month, "guild": guild_id,
                                "user": user_id, "offset": offset, "limit": limit + 1}
        rows = await self._rows(sql.text, *sql.args(p))
        my_value, ahead, ahead_of_first = rows[0][2], rows[0][3], rows[0][4]
        page = sorted(((r[0], r[1]) for r in rows if r[0] is not None),
                      key=lambda row: (-row[1], row[0]))  # board order: value, then user id
        has_more, page = len(page) > limit, page[:limit]
        my_rank = None if my_value is None else int(ahead) + 1
        return BoardSlice(ranked(page, offset, int(ahead_of_first)), has_more, my_value,
                          my_rank)


@functools.cache
def _board_sql(board: str, period: str) -> _Sql:
    return _Sql.of(page_and_rank_sql(board_query(board, period)))




_SAVE = (
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
    "WHERE {guard} RETURNING total"
)
_SAVE_NEW = _Sql.of(_SAVE.format(guard="FALSE"))
_SAVE_IF = _Sql.of(_SAVE.format(
    guard="members.last_day IS NOT DISTINCT FROM :exp_day AND members.total = :exp_total"))

_ADD_REMINDER = _Sql.of(
    f"INSERT INTO reminders ({', '.join(REMINDER_INSERTED)}) "
    f"VALUES ({', '.join(f':{f}' for f in REMINDER_INSERTED)}) "
    "ON CONFLICT (guild_id, user_id) WHERE kind = 'dm' AND event_id IS NULL "
    "AND purpose IS NULL DO UPDATE SET "
    "at = excluded.at, days = excluded.days, timezone = excluded.timezone, "
    "next_due = excluded.next_due, paused = NULL "
    f"RETURNING {REMINDER_COLUMNS}"
)






def _on_shards(count: int, ids: int) -> str:
    """Servers on the shards given by parameters $count (how many in all) and $ids (this
    process's): Discord puts a server on shard (id >> 22) % count."""
    return f"((guild_id >> 22) % ${count}) = ANY(${ids}::bigint[])"


_DUE = (
    f"SELECT {REMINDER_COLUMNS} FROM reminders "
    "WHERE next_due IS NOT NULL AND next_due <= $1 AND {shards} "
    "ORDER BY next_due, id LIMIT $2 FOR UPDATE SKIP LOCKED"
)
_ANY_DUE = (
    "SELECT 1 FROM reminders WHERE next_due IS NOT NULL AND next_due <= $1 AND {shards} "
    "LIMIT LEAST($2::bigint, 1)"
)
# The planned firings, recorded unless recorded before (those come back: this call's), and
# every reminder found due moved on; `fired` counts only the sends recorded here.
_RECORD_CLAIMS = (
    "WITH recorded AS ("
    "INSERT INTO reminder_firings (reminder_id, due_at, status, owner, lease_until) "
    "SELECT c.reminder_id, c.due_at, c.status, $4, $5 "
    "FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS c(reminder_id, due_at, status) "
    "ON CONFLICT DO NOTHING RETURNING reminder_id, due_at, status), "
    "moved AS (UPDATE reminders AS r SET next_due = n.next_due, "
    "fired = r.fired + (EXISTS (SELECT 1 FROM recorded AS f WHERE f.reminder_id = r.id "
    "AND f.status = 'claimed'))::integer "
    "FROM unnest($6::bigint[], $7::bigint[]) AS n(id, next_due) WHERE r.id = n.id) "
    "SELECT reminder_id, due_at FROM recorded"
)
_TAKE_OVER = (
    "WITH taken AS (UPDATE reminder_firings AS f SET owner = $1, lease_until = $2 "
    "WHERE (f.reminder_id, f.due_at) IN (SELECT reminder_id, due_at FROM reminder_firings "
    "WHERE status = 'claimed' AND ($3::boolean OR lease_until IS NULL OR lease_until < $4) "
    "FOR UPDATE SKIP LOCKED) "
    "RETURNING f.reminder_id, f.due_at, f.attempted_at) "
    f"SELECT {REMINDER_COLUMNS_R}, t.due_at, t.attempted_at "
    "FROM taken AS t JOIN reminders AS r ON r.id = t.reminder_id "
    "ORDER BY t.due_at, t.reminder_id"
)
