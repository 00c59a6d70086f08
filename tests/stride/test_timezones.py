"""Time-zone helpers: names, autocomplete, local days and the start of a local day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stride.errors import UserError
from stride.streaks import EMPTY, add_day, current_streak
from stride.timezones import (
    HIDDEN_KEYS,
    day_start,
    local_day,
    resolve_zone,
    search_zones,
    wall_instant,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")  # UTC-11
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- local_day ---------------------------------------------------------------------------


def test_far_apart_zones_are_on_different_days_at_the_same_instant() -> None:
    noon = utc(2026, 6, 15, 12)
    assert local_day(noon, KIRITIMATI) == date(2026, 6, 16)
    assert local_day(noon, PAGO_PAGO) == date(2026, 6, 15)
    assert local_day(noon, ZoneInfo("UTC")) == date(2026, 6, 15)
    # 25 hours apart: for an hour a day they are even two calendar days apart.
    early = utc(2026, 6, 15, 10, 30)
    assert local_day(early, KIRITIMATI) == date(2026, 6, 16)
    assert local_day(early, PAGO_PAGO) == date(2026, 6, 14)


def test_local_day_accepts_any_aware_datetime() -> None:
    instant = datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN)
    assert local_day(instant, BERLIN) == date(2026, 3, 29)
    assert local_day(instant, NEW_YORK) == date(2026, 3, 28)


def test_local_day_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_day(datetime(2026, 1, 1, 12), BERLIN)


def test_local_day_around_a_dst_change() -> None:
    start = utc(2026, 3, 28, 23)  # Berlin midnight, still CET (+1)
    assert local_day(start - SECOND, BERLIN) == date(2026, 3, 28)
    assert local_day(start, BERLIN) == date(2026, 3, 29)
    end = utc(2026, 3, 29, 22)  # next Berlin midnight, now CEST (+2)
    assert local_day(end - SECOND, BERLIN) == date(2026, 3, 29)
    assert local_day(end, BERLIN) == date(2026, 3, 30)


# --- day_start ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "start", "hours"),
    [
        (BERLIN, date(2026, 3, 29), utc(2026, 3, 28, 23), 23),
        (BERLIN, date(2026, 10, 25), utc(2026, 10, 24, 22), 25),
        (BERLIN, date(2026, 7, 1), utc(2026, 6, 30, 22), 24),
        (NEW_YORK, date(2026, 3, 8), utc(2026, 3, 8, 5), 23),
        (NEW_YORK, date(2026, 11, 1), utc(2026, 11, 1, 4), 25),
        (NEW_YORK, date(2026, 1, 15), utc(2026, 1, 15, 5), 24),
        (KIRITIMATI, date(2026, 6, 16), utc(2026, 6, 15, 10), 24),
        (PAGO_PAGO, date(2026, 6, 15), utc(2026, 6, 15, 11), 24),
        (ZoneInfo("UTC"), date(2028, 2, 29), utc(2028, 2, 29), 24),
    ],
)
def test_day_start_and_day_length(zone: ZoneInfo, day: date, start: datetime, hours: int) -> None:
    got = day_start(day, zone)
    assert got == start
    assert got.utcoffset() == timedelta(0)
    assert got.astimezone(zone).replace(tzinfo=None) == datetime.combine(day, time())
    assert day_start(day + timedelta(days=1), zone) - got == timedelta(hours=hours)


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[tuple]:
    """(instant, offset before, offset after) for each UTC-offset change in [start, end)."""
    step = timedelta(hours=6)  # real transitions are months apart
    t = start
    before = t.astimezone(zone).utcoffset()
    while t < end:
        nxt = t + step
        after = nxt.astimezone(zone).utcoffset()
        if after != before:
            lo, hi = t, nxt
            while hi - lo > SECOND:
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid.astimezone(zone).utcoffset() == before:
                    lo = mid
                else:
                    hi = mid
            yield hi, before, after
        t, before = nxt, after


# Zones that have had clock changes at local midnight in recent years.
MIDNIGHT_ZONES = (
    "America/Santiago",
    "Asia/Beirut",
    "America/Havana",
    "Africa/Cairo",
    "America/Sao_Paulo",
    "America/Asuncion",
)


@cache
def _midnight_changes() -> tuple[list, list]:
    """Real (zone, day, transition, before, after) where local midnight is skipped/repeated."""
    skipped, repeated = [], []
    for name in MIDNIGHT_ZONES:
        zone = ZoneInfo(name)
        for t, before, after in _transitions(zone, utc(2015, 1, 1), utc(2031, 1, 1)):
            wall_before = t.replace(tzinfo=None) + before  # the clock just before the change
            wall_after = t.replace(tzinfo=None) + after  # ... and just after it
            if after > before:  # clocks jump forward over [wall_before, wall_after)
                midnight = datetime.combine(wall_after.date(), time())
                if wall_before <= midnight < wall_after:
                    skipped.append((zone, midnight.date(), t, before, after))
            else:  # clocks go back: [wall_after, wall_before) happens twice
                midnight = datetime.combine(wall_before.date(), time())
                if wall_after <= midnight < wall_before:
                    repeated.append((zone, midnight.date(), t, before, after))
    return skipped, repeated


def test_day_start_when_midnight_is_skipped() -> None:
    skipped, _ = _midnight_changes()
    assert skipped, "expected real zones whose clocks skip midnight"
    for zone, day, transition, before, after in skipped:
        got = day_start(day, zone)
        assert got == transition, (zone, day)
        local = got.astimezone(zone)
        assert local.date() == day
        assert local.time() > time(0)  # the first valid local instant is after 00:00
        assert local_day(got - SECOND, zone) == day - timedelta(days=1)
        length = day_start(day + timedelta(days=1), zone) - got
        assert length == timedelta(days=1) - (after - before), (zone, day)


def test_day_start_when_midnight_happens_twice() -> None:
    _, repeated = _midnight_changes()
    if not repeated:
        pytest.skip("no zone in the sample repeats midnight in this tzdata")
    for zone, day, transition, before, after in repeated:
        got = day_start(day, zone)
        assert got < transition  # the first of the two midnights
        assert got.astimezone(zone).replace(tzinfo=None) == datetime.combine(day, time())
        assert local_day(got - SECOND, zone) == day - timedelta(days=1)
        length = day_start(day + timedelta(days=1), zone) - got
        assert length == timedelta(days=1) + (before - after), (zone, day)


def test_a_day_that_never_happened_starts_when_the_next_one_does() -> None:
    apia = ZoneInfo("Pacific/Apia")  # Samoa skipped Friday 2011-12-30 crossing the date line
    assert day_start(date(2011, 12, 30), apia) == day_start(date(2011, 12, 31), apia)
    assert day_start(date(2011, 12, 31), apia) == utc(2011, 12, 30, 10)
    assert local_day(utc(2011, 12, 30, 10) - SECOND, apia) == date(2011, 12, 29)
    assert day_start(date(2011, 12, 29), apia) == utc(2011, 12, 29, 10)  # a 24-hour day


ZONES_TO_SAMPLE = sorted(
    {
        *MIDNIGHT_ZONES,
        "Europe/Berlin",
        "America/New_York",
        "UTC",
        "Pacific/Apia",
        "Pacific/Kiritimati",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "America/St_Johns",
        "Europe/Dublin",
    }
)


@given(
    name=st.sampled_from(ZONES_TO_SAMPLE),
    day=st.dates(min_value=date(1980, 1, 1), max_value=date(2037, 12, 31)),
)
def test_day_start_is_the_first_instant_of_the_day(name: str, day: date) -> None:
    zone = ZoneInfo(name)
    start = day_start(day, zone)
    assert start.utcoffset() == timedelta(0)
    assert local_day(start - SECOND, zone) < day <= local_day(start, zone)
    assert day_start(day + timedelta(days=1), zone) >= start


# --- wall_instant --------------------------------------------------------------------------

SYDNEY = ZoneInfo("Australia/Sydney")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # DST moves the clocks by 30 minutes
SANTIAGO = ZoneInfo("America/Santiago")  # changes at local midnight


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected", "local"),
    [
        # ordinary days
        (BERLIN, date(2026, 7, 1), time(12), utc(2026, 7, 1, 10), time(12)),
        (BERLIN, date(2026, 1, 15), time(6, 30), utc(2026, 1, 15, 5, 30), time(6, 30)),
        (NEW_YORK, date(2026, 6, 1), time(23, 59), utc(2026, 6, 2, 3, 59), time(23, 59)),
        (KIRITIMATI, date(2026, 6, 16), time(6, 30), utc(2026, 6, 15, 16, 30), time(6, 30)),
        # Berlin spring forward: 02:00 CET -> 03:00 CEST at 01:00 UTC
        (BERLIN, date(2026, 3, 29), time(1, 59), utc(2026, 3, 29, 0, 59), time(1, 59)),
        (BERLIN, date(2026, 3, 29), time(2), utc(2026, 3, 29, 1), time(3)),
        (BERLIN, date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1), time(3)),
        (BERLIN, date(2026, 3, 29), time(2, 59, 59), utc(2026, 3, 29, 1), time(3)),
        (BERLIN, date(2026, 3, 29), time(3), utc(2026, 3, 29, 1), time(3)),
        (BERLIN, date(2026, 3, 29), time(3, 1), utc(2026, 3, 29, 1, 1), time(3, 1)),
        # Berlin fall back: 02:00-03:00 happens twice; the first (CEST) one counts
        (BERLIN, date(2026, 10, 25), time(2), utc(2026, 10, 25, 0), time(2)),
        (BERLIN, date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30), time(2, 30)),
        (BERLIN, date(2026, 10, 25), time(3), utc(2026, 10, 25, 2), time(3)),
        # New York: 02:00 EST -> 03:00 EDT at 07:00 UTC; 01:00-02:00 twice in November
        (NEW_YORK, date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7), time(3)),
        (NEW_YORK, date(2026, 3, 8), time(6, 30), utc(2026, 3, 8, 10, 30), time(6, 30)),
        (NEW_YORK, date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30), time(1, 30)),
        (NEW_YORK, date(2026, 11, 1), time(2), utc(2026, 11, 1, 7), time(2)),
        # Sydney: 02:00 AEST -> 03:00 AEDT on 4 Oct; 02:00-03:00 twice on 5 Apr
        (SYDNEY, date(2026, 10, 4), time(2, 30), utc(2026, 10, 3, 16), time(3)),
        (SYDNEY, date(2026, 4, 5), time(2, 30), utc(2026, 4, 4, 15, 30), time(2, 30)),
        # Lord Howe: 02:00 -> 02:30 (+10:30 -> +11) on 4 Oct; 01:30-02:00 twice on 5 Apr
        (LORD_HOWE, date(2026, 10, 4), time(1, 59), utc(2026, 10, 3, 15, 29), time(1, 59)),
        (LORD_HOWE, date(2026, 10, 4), time(2), utc(2026, 10, 3, 15, 30), time(2, 30)),
        (LORD_HOWE, date(2026, 10, 4), time(2, 15), utc(2026, 10, 3, 15, 30), time(2, 30)),
        (LORD_HOWE, date(2026, 10, 4), time(2, 30), utc(2026, 10, 3, 15, 30), time(2, 30)),
        (LORD_HOWE, date(2026, 10, 4), time(3), utc(2026, 10, 3, 16), time(3)),
        (LORD_HOWE, date(2026, 4, 5), time(1, 45), utc(2026, 4, 4, 14, 45), time(1, 45)),
        (LORD_HOWE, date(2026, 4, 5), time(2), utc(2026, 4, 4, 15, 30), time(2)),
        # Santiago: 00:00 -> 01:00 on 6 Sep; back from 00:00 to 23:00 on 4/5 Apr, so the
        # last hour of Saturday 4 April happens twice
        (SANTIAGO, date(2026, 9, 6), time(0, 30), utc(2026, 9, 6, 4), time(1)),
        (SANTIAGO, date(2026, 9, 6), time(6, 30), utc(2026, 9, 6, 9, 30), time(6, 30)),
        (SANTIAGO, date(2026, 9, 5), time(23, 30), utc(2026, 9, 6, 3, 30), time(23, 30)),
        (SANTIAGO, date(2026, 4, 4), time(23, 30), utc(2026, 4, 5, 2, 30), time(23, 30)),
        (SANTIAGO, date(2026, 4, 5), time(0, 30), utc(2026, 4, 5, 4, 30), time(0, 30)),
    ],
)
def test_wall_instant(zone: ZoneInfo, day: date, at: time, expected: datetime, local: time) -> None:
    got = wall_instant(day, at, zone)
    assert got == expected
    assert got.utcoffset() == timedelta(0)
    assert got.astimezone(zone).time() == local
    assert got.astimezone(zone).date() == day


def test_wall_instant_in_a_gap_ignores_seconds_and_microseconds() -> None:
    at = time(2, 30, 15, 500_000)
    assert wall_instant(date(2026, 3, 29), at, BERLIN) == utc(2026, 3, 29, 1)
    precise = wall_instant(date(2026, 7, 1), at, BERLIN)
    assert precise == datetime(2026, 7, 1, 0, 30, 15, 500_000, tzinfo=UTC)


def test_wall_instant_on_a_day_that_never_happened() -> None:
    apia = ZoneInfo("Pacific/Apia")
    next_day = utc(2011, 12, 30, 10)  # 2011-12-31 00:00 in Apia
    for at in (time(0), time(12), time(23, 59, 59)):
        assert wall_instant(date(2011, 12, 30), at, apia) == next_day
    assert wall_instant(date(2011, 12, 31), time(0, 30), apia) == next_day + timedelta(minutes=30)


def test_wall_instant_refuses_an_aware_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        wall_instant(date(2026, 1, 1), time(6, tzinfo=UTC), BERLIN)


def test_wall_instant_ignores_fold() -> None:
    day = date(2026, 10, 25)
    assert wall_instant(day, time(2, 30, fold=1), BERLIN) == utc(2026, 10, 25, 0, 30)


@given(
    name=st.sampled_from(ZONES_TO_SAMPLE),
    day=st.dates(min_value=date(1980, 1, 1), max_value=date(2037, 12, 31)),
    at=st.times(),
    later=st.times(),
)
def test_wall_instant_is_the_first_instant_at_or_past_the_wall_time(
    name: str, day: date, at: time, later: time
) -> None:
    zone = ZoneInfo(name)
    wall = datetime.combine(day, at)
    got = wall_instant(day, at, zone)
    assert got.utcoffset() == timedelta(0)

    def local(instant: datetime) -> datetime:
        return instant.astimezone(zone).replace(tzinfo=None)

    assert local(got) >= wall
    assert local(got - timedelta(microseconds=1)) < wall
    for fold in (0, 1):
        reading = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if local(reading) == wall:  # the wall time exists: shown exactly, first occurrence
            assert local(got) == wall
            assert got <= reading
    if at == time(0):
        assert got == day_start(day, zone)
    low, high = sorted((at, later))
    assert wall_instant(day, low, zone) <= wall_instant(day, high, zone)
    assert got <= wall_instant(day + timedelta(days=1), at, zone)


# --- resolve_zone --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("  EUROPE/BERLIN\t", "Europe/Berlin"),
        ("Europe / Berlin", "Europe/Berlin"),
        (" UTC ", "UTC"),
        ("utc", "UTC"),
        ("new york", "America/New_York"),
        ("New_York", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("berlin", "Europe/Berlin"),
        ("port au prince", "America/Port-au-Prince"),
        ("buenos aires", "America/Argentina/Buenos_Aires"),
        ("America/Buenos_Aires", "America/Buenos_Aires"),  # an exact old name is kept
        ("Etc/GMT+5", "Etc/GMT+5"),
        ("EST", "EST"),  # an IANA key, so accepted
        ("cet", "CET"),
    ],
)
def test_resolve_zone_is_forgiving(text: str, key: str) -> None:
    zone = resolve_zone(text)
    assert isinstance(zone, ZoneInfo)
    assert zone.key == key
    assert zone is ZoneInfo(key)  # cached


def test_every_listed_zone_resolves_to_itself() -> None:
    for key in search_zones("", limit=10_000):
        assert resolve_zone(key).key == key
        assert resolve_zone(key.lower()).key == key


def test_unknown_zone_message_has_suggestions_and_an_example() -> None:
    with pytest.raises(UserError) as caught:
        resolve_zone("Europe/Berln")
    message = str(caught.value)
    assert message.startswith(
        "I don't know the time zone 'Europe/Berln'. Did you mean: Europe/Berlin"
    )
    assert message.endswith("Use a name like Europe/Berlin or America/New_York.")
    suggested = message.split("Did you mean: ")[1].split("?")[0].split(", ")
    assert 1 <= len(suggested) <= 3


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("new yrok", "America/New_York"),
        ("Amerca/Chicgo", "America/Chicago"),
        ("tokio", "Asia/Tokyo"),
    ],
)
def test_misspellings_are_suggested(text: str, suggestion: str) -> None:
    with pytest.raises(UserError, match=f"Did you mean: .*{suggestion}"):
        resolve_zone(text)


def test_unknown_zone_without_suggestions() -> None:
    with pytest.raises(UserError) as caught:
        resolve_zone("xyzzy")
    assert str(caught.value) == (
        "I don't know the time zone 'xyzzy'. Use a name like Europe/Berlin or America/New_York."
    )


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_names_are_refused(text: str) -> None:
    with pytest.raises(UserError, match="Europe/Berlin"):
        resolve_zone(text)


def test_over_long_names_are_refused_without_echoing_them() -> None:
    with pytest.raises(UserError, match="too long") as caught:
        resolve_zone("Europe/" + "x" * 60)
    assert "xxxx" not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "../../etc/passwd",
        "/etc/localtime",
        "localtime",
        "posixrules",
        "posix/Europe/Berlin",
        "Europe/",
        "Europe",
        "Berlin/Europe",
        "Mars/Olympus_Mons",
        "UTC\x00",
    ],
)
def test_non_zones_are_refused(text: str) -> None:
    with pytest.raises(UserError, match="I don't know the time zone"):
        resolve_zone(text)


def test_hidden_keys_are_not_offered() -> None:
    listed = set(search_zones("", limit=10_000))
    assert not listed & HIDDEN_KEYS
    assert listed <= available_timezones()
    assert {"UTC", "Europe/Berlin", "America/New_York", "Pacific/Kiritimati"} <= listed


def test_an_ambiguous_city_asks_which_one() -> None:
    with pytest.raises(UserError, match="US/Eastern") as caught:
        resolve_zone("eastern")
    assert "Canada/Eastern" in str(caught.value)


# --- search_zones ----------------------------------------------------------------------------


def test_search_limits() -> None:
    assert len(search_zones("")) == 25
    assert len(search_zones("a", limit=5)) == 5
    assert search_zones("a", limit=0) == []
    assert len(search_zones("america")) == 25


def test_empty_query_lists_popular_zones_first() -> None:
    first = search_zones("", limit=10)
    assert first[0] == "UTC"
    assert "Europe/Berlin" in first
    assert "America/New_York" in search_zones("")


def test_search_is_case_insensitive_and_matches_any_part() -> None:
    assert search_zones("BERLIN") == ["Europe/Berlin"]
    assert search_zones("new york")[0] == "America/New_York"
    assert search_zones("york") == ["America/New_York"]
    assert "Asia/Tokyo" in search_zones("kyo")
    assert search_zones("europe/ber")[0] == "Europe/Berlin"
    assert search_zones("zzzz") == []


def test_search_ranks_city_prefix_before_substring() -> None:
    results = search_zones("ber")
    assert results[0] == "Europe/Berlin"
    assert results.index("Atlantic/Bermuda") < results.index("Australia/Canberra")
    for query in ("an", "la", "sa"):
        results = search_zones(query, limit=200)
        prefix = [r.rsplit("/", 1)[-1].lower().startswith(query) for r in results]
        assert prefix == sorted(prefix, reverse=True), query  # all prefix hits first
        assert all(query in r.lower() for r in results)


# --- a member who changes zone mid-streak ----------------------------------------------------


def test_moving_east_across_the_date_line_can_skip_a_day() -> None:
    first = utc(2026, 6, 16, 7)  # 20:00 on 15 June in Pago Pago
    day1 = local_day(first, PAGO_PAGO)
    assert day1 == date(2026, 6, 15)
    state = add_day(EMPTY, day1, rest_days=0)
    assert state is not None
    # 13 hours later the member is in Kiritimati, where it is already 17 June.
    second = utc(2026, 6, 16, 20)
    day2 = local_day(second, KIRITIMATI)
    assert day2 == date(2026, 6, 17)
    assert current_streak(state, day2, rest_days=0) == 0  # 16 June was never "today"
    strict = add_day(state, day2, rest_days=0)
    assert strict is not None and strict.run == 1
    lenient = add_day(state, day2, rest_days=1)
    assert lenient is not None and lenient.run == 2


def test_moving_west_across_the_date_line_repeats_today() -> None:
    first = utc(2026, 6, 15, 19)  # 09:00 on 16 June in Kiritimati
    day1 = local_day(first, KIRITIMATI)
    assert day1 == date(2026, 6, 16)
    state = add_day(EMPTY, day1, rest_days=0)
    assert state is not None
    # Ten hours later in Pago Pago it is 15 June again: already checked in.
    back = local_day(utc(2026, 6, 16, 5), PAGO_PAGO)
    assert back == date(2026, 6, 15)
    assert add_day(state, back, rest_days=0) is None
    assert current_streak(state, back, rest_days=0) == 1
    # Then 16 June arrives in Pago Pago too: still the same day.
    same = local_day(utc(2026, 6, 16, 12), PAGO_PAGO)
    assert same == day1
    assert add_day(state, same, rest_days=0) is None
    # The next local day counts and continues the run.
    nxt = local_day(utc(2026, 6, 17, 12), PAGO_PAGO)
    later = add_day(state, nxt, rest_days=0)
    assert later is not None and later.run == 2


def test_moving_within_a_day_of_offset_keeps_the_streak() -> None:
    state = add_day(EMPTY, local_day(utc(2026, 3, 28, 12), BERLIN), rest_days=0)
    assert state is not None
    day = local_day(utc(2026, 3, 29, 12), NEW_YORK)
    assert day == date(2026, 3, 29)
    later = add_day(state, day, rest_days=0)
    assert later is not None and later.run == 2
