"""Club runs (stride/runs.py): the planning rules, pure, and the service on both databases
with a manual clock: events followed, posts fired once per start, members' DMs fanned out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stride.catalog import load_catalog
from stride.clock import ManualClock
from stride.errors import UserError
from stride.records import Reminder, RunEvent, RunSettings
from stride.reminders import Outcome, Post, Reminders, unix
from stride.runs import RECONCILE_EVERY, Runs, plan_runs, post_due
from stride.storage import Storage

G, CHANNEL, ADMIN = 1000, 2000, 3000
NOW = 1_800_000_000
SETUP = RunSettings(G, CHANNEL, 30, None, None, None, ADMIN)
TRACK = RunEvent(G, 11, "Tuesday track", NOW + 3600)
ROOT = Path(__file__).resolve().parents[2]


def post(event: RunEvent, due: int, *, id: int = 7, **kw: object) -> Reminder:
    return replace(Reminder(id, G, "channel", CHANNEL, None, "00:00", 127, None, None, None,
                            due, None, 0, ADMIN, event.event_id, event.starts_at), **kw)


# --- the rules ------------------------------------------------------------------------------

def test_a_new_event_is_posted_minutes_before_it_starts() -> None:
    changes = plan_runs(SETUP, NOW, [TRACK], {}, {}, complete=False)
    [made] = changes.posts
    assert (made.id, made.next_due, made.starts_at, made.event_id) == (
        0, TRACK.starts_at - 1800, TRACK.starts_at, 11)
    assert (made.kind, made.channel_id) == ("channel", CHANNEL)
    assert changes.keep == [TRACK] and changes.drop == []


def test_an_event_at_short_notice_posts_at_once_unless_it_has_started() -> None:
    soon = replace(TRACK, starts_at=NOW + 600)
    [made] = plan_runs(SETUP, NOW, [soon], {}, {}, complete=False).posts
    assert made.next_due == NOW
    started = replace(TRACK, starts_at=NOW - 1)
    assert plan_runs(SETUP, NOW, [started], {}, {}, complete=False).posts == []


def test_an_unchanged_event_changes_nothing() -> None:
    known = {11: post(TRACK, TRACK.starts_at - 1800)}
    changes = plan_runs(SETUP, NOW, [TRACK], known, {11: TRACK}, complete=True)
    assert not changes and changes.keep == []


def test_a_late_post_keeps_its_due_time_so_the_grace_window_decides() -> None:
    """After downtime the stored due time stands: it is sent late or skipped, not re-timed."""
    overdue = post(TRACK, NOW - 3000)
    assert not plan_runs(SETUP, NOW, [TRACK], {11: overdue}, {11: TRACK}, complete=True)


def test_a_moved_event_is_re_timed_and_a_sent_post_is_made_again_for_a_new_start() -> None:
    moved = replace(TRACK, starts_at=TRACK.starts_at + 7200)
    unsent = post(TRACK, TRACK.starts_at - 1800)
    [retimed] = plan_runs(SETUP, NOW, [moved], {11: unsent}, {11: TRACK}, complete=False).posts
    assert (retimed.id, retimed.next_due, retimed.starts_at) == (
        7, moved.starts_at - 1800, moved.starts_at)
    sent = post(TRACK, None, fired=1)  # type: ignore[arg-type]
    [again] = plan_runs(SETUP, NOW, [moved], {11: sent}, {11: TRACK}, complete=False).posts
    assert (again.id, again.next_due) == (7, moved.starts_at - 1800)
    # The same start after its post went out: nothing more.
    assert not plan_runs(SETUP, NOW, [TRACK], {11: sent}, {11: TRACK}, complete=False)


@pytest.mark.parametrize("status", [2, 3, 4])  # active, completed, cancelled
def test_an_event_no_longer_scheduled_drops_its_post(status: int) -> None:
    gone = replace(TRACK, status=status)
    changes = plan_runs(SETUP, NOW, [gone], {11: post(TRACK, NOW + 60)}, {11: TRACK},
                        complete=False)
    assert changes.drop == [11] and changes.posts == []


def test_a_complete_list_drops_the_events_missing_from_it() -> None:
    other = RunEvent(G, 12, "Sunday long run", NOW + 7200)
    changes = plan_runs(SETUP, NOW, [other], {11: post(TRACK, NOW + 60)}, {11: TRACK},
                        complete=True)
    assert changes.drop == [11] and [p.event_id for p in changes.posts] == [12]
    partial = plan_runs(SETUP, NOW, [other], {11: post(TRACK, NOW + 60)}, {11: TRACK},
                        complete=False)
    assert partial.drop == []


def test_match_is_a_case_blind_part_of_the_name() -> None:
    runs_only = replace(SETUP, match="RUN")
    social = RunEvent(G, 13, "Club social", NOW + 3600)
    long_run = RunEvent(G, 14, "Sunday long run", NOW + 3600)
    made = plan_runs(runs_only, NOW, [social, long_run], {}, {}, complete=True).posts
    assert [p.event_id for p in made] == [14]


def test_a_new_setup_re_times_unsent_posts_only() -> None:
    longer = replace(SETUP, minutes=60, role_id=55)
    unsent = post(TRACK, TRACK.starts_at - 1800)
    [retimed] = plan_runs(longer, NOW, [TRACK], {11: unsent}, {11: TRACK}, complete=True,
                          replan=True).posts
    assert (retimed.next_due, retimed.role_id) == (TRACK.starts_at - 3600, 55)
    sent = post(TRACK, None, fired=1)  # type: ignore[arg-type]
    assert not plan_runs(longer, NOW, [TRACK], {11: sent}, {11: TRACK}, complete=True,
                         replan=True)


def test_post_due_never_lies_in_the_past() -> None:
    assert post_due(SETUP, NOW + 100, NOW) == NOW
    assert post_due(SETUP, NOW + 3600, NOW) == NOW + 1800


# --- the service, on both databases ---------------------------------------------------------

class Sender:
    """Records posts; after a club run post, asks `fan_out` for the members' DMs."""

    def __init__(self, runs: Callable[[], Runs], interested: list[int]) -> None:
        self.runs = runs
        self.interested = interested
        self.sent: list[tuple[str, int | None, int | None]] = []  # kind, user, event
        self.outcomes: dict[int, Outcome] = {}  # by user: a DM's answer

    def ready(self, reminder: Reminder) -> bool:
        return True

    async def send(self, post: Post, attempt: Callable[[], Awaitable[None]]) -> Outcome:
        await attempt()
        r = post.reminder
        self.sent.append((r.kind, r.user_id, r.event_id))
        return self.outcomes.get(r.user_id or 0, Outcome("sent", message_id=1))

    async def find(self, post: Post, since: int, until: int) -> Outcome | None:
        return None

    async def delivered(self, post: Post, outcome: Outcome) -> None:
        r = post.reminder
        if r.kind == "channel" and r.is_run:
            await self.runs().fan_out(r, self.interested)
        elif r.is_run and outcome.pause and r.user_id:
            await self.runs().dm_closed(r.guild_id, r.user_id, outcome.pause)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.fromtimestamp(NOW, UTC))


