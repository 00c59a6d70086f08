"""`bot.py migrate --to URL` (ops/migrate.py, stride/storage/transfer.py) against a real
PostgreSQL server: a SQLite database filled through the real API reads back the same through
PostgresStorage; every refusal changes nothing; every failure leaves the target empty."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ops import migrate as migrate_cli
from stride.checkins import Checkins
from stride.clock import ManualClock
from stride.config import ROOT, Settings
from stride.records import Claim, Lease, Reminder
from stride.storage import SqliteStorage, Storage, migrations
from stride.storage import transfer as transfer_module
from stride.storage.postgres import PostgresStorage

GUILD, OTHER = 77, 78
TABLES = ("guild_settings", "members", "checkins", "reminders", "reminder_firings",
          "dm_channels", "board_counts")
START = datetime(2026, 11, 2, 6, 30, tzinfo=UTC)  # a Monday
BOARDS = [(b, p) for b in ("streak", "best", "checkins") for p in ("week", "month", "all")]
Migrate = Callable[..., Awaitable[tuple[int, str, str]]]


def with_password(url: str, password: str = "s3cr3t-pw") -> str:
    """The fixture's URL with a password in it (the test cluster trusts any)."""
    return url.replace("://stride@", f"://stride:{password}@", 1)


@pytest.fixture
def run(tmp_path: Path) -> Migrate:
    """The command in-process: (exit code, stdout, stderr)."""
    async def call(url: str, **env: str) -> tuple[int, str, str]:
        settings = Settings.from_env({"DATABASE_PATH": str(tmp_path / "stride.db"), **env},
                                     need_token=False)
        out, err = io.StringIO(), io.StringIO()
        code = await migrate_cli.run(settings, url, out, err)
        return code, out.getvalue(), err.getvalue()
    return call


async def fill(path: Path) -> ManualClock:
    """A club's three weeks through the real API: check-ins (one undone, one member gone, own
    zones), club settings, club and DM reminders with firings, DM channels."""
    storage = SqliteStorage(path)
    await storage.open()
    clock = ManualClock(START)
    checkins = Checkins(storage, clock)
    try:
        await checkins.update_club(GUILD, timezone="Europe/Berlin", rest_days=1)
        await checkins.set_timezone(GUILD, 5, "America/New_York")
        for day in range(21):
            for user in range(1, 25):
                if (user * 7 + day) % 4:
                    await checkins.check_in(GUILD, user, what="knee-day" if user % 3 else None)
            await checkins.check_in(OTHER, 900 + day % 3, what="Läufer 🏃 ü")
            clock.advance(days=1)
        await checkins.check_in(GUILD, 2)
        await checkins.undo(GUILD, 2)
        await checkins.member_left(GUILD, 7)
        base = Reminder(0, GUILD, "channel", 5550, None, "06:00", 127, None, 31, None,
                        int(START.timestamp()) + 60, None, 0, 1)
        made = [await storage.add_reminder(base), await storage.add_reminder(
            Reminder(0, GUILD, "dm", None, 3, "07:15", 31, "Europe/Berlin", None, "hips",
                     int(START.timestamp()) + 120, None, 0, 3))]
        await storage.delete_reminder((await storage.add_reminder(base)).id)  # a gap in ids
        made.append(await storage.add_reminder(base))

        def plan(due: list[Reminder]) -> tuple[list[Claim], dict[int, int | None]]:
            return ([Claim(r, r.next_due or 0, "claimed") for r in due],
                    {r.id: (r.next_due or 0) + 86_400 for r in due})

        claims = await storage.claim_due(int(START.timestamp()) + 600, 10, plan,
                                         Lease("old", 10))
        await storage.finish_firings([(claims[0].reminder.id, claims[0].due_at, "sent", 4242,
                                       None)])
        await storage.save_dm_channel(3, 123456789)
        await storage.save_dm_channel(11, 987654321)
        assert len(made) == 3 and len(claims) == 3
    finally:
        await storage.close()
    return clock


