"""REST routes of guild scheduled events, as Discord's API v10 documents them.

The templates below are what ``RequestRecord.route`` holds and ``emu.route_limits`` is
keyed by (their buckets split by ``guild_id``, like Discord's).  Every route needs the bot
in the server (unknown server 404 10004, not in it 403 50001); an unknown event is 404
10070.  A voice / stage event in a channel the bot cannot view is left out of the list
and answers 403 50001 (Discord's "Get Permissions": VIEW_CHANNEL).

Writes follow Discord's permission table: creating needs CREATE_EVENTS (voice: also
VIEW_CHANNEL + CONNECT in the channel; stage: MANAGE_CHANNELS + MUTE_MEMBERS +
MOVE_MEMBERS), editing and deleting the bot's own event CREATE_EVENTS or MANAGE_EVENTS,
anyone else's MANAGE_EVENTS (403 50013).  Bodies are checked as the docs say (400 50035);
the error codes Discord does not document are this module's ``*_CODE`` guesses.
"""

from __future__ import annotations

import bisect
import datetime as dt
from typing import TYPE_CHECKING, Any

from . import events as E
from . import limits
from . import payloads as P
from . import recurrence as R
from .records import RequestRecord
from .rest import (
    HISTORY_LIMIT_MAX,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    SNOWFLAKE_RE,
    ApiError,
    Handler,
    Reply,
    _int,
    unknown,
)

if TYPE_CHECKING:
    from .emulator import DiscordEmulator
    from .world import Guild

JSON = dict[str, Any]

EVENTS = "/guilds/{guild_id}/scheduled-events"
EVENT = EVENTS + "/{guild_scheduled_event_id}"
EVENT_USERS = EVENT + "/users"
EVENT_USER_COUNTS = EVENT_USERS + "/counts"
LIST_EVENTS = "GET " + EVENTS
CREATE_EVENT = "POST " + EVENTS
GET_EVENT = "GET " + EVENT
EDIT_EVENT = "PATCH " + EVENT
DELETE_EVENT = "DELETE " + EVENT
LIST_EVENT_USERS = "GET " + EVENT_USERS
COUNT_EVENT_USERS = "GET " + EVENT_USER_COUNTS
USERS_LIMIT_DEFAULT = 100

# Codes of refusals Discord does not document (PAST and INVALID_START_BY_STATUS are seen
# in real answers; the others are guesses).
PAST_CODE = "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST"
ACTIVE_START_CODE = "GUILD_SCHEDULED_EVENT_SCHEDULE_INVALID_START_BY_STATUS"
END_CODE = "GUILD_SCHEDULED_EVENT_END_BEFORE_START"
CHANNEL_CODE = "GUILD_SCHEDULED_EVENT_INVALID_CHANNEL"
STATUS_CODE = "GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION"
BOOLEAN_CODE = "BOOLEAN_TYPE_CONVERT"
DATE_CODE = "DATE_TIME_TYPE_PARSE"
#: Discord's boolean query strings.
TRUE, FALSE = ("true", "1"), ("false", "0")


