"""The weekly recap (stride/recaps.py) on both databases, with an injected clock: its days,
its figures for a known history, the week's milestones and comebacks, the next week's runs,
its schedule across DST and a change of the club's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from stride.catalog import Catalog
from stride.checkins import Checkins
from stride.clock import ManualClock
from stride.errors import UserError
from stride.recaps import CHART_DAYS, Recaps, recap_days
from stride.records import Highlight, RunChanges, RunEvent, RunSettings
from stride.reminders import Reminders
from stride.storage import Storage
from stride.streaks import StreakState

G = 1000
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def recaps(storage: Storage, catalog: Catalog, clock: ManualClock) -> Recaps:
    return Recaps(storage, Reminders(storage, catalog, clock), clock)


def test_a_recap_covers_the_seven_days_before_its_day() -> None:
    monday = datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert recap_days(monday, ZoneInfo("UTC")) == (date(2026, 11, 23), date(2026, 11, 29))
    # 23:30 UTC on Sunday is already Monday in Berlin.
    late = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert recap_days(late, BERLIN) == (date(2026, 11, 23), date(2026, 11, 29))
    assert recap_days(late, ZoneInfo("UTC")) == (date(2026, 11, 22), date(2026, 11, 28))


async def test_the_figures_of_a_known_week(recaps: Recaps, checkins: Checkins,
                                          storage: Storage, clock: ManualClock) -> None:
    await checkins.update_club(G, rest_days=0)
    start = date(2026, 11, 16)  # the recap of Mon 23 Nov covers 16-22 Nov

    async def on(day: date, *users: int) -> None:
        clock.current = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
        for user in users:
            assert (await checkins.check_in(G, user)).recorded

    # Member 1: every day from 2 Nov (a 21-day run: its 7th and 14th days in earlier weeks).
    for n in range(21):
        await on(date(2026, 11, 2) + timedelta(days=n), 1)
    # Member 2: 3 days in the week before; back on 20 Nov after a break.
    for n in range(3):
        await on(date(2026, 11, 10) + timedelta(days=n), 2)
    await on(date(2026, 11, 20), 2)
    # Member 3: checked in 7 days in a row ending 22 Nov (reaches 7 that week).
    for n in range(7):
        await on(start + timedelta(days=n), 3)
    # Member 4: the week before only (its streak is gone); member 5 left the server.
    await on(date(2026, 11, 12), 4, 5)
    await on(date(2026, 11, 18), 5)
    await checkins.member_left(G, 5)
    clock.current = datetime(2026, 11, 23, 9, tzinfo=UTC)
    recap = await recaps.build(G)
    assert (recap.start, recap.end, recap.zone) == (start, date(2026, 11, 22), "UTC")
    assert recap.checkins == 7 + 1 + 7 + 1  # members 1, 2, 3 and 5's one (left later)
    assert recap.members == 4
    assert recap.previous == 7 + 3 + 2  # 9-15 Nov: member 1, member 2 x3, members 4 and 5
    assert (recap.present, recap.alive) == (4, 2)  # 1 and 3 alive on the 23rd (no rest days)
    assert recap.top == [(1, 21), (3, 7)]
    # Member 1's 7th, 10th and 14th check-ins fell in earlier weeks; member 5 has left.
    assert [(h.user_id, h.day, h.highlight.kind, h.highlight.value)
            for h in recap.milestones] == [(3, date(2026, 11, 22), "streak", 7)]
    assert [(h.user_id, h.highlight.value) for h in recap.comebacks] == [(2, 8)]
    assert (recap.milestone_count, recap.comeback_count) == (1, 1)
    assert len(recap.daily) == CHART_DAYS and recap.daily[-1] == (date(2026, 11, 22), 2)
    assert sum(n for _, n in recap.daily) == 21 + 4 + 7 + 2 + 1
    assert recap.runs == []  # no /runs setup


async def test_many_milestones_and_comebacks_are_listed_a_few_and_counted(
        recaps: Recaps, storage: Storage) -> None:
    day = date(2026, 11, 20)
    for user in range(1, 31):  # 30 members, each with a milestone and a comeback that day
        await storage.save_member(
            G, user, expected=None, state=StreakState(day, 1, 7, 10), rest_days=2,
            breaks_at=None, at="2026-11-20T09:00:00+00:00",
            highlights=(Highlight("back", user + 3), Highlight("total", 10)))
    recap = await recaps.build(G, datetime(2026, 11, 23, 9, tzinfo=UTC))
    assert (recap.milestone_count, recap.comeback_count) == (30, 30)
    assert len(recap.milestones) == len(recap.comebacks) == 10
    assert [h.highlight.value for h in recap.comebacks][:2] == [33, 32]  # longest away first


async def test_an_undone_check_in_takes_its_milestone_out_of_the_recap(
        recaps: Recaps, checkins: Checkins, clock: ManualClock) -> None:
    for n in range(10):
        clock.current = datetime(2026, 11, 13 + n, 9, tzinfo=UTC)
        await checkins.check_in(G, 1)
    assert [h.highlight.value for h in (await recaps.build(G, datetime(
        2026, 11, 23, 9, tzinfo=UTC))).milestones] == [7, 10]
    await checkins.undo(G, 1)  # the 10th check-in (22 Nov), undone on the day
    recap = await recaps.build(G, datetime(2026, 11, 23, 9, tzinfo=UTC))
    assert [h.highlight.value for h in recap.milestones] == [7]
    assert recap.daily[-1] == (date(2026, 11, 22), 0)


async def test_next_weeks_runs_with_runs_set_up(recaps: Recaps, storage: Storage,
                                                clock: ManualClock) -> None:
    now = int(clock.now().timestamp())
    events = [RunEvent(G, 10 + n, f"Run {n}", now + n * 2 * 86400 + 3600) for n in range(6)]
    await storage.runs.save_settings(RunSettings(G, 55, 30))
    await storage.runs.sync(G, lambda s, posts, known: RunChanges(events, [], []))
    recap = await recaps.build(G)
    assert [e.name for e in recap.runs] == ["Run 0", "Run 1", "Run 2", "Run 3"]  # 7 days


async def test_setup_times_it_in_the_clubs_zone_across_dst(
        recaps: Recaps, checkins: Checkins, storage: Storage, clock: ManualClock) -> None:
    await checkins.update_club(G, timezone="Europe/Berlin")
    clock.current = datetime(2026, 10, 20, 12, tzinfo=UTC)
    saved = await recaps.setup(G, 55, 0, "9:00", 42)  # Mondays 09:00 Berlin
    assert (saved.purpose, saved.kind, saved.timezone, saved.at) == (
        "recap", "channel", "Europe/Berlin", "09:00")
    assert saved.next_due == int(datetime(2026, 10, 26, 8, tzinfo=UTC).timestamp())  # CET
    again = await recaps.setup(G, 56, 6, "18:30", 42)  # a second setup replaces the first
    assert again.id == saved.id and again.channel_id == 56
    assert again.next_due == int(datetime(2026, 10, 25, 17, 30, tzinfo=UTC).timestamp())
    assert await storage.reminders(G) == []  # not one of the club's 25 reminders
    await recaps.zone_changed(G, "America/New_York")
    moved = await recaps.get(G)
    assert moved is not None and moved.timezone == "America/New_York"
    assert moved.next_due == int(datetime(2026, 10, 25, 22, 30, tzinfo=UTC).timestamp())
    await recaps.off(G)
    assert await recaps.get(G) is None
    with pytest.raises(UserError, match="no weekly recap"):
        await recaps.off(G)


async def test_bad_input_changes_nothing(recaps: Recaps) -> None:
    with pytest.raises(UserError, match="as a time"):
        await recaps.setup(G, 55, 0, "25:99", 42)
    with pytest.raises(UserError, match="day of the week"):
        await recaps.setup(G, 55, 7, "9:00", 42)
    assert await recaps.get(G) is None