async def everything(storage: Storage, clock: ManualClock) -> dict[str, Any]:
    """All the domain can read about the filled clubs."""
    checkins = Checkins(storage, clock)
    found: dict[str, Any] = {}
    for guild, users in ((GUILD, range(1, 26)), (OTHER, range(899, 904))):
        for user in users:
            found[f"member {guild}/{user}"] = await storage.member(guild, user)
            found[f"checkins {guild}/{user}"] = await storage.checkins(guild, user)
            found[f"dm {guild}/{user}"] = await storage.dm_reminder(guild, user)
        for board, period in BOARDS:
            for page in range(3):
                found[f"board {guild} {board} {period} {page}"] = await checkins.board(
                    guild, 3, board, period, page)
        found[f"reminders {guild}"] = await storage.reminders(guild)
    for status in (None, "claimed", "sent"):
        found[f"firings {status}"] = await storage.firing_count(status)
    found["dm channels"] = [await storage.dm_channel(u) for u in (3, 11, 12)]
    found["next due"] = await storage.next_due()
    return found


async def table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of Stride's tables in the PostgreSQL database (a table not there: None)."""
    conn = await asyncpg.connect(url)
    try:
        found: dict[str, Any] = {}
        for table in TABLES:
            if await conn.fetchval("SELECT to_regclass($1)", table) is None:
                found[table] = None
            else:
                found[table] = [tuple(r) for r in await conn.fetch(
                    f"SELECT * FROM {table} ORDER BY 1, 2")]
        return found
    finally:
        await conn.close()


def empty(rows: dict[str, Any]) -> bool:
    return all(not r for r in rows.values())


async def test_a_club_reads_the_same_on_postgresql(tmp_path: Path, postgres_url: str,
                                                   run: Migrate) -> None:
    db = tmp_path / "stride.db"
    clock = await fill(db)
    url = with_password(postgres_url)
    code, out, err = await run(url)
    assert code == 0, err
    assert "s3cr3t-pw" not in out + err
    for table in TABLES:
        assert re.search(rf"^  {table}: \d+ rows?, verified \(copied in ", out, re.M), table
    assert re.search(r"^  checkins: \d{3} rows, verified", out, re.M)  # hundreds
    assert f"DATABASE_URL={url.replace('s3cr3t-pw', '***')}" in out
    assert f"Keep {db}" in out and "SHARD_COUNT and SHARD_IDS" in out

    sqlite, pg = SqliteStorage(db), PostgresStorage(postgres_url)
    await sqlite.open()
    await pg.open()
    try:
        assert await everything(pg, clock) == await everything(sqlite, clock)
        # The triggers are back on: a check-in on PostgreSQL logs its day and moves the board.
        await Checkins(pg, clock).check_in(GUILD, 25)
        [(day, _, _)] = [(c.day, c.at, c.what) for c in await pg.checkins(GUILD, 25)]
        assert day == clock.now().date()
        page = await Checkins(pg, clock).board(GUILD, 25, "checkins", "all")
        assert page.slice.my_value == 1
        # And the sequence is past the copied ids.
        ids = [r.id for r in await sqlite.reminders(GUILD)]
        new = await pg.add_reminder(Reminder(0, OTHER, "channel", 1, None, "08:00", 1, None,
                                             None, None, None, None, 0, 9))
        assert new.id == max(ids) + 1
    finally:
        await sqlite.close()
        await pg.close()


async def test_a_target_with_data_is_refused_and_left_as_it_was(
        tmp_path: Path, postgres_url: str, run: Migrate) -> None:
    db = tmp_path / "stride.db"
    await fill(db)
    assert (await run(postgres_url))[0] == 0
    before = await table_rows(postgres_url)
    storage = SqliteStorage(db)  # more data in SQLite: none of it may arrive
    await storage.open()
    await Checkins(storage, ManualClock(START)).check_in(GUILD, 40)
    await storage.close()
    code, _, err = await run(postgres_url)
    assert code == 1
    assert "already holds Stride data (rows in guild_settings, members, checkins," in err
    assert "changed nothing" in err and "Traceback" not in err
    assert await table_rows(postgres_url) == before


async def test_a_running_bot_is_refused(tmp_path: Path, postgres_url: str,
                                        run: Migrate) -> None:
    db = tmp_path / "stride.db"
    await fill(db)
    bot = SqliteStorage(db)
    await bot.open()  # idle: no write in progress, only the open connections
    try:
        code, _, err = await run(postgres_url)
    finally:
        await bot.close()
    assert code == 1
    assert "is in use by another program: is the bot running? Stop the bot first" in err
    assert (await table_rows(postgres_url))["members"] is None  # not even the schema


async def test_another_process_with_the_file_open_is_refused(
        tmp_path: Path, postgres_url: str, run: Migrate) -> None:
    db = tmp_path / "stride.db"
    await fill(db)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT 1 FROM members').fetchall(); print('open', flush=True); "
         "sys.stdin.read()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        code, _, err = await run(postgres_url)
    finally:
        holder.communicate("", timeout=10)
    assert code == 1 and "Stop the bot first" in err
    assert (await run(postgres_url))[0] == 0  # once it is gone, the migration goes ahead


