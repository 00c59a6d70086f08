"""The PostgreSQL backend's own workings (stride/storage/postgres.py), on a throwaway server:
migrations applied once and atomically (also by processes starting together), a newer schema
refused untouched, real query plans on indexes, several processes claiming reminders and
checking in at once, closing, and errors in the domain's terms. (What both backends share is
tested through the `storage` fixture, on both.)"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from stride.checkins import Checkins
from stride.clock import ManualClock
from stride.errors import StorageBusy, StorageError
from stride.records import BOARDS, PERIODS, Claim, ClubSettings, Lease, Reminder, ShardSet
from stride.storage import SchemaError
from stride.storage import migrations as mig
from stride.storage import postgres as pg
from stride.storage.boards import board_query
from stride.storage.postgres import PostgresStorage, prepare, redact
from stride.storage.sqlite import prepare as prepare_sqlite
from tests.postgres import ENV_URL, PostgresServer, unavailable_reason

SHIPPED = mig.available("postgresql")
LATEST = len(SHIPPED)
G = 1000


@pytest.fixture
async def storage(postgres_url: str) -> AsyncIterator[PostgresStorage]:
    """Here PostgreSQL only (conftest's `storage` is both backends)."""
    s = PostgresStorage(postgres_url, pool_size=4)
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def other(postgres_url: str, storage: PostgresStorage) -> AsyncIterator[PostgresStorage]:
    """A second process on the same database (a pool of its own)."""
    s = PostgresStorage(postgres_url, pool_size=4)
    await s.open()
    yield s
    await s.close()


async def fetch(url: str, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def catalog(url: str) -> list[tuple[Any, ...]]:
    """Every table, column, index and trigger, and the recorded version."""
    return await fetch(url, """
        SELECT 'column', table_name || '.' || column_name || ' ' || data_type
        FROM information_schema.columns WHERE table_schema = 'public'
        UNION ALL SELECT 'index', indexname FROM pg_indexes WHERE schemaname = 'public'
        UNION ALL SELECT 'trigger', tgname FROM pg_trigger WHERE NOT tgisinternal
        UNION ALL SELECT 'version', version::text FROM stride_schema
        ORDER BY 1, 2""")


# --- migrations -------------------------------------------------------------------------

async def test_open_applies_every_migration_once(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="stride.storage.postgres"):
        for _ in range(2):
            s = PostgresStorage(postgres_url)
            await s.open()
            assert await s.schema_version() == LATEST
            await s.close()
    applied = [r.getMessage() for r in caplog.records if "applied migrations" in r.getMessage()]
    assert applied == [f"Database {redact(postgres_url)}: applied migrations "
                       + ", ".join(m.name for m in SHIPPED)]
    assert await fetch(postgres_url, "SELECT version FROM stride_schema") == [(LATEST,)]
    assert await prepare(postgres_url) == []


async def test_processes_starting_together_migrate_once(postgres_url: str) -> None:
    """Four processes start on a new database at the same moment: one applies everything,
    the others wait for it (advisory lock) and find nothing left to do."""
    results = await asyncio.gather(*(prepare(postgres_url) for _ in range(4)))
    assert sorted(results, key=len) == [[], [], [], [m.name for m in SHIPPED]]
    assert await fetch(postgres_url, "SELECT version FROM stride_schema") == [(LATEST,)]


async def test_a_failing_migration_changes_nothing(postgres_url: str) -> None:
    good = mig.Migration(1, "0001_ok", "CREATE TABLE a (x integer);")
    bad = mig.Migration(2, "0002_bad", "CREATE TABLE b (x integer); INSERT INTO nope VALUES (1);")
    conn = await asyncpg.connect(postgres_url)
    try:
        with pytest.raises(SchemaError, match="0002_bad failed"):
            await pg.migrate(conn, [good, bad])
        assert await pg.schema_version(conn) == 1
        tables = {r[0] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert tables == {"a", "stride_schema"}
    finally:
        await conn.close()


async def test_a_newer_database_is_refused_not_altered(postgres_url: str) -> None:
    s = PostgresStorage(postgres_url)
    await s.open()
    await s.save_club_settings(42, ClubSettings("Europe/Berlin", 1))
    await s.close()
    newer = LATEST + 1
    conn = await asyncpg.connect(postgres_url)
    await conn.execute("CREATE TABLE from_the_future (x integer)")
    await conn.execute("UPDATE stride_schema SET version = $1", newer)
    await conn.close()
    before = await catalog(postgres_url), await fetch(postgres_url, "SELECT * FROM guild_settings")

    with pytest.raises(SchemaError) as refused:
        await PostgresStorage(postgres_url).open()
    assert str(refused.value) == (
        f"the database is at schema version {newer}, newer than this Stride knows "
        f"({LATEST}); upgrade Stride or restore a backup made by this version")
    with pytest.raises(SchemaError):
        await prepare(postgres_url)
    after = await catalog(postgres_url), await fetch(postgres_url, "SELECT * FROM guild_settings")
    assert after == before


async def test_the_schema_is_sqlites_column_for_column(
    postgres_url: str, storage: PostgresStorage, tmp_path: Path
) -> None:
    """Every SQLite table has its counterpart with the same columns in the same order, and
    the same indexes by name: a SQLite database copies over table by table."""
    prepare_sqlite(tmp_path / "stride.db")
    lite = sqlite3.connect(tmp_path / "stride.db")
    tables = [r[0] for r in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    expected = {t: [r[1] for r in lite.execute(f"PRAGMA table_info({t})")] for t in tables}
    indexes = {r[0] for r in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    lite.close()
    found: dict[str, list[str]] = {}
    for table, column in await fetch(
        postgres_url, "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name <> 'stride_schema' "
        "ORDER BY table_name, ordinal_position"
    ):
        found.setdefault(table, []).append(column)
    assert found == expected
    pg_indexes = {r[0] for r in await fetch(
        postgres_url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
        "AND indexname NOT LIKE '%_pkey'")}
    assert pg_indexes == indexes
    assert len([i for i in indexes if i.startswith("members_by_")]) == 9


async def test_timestamps_are_text_as_sqlite_writes_them(
    postgres_url: str, storage: PostgresStorage
) -> None:
    await storage.save_club_settings(G, ClubSettings("UTC", 2))
    await storage.save_club_settings(G, ClubSettings("UTC", 3))  # the update path
    [(stamp,)] = await fetch(postgres_url, "SELECT updated_at FROM guild_settings")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)


def test_where_hides_the_password() -> None:
    assert redact("postgresql://stride:s3cret@db.example:5432/stride") == (
        "postgresql://stride:***@db.example:5432/stride")
    assert redact("postgres://stride@localhost/stride?password=x&sslmode=require") == (
        "postgres://stride@localhost/stride?password=***&sslmode=require")
    assert redact("postgresql://localhost/stride") == "postgresql://localhost/stride"
    assert PostgresStorage("postgresql://u:p@h/d").where == "postgresql://u:***@h/d"


# --- plans ------------------------------------------------------------------------------

async def _fill(url: str) -> None:
    """A club of 4,000 members and 29 of 100, 4 earlier check-ins each besides the latest
    (logged by the trigger), varied figures; then VACUUM ANALYZE, as autovacuum leaves a
    database in use (statistics, and the visibility map index-only scans rely on)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("""
            INSERT INTO members (guild_id, user_id, present, last_day, last_at, run, best,
                                 total, week_key, week_count, month_key, month_count, breaks_at)
            SELECT 1000 + g, u, (u % 17 <> 0)::int, '2026-11-23', '2026-11-23T06:00:00+00:00',
                   u % 90, u % 130 + u % 90, u % 400 + 5,
                   CASE WHEN u % 3 = 0 THEN '2026-W47' ELSE '2026-W48' END, u % 4,
                   '2026-11', u % 11, 1795000000 + (u % 5) * 86400
            FROM generate_series(0, 29) AS g,
                 generate_series(1, CASE WHEN g = 7 THEN 4000 ELSE 100 END) AS u""")
        await conn.execute("""
            INSERT INTO checkins (guild_id, user_id, day, at)
            SELECT m.guild_id, m.user_id, to_char(date '2026-11-23' - d, 'YYYY-MM-DD'), 'x'
            FROM members AS m, generate_series(1, 4) AS d""")
        await conn.execute("INSERT INTO guild_settings (guild_id) "
                           "SELECT 1000 + g FROM generate_series(0, 29) AS g")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def test_boards_and_member_reads_use_indexes(
    postgres_url: str, storage: PostgresStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statements the storage really sends for a member, their days and every board and
    period (top and deep pages, in the big club and a small one), explained on a filled and
    analyzed database: each page reads its board's own index in board order (no sort), each
    rank the counts' or the board's index; no sequential scan of members, checkins or
    board_counts, in the plan for these values nor in the generic plan PostgreSQL may
    switch to after a few runs of a prepared statement."""
    await _fill(postgres_url)
    sent: list[tuple[str, tuple[object, ...]]] = []
    for name in ("fetch", "fetchrow"):
        original = getattr(asyncpg.Connection, name)

        def recording(self: Any, sql: str, *args: object, _original: Any = original,
                      **kw: Any) -> Any:
            sent.append((sql, args))
            return _original(self, sql, *args, **kw)

        monkeypatch.setattr(asyncpg.Connection, name, recording)
    now = 1795000000 + 86400
    pages: list[tuple[str, str]] = []  # (page statement, the index it must read)
    for guild, user, offsets in ((1007, 120, (0, 2500)), (1003, 50, (0, 60))):
        await storage.member(guild, user)
        await storage.checkin_days(guild, user)
        await storage.checkin_days(guild, user, since=date(2026, 11, 1))
        for board in BOARDS:
            for period in PERIODS:
                for offset in offsets:
                    before = len(sent)
                    await storage.board(guild, user, board, period, now=now, week="2026-W48",
                                        month="2026-11", offset=offset, limit=10)
                    pages.append((sent[before][0], board_query(board, period).index))
    monkeypatch.undo()
    assert len(sent) == 2 * (3 + 2 * len(BOARDS) * len(PERIODS))  # a board: one statement
    conn = await asyncpg.connect(postgres_url)
    try:
        for mode in ("force_custom_plan", "force_generic_plan"):
            await conn.execute(f"SET plan_cache_mode = {mode}")
            for sql, args in sent:
                plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {sql}", *args))
                for table in ("members", "checkins", "board_counts"):
                    assert f"Seq Scan on {table}" not in plan, (mode, sql, plan)
                assert "Index" in plan, (mode, sql, plan)
                for page, index in pages:
                    if sql == page and mode == "force_custom_plan":
                        assert f"using {index} on members" in plan, (sql, args, plan)
                        assert "Sort" not in plan, (sql, args, plan)
    finally:
        await conn.close()


# --- several processes ------------------------------------------------------------------

def _planner(step: int = 86400) -> Callable[[list[Reminder]], tuple[list[Claim],
                                                                       dict[int, int | None]]]:
    def plan(due: list[Reminder]) -> tuple[list[Claim], dict[int, int | None]]:
        return ([Claim(r, r.next_due or 0, "claimed") for r in due],
                {r.id: (r.next_due or 0) + step for r in due})
    return plan


async def _add_due(url: str, count: int, due: int, guild: Callable[[int], int] = lambda i: G
                   ) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.executemany(
            "INSERT INTO reminders (guild_id, kind, channel_id, at, days, next_due, created_by) "
            "VALUES ($1, 'channel', $2, '07:00', 127, $3, 1)",
            [(guild(i), 5000 + i, due - i % 60) for i in range(count)],
        )
    finally:
        await conn.close()


async def test_two_processes_claiming_at_once_never_claim_the_same_firing(
    postgres_url: str, storage: PostgresStorage, other: PostgresStorage
) -> None:
    """400 reminders due, two processes claiming in batches as fast as they can: every
    firing is recorded once, by one of them, each reminder moved on once."""
    now = 1_800_000_000
    await _add_due(postgres_url, 400, now)

    async def claimer(s: PostgresStorage, owner: str) -> list[tuple[int, int]]:
        got: list[tuple[int, int]] = []
        while claims := await s.claim_due(now, 25, _planner(), Lease(owner, now + 30)):
            got += [(c.reminder.id, c.due_at) for c in claims]
        return got

    first, second = await asyncio.gather(claimer(storage, "a"), claimer(other, "b"))
    assert first and second  # both took part
    assert not set(first) & set(second)
    assert len(set(first) | set(second)) == len(first) + len(second) == 400
    assert await storage.firing_count("claimed") == 400
    assert await fetch(postgres_url, "SELECT COUNT(*), MIN(fired), MAX(fired), "
                       "COUNT(*) FILTER (WHERE next_due <= $1) FROM reminders", now) == [
        (400, 1, 1, 0)]
    assert await fetch(postgres_url, "SELECT owner, COUNT(*) FROM reminder_firings "
                       "GROUP BY owner ORDER BY owner") == [("a", len(first)), ("b", len(second))]


async def test_claiming_skips_reminders_another_process_holds_without_waiting(
    postgres_url: str, storage: PostgresStorage
) -> None:
    now = 1_800_000_000
    await _add_due(postgres_url, 3, now)
    holder = await asyncpg.connect(postgres_url)
    try:
        async with holder.transaction():
            [(held,)] = await holder.fetch(
                "SELECT id FROM reminders ORDER BY next_due, id LIMIT 1 FOR UPDATE")
            claims = await asyncio.wait_for(
                storage.claim_due(now, 10, _planner(), Lease("a", now + 30)), 2)
            assert sorted(c.reminder.id for c in claims) == sorted({1, 2, 3} - {held})
        claims = await storage.claim_due(now, 10, _planner(), Lease("a", now + 30))
        assert [c.reminder.id for c in claims] == [held]
    finally:
        await holder.close()


async def test_claim_due_keeps_to_its_shards_and_adopts_the_abandoned(
    postgres_url: str, storage: PostgresStorage
) -> None:
    """With two shards: a process on shard 0 claims its servers' reminders only, plus those
    due long enough ago (`adopt_before`) that their own process must be gone."""
    now = 1_800_000_000
    await _add_due(postgres_url, 6, now, guild=lambda i: (i % 2) << 22)  # shards 0, 1, 0, ...
    zero = ShardSet((0,), 2)
    assert await storage.next_due(zero) == now - 4
    assert await storage.next_due(ShardSet((1,), 2)) == now - 5
    assert await storage.next_due() == now - 5
    claims = await storage.claim_due(now, 10, _planner(), Lease("a", now + 30), shards=zero,
                                     adopt_before=now - 100)
    assert sorted(c.reminder.guild_id >> 22 for c in claims) == [0, 0, 0]
    adopted = await storage.claim_due(now, 10, _planner(), Lease("a", now + 30), shards=zero,
                                      adopt_before=now - 2)  # the shard-1 ones due by now - 3
    assert sorted((c.reminder.guild_id >> 22, c.due_at) for c in adopted) == [
        (1, now - 5), (1, now - 3)]


async def test_take_over_waits_for_the_lease_to_run_out(
    postgres_url: str, storage: PostgresStorage, other: PostgresStorage
) -> None:
    now = 1_800_000_000
    await _add_due(postgres_url, 3, now)
    claimed = await storage.claim_due(now, 10, _planner(), Lease("a", now + 30))
    await storage.mark_attempted([(claimed[0].reminder.id, claimed[0].due_at)], now + 1)
    assert await other.take_over(Lease("b", now + 60), now + 29) == []  # still held
    taken = await other.take_over(Lease("b", now + 61), now + 31)
    assert [(c.reminder.id, c.due_at) for c in taken] == sorted(
        ((c.reminder.id, c.due_at) for c in claimed), key=lambda k: (k[1], k[0]))
    assert [c.attempted_at for c in taken if c.reminder.id == claimed[0].reminder.id] == [
        now + 1]
    assert await storage.renew(Lease("a", now + 90)) == 0  # no longer its to renew
    assert await other.renew(Lease("b", now + 90)) == 3
    await other.release("b")  # a clean stop: anyone may take them at once
    both = await asyncio.gather(storage.take_over(Lease("a", now + 120), now + 40),
                                other.take_over(Lease("c", now + 120), now + 40))
    keys = [(c.reminder.id, c.due_at) for side in both for c in side]
    assert len(keys) == len(set(keys)) == 3


async def test_simultaneous_checkins_from_two_processes_count_once(
    postgres_url: str, storage: PostgresStorage, other: PostgresStorage
) -> None:
    clock = ManualClock(datetime(2026, 11, 23, 12, tzinfo=UTC))
    here, there = Checkins(storage, clock), Checkins(other, clock)
    results = await asyncio.gather(*(c.check_in(G, 7) for _ in range(20) for c in (here, there)))
    assert sum(r.recorded for r in results) == 1
    assert await fetch(postgres_url, "SELECT COUNT(*) FROM checkins") == [(1,)]
    assert await fetch(postgres_url, "SELECT board, members FROM board_counts "
                       "WHERE value = 1 AND members <> 0 ORDER BY board") == [
        ("best", 1), ("month_best", 1), ("month_count", 1), ("total", 1), ("week_best", 1),
        ("week_count", 1)]


async def test_a_club_checking_in_at_once_from_two_processes_neither_deadlocks_nor_miscounts(
    postgres_url: str, storage: PostgresStorage, other: PostgresStorage
) -> None:
    """80 members of one club check in on the same days through two processes at once: the
    counts they all update are locked in one order, so none waits on another in a cycle."""
    clock = ManualClock(datetime(2026, 11, 23, 12, tzinfo=UTC))
    sides = Checkins(storage, clock), Checkins(other, clock)
    for day in range(3):
        clock.current = datetime(2026, 11, 23, 12, tzinfo=UTC) + timedelta(days=day)
        done = await asyncio.gather(*(sides[u % 2].check_in(G, u) for u in range(80)))
        assert all(r.recorded for r in done)
    counted = await fetch(postgres_url, "SELECT board, value, members FROM board_counts "
                          "WHERE members <> 0 ORDER BY board, value")
    assert counted == [(b, 3, 80) for b in ("best", "month_best", "month_count", "total",
                                            "week_best", "week_count")]


# --- closing and errors -----------------------------------------------------------------

async def test_close_lets_the_transaction_in_progress_finish(postgres_url: str) -> None:
    s = PostgresStorage(postgres_url)
    await s.open()
    began = asyncio.Event()

    async def two_clubs() -> None:
        async with s.transaction() as conn:
            await conn.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
            began.set()
            await asyncio.sleep(0.2)
            await conn.execute("INSERT INTO guild_settings (guild_id) VALUES (2)")

    writing = asyncio.create_task(two_clubs())
    await began.wait()
    await s.close(timeout=5)
    assert writing.done() and writing.exception() is None
    with pytest.raises(RuntimeError, match="not open"):
        await s.club_settings(1)
    assert await fetch(postgres_url, "SELECT guild_id FROM guild_settings ORDER BY 1") == [
        (1,), (2,)]


async def test_close_gives_up_on_a_stuck_transaction_and_it_is_rolled_back(
    postgres_url: str,
) -> None:
    s = PostgresStorage(postgres_url)
    await s.open()
    began = asyncio.Event()

    async def stuck() -> None:
        async with s.transaction() as conn:
            await conn.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
            began.set()
            await asyncio.sleep(30)

    writing = asyncio.create_task(stuck())
    await began.wait()
    started = time.monotonic()
    await s.close(timeout=0.2)
    assert time.monotonic() - started < 1.0
    writing.cancel()
    await asyncio.gather(writing, return_exceptions=True)
    assert await fetch(postgres_url, "SELECT COUNT(*) FROM guild_settings") == [(0,)]


async def test_a_lock_held_too_long_is_storage_busy(postgres_url: str) -> None:
    s = PostgresStorage(postgres_url, busy_timeout_ms=200)
    await s.open()
    holder = await asyncpg.connect(postgres_url)
    try:
        await s.set_member_timezone(G, 1, "UTC", None)
        async with holder.transaction():
            await holder.execute("UPDATE members SET present = 1 WHERE user_id = 1")
            started = time.monotonic()
            with pytest.raises(StorageBusy):
                await s.set_present(G, 1, False)
            assert time.monotonic() - started < 2
    finally:
        await holder.close()
        await s.close()


async def test_guild_days_streams_in_batches_and_lets_go_when_abandoned(
    storage: PostgresStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg, "GUILD_DAYS_BATCH", 3)
    for user in (2, 1):
        for day in ("2026-11-20", "2026-11-22", "2026-11-21"):
            async with storage.connection() as conn:
                await conn.execute("INSERT INTO members (guild_id, user_id) VALUES ($1, $2) "
                                   "ON CONFLICT DO NOTHING", G, user)
                await conn.execute("INSERT INTO checkins (guild_id, user_id, day, at) "
                                   "VALUES ($1, $2, $3, 'x')", G, user, day)
    days = [item async for item in storage.guild_days(G)]
    assert days == [(u, date(2026, 11, d)) for u in (1, 2) for d in (20, 21, 22)]
    for _ in range(storage.pool_size + 1):  # abandoned streams give their connection back
        stream = storage.guild_days(G)
        assert await anext(stream) == (1, date(2026, 11, 20))
        await stream.aclose()
    assert await storage.club_settings(G) == ClubSettings()


async def test_nothing_listening_is_a_storage_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free, and nothing listens on it once closed
    url = f"postgresql://stride:pw@127.0.0.1:{port}/stride"
    with pytest.raises(StorageError) as raised:
        await PostgresStorage(url).open()
    assert not isinstance(raised.value.__cause__, StorageError)
    with pytest.raises(StorageError):
        await prepare(url)


@pytest.mark.skipif(unavailable_reason() is not None or bool(os.environ.get(ENV_URL)),
                    reason="needs a local cluster of its own, to stop it")
async def test_a_stopped_server_is_a_storage_error() -> None:
    """Stopped under a running bot: each call fails as the domain's StorageError (a write
    raised that way wrote nothing), the stream of days too; no driver error leaks out."""
    server = await asyncio.to_thread(PostgresServer.local)
    try:
        s = PostgresStorage(await server.create_database(), pool_size=2)
        await s.open()
        await s.save_club_settings(G, ClubSettings("UTC", 2))
        await asyncio.to_thread(server.stop)
        for call in (lambda: s.club_settings(G), lambda: s.save_club_settings(G, ClubSettings()),
                     lambda: s.member(G, 1), lambda: s.firing_count()):
            with pytest.raises(StorageError):
                await call()
        with pytest.raises(StorageError):
            async for _ in s.guild_days(G):
                pass
        await s.close(timeout=1)
    finally:
        await asyncio.to_thread(server.stop)
