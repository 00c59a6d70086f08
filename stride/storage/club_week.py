"""The club's week in the database: the weekly recap's reads and its reminder row, members'
nudge rows, and what a check-in writes beside its own row (highlights, the nudge's time).

One implementation for both backends, as `runs`: plain SQL with :named parameters, run
through the backend's `Query` and transactions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

from stride.records import HIGHLIGHTS, ClubHighlight, ClubWeek, Highlight, Reminder

from .rows import REMINDER_COLUMNS, REMINDER_INSERTED, iso, reminder_values
from .runs import Query, Transaction

TOP_STREAKS = 5
HIGHLIGHTS_READ = 10  # of each kind: the most a recap lists (it says how many more)

_UPSERT = (
    f"INSERT INTO reminders ({', '.join(REMINDER_INSERTED)}) "
    f"VALUES ({', '.join(f':{f}' for f in REMINDER_INSERTED)}) "
    "ON CONFLICT {target} DO UPDATE SET channel_id = excluded.channel_id, at = excluded.at, "
    "days = excluded.days, timezone = excluded.timezone, next_due = excluded.next_due, "
    "created_by = excluded.created_by, paused = NULL "
    f"RETURNING {REMINDER_COLUMNS}"
)
_SAVE_RECAP = _UPSERT.format(target="(guild_id) WHERE purpose = 'recap'")
_SAVE_NUDGE = _UPSERT.format(target="(guild_id, user_id) WHERE purpose = 'nudge'")
_RECAP = f"SELECT {REMINDER_COLUMNS} FROM reminders WHERE guild_id = :guild " \
         "AND purpose = 'recap'"
_NUDGE = f"SELECT {REMINDER_COLUMNS} FROM reminders WHERE guild_id = :guild " \
         "AND user_id = :user AND purpose = 'nudge'"
_MOVE_NUDGE = ("UPDATE reminders SET next_due = :due WHERE guild_id = :guild "
               "AND user_id = :user AND purpose = 'nudge' AND paused IS NULL")
_ADD_HIGHLIGHT = ("INSERT INTO highlights (guild_id, user_id, day, kind, value) "
                  "VALUES (:guild, :user, :day, :kind, :value) ON CONFLICT DO NOTHING")

_DAILY = ("SELECT day, checkins FROM club_days WHERE guild_id = :guild "
          "AND day BETWEEN :first AND :end AND checkins > 0")
_MEMBERS_IN = ("SELECT COUNT(DISTINCT user_id) FROM checkins WHERE guild_id = :guild "
               "AND day BETWEEN :start AND :end")
# Present members, and those whose streak is alive now: both counted in the streak board's
# index, which holds present and breaks_at.
_ALIVE = ("SELECT COUNT(*), COALESCE(SUM(CASE WHEN breaks_at > :now THEN 1 ELSE 0 END), 0) "
          "FROM members WHERE guild_id = :guild AND present = 1")
_TOP = ("SELECT user_id, run FROM members WHERE guild_id = :guild AND present = 1 "
        "AND breaks_at > :now AND run > 0 ORDER BY run DESC, user_id LIMIT :limit")
# The week's highlights of present members: milestones (the biggest first within a day) and
# comebacks (the longest away first), each read a few at a time, and counted.
_PRESENT_HIGHLIGHTS = (
    "FROM highlights AS h JOIN members AS m ON m.guild_id = h.guild_id "
    "AND m.user_id = h.user_id WHERE h.guild_id = :guild AND h.day BETWEEN :start AND :end "
    "AND m.present = 1 AND h.kind {kinds}"
)
_ROWS = ("SELECT h.user_id, h.day, h.kind, h.value {where} "
         "ORDER BY h.day, h.value DESC, h.kind, h.user_id LIMIT :limit")
_COUNT = "SELECT COUNT(*) {where}"
_MILESTONES = _PRESENT_HIGHLIGHTS.format(kinds="IN ('streak', 'total')")
_COMEBACKS = _PRESENT_HIGHLIGHTS.format(kinds="= 'back'")
_MILESTONE_ROWS, _MILESTONE_COUNT = (q.format(where=_MILESTONES) for q in (_ROWS, _COUNT))
_COMEBACK_ROWS, _COMEBACK_COUNT = (q.format(where=_COMEBACKS) for q in (_ROWS, _COUNT))


async def follow_checkin(
    query: Query, guild_id: int, user_id: int, day: date | None,
    highlights: Sequence[Highlight], nudge_due: int | None, move_nudge: bool,
) -> None:
    """Inside the check-in's (or undo's) transaction, after its member row: the highlights of
    `day`, and the member's nudge moved to `nudge_due` (when `move_nudge`: they have one)."""
    for h in highlights:
        await query(_ADD_HIGHLIGHT, {"guild": guild_id, "user": user_id, "day": iso(day),
                                     "kind": h.kind, "value": h.value})
    if move_nudge:
        await query(_MOVE_NUDGE, {"guild": guild_id, "user": user_id, "due": nudge_due})


