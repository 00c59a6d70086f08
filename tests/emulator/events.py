"""Guild scheduled events: the stored event, and what members of a server do with them.

An event is kept as Discord's GuildScheduledEventResponse (the External / Voice / Stage
variants of its OpenAPI description): every required key present, ``entity_metadata``
``{"location": ...}`` on external events and null on voice / stage ones, ``entity_id`` and
``image`` null, ``privacy_level`` 2 (GUILD_ONLY), ``guild_scheduled_event_exceptions``
``[]`` (exceptions are not modelled); ``user_count`` only where asked for.  Times are UTC,
rendered as Discord does (``2025-03-06T18:00:00+00:00``).

Statuses move as Discord documents: SCHEDULED -> ACTIVE or CANCELED, ACTIVE -> COMPLETED,
and a finished (completed or canceled) event no longer changes (180000).  Ending an
occurrence of a recurring event does not finish it: the event moves on to its next
occurrence (recurrence.py) and is SCHEDULED again.  Listings (REST and GUILD_CREATE) show
only SCHEDULED and ACTIVE events, and a server holds at most 100 of those (30038).

:class:`EventActions` is mixed into the emulator: the calls tests use to play the server's
members (create, edit, start, end, cancel, delete events; mark interest).
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import payloads as P
from . import recurrence as R
from .rest import ApiError

if TYPE_CHECKING:
    from .world import World

JSON = dict[str, Any]

STAGE_INSTANCE, VOICE, EXTERNAL = 1, 2, 3
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
GUILD_ONLY = 2
#: RSVP ``response`` of an interested user (GuildScheduledEventUserResponses).
INTERESTED = 1
#: Statuses that are listed (REST, GUILD_CREATE) and count towards the cap.
LISTED = (SCHEDULED, ACTIVE)
MAX_UNFINISHED_EVENTS = 100
#: Discord's valid status transitions.
TRANSITIONS = {SCHEDULED: (ACTIVE, CANCELED), ACTIVE: (COMPLETED,)}
STATUS_NAMES = {SCHEDULED: "SCHEDULED", ACTIVE: "ACTIVE", COMPLETED: "COMPLETED",
                CANCELED: "CANCELED"}
#: The entity type an event hosted in a channel of that type has.
ENTITY_OF_CHANNEL = {P.CHANNEL_TYPE_GUILD_VOICE: VOICE,
                     P.CHANNEL_TYPE_GUILD_STAGE_VOICE: STAGE_INSTANCE}
NAME_MAX, DESCRIPTION_MAX, LOCATION_MAX = 100, 1000, 100
#: What ``add_scheduled_event`` gives an external event that names no location / end.
DEFAULT_LOCATION = "Online"
DEFAULT_DURATION = dt.timedelta(hours=1)
EDITABLE = frozenset({"name", "start", "end", "location", "channel", "description", "recurrence"})

TOO_MANY_EVENTS = (400, 30038, "Maximum number of uncompleted guild scheduled events reached (100)")
FINISHED_EVENT = (400, 180000, "Cannot update a finished event")
UNKNOWN_EVENT = (404, 10070, "Unknown Guild Scheduled Event")
#: Gateway dispatches, sent only to sessions with the GUILD_SCHEDULED_EVENTS intent.
CREATE, UPDATE, DELETE = (f"GUILD_SCHEDULED_EVENT_{x}" for x in ("CREATE", "UPDATE", "DELETE"))
USER_ADD, USER_REMOVE = "GUILD_SCHEDULED_EVENT_USER_ADD", "GUILD_SCHEDULED_EVENT_USER_REMOVE"


@dataclass
class ScheduledEvent:
    """One event: its GuildScheduledEventResponse (without ``user_count``) and the ids of
    the users interested in it."""

    data: JSON
    interested: set[int] = field(default_factory=set)

    @classmethod
    def new(cls, event_id: int, guild_id: int, creator: JSON, fields: JSON) -> ScheduledEvent:
        """A SCHEDULED event from ``fields`` (the keys of :meth:`edit`; ``name`` and
        ``start`` required, ``channel`` None for an external event)."""
        event = cls({
            "id": str(event_id),
            "guild_id": str(guild_id),
            "channel_id": None,
            "creator_id": creator["id"],
            "name": "",
            "description": None,
            "scheduled_start_time": "",
            "scheduled_end_time": None,
            "privacy_level": GUILD_ONLY,
            "status": SCHEDULED,
            "entity_type": EXTERNAL,
            "entity_id": None,
            "entity_metadata": {"location": None},
            "image": None,
            "recurrence_rule": None,
            "guild_scheduled_event_exceptions": [],
            "creator": creator,
        })
        event.data = event._changed({"channel": None, **fields})
        return event

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def guild_id(self) -> int:
        return int(self.data["guild_id"])

    @property
    def status(self) -> int:
        return int(self.data["status"])

    @property
    def entity_type(self) -> int:
        return int(self.data["entity_type"])

    @property
    def channel_id(self) -> int | None:
        raw = self.data["channel_id"]
        return None if raw is None else int(raw)

    @property
    def creator_id(self) -> int | None:
        raw = self.data["creator_id"]
        return None if raw is None else int(raw)

    @property
    def start(self) -> dt.datetime:
        return R.utc(self.data["scheduled_start_time"])

    @property
    def end(self) -> dt.datetime | None:
        raw = self.data["scheduled_end_time"]
        return None if raw is None else R.utc(raw)

    @property
    def listed(self) -> bool:
        return self.status in LISTED

    @property
    def finished(self) -> bool:
        return self.status in (COMPLETED, CANCELED)

    def payload(self, *, with_user_count: bool = False) -> JSON:
        """A copy of the event as Discord sends it (``user_count`` only when asked for)."""
        out = copy.deepcopy(self.data)
        if with_user_count:
            out["user_count"] = len(self.interested)
        return out

    def edit(self, changes: JSON) -> None:
        """Apply ``name``, ``start``, ``end``, ``location``, ``channel`` (a voice or stage
        channel dict, or None for external), ``description``, ``recurrence`` (a rule or
        None) all at once, or raise ``ValueError`` and change nothing."""
        if self.finished:
            raise ValueError(FINISHED_EVENT[2])
        if "start" in changes and self.status == ACTIVE:
            raise ValueError("the start time of an ACTIVE event cannot change (Discord: "
                             "GUILD_SCHEDULED_EVENT_SCHEDULE_INVALID_START_BY_STATUS)")
        self.data = self._changed(changes)

    def _changed(self, changes: JSON) -> JSON:
        unknown = set(changes) - EDITABLE
        if unknown:
            raise TypeError(f"not an event field: {sorted(unknown)}")
        data = copy.deepcopy(self.data)
        if "channel" in changes:
            channel = changes["channel"]
            if channel is None:
                if data["entity_type"] != EXTERNAL:
                    data["entity_metadata"] = {"location": None}
                data.update(entity_type=EXTERNAL, channel_id=None)
            else:
                kind = ENTITY_OF_CHANNEL.get(channel["type"])
                if kind is None:
                    raise ValueError("events are hosted in voice (2) or stage (13) channels")
                data.update(entity_type=kind, channel_id=channel["id"], entity_metadata=None)
        if "location" in changes:
            if data["entity_type"] == EXTERNAL:
                data["entity_metadata"] = {"location": changes["location"]}
            elif changes["location"] is not None:
                raise ValueError("only external events have a location")
        for key, target in (("name", "name"), ("description", "description")):
            if key in changes:
                data[target] = changes[key]
        if "start" in changes:
            data["scheduled_start_time"] = R.iso(changes["start"])
        if "end" in changes:
            end = changes["end"]
            data["scheduled_end_time"] = None if end is None else R.iso(end)
        if "recurrence" in changes:
            rule = changes["recurrence"]
            start = R.utc(data["scheduled_start_time"])
            data["recurrence_rule"] = None if rule is None else R.normalise_rule(rule, start)
        _check(data)
        return data

    def check_status(self, status: int) -> None:
        """Raise ``ValueError`` unless Discord lets the event go to ``status`` now."""
        if self.finished:
            raise ValueError(FINISHED_EVENT[2])
        if status not in TRANSITIONS.get(self.status, ()):
            raise ValueError(f"a {STATUS_NAMES[self.status]} event cannot become "
                             f"{STATUS_NAMES.get(status, status)}")

    def set_status(self, status: int) -> None:
        """Move to ``status``; COMPLETED on a recurring event with occurrences left moves
        it to the next one instead (same duration, SCHEDULED)."""
        self.check_status(status)
        rule = self.data["recurrence_rule"]
        if status == COMPLETED and rule is not None:
            start, end = self.start, self.end
            following = R.next_occurrence(rule, start)
            if following is not None:
                self.data["scheduled_start_time"] = R.iso(following)
                if end is not None:
                    self.data["scheduled_end_time"] = R.iso(following + (end - start))
                self.data["status"] = SCHEDULED
                return
        self.data["status"] = status


def _check(data: JSON) -> None:
    """Discord's rules for a whole event (names and lengths as its docs give them)."""
    name = data["name"]
    if not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX:
        raise ValueError(f"an event name has 1-{NAME_MAX} characters")
    description = data["description"]
    if description is not None and not 1 <= len(description) <= DESCRIPTION_MAX:
        raise ValueError(f"an event description has 1-{DESCRIPTION_MAX} characters")
    start = R.utc(data["scheduled_start_time"])
    end = data["scheduled_end_time"]
    if end is not None and R.utc(end) <= start:
        raise ValueError("an event ends after it starts")
    if data["entity_type"] == EXTERNAL:
        location = (data["entity_metadata"] or {}).get("location")
        if not isinstance(location, str) or not 1 <= len(location) <= LOCATION_MAX:
            raise ValueError(f"an external event has a location of 1-{LOCATION_MAX} characters")
        if end is None:
            raise ValueError("an external event has an end time")