async def test_an_old_schema_is_refused_and_untouched(tmp_path: Path, run: Migrate) -> None:
    db = tmp_path / "stride.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.apply(conn, migrations.available()[:3])
    conn.close()
    before = db.read_bytes()
    code, _, err = await run("postgresql://stride:pw@127.0.0.1:1/never")  # never reached
    assert code == 1
    latest = migrations.available()[-1].version
    assert f"{db} is at schema version 3; this Stride's is {latest}. Start the bot once on " \
           "SQLite (without DATABASE_URL) to upgrade it, stop it, then run migrate again." in err
    assert db.read_bytes() == before


async def test_a_missing_database_is_refused_and_not_created(tmp_path: Path, run: Migrate) -> None:
    code, _, err = await run("postgresql://stride@127.0.0.1:1/never")
    assert code == 1
    assert f"there is no SQLite database at {tmp_path / 'stride.db'}" in err
    assert list(tmp_path.iterdir()) == []


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path, run: Migrate) -> None:
    (tmp_path / "stride.db").write_bytes(b"not a database at all" * 200)
    code, _, err = await run("postgresql://stride@127.0.0.1:1/never")
    assert code == 1
    assert f"cannot use {tmp_path / 'stride.db'} (file is not a database): is it Stride's " \
           "SQLite database" in err


