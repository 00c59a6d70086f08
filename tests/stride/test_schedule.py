"""Reminder schedules: parsing times and days, and when a reminder is due.

`next_fire` is checked against an independent oracle: `dateutil.rrule` lists the local wall
times, and `oracle_instant` converts each to UTC by the documented rule (a repeated wall time
counts at its first occurrence, a skipped one at the first instant after it) without using
`stride.timezones`.
"""

from __future__ import annotations

import io
import struct
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import DAILY, FR, MO, SA, SU, TH, TU, WE, WEEKLY, rrule
from hypothesis import given
from hypothesis import strategies as st

from stride.errors import UserError
from stride.schedule import (
    ALL_DAYS,
    WEEKDAYS,
    WEEKENDS,
    days_to_mask,
    describe_days,
    mask_to_days,
    next_fire,
    parse_days,
    parse_time,
)
from stride.timezones import wall_instant

MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)

def due_between(
    start: datetime, end: datetime, at: time, days: frozenset[int], zone: ZoneInfo
) -> list[datetime]:
    """Every instant in (start, end] at which the schedule is due, by chaining `next_fire`."""
    found: list[datetime] = []
    due = next_fire(start, at, days, zone)
    while due <= end:
        found.append(due)
        due = next_fire(due, at, days, zone)
    return found


def local_date_of(due: datetime, at: time, days: frozenset[int], zone: ZoneInfo) -> date:
    """The local date whose reminder is due at `due`: usually the local date at `due`, after a
    jump over midnight the day before."""
    local = due.astimezone(zone).date()
    for day in (local, local - timedelta(days=1)):
        if day.weekday() in days and wall_instant(day, at, zone) == due.astimezone(UTC):
            return day
    raise ValueError(f"nothing is due at {due!r}")



