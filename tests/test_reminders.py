"""The reminder scheduler with an injected clock and a recording sender: no waiting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from stride.catalog import Catalog, Routine
from stride.errors import UserError
from stride.reminders import Outcome, Reminders, from_unix
from stride.storage import Storage
from stride.storage.records import Reminder

G, CHANNEL, ADMIN = 1000, 2000, 3000


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        self.current += timedelta(seconds=seconds or 0)


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[int, datetime, str | None]] = []
        self.outcomes: list[Outcome] = []

    async def send(self, reminder: Reminder, due: datetime, routine: Routine | None) -> Outcome:
        self.sent.append((reminder.id, due, routine.id if routine else None))
        return self.outcomes.pop(0) if self.outcomes else Outcome("sent", message_id=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 27, 12, 0, tzinfo=UTC))  # a Friday


@pytest.fixture
def reminders(storage: Storage, catalog: Catalog, clock: FakeClock) -> Reminders:
    return Reminders(storage, catalog, clock)


async def run_until(reminders: Reminders, sender: RecordingSender, clock: FakeClock,
                    until: datetime) -> None:
    """Drive the scheduler like run() does, jumping the clock from one due time to the next."""
    while True:
        delay = await reminders.tick(sender)
        await reminders.drain()
        if delay is None or clock.now() + timedelta(seconds=delay) > until:
            clock.current = until
            await reminders.tick(sender)
            await reminders.drain()
            return
        clock.current += timedelta(seconds=delay)


async def test_add_validates_and_schedules(reminders: Reminders, storage: Storage) -> None:
    with pytest.raises(UserError, match="6:30am"):
        await reminders.add_club(G, CHANNEL, "6:61", None, None, None, None, ADMIN)
    with pytest.raises(UserError, match="mon,wed,fri"):
        await reminders.add_club(G, CHANNEL, "6:30", "someday", None, None, None, ADMIN)
    with pytest.raises(UserError, match="Europe/Berlin"):
        await reminders.add_club(G, CHANNEL, "6:30", None, "Europe/Berln", None, None, ADMIN)
    with pytest.raises(UserError, match="quick"):
        await reminders.add_club(G, CHANNEL, "6:30", None, None, None, "marathon", ADMIN)
    assert await storage.reminders(G) == []  # nothing stored for rejected input
    r = await reminders.add_club(G, CHANNEL, "6:30am", "weekdays", "Europe/Berlin", None,
                                 None, ADMIN)
    assert r.at == "06:30" and r.timezone == "Europe/Berlin"
    # Friday 12:00 UTC is past 06:30 in Berlin; the weekend is skipped: Monday 05:30 UTC (CEST).
    assert from_unix(r.next_due) == datetime(2026, 3, 30, 4, 30, tzinfo=UTC)


async def test_fires_once_per_due_time_and_rotates_routines(
    reminders: Reminders, clock: FakeClock, catalog: Catalog
) -> None:
    sender = RecordingSender()
    await reminders.add_club(G, CHANNEL, "07:00", None, "UTC", None, None, ADMIN)
    await run_until(reminders, sender, clock, clock.now() + timedelta(days=3, hours=1))
    assert [due for _, due, _ in sender.sent] == [
        datetime(2026, 3, 28, 7, tzinfo=UTC), datetime(2026, 3, 29, 7, tzinfo=UTC),
        datetime(2026, 3, 30, 7, tzinfo=UTC),
    ]
    rotation = [r.id for r in reminders.pre_run_routines()]
    assert len(rotation) >= 2
    assert [routine for _, _, routine in sender.sent] == [
        rotation[i % len(rotation)] for i in range(3)
    ]


async def test_dst_spring_forward_fires_at_the_jump(
    reminders: Reminders, clock: FakeClock
) -> None:
    sender = RecordingSender()
    await reminders.add_club(G, CHANNEL, "02:30", None, "Europe/Berlin", None, "quick", ADMIN)
    await run_until(reminders, sender, clock, datetime(2026, 3, 31, tzinfo=UTC))
    assert [due for _, due, _ in sender.sent] == [
        datetime(2026, 3, 28, 1, 30, tzinfo=UTC),  # 02:30 CET
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 02:30 does not exist: 03:00 CEST
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),  # 02:30 CEST
    ]


async def test_restart_neither_repeats_nor_loses(
    reminders: Reminders, storage: Storage, catalog: Catalog, clock: FakeClock
) -> None:
    sender = RecordingSender()
    r = await reminders.add_club(G, CHANNEL, "07:00", None, "UTC", None, None, ADMIN)
    clock.current = from_unix(r.next_due) + timedelta(seconds=1)
    await reminders.tick(sender)
    await reminders.drain()
    # A new process on the same database: nothing is due again.
    again = Reminders(storage, catalog, clock)
    await again.recover(sender)
    await again.tick(sender)
    await again.drain()
    assert len(sender.sent) == 1
    assert await storage.firing_count("sent") == 1


async def test_a_firing_cut_short_is_resent_with_the_same_key(
    reminders: Reminders, storage: Storage, catalog: Catalog, clock: FakeClock
) -> None:
    """The process died after recording the firing and before (or while) sending it."""
    sender = RecordingSender()
    r = await reminders.add_club(G, CHANNEL, "07:00", None, "UTC", None, None, ADMIN)
    due = from_unix(r.next_due)
    clock.current = due + timedelta(seconds=5)

    class Dies(RecordingSender):
        async def send(self, *args: object) -> Outcome:
            raise asyncio.CancelledError  # killed mid-send

    await reminders.tick(Dies())
    await asyncio.gather(*reminders._deliveries, return_exceptions=True)
    assert await storage.firing_count("claimed") == 1
    restarted = Reminders(storage, catalog, clock)
    await restarted.recover(sender)
    await restarted.drain()
    assert [d for _, d, _ in sender.sent] == [due]
    assert await storage.firing_count("sent") == 1


async def test_downtime_within_grace_posts_late_and_after_it_skips(
    reminders: Reminders, storage: Storage, clock: FakeClock
) -> None:
    sender = RecordingSender()
    late = await reminders.add_club(G, CHANNEL, "07:00", None, "UTC", None, None, ADMIN)
    lost = await reminders.add_club(G, CHANNEL + 1, "06:00", None, "UTC", None, None, ADMIN)
    clock.current = datetime(2026, 3, 28, 7, 20, tzinfo=UTC)  # 20 and 80 minutes late
    await reminders.tick(sender)
    await reminders.drain()
    assert [(rid, due) for rid, due, _ in sender.sent] == [
        (late.id, datetime(2026, 3, 28, 7, tzinfo=UTC))
    ]
    assert await storage.firing_count("skipped") == 1
    moved = await storage.reminder(lost.id)
    assert moved is not None and from_unix(moved.next_due) == datetime(2026, 3, 29, 6,
                                                                         tzinfo=UTC)


async def test_permanent_failure_pauses_with_the_reason(
    reminders: Reminders, storage: Storage, clock: FakeClock
) -> None:
    sender = RecordingSender()
    sender.outcomes = [Outcome("failed", pause="the channel no longer exists")]
    r = await reminders.add_club(G, CHANNEL, "07:00", None, "UTC", None, None, ADMIN)
    await run_until(reminders, sender, clock, clock.now() + timedelta(days=3))
    assert len(sender.sent) == 1
    paused = await storage.reminder(r.id)
    assert paused is not None and paused.next_due is None
    assert paused.paused == "the channel no longer exists"
    resumed = await reminders.resume(paused)
    assert resumed.next_due is not None and resumed.paused is None


async def test_transient_failure_is_retried_within_grace(
    reminders: Reminders, storage: Storage, clock: FakeClock
) -> None:
    sender = RecordingSender()
    sender.outcomes = [Outcome("retry", detail="502"), Outcome("retry", detail="502")]
    await reminders.add_club(G, CHANNEL, "07:00", None, "UTC", None, None, ADMIN)
    await run_until(reminders, sender, clock, datetime(2026, 3, 28, 8, tzinfo=UTC))
    assert len(sender.sent) == 3  # two failures, then it went out
    assert await storage.firing_count("sent") == 1


async def test_personal_reminder_follows_the_members_zone(
    reminders: Reminders, storage: Storage
) -> None:
    draft = await reminders.draft_personal(G, 42, "6:30", "weekends")
    assert await storage.dm_reminder(G, 42) is None  # a draft is not stored
    saved = await reminders.save(draft)
    assert saved.timezone == "UTC" and saved.kind == "dm"
    await reminders.member_zone_changed(G, 42, "Asia/Tokyo")
    moved = await storage.dm_reminder(G, 42)
    assert moved is not None and moved.id == saved.id and moved.timezone == "Asia/Tokyo"
    assert from_unix(moved.next_due) == datetime(2026, 3, 27, 21, 30, tzinfo=UTC)  # Sat 06:30
    again = await reminders.save(await reminders.draft_personal(G, 42, "7:00", None))
    assert again.id == saved.id  # one DM reminder per member per server
    await storage.forget_member(G, 42)
    assert await storage.dm_reminder(G, 42) is None


async def test_reminder_ids_are_per_server(reminders: Reminders) -> None:
    r = await reminders.add_club(G, CHANNEL, "07:00", None, None, None, None, ADMIN)
    with pytest.raises(UserError, match="no reminder"):
        await reminders.get(G + 1, r.id)