@pytest.fixture
def services(storage: Storage, clock: ManualClock) -> tuple[Runs, Reminders]:
    catalog = load_catalog(ROOT / "data" / "exercises.toml")
    reminders = Reminders(storage, catalog, clock, workers=2)
    return Runs(storage, catalog, reminders, clock), reminders


async def fire(reminders: Reminders, sender: Sender) -> None:
    reminders._start_workers(sender)
    await reminders.tick(sender)
    await reminders.drain()


async def test_setup_checks_its_input_and_changes_nothing_when_refused(
    services: tuple[Runs, Reminders], storage: Storage
) -> None:
    runs, _ = services
    with pytest.raises(UserError, match="between 5 and 180"):
        await runs.setup(G, CHANNEL, 4, None, None, None, ADMIN)
    with pytest.raises(UserError):
        await runs.setup(G, CHANNEL, 30, "no-such-routine", None, None, ADMIN)
    with pytest.raises(UserError, match="100 characters"):
        await runs.setup(G, CHANNEL, 30, None, None, "x" * 101, ADMIN)
    assert await runs.settings(G) is None
    made = await runs.setup(G, CHANNEL, 30, None, None, "  long   run ", ADMIN)
    assert made.match == "long run" and await runs.settings(G) == made


async def test_a_run_posts_once_before_it_starts_then_its_dms_once(
    services: tuple[Runs, Reminders], storage: Storage, clock: ManualClock
) -> None:
    runs, reminders = services
    sender = Sender(lambda: runs, interested=[501, 502, 503])
    await runs.setup(G, CHANNEL, 30, None, None, None, ADMIN)
    await runs.set_dm(G, 501, True)
    await runs.set_dm(G, 502, True)  # 503 is interested but wants no DMs
    await runs.seen(G, [TRACK], complete=True)
    [upcoming] = await runs.upcoming(G)
    assert upcoming.post_due == TRACK.starts_at - 1800
    await fire(reminders, sender)
    assert sender.sent == []  # not yet due
    clock.advance(1800)
    await fire(reminders, sender)
    await fire(reminders, sender)  # the DMs the club post added
    assert sorted(sender.sent) == [("channel", None, 11), ("dm", 501, 11), ("dm", 502, 11)]
    # Seen again (a gateway event, then the periodic look): nothing is sent twice.
    await runs.seen(G, [TRACK], complete=False)
    await runs.seen(G, [TRACK], complete=True)
    await fire(reminders, sender)
    assert len(sender.sent) == 3
    assert (await runs.upcoming(G))[0].post_due is None


