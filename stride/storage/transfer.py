"""`bot.py migrate`: a SQLite database copied into an empty PostgreSQL one, then verified.

The copy is one PostgreSQL transaction, so it commits whole and verified or not at all: on
any failure the target keeps no row and migrate can simply be run again. The SQLite file is
held under an exclusive lock throughout, so a bot started meanwhile cannot write there what
the copy would miss; it is only read. Rows are streamed in batches (binary COPY), so a big
database never sits in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped, unused-ignore]

from stride.errors import StorageError

from . import postgres
from .migrations import SchemaError, available
from .pg_inspection import Unreachable, connect
from .sqlite import is_busy
from .transfer_plan import (
    MigrationError,
    MigrationRefused,
    Plan,
    Row,
    SourceTable,
    plan_table,
    source_tables,
)

BATCH = 10_000  # rows read from SQLite at a time
PROGRESS_EVERY = 2.0  # seconds between progress reports within a table
LOCK_WAIT_MS = 5000  # for Stride's tables in PostgreSQL, which nobody else should be using


@dataclass(frozen=True)
class Step:
    """Progress: `rows` of `total` in `table` copied or verified so far, in `seconds`."""

    phase: str  # "copy" or "verify"
    table: str
    rows: int
    total: int
    seconds: float

    @property
    def done(self) -> bool:
        return self.rows >= self.total


@dataclass(frozen=True)
class TableReport:
    name: str
    rows: int
    copy_seconds: float
    verify_seconds: float


@dataclass(frozen=True)
class MigrationReport:
    source: Path
    target: str  # the URL, password hidden
    applied: list[str]  # PostgreSQL migrations applied to the target first
    tables: list[TableReport]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


Progress = Callable[[Step], None]


async def migrate(sqlite_path: Path, url: str, progress: Progress | None = None
                  ) -> MigrationReport:
    """Copy the SQLite database at `sqlite_path` into the empty database at `url` and verify
    every row; raises MigrationRefused (nothing done) or MigrationError (rolled back)."""
    began = time.perf_counter()
    report = progress or (lambda step: None)
    source = lock_source(Path(sqlite_path))
    try:
        tables = source_tables(source)
        try:
            conn = await connect(url)
        except Unreachable as exc:
            raise MigrationRefused(str(exc)) from None
        try:
            await _refuse_rows(conn, tables, url)
            try:
                applied = await postgres.prepare(url)
            except SchemaError as exc:
                raise MigrationRefused(f"{postgres.redact(url)}: {exc}") from None
            except StorageError as exc:  # the server went away since we connected
                raise MigrationError(f"cannot set up the schema: {exc}") from exc
            copied = await _transfer(conn, source, tables, report)
            # Committed. VACUUM (outside any transaction) sets the visibility map: without
            # it, a board page deep in a big club was planned as a scan and a sort (40-70
            # ms) instead of an index-only read until autovacuum came by.
            await conn.execute(f"VACUUM (ANALYZE) {', '.join(_ident(t.name) for t in tables)}")
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise MigrationError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
    finally:
        source.close()
    return MigrationReport(Path(sqlite_path), postgres.redact(url), applied, copied,
                           time.perf_counter() - began)


def lock_source(path: Path) -> sqlite3.Connection:
    """The SQLite database, locked for this connection alone until it is closed; refuses a
    missing file, one another program has open (the bot), or one at another schema."""
    if not path.is_file():
        raise MigrationRefused(f"there is no SQLite database at {path} (check DATABASE_PATH).")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None,
                           check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        # Every open connection (the bot's, idle or not) holds a shared lock that this waits
        # for; exclusive locking mode then keeps the lock until we close.
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        conn.close()
        if is_busy(exc):
            raise MigrationRefused(
                f"{path} is in use by another program: is the bot running? Stop the bot first "
                "(and any other program using the file), then run migrate again.") from None
        raise MigrationRefused(f"cannot use {path} ({exc}): is it Stride's SQLite database, "
                               "and are you the user the bot runs as?") from None
    latest = available("sqlite")[-1].version
    if version != latest:
        conn.close()
        raise MigrationRefused(
            f"{path} is at schema version {version}; this Stride's is {latest}. " + (
                "Start the bot once on SQLite (without DATABASE_URL) to upgrade it, stop it, "
                "then run migrate again." if version < latest else
                "It was written by a newer Stride: upgrade Stride first."))
    return conn


async def _refuse_rows(conn: asyncpg.Connection, tables: list[SourceTable], url: str) -> None:
    """Refuse a target where any of Stride's tables already holds a row."""
    taken = [t.name for t in tables if await _has_rows(conn, t.name)]
    if taken:
        raise MigrationRefused(
            f"{postgres.redact(url)} already holds Stride data (rows in {', '.join(taken)}); "
            "migrate copies only into an empty database, and changed nothing. To start over, "
            "drop and create it again (dropdb; createdb -O USER DATABASE) and run migrate again.")


