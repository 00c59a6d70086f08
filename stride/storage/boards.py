"""The SQL for each leaderboard: which column ranks members, who is on the board, and which
index serves it. Every filter is a prefix or range of one covering index, so a page reads a
few index entries and a rank counts only the entries above the member."""

from __future__ import annotations

from dataclasses import dataclass

BOARDS = ("streak", "best", "checkins")
PERIODS = ("week", "month", "all")
_BASE = "guild_id = :guild AND present = 1"


@dataclass(frozen=True, slots=True)
class BoardQuery:
    value: str  # the column members are ranked by
    where: str  # who is on the board (uses :guild, :now, :week, :month)
    rank_where: str  # the same, minus terms that a `value > x` range makes redundant
    index: str  # the index whose order is the board's order


def board_query(board: str, period: str) -> BoardQuery:
    """The ranking column, filters and index for `board` over `period` (fixed lists only)."""
    if board not in BOARDS or period not in PERIODS:
        raise ValueError(f"unknown board {board!r} / period {period!r}")
    active = {"week": " AND week_key = :week", "month": " AND month_key = :month", "all": ""}
    if board == "checkins":
        value = {"week": "week_count", "month": "month_count", "all": "total"}[period]
        index = {"week": "members_by_week", "month": "members_by_month",
                 "all": "members_by_total"}[period]
        rank_where = _BASE + active[period]
        where = rank_where if period != "all" else f"{rank_where} AND total > 0"
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
    return BoardQuery(value, where, rank_where, index)


def page_sql(q: BoardQuery) -> str:
    """One page of the board, in board order (:limit rows from :offset)."""
    return (
        f"SELECT user_id, {q.value} FROM members INDEXED BY {q.index} WHERE {q.where} "
        f"ORDER BY {q.value} DESC, user_id LIMIT :limit OFFSET :offset"
    )


def rank_sql(q: BoardQuery) -> str:
    """The caller's value, how many are ahead of it, and how many are ahead of :first."""
    mine = f"(SELECT {q.value} FROM members WHERE {q.where} AND user_id = :user)"
    return (
        f"SELECT {mine}, "
        f"(SELECT COUNT(*) FROM members WHERE {q.rank_where} AND {q.value} > {mine}), "
        f"(SELECT COUNT(*) FROM members WHERE {q.rank_where} AND {q.value} > :first)"
    )