async def test_a_recurring_run_posts_before_each_occurrence(
    services: tuple[Runs, Reminders], storage: Storage, clock: ManualClock
) -> None:
    runs, reminders = services
    sender = Sender(lambda: runs, interested=[501])
    await runs.setup(G, CHANNEL, 15, None, None, None, ADMIN)
    await runs.set_dm(G, 501, True)
    weekly = replace(TRACK, recurring=True)
    await runs.seen(G, [weekly], complete=True)
    for week in range(3):
        clock.current = datetime.fromtimestamp(weekly.starts_at - 900, UTC)
        await fire(reminders, sender)
        await fire(reminders, sender)
        assert sender.sent.count(("channel", None, 11)) == week + 1
        assert sender.sent.count(("dm", 501, 11)) == week + 1
        clock.current = datetime.fromtimestamp(weekly.starts_at + 3600, UTC)
        await runs.seen(G, [replace(weekly, status=2)], complete=False)  # started
        weekly = replace(weekly, starts_at=weekly.starts_at + 7 * 86400)  # the next one
        await runs.seen(G, [weekly], complete=False)


async def test_a_cancelled_or_deleted_run_posts_nothing(
    services: tuple[Runs, Reminders], storage: Storage, clock: ManualClock
) -> None:
    runs, reminders = services
    sender = Sender(lambda: runs, interested=[])
    await runs.setup(G, CHANNEL, 30, None, None, None, ADMIN)
    other = RunEvent(G, 12, "Sunday long run", TRACK.starts_at)
    await runs.seen(G, [TRACK, other], complete=True)
    await runs.seen(G, [replace(TRACK, status=4)], complete=False)
    await runs.removed(G, 12)
    clock.advance(1800)
    await fire(reminders, sender)
    assert sender.sent == [] and await runs.upcoming(G) == []


