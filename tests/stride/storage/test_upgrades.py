"""Upgrades: a database made at every earlier schema version, holding the data that version
could hold, is carried forward by the current code with nothing lost, and still works.

`LEVELS` has one entry per schema version: the rows a database at that version can hold
(plain SQL for that version's tables, so it stays valid however the code changes) and what
the current code must then read back. A new migration is tested from every earlier version
automatically; `test_every_earlier_version_has_data` asks for the rows the previous one made
possible.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stride.checkins import Checkins
from stride.clock import ManualClock
from stride.records import Claim, ClubSettings, Lease, Reminder
from stride.storage import SchemaError, SqliteStorage
from stride.storage import migrations as mig
from stride.streaks import Figures, StreakState
from tests.helpers import due_now

LATEST = len(mig.available())
NOW = datetime(2025, 3, 7, 8, 0, tzinfo=UTC)  # a Friday morning
NOW_UNIX = int(NOW.timestamp())
CLUB, OTHER, THIRD = 1111, 2222, 3333  # servers
ALICE, BOB, CARL, DORA, COACH = 501, 502, 503, 504, 509


def unix(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
         zone: str = "UTC") -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).timestamp())


Check = Callable[[SqliteStorage, Checkins], Awaitable[None]]


@dataclass(frozen=True)
class Level:
    """What a database at one schema version holds, and how the current code must see it."""

    sql: str  # rows valid for that version's schema
    check: Check  # run on the upgraded database (may write)


# --- version 1: club settings ---------------------------------------------------------------

V1 = f"""
INSERT INTO guild_settings (guild_id, timezone, rest_days, updated_at) VALUES
    ({CLUB}, 'Europe/Berlin', 1, '2025-01-05T10:00:00.000Z'),
    ({OTHER}, NULL, 2, '2025-02-01T09:30:12.345Z');
INSERT INTO guild_settings (guild_id, timezone) VALUES ({THIRD}, 'America/New_York');
"""


async def check_v1(storage: SqliteStorage, checkins: Checkins) -> None:
    assert await storage.club_settings(CLUB) == ClubSettings("Europe/Berlin", 1)
    assert await storage.club_settings(OTHER) == ClubSettings(None, 2)
    assert await storage.club_settings(THIRD) == ClubSettings("America/New_York", 2)
    assert await checkins.club(4444) == ClubSettings()  # never configured: the defaults


# --- version 2: members and check-ins -------------------------------------------------------
# Alice (club zone, Berlin; rest days 1): Feb 20, then Mar 3, 4 and 6 (a run of 3). Bob (own
# zone, New York): Jan 6-10 (best 5) and Mar 6. Carl left the server. Dora only set her zone.
# Alice also checked in to another server on Mar 1, a run that has since lapsed.

ALICE_BREAKS = unix(2025, 3, 8, zone="Europe/Berlin")
BOB_BREAKS = unix(2025, 3, 8, zone="America/New_York")
V2 = f"""
INSERT INTO members (guild_id, user_id, timezone, present, last_day, last_at, last_what, run,
                     best, total, week_key, week_count, month_key, month_count, breaks_at,
                     rest_days) VALUES
    ({CLUB}, {ALICE}, NULL, 1, '2025-03-06', '2025-03-06T05:12:40+00:00', 'myrtl', 3, 3, 4,
     '2025-W10', 3, '2025-03', 3, {ALICE_BREAKS}, 1),
    ({CLUB}, {BOB}, 'America/New_York', 1, '2025-03-06', '2025-03-06T22:01:00+00:00', NULL, 1,
     5, 6, '2025-W10', 1, '2025-03', 1, {BOB_BREAKS}, 1),
    ({CLUB}, {CARL}, NULL, 0, '2025-03-05', '2025-03-05T07:00:00+00:00', 'clams', 1, 1, 1,
     '2025-W10', 1, '2025-03', 1, {unix(2025, 3, 7, zone="Europe/Berlin")}, 1),
    ({OTHER}, {ALICE}, NULL, 1, '2025-03-01', '2025-03-01T08:00:00+00:00', 'quick', 1, 1, 1,
     '2025-W09', 1, '2025-03', 1, {unix(2025, 3, 4)}, 2);
INSERT INTO members (guild_id, user_id, timezone, breaks_at) VALUES
    ({CLUB}, {DORA}, 'Asia/Tokyo', NULL);
