"""The domain's plain records: what the services hand to the cogs and store through the
storage package (no SQL, no Discord)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stride.streaks import DEFAULT_REST_DAYS, StreakState


@dataclass(frozen=True, slots=True)
class ClubSettings:
    timezone: str | None = None
    rest_days: int = DEFAULT_REST_DAYS


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A member's stored figures; `rest_days` is the rule they were computed with."""

    state: StreakState
    timezone: str | None = None
    rest_days: int | None = None
    exists: bool = False
    nudge: str | None = None  # the member's nudge time (HH:MM local) while their nudge is on


HIGHLIGHTS = ("streak", "total", "back")


@dataclass(frozen=True, slots=True)
class Highlight:
    """A moment of a check-in worth saying: a streak or total milestone reached (`value`), or
    a comeback after a broken streak ('back': `value` days since the previous check-in)."""

    kind: str
    value: int


@dataclass(frozen=True, slots=True)
class ClubHighlight:
    """A highlight of one member's check-in on `day`, as the weekly recap lists them."""

    user_id: int
    day: date
    highlight: Highlight


@dataclass(frozen=True, slots=True)
class ClubWeek:
    """What the weekly recap reads of a server: check-ins per day (days without any left
    out), members who checked in from `start` to `end`, present members and those whose
    streak is alive, the longest current streaks, and the week's milestones and comebacks
    (the first few of each, and how many in all)."""

    daily: dict[date, int]
    members: int
    present: int
    alive: int
    top: list[tuple[int, int]]  # (user id, current streak), longest first
    milestones: list[ClubHighlight]  # the first few of the week's, by day
    comebacks: list[ClubHighlight]
    milestone_count: int  # all of the week's (of present members)
    comeback_count: int


BOARDS = ("streak", "best", "checkins")  # what a leaderboard ranks by
PERIODS = ("week", "month", "all")  # over which time


@dataclass(frozen=True, slots=True)
class BoardRow:
    rank: int
    user_id: int
    value: int


@dataclass(frozen=True, slots=True)
class BoardSlice:
    """One page of a board, whether more follow, and the caller's place."""

    rows: list[BoardRow]
    has_more: bool
    my_value: int | None
    my_rank: int | None


@dataclass(frozen=True, slots=True)
class CheckinRow:
    day: date
    at: str
    what: str | None


@dataclass(frozen=True, slots=True)
class MemberUpdate:
    """Recomputed figures for one member. Its last day and total equal the stored ones unless
    the member checked in meanwhile, so they also guard against overwriting a newer row."""

    user_id: int
    state: StreakState
    breaks_at: int | None
    rest_days: int


@dataclass(frozen=True, slots=True)
class Reminder:
    """A scheduled reminder: a club's, in a channel (`kind` 'channel'), or a member's DM."""

    id: int
    guild_id: int
    kind: str
    channel_id: int | None
    user_id: int | None
    at: str  # HH:MM local
    days: int  # weekday bitmask, Monday = 1
    timezone: str | None
    role_id: int | None
    routine: str | None
    next_due: int | None  # unix time
    paused: str | None
    fired: int
    created_by: int
    event_id: int | None = None  # a run post: the Discord scheduled event it announces
    starts_at: int | None = None  # ... and the start (unix time) it announces
    purpose: str | None = None  # 'recap' (the weekly recap), 'nudge' (before a streak ends)

    @property
    def is_run(self) -> bool:
        return self.event_id is not None

    @property
    def one_off(self) -> bool:
        """Fires once per due time set from outside (a run's start, a streak's last day),
        not on a weekly schedule of its own."""
        return self.is_run or self.purpose == "nudge"


@dataclass(frozen=True, slots=True)
class Claim:
    """A firing recorded as due: send it (status 'claimed') or it was skipped. `attempted_at`
    is set when an earlier process may already have posted it (look before sending)."""

    reminder: Reminder
    due_at: int
    status: str
    attempted_at: int | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds claimed firings and until when (unix time). While the lease runs, other
    processes leave those firings alone; once it has run out (the holder died), one of them
    takes them over."""

    owner: str
    until: int


@dataclass(frozen=True, slots=True)
class ShardSet:
    """The gateway shards one process runs, out of `count` in all. Discord puts a server on
    shard (server id >> 22) % count."""

    ids: tuple[int, ...]
    count: int

    def owns(self, guild_id: int) -> bool:
        return (guild_id >> 22) % self.count in self.ids


SCHEDULED = 1  # a Discord scheduled event's status before it starts (2 active, 3 ended, 4 off)


@dataclass(frozen=True, slots=True)
class RunEvent:
    """A server's Discord scheduled event, as Stride needs it: its next (or only) start, and
    where it is (an external event's location, or a voice or stage channel)."""

    guild_id: int
    event_id: int
    name: str
    starts_at: int  # unix time
    status: int = SCHEDULED
    location: str | None = None
    channel_id: int | None = None
    recurring: bool = False


@dataclass(frozen=True, slots=True)
class RunSettings:
    """A server's /runs setup: posts in `channel_id`, `minutes` before each event whose name
    contains `match` (every event when None)."""

    guild_id: int
    channel_id: int
    minutes: int
    routine: str | None = None
    role_id: int | None = None
    match: str | None = None
    created_by: int = 0


@dataclass(frozen=True, slots=True)
class RunChanges:
    """What one look at a server's events changes: the events to keep (as now described),
    the events to forget (with their unsent posts), and the run posts to add or re-time."""

    keep: list[RunEvent]
    drop: list[int]
    posts: list[Reminder]

    def __bool__(self) -> bool:
        return bool(self.drop or self.posts)
