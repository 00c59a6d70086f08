"""Recurrence rules of guild scheduled events: normalising them and finding occurrences.

Discord describes its rule as a subset of iCalendar's RRULE as python-dateutil implements
it, evaluated in **UTC** from the rule's ``start``: every occurrence has the UTC time of
day of ``start``, so a weekly 18:00 UTC event stays at 18:00 UTC across a daylight-saving
change (its local time moves by an hour).  What the emulator computes:

* ``DAILY`` (3): every ``interval`` days from ``start``, optionally only on ``by_weekday``;
* ``WEEKLY`` (2): every ``interval`` weeks (weeks start on Monday, like dateutil), on
  ``by_weekday`` (default: the weekday of ``start``);
* ``MONTHLY`` (1): every ``interval`` months, on ``by_n_weekday`` (``n`` 1-4) or else on the
  day of month of ``start`` (months without that day are skipped);
* ``YEARLY`` (0): every ``interval`` years on ``by_month`` x ``by_month_day`` (1-31; default
  the day of ``start``, and its month unless only ``by_month_day`` is given, which means
  every month, as in dateutil; invalid dates such as 29 February are skipped);
* ``end`` (inclusive) and ``count`` (occurrences in all, the first included) end a series;
* ``start`` itself is an occurrence only if it matches the rule, and its microseconds are
  dropped (both as in dateutil, which the emulator's tests compare it with).

Everything else raises ``ValueError`` instead of being guessed at: ``by_year_day``,
``by_n_weekday`` with ``n`` 5 (Discord's schema calls it "the last week", RRULE the fifth),
negative ``by_month_day``, and the ``by_*`` parts on frequencies dateutil would read
differently (``by_weekday`` outside DAILY / WEEKLY, ``by_n_weekday`` outside MONTHLY,
``by_month`` / ``by_month_day`` outside YEARLY).  :func:`discord_rule_errors` adds Discord's
own, stricter limits for rules a bot sends (REST).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from typing import Any

from .limits import FormErrors, Path

JSON = dict[str, Any]

YEARLY, MONTHLY, WEEKLY, DAILY = 0, 1, 2, 3
FREQUENCIES = (YEARLY, MONTHLY, WEEKLY, DAILY)
#: The RecurrenceRuleResponse keys, in Discord's order (all present, unset ones null).
RULE_KEYS = ("start", "end", "frequency", "interval", "by_weekday", "by_n_weekday",
             "by_month", "by_month_day", "by_year_day", "count")
#: by_weekday sets Discord accepts on a DAILY rule (its "known sets").
DAILY_WEEKDAY_SETS = ({0, 1, 2, 3, 4}, {1, 2, 3, 4, 5}, {6, 0, 1, 2, 3}, {4, 5}, {5, 6}, {6, 0})
#: How far past ``after`` a supported rule is searched (29 February needs 8 years).
SEARCH_YEARS = 9
INVALID_RULE = "GUILD_SCHEDULED_EVENT_INVALID_RECURRENCE_RULE"  # a guess: Discord's is unknown


def utc(value: dt.datetime | str) -> dt.datetime:
    """An aware datetime in UTC, from a datetime or an ISO 8601 string (``Z`` allowed).

    Naive datetimes are refused: local time is exactly what this must not guess."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value!r} has no time zone (use an aware datetime, e.g. UTC)")
    return value.astimezone(dt.UTC)


def iso(value: dt.datetime) -> str:
    """Discord's rendering of event times: ``2025-03-06T18:00:00+00:00`` (microseconds only
    when there are some, as Python's ``isoformat`` writes them)."""
    return utc(value).isoformat()


