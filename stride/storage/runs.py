"""Club runs in the database (/runs): each server's setup, the events it posts for, its
members' DM choice, and the run posts, which are reminder rows tied to an event.

One implementation for both backends: the statements are plain SQL with :named parameters,
which SQLite takes as they are and PostgreSQL through `numbered`. Each backend hands in how
to read (`Query`) and how to run several statements in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from stride.records import SCHEDULED, Reminder, RunChanges, RunEvent, RunSettings

from .rows import REMINDER_COLUMNS, REMINDER_INSERTED, reminder_values


class Query(Protocol):
    async def __call__(self, sql: str, params: Mapping[str, object]) -> Sequence[Sequence[Any]]:
        ...


Transaction = Callable[[], AbstractAsyncContextManager[Query]]
# Given the server's setup, its known run posts (by event) and the events as stored, what
# changes. Pure: it may run twice (first outside the transaction, to skip idle writes).
RunPlan = Callable[[RunSettings, Mapping[int, Reminder], Mapping[int, RunEvent]], RunChanges]

SETTINGS_COLUMNS = "guild_id, channel_id, minutes, routine, role_id, match, created_by"
RUN_COLUMNS = "guild_id, event_id, name, starts_at, location, channel_id, recurring"
_SETTINGS = f"SELECT {SETTINGS_COLUMNS} FROM run_settings WHERE guild_id = :guild"
_SAVE_SETTINGS = (
    f"INSERT INTO run_settings ({SETTINGS_COLUMNS}) VALUES (:guild, :channel, :minutes, "
    ":routine, :role, :match, :by) ON CONFLICT (guild_id) DO UPDATE SET "
    "channel_id = excluded.channel_id, minutes = excluded.minutes, "
    "routine = excluded.routine, role_id = excluded.role_id, match = excluded.match, "
    "created_by = excluded.created_by"
)
_POSTS = (f"SELECT {REMINDER_COLUMNS} FROM reminders WHERE guild_id = :guild "
          "AND event_id IS NOT NULL AND kind = 'channel'")
_RUNS = f"SELECT {RUN_COLUMNS} FROM runs WHERE guild_id = :guild"
_RUN = f"SELECT {RUN_COLUMNS} FROM runs WHERE guild_id = :guild AND event_id = :event"
_KEEP_RUN = (
    "INSERT INTO runs (guild_id, event_id, name, starts_at, location, channel_id, recurring) "
    "VALUES (:guild, :event, :name, :starts, :location, :channel, :recurring) "
    "ON CONFLICT (guild_id, event_id) DO UPDATE SET name = excluded.name, "
    "starts_at = excluded.starts_at, location = excluded.location, "
    "channel_id = excluded.channel_id, recurring = excluded.recurring"
)
_DROP_POSTS = "DELETE FROM reminders WHERE guild_id = :guild AND event_id = :event"
_DROP_RUN = "DELETE FROM runs WHERE guild_id = :guild AND event_id = :event"
_ADD_POST = (f"INSERT INTO reminders ({', '.join(REMINDER_INSERTED)}) "
             f"VALUES ({', '.join(f':{f}' for f in REMINDER_INSERTED)})")
_MOVE_POST = (
    "UPDATE reminders SET channel_id = :channel_id, role_id = :role_id, routine = :routine, "
    "next_due = :next_due, starts_at = :starts_at, at = :at, paused = NULL WHERE id = :id"
)
_DM_POSTS = ("SELECT id, user_id, starts_at FROM reminders WHERE guild_id = :guild "
             "AND event_id = :event AND kind = 'dm'")
_RETIME_DM = "UPDATE reminders SET next_due = :due, starts_at = :starts, paused = NULL " \
             "WHERE id = :id"
_UPCOMING = (
    f"SELECT {', '.join('u.' + c for c in RUN_COLUMNS.split(', '))}, "
    "r.next_due, r.paused FROM runs AS u LEFT JOIN reminders AS r ON r.guild_id = u.guild_id "
    "AND r.event_id = u.event_id AND r.kind = 'channel' WHERE u.guild_id = :guild "
    "ORDER BY u.starts_at, u.event_id"
)


def run_event(row: Sequence[Any]) -> RunEvent:
    """A stored event (only scheduled ones are kept)."""
    guild_id, event_id, name, starts_at, location, channel_id, recurring = row
    return RunEvent(int(guild_id), int(event_id), name, int(starts_at), SCHEDULED, location,
                    channel_id, bool(recurring))


def run_settings(row: Sequence[Any]) -> RunSettings:
    return RunSettings(*row)


def post_at(reminder: Reminder) -> str:
    """What a run post keeps in `at` (NOT NULL): its start's UTC time of day."""
    return datetime.fromtimestamp(reminder.starts_at or 0, UTC).strftime("%H:%M")


