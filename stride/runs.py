"""Club runs: the pre-run post timed to each of the server's Discord scheduled events.

A server's /runs setup says where and how many minutes before each run its post goes out.
Stride follows the events (the Discord side hands them in, from gateway events and from a
periodic look at the server's list) and keeps one run post per event: a reminder row that
fires once per start time, through the reminder scheduler's claims and firings, so it is
sent exactly once across restarts and kills. Discord-free: events come in as `RunEvent`s.

The rules, in `plan_runs` (pure):
- an event is posted for while it is scheduled, starts in the future and its name contains
  the setup's `match` (case ignored); otherwise its unsent post is dropped;
- its post is due `minutes` before it starts, or at once when that moment has passed (an
  event created or moved at short notice);
- a post sent for one start time is not sent again for it; an event that moves to another
  start (moved by an admin, or a recurring event's next occurrence) is posted for again;
- an unsent post keeps its due time while its event's start stays: after downtime it goes
  out late within the reminders' grace window, or is skipped, as a reminder would be.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from .catalog import Catalog
from .clock import Clock, SystemClock
from .errors import StorageError, UserError
from .records import SCHEDULED, Reminder, RunChanges, RunEvent, RunSettings
from .reminders import Reminders, unix
from .storage import RunPlan, Storage

log = logging.getLogger(__name__)

MIN_MINUTES, MAX_MINUTES = 5, 180
MAX_MATCH = 100
RECONCILE_EVERY = 600.0  # seconds between looks at each server's event list (6 an hour)
RECONCILE_RATE = 5.0  # looks a second at most, so a start's catch-up never crowds out posts
MAX_EVENTS = 100  # Discord's most per server
SERVERS_EVERY = 60.0  # seconds between readings of which servers use /runs


@dataclass(frozen=True, slots=True)
class UpcomingRun:
    """A run for /runs list: the event, and when its post goes out (None: it went out)."""

    event: RunEvent
    post_due: int | None
    paused: str | None


def matches(settings: RunSettings, event: RunEvent) -> bool:
    return not settings.match or settings.match.casefold() in event.name.casefold()


def wanted(settings: RunSettings, event: RunEvent, now: int) -> bool:
    """Whether the event gets a post: scheduled, not yet started, and matching."""
    return event.status == SCHEDULED and event.starts_at > now and matches(settings, event)


def post_due(settings: RunSettings, starts_at: int, now: int) -> int:
    """When a run's post goes out: `minutes` before the start, or now if that has passed."""
    return max(starts_at - settings.minutes * 60, now)


def new_post(settings: RunSettings, event: RunEvent, now: int) -> Reminder:
    return Reminder(
        id=0, guild_id=settings.guild_id, kind="channel", channel_id=settings.channel_id,
        user_id=None, at="00:00", days=127, timezone=None, role_id=settings.role_id,
        routine=settings.routine, next_due=post_due(settings, event.starts_at, now),
        paused=None, fired=0, created_by=settings.created_by, event_id=event.event_id,
        starts_at=event.starts_at,
    )


def plan_runs(
    settings: RunSettings, now: int, events: Sequence[RunEvent], posts: Mapping[int, Reminder],
    known: Mapping[int, RunEvent], *, complete: bool, replan: bool = False,
) -> RunChanges:
    """What Discord's view of the server's `events` changes, given its run `posts` (by event
    id) and the events as `known` before. `complete`: `events` is the whole list (Discord
    lists every scheduled and active event), so a known event missing from it has ended or
    been deleted. `replan`: the setup changed, so unsent posts take its channel, role,
    routine and minutes."""
    keep: list[RunEvent] = []
    drop: list[int] = []
    changed: list[Reminder] = []
    for event in events:
        if not wanted(settings, event, now):
            if event.event_id in posts or event.event_id in known:
                drop.append(event.event_id)
            continue
        if known.get(event.event_id) != event:
            keep.append(event)
        post = posts.get(event.event_id)
        if post is None:
            changed.append(new_post(settings, event, now))
        elif post.starts_at != event.starts_at or (replan and post.next_due is not None):
            fresh = new_post(settings, event, now)
            changed.append(replace(post, channel_id=fresh.channel_id, role_id=fresh.role_id,
                                   routine=fresh.routine, next_due=fresh.next_due,
                                   starts_at=event.starts_at, paused=None))
    if complete:
        listed = {e.event_id for e in events}
        drop += [e for e in sorted(set(posts) | set(known)) if e not in listed]
    return RunChanges(keep, drop, changed)