async def test_an_unknown_table_stops_the_copy(tmp_path: Path, postgres_url: str,
                                               run: Migrate) -> None:
    db = tmp_path / "stride.db"
    await fill(db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('added by hand')")
    conn.close()
    code, _, err = await run(postgres_url)
    assert code == 1
    assert "the SQLite table notes has no counterpart in PostgreSQL" in err
    assert empty(await table_rows(postgres_url))


async def test_an_unreachable_server_is_refused_with_a_hint(tmp_path: Path,
                                                           run: Migrate) -> None:
    await fill(tmp_path / "stride.db")
    code, _, err = await run("postgresql://stride:s3cr3t-pw@127.0.0.1:1/stride")
    assert code == 1
    assert "cannot connect to postgresql://stride:***@127.0.0.1:1/stride" in err
    assert "Is the PostgreSQL server running there?" in err and "s3cr3t-pw" not in err


async def test_a_missing_target_database_says_createdb(tmp_path: Path, postgres_url: str,
                                                      run: Migrate) -> None:
    await fill(tmp_path / "stride.db")
    code, _, err = await run(postgres_url + "_nonexistent")
    assert code == 1
    assert "does not exist. Create it, owned by Stride's user: sudo -u postgres createdb -O " \
           "stride " in err


async def test_a_row_postgresql_rejects_rolls_everything_back(
        tmp_path: Path, postgres_url: str, run: Migrate) -> None:
    """A NUL character is valid in SQLite text, not in PostgreSQL's: the COPY of `checkins`
    fails after `members` went in; nothing stays, and a fixed file migrates."""
    db = tmp_path / "stride.db"
    await fill(db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE checkins SET what = ? WHERE user_id = 900", ("bad\x00row",))
    conn.close()
    code, _, err = await run(postgres_url)
    assert code == 1
    assert "Migration failed and was rolled back" in err and "Traceback" not in err
    assert "copying checkins: CharacterNotInRepertoireError" in err
    assert empty(await table_rows(postgres_url))
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE checkins SET what = NULL WHERE user_id = 900")
    conn.close()
    assert (await run(postgres_url))[0] == 0  # into the schema the failed run left: still empty


async def test_a_broken_foreign_key_rolls_everything_back(
        tmp_path: Path, postgres_url: str, run: Migrate) -> None:
    db = tmp_path / "stride.db"
    await fill(db)
    conn = sqlite3.connect(db)  # foreign keys are off by default: an orphan check-in
    with conn:
        conn.execute("INSERT INTO checkins VALUES (?, 4040, '2026-11-03', 'x', NULL)", (GUILD,))
    conn.close()
    code, _, err = await run(postgres_url)
    assert code == 1
    assert "checking the foreign key checkins_guild_id_user_id_fkey of checkins: " \
           "ForeignKeyViolationError" in err
    assert empty(await table_rows(postgres_url))


async def test_verification_catches_a_row_that_changed(
        tmp_path: Path, postgres_url: str, run: Migrate,
        monkeypatch: pytest.MonkeyPatch) -> None:
    await fill(tmp_path / "stride.db")
    copy_rows = transfer_module._copy_rows

    async def altered(source: Any, plan: Any, *args: Any) -> Any:
        async for row in copy_rows(source, plan, *args):
            yield (*row[:-1], 99) if plan.table.name == "dm_channels" else row

    monkeypatch.setattr(transfer_module, "_copy_rows", altered)
    code, _, err = await run(postgres_url)
    assert code == 1
    assert "dm_channels: row 1 differs after the copy: SQLite has (3, 123456789), " \
           "PostgreSQL (3, 99)" in err
    assert empty(await table_rows(postgres_url))


async def test_progress_is_reported_for_big_tables(
        tmp_path: Path, postgres_url: str, run: Migrate,
        monkeypatch: pytest.MonkeyPatch) -> None:
    await fill(tmp_path / "stride.db")
    monkeypatch.setattr(transfer_module, "BATCH", 50)
    monkeypatch.setattr(transfer_module, "PROGRESS_EVERY", 0.0)
    code, out, err = await run(postgres_url)
    assert code == 0, err
    assert "  checkins: 50 of " in out and " rows copied (" in out
    assert "  checkins: 100 of " in out and " rows verified (" in out


async def test_the_command_line(tmp_path: Path, postgres_url: str) -> None:
    """As an operator runs it: no Discord token, the URL only on the command line."""
    await fill(tmp_path / "stride.db")
    env = {**os.environ, "DATABASE_PATH": str(tmp_path / "stride.db"), "DISCORD_TOKEN": "",
           "DATABASE_URL": "", "LOG_FILE": "", "BACKUP_DIR": str(tmp_path / "backups")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "migrate", "--to", with_password(postgres_url)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "rows, verified" in done.stdout and "BACKUP_DIR" in done.stdout
    assert "s3cr3t-pw" not in done.stdout + done.stderr
    again = subprocess.run([sys.executable, str(ROOT / "bot.py"), "migrate"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "--to" in again.stderr


def test_values_become_the_postgresql_column_types() -> None:
    """Stride's PostgreSQL columns take SQLite's values as they are; a schema with dates,
    flags or timestamps would get them converted, and an unknown type stops the copy."""
    from datetime import date

    from stride.storage.transfer_plan import MigrationError, Plan, SourceTable, _converter

    table = SourceTable("t", ("a", "b", "c", "d"), ("a",), frozenset(), 1)
    kinds = ("bigint", "date", "boolean", "timestamptz")
    plan = Plan(table, tuple(_converter("t", c, k) for c, k in zip(table.columns, kinds,
                                                                   strict=True)),
                "", {}, False)
    assert plan.convert([(1, "2026-11-23", 1, "2026-11-23T06:00:00.000Z"), (2, None, 0, None)]) \
        == [(1, date(2026, 11, 23), True, datetime(2026, 11, 23, 6, tzinfo=UTC)),
            (2, None, False, None)]
    with pytest.raises(MigrationError, match=r"t: cannot convert row \(3, 'soon', 1, None\)"):
        plan.convert([(3, "soon", 1, None)])
    with pytest.raises(MigrationError, match=r"t\.x has the PostgreSQL type point, which"):
        _converter("t", "x", "point")
    same = Plan(table, (None,) * 4, "", {}, False)
    rows = [(1, "a", 2, "b")]
    assert same.convert(rows) is rows  # nothing to do: the batch itself


async def test_a_big_club_reads_the_same_after_migrate(tmp_path: Path, postgres_url: str
                                                       ) -> None:
    """The benchmark's database at a twentieth of its size (2,500 members, 250,000
    check-ins; the full 5,000,000 is `python -m bench.bench_postgres`): every row arrives,
    and members' figures and calendars and every board read the same on both."""
    from bench import bench_streaks
    from bench.migrate_check import reads_alike

    db = tmp_path / "big.db"
    bench_streaks.build(db, 2_500, 250_000)
    report = await transfer_module.migrate(db, postgres_url)
    rows = {t.name: t.rows for t in report.tables}
    conn = sqlite3.connect(db)
    try:
        for table, count in rows.items():
            assert conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] == count
    finally:
        conn.close()
    assert rows["checkins"] >= 240_000
    alike = await reads_alike(db, postgres_url, bench_streaks.GUILD, list(range(1, 2_501)),
                              bench_streaks.NOW, members=300, pages=3)
    assert alike.same, alike.differences[:5]
    assert alike.members == 300 and alike.boards == 27