def normalise_rule(rule: JSON, default_start: dt.datetime) -> JSON:
    """The RecurrenceRuleResponse for ``rule`` (times may be datetimes or ISO strings;
    ``start`` defaults to the event's start, ``interval`` to 1).  Raises ``ValueError`` for
    unknown keys and for rules :func:`occurrences` cannot compute."""
    unknown = set(rule) - set(RULE_KEYS)
    if unknown:
        raise ValueError(f"unknown recurrence rule keys: {sorted(unknown)}")
    out: JSON = {key: rule.get(key) for key in RULE_KEYS}
    out["start"] = iso(utc(rule["start"]) if rule.get("start") is not None else default_start)
    if out["end"] is not None:
        out["end"] = iso(utc(out["end"]))
    out["interval"] = 1 if out["interval"] is None else int(out["interval"])
    for key in ("by_weekday", "by_month", "by_month_day", "by_year_day"):
        if out[key] is not None:
            out[key] = [int(v) for v in out[key]]
    if out["by_n_weekday"] is not None:
        out["by_n_weekday"] = [
            {"n": int(x["n"]), "day": int(x["day"])} for x in out["by_n_weekday"]
        ]
    check_supported(out)
    return out


def check_supported(rule: JSON) -> None:
    """Raise ``ValueError`` unless :func:`occurrences` computes ``rule`` exactly."""
    freq = rule["frequency"]
    if freq not in FREQUENCIES:
        raise ValueError(f"unknown recurrence frequency {freq!r}")
    if rule["interval"] < 1:
        raise ValueError("recurrence interval must be at least 1")
    if rule["by_year_day"] is not None:
        raise ValueError("by_year_day is not modelled (Discord does not let apps set it)")
    if rule["by_weekday"] is not None and freq not in (DAILY, WEEKLY):
        raise ValueError("by_weekday is only modelled on DAILY and WEEKLY rules")
    if not set(rule["by_weekday"] or ()) <= set(range(7)) or rule["by_weekday"] == []:
        raise ValueError("by_weekday holds weekdays 0 (Monday) .. 6 (Sunday)")
    if rule["by_n_weekday"] is not None:
        if freq != MONTHLY:
            raise ValueError("by_n_weekday is only modelled on MONTHLY rules")
        for item in rule["by_n_weekday"]:
            if not 1 <= item["n"] <= 4 or not 0 <= item["day"] <= 6:
                raise ValueError(f"by_n_weekday {item} is not modelled (n 1-4, day 0-6)")
    if (rule["by_month"] is not None or rule["by_month_day"] is not None) and freq != YEARLY:
        raise ValueError("by_month / by_month_day are only modelled on YEARLY rules")
    if not set(rule["by_month"] or ()) <= set(range(1, 13)):
        raise ValueError("by_month holds months 1 .. 12")
    if not set(rule["by_month_day"] or ()) <= set(range(1, 32)):
        raise ValueError("by_month_day is only modelled for days 1 .. 31")
    if rule["count"] is not None and rule["count"] < 1:
        raise ValueError("recurrence count must be at least 1")


