"""Board queries (stride/storage/boards.py): indexed reads only, and ranks from the per-value
counts kept by triggers that equal counting the members."""

from __future__ import annotations

import contextlib
import random
from datetime import date, timedelta

from stride import streaks
from stride.checkins import Checkins
from stride.clock import ManualClock
from stride.errors import UserError
from stride.records import BOARDS, PERIODS
from stride.storage import SqliteStorage, Storage
from stride.storage.boards import board_query, page_sql, rank_sql
from tests.helpers import rows

G = 1000


async def test_board_and_streak_queries_never_scan_checkins(
    sqlite_storage: SqliteStorage,
) -> None:
    """Boards read the members indexes; member queries read by primary key (SQLite's plans;
    PostgreSQL's: test_postgres.py)."""
    storage = sqlite_storage
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


async def test_board_counts_match_counting_members(
    checkins: Checkins, clock: ManualClock, storage: Storage
) -> None:
    """Ranks come from per-value counts kept by triggers; after a random history of check-ins,
    undos, members leaving and coming back, deleted data and a rest-day change, every count
    and every rank equals what counting the members table itself gives."""
    rng = random.Random(11)
    start = clock.current
    users = range(1, 41)
    for step in range(600):
        clock.current = start + timedelta(hours=7 * step)  # crosses weeks and a month end
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
    counted = await rows(
        storage, "SELECT board, period, value, members FROM board_counts WHERE guild_id = :g "
        "AND members != 0", {"g": G})
    kept = {(b, p, v): n for b, p, v, n in counted}
    expected: dict[tuple[str, str, int], int] = {}
    for best, total, week, week_n, month, month_n in await rows(
        storage, "SELECT best, total, week_key, week_count, month_key, month_count FROM members "
        "WHERE guild_id = :g AND present = 1", {"g": G}
    ):
        for key in (("best", "", best), ("total", "", total), ("week_best", week or "", best),
                    ("week_count", week or "", week_n), ("month_best", month or "", best),
                    ("month_count", month or "", month_n)):
            expected[key] = expected.get(key, 0) + 1
    assert kept == expected
    assert min(n for *_, n in await rows(storage, "SELECT members FROM board_counts")) >= 0
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
                [(ahead,)] = await rows(
                    storage,
                    f"SELECT COUNT(*) FROM members WHERE {q.rank_where} AND {q.value} > :mine",
                    {**params, "mine": mine})
                assert page.slice.my_rank == ahead + 1, (board, period, user)


def local_today(clock: ManualClock) -> date:
    return clock.current.date()  # the club zone is UTC in these tests
