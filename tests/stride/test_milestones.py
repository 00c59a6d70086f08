"""Milestones (stride/milestones.py): each reached exactly once per run or ever, comebacks,
and the words for them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stride import streaks
from stride.milestones import (
    STREAK_MILESTONES,
    TOTAL_MILESTONES,
    describe,
    highlights,
    ordinal,
)
from stride.records import Highlight

START = date(2026, 1, 5)


def fold(days: list[date], rest_days: int = 2) -> list[tuple[Highlight, ...]]:
    """The highlights of each check-in of `days` (sorted, distinct), in order."""
    state, found = streaks.EMPTY, []
    for day in days:
        new = streaks.add_day(state, day, rest_days)
        assert new is not None
        found.append(highlights(state, new))
        state = new
    return found


def test_a_daily_habit_reaches_each_milestone_on_its_day() -> None:
    found = fold([START + timedelta(days=n) for n in range(100)])
    reached = {n + 1: h for n, h in enumerate(found) if h}
    assert reached == {
        7: (Highlight("streak", 7),), 10: (Highlight("total", 10),),
        14: (Highlight("streak", 14),), 30: (Highlight("streak", 30),),
        50: (Highlight("streak", 50), Highlight("total", 50)),
        100: (Highlight("streak", 100), Highlight("total", 100)),
    }


def test_a_broken_streak_is_a_comeback_and_its_milestones_come_again() -> None:
    first = [START + timedelta(days=n) for n in range(7)]
    gap = first[-1] + timedelta(days=9)  # 8 days missed: more than 2 rest days
    second = [gap + timedelta(days=n) for n in range(7)]
    found = fold(first + second)
    assert found[6] == (Highlight("streak", 7),)
    assert found[7] == (Highlight("back", 9),)
    assert found[13] == (Highlight("streak", 7),)  # a new run reaches 7 again
    assert found[9] == (Highlight("total", 10),)


def test_rest_days_keep_the_streak_and_are_no_comeback() -> None:
    days = [START + timedelta(days=3 * n) for n in range(7)]  # 2 missed between each
    found = fold(days, rest_days=2)
    assert found[6] == (Highlight("streak", 7),)
    assert not any(h.kind == "back" for hs in found for h in hs)


def test_the_first_check_in_is_no_comeback() -> None:
    assert fold([START]) == [()]


@given(st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=120,
                unique=True), st.integers(min_value=0, max_value=6))
def test_each_total_milestone_once_and_streak_ones_once_per_run(offsets: list[int],
                                                                 rest_days: int) -> None:
    days = sorted(START + timedelta(days=n) for n in offsets)
    found = fold(days, rest_days)
    totals = [h.value for hs in found for h in hs if h.kind == "total"]
    assert totals == [m for m in TOTAL_MILESTONES if m <= len(days)]
    runs = sum(1 for hs in found for h in hs if h.kind == "back") + 1
    streak_hits = [h.value for hs in found for h in hs if h.kind == "streak"]
    for milestone in STREAK_MILESTONES:
        assert streak_hits.count(milestone) <= runs


@pytest.mark.parametrize(("n", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
                                         (11, "11th"), (12, "12th"), (13, "13th"),
                                         (21, "21st"), (50, "50th"), (101, "101st"),
                                         (111, "111th"), (250, "250th")])
def test_ordinals(n: int, text: str) -> None:
    assert ordinal(n) == text


def test_describe() -> None:
    assert describe(Highlight("streak", 14)) == "14-day streak"
    assert describe(Highlight("total", 250)) == "250th check-in"
    assert describe(Highlight("back", 9)) == "back after 9 days"
