"""Reminder schedules: a local time of day on chosen weekdays in a time zone.

Pure functions for the reminder scheduler (no Discord, no storage):

- `parse_time` / `describe_time`: what a member types ("6:30am", "18:30") <-> `datetime.time`.
- `parse_days` / `describe_days`: "mon,wed,fri", "weekdays", "mon-fri" <-> a frozenset of
  Python weekday numbers (Monday=0 .. Sunday=6); `days_to_mask` / `mask_to_days` store such a
  set as a 7-bit int (bit `d` set = weekday `d` chosen; every day = 127).
- `next_fire` / `due_between`: the UTC instants at which a schedule is due.

When a reminder is due: at local wall time `at` on every local date whose weekday is chosen,
converted to UTC with `stride.timezones.wall_instant`. So a wall time the clocks skip (spring
forward) is due at the jump, the first valid instant after it; a wall time that happens twice
(fall back) is due once, at its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from stride.errors import UserError
from stride.timezones import wall_instant

MAX_TIME_LENGTH = 20
MAX_DAYS_LENGTH = 100
TIME_EXAMPLES = "Try 6:30, 06:30, 6:30am or 18:30."
DAYS_EXAMPLES = "Use days like mon,wed,fri, weekdays or weekends."

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ALL_DAYS: frozenset[int] = frozenset(range(7))
WEEKDAYS: frozenset[int] = frozenset(range(5))
WEEKENDS: frozenset[int] = frozenset({5, 6})

# Only text made of these characters is echoed back in an error message, so a reply never
# carries mentions (@everyone), markdown or control characters typed by the member.
_ECHO_SAFE = re.compile(r"[A-Za-z0-9 :.,'\-]*", re.ASCII)


def _is_echo_safe(text: str) -> bool:
    return _ECHO_SAFE.fullmatch(text) is not None


def _echo(text: str) -> str:
    """`text` in quotes for an error message, or 'that' if it is not safe to repeat."""
    return f"'{text}'" if _is_echo_safe(text) else "that"


# --- times of day ----------------------------------------------------------------------------

_AM_PM = r"(?:\s*(?P<half>a|p)\.?\s*(?:m\.?)?)?"
# "6:30", "06.30", "18h30", "6:30 pm", "6pm", "6 a.m." (an hour alone needs am/pm: see below)
_CLOCK = re.compile(r"(?P<hour>[0-9]{1,2})(?:[:.h](?P<minute>[0-9]{2}))?" + _AM_PM, re.ASCII)
# "0630", "1830", "630pm" (three digits only with am/pm: see below)
_COMPACT = re.compile(r"(?P<hour>[0-9]{1,2})(?P<minute>[0-9]{2})" + _AM_PM, re.ASCII)
_WORDS = {"noon": time(12), "midday": time(12), "midnight": time(0)}


def parse_time(text: str) -> time:
    """The time of day a member typed, as a naive `datetime.time` (whole minutes).

    Accepted (case and surrounding spaces ignored):

    - 24-hour clock: "6:30", "06:30", "18:30", "0:05"; "." or "h" also separate hours from
      minutes ("6.30", "18h30");
    - 12-hour clock with am/pm (also "a.m.", "p.m.", "a", "p", with or without a space):
      "6:30am", "6:30 PM", "6pm", "12am" (= 00:00), "12pm" (= 12:00);
    - four digits as a 24-hour clock: "0630", "1830"; three or four digits with am/pm: "630pm";
    - "noon", "midday" (12:00) and "midnight" (00:00).

    Refused with a `UserError` that shows good examples: a bare hour without am/pm ("6",
    "18": morning or evening?), three digits without am/pm ("630"), hours past 23 ("24:00")
    or past 12 with am/pm ("13:00pm", "0am"), minutes past 59, seconds, signs, other text,
    an empty string and anything longer than 20 characters.
    """
    raw = text.strip() if isinstance(text, str) else ""
    if not raw:
        raise UserError(f"Please give a time of day. {TIME_EXAMPLES}")
    if len(raw) > MAX_TIME_LENGTH:
        raise UserError(f"That time is too long. {TIME_EXAMPLES}")
    fail = UserError(f"I can't read {_echo(raw)} as a time. {TIME_EXAMPLES}")
    folded = raw.lower()
    if folded in _WORDS:
        return _WORDS[folded]
    match = _CLOCK.fullmatch(folded)
    if match is None:
        match = _COMPACT.fullmatch(folded)
        if match is None or (match["half"] is None and len(match["hour"]) != 2):
            raise fail
    elif match["minute"] is None and match["half"] is None:
        raise fail  # a bare hour: "6" could be morning or evening
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    if minute > 59:
        raise fail
    if match["half"] is None:
        if hour > 23:
            raise fail
        return time(hour, minute)
    if not 1 <= hour <= 12:
        raise fail
    return time(hour % 12 + (12 if match["half"] == "p" else 0), minute)


# --- days of the week ----------------------------------------------------------------------

_GROUPS: dict[str, frozenset[int]] = {
    "daily": ALL_DAYS,
    "everyday": ALL_DAYS,
    "all": ALL_DAYS,
    "weekday": WEEKDAYS,
    "weekdays": WEEKDAYS,
    "weekend": WEEKENDS,
    "weekends": WEEKENDS,
}
_DAY_ALIASES = {"weds": 2}
_FILLER = frozenset({"and", "on", "every", "days"})
_EVERY_DAY = re.compile(r"\bevery[\s-]*days?\b")
_SPLIT = re.compile(r"[\s,;/&+]+")
_DASH = re.compile(r"\s*[-–—]\s*")


def _day_number(token: str) -> int | None:
    """Monday=0 .. Sunday=6 for a day name, or None.

    A name is any prefix of at least two letters of the full English name ("mo", "tue",
    "thurs", "wednesday"), or the full name plus "s" ("mondays").
    """
    if len(token) < 2:
        return None
    if token in _DAY_ALIASES:
        return _DAY_ALIASES[token]
    for number, name in enumerate(DAY_NAMES):
        if name.startswith(token) or token == name + "s":
            return number
    return None


def parse_days(text: str | None) -> frozenset[int]:
    """The weekdays a member typed, as Python weekday numbers (Monday=0 .. Sunday=6).

    - Nothing (None, "", spaces), "daily", "every day", "everyday", "all" (also "all days"):
      every day.
    - "weekdays" (Mon-Fri), "weekends" (Sat, Sun).
    - Day names separated by commas, spaces, "/", "&" or "and", in any case: full names,
      plurals, "weds", or any prefix of two letters or more ("mon,wed,fri",
      "Monday Wednesday", "tue, thu", "mo,we", "tues & thurs"). Single letters are refused
      ("t" and "s" could mean two days each).
    - Ranges "mon-fri"; a range wraps past Sunday: "fri-mon" is Fri, Sat, Sun, Mon.
    - Items combine and may repeat: "weekends, mon" is Sat, Sun, Mon.

    Raises `UserError` (with an example) for unknown words or text over 100 characters.
    """
    if text is None:
        return ALL_DAYS
    if not isinstance(text, str):
        raise TypeError(f"days must be text or None, got {text!r}")
    raw = text.strip()
    if len(raw) > MAX_DAYS_LENGTH:
        raise UserError(f"That list of days is too long. {DAYS_EXAMPLES}")
    folded = _DASH.sub("-", raw.lower())
    folded = _EVERY_DAY.sub("daily", folded)
    tokens = [t for t in _SPLIT.split(folded) if t and t not in _FILLER]
    if not tokens:
        if not raw:
            return ALL_DAYS
        raise UserError(f"I can't read {_echo(raw)} as days. {DAYS_EXAMPLES}")
    days: set[int] = set()
    for token in tokens:
        if token in _GROUPS:
            days |= _GROUPS[token]
            continue
        ends = token.split("-")
        numbers = [_day_number(end) for end in ends]
        if len(ends) > 2 or None in numbers:
            what = f"the day {_echo(token)}" if _is_echo_safe(token) else "one of those days"
            raise UserError(f"I don't know {what}. {DAYS_EXAMPLES}")
        first, last = numbers[0], numbers[-1]
        assert first is not None and last is not None
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(days)


def describe_days(days: Iterable[int]) -> str:
    """Chosen weekdays for display: 'every day', 'weekdays', 'weekends' or 'Mon, Wed, Fri'."""
    chosen = _check_days(days, allow_empty=True)
    if chosen == ALL_DAYS:
        return "every day"
    if chosen == WEEKDAYS:
        return "weekdays"
    if chosen == WEEKENDS:
        return "weekends"
    if not chosen:
        return "no days"
    return ", ".join(DAY_ABBREVIATIONS[d] for d in sorted(chosen))


def _check_days(days: Iterable[int], *, allow_empty: bool = False) -> frozenset[int]:
    if type(days) is frozenset and days and days <= ALL_DAYS:
        return days  # the usual case, checked quickly (next_fire is called a lot)
    chosen = frozenset(days)
    for day in chosen:
        if not isinstance(day, int) or not 0 <= day <= 6:
            raise ValueError(f"weekdays are ints 0 (Monday) .. 6 (Sunday), got {day!r}")
    if not chosen and not allow_empty:
        raise ValueError("need at least one weekday")
    return chosen


def days_to_mask(days: Iterable[int]) -> int:
    """Weekdays as a 7-bit int for storage: bit `d` (value 2**d) set for weekday `d`.

    {Mon} -> 1, {Sun} -> 64, weekdays -> 31, every day -> 127, no days -> 0.
    """
    return sum(1 << d for d in _check_days(days, allow_empty=True))


def mask_to_days(mask: int) -> frozenset[int]:
    """The inverse of `days_to_mask`; raises ValueError unless 0 <= mask <= 127."""
    if not isinstance(mask, int) or isinstance(mask, bool) or not 0 <= mask <= 127:
        raise ValueError(f"a weekday mask is an int 0..127, got {mask!r}")
    return frozenset(d for d in range(7) if mask >> d & 1)


# --- when a reminder is due ------------------------------------------------------------------

# A due instant shows local time at or after its wall time (see `wall_instant`), and no
# tzdb jump is anywhere near a week long, so a week and a bit always finds the next one.
_LOOKAHEAD_DAYS = 9
_ONE_DAY = timedelta(days=1)


def _check_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {instant!r}")


def next_fire(after: datetime, at: time, days: Iterable[int], zone: ZoneInfo) -> datetime:
    """The first instant strictly after `after` at which the schedule is due, in UTC.

    Due: local wall time `at` on each local date whose weekday is in `days`, converted with
    `wall_instant` (a skipped wall time is due at the jump; a repeated one once, at its first
    occurrence). `after` must be timezone-aware (any zone); `days` non-empty weekday numbers.
    Chaining `next_fire(previous)` yields every due instant once, in order.
    """
    _check_aware(after, "after")
    chosen = _check_days(days)
    if at.tzinfo is not None:
        raise ValueError(f"need a naive time of day, got {at!r}")
    # wall_instant(D, at) is the first instant whose local wall time is >= D + at, so it is
    # <= `after` whenever the wall time at `after` has already reached D + at: those dates
    # can be skipped. Later dates give non-decreasing instants, so the first one past
    # `after` is the answer. (Around a fall-back the wall clock at `after` may still be
    # below D + at although D's due instant has passed: the `> after` check skips it.)
    now = after.astimezone(zone)
    day = now.date()
    if datetime.combine(day, at, tzinfo=zone) <= now:  # same tzinfo: compares wall times
        day += _ONE_DAY
    for _ in range(_LOOKAHEAD_DAYS):
        if day.weekday() in chosen:
            due = wall_instant(day, at, zone)
            if due > after:
                return due
        day += _ONE_DAY
    raise RuntimeError(f"no due instant within {_LOOKAHEAD_DAYS} days of {after!r}")