class EventRoutes:
    """Handlers of the routes above (registered on the emulator's RestApi)."""

    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.world = emu.world

    def table(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", EVENTS, self.list_events),
            ("POST", EVENTS, self.create_event),
            ("GET", EVENT, self.get_event),
            ("PATCH", EVENT, self.edit_event),
            ("DELETE", EVENT, self.delete_event),
            ("GET", EVENT_USERS, self.list_users),
            ("GET", EVENT_USER_COUNTS, self.count_users),
        ]

    # ------------------------------------------------------------------ plumbing
    def _refuse(self, record: RequestRecord, errors: limits.FormErrors) -> ApiError:
        return self.emu.rest._form_error(record, errors)

    @staticmethod
    def _bool(query: dict[str, str], key: str, errors: limits.FormErrors) -> bool:
        raw = query.get(key)
        if raw is None or raw.lower() in FALSE:
            return False
        if raw.lower() in TRUE:
            return True
        errors.add((key,), BOOLEAN_CODE, f'Value "{raw}" is not a valid boolean.')
        return False

    def _with_user_count(self, record: RequestRecord) -> bool:
        errors = limits.FormErrors()
        value = self._bool(record.query, "with_user_count", errors)
        if errors:
            raise self._refuse(record, errors)
        return value

    def _guild(self, p: dict[str, str]) -> Guild:
        guild: Guild = self.emu.rest._guild(p["guild_id"])
        return guild

    def _event(self, guild: Guild, p: dict[str, str]) -> E.ScheduledEvent:
        event = guild.scheduled_events.get(_int(p["guild_scheduled_event_id"]))
        if event is None:
            raise ApiError(*E.UNKNOWN_EVENT)
        if not self._visible(event):
            raise ApiError(*MISSING_ACCESS)
        return event

    def _visible(self, event: E.ScheduledEvent) -> bool:
        cid = event.channel_id
        if cid is None or cid not in self.world.channels:
            return True
        return bool(self.world.channel_permissions(cid, self.world.bot_id) & P.VIEW_CHANNEL)

    async def _dispatch(self, name: str, data: JSON, guild_id: int) -> None:
        await self.emu.gateway.dispatch(
            name, data, guild_id=guild_id, intent=P.INTENT_GUILD_SCHEDULED_EVENTS
        )

    # ------------------------------------------------------------------ reads
    async def list_events(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        """Only SCHEDULED and ACTIVE events (finished ones drop out of the list)."""
        with_count = self._with_user_count(record)
        guild = self._guild(p)
        return 200, [
            e.payload(with_user_count=with_count)
            for e in guild.scheduled_events.values()
            if e.listed and self._visible(e)
        ]

    async def get_event(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        """Any event not deleted, finished ones too."""
        with_count = self._with_user_count(record)
        event = self._event(self._guild(p), p)
        return 200, event.payload(with_user_count=with_count)

    async def list_users(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        """Interested users in ascending id order; ``before`` (which wins over ``after``)
        gives the ``limit`` users right below it, ``after`` those right above it."""
        q = record.query
        errors = limits.FormErrors()
        limit = USERS_LIMIT_DEFAULT
        if "limit" in q:
            limit = errors.query_int(("limit",), q["limit"], 1, HISTORY_LIMIT_MAX)
        with_member = self._bool(q, "with_member", errors)
        for key in ("before", "after"):
            if key in q and not SNOWFLAKE_RE.fullmatch(q[key]):
                errors.add((key,), "NUMBER_TYPE_COERCE", f'Value "{q[key]}" is not snowflake.')
        if errors:
            raise self._refuse(record, errors)
        guild = self._guild(p)
        event = self._event(guild, p)
        ids = sorted(event.interested)
        if "before" in q:
            stop = bisect.bisect_left(ids, int(q["before"]))
            page = ids[max(0, stop - limit) : stop]
        elif "after" in q:
            first = bisect.bisect_right(ids, int(q["after"]))
            page = ids[first : first + limit]
        else:
            page = ids[:limit]
        out = []
        for uid in page:
            item: JSON = {
                "guild_scheduled_event_id": str(event.id),
                "user_id": str(uid),
                "user": self.world.users[uid],
                "response": E.INTERESTED,
            }
            member = guild.members.get(uid)
            if with_member and member is not None:
                item["member"] = member
            out.append(item)
        return 200, out

    async def count_users(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        """ScheduledEventUserCountResponse (exceptions are not modelled: their map is
        empty)."""
        event = self._event(self._guild(p), p)
        return 200, {
            "guild_scheduled_event_count": len(event.interested),
            "guild_scheduled_event_exception_counts": {},
        }

    # ------------------------------------------------------------------ writes
    async def create_event(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        guild = self._guild(p)
        fields = self._fields(record, guild, None)
        self._require(guild, fields.get("channel"), None)
        if sum(e.listed for e in guild.scheduled_events.values()) >= E.MAX_UNFINISHED_EVENTS:
            raise ApiError(*E.TOO_MANY_EVENTS)
        event = E.ScheduledEvent.new(self.emu.ids.next(), guild.id, self.emu.bot_user, fields)
        guild.scheduled_events[event.id] = event
        await self._dispatch(E.CREATE, event.payload(), guild.id)
        return 200, event.payload()

    async def edit_event(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        """Partial update; ``status`` moves the event (COMPLETED on a recurring event goes
        on to its next occurrence), an unchanged ``status`` is accepted."""
        guild = self._guild(p)
        event = self._event(guild, p)
        if event.finished:
            raise ApiError(*E.FINISHED_EVENT)
        fields = self._fields(record, guild, event)
        status = fields.pop("status", None)
        channel = fields["channel"] if "channel" in fields else self._channel_of(event)
        self._require(guild, channel, event)
        if fields:
            event.edit(fields)
        if status is not None and status != event.status:
            event.set_status(status)
        await self._dispatch(E.UPDATE, event.payload(), guild.id)
        return 200, event.payload()

    async def delete_event(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        guild = self._guild(p)
        event = self._event(guild, p)
        self._require(guild, self._channel_of(event), event)
        del guild.scheduled_events[event.id]
        await self._dispatch(E.DELETE, event.payload(), guild.id)
        return 204, None

    def _channel_of(self, event: E.ScheduledEvent) -> JSON | None:
        cid = event.channel_id
        return None if cid is None else self.world.channels.get(cid)

    def _require(self, guild: Guild, channel: JSON | None, event: E.ScheduledEvent | None) -> None:
        """Discord's permission table for creating (``event`` None), editing, deleting."""
        bot = self.world.bot_id
        if event is None:
            needed = [P.CREATE_EVENTS]
        elif event.creator_id == bot:
            needed = [P.CREATE_EVENTS, P.MANAGE_EVENTS]  # either one
        else:
            needed = [P.MANAGE_EVENTS]
        if channel is None:
            have = self.world.base_permissions(guild.id, bot)
            extra = 0
        else:
            have = self.world.channel_permissions(int(channel["id"]), bot)
            if not have & P.VIEW_CHANNEL:
                raise ApiError(*MISSING_ACCESS)
            extra = (P.VIEW_CHANNEL | P.CONNECT if channel["type"] == P.CHANNEL_TYPE_GUILD_VOICE
                     else P.MANAGE_CHANNELS | P.MUTE_MEMBERS | P.MOVE_MEMBERS)
        if have & extra != extra or not any(have & bit for bit in needed):
            raise ApiError(*MISSING_PERMISSIONS)

    # ------------------------------------------------------------------ bodies
    def _fields(
        self, record: RequestRecord, guild: Guild, event: E.ScheduledEvent | None
    ) -> JSON:
        """The body of a create (``event`` None) or edit as :meth:`ScheduledEvent.edit`
        fields (+ ``status``), or 400 50035 with Discord's field errors."""
        body = self.emu.rest._body(record)
        errors = limits.FormErrors()
        creating = event is None
        fields: JSON = {}
        if "name" in body or creating:
            name = body.get("name")
            if not isinstance(name, str):
                errors.required(("name",))
            else:
                errors.bad_length(("name",), name, 1, E.NAME_MAX)
                fields["name"] = name
        if "description" in body:  # an empty description is none
            errors.max_length(("description",), body["description"], E.DESCRIPTION_MAX)
            fields["description"] = body["description"] or None
        if ("privacy_level" in body or creating) and body.get("privacy_level") != E.GUILD_ONLY:
            if body.get("privacy_level") is None and creating:
                errors.required(("privacy_level",))
            else:
                errors.add(("privacy_level",), "BASE_TYPE_CHOICES", "Value must be one of {2}.")
        self._times(body, errors, event, fields)
        self._entity(body, errors, guild, event, fields)
        if body.get("recurrence_rule") is not None:
            rule = body["recurrence_rule"]
            R.discord_rule_errors(rule, errors)
            if not errors:
                rule = {k: v for k, v in rule.items() if k in R.RULE_KEYS}
                try:
                    R.normalise_rule(rule, R.utc(rule["start"]))
                except (ValueError, TypeError) as exc:
                    errors.add(("recurrence_rule",), R.INVALID_RULE, str(exc))
            fields["recurrence"] = rule
        elif "recurrence_rule" in body:
            fields["recurrence"] = None
        if event is not None and body.get("status") is not None:
            status = body["status"]
            if status not in E.STATUS_NAMES:
                errors.add(("status",), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}.")
            elif status != event.status and status not in E.TRANSITIONS.get(event.status, ()):
                errors.add(("status",), STATUS_CODE, "Invalid status transition.")
            fields["status"] = status
        if errors:
            raise self._refuse(record, errors)
        return fields

    def _times(
        self, body: JSON, errors: limits.FormErrors, event: E.ScheduledEvent | None, fields: JSON
    ) -> None:
        for key, name in (("scheduled_start_time", "start"), ("scheduled_end_time", "end")):
            raw = body.get(key)
            if raw is None:
                if key == "scheduled_start_time" and event is None:
                    errors.required((key,))
                elif key in body and name == "end":
                    fields["end"] = None
                continue
            try:
                fields[name] = R.utc(raw)
            except (ValueError, TypeError):
                errors.add((key,), DATE_CODE, f'Could not parse "{raw}". Should be ISO8601.')
        if "start" in fields:
            if event is not None and event.status == E.ACTIVE:
                message = "Cannot change the start time of an active event."
                errors.add(("scheduled_start_time",), ACTIVE_START_CODE, message)
            elif fields["start"] < dt.datetime.fromtimestamp(self.emu.clock.time(), dt.UTC):
                message = "Cannot schedule event in the past."
                errors.add(("scheduled_start_time",), PAST_CODE, message)
        start = fields.get("start") or (event.start if event else None)
        end = fields.get("end", event.end if event else None)
        if start is not None and end is not None and end <= start:
            message = "Cannot schedule event to end before starting."
            errors.add(("scheduled_end_time",), END_CODE, message)

    def _entity(
        self,
        body: JSON,
        errors: limits.FormErrors,
        guild: Guild,
        event: E.ScheduledEvent | None,
        fields: JSON,
    ) -> None:
        """``entity_type``, ``channel_id`` and ``entity_metadata`` (Discord's field
        requirements by entity type; metadata of a voice / stage event is discarded)."""
        kind = body.get("entity_type")
        if kind is None:
            if event is None:
                errors.required(("entity_type",))
                return
            kind = event.entity_type
        elif kind not in (E.STAGE_INSTANCE, E.VOICE, E.EXTERNAL):
            errors.add(("entity_type",), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
            return
        changing = event is None or kind != event.entity_type
        if kind == E.EXTERNAL:
            if body.get("channel_id") is not None:
                errors.add(("channel_id",), CHANNEL_CODE, "External events have a null channel.")
            elif changing and event is not None and "channel_id" not in body:
                errors.required(("channel_id",))  # "required and must be set to null"
            if changing:
                fields["channel"] = None
            location = (body.get("entity_metadata") or {}).get("location")
            if location is not None:
                errors.bad_length(("entity_metadata", "location"), location, 1, E.LOCATION_MAX)
                fields["location"] = location
            elif changing:
                errors.required(("entity_metadata", "location"))
            if "end" in fields:
                end = fields["end"]
            else:
                end = None if changing or event is None else event.end
            if end is None:
                errors.required(("scheduled_end_time",))
            return
        raw = body.get("channel_id")
        if raw is None:
            if changing or "channel_id" in body:
                errors.required(("channel_id",))
            return
        if not SNOWFLAKE_RE.fullmatch(str(raw)):
            errors.add(("channel_id",), "NUMBER_TYPE_COERCE", f'Value "{raw}" is not snowflake.')
            return
        channel = guild.channels.get(int(raw))
        if channel is None:
            raise unknown("Channel")
        if E.ENTITY_OF_CHANNEL.get(channel["type"]) != kind:
            wanted = "stage" if kind == E.STAGE_INSTANCE else "voice"
            errors.add(("channel_id",), CHANNEL_CODE, f"Channel must be a {wanted} channel.")
            return
        fields["channel"] = channel
