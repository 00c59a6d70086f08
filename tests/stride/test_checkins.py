"""Check-ins, streak figures and boards (stride/checkins.py) against a real SQLite file, with
an injected clock. (The board queries themselves: tests/stride/storage/test_boards.py.)"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from stride import streaks
from stride.checkins import Checkins
from stride.clock import ManualClock
from stride.errors import UserError
from stride.records import BOARDS, PERIODS, ClubSettings
from stride.storage import SqliteStorage, Storage

G = 1000


async def test_one_checkin_per_local_day(checkins: Checkins, clock: ManualClock) -> None:
    first = await checkins.check_in(G, 1, "quick")
    again = await checkins.check_in(G, 1)
    assert first.recorded and not again.recorded
    assert again.figures.total == 1 and first.figures.current == 1
    clock.advance(days=1)
    nxt = await checkins.check_in(G, 1)
    assert nxt.recorded and nxt.figures.current == 2 and nxt.figures.best == 2


async def test_simultaneous_checkins_count_once(checkins: Checkins, storage: Storage) -> None:
    results = await asyncio.gather(*(checkins.check_in(G, 7) for _ in range(50)))
    assert sum(r.recorded for r in results) == 1
    assert await storage.checkin_days(G, 7) == [date(2026, 11, 23)]
    view = await checkins.member_view(G, 7)
    assert view.figures.total == 1


async def test_day_is_the_members_local_day(checkins: Checkins, clock: ManualClock) -> None:
    # 10:30 UTC: already Tuesday in Kiritimati (UTC+14), still Sunday in Pago Pago (UTC-11).
    clock.current = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    await checkins.set_timezone(G, 1, "Pacific/Kiritimati")
    await checkins.set_timezone(G, 2, "pacific/pago pago")
    east, west = await checkins.check_in(G, 1), await checkins.check_in(G, 2)
    assert east.day == date(2026, 11, 25)
    assert west.day == date(2026, 11, 23)


async def test_club_zone_is_the_default(checkins: Checkins, clock: ManualClock) -> None:
    clock.current = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    await checkins.update_club(G, timezone="Europe/Berlin")
    result = await checkins.check_in(G, 3)
    assert result.day == date(2026, 11, 24)  # 00:30 in Berlin


async def test_unknown_zone_changes_nothing(checkins: Checkins, storage: Storage) -> None:
    with pytest.raises(UserError, match="Europe/Berlin"):
        await checkins.set_timezone(G, 1, "Europe/Berln")
    _, member = await storage.member(G, 1)
    assert not member.exists


async def test_rest_days_keep_the_streak_alive(checkins: Checkins, clock: ManualClock) -> None:
    for offset in (0, 1, 4):  # Mon, Tue, Fri: two missed days, within the default rule
        clock.current = datetime(2026, 11, 23, 12, tzinfo=UTC) + timedelta(days=offset)
        await checkins.check_in(G, 1)
    assert (await checkins.member_view(G, 1)).figures.current == 3
    clock.advance(days=3)  # Mon: Sat, Sun missed
    assert (await checkins.member_view(G, 1)).figures.current == 3
    clock.advance(days=1)  # Tue: three missed
    assert (await checkins.member_view(G, 1)).figures.current == 0


async def test_undo(checkins: Checkins, clock: ManualClock, storage: Storage) -> None:
    with pytest.raises(UserError, match="nothing to undo"):
        await checkins.undo(G, 1)
    await checkins.check_in(G, 1)
    clock.advance(days=1)
    await checkins.check_in(G, 1)
    figures = (await checkins.undo(G, 1)).figures
    assert figures.total == 1 and figures.current == 1
    assert await storage.checkin_days(G, 1) == [date(2026, 11, 23)]
    again = await checkins.check_in(G, 1)
    assert again.recorded and again.figures.current == 2


async def test_changing_rest_days_recomputes_everyone(
    checkins: Checkins, clock: ManualClock, storage: Storage
) -> None:
    rng = random.Random(4)
    start = clock.current
    history: dict[int, list[date]] = {}
    for day in range(60):
        clock.current = start + timedelta(days=day)
        for user in range(1, 6):
            if rng.random() < 0.45:
                result = await checkins.check_in(G, user)
                history.setdefault(user, []).append(result.day)
    await checkins.update_club(G, rest_days=0)
    for user, days in history.items():
        expected = streaks.from_days(days, 0)
        _, member = await storage.member(G, user)
        assert (member.state.run, member.state.best, member.rest_days) == (
            expected.run, expected.best, 0
        )
    with pytest.raises(UserError, match="from 0 to 6"):
        await checkins.update_club(G, rest_days=9)


async def test_boards_rank_ties_the_same_and_show_the_caller(
    checkins: Checkins, clock: ManualClock, storage: Storage
) -> None:
    start = clock.current
    # user u checks in on u consecutive days -> totals 1..24, users 25 and 26 tie with 24.
    for u in range(1, 27):
        for d in range(min(u, 24)):
            clock.current = start + timedelta(days=d)
            await checkins.check_in(G, u)
    clock.current = start + timedelta(days=23)
    top = await checkins.board(G, 1, "checkins", "all", 0)
    assert top.has_next
    assert [r.rank for r in top.slice.rows[:4]] == [1, 1, 1, 4]
    assert top.slice.my_rank == 26 and top.slice.my_value == 1
    last = await checkins.board(G, 1, "checkins", "all", 2)
    assert not last.has_next and last.slice.rows[-1].user_id == 1
    assert [r.rank for r in last.slice.rows] == [21, 22, 23, 24, 25, 26]
    beyond = await checkins.board(G, 1, "checkins", "all", 9)
    assert beyond.slice.rows == [] and beyond.slice.my_rank == 26
    await storage.set_present(G, 26, False)
    top = await checkins.board(G, 1, "checkins", "all", 0)
    assert 26 not in [r.user_id for r in top.slice.rows]
    assert (await checkins.board(G, 1, "checkins", "all", 0)).slice.my_rank == 25
    await storage.forget_member(G, 25)
    assert await storage.checkin_days(G, 25) == []
    # Current streaks: only runs still alive on day 23 (last check-in on day 20 or later).
    top = await checkins.board(G, 1, "streak", "all", 0)
    assert [(r.user_id, r.value) for r in top.slice.rows] == [(24, 24), (23, 23), (22, 22),
                                                               (21, 21)]
    assert top.slice.my_rank is None


async def test_each_command_makes_at_most_three_round_trips(
    checkins: Checkins, storage: Storage, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every statement counts: on SQLite's database thread (execute, execute_fetchall) or
    inline; on PostgreSQL every query a connection sends (BEGIN and COMMIT too; a statement's
    first preparation on a connection is not counted: it is cached after that)."""
    calls = 0

    def counted(target: object, name: str) -> None:
        original = getattr(target, name)

        def counting(*args, **kwargs):
            nonlocal calls
            calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(target, name, counting)

    if isinstance(storage, SqliteStorage):
        for name in ("execute", "execute_fetchall"):
            counted(storage.conn, name)
        counted(storage, "_lookup")
    else:
        import asyncpg

        for name in ("execute", "executemany", "fetch", "fetchrow", "fetchval"):
            counted(asyncpg.Connection, name)
    operations = {
        "checkin": lambda: checkins.check_in(G, 1, "quick"),
        "checkin again": lambda: checkins.check_in(G, 1),
        "streak": lambda: checkins.member_view(G, 1),
        "undo": lambda: checkins.undo(G, 1),
        **{
            f"board {b} {p}": (lambda b=b, p=p: checkins.board(G, 1, b, p, 0))
            for b in BOARDS for p in PERIODS
        },
    }
    for name, operation in operations.items():
        calls = 0
        await operation()
        assert 1 <= calls <= 3, (name, calls)


async def test_boards_follow_a_club_change_at_once_and_one_made_elsewhere_soon(
    checkins: Checkins, storage: Storage, clock: ManualClock
) -> None:
    """Boards keep the club's settings a minute (a round trip less on PostgreSQL): a change
    through the service shows at once; one written by another hand within the minute."""
    clock.current = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # Sunday, W48 in UTC
    await checkins.check_in(1, 7)
    assert (await checkins.board(1, 7, "checkins", "week")).slice.my_value == 1
    await checkins.update_club(1, timezone="Asia/Tokyo")  # already Monday, W49, there
    assert (await checkins.board(1, 7, "checkins", "week")).slice.my_value is None
    await storage.save_club_settings(1, ClubSettings(None, 2))  # behind the service's back
    assert (await checkins.board(1, 7, "checkins", "week")).slice.my_value is None
    clock.current += timedelta(minutes=1)
    assert (await checkins.board(1, 7, "checkins", "week")).slice.my_value == 1
