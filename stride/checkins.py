"""Check-ins, streaks and boards: the rules, applied to what storage holds.

Discord-free; the clock is injected so day boundaries can be tested without waiting.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import milestones, streaks
from .clock import Clock, SystemClock
from .errors import UserError
from .records import (
    BOARDS,
    PERIODS,
    BoardSlice,
    CheckinRow,
    ClubSettings,
    Highlight,
    MemberRecord,
    MemberUpdate,
)
from .storage import Storage
from .streaks import Figures, StreakState
from .timezones import day_start, local_day, resolve_zone, wall_instant

PAGE_SIZE = 10
HEATMAP_WEEKS = 12
ATTEMPTS = 5  # optimistic writes retried this often when another write got there first
CLUB_KEPT = timedelta(minutes=1)  # how long boards reuse a club's settings
CLUBS_KEPT = 10_000  # clubs whose settings are kept (least recently used dropped)
NUDGE_MIN_STREAK = 2  # a streak of 0 or 1 is not worth a nudge


@dataclass(frozen=True, slots=True)
class CheckinResult:
    recorded: bool  # False: already checked in today
    day: date
    figures: Figures
    highlights: tuple[Highlight, ...] = ()  # milestones reached, or a comeback


@dataclass(frozen=True, slots=True)
class UndoResult:
    figures: Figures
    taken_back: tuple[Highlight, ...] = ()  # what the undone check-in had reached


@dataclass(frozen=True, slots=True)
class MemberView:
    """What /streak shows: figures, the member's zone and their recent check-in days."""

    figures: Figures
    zone: str
    today: date
    recent_days: list[date]
    rest_days: int


@dataclass(frozen=True, slots=True)
class BoardPage:
    board: str
    period: str
    page: int
    slice: BoardSlice

    @property
    def has_next(self) -> bool:
        return self.slice.has_more


def effective_zone(member: MemberRecord, club: ClubSettings) -> ZoneInfo:
    """The member's own zone, else the club's default, else UTC."""
    return ZoneInfo(member.timezone or club.timezone or "UTC")


def breaks_at(state: StreakState, rest_days: int, zone: ZoneInfo) -> int | None:
    """Unix time at which the member's current run lapses (the start of that local day)."""
    day = streaks.breaks_on(state, rest_days)
    return None if day is None else int(day_start(day, zone).timestamp())


def nudge_at(state: StreakState, rest_days: int, zone: ZoneInfo, at: time, now: datetime
             ) -> int | None:
    """Unix time of the member's nudge: `at` (local) on the last day their run survives, if
    the run is worth one (2 days or more) and that time is still to come; else None."""
    day = streaks.last_day_alive(state, rest_days)
    if day is None or state.run < NUDGE_MIN_STREAK:
        return None
    instant = wall_instant(day, at, zone)
    return int(instant.timestamp()) if instant > now else None


def nudge_time(member: MemberRecord) -> time | None:
    """The member's nudge time while their nudge is on."""
    return time.fromisoformat(member.nudge) if member.nudge else None