class Runs:
    """Sets /runs up for the cogs, and keeps each server's run posts in step with its events."""

    def __init__(self, storage: Storage, catalog: Catalog, reminders: Reminders,
                 clock: Clock | None = None) -> None:
        self.storage = storage
        self.catalog = catalog
        self.reminders = reminders  # the scheduler that sends the posts: woken on changes
        self.clock = clock or SystemClock()
        self._looked: dict[int, float] = {}  # server -> when its list was last read (unix)
        self._heard: dict[int, int] = {}  # server -> gateway events taken in so far
        # One change of the run posts at a time in this process: two at once (a gateway
        # event and a periodic look of one server) could both add the same new post.
        self._syncing = asyncio.Lock()

    def now(self) -> int:
        return unix(self.clock.now())

    # --- admins -----------------------------------------------------------------------------

    async def setup(self, guild_id: int, channel_id: int, minutes: int, routine: str | None,
                    role_id: int | None, match: str | None, by: int) -> RunSettings:
        """Check and store the server's setup (a second setup replaces the first)."""
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise UserError(f"Pick between {MIN_MINUTES} and {MAX_MINUTES} minutes before the "
                            "run, e.g. 30.")
        if match is not None:
            match = " ".join(match.split())
            if len(match) > MAX_MATCH:
                raise UserError(f"Keep `match` to {MAX_MATCH} characters, e.g. run.")
        settings = RunSettings(
            guild_id, channel_id, minutes,
            self.catalog.require_routine(routine).id if routine else None, role_id,
            match or None, by,
        )
        await self.storage.runs.save_settings(settings)
        return settings

    async def settings(self, guild_id: int) -> RunSettings | None:
        return await self.storage.runs.settings(guild_id)

    async def require_settings(self, guild_id: int) -> RunSettings:
        found = await self.settings(guild_id)
        if found is None:
            raise UserError("Runs are not set up in this server: an admin turns them on with "
                            "`/runs setup channel:#runs minutes:30`.")
        return found

    async def off(self, guild_id: int) -> int:
        """Stop posting for runs here; how many events Stride was following."""
        await self.require_settings(guild_id)
        followed = await self.storage.runs.forget(guild_id)
        self._looked.pop(guild_id, None)
        self.reminders.wake()
        return followed

    async def upcoming(self, guild_id: int) -> list[UpcomingRun]:
        now = self.now()
        return [UpcomingRun(event, due, paused)
                for event, due, paused in await self.storage.runs.upcoming(guild_id)
                if event.starts_at > now]

    async def event(self, guild_id: int, event_id: int) -> RunEvent | None:
        return await self.storage.runs.event(guild_id, event_id)

    # --- following the events ---------------------------------------------------------------

    def mark(self, guild_id: int) -> int:
        """Taken before reading a server's event list: `seen(..., mark=)` then ignores the
        list if a gateway event of that server was taken in meanwhile (the list may be
        older than what the gateway said; the next look reads it again)."""
        return self._heard.get(guild_id, 0)

    async def seen(self, guild_id: int, events: Sequence[RunEvent], *, complete: bool,
                   replan: bool = False, mark: int | None = None) -> RunChanges:
        """Discord described these events of the server: one or a few as they changed (a
        gateway event, taken in the order they came), or all of them (`complete`, a list
        read at `mark`)."""
        if not complete:
            self._heard[guild_id] = self._heard.get(guild_id, 0) + 1
        stale = complete and mark is not None and mark != self.mark(guild_id)
        if stale:
            log.info("Runs: server %s's event list changed while it was read; read again "
                     "later", guild_id)
            self._looked.pop(guild_id, None)
            if not replan:
                return RunChanges([], [], [])
        now = self.now()

        def plan(settings: RunSettings, posts: Mapping[int, Reminder],
                 known: Mapping[int, RunEvent]) -> RunChanges:
            # A stale list is not used; a new setup still re-times the posts of known events.
            listed = list(known.values()) if stale else events[:MAX_EVENTS]
            return plan_runs(settings, now, listed, posts, known,
                             complete=complete and not stale, replan=replan)

        return await self._sync(guild_id, plan)

    async def _sync(self, guild_id: int, plan: RunPlan) -> RunChanges:
        async with self._syncing:
            changes = await self.storage.runs.sync(guild_id, plan)
        if changes:
            self.reminders.wake()
        return changes

    async def removed(self, guild_id: int, event_id: int) -> RunChanges:
        """The event was deleted."""
        self._heard[guild_id] = self._heard.get(guild_id, 0) + 1
        return await self._sync(guild_id, lambda settings, posts, known: RunChanges(
            [], [event_id] if event_id in posts or event_id in known else [], []))

    async def guilds(self) -> list[int]:
        return await self.storage.runs.guilds()

    async def follow(self, guilds: Callable[[], Awaitable[Sequence[int]]],
                     look: Callable[[int], Awaitable[Sequence[RunEvent] | None]]) -> None:
        """Look at each server's event list every RECONCILE_EVERY seconds, at most
        RECONCILE_RATE looks a second (so a start's catch-up, one look per server, never
        crowds out posts): the safety net behind the gateway's events, which a dropped
        connection may lose. `guilds()` names the servers to look at (this process's; read
        again each minute); `look(guild)` reads one list (None: Discord could not say)."""
        servers: Sequence[int] = []
        listed_at = float("-inf")
        while True:
            now = self.clock.now().timestamp()
            if now - listed_at >= SERVERS_EVERY:
                try:
                    servers, listed_at = list(await guilds()), now
                except StorageError as exc:
                    log.warning("Runs: could not read the servers to look at: %s", exc)
            stale = self.stale(servers)
            if not stale:
                oldest = min((self._looked.get(g, 0.0) for g in servers), default=now)
                await self.clock.sleep(min(SERVERS_EVERY, max(1 / RECONCILE_RATE, oldest
                                                              + RECONCILE_EVERY - now)))
                continue
            await self._look(stale[0], look)
            await self.clock.sleep(1 / RECONCILE_RATE)

    def stale(self, servers: Sequence[int]) -> list[int]:
        """The servers not looked at within RECONCILE_EVERY, longest first."""
        now = self.clock.now().timestamp()
        due = [g for g in servers if now - self._looked.get(g, 0.0) >= RECONCILE_EVERY]
        return sorted(due, key=lambda g: self._looked.get(g, 0.0))

    def forget_looks(self, guilds: Sequence[int]) -> None:
        """Look at these servers again soon: the gateway session was new, so events may have
        been missed meanwhile."""
        for guild_id in guilds:
            self._looked.pop(guild_id, None)

    async def _look(self, guild_id: int,
                    look: Callable[[int], Awaitable[Sequence[RunEvent] | None]]) -> None:
        # Counted as looked at even if Discord could not say: its turn comes round again.
        self._looked[guild_id] = self.clock.now().timestamp()
        mark = self.mark(guild_id)
        try:
            events = await look(guild_id)
            if events is not None:
                await self.seen(guild_id, events, complete=True, mark=mark)
        except StorageError as exc:
            log.warning("Runs: server %s not brought up to date: %s", guild_id, exc)

    # --- members' DMs -----------------------------------------------------------------------

    async def dm_choice(self, guild_id: int, user_id: int) -> tuple[bool, str | None]:
        return await self.storage.runs.dm_choice(guild_id, user_id)

    async def set_dm(self, guild_id: int, user_id: int, wanted: bool) -> None:
        if wanted:
            await self.require_settings(guild_id)
        await self.storage.runs.set_dm(guild_id, user_id, wanted)

    async def dm_closed(self, guild_id: int, user_id: int, reason: str) -> None:
        """The member's DMs are closed: their run DMs switch off, saying why."""
        await self.storage.runs.set_dm(guild_id, user_id, True, paused=reason)

    async def dm_members(self, guild_id: int) -> set[int]:
        return await self.storage.runs.dm_members(guild_id)

    async def fan_out(self, post: Reminder, interested: Sequence[int],
                      subscribers: set[int] | None = None) -> int:
        """After a run's club post: a DM of it to each member who asked for run DMs
        (`subscribers`, if the caller has read them already) and marked the event Interested,
        once per start time. How many DMs were added."""
        if subscribers is None:
            subscribers = await self.dm_members(post.guild_id)
        users = sorted(u for u in set(interested) if u in subscribers)
        if not users:
            return 0
        added = await self.storage.runs.fan_out(post, users, self.now())
        if added:
            self.reminders.wake()
        return added