# --- parse_time ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6:30", time(6, 30)),
        ("06:30", time(6, 30)),
        ("6:30am", time(6, 30)),
        ("6:30 AM", time(6, 30)),
        ("6:30 a.m.", time(6, 30)),
        ("6:30pm", time(18, 30)),
        ("6:30 PM", time(18, 30)),
        ("6:30p", time(18, 30)),
        ("18:30", time(18, 30)),
        ("  18:30\t", time(18, 30)),
        ("6am", time(6)),
        ("6 am", time(6)),
        ("6PM", time(18)),
        ("12am", time(0)),
        ("12:30am", time(0, 30)),
        ("12pm", time(12)),
        ("12:45 pm", time(12, 45)),
        ("11:59pm", time(23, 59)),
        ("0:00", time(0)),
        ("00:00", time(0)),
        ("0:05", time(0, 5)),
        ("23:59", time(23, 59)),
        ("6.30", time(6, 30)),
        ("18h30", time(18, 30)),
        ("0630", time(6, 30)),
        ("1830", time(18, 30)),
        ("0000", time(0)),
        ("630am", time(6, 30)),
        ("630pm", time(18, 30)),
        ("1130pm", time(23, 30)),
        ("noon", time(12)),
        ("Midnight", time(0)),
    ],
)
def test_parse_time_accepts(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "24:00",
        "-1:00",
        "6:61",
        "6:60",
        "25:00",
        "13:00pm",
        "0am",
        "00:30am",
        "garbage",
        "6",  # morning or evening?
        "18",
        "630",  # three digits need am/pm
        "2400",
        "1860",
        "6:3",
        "6:300",
        "6:30:00",
        "6:30 xm",
        "6:30 am pm",
        "+6:30",
        "6,30",
        "٦:٣٠",  # Arabic-Indic digits
        "6:30 tomorrow",
    ],
)
def test_parse_time_refuses_with_examples(text: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_time(text)
    message = str(caught.value)
    assert message.endswith("Try 6:30, 06:30, 6:30am or 18:30.")


def test_parse_time_message_names_the_input() -> None:
    with pytest.raises(UserError) as caught:
        parse_time("6:61")
    assert str(caught.value) == "I can't read '6:61' as a time. Try 6:30, 06:30, 6:30am or 18:30."


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_parse_time_refuses_empty_text(text: str) -> None:
    with pytest.raises(UserError, match=r"Please give a time of day\. Try 6:30"):
        parse_time(text)


def test_parse_time_refuses_long_text_without_repeating_it() -> None:
    assert parse_time("     6:30 pm        ") == time(18, 30)  # spaces do not count
    with pytest.raises(UserError, match="too long") as caught:
        parse_time("6:30" + "0" * 17)
    assert "0000" not in str(caught.value)
    assert "6:30am" in str(caught.value)


@pytest.mark.parametrize("text", ["@everyone", "<@123>", "**6**", "6:30`"])
def test_parse_time_does_not_repeat_unsafe_text(text: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_time(text)
    assert str(caught.value) == "I can't read that as a time. Try 6:30, 06:30, 6:30am or 18:30."


@given(hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_parse_time_reads_what_reminders_show(hour: int, minute: int) -> None:
    at = time(hour, minute)
    assert parse_time(at.strftime("%H:%M")) == at
    twelve = f"{(hour + 11) % 12 + 1}:{minute:02d}{'pm' if hour >= 12 else 'am'}"
    assert parse_time(twelve) == at
    assert parse_time(f"{hour:02d}{minute:02d}") == at


# --- days ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ALL_DAYS),
        ("", ALL_DAYS),
        ("   ", ALL_DAYS),
        ("daily", ALL_DAYS),
        ("Daily", ALL_DAYS),
        ("every day", ALL_DAYS),
        ("Every Day", ALL_DAYS),
        ("everyday", ALL_DAYS),
        ("every-day", ALL_DAYS),
        ("all", ALL_DAYS),
        ("all days", ALL_DAYS),
        ("weekdays", WEEKDAYS),
        ("WEEKDAYS", WEEKDAYS),
        ("weekday", WEEKDAYS),
        ("weekends", WEEKENDS),
        ("weekend", WEEKENDS),
        ("mon,wed,fri", {0, 2, 4}),
        ("Mon, Wed, Fri", {0, 2, 4}),
        ("mon wed fri", {0, 2, 4}),
        ("Monday Wednesday", {0, 2}),
        ("tue, thu", {1, 3}),
        ("tues & thurs", {1, 3}),
        ("mo,we", {0, 2}),
        ("Weds", {2}),
        ("thur", {3}),
        ("th", {3}),
        ("tu", {1}),
        ("sa su", {5, 6}),
        ("sun", {6}),
        ("Sunday", {6}),
        ("mondays and fridays", {0, 4}),
        ("every monday", {0}),
        ("mon;wed/fri", {0, 2, 4}),
        ("mon,mon,monday", {0}),
        ("mon-fri", WEEKDAYS),
        ("Mon - Fri", WEEKDAYS),
        ("mon–fri", WEEKDAYS),  # en dash
        ("tue-thu, sun", {1, 2, 3, 6}),
        ("sat-sun", WEEKENDS),
        ("fri-mon", {4, 5, 6, 0}),  # wraps past Sunday
        ("wed-wed", {2}),
        ("weekends, mon", {5, 6, 0}),
        ("weekdays weekends", ALL_DAYS),
        ("mon,tue,wed,thu,fri,sat,sun", ALL_DAYS),
    ],
)
def test_parse_days_accepts(text: str | None, expected: set[int]) -> None:
    got = parse_days(text)
    assert isinstance(got, frozenset)
    assert got == frozenset(expected)


@pytest.mark.parametrize(
    "text",
    [
        "funday",
        "m,w,f",  # single letters: t and s would be ambiguous
        "t",
        "mon,xyz",
        "monn",
        "mon-",
        "-fri",
        "mon-tue-wed",
        "mon-weekend",
        "1,3,5",
        ",",
        "and",
        "every",
        "mon" + ",mon" * 40,  # over 100 characters
    ],
)
def test_parse_days_refuses_with_an_example(text: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_days(text)
    assert str(caught.value).endswith("Use days like mon,wed,fri, weekdays or weekends.")


def test_parse_days_messages() -> None:
    with pytest.raises(UserError) as caught:
        parse_days("mon, funday")
    assert str(caught.value) == (
        "I don't know the day 'funday'. Use days like mon,wed,fri, weekdays or weekends."
    )
    with pytest.raises(UserError) as caught:
        parse_days("mon @everyone")
    assert "@" not in str(caught.value)
    with pytest.raises(UserError, match="too long") as caught:
        parse_days("mon" + ",mon" * 40)
    assert "mon,mon" not in str(caught.value)


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (ALL_DAYS, "every day"),
        (WEEKDAYS, "weekdays"),
        (WEEKENDS, "weekends"),
        ({0, 2, 4}, "Mon, Wed, Fri"),
        ({4, 0, 2}, "Mon, Wed, Fri"),
        ({6}, "Sun"),
        ({0, 5, 6}, "Mon, Sat, Sun"),
        ({0, 1, 2, 3, 4, 5}, "Mon, Tue, Wed, Thu, Fri, Sat"),
        (set(), "no days"),
    ],
)
def test_describe_days(days: set[int], text: str) -> None:
    assert describe_days(days) == text
    if days:
        assert parse_days(text) == frozenset(days)  # what is shown can be typed back


