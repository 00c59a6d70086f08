"""Milestones: the check-ins worth celebrating, decided from the figures before and after.

A check-in reaches a streak milestone when its run becomes 7, 14, 30, 50 or 100 days (a run
grows one day at a time, so each is reached exactly once per run), and a total milestone when
it is the member's 10th, 50th, 100th, 250th or 500th check-in. It is a comeback ('back') when
it starts a new run after an earlier one had lapsed. Pure: the check-in stores them with its
row, and an undo takes them back with it.
"""

from __future__ import annotations

from stride.records import Highlight
from stride.streaks import StreakState

STREAK_MILESTONES = (7, 14, 30, 50, 100)
TOTAL_MILESTONES = (10, 50, 100, 250, 500)


def highlights(before: StreakState, after: StreakState) -> tuple[Highlight, ...]:
    """What the check-in that turned `before` into `after` reached (in the order shown)."""
    found: list[Highlight] = []
    if after.run in STREAK_MILESTONES and after.run == before.run + 1:
        found.append(Highlight("streak", after.run))
    if after.total in TOTAL_MILESTONES and after.total == before.total + 1:
        found.append(Highlight("total", after.total))
    if before.last_day is not None and after.last_day is not None and after.run == 1:
        found.append(Highlight("back", (after.last_day - before.last_day).days))
    return tuple(found)


def describe(highlight: Highlight) -> str:
    """A highlight in a few words, e.g. '7-day streak', '50th check-in', 'back after 9 days'."""
    if highlight.kind == "streak":
        return f"{highlight.value}-day streak"
    if highlight.kind == "total":
        return f"{ordinal(highlight.value)} check-in"
    return f"back after {highlight.value} days"


def is_milestone(highlight: Highlight) -> bool:
    return highlight.kind in ("streak", "total")


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 50th..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