class WeekStore:
    """The recap's and nudges' rows of one database."""

    def __init__(self, read: Query, transaction: Transaction) -> None:
        self._read = read
        self._transaction = transaction

    # --- the weekly recap ------------------------------------------------------------------

    async def recap(self, guild_id: int) -> Reminder | None:
        rows = await self._read(_RECAP, {"guild": guild_id})
        return Reminder(*rows[0]) if rows else None

    async def save_recap(self, recap: Reminder) -> Reminder:
        """Set up (or move) the server's one weekly recap; it is active again if it was
        paused."""
        return await self._save(_SAVE_RECAP, replace(recap, purpose="recap"))

    async def drop_recap(self, guild_id: int) -> bool:
        async with self._transaction() as q:
            rows = await q("DELETE FROM reminders WHERE guild_id = :guild "
                           "AND purpose = 'recap' RETURNING id", {"guild": guild_id})
        return bool(rows)

    async def club_week(self, guild_id: int, chart_start: date, start: date, end: date,
                        now: int) -> ClubWeek:
        """The server's figures for the recap of the days `start`..`end` (the chart's from
        `chart_start`), with streaks as they stand at `now` (unix time)."""
        week = {"guild": guild_id, "start": iso(start), "end": iso(end)}
        daily = await self._read(_DAILY, {**week, "first": iso(chart_start)})
        members = await self._read(_MEMBERS_IN, week)
        present, alive = (await self._read(_ALIVE, {"guild": guild_id, "now": now}))[0]
        top = await self._read(_TOP, {"guild": guild_id, "now": now, "limit": TOP_STREAKS})
        milestones, milestone_count = await self._highlights(_MILESTONE_ROWS,
                                                             _MILESTONE_COUNT, week)
        comebacks, comeback_count = await self._highlights(_COMEBACK_ROWS, _COMEBACK_COUNT,
                                                           week)
        return ClubWeek(
            daily={date.fromisoformat(day): int(n) for day, n in daily},
            members=int(members[0][0]), present=int(present), alive=int(alive),
            top=[(int(u), int(run)) for u, run in top],
            milestones=milestones, comebacks=comebacks, milestone_count=milestone_count,
            comeback_count=comeback_count,
        )

    async def _highlights(self, rows: str, count_sql: str, week: Mapping[str, object]
                          ) -> tuple[list[ClubHighlight], int]:
        """The first few of one kind of the week's highlights, and how many there are."""
        found = await self._read(rows, {**week, "limit": HIGHLIGHTS_READ})
        [(count,)] = await self._read(count_sql, week)
        return [ClubHighlight(int(u), date.fromisoformat(day), Highlight(kind, int(value)))
                for u, day, kind, value in found if kind in HIGHLIGHTS], int(count)

    # --- nudges ----------------------------------------------------------------------------

    async def nudge(self, guild_id: int, user_id: int) -> Reminder | None:
        """The member's nudge row (also while it is switched off, with the reason)."""
        rows = await self._read(_NUDGE, {"guild": guild_id, "user": user_id})
        return Reminder(*rows[0]) if rows else None

    async def save_nudge(self, nudge: Reminder) -> Reminder:
        return await self._save(_SAVE_NUDGE, replace(nudge, purpose="nudge"))

    async def drop_nudge(self, guild_id: int, user_id: int) -> bool:
        async with self._transaction() as q:
            rows = await q("DELETE FROM reminders WHERE guild_id = :guild AND user_id = :user "
                           "AND purpose = 'nudge' RETURNING id",
                           {"guild": guild_id, "user": user_id})
        return bool(rows)

    async def nudge_times(self, guild_id: int) -> dict[int, str]:
        """Members of the server whose nudge is on, and its time (HH:MM)."""
        return {int(u): at for u, at in await self._read(
            "SELECT user_id, at FROM reminders WHERE guild_id = :guild "
            "AND purpose = 'nudge' AND paused IS NULL", {"guild": guild_id})}

    async def move_nudges(self, guild_id: int, dues: Sequence[tuple[int, int | None]]) -> None:
        """Set members' nudges (user id, next due) in one transaction."""
        async with self._transaction() as q:
            for user_id, due in dues:
                await q(_MOVE_NUDGE, {"guild": guild_id, "user": user_id, "due": due})

    async def _save(self, sql: str, reminder: Reminder) -> Reminder:
        async with self._transaction() as q:
            rows = await q(sql, reminder_values(reminder))
        return Reminder(*rows[0])