def test_masks_round_trip() -> None:
    assert days_to_mask(ALL_DAYS) == 127
    assert days_to_mask(WEEKDAYS) == 31
    assert days_to_mask({0}) == 1
    assert days_to_mask({6}) == 64
    assert days_to_mask(set()) == 0
    for mask in range(128):
        assert days_to_mask(mask_to_days(mask)) == mask
    assert len({mask_to_days(m) for m in range(128)}) == 128


@pytest.mark.parametrize("mask", [-1, 128, 1.0, True, "7", None])
def test_bad_masks_are_refused(mask: object) -> None:
    with pytest.raises(ValueError):
        mask_to_days(mask)  # type: ignore[arg-type]


@pytest.mark.parametrize("days", [{7}, {-1}, {0, 9}, {1.5}, {"mon"}])
def test_bad_weekday_numbers_are_refused(days: set[object]) -> None:
    with pytest.raises(ValueError):
        days_to_mask(days)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        next_fire(utc(2026, 1, 1), time(6), days, BERLIN)  # type: ignore[arg-type]


# --- next_fire: explicit cases ---------------------------------------------------------------


def chain(start: datetime, end: datetime, at: time, days: frozenset[int], zone: ZoneInfo):
    """Due instants in (start, end], by repeatedly calling next_fire."""
    found = []
    due = next_fire(start, at, days, zone)
    while due <= end:
        assert due > (found[-1] if found else start)
        found.append(due)
        due = next_fire(due, at, days, zone)
    return found


def test_berlin_spring_forward() -> None:
    got = chain(utc(2026, 3, 27), utc(2026, 3, 31), time(2, 30), ALL_DAYS, BERLIN)
    assert got == [
        utc(2026, 3, 27, 1, 30),  # 02:30 CET
        utc(2026, 3, 28, 1, 30),  # 02:30 CET
        utc(2026, 3, 29, 1, 0),  # 02:30 does not exist: 03:00 CEST, when the clocks jump
        utc(2026, 3, 30, 0, 30),  # 02:30 CEST
    ]
    assert next_fire(utc(2026, 3, 29, 0, 59, 59), time(2, 30), ALL_DAYS, BERLIN) == utc(
        2026, 3, 29, 1
    )
    assert next_fire(utc(2026, 3, 29, 1), time(2, 30), ALL_DAYS, BERLIN) == utc(2026, 3, 30, 0, 30)


def test_berlin_fall_back() -> None:
    got = chain(utc(2026, 10, 23), utc(2026, 10, 27), time(2, 30), ALL_DAYS, BERLIN)
    assert got == [
        utc(2026, 10, 23, 0, 30),  # 02:30 CEST
        utc(2026, 10, 24, 0, 30),  # 02:30 CEST
        utc(2026, 10, 25, 0, 30),  # the first 02:30 (CEST); the second (01:30Z) is skipped
        utc(2026, 10, 26, 1, 30),  # 02:30 CET
    ]
    # Even when asked during the repeated hour, after the first 02:30 has passed:
    for after in (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 15), utc(2026, 10, 25, 1, 30)):
        assert next_fire(after, time(2, 30), ALL_DAYS, BERLIN) == utc(2026, 10, 26, 1, 30)
    assert next_fire(utc(2026, 10, 25, 0, 29), time(2, 30), ALL_DAYS, BERLIN) == utc(
        2026, 10, 25, 0, 30
    )


def test_new_york_spring_forward_and_fall_back() -> None:
    spring = chain(utc(2026, 3, 7), utc(2026, 3, 10), time(2, 30), ALL_DAYS, NEW_YORK)
    assert spring == [
        utc(2026, 3, 7, 7, 30),  # 02:30 EST
        utc(2026, 3, 8, 7, 0),  # 02:30 does not exist: 03:00 EDT
        utc(2026, 3, 9, 6, 30),  # 02:30 EDT
    ]
    fall = chain(utc(2026, 10, 31), utc(2026, 11, 3), time(1, 30), ALL_DAYS, NEW_YORK)
    assert fall == [
        utc(2026, 10, 31, 5, 30),  # 01:30 EDT
        utc(2026, 11, 1, 5, 30),  # the first 01:30 (EDT); not again at 06:30Z (EST)
        utc(2026, 11, 2, 6, 30),  # 01:30 EST
    ]