async def test_a_run_missed_past_the_grace_window_is_skipped_and_one_after_its_start_too(
    services: tuple[Runs, Reminders], storage: Storage, clock: ManualClock
) -> None:
    runs, reminders = services
    sender = Sender(lambda: runs, interested=[])
    await runs.setup(G, CHANNEL, 180, None, None, None, ADMIN)
    late = replace(TRACK, starts_at=NOW + 4 * 3600)
    short = RunEvent(G, 12, "Quick loop", NOW + 5 * 60 + 60)
    await runs.setup(G, CHANNEL, 5, None, None, None, ADMIN)
    await runs.seen(G, [late, short], complete=True, replan=True)
    clock.advance(4 * 3600 - 5 * 60 + 31 * 60)  # down past the grace after late's due
    await fire(reminders, sender)
    assert sender.sent == []  # late: 31 min over its due; short: its run began
    assert await storage.firing_count("skipped") == 2


async def test_closed_dms_switch_a_members_run_dms_off_with_the_reason(
    services: tuple[Runs, Reminders], storage: Storage, clock: ManualClock
) -> None:
    runs, reminders = services
    sender = Sender(lambda: runs, interested=[501])
    sender.outcomes[501] = Outcome("failed", pause="your DMs are closed")
    await runs.setup(G, CHANNEL, 30, None, None, None, ADMIN)
    await runs.set_dm(G, 501, True)
    await runs.seen(G, [TRACK], complete=True)
    clock.advance(1800)
    await fire(reminders, sender)
    await fire(reminders, sender)
    assert await runs.dm_choice(G, 501) == (True, "your DMs are closed")
    assert await runs.dm_members(G) == set()


async def test_off_forgets_the_setup_and_every_unsent_post(
    services: tuple[Runs, Reminders], storage: Storage, clock: ManualClock
) -> None:
    runs, reminders = services
    sender = Sender(lambda: runs, interested=[])
    await runs.setup(G, CHANNEL, 30, None, None, None, ADMIN)
    await runs.seen(G, [TRACK], complete=True)
    assert await runs.off(G) == 1
    clock.advance(1800)
    await fire(reminders, sender)
    assert sender.sent == [] and await runs.settings(G) is None
    with pytest.raises(UserError, match="not set up"):
        await runs.off(G)


async def test_the_periodic_look_visits_each_server_once_per_interval(
    services: tuple[Runs, Reminders], clock: ManualClock
) -> None:
    runs, _ = services
    looked: list[tuple[int, int]] = []

    async def guilds() -> list[int]:
        return [1, 2, 3, 4]

    async def look(guild_id: int) -> list[RunEvent]:
        looked.append((guild_id, unix(clock.now()) - NOW))
        if len(looked) >= 12:
            raise _Done
        return []

    with pytest.raises(_Done):
        await runs.follow(guilds, look)
    assert [g for g, _ in looked] == [1, 2, 3, 4] * 3
    first = [t for _, t in looked[:4]]
    assert first == [0, 0, 0, 0]  # catching up after the start: 5 a second
    for g, (_, t) in enumerate(looked[4:]):  # then each server every 600 s
        assert t - looked[g][1] == pytest.approx(RECONCILE_EVERY, abs=1)
    assert timedelta(seconds=looked[-1][1]) < timedelta(minutes=21)


class _Done(Exception):
    pass


async def test_a_list_read_while_a_gateway_event_came_is_not_used(
    services: tuple[Runs, Reminders], clock: ManualClock
) -> None:
    """The list may predate the gateway's news: applying it would undo a cancel."""
    runs, _ = services
    await runs.setup(G, CHANNEL, 30, None, None, None, ADMIN)
    mark = runs.mark(G)  # the list is being read ...
    await runs.seen(G, [TRACK], complete=False)  # ... the run is created and cancelled
    await runs.seen(G, [replace(TRACK, status=4)], complete=False)
    stale = await runs.seen(G, [TRACK], complete=True, mark=mark)  # the list still has it
    assert not stale and await runs.upcoming(G) == []
    assert runs.stale([G]) == [G]  # read again soon
    fresh = await runs.seen(G, [TRACK], complete=True, mark=runs.mark(G))
    assert [p.event_id for p in fresh.posts] == [11]