def occurrences(rule: JSON, until: dt.datetime) -> Iterator[dt.datetime]:
    """The occurrences of a normalised rule up to about ``until``, in order (``end`` and
    ``count`` not applied).  Bounded, since some rules never occur (30 February)."""
    start = utc(rule["start"]).replace(microsecond=0)  # as dateutil's rrule does
    freq, step, last = rule["frequency"], rule["interval"], until.date()

    def at(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, start.timetz())

    if freq == DAILY:
        on_days = set(rule["by_weekday"] or range(7))
        day = start.date()
        while day <= last:
            if day.weekday() in on_days:
                yield at(day)
            day += dt.timedelta(days=step)
        return
    if freq == WEEKLY:
        weekdays = sorted(set(rule["by_weekday"] or [start.weekday()]))
        week = start.date() - dt.timedelta(days=start.weekday())  # weeks start on Monday
        periods: Iterator[list[dt.date]] = (
            [week + dt.timedelta(weeks=k * step, days=d) for d in weekdays]
            for k in range((last - week).days // 7 // step + 1)
        )
    elif freq == MONTHLY:
        first = start.year * 12 + start.month - 1
        periods = (
            sorted(_month_days(rule, *divmod(index, 12), start.day))
            for index in range(first, last.year * 12 + last.month, step)
        )
    else:
        # dateutil: a by_month_day alone means every month, nothing at all the start's
        months = rule["by_month"] or (range(1, 13) if rule["by_month_day"] else [start.month])
        periods = (
            sorted(
                dt.date(year, m, d)
                for m in months
                for d in rule["by_month_day"] or [start.day]
                if d <= calendar.monthrange(year, m)[1]
            )
            for year in range(start.year, last.year + 1, step)
        )
    for days in periods:
        yield from (at(d) for d in days if at(d) >= start)


def _month_days(rule: JSON, year: int, month0: int, default_day: int) -> list[dt.date]:
    month = month0 + 1
    length = calendar.monthrange(year, month)[1]
    if rule["by_n_weekday"] is None:
        return [dt.date(year, month, default_day)] if default_day <= length else []
    first = dt.date(year, month, 1).weekday()
    return [
        dt.date(year, month, 1 + (item["day"] - first) % 7 + 7 * (item["n"] - 1))
        for item in rule["by_n_weekday"]
    ]


def next_occurrence(rule: JSON, after: dt.datetime) -> dt.datetime | None:
    """The first occurrence strictly after ``after``, or None once ``end`` / ``count``
    leave none."""
    after = utc(after)
    end = utc(rule["end"]) if rule["end"] is not None else None
    horizon = after + dt.timedelta(days=366 * SEARCH_YEARS * rule["interval"])
    for number, when in enumerate(occurrences(rule, horizon), 1):
        if (end is not None and when > end) or (
            rule["count"] is not None and number > rule["count"]
        ):
            return None
        if when > after:
            return when
    return None  # nothing within SEARCH_YEARS intervals: a rule that never occurs again


def discord_rule_errors(rule: Any, errors: FormErrors, path: Path = ("recurrence_rule",)) -> None:
    """Discord's documented limits on a rule sent by an app (its "system limitations"):
    ``start`` and ``frequency`` required; ``count``, ``end``, ``by_year_day`` not settable;
    ``by_weekday`` / ``by_n_weekday`` / ``by_month`` + ``by_month_day`` mutually exclusive;
    DAILY ``by_weekday`` one of the known sets, WEEKLY exactly one weekday; MONTHLY exactly
    one ``by_n_weekday``; YEARLY exactly one month and one day; an ``interval`` other than
    1 only as 2 on WEEKLY.  The error code is a guess (:data:`INVALID_RULE`)."""
    if not isinstance(rule, dict):
        errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    for key in ("start", "frequency"):
        if rule.get(key) is None:
            errors.required((*path, key))
    freq = rule.get("frequency")
    if freq is not None and freq not in FREQUENCIES:
        errors.add((*path, "frequency"), "BASE_TYPE_CHOICES", "Value must be one of {0, 1, 2, 3}.")
        return

    def bad(key: str, message: str) -> None:
        errors.add((*path, key), INVALID_RULE, message)

    for key in ("count", "end", "by_year_day"):
        if rule.get(key) is not None:
            bad(key, f"{key} cannot be set.")
    weekday, n_weekday = rule.get("by_weekday"), rule.get("by_n_weekday")
    month, month_day = rule.get("by_month"), rule.get("by_month_day")
    if sum(x is not None for x in (weekday, n_weekday, month or month_day)) > 1:
        bad("by_weekday", "by_weekday, by_n_weekday and by_month + by_month_day are exclusive.")
    if weekday is not None:
        if freq == DAILY and set(weekday) not in DAILY_WEEKDAY_SETS:
            bad("by_weekday", "This set of weekdays is not allowed on a daily event.")
        elif freq == WEEKLY and len(weekday) != 1:
            bad("by_weekday", "A weekly event recurs on exactly one weekday.")
        elif freq not in (DAILY, WEEKLY):
            bad("by_weekday", "by_weekday is only valid for daily and weekly events.")
    if n_weekday is not None and (freq != MONTHLY or len(n_weekday) != 1):
        bad("by_n_weekday", "by_n_weekday takes exactly one entry, on monthly events.")
    if (month is not None or month_day is not None) and (
        freq != YEARLY or len(month or ()) != 1 or len(month_day or ()) != 1
    ):
        bad("by_month", "by_month and by_month_day take one value each, on yearly events.")
    interval = rule.get("interval")
    if interval not in (None, 1) and not (freq == WEEKLY and interval == 2):
        bad("interval", "interval can only be 2, on weekly events.")
