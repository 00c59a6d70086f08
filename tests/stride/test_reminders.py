"""The reminder scheduler with an injected clock and a recording sender: no waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from stride.catalog import Catalog, parse_catalog
from stride.clock import ManualClock
from stride.errors import UserError
from stride.records import Reminder
from stride.reminders import Outcome, Post, Reminders, from_unix
from stride.storage import Storage
from tests.helpers import claim_now, open_firings
from tests.stride.test_catalog_schema import small

G, CHANNEL, ADMIN = 1000, 2000, 3000


class RecordingSender:
    """Records what it sends; `posted` plays the channel an earlier process may have posted in."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, datetime, str | None]] = []
        self.outcomes: list[Outcome] = []
        self.posted: set[str] = set()  # firing keys "in the channel"
        self.found: list[Outcome | None] = []  # answers to find(), before looking at `posted`
        self.looked: list[tuple[str, int, int]] = []
        self.delivered_posts: list[tuple[str, str]] = []  # (firing key, outcome status)

    def ready(self, reminder: Reminder) -> bool:
        return True

    async def send(self, post: Post, attempt: Callable[[], Awaitable[None]]) -> Outcome:
        await attempt()
        self.sent.append((post.reminder.id, from_unix(post.due_at),
                          post.routine.id if post.routine else None))
        outcome = self.outcomes.pop(0) if self.outcomes else Outcome("sent", message_id=1)
        if outcome.status == "sent":
            self.posted.add(post.key)
        return outcome

    async def delivered(self, post: Post, outcome: Outcome) -> None:
        self.delivered_posts.append((post.key, outcome.status))

    async def find(self, post: Post, since: int, until: int) -> Outcome | None:
        self.looked.append((post.key, since, until))
        if self.found:
            return self.found.pop(0)
        return Outcome("sent", message_id=7) if post.key in self.posted else None


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 27, 12, 0, tzinfo=UTC))  # a Friday


@pytest.fixture
def reminders(storage: Storage, catalog: Catalog, clock: ManualClock) -> Reminders:
    return Reminders(storage, catalog, clock)


