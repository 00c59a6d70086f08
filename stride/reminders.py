"""Scheduled reminders: setting them up, and the scheduler that fires each one exactly once.

Discord-free: the scheduler hands due reminders to a `Sender` (the Discord side) and reads
time from an injected `Clock`, so tests drive it without waiting.

Exactly once: a firing is recorded in the database (keyed by reminder and due time) in the
same transaction that moves the reminder to its next due time, before anything is sent, and
marked as attempted, durably, just before its request leaves. After a restart, a firing never
attempted is simply sent; one whose outcome is unknown (the process stopped while Discord was
answering) is first looked for in its channel, whatever the downtime, and sent only when it is
not there, with the same nonce (Discord drops a repeat within a few minutes). A reminder that
fell due while the bot was down is sent late within the grace window and skipped after it.

Fair: due firings wait in turns by server (club posts before DMs within a server), so one
server's wave of DMs does not hold up other servers' posts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from .catalog import Catalog, Routine
from .clock import Clock, SystemClock
from .errors import StorageBusy, StorageError, UserError
from .fairness import FairQueue
from .records import Claim, Lease, Reminder, ShardSet
from .schedule import days_to_mask, mask_to_days, next_fire, parse_days, parse_time
from .storage import Plan, Storage
from .timezones import resolve_zone

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=30)
RETRY_AFTER = timedelta(minutes=1)
CLAIM_BATCH = 500
WORKERS = 64  # sends in flight at once: well above rate x Discord's answer time
LANES = 4  # posts taken from the queue but not yet sent: the turn order is kept up to this
CHANNEL_POLL = 0.1  # seconds between looks while queued posts wait for their channel
FLUSH_EVERY = 0.2  # seconds between writing finished firings
LOOK_BEFORE = 60  # seconds before an attempt that a post of it is looked for (clock skew)
LOOK_AFTER = 300  # ... and after the last retry could have been made
NONCE_TRUST = 120  # seconds after an attempt that Discord surely still remembers its nonce
BUSY_RETRY = 1.0  # seconds before looking again when another process had the database locked
MAX_CHANNEL_REMINDERS = 25  # per server: fits one /reminder list
ROTATION_MINUTES = 6  # the longest routine a reminder picks by itself
LEASE = timedelta(seconds=30)  # how long claimed firings stay a process's without renewal
LOOK_AT_LEAST = 300.0  # seconds: on a shared database, the longest sleep (a lost notice)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one send went. `pause` (a reason) stops the reminder until it is resumed."""

    status: str  # 'sent', 'failed' or 'retry'
    message_id: int | None = None
    pause: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """One firing to post: the reminder, when it was due, and the routine it carries."""

    reminder: Reminder
    due_at: int  # unix time
    routine: Routine | None

    @property
    def key(self) -> str:
        """Names the firing: sent as the message nonce, and kept in the post (the Done button's
        custom_id) so that the post can be found again after a restart."""
        return f"r{self.reminder.id}-{self.due_at}"


class Sender(Protocol):
    def ready(self, reminder: Reminder) -> bool:
        """Whether a post could go out now without waiting for its channel's limit."""
        ...

    async def send(self, post: Post, attempt: Callable[[], Awaitable[None]]) -> Outcome:
        """Post it (paced), awaiting `attempt()` just before the request leaves (it records
        the attempt, and may raise: then nothing is sent). Discord errors become an Outcome."""
        ...

    async def find(self, post: Post, since: int, until: int) -> Outcome | None:
        """Look for the bot's post of this firing made between `since` and `until` (unix
        times): 'sent' with its message id, or None when it is not there; 'retry' when
        Discord cannot be asked now, 'failed' when it cannot be looked for at all."""
        ...

    async def delivered(self, post: Post, outcome: Outcome) -> None:
        """The firing is done with (sent now, found sent after a restart, or failed): what
        follows from it (a run's club post: its members' DMs). Called again for a firing
        taken over after a restart, so it must be safe to repeat."""
        ...