INSERT INTO checkins (guild_id, user_id, day, at, what) VALUES
    ({CLUB}, {ALICE}, '2025-02-20', '2025-02-20T06:00:00+00:00', NULL),
    ({CLUB}, {ALICE}, '2025-03-03', '2025-03-03T05:30:00+00:00', 'quick'),
    ({CLUB}, {ALICE}, '2025-03-04', '2025-03-04T05:31:00+00:00', 'clams'),
    ({CLUB}, {BOB}, '2025-01-06', '2025-01-06T12:00:00+00:00', NULL),
    ({CLUB}, {BOB}, '2025-01-07', '2025-01-07T12:00:00+00:00', NULL),
    ({CLUB}, {BOB}, '2025-01-08', '2025-01-08T12:00:00+00:00', NULL),
    ({CLUB}, {BOB}, '2025-01-09', '2025-01-09T12:00:00+00:00', NULL),
    ({CLUB}, {BOB}, '2025-01-10', '2025-01-10T12:00:00+00:00', 'full');
"""


async def check_v2(storage: SqliteStorage, checkins: Checkins) -> None:
    # The log and the running figures still agree (the triggers logged each latest day).
    async with storage.conn.execute(
        "SELECT m.user_id, m.total, m.last_day, COUNT(c.day), MAX(c.day) FROM members AS m "
        "LEFT JOIN checkins AS c USING (guild_id, user_id) GROUP BY m.guild_id, m.user_id"
    ) as cur:
        for user, total, last_day, count, latest in await cur.fetchall():
            assert (total, last_day) == (count, latest), user
    club, alice = await storage.member(CLUB, ALICE)
    assert club == ClubSettings("Europe/Berlin", 1)
    assert alice.exists and alice.timezone is None and alice.rest_days == 1
    assert alice.state == StreakState(date(2025, 3, 6), 3, 3, 4, "2025-W10", 3, "2025-03", 3)
    assert [(r.day.isoformat(), r.what) for r in await storage.checkins(CLUB, ALICE)] == [
        ("2025-02-20", None), ("2025-03-03", "quick"), ("2025-03-04", "clams"),
        ("2025-03-06", "myrtl")]
    view = await checkins.member_view(CLUB, ALICE)
    assert view.figures == Figures(current=3, best=3, total=4, week=3, month=3)
    assert view.zone == "Europe/Berlin" and len(view.recent_days) == 4
    bob = await checkins.member_view(CLUB, BOB)
    assert (bob.zone, bob.figures) == ("America/New_York", Figures(1, 5, 6, 1, 1))
    lapsed = await checkins.member_view(OTHER, ALICE)
    assert lapsed.figures == Figures(current=0, best=1, total=1, week=0, month=1)

    boards = {
        (board, period): [(r.rank, r.user_id, r.value) for r in
                          (await checkins.board(CLUB, ALICE, board, period)).slice.rows]
        for board in ("streak", "best", "checkins") for period in ("week", "all")
    }
    assert boards == {  # Carl left, Dora never checked in: neither is on a board
        ("streak", "week"): [(1, ALICE, 3), (2, BOB, 1)],
        ("streak", "all"): [(1, ALICE, 3), (2, BOB, 1)],
        ("best", "week"): [(1, BOB, 5), (2, ALICE, 3)],
        ("best", "all"): [(1, BOB, 5), (2, ALICE, 3)],
        ("checkins", "week"): [(1, ALICE, 3), (2, BOB, 1)],
        ("checkins", "all"): [(1, BOB, 6), (2, ALICE, 4)],
    }
    # Checking in (and taking it back) works on the carried-forward rows.
    done = await checkins.check_in(CLUB, ALICE, "quick")
    assert done.recorded and done.day == date(2025, 3, 7)
    assert done.figures == Figures(current=4, best=4, total=5, week=4, month=4)
    assert len(await storage.checkins(CLUB, ALICE)) == 5
    assert (await checkins.check_in(CLUB, DORA)).figures.total == 1
    assert (await checkins.undo(CLUB, ALICE)).figures.total == 4
    assert len(await storage.checkins(CLUB, ALICE)) == 4


# --- version 3: reminders -------------------------------------------------------------------

MORNING = Reminder(1, CLUB, "channel", 9001, None, "06:30", 1 | 4 | 16, "Europe/Berlin", 7001,
                   "quick", unix(2025, 3, 10, 6, 30, "Europe/Berlin"), None, 12, COACH)
EVENING = Reminder(2, CLUB, "channel", 9002, None, "18:00", 127, None, None, None, None,
                   "Stride lost permission to post in that channel", 3, COACH)
ALICES = Reminder(3, CLUB, "dm", None, ALICE, "07:15", 31, None, None, None,
                  unix(2025, 3, 10, 7, 15, "Europe/Berlin"), None, 0, ALICE)
SENT_AT = unix(2025, 3, 5, 6, 30, "Europe/Berlin")
OPEN_AT = unix(2025, 3, 7, 6, 30, "Europe/Berlin")


def _reminder_row(r: Reminder) -> str:
    values = (r.id, r.guild_id, r.kind, r.channel_id, r.user_id, r.at, r.days, r.timezone,
              r.role_id, r.routine, r.next_due, r.paused, r.fired, r.created_by)
    return "(" + ", ".join("NULL" if v is None else repr(v) for v in values) + ")"


V3 = f"""
INSERT INTO reminders (id, guild_id, kind, channel_id, user_id, at, days, timezone, role_id,
                       routine, next_due, paused, fired, created_by) VALUES
    {", ".join(_reminder_row(r) for r in (MORNING, EVENING, ALICES))};
