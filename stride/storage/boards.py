"""The SQL for each leaderboard: which column ranks members, and who is on the board."""

from __future__ import annotations

from dataclasses import dataclass

BOARDS = ("streak", "best", "checkins")
PERIODS = ("week", "month", "all")


@dataclass(frozen=True, slots=True)
class BoardQuery:
    value: str  # the column members are ranked by
    where: str  # who is on the board (uses :guild, :now, :week, :month)


def board_query(board: str, period: str) -> BoardQuery:
    """The ranking column and filter for `board` over `period` (both from fixed lists)."""
    if board not in BOARDS or period not in PERIODS:
        raise ValueError(f"unknown board {board!r} / period {period!r}")
    active = {
        "week": "week_key = :week",
        "month": "month_key = :month",
        "all": None,
    }[period]
    if board == "checkins":
        value = {"week": "week_count", "month": "month_count", "all": "total"}[period]
        where = active or "total > 0"
    elif board == "streak":
        value, where = "run", "breaks_at > :now AND run > 0"
        where = f"{where} AND {active}" if active else where
    else:
        value, where = "best", active or "best > 0"
    return BoardQuery(value, f"guild_id = :guild AND present = 1 AND {where}")