def process_name() -> str:
    """Names this process in the firings it holds: host, pid and a random tail (a pid is
    reused after a restart; the tail is not)."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"


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
        *, grace: timedelta = GRACE, workers: int = WORKERS, lanes: int = LANES,
        lease: timedelta = LEASE, shards: ShardSet | None = None, owner: str | None = None,
    ) -> None:
        self.storage = storage
        self.catalog = catalog
        self.clock = clock or SystemClock()
        self.grace = grace
        # Several processes on one database: each claims its own shards' reminders, under a
        # lease it renews; what a dead process held (or left due) is taken after the lease.
        self.lease = lease
        self.shards = shards
        self.owner = owner or process_name()
        self._renewed: datetime | None = None  # when this process last renewed its leases
        self._held: set[tuple[int, int]] = set()  # firings queued or sent, not yet recorded
        self._look_at: float | None = None  # when the scheduler plans to look next (unix)
        self._wakeup = asyncio.Event()
        self._finished: list[tuple[int, int, str, int | None, str | None]] = []
        # Sending: claims wait in fair turns; a fixed number of workers deliver them.
        self._queue: FairQueue[Claim] = FairQueue()
        self._more = asyncio.Event()  # new work was queued (or the stop began)
        self._settled = asyncio.Event()  # nothing queued, nothing being delivered
        self._worker_count = workers
        self._workers: set[asyncio.Task[None]] = set()
        self._in_request: set[asyncio.Task[None]] = set()  # workers whose request has left
        # A worker takes its next post only with a lane, and gives it back once the request
        # has left: so posts leave in the queue's turn order (give or take `lanes`), not in
        # whatever order many waiting workers happen to get through the rate limiter.
        self._lanes = asyncio.Semaphore(lanes)
        self._holding: set[asyncio.Task[None] | None] = set()
        self._busy = 0
        self._stopping = False
        self._flusher: asyncio.Task[None] | None = None
        self._marks: list[tuple[tuple[int, int], asyncio.Future[None]]] = []
        self._marker: asyncio.Task[None] | None = None
        self._recovered = False

    # --- setting up -----------------------------------------------------------------------

    def pre_run_routines(self) -> list[Routine]:
        """The routines a reminder without its own rotates through: the short pre-run ones
        that can be done anywhere (kind "pre-run", at most ROTATION_MINUTES, no move that needs
        equipment it has no way round); else every pre-run routine; else all of them."""
        pre_run = [r for r in self.catalog.routines if r.kind == "pre-run"]
        short = [r for r in pre_run
                 if r.minutes <= ROTATION_MINUTES and not r.needs_equipment]
        return short or pre_run or list(self.catalog.routines)

    def quick_routine(self) -> Routine | None:
        """The shortest routine of the rotation: what a nudge offers at the end of the day."""
        return min(self.pre_run_routines(), key=lambda r: (r.minutes, r.id), default=None)

    def routine_for(self, reminder: Reminder, fired: int) -> Routine | None:
        """The reminder's own routine, else the next of the rotation. A run post turns it by
        its run's day, so the club's post and the members' DMs of one run show the same. A
        nudge offers the quickest; the weekly recap, none."""
        if reminder.routine:
            return self.catalog.routine(reminder.routine)
        if reminder.purpose == "nudge":
            return self.quick_routine()
        if reminder.purpose == "recap":
            return None
        rotation = self.pre_run_routines()
        turn = (reminder.starts_at or 0) // 86400 if reminder.is_run else fired
        return rotation[turn % len(rotation)] if rotation else None

    def _routine_id(self, name: str | None) -> str | None:
        if name is None:
            return None
        return self.catalog.require_routine(name).id

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

    async def known_dm_channel(self, user_id: int) -> int | None:
        """The DM channel opened with this member earlier (kept across restarts), if any."""
        return await self.storage.dm_channel(user_id)

    async def remember_dm_channel(self, user_id: int, channel_id: int) -> None:
        await self.storage.save_dm_channel(user_id, channel_id)

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
        """Fire reminders as they fall due, until `stop`. Sleeps until the next due time (on a
        shared database, also woken when another process changes the schedule)."""
        if self.storage.shared:
            await self.storage.watch(self._changed_elsewhere)
        await self.recover(sender)
        while True:
            self._wakeup.clear()
            try:
                delay = await self.tick(sender)
            except StorageBusy as exc:
                # Nothing was claimed by the refused write: the same reminders are due.
                log.warning("Reminders: the database is locked (%s); trying again in %g s",
                            exc, BUSY_RETRY)
                delay = BUSY_RETRY
            if self.storage.shared:  # in case a notice was lost (the connection dropped)
                delay = min(delay if delay is not None else LOOK_AT_LEAST, LOOK_AT_LEAST)
                self._look_at = unix(self.clock.now()) + delay
            await self.clock.wait(self._wakeup, delay)

    def _changed_elsewhere(self, earliest: int) -> None:
        """A process added or moved reminders, the earliest due at `earliest`: look again
        now if that is sooner than planned."""
        if self._look_at is None or earliest <= self._look_at:
            self.wake()

    async def tick(self, sender: Sender) -> float | None:
        """Claim everything due now (on a shared database, first renew this process's leases
        and take what a dead process left) and queue it for sending; seconds until the next
        look."""
        self._start_workers(sender)
        if self.storage.shared:
            await self._tend_leases()
        lease_s = int(self.lease.total_seconds())
        while True:
            now = self.clock.now()
            claims = await self.storage.claim_due(
                unix(now), CLAIM_BATCH, self._planner(now), self._lease(), shards=self.shards,
                adopt_before=unix(now) - lease_s,
            )
            if not claims:
                break
            for claim in claims:
                if claim.status == "claimed":
                    self._queue_claim(claim)
                else:
                    log.warning("Reminder %s skipped: due %s, over the grace window",
                                claim.reminder.id, from_unix(claim.due_at).isoformat())
        return await self._next_look()

    async def _next_look(self) -> float | None:
        """Seconds until there is something to do: this process's next reminder due; on a
        shared database also the next lease to run out (a dead process's firings to take),
        another shard's reminder left due for a lease (its process is gone), and, while this
        process holds firings, the next renewal."""
        times = [await self.storage.next_due(self.shards)]
        if self.storage.shared:
            lease_s = int(self.lease.total_seconds())
            times.append(await self.storage.next_lapse())
            if self.shards is not None:
                anyone = await self.storage.next_due()
                times.append(None if anyone is None else anyone + lease_s + 1)
        now = self.clock.now().timestamp()
        delays = [max(0.0, t - now) for t in times if t is not None]
        if self.storage.shared and self._held:
            delays.append(self.lease.total_seconds() / 3)
        return min(delays, default=None)

    def _planner(self, now: datetime) -> Plan:
        """What to record for the reminders found due at `now` (run inside the claim)."""
        def plan(due: list[Reminder]) -> tuple[list[Claim], dict[int, int | None]]:
            claims: list[Claim] = []
            moves: dict[int, int | None] = {}
            for reminder in due:
                assert reminder.next_due is not None
                late = now - from_unix(reminder.next_due)
                begun = reminder.is_run and unix(now) >= (reminder.starts_at or 0)
                status = "skipped" if late > self.grace or begun else "claimed"
                claims.append(Claim(reminder, reminder.next_due, status))
                if reminder.one_off:  # once per start / streak: no next firing of its own
                    moves[reminder.id] = None
                    continue
                # A reminder that missed several firings catches up with at most one.
                after = max(from_unix(reminder.next_due), now - self.grace)
                moves[reminder.id] = next_due(reminder, after)
            return claims, moves
        return plan

    def _lease(self) -> Lease:
        return Lease(self.owner, unix(self.clock.now() + self.lease))

    async def _tend_leases(self) -> None:
        """Renew this process's leases (every third of the lease), and take over the firings
        whose holder stopped renewing (it died) or let go (it stopped)."""
        now = self.clock.now()
        if self._held and (self._renewed is None or now - self._renewed >= self.lease / 3):
            self._renewed = now
            try:
                await self.storage.renew(self._lease())
            except StorageError as exc:  # tried again in a third of the lease
                log.warning("Could not renew this process's reminder leases: %s", exc)
        await self._adopt(await self.storage.take_over(self._lease(), unix(now)),
                          "from a process that stopped")

    async def recover(self, sender: Sender) -> None:
        """Take over firings that a stopped process had claimed but not finished: those never
        attempted are sent; those that may have been posted are looked for first. On SQLite
        (one process) that is everything left claimed; on a shared database, what nobody
        holds any longer (a clean stop lets go at once; a killed process after its lease)."""
        self._start_workers(sender)
        if self._recovered:  # the scheduler restarted in this process: they are queued already
            return
        self._recovered = True
        taken = await self.storage.take_over(self._lease(), unix(self.clock.now()),
                                             everything=not self.storage.shared)
        await self._adopt(taken, "after a restart")

    async def _adopt(self, taken: list[Claim], how: str) -> None:
        now = self.clock.now()
        for claim in taken:
            if (claim.reminder.id, claim.due_at) in self._held:
                continue  # its own, still queued or being sent (its lease had lapsed)
            if now - from_unix(claim.due_at) <= self.grace:
                log.info("Reminder %s: %s the firing due %s %s", claim.reminder.id,
                         "checking, then sending," if claim.attempted_at else "sending",
                         from_unix(claim.due_at).isoformat(), how)
                self._queue_claim(claim)
            else:
                self._finished.append(
                    (claim.reminder.id, claim.due_at, "failed", None, "stopped before sending")
                )
        await self.flush()

    # --- sending: fair turns across servers, a fixed number of workers ------------------------

    def _queue_claim(self, claim: Claim) -> None:
        reminder = claim.reminder
        self._held.add((reminder.id, claim.due_at))
        self._queue.put(claim, reminder.guild_id, 0 if reminder.kind == "channel" else 1)
        self._settled.clear()
        self._more.set()

    def _start_workers(self, sender: Sender) -> None:
        if self._stopping or self._workers:
            return
        self._flusher = asyncio.create_task(self._flush_loop(), name="stride-reminder-flush")
        for n in range(self._worker_count):
            task = asyncio.create_task(self._work(sender), name=f"stride-reminder-send-{n}")
            self._workers.add(task)

    async def _work(self, sender: Sender) -> None:
        """One worker: take the next claim whose turn it is, deliver it, repeat."""
        while not self._stopping:
            await self._lanes.acquire()
            self._holding.add(asyncio.current_task())
            claim = self._queue.take(lambda c: sender.ready(c.reminder))
            if claim is None:
                self._leave_lane()
                if not self._queue and not self._busy:
                    self._settled.set()
                self._more.clear()
                # Woken by new work; while work waits on a busy channel, look again soon.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._more.wait(),
                                           CHANNEL_POLL if self._queue else None)
                continue
            self._busy += 1
            try:
                await self._deliver(sender, claim)
            except Exception as exc:  # never lose a worker; the firing is recorded as failed
                log.exception("Reminder %s: sending failed", claim.reminder.id)
                self._finished.append((claim.reminder.id, claim.due_at, "failed", None,
                                       f"{type(exc).__name__}: {exc}"[:200]))
            finally:
                self._leave_lane()
                self._busy -= 1
                self._in_request.discard(asyncio.current_task())
        self._more.set()  # let the others see the stop too

    async def _deliver(self, sender: Sender, claim: Claim) -> None:
        reminder, due = claim.reminder, from_unix(claim.due_at)
        post = Post(reminder, claim.due_at, self.routine_for(reminder, reminder.fired))
        outcome = await self._look(sender, post, claim.attempted_at) if claim.attempted_at \
            else None
        while outcome is None or outcome.status == "retry":
            if outcome is not None:
                if self.clock.now() + RETRY_AFTER - due > self.grace:
                    outcome = replace(outcome, status="failed")
                    break
                self._leave_lane()  # others go on while this one waits
                await self.clock.wait(asyncio.Event(), RETRY_AFTER.total_seconds())
            try:
                outcome = await sender.send(post, lambda: self._attempt(claim))
            except StorageError as exc:  # the attempt could not be recorded: nothing was sent
                outcome = Outcome("retry", detail=f"database: {exc}")
        if outcome.pause is not None:
            log.warning("Reminder %s paused: %s", reminder.id, outcome.pause)
            try:
                await self.storage.schedule_reminder(reminder.id, None, outcome.pause)
            except StorageError as exc:  # it fails again next time, and is paused then
                log.warning("Reminder %s: could not store the pause: %s", reminder.id, exc)
        elif outcome.status == "failed":
            log.error("Reminder %s due %s was not sent: %s", reminder.id, due.isoformat(),
                      outcome.detail)
        try:  # before the firing is recorded finished: a kill meanwhile repeats it
            await sender.delivered(post, outcome)
        except Exception:
            log.exception("Reminder %s: what follows its post failed", reminder.id)
        self._finished.append(
            (reminder.id, claim.due_at, outcome.status, outcome.message_id, outcome.detail)
        )

    async def _look(self, sender: Sender, post: Post, attempted_at: int) -> Outcome | None:
        """Whether an earlier attempt got the post out: its Outcome if so, None if not (send
        it). Discord is asked again later while it cannot answer; where the post cannot be
        looked for, the nonce alone decides, as long as Discord still remembers it."""
        due = from_unix(post.due_at)
        while True:
            found = await sender.find(
                post, attempted_at - LOOK_BEFORE, attempted_at + int(self.grace.total_seconds())
                + LOOK_AFTER,
            )
            if found is None:
                log.info("Reminder %s due %s: not posted before the restart; sending it",
                         post.reminder.id, due.isoformat())
                return None
            if found.status == "sent":
                log.info("Reminder %s due %s: already posted before the restart",
                         post.reminder.id, due.isoformat())
                return found
            if found.status == "failed":
                if unix(self.clock.now()) - attempted_at <= NONCE_TRUST:
                    return None  # Discord keeps one post per nonce for a few minutes
                return replace(found, detail=f"not sent again, could not check: {found.detail}")
            if self.clock.now() + RETRY_AFTER - due > self.grace:
                return replace(found, status="failed")
            self._leave_lane()
            await self.clock.wait(asyncio.Event(), RETRY_AFTER.total_seconds())

    async def _attempt(self, claim: Claim) -> None:
        """Record that this firing's request is about to leave, durably, before it leaves.
        Marks from all workers are written together (one commit for many)."""
        loop = asyncio.get_running_loop()
        marked: asyncio.Future[None] = loop.create_future()
        self._marks.append(((claim.reminder.id, claim.due_at), marked))
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._write_marks())
        await marked
        worker = asyncio.current_task()
        assert worker is not None  # each worker runs in a task of its own
        self._in_request.add(worker)
        self._leave_lane()

    def _leave_lane(self) -> None:
        """The current worker's post has left (or waits to be tried again): the next may be
        taken."""
        worker = asyncio.current_task()
        if worker in self._holding:
            self._holding.discard(worker)
            self._lanes.release()

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            try:
                await self.storage.mark_attempted([key for key, _ in batch],
                                                  unix(self.clock.now()))
            except StorageError as exc:
                for _, marked in batch:
                    if not marked.done():
                        marked.set_exception(exc)
                        marked.exception()  # retrieved here: its sender may have stopped
                continue
            for _, marked in batch:
                if not marked.done():
                    marked.set_result(None)

    async def flush(self) -> None:
        """Write how finished firings went (batched: one transaction for many). If the write
        fails (the database locked by another process), they are kept for the next flush: a
        firing left 'claimed' would be looked for and maybe sent again after a restart."""
        if self._finished:
            done, self._finished = self._finished, []
            try:
                await self.storage.finish_firings(done)
            except StorageError as exc:
                self._finished[:0] = done
                log.warning("Could not record %d finished reminder firing(s) yet: %s",
                            len(done), exc)
            else:
                self._held.difference_update((rid, due) for rid, due, *_ in done)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            await self.flush()

    async def drain(self) -> None:
        """Wait until everything queued has been delivered, then record it (tests, benchmarks)."""
        if self._workers and (self._queue or self._busy):
            self._settled.clear()
            await self._settled.wait()
        await self.flush()

    async def stop(self, timeout: float) -> None:
        """Stop sending within `timeout` seconds: nothing new is handed out; a post waiting for
        its turn is let go (still claimed, never attempted: sent after the next start); a post
        whose request has left is waited for; whatever outlasts `timeout` is cancelled (its
        outcome unknown: looked for after the next start). Then every finished send is
        recorded before this returns, so a clean stop never leaves a sent post unrecorded."""
        self._stopping = True
        self._more.set()
        try:
            waiting = self._workers - self._in_request
            for task in waiting:
                task.cancel()
            if self._in_request:
                await asyncio.wait(set(self._in_request), timeout=timeout)
            for task in self._workers:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
            self._workers.clear()
            if self._flusher is not None:
                self._flusher.cancel()
        finally:
            # Shielded: even if the caller gives up now, the record is still written.
            await asyncio.shield(self._final_flush())

    async def _final_flush(self) -> None:
        if self._marker is not None:
            await asyncio.gather(self._marker, return_exceptions=True)
        await self.flush()
        if self.storage.shared:  # what is left unsent is another process's to take, now
            try:
                await self.storage.release(self.owner)
            except StorageError as exc:
                log.warning("Could not let go of this process's reminder firings (the others "
                            "take them after the lease): %s", exc)