class EventActions:
    """Scheduled events as the server's members make them (mixed into the emulator).

    Every call dispatches its gateway event (to sessions with the GUILD_SCHEDULED_EVENTS
    intent whose shard covers the server) and returns the event as Discord sends it (a
    copy).  Events may be given as payload dicts, ids or discord.py objects; refused
    calls raise ``ValueError`` (or Discord's ``ApiError`` for the 100-event cap).
    """

    if TYPE_CHECKING:
        world: World
        ids: P.SnowflakeFactory

        def _emit(
            self, event: str, data: JSON, *, guild_id: int | None, intent: int | None
        ) -> None: ...

        def _user_of(self, who: Any) -> JSON: ...

    def scheduled_events(self, guild: Any) -> list[JSON]:
        """Every event of ``guild`` not deleted (finished ones too), oldest first, with
        ``user_count``."""
        events = self.world.guild(guild).scheduled_events.values()
        return [e.payload(with_user_count=True) for e in events]

    def add_scheduled_event(
        self,
        guild: Any,
        name: str,
        start: dt.datetime,
        *,
        end: dt.datetime | None = None,
        location: str | None = None,
        channel: Any = None,
        description: str | None = None,
        recurrence: JSON | None = None,
        creator: Any = None,
    ) -> JSON:
        """A member creates an event (GUILD_SCHEDULED_EVENT_CREATE).

        Without ``channel`` it is EXTERNAL, at ``location`` (default ``"Online"``) and
        ending at ``end`` (default ``start`` + 1 h: Discord requires an end there); in a
        voice or stage ``channel`` it is a VOICE / STAGE_INSTANCE event.  ``recurrence``
        is a recurrence rule (``start`` defaults to the event's; see recurrence.py for
        what is computed).  ``creator`` (member or user) defaults to the server's owner.
        Times must be timezone-aware.  A start in the past is allowed here (it is the
        world being built), unlike over REST.
        """
        gid = P.snowflake_of(guild)
        events = self.world.guilds[gid].scheduled_events
        if sum(e.listed for e in events.values()) >= MAX_UNFINISHED_EVENTS:
            raise ApiError(*TOO_MANY_EVENTS)
        when = R.utc(start)
        fields: JSON = {"name": name, "start": when, "description": description}
        if channel is None:
            fields["end"] = when + DEFAULT_DURATION if end is None else R.utc(end)
            fields["location"] = DEFAULT_LOCATION if location is None else location
        else:
            if location is not None:
                raise ValueError("only external events have a location")
            fields["channel"] = self._event_channel(gid, channel)
            fields["end"] = None if end is None else R.utc(end)
        if recurrence is not None:
            fields["recurrence"] = recurrence
        owner = self.world.users[self.world.guilds[gid].owner_id]
        who = owner if creator is None else self._user_of(creator)
        event = ScheduledEvent.new(self.ids.next(), gid, who, fields)
        events[event.id] = event
        self._emit_event(CREATE, event.payload(), gid)
        return event.payload()

    def update_scheduled_event(self, event: Any, **changes: Any) -> JSON:
        """Edit an event (GUILD_SCHEDULED_EVENT_UPDATE with the whole new event).

        Keys: ``name``, ``start``, ``end``, ``location``, ``channel`` (None: it becomes
        external; it then gets the default location and end unless they are given),
        ``description``, ``recurrence`` (None: no longer recurring) and ``status``
        (a valid transition; COMPLETED on a recurring event moves it on).
        """
        ev = self._scheduled_event(event)
        status = changes.pop("status", None)
        if status is not None:
            ev.check_status(status)
        for key in ("start", "end"):
            if changes.get(key) is not None:
                changes[key] = R.utc(changes[key])
        if changes.get("channel") is not None:
            changes["channel"] = self._event_channel(ev.guild_id, changes["channel"])
        elif "channel" in changes and ev.entity_type != EXTERNAL:
            changes.setdefault("location", DEFAULT_LOCATION)
            if changes.get("end", ev.end) is None:
                changes["end"] = changes.get("start", ev.start) + DEFAULT_DURATION
        if changes:
            ev.edit(changes)
        if status is not None:
            ev.set_status(status)
        self._emit_event(UPDATE, ev.payload(), ev.guild_id)
        return ev.payload()

    def start_scheduled_event(self, event: Any) -> JSON:
        """SCHEDULED -> ACTIVE (the event begins)."""
        return self.update_scheduled_event(event, status=ACTIVE)

    def complete_scheduled_event(self, event: Any) -> JSON:
        """ACTIVE -> COMPLETED (no longer listed); a recurring event with occurrences left
        moves to the next one and is SCHEDULED again."""
        return self.update_scheduled_event(event, status=COMPLETED)

    def cancel_scheduled_event(self, event: Any) -> JSON:
        """SCHEDULED -> CANCELED (no longer listed; GET of the event still answers)."""
        return self.update_scheduled_event(event, status=CANCELED)

    def delete_scheduled_event(self, event: Any) -> JSON:
        """The event is removed (GUILD_SCHEDULED_EVENT_DELETE, payload: the event); then
        404 10070."""
        ev = self._scheduled_event(event)
        del self.world.guilds[ev.guild_id].scheduled_events[ev.id]
        self._emit_event(DELETE, ev.payload(), ev.guild_id)
        return ev.payload()

    def add_event_interest(self, event: Any, member: Any) -> JSON:
        """A member marks the event "interested" (GUILD_SCHEDULED_EVENT_USER_ADD)."""
        ev, user_id = self._interest(event, member)
        if user_id in ev.interested:
            raise ValueError(f"user {user_id} is already interested in event {ev.id}")
        if ev.finished:
            raise ValueError("nobody can be interested in a finished event")
        ev.interested.add(user_id)
        self._emit_event(USER_ADD, _user_event(ev, user_id), ev.guild_id)
        return ev.payload(with_user_count=True)

    def remove_event_interest(self, event: Any, member: Any) -> JSON:
        """The member is no longer interested (GUILD_SCHEDULED_EVENT_USER_REMOVE)."""
        ev, user_id = self._interest(event, member)
        if user_id not in ev.interested:
            raise ValueError(f"user {user_id} is not interested in event {ev.id}")
        ev.interested.discard(user_id)
        self._emit_event(USER_REMOVE, _user_event(ev, user_id), ev.guild_id)
        return ev.payload(with_user_count=True)

    def _interest(self, event: Any, member: Any) -> tuple[ScheduledEvent, int]:
        ev = self._scheduled_event(event)
        user_id = int(self._user_of(member)["id"])
        if not self.world.guilds[ev.guild_id].has_member(user_id):
            raise ValueError(f"user {user_id} is not a member of guild {ev.guild_id}")
        return ev, user_id

    def _scheduled_event(self, event: Any) -> ScheduledEvent:
        event_id = P.snowflake_of(event)
        for guild in self.world.guilds.values():
            if event_id in guild.scheduled_events:
                return guild.scheduled_events[event_id]
        raise KeyError(f"no scheduled event {event_id}")

    def _event_channel(self, guild_id: int, channel: Any) -> JSON:
        channel_id = P.snowflake_of(channel)
        found = self.world.channels.get(channel_id)
        if found is None or self.world.channel_guild.get(channel_id) != guild_id:
            raise ValueError(f"channel {channel_id} is not a channel of guild {guild_id}")
        if found["type"] not in ENTITY_OF_CHANNEL:
            raise ValueError("events are hosted in voice (2) or stage (13) channels")
        return found

    def _emit_event(self, event: str, data: JSON, guild_id: int) -> None:
        self._emit(event, data, guild_id=guild_id, intent=P.INTENT_GUILD_SCHEDULED_EVENTS)


def _user_event(event: ScheduledEvent, user_id: int) -> JSON:
    """GUILD_SCHEDULED_EVENT_USER_ADD / _REMOVE data (Discord's gateway docs)."""
    return {
        "guild_scheduled_event_id": str(event.id),
        "user_id": str(user_id),
        "guild_id": str(event.guild_id),
    }