class RunStore:
    """The /runs rows of one database."""

    def __init__(self, read: Query, transaction: Transaction) -> None:
        self._read = read
        self._transaction = transaction

    async def settings(self, guild_id: int) -> RunSettings | None:
        rows = await self._read(_SETTINGS, {"guild": guild_id})
        return run_settings(rows[0]) if rows else None

    async def save_settings(self, s: RunSettings) -> None:
        async with self._transaction() as q:
            await q(_SAVE_SETTINGS, {"guild": s.guild_id, "channel": s.channel_id,
                                     "minutes": s.minutes, "routine": s.routine,
                                     "role": s.role_id, "match": s.match, "by": s.created_by})

    async def forget(self, guild_id: int) -> int:
        """/runs off: the setup, the events and every unsent run post go; how many events."""
        params = {"guild": guild_id}
        async with self._transaction() as q:
            known = await q("SELECT COUNT(*) FROM runs WHERE guild_id = :guild", params)
            await q("DELETE FROM reminders WHERE guild_id = :guild AND event_id IS NOT NULL",
                    params)
            await q("DELETE FROM runs WHERE guild_id = :guild", params)
            await q("DELETE FROM run_settings WHERE guild_id = :guild", params)
        return int(known[0][0])

    async def guilds(self) -> list[int]:
        """Every server with a /runs setup."""
        return [int(r[0]) for r in await self._read(
            "SELECT guild_id FROM run_settings ORDER BY guild_id", {})]

    async def sync(self, guild_id: int, plan: RunPlan) -> RunChanges:
        """Plan the server's changes and make them in one transaction. Reads first without
        one: when nothing changes (the usual case of a periodic look), nothing is written."""
        first = await self._plan(self._read, guild_id, plan)
        if first is None or not (first or first.keep):
            return first or RunChanges([], [], [])
        async with self._transaction() as q:
            changes = await self._plan(q, guild_id, plan)
            if changes is None:
                return RunChanges([], [], [])
            for event_id in changes.drop:
                params = {"guild": guild_id, "event": event_id}
                await q(_DROP_POSTS, params)
                await q(_DROP_RUN, params)
            for e in changes.keep:
                await q(_KEEP_RUN, {"guild": guild_id, "event": e.event_id, "name": e.name,
                                    "starts": e.starts_at, "location": e.location,
                                    "channel": e.channel_id, "recurring": int(e.recurring)})
            for post in changes.posts:
                values = {**reminder_values(post), "id": post.id, "at": post_at(post)}
                await q(_ADD_POST if post.id == 0 else _MOVE_POST, values)
        return changes

    async def _plan(self, q: Query, guild_id: int, plan: RunPlan) -> RunChanges | None:
        params = {"guild": guild_id}
        found = await q(_SETTINGS, params)
        if not found:
            return None
        posts = {int(r.event_id or 0): r for r in (Reminder(*row) for row in
                                                   await q(_POSTS, params))}
        runs = {e.event_id: e for e in map(run_event, await q(_RUNS, params))}
        return plan(run_settings(found[0]), posts, runs)

    async def event(self, guild_id: int, event_id: int) -> RunEvent | None:
        rows = await self._read(_RUN, {"guild": guild_id, "event": event_id})
        return run_event(rows[0]) if rows else None

    async def upcoming(self, guild_id: int) -> list[tuple[RunEvent, int | None, str | None]]:
        """The server's known events, soonest first, each with when its post is due (None:
        posted, or not to be) and why it is paused, if it is."""
        return [(run_event(row[:-2]), row[-2], row[-1])
                for row in await self._read(_UPCOMING, {"guild": guild_id})]

    async def fan_out(self, post: Reminder, users: Sequence[int], due: int) -> int:
        """Members' DMs of one run post (due at `due`), each once per start time: a member
        who has theirs for this start already is left alone. How many were added."""
        assert post.event_id is not None and post.starts_at is not None
        params = {"guild": post.guild_id, "event": post.event_id}
        added = 0
        async with self._transaction() as q:
            known = {int(r[1]): (int(r[0]), r[2]) for r in await q(_DM_POSTS, params)}
            for user_id in users:
                row = known.get(user_id)
                if row is None:
                    dm = replace(post, id=0, kind="dm", channel_id=None, user_id=user_id,
                                 role_id=None, next_due=due, paused=None)
                    await q(_ADD_POST, {**reminder_values(dm), "at": post_at(dm)})
                    added += 1
                elif row[1] != post.starts_at:
                    await q(_RETIME_DM, {"id": row[0], "due": due, "starts": post.starts_at})
                    added += 1
        return added

    # --- members' DMs ------------------------------------------------------------------

    async def dm_choice(self, guild_id: int, user_id: int) -> tuple[bool, str | None]:
        """Whether the member asked for run DMs here, and why they stopped, if they did."""
        rows = await self._read(
            "SELECT paused FROM run_dm_members WHERE guild_id = :guild AND user_id = :user",
            {"guild": guild_id, "user": user_id})
        return (True, rows[0][0]) if rows else (False, None)

    async def set_dm(self, guild_id: int, user_id: int, wanted: bool,
                     paused: str | None = None) -> None:
        params = {"guild": guild_id, "user": user_id, "paused": paused}
        async with self._transaction() as q:
            if wanted:
                await q("INSERT INTO run_dm_members (guild_id, user_id, paused) "
                        "VALUES (:guild, :user, :paused) ON CONFLICT (guild_id, user_id) "
                        "DO UPDATE SET paused = excluded.paused", params)
            else:
                await q("DELETE FROM run_dm_members WHERE guild_id = :guild "
                        "AND user_id = :user", params)
            if not wanted or paused is not None:  # no DM of theirs goes out any more
                await q("UPDATE reminders SET next_due = NULL WHERE guild_id = :guild "
                        "AND user_id = :user AND kind = 'dm' AND event_id IS NOT NULL",
                        params)

    async def dm_members(self, guild_id: int) -> set[int]:
        """The members who want run DMs here (and have not had their DMs closed)."""
        return {int(r[0]) for r in await self._read(
            "SELECT user_id FROM run_dm_members WHERE guild_id = :guild AND paused IS NULL",
            {"guild": guild_id})}