INSERT INTO reminder_firings (reminder_id, due_at, status, message_id, detail, updated_at) VALUES
    (1, {SENT_AT}, 'sent', 880011223344, NULL, '2025-03-05T05:30:01.120Z'),
    (1, {OPEN_AT}, 'claimed', NULL, NULL, '2025-03-07T05:30:00.004Z'),
    (2, {SENT_AT - 43200}, 'failed', NULL, '403 Forbidden (error code: 50013)',
     '2025-03-04T17:00:00.500Z');
INSERT INTO dm_channels (user_id, channel_id) VALUES ({ALICE}, 9100);
"""


async def check_v3(storage: SqliteStorage, checkins: Checkins) -> None:
    assert await storage.reminders(CLUB) == [MORNING, EVENING]
    assert await storage.dm_reminder(CLUB, ALICE) == ALICES
    assert await storage.next_due() == MORNING.next_due
    assert await due_now(storage, MORNING.next_due or 0, 10) == [MORNING]
    # Claimed before leases existed: held by nobody, so taken over at once.
    assert (await left_claimed(storage))[0] == Claim(MORNING, OPEN_AT, "claimed")
    assert await storage.firing_count("sent") == 1 and await storage.firing_count() >= 3
    assert await storage.dm_channel(ALICE) == 9100
    # New reminders go on from the stored ones (later versions' rows among them).
    conn = sqlite3.connect(f"file:{storage.path}?mode=ro", uri=True)
    try:
        [(highest,)] = conn.execute("SELECT MAX(id) FROM reminders").fetchall()
    finally:
        conn.close()
    added = await storage.add_reminder(Reminder(0, CLUB, "channel", 9003, None, "07:00", 127,
                                                None, None, None, OPEN_AT, None, 0, COACH))
    assert highest >= 3 and added.id == highest + 1


# --- version 4: board counts (kept by triggers) --------------------------------------------
# A second club reminder's firing was claimed, and the process stopped, under version 4: no
# one knows whether it went out. Eve checked in once in another server.

EVE = 505
V4 = f"""
INSERT INTO reminder_firings (reminder_id, due_at, status, updated_at) VALUES
    (2, {OPEN_AT + 60}, 'claimed', '2025-03-07T05:31:00.001Z');
INSERT INTO members (guild_id, user_id, last_day, last_at, run, best, total, week_key,
                     week_count, month_key, month_count, breaks_at, rest_days) VALUES
    ({THIRD}, {EVE}, '2025-03-06', '2025-03-06T11:00:00+00:00', 1, 1, 1, '2025-W10', 1,
     '2025-03', 1, {unix(2025, 3, 8, zone="America/New_York")}, 1);
"""


async def check_v4(storage: SqliteStorage, checkins: Checkins) -> None:
    # Firings claimed before attempts were recorded count as never attempted: sent again
    # (with their nonce) rather than looked for.
    opened = await left_claimed(storage)
    assert [(c.reminder.id, c.due_at, c.attempted_at) for c in opened if c.reminder.id < 3] == [
        (1, OPEN_AT, None), (2, OPEN_AT + 60, None)]
    await storage.mark_attempted([(1, OPEN_AT)], OPEN_AT + 5)
    assert [c.attempted_at for c in await left_claimed(storage) if c.reminder.id < 3] == [
        OPEN_AT + 5, None]
    board = await checkins.board(THIRD, EVE, "checkins", "all")
    assert [(r.rank, r.user_id, r.value) for r in board.slice.rows] == [(1, EVE, 1)]


# --- version 5: firing attempts ---------------------------------------------------------
# Alice's DM of this morning was claimed and its send attempted, then the process died: no
# one knows whether it reached her (it is looked for before it is sent again).

ALICE_DUE = unix(2025, 3, 7, 7, 15, "Europe/Berlin")
V5 = f"""
INSERT INTO reminder_firings (reminder_id, due_at, status, updated_at, attempted_at) VALUES
    (3, {ALICE_DUE}, 'claimed', '2025-03-07T06:15:00.010Z', {ALICE_DUE + 2});
