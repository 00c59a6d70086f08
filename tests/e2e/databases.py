"""The database a test's Stride runs on, SQLite file or PostgreSQL database, read one way.

Tests state what they check in portable SQL with ``?`` placeholders; :class:`TestDatabase`
runs it on either backend, so the same test covers both (tests/e2e/conftest.py gives each
test that starts Stride one per backend)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from stride.storage import SqliteStorage, Storage

if TYPE_CHECKING:
    import asyncpg  # type: ignore[import-untyped, unused-ignore]

BACKENDS = ("sqlite", "postgresql")
#: Stride's tables (both schemas): what another process locks to hold up every write.
TABLES = ("guild_settings", "members", "checkins", "reminders", "reminder_firings",
          "dm_channels", "board_counts")
LEASE_SECONDS = "5"
Row = tuple[Any, ...]
Snapshot = dict[str, list[Row]]
_T = TypeVar("_T")
# A '?' placeholder outside quotes (a quoted string or name is matched whole and kept).
_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?")


def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1..$n`` (those inside quotes left alone)."""
    count = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() != "?":
            return match.group()
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(swap, sql)


def _plain(value: Any) -> Any:
    """A value as SQLite would give it back: booleans as 0/1, whole numerics as int."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _in_thread(work: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run ``work()`` on an event loop of its own in a worker thread: callable from sync
    helpers inside async tests, whose loop must neither block on it nor be reused."""
    result: list[_T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(work()))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=run, name="test-database", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


