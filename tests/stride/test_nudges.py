"""The nudge before a streak ends (stride/nudges.py, and the check-in's side of it in
stride/checkins.py) on both databases, with an injected clock: when it is due, that check-ins
and undos move it in their own transaction, that it is never for a streak of 0 or 1, never
on another day, never after a check-in, and the scheduler finds it by its due time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from stride import streaks
from stride.checkins import Checkins, nudge_at
from stride.clock import ManualClock
from stride.errors import UserError
from stride.nudges import Nudges
from stride.records import Claim, Lease, Reminder
from stride.storage import Storage

G, U = 1000, 7
BERLIN, UTC_ZONE = ZoneInfo("Europe/Berlin"), ZoneInfo("UTC")


@pytest.fixture
def nudges(storage: Storage, checkins: Checkins) -> Nudges:
    return Nudges(storage, checkins)


def at(clock: ManualClock, day: int, hour: int, minute: int = 0,
       zone: ZoneInfo = UTC_ZONE) -> None:
    """Set the clock to `hour:minute` local on November `day`, 2026."""
    clock.current = datetime(2026, 11, day, hour, minute, tzinfo=zone).astimezone(UTC)


def unix(day: int, hour: int, minute: int = 0, zone: ZoneInfo = UTC_ZONE) -> int:
    return int(datetime(2026, 11, day, hour, minute, tzinfo=zone).timestamp())


async def streak_of(checkins: Checkins, clock: ManualClock, days: int, first: int = 16,
                    hour: int = 8) -> None:
    for day in range(first, first + days):
        at(clock, day, hour)
        assert (await checkins.check_in(G, U)).recorded


async def test_due_on_the_last_day_the_streak_survives(checkins: Checkins, nudges: Nudges,
                                                       clock: ManualClock) -> None:
    await checkins.update_club(G, rest_days=2)
    await streak_of(checkins, clock, 3)  # Nov 16, 17, 18: alive to the end of Nov 21
    saved = await nudges.enable(G, U)
    assert (saved.at, saved.purpose, saved.kind, saved.paused) == ("20:00", "nudge", "dm", None)
    assert saved.next_due == unix(21, 20)
    # A check-in moves it to the next last day; an undo puts it back.
    at(clock, 20, 9)
    await checkins.check_in(G, U)
    assert (await nudges.get(G, U)).next_due == unix(23, 20)  # type: ignore[union-attr]
    undone = await checkins.undo(G, U)
    assert undone.figures.current == 3
    assert (await nudges.get(G, U)).next_due == unix(21, 20)  # type: ignore[union-attr]


async def test_never_for_a_streak_of_0_or_1(checkins: Checkins, nudges: Nudges,
                                            clock: ManualClock) -> None:
    assert (await nudges.enable(G, U)).next_due is None  # no streak at all
    await streak_of(checkins, clock, 1)
    assert (await nudges.get(G, U)).next_due is None  # type: ignore[union-attr]
    at(clock, 17, 8)
    await checkins.check_in(G, U)
    assert (await nudges.get(G, U)).next_due is not None  # type: ignore[union-attr]


async def test_a_nudge_time_already_past_today_waits_for_the_next_streak(
        checkins: Checkins, nudges: Nudges, clock: ManualClock) -> None:
    await checkins.update_club(G, rest_days=0)
    await streak_of(checkins, clock, 2)  # Nov 16, 17: last day alive Nov 18
    at(clock, 18, 21)  # after 20:00 on that day
    assert (await nudges.enable(G, U)).next_due is None
    assert (await nudges.enable(G, U, "22:30")).next_due == unix(18, 22, 30)


async def test_own_time_in_own_zone_across_dst(checkins: Checkins, nudges: Nudges,
                                               clock: ManualClock) -> None:
    # Berlin leaves summer time on Sunday 25 October 2026 (03:00 CEST -> 02:00 CET).
    await checkins.update_club(G, rest_days=0)
    await checkins.set_timezone(G, U, "Europe/Berlin")
    for day in (23, 24):
        clock.current = datetime(2026, 10, day, 9, tzinfo=BERLIN).astimezone(UTC)
        await checkins.check_in(G, U)
    saved = await nudges.enable(G, U, "7pm")
    assert saved.next_due == int(datetime(2026, 10, 25, 19, tzinfo=BERLIN).timestamp())
    assert saved.next_due == int(datetime(2026, 10, 25, 18, tzinfo=UTC).timestamp())  # CET


async def test_due_decides_again_at_send_time(checkins: Checkins, nudges: Nudges,
                                              clock: ManualClock) -> None:
    await checkins.update_club(G, rest_days=0)
    await streak_of(checkins, clock, 4)  # Nov 16-19: last day alive Nov 20
    nudge = await nudges.enable(G, U)
    at(clock, 20, 20)
    text = await nudges.due(nudge)
    assert text is not None and text.streak == 4 and text.ends_at == unix(21, 0)
    at(clock, 19, 20)  # another day: not due
    assert await nudges.due(nudge) is None
    at(clock, 20, 19, 59)
    await checkins.check_in(G, U)  # checked in just before: not due
    at(clock, 20, 20)
    assert await nudges.due(nudge) is None


async def test_the_club_rule_and_zone_move_every_nudge(checkins: Checkins, nudges: Nudges,
                                                       clock: ManualClock) -> None:
    await checkins.update_club(G, rest_days=0)
    await streak_of(checkins, clock, 2)
    await nudges.enable(G, U)
    assert (await nudges.get(G, U)).next_due == unix(18, 20)  # type: ignore[union-attr]
    await checkins.update_club(G, rest_days=3, timezone="Europe/Berlin")
    assert await nudges.refresh_club(G) == 1
    # Last check-in Nov 17 (Berlin day), 3 rest days: alive to the end of Nov 21, Berlin.
    assert (await nudges.get(G, U)).next_due == unix(21, 20, zone=BERLIN)  # type: ignore[union-attr]


async def test_switched_off_nudges_stay_off_until_turned_on(
        checkins: Checkins, nudges: Nudges, storage: Storage, clock: ManualClock) -> None:
    await streak_of(checkins, clock, 2)
    saved = await nudges.enable(G, U)
    await storage.schedule_reminder(saved.id, None, "DMs closed")
    at(clock, 18, 8)
    await checkins.check_in(G, U)  # does not switch it back on
    found = await nudges.get(G, U)
    assert found is not None and (found.next_due, found.paused) == (None, "DMs closed")
    again = await nudges.enable(G, U, "19:00")
    assert again.id == saved.id and again.paused is None and again.next_due is not None
    await nudges.disable(G, U)
    assert await nudges.get(G, U) is None
    with pytest.raises(UserError, match="already off"):
        await nudges.disable(G, U)


async def test_a_member_who_leaves_is_not_nudged(checkins: Checkins, nudges: Nudges,
                                                 clock: ManualClock) -> None:
    await streak_of(checkins, clock, 2)
    await nudges.enable(G, U)
    await checkins.member_left(G, U)
    await nudges.member_left(G, U)
    found = await nudges.get(G, U)
    assert found is not None and (found.next_due, found.paused) == (None, "you left the server")
    await nudges.member_left(G, U)  # again: nothing changes
    assert (await nudges.enable(G, U)).paused is None  # back, and turned on again


async def test_a_nudge_is_kept_apart_from_the_members_dm_reminder(
        checkins: Checkins, nudges: Nudges, storage: Storage, clock: ManualClock) -> None:
    reminder = await storage.add_reminder(Reminder(
        0, G, "dm", None, U, "06:30", 127, "UTC", None, None, unix(24, 6, 30), None, 0, U))
    nudge = await nudges.enable(G, U)
    assert nudge.id != reminder.id
    assert (await storage.dm_reminder(G, U)) == reminder
    assert [r.id for r in await storage.reminders(G, "dm")] == [reminder.id]
    assert await checkins.forget(G, U) == 0
    assert await nudges.get(G, U) is None and await storage.dm_reminder(G, U) is None


async def test_the_scheduler_claims_due_nudges_once(checkins: Checkins, nudges: Nudges,
                                                    storage: Storage, clock: ManualClock
                                                    ) -> None:
    await checkins.update_club(G, rest_days=0)
    for user in range(1, 6):
        for day in (16, 17):
            at(clock, day, 8)
            await checkins.check_in(G, user)
        await nudges.enable(G, user, f"20:0{user}")
    due = unix(18, 20, 3)

    def plan(found: list[Reminder]) -> tuple[list[Claim], dict[int, int | None]]:
        return [Claim(r, r.next_due or 0, "claimed") for r in found], \
            {r.id: None for r in found}

    claims = await storage.claim_due(due, 500, plan, Lease("test", due + 30))
    assert sorted(c.reminder.user_id or 0 for c in claims) == [1, 2, 3]
    assert await storage.claim_due(due, 500, plan, Lease("test", due + 30)) == []


def test_nudge_at_is_none_without_a_run_and_never_the_check_in_day() -> None:
    now = datetime(2026, 11, 16, 9, tzinfo=UTC)
    state = streaks.from_days([now.date() - timedelta(days=1), now.date()], 0)
    assert nudge_at(streaks.EMPTY, 0, ZoneInfo("UTC"), time(20), now) is None
    due = nudge_at(state, 0, ZoneInfo("UTC"), time(20), now)
    assert due == int(datetime(2026, 11, 17, 20, tzinfo=UTC).timestamp())