def test_only_chosen_weekdays_fire() -> None:
    # 2026-03-02 is a Monday.
    got = chain(utc(2026, 3, 1), utc(2026, 3, 15), time(6, 30), frozenset({0, 2, 4}), BERLIN)
    assert [d.astimezone(BERLIN).strftime("%a %d %H:%M") for d in got] == [
        "Mon 02 06:30",
        "Wed 04 06:30",
        "Fri 06 06:30",
        "Mon 09 06:30",
        "Wed 11 06:30",
        "Fri 13 06:30",
    ]


def test_the_local_weekday_counts_not_the_utc_one() -> None:
    kiritimati = ZoneInfo("Pacific/Kiritimati")  # UTC+14
    # Monday 06:30 in Kiritimati is Sunday 16:30 UTC.
    assert next_fire(utc(2026, 3, 1), time(6, 30), {0}, kiritimati) == utc(2026, 3, 1, 16, 30)
    pago = ZoneInfo("Pacific/Pago_Pago")  # UTC-11
    # Sunday 23:30 in Pago Pago is Monday 10:30 UTC.
    assert next_fire(utc(2026, 3, 2), time(23, 30), {6}, pago) == utc(2026, 3, 2, 10, 30)


def test_next_fire_is_strictly_after() -> None:
    at, days = time(6, 30), ALL_DAYS
    due = utc(2026, 6, 1, 4, 30)  # 06:30 CEST
    assert next_fire(due - SECOND, at, days, BERLIN) == due
    assert next_fire(due - timedelta(microseconds=1), at, days, BERLIN) == due
    assert next_fire(due, at, days, BERLIN) == due + timedelta(days=1)
    only_monday = frozenset({0})  # 2026-06-01 is a Monday
    assert next_fire(due, at, only_monday, BERLIN) == due + timedelta(days=7)


def test_next_fire_accepts_any_aware_after_and_answers_in_utc() -> None:
    after = datetime(2026, 6, 1, 6, 0, tzinfo=BERLIN)
    got = next_fire(after, time(6, 30), ALL_DAYS, BERLIN)
    assert got == utc(2026, 6, 1, 4, 30)
    assert got.tzinfo is UTC


def test_next_fire_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_fire(datetime(2026, 1, 1), time(6), ALL_DAYS, BERLIN)
    with pytest.raises(ValueError, match="at least one"):
        next_fire(utc(2026, 1, 1), time(6), frozenset(), BERLIN)
    with pytest.raises(ValueError, match="naive time"):
        next_fire(utc(2026, 1, 1), time(6, tzinfo=UTC), ALL_DAYS, BERLIN)


# --- next_fire against an independent oracle ---------------------------------------------------


@cache
def _first_instant_at_or_after(zone: ZoneInfo, wall: datetime) -> datetime:
    """The first UTC instant whose local wall time is >= `wall`, searched minute by minute.

    Starts 16 hours before `wall` read as UTC, where the local time (UTC offsets are at most
    +14:00) is certainly earlier. Offsets and changes are whole minutes in these zones.
    """
    instant = (wall - timedelta(hours=16)).replace(second=0, microsecond=0, tzinfo=UTC)
    while instant.astimezone(zone).replace(tzinfo=None) < wall:
        instant += MINUTE
    return instant


def oracle_instant(zone: ZoneInfo, wall: datetime) -> datetime:
    """When local wall time `wall` is due: fold=0 (the first) if it exists, else the jump."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    return _first_instant_at_or_after(zone, wall)


RRULE_DAYS = (MO, TU, WE, TH, FR, SA, SU)


def oracle(
    start: datetime, end: datetime, at: time, days: frozenset[int], zone: ZoneInfo
) -> list[datetime]:
    """Due instants in (start, end] from rrule's local wall times, converted by the oracle."""
    common = {
        "byhour": at.hour,
        "byminute": at.minute,
        "bysecond": 0,
        "dtstart": datetime.combine(start.date() - timedelta(days=2), time()),
        "until": datetime.combine(end.date() + timedelta(days=2), time()),
    }
    if days == ALL_DAYS:
        walls = rrule(DAILY, **common)
    else:
        walls = rrule(WEEKLY, byweekday=[RRULE_DAYS[d] for d in sorted(days)], **common)
    instants = [oracle_instant(zone, wall) for wall in walls]
    assert instants == sorted(set(instants))  # real zones never map two dates to one instant
    return [t for t in instants if start < t <= end]


