"""What both backends read and write alike: the column lists of members and reminders, and
turning their rows into the domain's records (the SQL around them is each backend's own)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from stride.records import MemberRecord, Reminder
from stride.streaks import EMPTY, StreakState

# A member's row as `member_record` reads it, from `members AS m` (m.guild_id: NULL when the
# member has no row) keyed by `k.gid`, `k.uid`, with their nudge time while it is on.
MEMBER_COLUMNS = (
    "m.guild_id, m.timezone, m.rest_days, m.last_day, m.run, m.best, m.total, m.week_key, "
    "m.week_count, m.month_key, m.month_count, "
    "(SELECT n.at FROM reminders AS n WHERE n.guild_id = k.gid AND n.user_id = k.uid "
    "AND n.purpose = 'nudge' AND n.paused IS NULL)"
)

REMINDER_FIELDS = (
    "id", "guild_id", "kind", "channel_id", "user_id", "at", "days", "timezone", "role_id",
    "routine", "next_due", "paused", "fired", "created_by", "event_id", "starts_at",
    "purpose",
)
REMINDER_COLUMNS = ", ".join(REMINDER_FIELDS)
REMINDER_COLUMNS_R = ", ".join(f"r.{f}" for f in REMINDER_FIELDS)  # from `reminders AS r`
REMINDER_INSERTED = [f for f in REMINDER_FIELDS if f not in ("id", "fired")]  # the database's


def member_record(row: Sequence[Any]) -> MemberRecord:
    """The record of a row of MEMBER_COLUMNS (no row: the empty record)."""
    exists, timezone, rest_days, last_day, *figures, nudge = row
    if exists is None:
        return MemberRecord(EMPTY, nudge=nudge)
    run, best, total, week_key, week_count, month_key, month_count = figures
    state = StreakState(
        last_day=date.fromisoformat(last_day) if last_day else None, run=run, best=best,
        total=total, week_key=week_key, week_count=week_count, month_key=month_key,
        month_count=month_count,
    )
    return MemberRecord(state, timezone, rest_days, exists=True, nudge=nudge)


def iso(day: date | None) -> str | None:
    """A day as stored (YYYY-MM-DD text on both backends)."""
    return day.isoformat() if day else None


def reminder_values(r: Reminder) -> dict[str, object]:
    """A new reminder's columns by name (its id and firing count are the database's)."""
    return {f: getattr(r, f) for f in REMINDER_INSERTED}