async def _has_rows(conn: asyncpg.Connection, table: str) -> bool:
    if await conn.fetchval("SELECT to_regclass($1)", _ident(table)) is None:
        return False
    return bool(await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_ident(table)})"))


async def _transfer(conn: asyncpg.Connection, source: sqlite3.Connection,
                    tables: list[SourceTable], progress: Progress) -> list[TableReport]:
    """Copy and verify every table in one transaction; the user triggers (which derive
    `checkins` and `board_counts` from `members`) are off meanwhile: the copies are the truth."""
    async with conn.transaction():
        for setting in ("statement_timeout = 0", "idle_in_transaction_session_timeout = 0",
                        f"lock_timeout = {LOCK_WAIT_MS}"):
            await conn.execute(f"SET LOCAL {setting}")
        plans = [await plan_table(conn, t) for t in tables]
        try:
            await conn.execute(f"LOCK TABLE {', '.join(_ident(t.name) for t in tables)} "
                               "IN ACCESS EXCLUSIVE MODE")
        except asyncpg.LockNotAvailableError:
            raise MigrationRefused("Stride's tables in PostgreSQL are in use: is a bot running "
                                   "on PostgreSQL already? Stop it; nothing was copied.") from None
        for t in tables:  # again, under the lock: a bot started on PostgreSQL meanwhile
            if await _has_rows(conn, t.name):
                raise MigrationRefused(f"rows appeared in {t.name} meanwhile: is a bot running "
                                       "on PostgreSQL? Stop it; nothing was copied.")
        triggered = [p for p in plans if p.has_triggers]
        for p in triggered:
            await conn.execute(f"ALTER TABLE {_ident(p.table.name)} DISABLE TRIGGER USER")
        # A foreign key checked row by row costs more than the copy itself (45 s of 5 million
        # check-ins); added back afterwards, it checks every row in one join.
        keys = await conn.fetch(_FOREIGN_KEYS, [_ident(t.name) for t in tables])
        for key in keys:
            await conn.execute(f"ALTER TABLE {key['tab']} DROP CONSTRAINT {_ident(key['name'])}")
        copy_seconds = {}
        for p in plans:
            with _failing(f"copying {p.table.name}"):
                copy_seconds[p.table.name] = await _copy(conn, source, p, progress)
        for key in keys:
            with _failing(f"checking the foreign key {key['name']} of {key['tab']}"):
                await conn.execute(f"ALTER TABLE {key['tab']} ADD CONSTRAINT "
                                   f"{_ident(key['name'])} {key['definition']}")
        for p in plans:
            for column in p.sequences:
                await conn.execute(
                    f"SELECT setval($1::regclass, (SELECT COALESCE(MAX({_ident(column)}), 0) "
                    f"FROM {_ident(p.table.name)}) + 1, false)", p.sequences[column])
        for p in triggered:
            await conn.execute(f"ALTER TABLE {_ident(p.table.name)} ENABLE TRIGGER USER")
        report = [TableReport(p.table.name, p.table.rows, copy_seconds[p.table.name],
                              await _verify(conn, source, p, progress)) for p in plans]
        return report


