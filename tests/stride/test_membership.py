"""Boards shown without the Server Members intent: the members on a page are looked up, those
who left are taken off, answers are remembered, and the time spent is bounded."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from stride.checkins import BoardPage, Checkins
from stride.clock import ManualClock
from stride.membership import Membership
from stride.storage import Storage

G = 1000
CALLER = 1
RUNNERS = range(1, 16)  # 15 members with one check-in each: pages of 10, ordered by id


class Directory:
    """Discord's member list, with look-ups that can be slow or fail."""

    def __init__(self, gone: set[int] = frozenset(), slow: dict[int, float] | None = None,
                 broken: set[int] = frozenset()) -> None:
        self.gone, self.slow, self.broken = set(gone), slow or {}, broken
        self.calls: list[int] = []

    async def is_member(self, user_id: int) -> bool:
        self.calls.append(user_id)
        await asyncio.sleep(self.slow.get(user_id, 0))
        if user_id in self.broken:
            raise RuntimeError("503 Service Unavailable")
        return user_id not in self.gone


@pytest.fixture
async def checkins(storage: Storage) -> Checkins:
    day = datetime(2026, 11, 23, 12, tzinfo=UTC)
    checkins = Checkins(storage, ManualClock(day))
    for user in RUNNERS:
        await checkins.check_in(G, user)
    return checkins


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 12, tzinfo=UTC))


def members(storage: Storage, clock: ManualClock, **kw: float) -> Membership:
    return Membership(storage, lookups=True, clock=clock, **kw)


async def show(membership: Membership, checkins: Checkins, directory: Directory | None,
               page: int = 0) -> list[int]:
    found: BoardPage = await membership.board(
        lambda: checkins.board(G, CALLER, "checkins", "all", page), G, CALLER, directory)
    return [row.user_id for row in found.slice.rows]


async def test_leavers_are_taken_off_and_the_page_stays_full(
    storage: Storage, checkins: Checkins, clock: ManualClock
) -> None:
    directory = Directory(gone={2, 5})
    shown = await show(members(storage, clock), checkins, directory)
    assert shown == [1, 3, 4, 6, 7, 8, 9, 10, 11, 12]  # 11 and 12 moved up, and were checked
    assert sorted(directory.calls) == list(range(2, 13))  # each once; never the caller
    plain = await checkins.board(G, CALLER, "checkins", "all", 0)  # gone from storage too
    assert [r.user_id for r in plain.slice.rows] == shown
    rest = await checkins.board(G, CALLER, "checkins", "all", 1)
    assert [r.user_id for r in rest.slice.rows] == [13, 14, 15] and not rest.has_next


async def test_present_members_are_remembered_for_an_hour(
    storage: Storage, checkins: Checkins, clock: ManualClock
) -> None:
    membership = members(storage, clock)
    directory = Directory()
    await show(membership, checkins, directory)
    assert len(directory.calls) == 9
    clock.advance(3599)
    assert await show(membership, checkins, directory) == list(range(1, 11))
    assert len(directory.calls) == 9  # no new look-up within the hour
    await show(membership, checkins, directory, page=1)
    assert directory.calls[9:] == [11, 12, 13, 14, 15]
    clock.advance(1)
    await show(membership, checkins, directory)
    assert directory.calls[14:] == list(range(2, 11))  # an hour on: asked again


async def test_memory_is_bounded_least_recently_used_first(
    storage: Storage, clock: ManualClock
) -> None:
    membership = members(storage, clock, remembered=3)
    for user in (1, 2, 3):
        membership.seen(G, user)
    assert membership.known(G, 1)  # used: now the most recent
    membership.seen(G, 4)
    assert [membership.known(G, u) for u in (1, 2, 3, 4)] == [True, False, True, True]
    assert not membership.known(G + 1, 1)  # per server


async def test_slow_lookups_are_bounded_and_finish_for_next_time(
    storage: Storage, checkins: Checkins, clock: ManualClock
) -> None:
    membership = members(storage, clock, budget=0.1)
    directory = Directory(gone={3, 4}, slow={3: 0.4, 4: 30})
    started = time.monotonic()
    first = await show(membership, checkins, directory)
    assert time.monotonic() - started < 0.3
    assert 3 in first and 4 in first  # not verified in time: shown
    again = await show(membership, checkins, directory)  # while 3 and 4 are still looked up
    assert 3 in again and directory.calls.count(3) == 1  # the look-up under way is reused
    await asyncio.sleep(0.4)  # 3's answer arrives: taken off without anyone waiting for it
    assert 3 not in await show(membership, checkins, directory)
    assert directory.calls.count(3) == 1
    await membership.close()  # 4's look-up is cancelled with the bot
    assert not membership._pending


async def test_a_lookup_that_outlasts_its_own_bound_is_given_up(
    storage: Storage, checkins: Checkins, clock: ManualClock
) -> None:
    membership = members(storage, clock, budget=0.05, lookup_timeout=0.2)
    directory = Directory(gone={2}, slow={2: 5})
    await show(membership, checkins, directory)
    await asyncio.sleep(0.3)
    assert not membership._pending  # not left running
    assert 2 in await show(membership, checkins, directory)  # unknown: shown, asked again
    assert directory.calls.count(2) == 2


async def test_failed_lookups_leave_the_member_shown_and_unremembered(
    storage: Storage, checkins: Checkins, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    membership = members(storage, clock)
    directory = Directory(broken={4})
    assert 4 in await show(membership, checkins, directory)
    assert "Could not check whether member 4 is still in server" in caplog.text
    await show(membership, checkins, directory)
    assert directory.calls.count(4) == 2 and directory.calls.count(5) == 1


async def test_no_lookups_when_the_intent_is_on(storage: Storage, checkins: Checkins) -> None:
    membership = Membership(storage, lookups=False)
    directory = Directory(gone={2})
    assert 2 in await show(membership, checkins, directory)  # GUILD_MEMBER_REMOVE does it
    assert directory.calls == []


async def test_a_member_who_left_is_back_with_their_next_checkin(
    storage: Storage, checkins: Checkins, clock: ManualClock
) -> None:
    await show(members(storage, clock), checkins, Directory(gone={2}))
    tomorrow = Checkins(storage, ManualClock(datetime(2026, 11, 24, 9, tzinfo=UTC)))
    assert (await tomorrow.check_in(G, 2)).recorded
    top = await tomorrow.board(G, CALLER, "checkins", "all", 0)
    assert top.slice.rows[0].user_id == 2 and top.slice.rows[0].value == 2
