"""Check-ins, streak figures and boards against a real SQLite file, with an injected clock."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from stride import streaks
from stride.checkins import Checkins
from stride.errors import UserError
from stride.records import BOARDS, PERIODS
from stride.storage import Storage
from stride.storage.boards import board_query, page_sql, rank_sql

G = 1000


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))  # a Monday


@pytest.fixture
def checkins(storage: Storage, clock: FakeClock) -> Checkins:
    return Checkins(storage, clock)


async def test_one_checkin_per_local_day(checkins: Checkins, clock: FakeClock) -> None:
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


async def test_day_is_the_members_local_day(checkins: Checkins, clock: FakeClock) -> None:
    # 10:30 UTC: already Tuesday in Kiritimati (UTC+14), still Sunday in Pago Pago (UTC-11).
    clock.now = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    await checkins.set_timezone(G, 1, "Pacific/Kiritimati")
    await checkins.set_timezone(G, 2, "pacific/pago pago")
    east, west = await checkins.check_in(G, 1), await checkins.check_in(G, 2)
    assert east.day == date(2026, 11, 25)
    assert west.day == date(2026, 11, 23)


async def test_club_zone_is_the_default(checkins: Checkins, clock: FakeClock) -> None:
    clock.now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    await checkins.update_club(G, timezone="Europe/Berlin")
    result = await checkins.check_in(G, 3)
    assert result.day == date(2026, 11, 24)  # 00:30 in Berlin


async def test_unknown_zone_changes_nothing(checkins: Checkins, storage: Storage) -> None:
    with pytest.raises(UserError, match="Europe/Berlin"):
        await checkins.set_timezone(G, 1, "Europe/Berln")
    _, member = await storage.member(G, 1)
    assert not member.exists


async def test_rest_days_keep_the_streak_alive(checkins: Checkins, clock: FakeClock) -> None:
    for offset in (0, 1, 4):  # Mon, Tue, Fri: two missed days, within the default rule
        clock.now = datetime(2026, 11, 23, 12, tzinfo=UTC) + timedelta(days=offset)
        await checkins.check_in(G, 1)
    assert (await checkins.member_view(G, 1)).figures.current == 3
    clock.advance(days=3)  # Mon: Sat, Sun missed
    assert (await checkins.member_view(G, 1)).figures.current == 3
    clock.advance(days=1)  # Tue: three missed
    assert (await checkins.member_view(G, 1)).figures.current == 0


async def test_undo(checkins: Checkins, clock: FakeClock, storage: Storage) -> None:
    with pytest.raises(UserError, match="nothing to undo"):
        await checkins.undo(G, 1)
    await checkins.check_in(G, 1)
    clock.advance(days=1)
    await checkins.check_in(G, 1)
    figures = await checkins.undo(G, 1)
    assert figures.total == 1 and figures.current == 1
    assert await storage.checkin_days(G, 1) == [date(2026, 11, 23)]
    again = await checkins.check_in(G, 1)
    assert again.recorded and again.figures.current == 2


async def test_changing_rest_days_recomputes_everyone(
    checkins: Checkins, clock: FakeClock, storage: Storage
) -> None:
    rng = random.Random(4)
    start = clock.now
    history: dict[int, list[date]] = {}
    for day in range(60):
        clock.now = start + timedelta(days=day)
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
    checkins: Checkins, clock: FakeClock, storage: Storage
) -> None:
    start = clock.now
    # user u checks in on u consecutive days -> totals 1..24, users 25 and 26 tie with 24.
    for u in range(1, 27):
        for d in range(min(u, 24)):
            clock.now = start + timedelta(days=d)
            await checkins.check_in(G, u)
    clock.now = start + timedelta(days=23)
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


async def test_board_and_streak_queries_never_scan_checkins(storage: Storage) -> None:
    """Boards read the members indexes; member queries read by primary key."""
    params = {"guild": G, "user": 1, "now": 0, "week": "2026-W48", "month": "2026-11",
              "offset": 0, "limit": 10, "first": 0}
    statements = []
    for board in BOARDS:
        for period in PERIODS:
            q = board_query(board, period)
            statements += [page_sql(q), rank_sql(q)]
    statements.append(
        "SELECT day FROM checkins WHERE guild_id = :guild AND user_id = :user AND day >= :week"
    )
    for sql in statements:
        async with storage.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params) as cur:
            plan = " | ".join(r[3] for r in await cur.fetchall())
        assert "SCAN checkins" not in plan, (sql, plan)
        assert "SCAN members" not in plan, (sql, plan)
        assert "SCAN board_counts" not in plan, (sql, plan)
        assert "TEMP B-TREE" not in plan, (sql, plan)


async def test_each_command_makes_at_most_three_round_trips(
    checkins: Checkins, storage: Storage, clock: FakeClock
) -> None:
    """Every statement counts: on the database thread (execute, execute_fetchall) or inline."""
    calls = 0

    def counted(target: object, name: str) -> None:
        original = getattr(target, name)

        def counting(*args, **kwargs):
            nonlocal calls
            calls += 1
            return original(*args, **kwargs)

        setattr(target, name, counting)

    for name in ("execute", "execute_fetchall"):
        counted(storage.conn, name)
    counted(storage, "_lookup")
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


async def test_board_counts_match_counting_members(
    checkins: Checkins, clock: FakeClock, storage: Storage
) -> None:
    """Ranks come from per-value counts kept by triggers; after a random history of check-ins,
    undos, members leaving and coming back, deleted data and a rest-day change, every count
    and every rank equals what counting the members table itself gives."""
    rng = random.Random(11)
    start = clock.now
    users = range(1, 41)
    for step in range(600):
        clock.now = start + timedelta(hours=7 * step)  # crosses weeks and a month end
        user, roll = rng.choice(users), rng.random()
        if roll < 0.75:
            await checkins.check_in(G, user)
        elif roll < 0.82:
            with contextlib.suppress(UserError):
                await checkins.undo(G, user)
        elif roll < 0.92:
            await storage.set_present(G, user, rng.random() < 0.5)
        elif roll < 0.96:
            await storage.forget_member(G, user)
        elif step % 5 == 0:
            await checkins.update_club(G, rest_days=rng.randrange(0, 4))
    rows = await storage.conn.execute_fetchall(
        "SELECT board, period, value, members FROM board_counts WHERE guild_id = ? "
        "AND members != 0", (G,))
    kept = {(b, p, v): n for b, p, v, n in rows}
    expected: dict[tuple[str, str, int], int] = {}
    for best, total, week, week_n, month, month_n in await storage.conn.execute_fetchall(
        "SELECT best, total, week_key, week_count, month_key, month_count FROM members "
        "WHERE guild_id = ? AND present = 1", (G,)
    ):
        for key in (("best", "", best), ("total", "", total), ("week_best", week or "", best),
                    ("week_count", week or "", week_n), ("month_best", month or "", best),
                    ("month_count", month or "", month_n)):
            expected[key] = expected.get(key, 0) + 1
    assert kept == expected
    assert min(n for *_, n in await storage.conn.execute_fetchall(
        "SELECT members FROM board_counts")) >= 0
    for board in ("best", "checkins"):
        for period in PERIODS:
            q = board_query(board, period)
            for user in users:
                page = await checkins.board(G, user, board, period, 0)
                mine = page.slice.my_value
                if mine is None:
                    assert page.slice.my_rank is None
                    continue
                params = {"guild": G, "week": streaks.week_key(local_today(clock)),
                          "month": streaks.month_key(local_today(clock))}
                [(ahead,)] = await storage.conn.execute_fetchall(
                    f"SELECT COUNT(*) FROM members WHERE {q.rank_where} AND {q.value} > :mine",
                    {**params, "mine": mine})
                assert page.slice.my_rank == ahead + 1, (board, period, user)


def local_today(clock: FakeClock) -> date:
    return clock.now.date()  # the club zone is UTC in these tests
