"""Several schedulers on one shared (PostgreSQL) database: each firing claimed once, leases
renewed while held, a dead scheduler's firings taken over after the lease, a clean stop's
left at once. The clock is injected; two `Reminders` on two connections play two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from stride.catalog import Catalog
from stride.clock import ManualClock
from stride.errors import StorageError
from stride.records import ShardSet
from stride.reminders import Reminders, from_unix
from stride.storage import Storage

from .test_reminders import RecordingSender

G1, G2 = 1 << 22, 2 << 22  # servers on shard 1 and shard 0 of 2 ((id >> 22) % 2)
CHANNEL, ADMIN = 555, 9
LEASE = timedelta(seconds=30)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 27, 12, 0, tzinfo=UTC))


@pytest.fixture
async def pair(postgres_url: str) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two connections (two processes) to one new PostgreSQL database."""
    from stride.storage.postgres import PostgresStorage

    first, second = PostgresStorage(postgres_url), PostgresStorage(postgres_url)
    await first.open()
    await second.open()
    yield first, second
    await first.close()
    await second.close()


def scheduler(storage: Storage, catalog: Catalog, clock: ManualClock, name: str,
              shards: ShardSet | None = None) -> Reminders:
    return Reminders(storage, catalog, clock, lease=LEASE, owner=name, shards=shards)


async def due_now(reminders: Reminders, clock: ManualClock, count: int, guild: int = G1
                  ) -> list[int]:
    ids = []
    for n in range(count):  # 20 a server (a server keeps 25), all on `guild`'s shard
        server = guild + (n // 20) * (2 << 22)
        r = await reminders.add_club(server, CHANNEL + n, "07:00", None, "UTC", None, None,
                                     ADMIN)
        ids.append(r.id)
        assert r.next_due is not None
    clock.current = from_unix(r.next_due) + timedelta(seconds=1)
    return ids


async def test_two_schedulers_racing_claim_each_firing_once(
    pair: tuple[Storage, Storage], catalog: Catalog, clock: ManualClock
) -> None:
    a = scheduler(pair[0], catalog, clock, "a")
    b = scheduler(pair[1], catalog, clock, "b")
    await due_now(a, clock, 60)
    sa, sb = RecordingSender(), RecordingSender()
    await asyncio.gather(a.tick(sa), b.tick(sb))
    await asyncio.gather(a.drain(), b.drain())
    sent = [rid for rid, _, _ in sa.sent + sb.sent]
    assert len(sent) == len(set(sent)) == 60
    assert await pair[0].firing_count("sent") == 60
    await asyncio.gather(a.stop(1), b.stop(1))


async def test_each_claims_its_own_shards_and_adopts_what_is_left_over(
    pair: tuple[Storage, Storage], catalog: Catalog, clock: ManualClock
) -> None:
    """Process 'one' runs shard 1 only: a reminder of a shard-0 server is not its own, until
    it has been due longer than the lease (its process is gone)."""
    one = scheduler(pair[0], catalog, clock, "one", ShardSet((1,), 2))
    [mine] = await due_now(one, clock, 1, G1)
    [theirs] = await due_now(one, clock, 1, G2)
    sender = RecordingSender()
    await one.tick(sender)
    await one.drain()
    assert [rid for rid, _, _ in sender.sent] == [mine]
    clock.current += LEASE + timedelta(seconds=1)
    await one.tick(sender)
    await one.drain()
    assert [rid for rid, _, _ in sender.sent] == [mine, theirs]
    await one.stop(1)


async def test_a_dead_schedulers_firings_are_taken_over_after_the_lease(
    pair: tuple[Storage, Storage], catalog: Catalog, clock: ManualClock
) -> None:
    """'a' claims and dies (never sends, never stops). Within the lease 'b' leaves them;
    after it, 'b' takes them over and sends each once."""
    a = scheduler(pair[0], catalog, clock, "a")
    b = scheduler(pair[1], catalog, clock, "b")
    ids = await due_now(a, clock, 5)
    claims = await pair[0].claim_due(int(clock.now().timestamp()), 100,
                                     a._planner(clock.now()), a._lease())
    assert sorted(c.reminder.id for c in claims) == ids  # claimed by 'a', which now dies
    sender = RecordingSender()
    await b.recover(sender)
    clock.current += LEASE / 2
    await b.tick(sender)
    await b.drain()
    assert sender.sent == []  # 'a' may still be working on them
    clock.current += LEASE
    await b.tick(sender)
    await b.drain()
    assert sorted(rid for rid, _, _ in sender.sent) == ids
    assert await pair[1].firing_count("sent") == 5
    await b.stop(1)


async def test_a_live_scheduler_keeps_its_firings_by_renewing(
    pair: tuple[Storage, Storage], catalog: Catalog, clock: ManualClock
) -> None:
    """A firing held for longer than the lease (its channel busy) stays with its holder
    while the holder keeps ticking: renewed, never taken."""
    a = scheduler(pair[0], catalog, clock, "a")
    b = scheduler(pair[1], catalog, clock, "b")
    await due_now(a, clock, 1)
    blocked = RecordingSender()
    blocked.ready = lambda reminder: False  # type: ignore[method-assign]  # channel full
    await a.tick(blocked)
    other = RecordingSender()
    for _ in range(6):  # three lease lengths; 'b' looks first each time
        clock.current += LEASE / 2
        await b.tick(other)
        await b.drain()
        await a.tick(blocked)
    assert other.sent == [] and blocked.sent == []
    await asyncio.gather(a.stop(0), b.stop(0))


async def test_a_clean_stop_lets_go_at_once(
    pair: tuple[Storage, Storage], catalog: Catalog, clock: ManualClock
) -> None:
    """Posts still waiting their turn at a clean stop are left (released), so another
    process takes them on its next look, not a lease later."""
    a = scheduler(pair[0], catalog, clock, "a")
    await due_now(a, clock, 3)
    blocked = RecordingSender()
    blocked.ready = lambda reminder: False  # type: ignore[method-assign]
    await a.tick(blocked)
    await a.stop(0)
    b = scheduler(pair[1], catalog, clock, "b")
    sender = RecordingSender()
    await b.recover(sender)
    await b.drain()
    assert len(sender.sent) == 3 and sender.looked == []  # never attempted: just sent
    await b.stop(1)


async def test_its_own_lapsed_firing_is_not_queued_twice(
    pair: tuple[Storage, Storage], catalog: Catalog, clock: ManualClock
) -> None:
    """If renewing failed for a while and its own lease lapsed, a scheduler that takes the
    firing back does not queue it a second time."""
    a = scheduler(pair[0], catalog, clock, "a")
    await due_now(a, clock, 1)
    blocked = RecordingSender()
    blocked.ready = lambda reminder: False  # type: ignore[method-assign]
    await a.tick(blocked)
    clock.current += LEASE * 2

    async def refused(lease: object) -> int:
        raise StorageError("connection lost")

    pair[0].renew = refused  # type: ignore[method-assign]
    await a.tick(blocked)
    assert len(a._queue) == 1
    await a.stop(0)