"""


async def check_v5(storage: SqliteStorage, checkins: Checkins) -> None:
    taken = await storage.take_over(Lease("after the upgrade", NOW_UNIX + 30), NOW_UNIX)
    assert [(c.reminder, c.due_at, c.attempted_at) for c in taken if c.reminder.id == 3] == [
        (ALICES, ALICE_DUE, ALICE_DUE + 2)]
    await storage.finish_firings([(3, ALICE_DUE, "sent", 880011223355, None)])
    assert await storage.renew(Lease("after the upgrade", NOW_UNIX + 60)) == len(taken) - 1


# --- version 6: firing leases ------------------------------------------------------------
# Reminder 2's firing of a minute ago is held by a process whose lease runs a while yet: the
# upgrade keeps it that process's until then.

HELD_DUE = NOW_UNIX - 60
V6 = f"""
INSERT INTO reminder_firings (reminder_id, due_at, status, updated_at, owner, lease_until)
VALUES (2, {HELD_DUE}, 'claimed', '2025-03-07T06:15:00.010Z', 'host/41/a1b2c3',
        {NOW_UNIX + 20});
"""


async def check_v6(storage: SqliteStorage, checkins: Checkins) -> None:
    taken = await storage.take_over(Lease("after the upgrade", NOW_UNIX + 30), NOW_UNIX)
    assert (2, HELD_DUE) not in {(c.reminder.id, c.due_at) for c in taken}  # still held
    later = await storage.take_over(Lease("after the upgrade", NOW_UNIX + 60), NOW_UNIX + 21)
    assert [(c.reminder.id, c.due_at) for c in later] == [(2, HELD_DUE)]
    assert await storage.next_lapse() is not None


# --- version 7: schedule notices (PostgreSQL only) -------------------------------------------
# Bob opened a DM channel with Stride. After the upgrade (run posts: reminder rows tied to an
# event), members' own DM reminders are as before: one each, replaced when set again.

V7 = f"""
INSERT INTO dm_channels (user_id, channel_id) VALUES ({BOB}, 9200);
"""


async def check_v7(storage: SqliteStorage, checkins: Checkins) -> None:
    assert await storage.dm_channel(BOB) == 9200
    again = await storage.add_reminder(replace(ALICES, id=0, at="06:45"))
    assert (again.id, again.at, again.event_id) == (ALICES.id, "06:45", None)  # replaced
    assert [r.id for r in await storage.reminders(CLUB, "dm")] == [ALICES.id]
    assert await storage.runs.settings(CLUB) is None  # /runs starts unset


# --- version 8: club runs -----------------------------------------------------------------
# The club set up /runs and has a run post waiting. After the upgrade (the club's week), the
# chart's daily counts hold every check-in made before it, members' DM reminders and nudges
# are told apart, and the run post is untouched.

RUN_DUE = NOW_UNIX + 30 * 86400  # after every other reminder (check_v3 reads the earliest)
V8 = f"""
INSERT INTO run_settings (guild_id, channel_id, minutes, created_by)
VALUES ({OTHER}, 7100, 30, 1);
INSERT INTO runs (guild_id, event_id, name, starts_at)
VALUES ({OTHER}, 5500, 'Track', {RUN_DUE + 1800});
INSERT INTO reminders (guild_id, kind, channel_id, at, days, next_due, created_by, event_id,
                       starts_at)
