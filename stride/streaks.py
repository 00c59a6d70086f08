"""The streak rule.

Check-ins are stored as the member's *local* calendar days (`datetime.date`), at most one a
day. A run goes on while at most `rest_days` consecutive days are missed between two
check-in days (`rest_days` is a club setting, 0..6, default 2; 0 means strictly daily).

- current streak on `today`: the number of check-in days in the run holding the last
  check-in, if that run is still alive on `today`, else 0. The run is alive while the days
  missed since the last check-in, *not counting today* (the member may still check in
  today), are at most `rest_days`: alive iff ``(today - last_day).days - 1 <= rest_days``.
- best: the most check-in days in any run, ever.
- total: the number of check-in days.
- week / month: check-in days in the ISO week (Monday start) / calendar month of `today`.

Example with rest_days=2 and check-ins on Mon, Tue and Fri: Wed and Thu are missed (2 <= 2),
so the run goes on and the streak is 3 on Fri. With nothing on Sat and Sun (2 missed) it is
still 3 on Monday morning; on Tuesday (Sat, Sun, Mon missed: 3 > 2) it is 0, so
`breaks_on` is that Tuesday.

`StreakState` holds what the incremental update needs, so a check-in is O(1): `add_day`
folds one new day in; `from_days` recomputes from scratch (after an undo or a change of
rest_days) and always equals folding `add_day` over the sorted distinct days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

MIN_REST_DAYS = 0
MAX_REST_DAYS = 6
DEFAULT_REST_DAYS = 2


def check_rest_days(rest_days: int) -> int:
    """Return `rest_days` if it is an int in 0..6, else raise ValueError."""
    if (
        not isinstance(rest_days, int)
        or isinstance(rest_days, bool)
        or not MIN_REST_DAYS <= rest_days <= MAX_REST_DAYS
    ):
        raise ValueError(
            f"rest_days must be a whole number from {MIN_REST_DAYS} to {MAX_REST_DAYS}, "
            f"got {rest_days!r}"
        )
    return rest_days


def week_key(day: date) -> str:
    """The ISO week of `day`, like '2026-W48' (ISO year: 2027-01-01 is in '2026-W53')."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def month_key(day: date) -> str:
    """The calendar month of `day`, like '2026-11'."""
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class StreakState:
    """A member's streak summary, as of their last check-in day.

    `run` is the number of check-in days in the run ending at `last_day` (alive or not);
    `week_count` / `month_count` count check-ins in the ISO week / month of `last_day`,
    named by `week_key` / `month_key`.
    """

    last_day: date | None = None
    run: int = 0
    best: int = 0
    total: int = 0
    week_key: str | None = None
    week_count: int = 0
    month_key: str | None = None
    month_count: int = 0


EMPTY = StreakState()


@dataclass(frozen=True)
class Figures:
    """What a member sees: current streak, best streak, total, this week, this month."""

    current: int
    best: int
    total: int
    week: int
    month: int


def _continues(last_day: date, day: date, rest_days: int) -> bool:
    """Whether a check-in on `day` extends the run whose last check-in was `last_day`."""
    return (day - last_day).days - 1 <= rest_days


def add_day(state: StreakState, day: date, rest_days: int) -> StreakState | None:
    """The state after a new check-in on local day `day`, or None if it does not count.

    None means `day` is not after `state.last_day`: the same day again, or an earlier one.
    Check-ins only ever happen "today", so an earlier day only arises when the member's
    zone moved west and their today is now before their last check-in day; treat it as
    "already checked in".
    """
    check_rest_days(rest_days)
    last = state.last_day
    if last is not None and day <= last:
        return None
    run = state.run + 1 if last is not None and _continues(last, day, rest_days) else 1
    week, month = week_key(day), month_key(day)
    return StreakState(
        last_day=day,
        run=run,
        best=max(state.best, run),
        total=state.total + 1,
        week_key=week,
        week_count=state.week_count + 1 if week == state.week_key else 1,
        month_key=month,
        month_count=state.month_count + 1 if month == state.month_key else 1,
    )


def from_days(days: Iterable[date], rest_days: int) -> StreakState:
    """The state for check-ins on `days` (any order, duplicates ignored), from scratch."""
    check_rest_days(rest_days)
    state = EMPTY
    for day in sorted(set(days)):
        new = add_day(state, day, rest_days)
        assert new is not None  # days are sorted and distinct
        state = new
    return state


def undo_day(days: Iterable[date], day: date, rest_days: int) -> StreakState:
    """The state for check-ins on `days` once the one on `day` is taken back."""
    return from_days((d for d in days if d != day), rest_days)


def current_streak(state: StreakState, today: date, rest_days: int) -> int:
    """The current streak on `today`: the last run's length if still alive, else 0.

    A `today` before the last check-in day (zone moved west) counts as alive.
    """
    check_rest_days(rest_days)
    if state.last_day is None or not _continues(state.last_day, today, rest_days):
        return 0
    return state.run


def breaks_on(state: StreakState, rest_days: int) -> date | None:
    """The first local day on which the current run is no longer alive, or None.

    That is ``last_day + rest_days + 2``: on it, rest_days + 1 days have been missed.
    """
    check_rest_days(rest_days)
    if state.last_day is None:
        return None
    return state.last_day + timedelta(days=rest_days + 2)


def last_day_alive(state: StreakState, rest_days: int) -> date | None:
    """The last local day on which the current run is still alive (the day before
    `breaks_on`): a check-in by its end keeps the run going."""
    day = breaks_on(state, rest_days)
    return None if day is None else day - timedelta(days=1)


def week_count(state: StreakState, today: date) -> int:
    """Check-ins in the ISO week (Monday to Sunday) of `today`."""
    return state.week_count if state.week_key == week_key(today) else 0


def month_count(state: StreakState, today: date) -> int:
    """Check-ins in the calendar month of `today`."""
    return state.month_count if state.month_key == month_key(today) else 0


def figures(state: StreakState, today: date, rest_days: int) -> Figures:
    """All figures for a member on their local day `today`."""
    return Figures(
        current=current_streak(state, today, rest_days),
        best=state.best,
        total=state.total,
        week=week_count(state, today),
        month=month_count(state, today),
    )
