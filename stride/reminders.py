"""Scheduled reminders: setting them up, and the scheduler that fires each one exactly once.

Discord-free: the scheduler hands due reminders to a `Sender` (the Discord side) and reads
time from an injected `Clock`, so tests drive it without waiting.

Exactly once: a firing is recorded in the database (keyed by reminder and due time) in the
same transaction that moves the reminder to its next due time, before anything is sent. A
firing whose send was cut short by a restart is sent again with the same nonce, which
Discord uses to drop a duplicate. A reminder that fell due while the bot was down is sent
late within the grace window and skipped after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from .catalog import Catalog, Routine
from .errors import UserError
from .schedule import days_to_mask, mask_to_days, next_fire, parse_days, parse_time
from .storage import Storage
from .storage.database import is_busy
from .storage.records import Claim, Reminder
from .timezones import resolve_zone

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=30)
RETRY_AFTER = timedelta(minutes=1)
CLAIM_BATCH = 500
FLUSH_EVERY = 0.2  # seconds between writing finished firings
BUSY_RETRY = 1.0  # seconds before looking again when another process had the database locked
MAX_CHANNEL_REMINDERS = 25  # per server: fits one /reminder list


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one send went. `pause` (a reason) stops the reminder until it is resumed."""

    status: str  # 'sent', 'failed' or 'retry'
    message_id: int | None = None
    pause: str | None = None
    detail: str | None = None


class Sender(Protocol):
    async def send(self, reminder: Reminder, due: datetime, routine: Routine | None) -> Outcome:
        """Post the reminder; never raises for Discord errors (they become an Outcome)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        """Return when `event` is set or `seconds` have passed (None: only the event)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


def unix(instant: datetime) -> int:
    return int(instant.timestamp())


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def next_due(reminder: Reminder, after: datetime) -> int:
    """Unix time of the reminder's first firing strictly after `after`."""
    at = time.fromisoformat(reminder.at)
    zone = ZoneInfo(reminder.timezone or "UTC")
    return unix(next_fire(after, at, mask_to_days(reminder.days), zone))