VALUES ({OTHER}, 'channel', 7100, '09:30', 127, {RUN_DUE}, 1, 5500, {RUN_DUE + 1800});
"""


async def check_v8(storage: SqliteStorage, checkins: Checkins) -> None:
    conn = sqlite3.connect(f"file:{storage.path}?mode=ro", uri=True)
    try:
        logged = Counter(date.fromisoformat(day) for (day,) in conn.execute(
            "SELECT day FROM checkins WHERE guild_id = ?", (CLUB,)))
    finally:
        conn.close()
    week = await storage.week.club_week(CLUB, date(2025, 1, 1), date(2025, 3, 1),
                                        date(2025, 3, 7), NOW_UNIX)
    assert logged and week.daily == dict(logged)  # backfilled from the log
    assert (week.milestones, week.comebacks, week.milestone_count) == ([], [], 0)
    nudge = await storage.week.save_nudge(replace(ALICES, id=0, at="20:00", next_due=None))
    assert nudge.id != ALICES.id and nudge.purpose == "nudge"
    assert [r.id for r in await storage.reminders(CLUB, "dm")] == [ALICES.id]
    assert (await storage.dm_reminder(CLUB, ALICE)).id == ALICES.id
    [run] = await storage.runs.upcoming(OTHER)
    assert run[0].name == "Track"


LEVELS: dict[int, Level] = {1: Level(V1, check_v1), 2: Level(V2, check_v2),
                            3: Level(V3, check_v3), 4: Level(V4, check_v4),
                            5: Level(V5, check_v5), 6: Level(V6, check_v6),
                            7: Level(V7, check_v7), 8: Level(V8, check_v8)}


# --- helpers --------------------------------------------------------------------------------

async def left_claimed(storage: SqliteStorage) -> list[Claim]:
    """The firings left 'claimed' that a new process takes over (not `everything`: only
    those nobody holds), taken under a lease that has run out, for the next check."""
    return await storage.take_over(Lease("upgrade check", 0), NOW_UNIX)


def build(path: Path, version: int) -> None:
    """A database used since schema 1 and upgraded step by step to `version`, gaining each
    version's rows while at that version (so earlier rows went through later migrations)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        for level in range(1, version + 1):
            mig.apply(conn, mig.available()[:level])
            conn.executescript(f"BEGIN;\n{LEVELS[level].sql}\nCOMMIT;")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


Snapshot = dict[str, tuple[list[str], Counter[tuple]]]


def snapshot(path: Path) -> Snapshot:
    """Every row of every table, by table: (columns, rows)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found: Snapshot = {}
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "AND name NOT LIKE 'sqlite%' ORDER BY name"):
            cur = conn.execute(f'SELECT * FROM "{table}"')
            found[table] = ([d[0] for d in cur.description], Counter(cur.fetchall()))
        return found
    finally:
        conn.close()


def rows_now(path: Path, table: str, columns: list[str]) -> Counter[tuple]:
    """The rows of `table` now, read as the columns it had before."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = ", ".join(f'"{c}"' for c in columns)
        return Counter(conn.execute(f'SELECT {names} FROM "{table}"').fetchall())
    finally:
        conn.close()


def schema(path: Path) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                            "ORDER BY type, name").fetchall()
    finally:
        conn.close()


def pragma(path: Path, name: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchall()
    finally:
        conn.close()


# --- tests ----------------------------------------------------------------------------------

def test_every_earlier_version_has_data() -> None:
    missing = sorted(set(range(1, LATEST)) - set(LEVELS))
    assert not missing, (
        f"add a Level to LEVELS for schema version(s) {missing}: the rows a database at that "
        "version holds, so the upgrade from it is tested")


@pytest.mark.parametrize("version", range(1, LATEST))
async def test_upgrade_keeps_every_row_and_works(tmp_path: Path, version: int) -> None:
    old = tmp_path / "old.db"
    build(old, version)
    before = snapshot(old)
    fresh = tmp_path / "fresh.db"
    for path in (fresh, old):  # a new database, and the old one upgraded
        storage = SqliteStorage(path)
        await storage.open()
        await storage.close()

    assert pragma(old, "user_version") == [(LATEST,)]
    assert schema(old) == schema(fresh)  # every table, index and trigger, as made new
    for table, (columns, rows) in before.items():
        assert rows_now(old, table, columns) == rows, f"{table}: rows changed"
    assert pragma(old, "integrity_check") == [("ok",)]
    assert pragma(old, "foreign_key_check") == []

    storage = SqliteStorage(old)
    await storage.open()
    try:
        checkins = Checkins(storage, ManualClock(NOW))
        for level in range(1, version + 1):
            await LEVELS[level].check(storage, checkins)
    finally:
        await storage.close()


@pytest.mark.parametrize("version", range(1, LATEST))
def test_a_failed_upgrade_leaves_the_previous_version(tmp_path: Path, version: int) -> None:
    """The next migration's own statements run, then one fails: all of it is rolled back."""
    path = tmp_path / "old.db"
    build(path, version)
    before, tables = snapshot(path), schema(path)
    shipped = mig.available()
    following = shipped[version]
    broken = mig.Migration(following.version, following.name,
                           following.sql + "\nINSERT INTO no_such_table VALUES (1);")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(SchemaError, match=f"migration {following.name} failed"):
            mig.apply(conn, [*shipped[:version], broken, *shipped[version + 1:]])
        assert not conn.in_transaction
    finally:
        conn.close()
    assert pragma(path, "user_version") == [(version,)]
    assert schema(path) == tables and snapshot(path) == before