_FOREIGN_KEYS = """
SELECT conrelid::regclass::text AS tab, conname AS name, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY($1::text[]::regclass[]) ORDER BY oid
"""


async def _copy(conn: asyncpg.Connection, source: sqlite3.Connection, plan: Plan,
                progress: Progress) -> float:
    began = time.perf_counter()
    async with contextlib.aclosing(_copy_rows(source, plan, progress)) as rows:
        await conn.copy_records_to_table(plan.table.name, columns=list(plan.table.columns),
                                         records=rows)
    return time.perf_counter() - began


async def _copy_rows(source: sqlite3.Connection, plan: Plan, progress: Progress
                     ) -> AsyncGenerator[Row, None]:
    """The table's rows, converted for PostgreSQL, one by one."""
    async with contextlib.aclosing(_batches(source, plan, "copy", progress)) as batches:
        async for rows, _ in batches:
            for row in rows:
                yield row


async def _verify(conn: asyncpg.Connection, source: sqlite3.Connection, plan: Plan,
                  progress: Progress) -> float:
    """Compare every row both sides hold, both read in primary-key order; returns seconds."""
    began = time.perf_counter()
    name = plan.table.name
    stored = await conn.fetchval(f"SELECT count(*) FROM {_ident(name)}")
    if stored != plan.table.rows:
        raise MigrationError(f"{name}: {plan.table.rows} rows in SQLite but {stored} copied")
    cursor = await conn.cursor(plan.select)
    async with contextlib.aclosing(_batches(source, plan, "verify", progress)) as batches:
        async for ours, done in batches:
            theirs = await cursor.fetch(len(ours))
            if theirs != ours:  # asyncpg's records compare equal to tuples of their values
                got = [tuple(r) for r in theirs] + [None] * (len(ours) - len(theirs))
                i = next(i for i, row in enumerate(ours) if row != got[i])
                raise MigrationError(f"{name}: row {done - len(ours) + i + 1} differs after the "
                                     f"copy: SQLite has {ours[i]!r}, PostgreSQL {got[i]!r}")
    return time.perf_counter() - began


async def _batches(source: sqlite3.Connection, plan: Plan, phase: str, progress: Progress
                   ) -> AsyncGenerator[tuple[list[Row], int], None]:
    """The table in primary-key order, converted, BATCH rows at a time with the count so far,
    read in a thread (the next batch while this one is sent); reports progress every
    PROGRESS_EVERY seconds and at the end."""
    cursor = source.execute(plan.table.select)

    def read() -> list[Row]:
        return plan.convert(cursor.fetchmany(BATCH))

    began = reported = time.perf_counter()
    done, total = 0, plan.table.rows
    pending: asyncio.Future[list[Row]] = asyncio.ensure_future(asyncio.to_thread(read))
    try:
        while rows := await pending:
            pending = asyncio.ensure_future(asyncio.to_thread(read))
            done += len(rows)
            now = time.perf_counter()
            if now - reported >= PROGRESS_EVERY and done < total:
                progress(Step(phase, plan.table.name, done, total, now - began))
                reported = now
            yield rows, done
    finally:
        await asyncio.gather(pending, return_exceptions=True)  # never two reads at once
        cursor.close()
    progress(Step(phase, plan.table.name, done, total, time.perf_counter() - began))


@contextlib.contextmanager
def _failing(what: str) -> Iterator[None]:
    """The driver's errors while doing `what` as a MigrationError that says so."""
    try:
        yield
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise MigrationError(f"{what}: {type(exc).__name__}: {exc}") from exc


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


__all__ = ["MigrationError", "MigrationRefused", "MigrationReport", "Progress", "Step",
           "TableReport", "migrate"]