async def run_until(reminders: Reminders, sender: RecordingSender, clock: ManualClock,
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
    reminders: Reminders, clock: ManualClock, catalog: Catalog
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
    reminders: Reminders, clock: ManualClock
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
    reminders: Reminders, storage: Storage, catalog: Catalog, clock: ManualClock
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


class Hangs(RecordingSender):
    """Records the attempt, maybe gets the post out, and never hears back (the process dies)."""

    def __init__(self, *, posts: bool) -> None:
        super().__init__()
        self.posts = posts
        self.attempted = asyncio.Event()

    async def send(self, post: Post, attempt: Callable[[], Awaitable[None]]) -> Outcome:
        await attempt()
        if self.posts:
            self.posted.add(post.key)
        self.attempted.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def cut_short(reminders: Reminders, clock: ManualClock, *, posts: bool) -> Hangs:
    r = await reminders.add_club(G, CHANNEL, "07:00", None, "UTC", None, None, ADMIN)
    clock.current = from_unix(r.next_due) + timedelta(seconds=5)
    hangs = Hangs(posts=posts)
    await reminders.tick(hangs)
    await hangs.attempted.wait()
    await reminders.stop(0)  # gives up on the request in flight: its outcome is unknown
    return hangs


@pytest.mark.parametrize("posted", [True, False])
async def test_an_unknown_outcome_is_looked_for_before_sending_again(
    reminders: Reminders, storage: Storage, catalog: Catalog, clock: ManualClock, posted: bool
) -> None:
    """The request left, then the process stopped: after any downtime within the grace
    window, the post is looked for and sent again only if it is not there."""
    hangs = await cut_short(reminders, clock, posts=posted)
    [open_] = await open_firings(storage, int(clock.now().timestamp()))
    assert open_.attempted_at == int(clock.now().timestamp())
    clock.current += timedelta(minutes=10)  # longer than Discord remembers a nonce
    sender = RecordingSender()
    sender.posted = hangs.posted  # the same channel
    restarted = Reminders(storage, catalog, clock)
    await restarted.recover(sender)
    await restarted.drain()
    [(key, since, until)] = sender.looked
    assert key == f"r{open_.reminder.id}-{open_.due_at}"
    assert since <= open_.attempted_at <= until
    assert len(sender.sent) == (0 if posted else 1)
    assert await storage.firing_count("sent") == 1
    assert await storage.firing_count("claimed") == 0


async def test_a_firing_never_attempted_is_sent_without_looking(
    reminders: Reminders, storage: Storage, catalog: Catalog, clock: ManualClock
) -> None:
    """Stopped while the post waited for its turn: nothing left, so nothing to look for."""
    r = await reminders.add_club(G, CHANNEL, "07:00", None, "UTC", None, None, ADMIN)
    clock.current = from_unix(r.next_due) + timedelta(seconds=5)
    # Claimed, then the process stopped before any worker took it.
    await claim_now(storage, r)
    sender = RecordingSender()
    restarted = Reminders(storage, catalog, clock)
    await restarted.recover(sender)
    await restarted.drain()
    assert sender.looked == [] and len(sender.sent) == 1
    assert await storage.firing_count("sent") == 1


async def test_when_the_channel_cannot_be_read_the_nonce_decides(
    reminders: Reminders, storage: Storage, catalog: Catalog, clock: ManualClock
) -> None:
    """Without Read Message History: sent again while Discord surely remembers the nonce,
    recorded as not sent (and why) after that; Discord being down is asked again later."""
    await cut_short(reminders, clock, posts=True)
    clock.current += timedelta(minutes=10)
    sender = RecordingSender()
    sender.found = [Outcome("retry", detail="503"), Outcome("failed", detail="50001")]
    restarted = Reminders(storage, catalog, clock)
    await restarted.recover(sender)
    await restarted.drain()
    assert len(sender.looked) == 2 and sender.sent == []  # 10 minutes on: not sent blindly
    assert await storage.firing_count("failed") == 1

    again = Reminders(storage, catalog, clock)
    r = await again.add_club(G, CHANNEL + 1, "07:30", None, "UTC", None, None, ADMIN)
    clock.current = from_unix(r.next_due) + timedelta(seconds=1)
    hangs = Hangs(posts=True)
    await again.tick(hangs)
    await hangs.attempted.wait()
    await again.stop(0)
    sender = RecordingSender()
    sender.found = [Outcome("failed", detail="50001")]
    third = Reminders(storage, catalog, clock)
    await third.recover(sender)
    await third.drain()
    assert len(sender.sent) == 1  # within the nonce window: Discord keeps one


async def test_a_clean_stop_records_every_finished_send(
    reminders: Reminders, storage: Storage, catalog: Catalog, clock: ManualClock
) -> None:
    """Posts finished before the stop are recorded by the stop itself, not by a later flush."""
    for minute in range(3):
        await reminders.add_club(G, CHANNEL + minute, f"07:0{minute}", None, "UTC", None,
                                 None, ADMIN)
    clock.current = datetime(2026, 3, 28, 7, 5, tzinfo=UTC)
    sender = RecordingSender()
    await reminders.tick(sender)
    while len(sender.sent) < 3:
        await asyncio.sleep(0)
    await reminders.stop(5)
    assert await storage.firing_count("sent") == 3


async def test_turns_are_fair_across_servers(
    storage: Storage, catalog: Catalog, clock: ManualClock
) -> None:
    """One server's 200 DMs and three other servers' club posts due at once: the club posts
    go first, each in its turn, before the wave of DMs is through."""
    reminders = Reminders(storage, catalog, clock, workers=1)
    for user in range(200):
        saved = await reminders.save(await reminders.draft_personal(G, 10_000 + user, "07:00",
                                                                    None))
        assert saved.kind == "dm"
    for other in range(1, 4):
        await reminders.add_club(G + other, CHANNEL + other, "07:00", None, "UTC", None, None,
                                 ADMIN)
    clock.current = datetime(2026, 3, 28, 7, 0, 1, tzinfo=UTC)
    sender = RecordingSender()
    await reminders.tick(sender)
    await reminders.drain()
    kinds = [(await storage.reminder(rid)).kind for rid, _, _ in sender.sent]  # type: ignore[union-attr]
    assert len(kinds) == 203
    assert kinds.index("channel") < 2 and kinds[:6].count("channel") == 3


async def test_downtime_within_grace_posts_late_and_after_it_skips(
    reminders: Reminders, storage: Storage, clock: ManualClock
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
    reminders: Reminders, storage: Storage, clock: ManualClock
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
    reminders: Reminders, storage: Storage, clock: ManualClock
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


def test_the_firing_tag_fits_any_custom_id() -> None:
    """The Done button names its firing; with the longest routine id and server id Stride
    allows, the custom_id stays within Discord's 100 characters and parses back."""
    from ui.checkin import CheckinButton, firing_tag

    button = CheckinButton("r" * 40, label="Done", guild_id=2**64 - 1,
                           firing=firing_tag(2**63 - 1, 2**40))
    custom_id = button.item.custom_id
    assert custom_id is not None and len(custom_id) <= 100
    match = CheckinButton.__discord_ui_compiled_template__.fullmatch(custom_id)
    assert match is not None and match["what"] == "r" * 40
    assert match["firing"] == firing_tag(2**63 - 1, 2**40)
    assert firing_tag(0, 61) == "0.z" and firing_tag(62, 1) == "10.1"


def _library(*routines: dict[str, object]) -> Catalog:
    """A small library (tests/stride/test_catalog_schema.py) with these routines."""
    raw = small()
    raw["exercises"].append({"id": "mini-band-walk", "name": "Mini band walk",
                             "category": "activation", "summary": "Band.", "steps": ["Step."],
                             "dose": "10 steps", "equipment": "Mini band", "seconds": 60})
    raw["routines"] = list(routines)
    return parse_catalog(raw)


def _routine(rid: str, kind: str, *steps: dict[str, object]) -> dict[str, object]:
    total = sum(int(s.get("seconds", 60)) for s in steps)  # type: ignore[call-overload]
    return {"id": rid, "name": rid.title(), "kind": kind, "summary": "s.",
            "minutes": max(1, (total + 30) // 60), "steps": list(steps)}


async def test_the_rotation_is_short_pre_run_routines_without_equipment(
    storage: Storage,
) -> None:
    catalog = _library(
        _routine("quick", "pre-run", {"exercise": "clams"}, {"exercise": "band-walk"}),
        _routine("six", "pre-run", {"exercise": "clams", "seconds": 360}),
        _routine("long", "pre-run", {"exercise": "clams", "seconds": 390}),  # about 7 min
        _routine("banded", "pre-run", {"exercise": "mini-band-walk"}),  # needs the band
        _routine("legs", "strength", {"exercise": "squats", "seconds": 60}),
        _routine("stretch", "mobility", {"exercise": "hip-flexor-stretch"}),
        _routine("quick2", "pre-run", {"exercise": "clams"}),
    )
    reminders = Reminders(storage, catalog, ManualClock(datetime(2026, 3, 27, tzinfo=UTC)))
    # band-walk says what to do without its band, but done as written it needs one.
    assert [r.id for r in reminders.pre_run_routines()] == ["six", "quick2"]
    plain = Reminder(id=1, guild_id=G, kind="channel", channel_id=CHANNEL, user_id=None,
                     at="07:00", days=127, timezone="UTC", role_id=None, routine=None,
                     next_due=None, paused=None, fired=0, created_by=ADMIN)
    picked = [reminders.routine_for(plain, fired) for fired in range(4)]
    assert [r.id for r in picked if r] == ["six", "quick2", "six", "quick2"]
    fixed = replace(plain, routine="legs")
    fixed_routine = reminders.routine_for(fixed, 0)
    assert fixed_routine is not None and fixed_routine.id == "legs"  # a chosen one is kept


async def test_the_rotation_falls_back_to_every_pre_run_routine(storage: Storage) -> None:
    catalog = _library(
        _routine("long", "pre-run", {"exercise": "clams", "seconds": 600}),
        _routine("legs", "strength", {"exercise": "squats", "seconds": 60}),
        _routine("banded", "pre-run", {"exercise": "mini-band-walk"}),
    )
    reminders = Reminders(storage, catalog)
    assert [r.id for r in reminders.pre_run_routines()] == ["long", "banded"]
    only_strength = _library(_routine("legs", "strength", {"exercise": "squats", "seconds": 60}))
    assert [r.id for r in Reminders(storage, only_strength).pre_run_routines()] == ["legs"]
