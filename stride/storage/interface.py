"""What every storage backend offers the domain: the same calls, the same meaning, whichever
database is underneath (SQLite in one process, PostgreSQL shared by several).

The domain and the cogs are written against `Storage` only; `open_storage` picks the backend.
Every call raises the domain's StorageError / StorageBusy, never a driver's own errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import date
from typing import Protocol

from stride.records import (
    BoardSlice,
    CheckinRow,
    Claim,
    ClubSettings,
    Highlight,
    Lease,
    MemberRecord,
    MemberUpdate,
    Reminder,
    ShardSet,
)
from stride.streaks import StreakState

from .club_week import WeekStore
from .runs import RunStore

# Given the reminders found due, the firings to record (claimed, or skipped past the grace
# window) and each reminder's next due time. Pure: it runs inside the claiming transaction.
Plan = Callable[[list[Reminder]], tuple[list[Claim], Mapping[int, int | None]]]
FiringResult = tuple[int, int, str, int | None, str | None]  # id, due at, status, message, why


class Storage(Protocol):
    """Stride's database, as the domain sees it."""

    #: Whether several processes may share this database (PostgreSQL): firings are then
    #: claimed under leases and taken over from a process that died. False for SQLite, which
    #: one process owns: whatever a stopped process left claimed is taken at the next start.
    shared: bool

    #: Club runs (/runs): each server's setup, its events, the run posts and members' DMs.
    runs: RunStore

    #: The club's week: the weekly recap's reads and row, and members' nudges.
    week: WeekStore

    @property
    def where(self) -> str:
        """The database, for logs and messages (a path, or a URL without its password)."""
        ...

    async def open(self) -> None: ...
    async def close(self, timeout: float | None = None) -> None: ...
    async def schema_version(self) -> int: ...

    # --- clubs, members and check-ins ----------------------------------------------------
    async def club_settings(self, guild_id: int) -> ClubSettings: ...
    async def save_club_settings(self, guild_id: int, settings: ClubSettings) -> None: ...
    async def member(self, guild_id: int, user_id: int) -> tuple[ClubSettings, MemberRecord]: ...

    async def member_days(self, guild_id: int, user_id: int, since: date
                          ) -> tuple[ClubSettings, MemberRecord, list[date]]:
        """`member`, and the member's check-in days from `since` on (one round trip)."""
        ...

    async def save_member(
        self, guild_id: int, user_id: int, *, expected: StreakState | None,
        state: StreakState, rest_days: int, breaks_at: int | None, at: str | None = None,
        what: str | None = None, highlights: Sequence[Highlight] = (),
        nudge_due: int | None = None, move_nudge: bool = False,
    ) -> bool: ...

    async def checkin_days(
        self, guild_id: int, user_id: int, since: date | None = None
    ) -> list[date]: ...

    async def checkins(self, guild_id: int, user_id: int) -> list[CheckinRow]: ...

    async def set_member_timezone(
        self, guild_id: int, user_id: int, timezone: str | None, breaks_at: int | None
    ) -> None: ...

    async def set_present(self, guild_id: int, user_id: int, present: bool) -> None: ...
    async def forget_member(self, guild_id: int, user_id: int) -> int: ...
    async def members_of(self, guild_id: int) -> list[tuple[int, str | None]]: ...
    def guild_days(self, guild_id: int) -> AsyncIterator[tuple[int, date]]: ...
    async def rewrite_members(self, guild_id: int, updates: list[MemberUpdate]) -> int: ...

    # --- reminders -----------------------------------------------------------------------
    async def add_reminder(self, r: Reminder) -> Reminder: ...
    async def reminder(self, reminder_id: int) -> Reminder | None: ...
    async def reminders(self, guild_id: int, kind: str = "channel") -> list[Reminder]: ...
    async def dm_reminder(self, guild_id: int, user_id: int) -> Reminder | None: ...
    async def delete_reminder(self, reminder_id: int) -> bool: ...

    async def schedule_reminder(
        self, reminder_id: int, next_due: int | None, paused: str | None
    ) -> None: ...

    async def next_due(self, shards: ShardSet | None = None) -> int | None:
        """When the earliest active reminder (of servers on `shards`) is due, if any."""
        ...

    async def claim_due(
        self, now: int, limit: int, plan: Plan, lease: Lease, *,
        shards: ShardSet | None = None, adopt_before: int | None = None,
    ) -> list[Claim]:
        """In one transaction: up to `limit` reminders due by `now` (earliest first; on a
        shared database, none another process is claiming at this moment), planned by `plan`,
        their firings recorded under `lease` and the reminders moved on. Returns the firings
        this call recorded (a firing recorded before is left out: never claimed twice).

        With `shards`, only reminders of servers on those shards, so each channel hears from
        one process (its per-channel pacing holds), plus any due before `adopt_before`: left
        that long, their own process is gone. SQLite, owned by one process, takes all."""
        ...

    async def take_over(self, lease: Lease, now: int, *, everything: bool = False
                        ) -> list[Claim]:
        """Firings still 'claimed' whose lease ran out before `now` (all of them with
        `everything`), now held under `lease`, with when each was attempted, if ever."""
        ...

    async def watch(self, changed: Callable[[int], None]) -> None:
        """From now on, call `changed(earliest next_due)` when another process adds or moves
        reminders (a shared database; SQLite has no other process to hear from)."""
        ...

    async def next_lapse(self) -> int | None:
        """When the earliest lease on a claimed firing runs out (unix time), if any."""
        ...

    async def renew(self, lease: Lease) -> int:
        """Extend the lease of every firing `lease.owner` still holds; how many."""
        ...

    async def release(self, owner: str) -> None:
        """End `owner`'s lease on firings it still holds (a clean stop): another process,
        or the next start, takes them over at once instead of after the lease."""
        ...

    async def finish_firings(self, results: list[FiringResult]) -> None: ...
    async def mark_attempted(self, firings: list[tuple[int, int]], at: int) -> None: ...
    async def firing_count(self, status: str | None = None) -> int: ...
    async def dm_channel(self, user_id: int) -> int | None: ...
    async def save_dm_channel(self, user_id: int, channel_id: int) -> None: ...

    # --- boards --------------------------------------------------------------------------
    async def board(
        self, guild_id: int, user_id: int, board: str, period: str, *, now: int, week: str,
        month: str, offset: int, limit: int,
    ) -> BoardSlice: ...