ORACLE_ZONES = (
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Dublin",  # "negative DST" in tzdb: winter time is the DST one
    "America/New_York",
    "America/Santiago",  # changes at midnight
    "America/Sao_Paulo",
    "America/Havana",  # changes at midnight
    "America/St_Johns",  # UTC-03:30 / -02:30
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST
    "Antarctica/Troll",  # 2-hour DST
    "Asia/Kolkata",
    "Asia/Kathmandu",  # UTC+05:45
    "Pacific/Kiritimati",  # UTC+14
    "Pacific/Pago_Pago",  # UTC-11
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "Africa/Cairo",  # changes at midnight
    "Asia/Beirut",  # changes at midnight; Saturday 23:00-24:00 happens twice in October
)
ORACLE_TIMES = tuple(
    time(h, m)
    for h, m in (
        (0, 0), (0, 30), (1, 30), (2, 0), (2, 30), (3, 0), (6, 30), (12, 0), (23, 30), (23, 59)
    )
)  # fmt: skip
DAY_SETS = (ALL_DAYS, WEEKDAYS, WEEKENDS, frozenset({0, 2, 4}), frozenset({6}))
START, END = utc(2026, 1, 1), utc(2028, 1, 1)


@pytest.mark.parametrize("name", ORACLE_ZONES)
def test_next_fire_matches_rrule_for_two_years(name: str) -> None:
    zone = ZoneInfo(name)
    for at in ORACLE_TIMES:
        for days in DAY_SETS:
            expected = oracle(START, END, at, days, zone)
            assert chain(START, END, at, days, zone) == expected, (name, at, sorted(days))


def test_the_oracle_sees_the_dst_cases() -> None:
    """Guard against a vacuous comparison: the sample has skipped and repeated wall times."""
    skipped = repeated = 0
    for name in ORACLE_ZONES:
        zone = ZoneInfo(name)
        days = [date(2026, 1, 1) + timedelta(days=n) for n in range(731)]
        noon = [datetime.combine(day, time(12), tzinfo=zone).utcoffset() for day in days]
        for i in range(1, len(days)):
            if noon[i] == noon[i - 1]:
                continue
            for day in days[i - 1 : i + 1]:  # the offset changed overnight, or on either day
                for at in ORACLE_TIMES:
                    wall = datetime.combine(day, at)
                    folds = {wall.replace(tzinfo=zone, fold=f).utcoffset() for f in (0, 1)}
                    if len(folds) == 1:
                        continue
                    local = oracle_instant(zone, wall).astimezone(zone).replace(tzinfo=None)
                    if local == wall:
                        repeated += 1
                    else:
                        skipped += 1
    assert skipped >= 30
    assert repeated >= 30


# --- a made-up zone whose clocks jump over midnight ------------------------------------------


def _tzif(transitions: list[tuple[datetime, int]], types: list[tuple[int, int, str]]) -> bytes:
    """A version-1 TZif file (RFC 8536).

    `transitions`: (UTC instant, index into `types`); `types`: (UTC offset in seconds, is
    DST, abbreviation). Before the first transition the first type applies.
    """
    names, index = b"", []
    for _, _, name in types:
        index.append(len(names))
        names += name.encode() + b"\0"
    header = b"TZif" + b"\0" * 16
    header += struct.pack(">6l", 0, 0, 0, len(transitions), len(types), len(names))
    body = b"".join(struct.pack(">l", int(t.timestamp())) for t, _ in transitions)
    body += bytes(kind for _, kind in transitions)
    body += b"".join(
        struct.pack(">lBB", offset, dst, i)
        for (offset, dst, _), i in zip(types, index, strict=True)
    )
    return header + body + names