class Reminders:
    """Sets reminders up for the cogs, and runs the scheduler."""

    def __init__(
        self, storage: Storage, catalog: Catalog, clock: Clock | None = None,
        *, grace: timedelta = GRACE, concurrency: int = 1000,
    ) -> None:
        self.storage = storage
        self.catalog = catalog
        self.clock = clock or SystemClock()
        self.grace = grace
        self._wakeup = asyncio.Event()
        self._limit = concurrency
        self._finished: list[tuple[int, int, str, int | None, str | None]] = []
        self._deliveries: set[asyncio.Task[None]] = set()

    # --- setting up -----------------------------------------------------------------------

    def pre_run_routines(self) -> list[Routine]:
        """The routines a reminder rotates through: those made only of activation moves."""
        found = [r for r in self.catalog.routines
                 if all(s.exercise.category == "activation" for s in r.steps)]
        return found or list(self.catalog.routines)

    def routine_for(self, reminder: Reminder, fired: int) -> Routine | None:
        if reminder.routine:
            return self.catalog.routine(reminder.routine)
        rotation = self.pre_run_routines()
        return rotation[fired % len(rotation)] if rotation else None

    def _routine_id(self, name: str | None) -> str | None:
        if name is None:
            return None
        routine = self.catalog.routine(name)
        if routine is None:
            known = ", ".join(f"`{r.id}`" for r in self.catalog.routines)
            raise UserError(f"There is no such routine. Try one of: {known}.")
        return routine.id

    async def add_club(
        self, guild_id: int, channel_id: int, at: str, days: str | None, timezone: str | None,
        role_id: int | None, routine: str | None, created_by: int,
    ) -> Reminder:
        """A club reminder in a channel; the zone defaults to the club's."""
        existing = await self.storage.reminders(guild_id)
        if len(existing) >= MAX_CHANNEL_REMINDERS:
            raise UserError(
                f"This server has {len(existing)} reminders, the most Stride keeps. "
                "Remove one with `/reminder remove` first."
            )
        at_time, day_set = parse_time(at), parse_days(days)
        if timezone is not None:
            zone = resolve_zone(timezone).key
        else:
            zone = (await self.storage.club_settings(guild_id)).timezone or "UTC"
        draft = Reminder(
            id=0, guild_id=guild_id, kind="channel", channel_id=channel_id, user_id=None,
            at=at_time.strftime("%H:%M"), days=days_to_mask(day_set), timezone=zone,
            role_id=role_id, routine=self._routine_id(routine), next_due=None, paused=None,
            fired=0, created_by=created_by,
        )
        return await self._store(draft)

    async def draft_personal(self, guild_id: int, user_id: int, at: str, days: str | None
                             ) -> Reminder:
        """A member's own DM reminder in their zone, checked but not stored (see `save`)."""
        at_time, day_set = parse_time(at), parse_days(days)
        club, member = await self.storage.member(guild_id, user_id)
        draft = Reminder(
            id=0, guild_id=guild_id, kind="dm", channel_id=None, user_id=user_id,
            at=at_time.strftime("%H:%M"), days=days_to_mask(day_set),
            timezone=member.timezone or club.timezone or "UTC", role_id=None, routine=None,
            next_due=None, paused=None, fired=0, created_by=user_id,
        )
        return replace(draft, next_due=next_due(draft, self.clock.now()))

    async def save(self, draft: Reminder) -> Reminder:
        """Store a drafted reminder (a member's DM reminder replaces their earlier one)."""
        return await self._store(draft)

    async def _store(self, draft: Reminder) -> Reminder:
        stored = await self.storage.add_reminder(
            replace(draft, next_due=next_due(draft, self.clock.now()))
        )
        self.wake()
        return stored

    async def personal(self, guild_id: int, user_id: int) -> Reminder | None:
        return await self.storage.dm_reminder(guild_id, user_id)

    async def club_reminders(self, guild_id: int) -> list[Reminder]:
        return await self.storage.reminders(guild_id)

    async def get(self, guild_id: int, reminder_id: int) -> Reminder:
        """A club reminder of this server, or a UserError naming the ones there are."""
        found = await self.storage.reminder(reminder_id)
        if found is None or found.guild_id != guild_id or found.kind != "channel":
            ids = [r.id for r in await self.storage.reminders(guild_id)]
            listed = ", ".join(f"`{i}`" for i in ids) or "none yet"
            raise UserError(
                f"There is no reminder {reminder_id} in this server (its reminders: {listed})."
            )
        return found

    async def remove(self, reminder: Reminder) -> None:
        await self.storage.delete_reminder(reminder.id)
        self.wake()

    async def pause(self, reminder: Reminder, reason: str) -> None:
        await self.storage.schedule_reminder(reminder.id, None, reason)
        self.wake()

    async def resume(self, reminder: Reminder) -> Reminder:
        due = next_due(reminder, self.clock.now())
        await self.storage.schedule_reminder(reminder.id, due, None)
        self.wake()
        return replace(reminder, next_due=due, paused=None)

    async def member_zone_changed(self, guild_id: int, user_id: int, zone: str) -> None:
        """Move a member's DM reminder to their new zone."""
        found = await self.storage.dm_reminder(guild_id, user_id)
        if found is None:
            return
        moved = replace(found, timezone=zone)
        due = None if found.paused else next_due(moved, self.clock.now())
        await self.storage.add_reminder(replace(moved, next_due=due))
        self.wake()

    # --- the scheduler ----------------------------------------------------------------------

    def wake(self) -> None:
        """Something changed: look at the schedule again now."""
        self._wakeup.set()

    async def run(self, sender: Sender) -> None:
        """Fire reminders as they fall due, forever. Sleeps until the next due time."""
        await self.recover(sender)
        flusher = asyncio.create_task(self._flush_loop(), name="stride-reminder-flush")
        try:
            while True:
                self._wakeup.clear()
                try:
                    delay = await self.tick(sender)
                except sqlite3.OperationalError as exc:
                    if not is_busy(exc):
                        raise
                    # Nothing was claimed by the refused write: the same reminders are due.
                    log.warning("Reminders: the database is locked (%s); trying again in %g s",
                                exc, BUSY_RETRY)
                    delay = BUSY_RETRY
                await self.clock.wait(self._wakeup, delay)
        finally:
            flusher.cancel()
            await self.drain()

    async def tick(self, sender: Sender) -> float | None:
        """Claim and start sending everything due now; seconds until the next due time."""
        while True:
            now = self.clock.now()
            due = await self.storage.due_reminders(unix(now), CLAIM_BATCH)
            if not due:
                break
            claims, moves = [], {}
            for reminder in due:
                assert reminder.next_due is not None
                late = now - from_unix(reminder.next_due)
                status = "skipped" if late > self.grace else "claimed"
                claims.append(Claim(reminder, reminder.next_due, status))
                # A reminder that missed several firings catches up with at most one.
                after = max(from_unix(reminder.next_due), now - self.grace)
                moves[reminder.id] = next_due(reminder, after)
            await self.storage.claim_firings(claims, moves)
            for claim in claims:
                if claim.status == "claimed":
                    await self._room()
                    self._start(sender, claim)
                else:
                    log.warning("Reminder %s skipped: due %s, over the grace window",
                                claim.reminder.id, from_unix(claim.due_at).isoformat())
        following = await self.storage.next_due()
        if following is None:
            return None
        return max(0.0, following - self.clock.now().timestamp())

    async def recover(self, sender: Sender) -> None:
        """Finish firings that a stopped process had claimed but not finished."""
        now = self.clock.now()
        for claim in await self.storage.open_firings():
            if now - from_unix(claim.due_at) <= self.grace:
                log.info("Reminder %s: resending the firing due %s after a restart",
                         claim.reminder.id, from_unix(claim.due_at).isoformat())
                self._start(sender, claim)
            else:
                self._finished.append(
                    (claim.reminder.id, claim.due_at, "failed", None, "stopped before sending")
                )
        await self.flush()

    async def _room(self) -> None:
        """Wait while `concurrency` sends are in flight (so a huge burst stays small in memory)."""
        while len(self._deliveries) >= self._limit:
            await asyncio.wait(self._deliveries, return_when=asyncio.FIRST_COMPLETED)

    def _start(self, sender: Sender, claim: Claim) -> None:
        task = asyncio.create_task(self._deliver(sender, claim))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, sender: Sender, claim: Claim) -> None:
        reminder, due = claim.reminder, from_unix(claim.due_at)
        routine = self.routine_for(reminder, reminder.fired)
        while True:
            outcome = await sender.send(reminder, due, routine)
            if outcome.status != "retry":
                break
            if self.clock.now() + RETRY_AFTER - due > self.grace:
                outcome = replace(outcome, status="failed")
                break
            await self.clock.wait(asyncio.Event(), RETRY_AFTER.total_seconds())
        if outcome.pause is not None:
            log.warning("Reminder %s paused: %s", reminder.id, outcome.pause)
            try:
                await self.storage.schedule_reminder(reminder.id, None, outcome.pause)
            except sqlite3.Error as exc:  # it fails again next time, and is paused then
                log.warning("Reminder %s: could not store the pause: %s", reminder.id, exc)
        elif outcome.status == "failed":
            log.error("Reminder %s due %s was not sent: %s", reminder.id, due.isoformat(),
                      outcome.detail)
        self._finished.append(
            (reminder.id, claim.due_at, outcome.status, outcome.message_id, outcome.detail)
        )

    async def flush(self) -> None:
        """Write how finished firings went (batched: one transaction for many). If the write
        fails (the database locked by another process), they are kept for the next flush: a
        firing left 'claimed' would be sent again after a restart."""
        if self._finished:
            done, self._finished = self._finished, []
            try:
                await self.storage.finish_firings(done)
            except sqlite3.Error as exc:
                self._finished[:0] = done
                log.warning("Could not record %d finished reminder firing(s) yet: %s",
                            len(done), exc)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            await self.flush()

    async def drain(self) -> None:
        """Let sends in flight finish, then record them."""
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)
        await self.flush()
