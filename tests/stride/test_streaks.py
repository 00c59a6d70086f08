"""The streak rule: examples, edges, and properties against a naive day-by-day walk."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import reduce

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stride.streaks import (
    DEFAULT_REST_DAYS,
    EMPTY,
    Figures,
    StreakState,
    add_day,
    breaks_on,
    current_streak,
    figures,
    from_days,
    month_count,
    month_key,
    undo_day,
    week_count,
    week_key,
)

# A week starting on Monday 2026-11-23 (ISO week 2026-W48).
MON = date(2026, 11, 23)
TUE, WED, THU, FRI, SAT, SUN = (MON + timedelta(days=i) for i in range(1, 7))
NEXT_MON = MON + timedelta(days=7)
NEXT_TUE = MON + timedelta(days=8)


def fold(days: Iterable[date], rest_days: int) -> StreakState:
    """Fold add_day over the days in the order given, requiring each to count."""
    state = EMPTY
    for day in days:
        new = add_day(state, day, rest_days)
        assert new is not None, day
        state = new
    return state


def naive(days: Iterable[date], today: date, rest_days: int) -> Figures:
    """The figures, computed in the most obvious way: walk every day from the first."""
    checked = set(days)
    run = best = 0
    missed = 0
    day = min(checked)
    while day <= today:
        if day in checked:
            if missed > rest_days:
                run = 0
            run += 1
            missed = 0
            best = max(best, run)
        elif day != today:  # today is not missed yet: the member may still check in
            missed += 1
        day += timedelta(days=1)
    iso_today = today.isocalendar()[:2]
    return Figures(
        current=run if missed <= rest_days else 0,
        best=best,
        total=len(checked),
        week=sum(1 for d in checked if d.isocalendar()[:2] == iso_today),
        month=sum(1 for d in checked if (d.year, d.month) == (today.year, today.month)),
    )


# --- the docstring example -------------------------------------------------------------


def test_docstring_example() -> None:
    state = fold([MON, TUE, FRI], rest_days=2)
    assert state.run == 3
    assert current_streak(state, FRI, 2) == 3
    assert current_streak(state, SAT, 2) == 3
    assert current_streak(state, SUN, 2) == 3
    assert current_streak(state, NEXT_MON, 2) == 3  # Sat, Sun missed: 2 <= 2
    assert current_streak(state, NEXT_TUE, 2) == 0  # Sat, Sun, Mon missed: 3 > 2
    assert breaks_on(state, 2) == NEXT_TUE


def test_default_rest_days_is_two() -> None:
    assert DEFAULT_REST_DAYS == 2


# --- add_day ---------------------------------------------------------------------------


def test_first_check_in() -> None:
    state = add_day(EMPTY, MON, 2)
    assert state == StreakState(
        last_day=MON,
        run=1,
        best=1,
        total=1,
        week_key="2026-W48",
        week_count=1,
        month_key="2026-11",
        month_count=1,
    )


def test_same_day_twice_and_earlier_days_do_not_count() -> None:
    state = fold([MON, WED], 2)
    assert add_day(state, WED, 2) is None
    assert add_day(state, TUE, 2) is None
    assert add_day(state, MON - timedelta(days=30), 2) is None
    assert from_days([MON, WED, WED, MON], 2) == state


@pytest.mark.parametrize("rest_days", range(7))
def test_gap_exactly_at_the_limit_continues_and_one_more_breaks(rest_days: int) -> None:
    at_limit = MON + timedelta(days=rest_days + 1)  # rest_days days missed between
    over = MON + timedelta(days=rest_days + 2)  # rest_days + 1 days missed
    assert fold([MON, at_limit], rest_days).run == 2
    assert fold([MON, over], rest_days).run == 1
    state = fold([MON], rest_days)
    assert current_streak(state, at_limit, rest_days) == 1
    assert current_streak(state, over, rest_days) == 0
    assert breaks_on(state, rest_days) == over


def test_strictly_daily() -> None:
    state = fold([MON, TUE, WED], 0)
    assert state.run == 3
    assert current_streak(state, WED, 0) == 3
    assert current_streak(state, THU, 0) == 3  # may still check in on Thursday
    assert current_streak(state, FRI, 0) == 0
    assert breaks_on(state, 0) == FRI
    broken = fold([MON, TUE, THU], 0)
    assert (broken.run, broken.best) == (1, 2)


def test_best_survives_a_broken_run_and_a_longer_run_replaces_it() -> None:
    days = [MON, TUE, WED, date(2026, 12, 20), date(2026, 12, 21)]
    state = fold(days, 2)
    assert (state.run, state.best, state.total) == (2, 3, 5)
    more = fold([*days, date(2026, 12, 22), date(2026, 12, 24)], 2)
    assert (more.run, more.best, more.total) == (4, 4, 7)


def test_long_gap() -> None:
    state = fold([date(2026, 1, 1), date(2026, 1, 2), date(2029, 6, 1)], 6)
    assert (state.run, state.best, state.total) == (1, 2, 3)
    assert current_streak(state, date(2031, 1, 1), 6) == 0
    assert figures(state, date(2031, 1, 1), 6) == Figures(0, 2, 3, 0, 0)


def test_leap_day() -> None:
    days = [date(2028, 2, 28), date(2028, 2, 29), date(2028, 3, 1)]
    state = fold(days, 0)
    assert state.run == 3
    assert (state.month_key, state.month_count) == ("2028-03", 1)
    assert state.week_key == "2028-W09"
    assert state.week_count == 3  # Mon 28 Feb to Wed 1 Mar
    # 2027 has no 29 February: 28 Feb -> 1 Mar is consecutive.
    assert fold([date(2027, 2, 28), date(2027, 3, 1)], 0).run == 2
    # Across the leap day with one rest day: 28 Feb, (29 Feb missed), 1 Mar.
    assert fold([date(2028, 2, 28), date(2028, 3, 1)], 1).run == 2
    assert fold([date(2028, 2, 28), date(2028, 3, 1)], 0).run == 1
    assert breaks_on(from_days([date(2028, 2, 27)], 0), 0) == date(2028, 2, 29)


# --- ISO weeks and months ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "key"),
    [
        (date(2026, 11, 23), "2026-W48"),
        (date(2026, 12, 31), "2026-W53"),  # 2026 has 53 ISO weeks
        (date(2027, 1, 1), "2026-W53"),  # ISO year 2026, calendar year 2027
        (date(2027, 1, 3), "2026-W53"),
        (date(2027, 1, 4), "2027-W01"),
        (date(2024, 12, 30), "2025-W01"),  # ISO year 2025, calendar year 2024
        (date(2028, 1, 2), "2027-W52"),
    ],
)
def test_week_key_uses_the_iso_year(day: date, key: str) -> None:
    assert week_key(day) == key


def test_week_and_month_across_a_year_boundary() -> None:
    state = fold([date(2026, 12, 28), date(2026, 12, 31), date(2027, 1, 1)], 2)
    assert (state.week_key, state.week_count) == ("2026-W53", 3)
    assert (state.month_key, state.month_count) == ("2027-01", 1)
    assert week_count(state, date(2027, 1, 3)) == 3  # Sunday, same ISO week
    assert week_count(state, date(2027, 1, 4)) == 0  # Monday, new week
    assert month_count(state, date(2027, 1, 31)) == 1
    assert month_count(state, date(2027, 2, 1)) == 0
    # Same week number, different ISO year: not this week.
    assert week_count(state, date(2027, 12, 31)) == 0  # 2027-W52
    assert week_count(fold([date(2020, 12, 31)], 2), date(2026, 12, 31)) == 0  # both W53


def test_month_key_is_not_confused_by_the_same_month_another_year() -> None:
    state = fold([date(2026, 11, 5)], 2)
    assert month_key(date(2026, 11, 5)) == "2026-11"
    assert month_count(state, date(2027, 11, 5)) == 0


def test_week_and_month_counts_restart_with_the_period() -> None:
    state = fold([SAT, SUN, NEXT_MON, date(2026, 12, 1)], 6)
    assert (state.week_key, state.week_count) == ("2026-W49", 2)
    assert (state.month_key, state.month_count) == ("2026-12", 1)
    assert state.run == 4


def test_figures() -> None:
    state = fold([MON, TUE, FRI], 2)
    assert figures(state, SAT, 2) == Figures(current=3, best=3, total=3, week=3, month=3)
    assert figures(state, NEXT_MON, 2) == Figures(current=3, best=3, total=3, week=0, month=3)
    assert figures(state, NEXT_TUE, 2) == Figures(current=0, best=3, total=3, week=0, month=0)
    assert figures(EMPTY, MON, 2) == Figures(0, 0, 0, 0, 0)


def test_today_before_the_last_day_counts_as_alive() -> None:
    state = fold([MON, TUE], 0)
    assert current_streak(state, MON, 0) == 2


# --- empty state, undo, validation -------------------------------------------------------


def test_empty() -> None:
    assert from_days([], 2) == EMPTY
    assert breaks_on(EMPTY, 2) is None
    assert current_streak(EMPTY, MON, 2) == 0
    assert week_count(EMPTY, MON) == 0
    assert month_count(EMPTY, MON) == 0


def test_undo_joins_or_splits_runs() -> None:
    days = [MON, TUE, WED, THU]
    assert undo_day(days, WED, 0) == fold([MON, TUE, THU], 0)
    assert undo_day(days, WED, 0).best == 2
    assert undo_day(days, THU, 0) == fold([MON, TUE, WED], 0)
    assert undo_day([MON], MON, 0) == EMPTY
    assert undo_day(days, SUN, 0) == fold(days, 0)  # not a check-in day: nothing changes


def test_changing_rest_days_recomputes() -> None:
    days = [MON, THU, NEXT_MON]
    assert from_days(days, 0).best == 1
    assert from_days(days, 2).best == 2
    assert from_days(days, 3).best == 3


@pytest.mark.parametrize("bad", [-1, 7, 100, 2.0, "2", None, True])
def test_rest_days_is_validated(bad: object) -> None:
    with pytest.raises(ValueError, match="rest_days"):
        add_day(EMPTY, MON, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rest_days"):
        from_days([], bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rest_days"):
        current_streak(EMPTY, MON, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rest_days"):
        breaks_on(EMPTY, bad)  # type: ignore[arg-type]


def test_state_is_frozen() -> None:
    with pytest.raises(AttributeError):
        EMPTY.run = 3  # type: ignore[misc]


# --- properties --------------------------------------------------------------------------

BASE = date(2026, 1, 1)  # ~3 years from here cover 2026-W53 and 29 February 2028
SPAN = 3 * 366

# Sparse random sets and clustered ones (small gaps), so runs of every length turn up.
scattered = st.sets(st.integers(0, SPAN), min_size=1, max_size=120)
clustered = st.tuples(
    st.integers(0, SPAN), st.lists(st.integers(1, 10), min_size=0, max_size=150)
).map(lambda t: {t[0] + sum(t[1][:i]) for i in range(len(t[1]) + 1)})
day_sets = st.one_of(scattered, clustered).map(
    lambda offsets: sorted(BASE + timedelta(days=o) for o in offsets)
)
rest_days_st = st.integers(0, 6)


@given(days=day_sets, rest_days=rest_days_st)
def test_folding_add_day_equals_from_days(days: list[date], rest_days: int) -> None:
    folded = reduce(lambda s, d: add_day(s, d, rest_days), days, EMPTY)
    assert folded == from_days(days, rest_days)
    assert from_days(reversed(days + days), rest_days) == folded  # order and duplicates


@given(days=day_sets, rest_days=rest_days_st, after=st.integers(0, 15))
def test_figures_match_a_naive_walk(days: list[date], rest_days: int, after: int) -> None:
    today = days[-1] + timedelta(days=after)
    assert figures(from_days(days, rest_days), today, rest_days) == naive(days, today, rest_days)


@given(days=day_sets, rest_days=rest_days_st, data=st.data())
def test_undo_day_equals_from_days_without_it(
    days: list[date], rest_days: int, data: st.DataObject
) -> None:
    day = data.draw(st.sampled_from(days))
    rest = [d for d in days if d != day]
    assert undo_day(days, day, rest_days) == from_days(rest, rest_days)
    if rest:
        today = days[-1]
        assert figures(undo_day(days, day, rest_days), today, rest_days) == naive(
            rest, today, rest_days
        )


@given(days=day_sets, rest_days=rest_days_st, after=st.integers(0, 15))
def test_breaks_on_agrees_with_current_streak(days: list[date], rest_days: int, after: int) -> None:
    state = from_days(days, rest_days)
    today = days[-1] + timedelta(days=after)
    end = breaks_on(state, rest_days)
    assert end is not None
    assert (current_streak(state, today, rest_days) > 0) == (today < end)


@given(days=day_sets, rest_days=rest_days_st)
def test_add_day_refuses_every_day_up_to_the_last(days: list[date], rest_days: int) -> None:
    state = from_days(days, rest_days)
    for day in days[-3:]:
        assert add_day(state, day, rest_days) is None
    assert add_day(state, days[-1] - timedelta(days=1), rest_days) is None
