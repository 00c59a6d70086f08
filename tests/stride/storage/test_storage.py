"""The `Storage` contract, call by call, on both backends (the `storage` fixture): the same
answers and the same guards from SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from stride.records import Claim, ClubSettings, Lease, MemberUpdate, Reminder
from stride.storage import Storage
from stride.streaks import EMPTY, StreakState

G, NOW = 1000, 1_800_000_000
DRAFT = Reminder(0, G, "channel", 2000, None, "07:00", 127, "UTC", None, None, NOW - 10, None,
                 0, 3000)


def plan_all(status: str = "claimed", step: int = 86400):
    def plan(due: list[Reminder]) -> tuple[list[Claim], dict[int, int | None]]:
        return ([Claim(r, r.next_due or 0, status) for r in due],
                {r.id: (r.next_due or 0) + step for r in due})
    return plan


async def test_member_defaults_and_compare_and_set(storage: Storage) -> None:
    club, member = await storage.member(G, 1)
    assert club == ClubSettings() and not member.exists and member.state == EMPTY
    state = StreakState(date(2026, 11, 23), 1, 1, 1, "2026-W48", 1, "2026-11", 1)
    assert await storage.save_member(G, 1, expected=None, state=state, rest_days=2,
                                     breaks_at=NOW, at="2026-11-23T06:00:00+00:00", what="x")
    # A second "first check-in" and a stale expectation both lose.
    assert not await storage.save_member(G, 1, expected=None, state=state, rest_days=2,
                                         breaks_at=NOW)
    assert not await storage.save_member(G, 1, expected=EMPTY, state=state, rest_days=2,
                                         breaks_at=NOW)
    later = replace(state, last_day=date(2026, 11, 24), run=2, best=2, total=2, week_count=2,
                    month_count=2)
    assert await storage.save_member(G, 1, expected=state, state=later, rest_days=2,
                                     breaks_at=NOW, at="2026-11-24T06:00:00+00:00")
    await storage.save_club_settings(G, ClubSettings("Europe/Berlin", 3))
    club, member = await storage.member(G, 1)
    assert club == ClubSettings("Europe/Berlin", 3)
    assert member.exists and member.state == later and member.rest_days == 2
    assert [(r.day, r.what) for r in await storage.checkins(G, 1)] == [
        (date(2026, 11, 23), "x"), (date(2026, 11, 24), None)]
    assert await storage.checkin_days(G, 1, since=date(2026, 11, 24)) == [date(2026, 11, 24)]
    assert await storage.member_days(G, 1, date(2026, 11, 24)) == (
        club, member, [date(2026, 11, 24)])
    assert await storage.member_days(G, 1, date(2026, 11, 1)) == (
        club, member, [date(2026, 11, 23), date(2026, 11, 24)])
    assert await storage.member_days(G, 2, date(2026, 11, 1)) == (club, (await storage.member(
        G, 2))[1], [])  # nobody: no row, no days
    # Undo: back to the first day, whose time and note stay as they were.
    assert await storage.save_member(G, 1, expected=later, state=state, rest_days=2,
                                     breaks_at=NOW)
    assert await storage.checkin_days(G, 1) == [date(2026, 11, 23)]


async def test_rewrite_members_keeps_rows_changed_meanwhile(storage: Storage) -> None:
    state = StreakState(date(2026, 11, 23), 3, 5, 9, "2026-W48", 1, "2026-11", 4)
    for user in (1, 2):
        await storage.save_member(G, user, expected=None, state=state, rest_days=2,
                                  breaks_at=NOW, at="t")
    await storage.set_member_timezone(G, 3, "Asia/Tokyo", None)  # a row with no check-in
    fresh = replace(state, total=8)  # computed before user 2's figures changed
    changed = await storage.rewrite_members(G, [
        MemberUpdate(1, replace(state, run=1), NOW + 1, 0),
        MemberUpdate(2, replace(fresh, run=1), NOW + 1, 0),
        MemberUpdate(3, EMPTY, None, 0),
    ])
    assert changed == 2
    assert (await storage.member(G, 1))[1].state.run == 1
    assert (await storage.member(G, 2))[1].state.run == 3
    assert (await storage.member(G, 3))[1].rest_days == 0
    assert await storage.rewrite_members(G, []) == 0
    assert sorted(await storage.members_of(G)) == [(1, None), (2, None), (3, "Asia/Tokyo")]


async def test_dm_reminders_are_one_per_member_and_forgotten_with_them(storage: Storage) -> None:
    dm = replace(DRAFT, kind="dm", channel_id=None, user_id=7)
    first = await storage.add_reminder(dm)
    await storage.schedule_reminder(first.id, None, "paused by a test")
    again = await storage.add_reminder(replace(dm, at="08:15", next_due=NOW + 60))
    assert again.id == first.id and again.at == "08:15" and again.paused is None
    elsewhere = await storage.add_reminder(replace(dm, guild_id=G + 1))
    await storage.save_dm_channel(7, 111)
    await storage.save_dm_channel(7, 222)
    assert await storage.dm_channel(7) == 222
    assert await storage.forget_member(G, 7) == 0  # no member row, still the reminder goes
    assert await storage.dm_reminder(G, 7) is None
    assert await storage.dm_channel(7) == 222  # still used by the other server's reminder
    assert await storage.delete_reminder(elsewhere.id)
    assert not await storage.delete_reminder(elsewhere.id)
    await storage.add_reminder(dm)
    await storage.forget_member(G, 7)
    assert await storage.dm_channel(7) is None


async def test_claim_due_records_once_and_moves_reminders_on(storage: Storage) -> None:
    early = await storage.add_reminder(replace(DRAFT, next_due=NOW - 20))
    late = await storage.add_reminder(replace(DRAFT, channel_id=2001, next_due=NOW - 10))
    await storage.add_reminder(replace(DRAFT, channel_id=2002, next_due=NOW + 10))
    await storage.add_reminder(replace(DRAFT, channel_id=2003, next_due=None, paused="x"))
    assert await storage.next_due() == NOW - 20
    lease = Lease("me", NOW + 30)
    claims = await storage.claim_due(NOW, 1, plan_all(), lease)
    assert [(c.reminder, c.due_at, c.status) for c in claims] == [(early, NOW - 20, "claimed")]
    # Found due again at the same time (say its move was undone): the firing recorded
    # before is neither recorded nor returned again, nor counted in `fired`.
    await storage.schedule_reminder(early.id, NOW - 20, None)
    again = await storage.claim_due(NOW, 5, plan_all(), lease)
    assert [(c.reminder.id, c.due_at) for c in again] == [(late.id, NOW - 10)]
    assert (await storage.reminder(early.id)).fired == 1  # type: ignore[union-attr]
    assert (await storage.reminder(late.id)).fired == 1  # type: ignore[union-attr]
    assert await storage.next_due() == NOW + 10
    skipped = await storage.add_reminder(replace(DRAFT, channel_id=2004, next_due=NOW - 5))
    [claim] = await storage.claim_due(NOW, 5, plan_all("skipped"), lease)
    assert claim.reminder == skipped and claim.status == "skipped"
    moved = await storage.reminder(skipped.id)
    assert moved is not None and moved.fired == 0 and moved.next_due == NOW - 5 + 86400
    assert await storage.firing_count() == 3 and await storage.firing_count("skipped") == 1
    assert await storage.claim_due(NOW, 5, plan_all(), lease) == []


async def test_firings_are_taken_over_attempted_and_finished(storage: Storage) -> None:
    ids = [(await storage.add_reminder(replace(DRAFT, channel_id=2000 + i, next_due=NOW - i)))
           for i in range(3)]
    claims = await storage.claim_due(NOW, 10, plan_all(), Lease("old", NOW + 30))
    assert [c.reminder.id for c in claims] == [ids[2].id, ids[1].id, ids[0].id]
    await storage.mark_attempted([(ids[1].id, NOW - 1)], NOW + 1)
    await storage.mark_attempted([(ids[1].id, NOW - 1)], NOW + 9)  # the first attempt counts
    assert await storage.take_over(Lease("new", NOW + 60), NOW + 10) == []  # lease running
    taken = await storage.take_over(Lease("new", NOW + 60), NOW + 10, everything=True)
    assert [(c.reminder.id, c.due_at, c.attempted_at) for c in taken] == [
        (ids[2].id, NOW - 2, None), (ids[1].id, NOW - 1, NOW + 1), (ids[0].id, NOW, None)]
    assert await storage.renew(Lease("old", NOW + 90)) == 0
    assert await storage.renew(Lease("new", NOW + 90)) == 3
    await storage.finish_firings([(ids[2].id, NOW - 2, "sent", 555, None),
                                  (ids[1].id, NOW - 1, "failed", None, "403")])
    await storage.mark_attempted([(ids[2].id, NOW - 2)], NOW + 20)  # finished: left alone
    await storage.finish_firings([])
    await storage.mark_attempted([], NOW)
    assert (await storage.firing_count("sent"), await storage.firing_count("failed"),
            await storage.firing_count("claimed")) == (1, 1, 1)
    await storage.release("new")
    [left] = await storage.take_over(Lease("third", NOW + 120), NOW + 11)
    assert (left.reminder.id, left.attempted_at) == (ids[0].id, None)
