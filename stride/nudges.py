"""The nudge: one DM on the last day a member's streak survives, if they have not checked in.

A member turns it on with a local time (20:00 unless they pick one). Their nudge is a reminder
row (purpose 'nudge') whose due time is the nudge of their current streak: check-ins and undos
move it in their own transaction (see `Checkins`), so the scheduler's index on due times finds
the members to nudge at any minute without reading anyone else. It fires once, then waits for
the next check-in to set it again: never twice a day, never on another day. Right before it
is sent, `due` asks again, from the member's figures as they are then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from .checkins import NUDGE_MIN_STREAK, Checkins, effective_zone, nudge_at
from .errors import UserError
from .records import Reminder
from .schedule import parse_time
from .storage import Storage
from .streaks import last_day_alive
from .timezones import day_start, local_day

DEFAULT_TIME = time(20, 0)
EVERY_DAY = 127  # what the row keeps in `days` (its CHECK asks for a weekday set)
LEFT = "you left the server"


@dataclass(frozen=True, slots=True)
class NudgeText:
    """What a nudge DM says: the streak at stake and when it ends (unix time: midnight)."""

    streak: int
    ends_at: int


class Nudges:
    """Turns members' nudges on and off, keeps their due times, and decides at send time."""

    def __init__(self, storage: Storage, checkins: Checkins) -> None:
        self.storage = storage
        self.checkins = checkins

    @property
    def now(self) -> datetime:
        return self.checkins.clock.now()

    async def enable(self, guild_id: int, user_id: int, at: str | None = None) -> Reminder:
        """Turn the member's nudge on (again) at `at`, local (default 20:00)."""
        at_time = parse_time(at) if at is not None else DEFAULT_TIME
        club, member, state = await self.checkins.standing(guild_id, user_id)
        zone = effective_zone(member, club)
        draft = Reminder(
            id=0, guild_id=guild_id, kind="dm", channel_id=None, user_id=user_id,
            at=at_time.strftime("%H:%M"), days=EVERY_DAY, timezone=zone.key, role_id=None,
            routine=None, next_due=nudge_at(state, club.rest_days, zone, at_time, self.now),
            paused=None, fired=0, created_by=user_id, purpose="nudge",
        )
        return await self.storage.week.save_nudge(draft)

    async def disable(self, guild_id: int, user_id: int) -> None:
        if not await self.storage.week.drop_nudge(guild_id, user_id):
            raise UserError("Your nudge is already off. Turn it on with "
                            "`/remindme nudge enabled:True`.")

    async def get(self, guild_id: int, user_id: int) -> Reminder | None:
        """The member's nudge (also while it is switched off, with why)."""
        return await self.storage.week.nudge(guild_id, user_id)

    async def refresh(self, guild_id: int, user_id: int) -> None:
        """Set the member's nudge again from their figures (their zone changed)."""
        found = await self.storage.week.nudge(guild_id, user_id)
        if found is not None and found.paused is None:
            await self.enable(guild_id, user_id, found.at)

    async def member_left(self, guild_id: int, user_id: int) -> None:
        """A member who left the server is not nudged (turning it on again resumes it)."""
        found = await self.storage.week.nudge(guild_id, user_id)
        if found is not None and found.paused is None:
            await self.storage.schedule_reminder(found.id, None, LEFT)

    async def refresh_club(self, guild_id: int) -> int:
        """Set every nudge of the server again (its rest days or zone changed); how many."""
        dues: list[tuple[int, int | None]] = []
        for user_id, at in (await self.storage.week.nudge_times(guild_id)).items():
            club, member, state = await self.checkins.standing(guild_id, user_id)
            dues.append((user_id, nudge_at(state, club.rest_days, effective_zone(member, club),
                                           time.fromisoformat(at), self.now)))
        await self.storage.week.move_nudges(guild_id, dues)
        return len(dues)

    async def due(self, nudge: Reminder) -> NudgeText | None:
        """What the nudge says if it should go out now: today (the member's) is the last day
        their streak of 2 or more survives, and they have not checked in today. None when it
        should not (they checked in meanwhile, or their streak changed)."""
        assert nudge.user_id is not None
        club, member, state = await self.checkins.standing(nudge.guild_id, nudge.user_id)
        zone = effective_zone(member, club)
        today = local_day(self.now, zone)
        if (not member.exists or state.run < NUDGE_MIN_STREAK or state.last_day == today
                or last_day_alive(state, club.rest_days) != today):
            return None
        return NudgeText(state.run, int(day_start(today + timedelta(days=1), zone).timestamp()))