# UTC+0, then +2 from Saturday 2026-03-07 23:00 local (clocks jump 23:00 -> Sunday 01:00),
# then back to +0 at Sunday 2026-03-22 01:00 local (-> Saturday 23:00 again).
JUMPY = ZoneInfo.from_file(
    io.BytesIO(
        _tzif(
            [(utc(2026, 3, 7, 23), 1), (utc(2026, 3, 21, 23), 0)],
            [(0, 0, "XST"), (7200, 1, "XDT")],
        )
    ),
    key="Test/Jumpy",
)


def test_a_jump_over_midnight_moves_the_reminder_into_the_next_day() -> None:
    saturday = frozenset({5})
    # Saturday 23:30 never happens on 7 March: due at the jump, Sunday 01:00 local.
    due = next_fire(utc(2026, 3, 7, 22), time(23, 30), saturday, JUMPY)
    assert due == utc(2026, 3, 7, 23)
    assert due.astimezone(JUMPY).date() == date(2026, 3, 8)  # a Sunday, locally
    assert local_date_of(due, time(23, 30), saturday, JUMPY) == date(2026, 3, 7)
    assert next_fire(due - SECOND, time(23, 30), saturday, JUMPY) == due
    assert next_fire(due, time(23, 30), saturday, JUMPY) == utc(2026, 3, 14, 21, 30)
    # Sunday 00:30 is skipped too, and is due at the same instant.
    sunday = frozenset({6})
    assert next_fire(utc(2026, 3, 7, 22), time(0, 30), sunday, JUMPY) == due
    # Asked a minute before the jump (local Saturday 22:59), both are still ahead.
    both = frozenset({5, 6})
    assert due_between(utc(2026, 3, 7, 22, 59), utc(2026, 3, 8, 23), time(23, 30), both, JUMPY) == [
        due,
        utc(2026, 3, 8, 21, 30),
    ]


def test_a_fall_back_over_midnight_fires_once() -> None:
    # Saturday 23:00 - Sunday 01:00 local happens twice on 21/22 March.
    sunday = frozenset({6})
    got = due_between(utc(2026, 3, 14), utc(2026, 3, 30), time(0, 30), sunday, JUMPY)
    assert got == [utc(2026, 3, 14, 22, 30), utc(2026, 3, 21, 22, 30), utc(2026, 3, 29, 0, 30)]
    # Asked during the second Sunday 00:30 .. 01:00: Sunday's reminder is done.
    assert next_fire(utc(2026, 3, 22, 0, 45), time(0, 30), sunday, JUMPY) == utc(2026, 3, 29, 0, 30)
    # Asked during the second Saturday 23:00 .. 24:00 (local clock reads Saturday again):
    assert next_fire(utc(2026, 3, 21, 23, 15), time(0, 30), sunday, JUMPY) == utc(
        2026, 3, 29, 0, 30
    )


@pytest.mark.parametrize("at", [time(h, m) for h in (0, 1, 22, 23) for m in (0, 30, 59)])
@pytest.mark.parametrize("days", DAY_SETS)
def test_the_made_up_zone_matches_the_oracle(at: time, days: frozenset[int]) -> None:
    start, end = utc(2026, 2, 20), utc(2026, 4, 10)
    assert chain(start, end, at, days, JUMPY) == oracle(start, end, at, days, JUMPY)


# --- properties -------------------------------------------------------------------------------


@given(
    name=st.sampled_from((*ORACLE_ZONES, "Pacific/Apia", "America/Asuncion", "Europe/Dublin")),
    at=st.builds(time, st.integers(0, 23), st.integers(0, 59)),
    days=st.frozensets(st.integers(0, 6), min_size=1),
    after=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
)
def test_next_fire_properties(name: str, at: time, days: frozenset[int], after: datetime) -> None:
    zone = ZoneInfo(name)
    got = next_fire(after, at, days, zone)
    assert got > after
    assert got.utcoffset() == timedelta(0)
    assert got - after <= timedelta(days=7, hours=3)
    wanted = local_date_of(got, at, days, zone)
    assert wanted.weekday() in days
    assert oracle_instant(zone, datetime.combine(wanted, at)) == got
    # Nothing is due strictly between `after` and the answer.
    first = after.astimezone(zone).date() - timedelta(days=2)
    last = got.astimezone(zone).date() + timedelta(days=1)
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        if day.weekday() in days:
            due = oracle_instant(zone, datetime.combine(day, at))
            assert not after < due < got, (day, due)
    assert next_fire(got - SECOND, at, days, zone) == got
    assert due_between(after, got, at, days, zone) == [got]
    assert due_between(after, got - SECOND, at, days, zone) == []