@dataclass(frozen=True)
class TestDatabase:
    """One test's database: the SQLite file at ``path``, or the PostgreSQL database at
    ``url`` (``path`` is then where the bot keeps its files, e.g. the figure cache)."""

    __test__ = False  # a test double, not a test class
    backend: str
    path: Path
    url: str | None = None

    def env(self) -> dict[str, str]:
        """The bot's database settings for it (empty values win over a developer's .env).
        PostgreSQL: a 5 s reminder lease (30 s by default), since a shared database lets a
        restarted bot take over what a killed one had claimed only once its lease ran out."""
        env = {"DATABASE_PATH": str(self.path), "DATABASE_URL": self.url or ""}
        if self.url is not None:
            env["REMINDER_LEASE_SECONDS"] = LEASE_SECONDS
        return env

    def storage(self) -> Storage:
        """A Storage on it, not yet opened: for seeding what a test starts from."""
        if self.url is None:
            return SqliteStorage(self.path)
        from stride.storage.postgres import PostgresStorage  # asyncpg only when used

        return PostgresStorage(self.url)

    @contextlib.asynccontextmanager
    async def opened(self) -> AsyncIterator[Storage]:
        """``storage()``, opened (the schema made) for the block, closed after it."""
        storage = self.storage()
        await storage.open()
        try:
            yield storage
        finally:
            await storage.close()

    # --- reading (and the odd write) behind the bot's back -------------------------------
    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        """The rows of one query, through a connection of its own (SQLite: read-only; WAL
        lets it read while the bot writes)."""
        if self.url is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
            try:
                return conn.execute(sql, params).fetchall()
            finally:
                conn.close()
        found = _in_thread(lambda: self._pg(lambda c: c.fetch(numbered(sql), *params)))
        return [tuple(_plain(v) for v in r) for r in found]

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """One write, committed (as if another program changed the database)."""
        if self.url is None:
            conn = sqlite3.connect(self.path, timeout=5)
            try:
                with conn:
                    conn.execute(sql, params)
            finally:
                conn.close()
            return
        _in_thread(lambda: self._pg(lambda c: c.execute(numbered(sql), *params)))

    def tables(self) -> dict[str, list[str]]:
        """Each table's columns, in order."""
        if self.url is None:
            names = [t for (t,) in self.rows(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
            return {t: [c[1] for c in self.rows(f'PRAGMA table_info("{t}")')] for t in names}
        found: dict[str, list[str]] = {}
        for table, column in self.rows(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"):
            found.setdefault(table, []).append(column)
        return found

    def snapshot(self) -> Snapshot:
        """Every row of every table, sorted (values as SQLite gives them), read at one
        moment: never blocks the bot, never sees half a write."""
        if self.url is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5,
                                   isolation_level=None)
            try:
                conn.execute("BEGIN")  # one read transaction: one moment
                tables = [r[0] for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
                return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
                        for t in tables}
            finally:
                conn.close()

        async def read(conn: asyncpg.Connection) -> Snapshot:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                tables = [r[0] for r in await conn.fetch(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                    "'public' AND table_type = 'BASE TABLE' ORDER BY table_name")]
                return {t: sorted((tuple(_plain(v) for v in r)
                                   for r in await conn.fetch(f'SELECT * FROM "{t}"')), key=repr)
                        for t in tables}

        return _in_thread(lambda: self._pg(read))

    def integrity_ok(self) -> bool:
        """The database is sound and its derived data agree with what they derive from.
        SQLite: the file (integrity_check) and its foreign keys (not enforced on old rows).
        PostgreSQL enforces its constraints itself and has no file check: the foreign keys
        are queried anyway, as a cheap sanity check. Both: the leaderboard counts (kept by
        triggers) match the members they count."""
        if self.url is None:
            if self.rows("PRAGMA integrity_check") != [("ok",)]:
                return False
            if self.rows("PRAGMA foreign_key_check") != []:
                return False
        else:
            orphans = self.rows(
                "SELECT (SELECT COUNT(*) FROM checkins AS c WHERE NOT EXISTS (SELECT 1 FROM "
                "members AS m WHERE m.guild_id = c.guild_id AND m.user_id = c.user_id)) + "
                "(SELECT COUNT(*) FROM reminder_firings AS f WHERE NOT EXISTS "
                "(SELECT 1 FROM reminders AS r WHERE r.id = f.reminder_id))")
            if orphans != [(0,)]:
                return False
        return self._board_counts_agree()

    def _board_counts_agree(self) -> bool:
        expected: Counter[Row] = Counter()
        for guild, best, total, week, weekly, month, monthly in self.rows(
                "SELECT guild_id, best, total, week_key, week_count, month_key, month_count "
                "FROM members WHERE present = 1"):
            for key in (("best", "", best), ("total", "", total),
                        ("week_best", week or "", best), ("week_count", week or "", weekly),
                        ("month_best", month or "", best),
                        ("month_count", month or "", monthly)):
                expected[(guild, *key)] += 1
        stored = {(g, b, p, v): n for g, b, p, v, n in self.rows(
            "SELECT guild_id, board, period, value, members FROM board_counts "
            "WHERE members <> 0")}
        return stored == dict(expected)

    # --- another process holding the write lock -------------------------------------------
    @contextlib.asynccontextmanager
    async def write_lock(self) -> AsyncIterator[None]:
        """Another process holds the database's write lock for the block: the bot's writes
        wait on it, its reads go on. SQLite: BEGIN IMMEDIATE. PostgreSQL: every table
        LOCKed IN EXCLUSIVE MODE (plain SELECTs still pass, as WAL readers do on SQLite).
        Released by rolling back: nothing was written."""
        if self.url is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=0)
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield
                conn.execute("ROLLBACK")
            finally:
                conn.close()
            return
        import asyncpg

        pg = await asyncpg.connect(self.url, timeout=15)
        try:
            transaction = pg.transaction()
            await transaction.start()
            await pg.execute(f"LOCK TABLE {', '.join(TABLES)} IN EXCLUSIVE MODE")
            yield
            await transaction.rollback()
        finally:
            await pg.close()

    async def _pg(self, work: Callable[[asyncpg.Connection], Awaitable[_T]]) -> _T:
        import asyncpg

        conn = await asyncpg.connect(self.url, timeout=15)
        try:
            return await work(conn)
        finally:
            await conn.close()
