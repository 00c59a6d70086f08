"""The weekly recap: what a club's last seven days looked like, posted at a local time.

The recap is a reminder row (purpose 'recap') on one weekday at one local time in the club's
zone, so it fires exactly once a week across restarts, DST and downtime, like every reminder.
It covers the seven whole local days before the day it is posted (posted on Monday: Monday to
Sunday), so no check-in falls between two recaps; its chart shows eight weeks up to that day.
Discord-free: the cog renders what `build` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .clock import Clock, SystemClock
from .errors import UserError
from .records import ClubHighlight, Reminder, RunEvent
from .reminders import Reminders, next_due, unix
from .schedule import days_to_mask, parse_time
from .storage import Storage
from .timezones import local_day

WEEK = 7
CHART_DAYS = 8 * WEEK
RUNS_AHEAD = timedelta(days=WEEK)


@dataclass(frozen=True, slots=True)
class Recap:
    """One week of a club, as the recap shows it. `daily` is the chart: check-ins per day for
    the `CHART_DAYS` days ending on `end`, oldest first."""

    guild_id: int
    zone: str
    start: date
    end: date
    checkins: int
    previous: int  # check-ins in the seven days before `start`
    members: int  # members who checked in from `start` to `end`
    present: int  # members in the server who have a streak record
    alive: int  # ... whose streak is alive when the recap is made
    top: list[tuple[int, int]]  # (user id, current streak), longest first
    milestones: list[ClubHighlight]  # the first few of the week's, by day
    comebacks: list[ClubHighlight]
    milestone_count: int  # all of the week's
    comeback_count: int
    runs: list[RunEvent]  # the club's runs in the next seven days (with /runs set up)
    daily: list[tuple[date, int]]

    @property
    def alive_share(self) -> float:
        return self.alive / self.present if self.present else 0.0


def recap_days(now: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last day a recap made at `now` covers: the seven days before today."""
    end = local_day(now, zone) - timedelta(days=1)
    return end - timedelta(days=WEEK - 1), end


class Recaps:
    """Sets up each server's weekly recap and builds it."""

    def __init__(self, storage: Storage, reminders: Reminders, clock: Clock | None = None
                 ) -> None:
        self.storage = storage
        self.reminders = reminders  # the scheduler that posts it: woken on changes
        self.clock = clock or SystemClock()

    async def setup(self, guild_id: int, channel_id: int, weekday: int, at: str, by: int
                    ) -> Reminder:
        """Post the recap in `channel_id` every `weekday` (Monday = 0) at `at`, in the club's
        zone. A second setup replaces the first."""
        if not 0 <= weekday <= 6:
            raise UserError("Pick a day of the week, e.g. Monday.")
        at_time = parse_time(at)
        zone = (await self.storage.club_settings(guild_id)).timezone or "UTC"
        draft = Reminder(
            id=0, guild_id=guild_id, kind="channel", channel_id=channel_id, user_id=None,
            at=at_time.strftime("%H:%M"), days=days_to_mask({weekday}), timezone=zone,
            role_id=None, routine=None, next_due=None, paused=None, fired=0, created_by=by,
            purpose="recap",
        )
        saved = await self.storage.week.save_recap(
            replace(draft, next_due=next_due(draft, self.clock.now())))
        self.reminders.wake()
        return saved

    async def off(self, guild_id: int) -> None:
        if not await self.storage.week.drop_recap(guild_id):
            raise UserError("This server has no weekly recap. Set one up with "
                            "`/club recap channel:#general day:Monday time:9:00`.")
        self.reminders.wake()

    async def get(self, guild_id: int) -> Reminder | None:
        return await self.storage.week.recap(guild_id)

    async def zone_changed(self, guild_id: int, zone: str) -> None:
        """The club moved to `zone`: its recap follows, at the same local time."""
        found = await self.storage.week.recap(guild_id)
        if found is None or found.timezone == zone:
            return
        moved = replace(found, timezone=zone)
        due = None if found.paused else next_due(moved, self.clock.now())
        await self.storage.week.save_recap(replace(moved, next_due=due))
        if found.paused:  # saving resumes it: keep it paused, with its reason
            await self.storage.schedule_reminder(found.id, None, found.paused)
        self.reminders.wake()

    async def build(self, guild_id: int, at: datetime | None = None) -> Recap:
        """The recap of the week before `at` (now, by default), streaks as they stand then."""
        at = at or self.clock.now()
        club = await self.storage.club_settings(guild_id)
        zone = ZoneInfo(club.timezone or "UTC")
        start, end = recap_days(at, zone)
        chart_start = end - timedelta(days=CHART_DAYS - 1)
        week = await self.storage.week.club_week(guild_id, chart_start, start, end, unix(at))
        daily = [(day, week.daily.get(day, 0)) for day in
                 (chart_start + timedelta(days=n) for n in range(CHART_DAYS))]
        this_week = sum(n for day, n in daily if day >= start)
        before = start - timedelta(days=WEEK)
        previous = sum(n for day, n in daily if before <= day < start)
        runs: list[RunEvent] = []
        if await self.storage.runs.settings(guild_id) is not None:
            soon = unix(at + RUNS_AHEAD)
            runs = [event for event, _, _ in await self.storage.runs.upcoming(guild_id)
                    if unix(at) < event.starts_at <= soon]
        return Recap(
            guild_id=guild_id, zone=zone.key, start=start, end=end, checkins=this_week,
            previous=previous, members=week.members, present=week.present, alive=week.alive,
            top=week.top, milestones=week.milestones, comebacks=week.comebacks,
            milestone_count=week.milestone_count, comeback_count=week.comeback_count,
            runs=runs, daily=daily,
        )
