"""The SQL for each leaderboard: which column ranks members, who is on the board, and which
index serves it. Every filter is a prefix or range of one covering index, so a page reads a
few index entries. A rank sums the per-value member counts above the member (`board_counts`,
kept by triggers); the streak boards, whose members change with the clock, count the index
entries above the member instead."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stride.records import BOARDS, PERIODS, BoardRow

_BASE = "guild_id = :guild AND present = 1"


@dataclass(frozen=True, slots=True)
class BoardQuery:
    value: str  # the column members are ranked by
    where: str  # who is on the board (uses :guild, :now, :week, :month)
    rank_where: str  # the same, minus terms that a `value > x` range makes redundant
    index: str  # the index whose order is the board's order
    counts: str | None = None  # the board's name in board_counts (None: count the index)
    period: str = "''"  # the board_counts period to sum: :week, :month or '' (all time)


def board_query(board: str, period: str) -> BoardQuery:
    """The ranking column, filters and index for `board` over `period` (fixed lists only)."""
    if board not in BOARDS or period not in PERIODS:
        raise ValueError(f"unknown board {board!r} / period {period!r}")
    active = {"week": " AND week_key = :week", "month": " AND month_key = :month", "all": ""}
    counts_period = {"week": ":week", "month": ":month", "all": "''"}[period]
    if board == "checkins":
        value = {"week": "week_count", "month": "month_count", "all": "total"}[period]
        index = {"week": "members_by_week", "month": "members_by_month",
                 "all": "members_by_total"}[period]
        rank_where = _BASE + active[period]
        where = rank_where if period != "all" else f"{rank_where} AND total > 0"
        counts = {"week": "week_count", "month": "month_count", "all": "total"}[period]
        return BoardQuery(value, where, rank_where, index, counts, counts_period)
    elif board == "streak":
        value = "run"
        index = {"all": "members_by_streak", "week": "members_by_week_streak",
                 "month": "members_by_month_streak"}[period]
        rank_where = f"{_BASE}{active[period]} AND breaks_at > :now"
        where = f"{rank_where} AND run > 0"
    else:
        value = "best"
        index = {"all": "members_by_best", "week": "members_by_week_best",
                 "month": "members_by_month_best"}[period]
        rank_where = _BASE + active[period]
        where = f"{rank_where} AND best > 0"
        counts = {"week": "week_best", "month": "month_best", "all": "best"}[period]
        return BoardQuery(value, where, rank_where, index, counts, counts_period)
    return BoardQuery(value, where, rank_where, index)


def page_sql(q: BoardQuery, dialect: str = "sqlite") -> str:
    """One page of the board, in board order (:limit rows from :offset). SQLite is told the
    index (its planner may otherwise pick a shorter one and sort); PostgreSQL's planner
    finds it from the statistics, and has no such clause."""
    hint = f" INDEXED BY {q.index}" if dialect == "sqlite" else ""
    return (
        f"SELECT user_id, {q.value} FROM members{hint} WHERE {q.where} "
        f"ORDER BY {q.value} DESC, user_id LIMIT :limit OFFSET :offset"
    )


def rank_sql(q: BoardQuery) -> str:
    """The caller's value, how many are ahead of it, and how many are ahead of :first."""
    mine = f"(SELECT {q.value} FROM members WHERE {q.where} AND user_id = :user)"
    if q.counts is None:
        def above(value: str) -> str:
            return f"(SELECT COUNT(*) FROM members WHERE {q.rank_where} AND {q.value} > {value})"
    else:
        def above(value: str) -> str:
            return (
                "(SELECT COALESCE(SUM(members), 0) FROM board_counts WHERE guild_id = :guild "
                f"AND board = '{q.counts}' AND period = {q.period} AND value > {value})"
            )
    return f"SELECT {mine}, {above(mine)}, {above(':first')}"


def page_and_rank_sql(q: BoardQuery) -> str:
    """PostgreSQL: the page and the caller's rank in one statement (one round trip, where
    SQLite's inline reads need none). Rows (user id, value, my value, ahead of me, ahead of
    the page's first), in no particular order (the caller orders the few page rows); one
    row with no user when the page is empty. The page's first value is its largest, so the
    rank of the first needs no second query."""
    rank = rank_sql(q).replace(":first", f"(SELECT MAX({q.value}) FROM page)")
    return (
        f"WITH page AS MATERIALIZED ({page_sql(q, 'postgresql')}), "
        f"rank (mine, ahead, ahead_of_first) AS ({rank}) "
        f"SELECT page.user_id, page.{q.value}, rank.mine, rank.ahead, rank.ahead_of_first "
        "FROM rank LEFT JOIN page ON TRUE"
    )


def ranked(page: list[tuple[int, int]], offset: int, ahead_of_first: int) -> list[BoardRow]:
    """A page's (user id, value) rows with competition ranks, the first one's from how many
    are ahead of it, the others' from their place on the page (ties share one rank)."""
    rows: list[BoardRow] = []
    for i, (uid, val) in enumerate(page):
        if i == 0:
            rank = ahead_of_first + 1
        elif val == rows[-1].value:
            rank = rows[-1].rank
        else:
            rank = offset + i + 1
        rows.append(BoardRow(rank, uid, val))
    return rows


_NAMED = re.compile(r"(?<![:\w]):([a-z_]+)\b")


def numbered(sql: str) -> tuple[str, list[str]]:
    """`sql` with its :named parameters as PostgreSQL's $1, $2, ... (numbered in order of
    first use: PostgreSQL refuses a number it cannot see), and the names in that order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"
    return _NAMED.sub(number, sql), names