class Checkins:
    """Records check-ins and answers questions about streaks and boards."""

    def __init__(self, storage: Storage, clock: Clock | None = None) -> None:
        self.storage = storage
        self.clock = clock or SystemClock()
        # Club settings as boards read them: they change rarely, and only through this
        # process (a server's commands all arrive on its shard), which forgets its copy when
        # it changes them. Kept a minute at most, so a change made elsewhere (by hand in the
        # database) shows soon; it saves a board a round trip to PostgreSQL.
        self._clubs: OrderedDict[int, tuple[datetime, ClubSettings]] = OrderedDict()

    async def standing(self, guild_id: int, user_id: int
                       ) -> tuple[ClubSettings, MemberRecord, StreakState]:
        """The club's settings, the member, and their figures under the club's rule now."""
        return await self._current(guild_id, user_id)

    async def _current(
        self, guild_id: int, user_id: int,
        read: tuple[ClubSettings, MemberRecord] | None = None,
    ) -> tuple[ClubSettings, MemberRecord, StreakState]:
        """Settings, the member (as `read` already, if given), and their figures under the
        club's current rest-day rule."""
        club, member = read or await self.storage.member(guild_id, user_id)
        state = member.state
        if member.exists and member.rest_days not in (None, club.rest_days):
            days = await self.storage.checkin_days(guild_id, user_id)
            state = streaks.from_days(days, club.rest_days)
        return club, member, state

    async def check_in(self, guild_id: int, user_id: int, what: str | None = None) -> CheckinResult:
        """Record today's check-in (the member's local day), once per day."""
        for _ in range(ATTEMPTS):
            now = self.clock.now()
            club, member, state = await self._current(guild_id, user_id)
            zone = effective_zone(member, club)
            today = local_day(now, zone)
            new = streaks.add_day(state, today, club.rest_days)
            if new is None:
                return CheckinResult(False, today, streaks.figures(state, today, club.rest_days))
            reached = milestones.highlights(state, new)
            nudge = nudge_time(member)
            saved = await self.storage.save_member(
                guild_id, user_id,
                expected=member.state if member.exists else None,
                state=new, rest_days=club.rest_days,
                breaks_at=breaks_at(new, club.rest_days, zone),
                at=now.isoformat(timespec="seconds"), what=what, highlights=reached,
                nudge_due=nudge_at(new, club.rest_days, zone, nudge, now) if nudge else None,
                move_nudge=nudge is not None,
            )
            if saved:
                return CheckinResult(True, today, streaks.figures(new, today, club.rest_days),
                                     reached)
        raise UserError("Lots of check-ins at once! Please try again in a moment.")

    async def undo(self, guild_id: int, user_id: int) -> UndoResult:
        """Take back today's check-in, with what it had reached; UserError if there is none."""
        for _ in range(ATTEMPTS):
            now = self.clock.now()
            club, member = await self.storage.member(guild_id, user_id)
            zone = effective_zone(member, club)
            today = local_day(now, zone)
            if member.state.last_day != today:
                raise UserError("You haven't checked in today, so there is nothing to undo.")
            days = await self.storage.checkin_days(guild_id, user_id)
            state = streaks.undo_day(days, today, club.rest_days)
            nudge = nudge_time(member)
            saved = await self.storage.save_member(
                guild_id, user_id, expected=member.state, state=state,
                rest_days=club.rest_days, breaks_at=breaks_at(state, club.rest_days, zone),
                nudge_due=nudge_at(state, club.rest_days, zone, nudge, now) if nudge else None,
                move_nudge=nudge is not None,
            )
            if saved:  # the log's trigger took the day's highlights back with it
                redone = streaks.add_day(state, today, club.rest_days)
                return UndoResult(
                    streaks.figures(state, today, club.rest_days),
                    milestones.highlights(state, redone) if redone else (),
                )
        raise UserError("Lots of changes at once! Please try again in a moment.")

    async def member_view(self, guild_id: int, user_id: int) -> MemberView:
        now = self.clock.now()
        # The member's day is within a day of UTC's, whatever their zone: the days read with
        # the member (one round trip) start early enough for any zone's calendar.
        earliest = heatmap_start(now.astimezone(UTC).date() - timedelta(days=1))
        club, member, days = await self.storage.member_days(guild_id, user_id, earliest)
        club, member, state = await self._current(guild_id, user_id, (club, member))
        zone = effective_zone(member, club)
        today = local_day(now, zone)
        start = heatmap_start(today)
        recent = [day for day in days if day >= start]
        return MemberView(
            streaks.figures(state, today, club.rest_days), zone.key, today, recent,
            club.rest_days,
        )

    async def set_timezone(self, guild_id: int, user_id: int, name: str | None) -> str:
        """Set (or with None, clear) the member's own zone; returns the zone now in effect."""
        zone = resolve_zone(name) if name is not None else None
        club, _, state = await self._current(guild_id, user_id)
        key = zone.key if zone else None
        effective = ZoneInfo(key or club.timezone or "UTC")
        await self.storage.set_member_timezone(
            guild_id, user_id, key, breaks_at(state, club.rest_days, effective)
        )
        return effective.key

    async def member_left(self, guild_id: int, user_id: int) -> None:
        """Off the boards (their check-ins stay, and count again if they come back)."""
        await self.storage.set_present(guild_id, user_id, False)

    async def forget(self, guild_id: int, user_id: int) -> int:
        """Delete everything about the member in this server; returns check-ins removed."""
        return await self.storage.forget_member(guild_id, user_id)

    async def export(self, guild_id: int, user_id: int) -> tuple[str | None, list[CheckinRow]]:
        """The member's own zone (None: the club's) and every check-in, oldest first."""
        _, member = await self.storage.member(guild_id, user_id)
        return member.timezone, await self.storage.checkins(guild_id, user_id)

    async def _club_for_boards(self, guild_id: int) -> ClubSettings:
        now = self.clock.now()
        kept = self._clubs.get(guild_id)
        if kept is not None and now - kept[0] < CLUB_KEPT:
            self._clubs.move_to_end(guild_id)
            return kept[1]
        club = await self.storage.club_settings(guild_id)
        self._clubs[guild_id] = (now, club)
        self._clubs.move_to_end(guild_id)
        while len(self._clubs) > CLUBS_KEPT:
            self._clubs.popitem(last=False)
        return club

    async def club(self, guild_id: int) -> ClubSettings:
        return await self.storage.club_settings(guild_id)

    async def update_club(
        self, guild_id: int, *, timezone: str | None = None, rest_days: int | None = None
    ) -> ClubSettings:
        """Change the club's default zone and/or rest days; every member's figures follow."""
        if rest_days is not None and not 0 <= rest_days <= streaks.MAX_REST_DAYS:
            raise UserError(f"Rest days must be from 0 to {streaks.MAX_REST_DAYS}, e.g. 2.")
        zone = resolve_zone(timezone).key if timezone is not None else None
        old = await self.storage.club_settings(guild_id)
        new = ClubSettings(
            timezone=zone if zone is not None else old.timezone,
            rest_days=rest_days if rest_days is not None else old.rest_days,
        )
        await self.storage.save_club_settings(guild_id, new)
        self._clubs.pop(guild_id, None)  # after the write: a board read meanwhile kept the old
        if new != old:
            await self.recompute_club(guild_id, new)
        return new

    async def recompute_club(self, guild_id: int, club: ClubSettings) -> int:
        """Recompute every member's streak figures under `club`'s rule; returns rows changed."""
        zones = dict(await self.storage.members_of(guild_id))
        states: dict[int, StreakState] = {}
        async for user_id, day in self.storage.guild_days(guild_id):
            state = states.get(user_id, streaks.EMPTY)
            states[user_id] = streaks.add_day(state, day, club.rest_days) or state
        updates = [
            MemberUpdate(
                user_id, state,
                breaks_at(state, club.rest_days, ZoneInfo(zone or club.timezone or "UTC")),
                club.rest_days,
            )
            for user_id, zone in zones.items()
            for state in [states.get(user_id, streaks.EMPTY)]
        ]
        return await self.storage.rewrite_members(guild_id, updates)

    async def board(
        self, guild_id: int, user_id: int, board: str, period: str, page: int = 0
    ) -> BoardPage:
        """A page of a board (10 rows), with the caller's own rank."""
        if board not in BOARDS or period not in PERIODS:
            raise UserError("Pick a board (streak, best, checkins) and a period (week, month, all)")
        club = await self._club_for_boards(guild_id)
        now = self.clock.now()
        today = local_day(now, ZoneInfo(club.timezone or "UTC"))
        page = max(page, 0)
        found = await self.storage.board(
            guild_id, user_id, board, period, now=int(now.timestamp()),
            week=streaks.week_key(today), month=streaks.month_key(today),
            offset=page * PAGE_SIZE, limit=PAGE_SIZE,
        )
        return BoardPage(board, period, page, found)


def heatmap_start(today: date, weeks: int = HEATMAP_WEEKS) -> date:
    """The Monday `weeks - 1` weeks before the week holding `today`."""
    return today - timedelta(days=today.weekday(), weeks=weeks - 1)
