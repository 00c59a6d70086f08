"""Guild scheduled events in the emulator: shapes, gateway dispatches, REST routes.

Shapes are checked against the required fields of Discord's OpenAPI description (copied
here: the tests cannot read the spec).  REST is exercised raw (``api``) and through
discord.py's own http methods and models in-process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
from dateutil import rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.emulator import event_routes as ER
from tests.emulator import payloads as P
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.recurrence import (
    DAILY,
    MONTHLY,
    WEEKLY,
    YEARLY,
    next_occurrence,
    normalise_rule,
)
from tests.emulator.rest import ApiError

from .test_emulator import RawGateway, api, wait_until
from .testworld import TestWorld

JSON = dict[str, Any]

# --- from Discord's OpenAPI description (v10) -------------------------------------------
#: Required keys of External-, Voice- and StageScheduledEventResponse (the same list).
EVENT_REQUIRED = {
    "id", "guild_id", "name", "description", "channel_id", "creator_id", "image",
    "scheduled_start_time", "scheduled_end_time", "status", "entity_type", "entity_id",
    "recurrence_rule", "privacy_level", "guild_scheduled_event_exceptions", "entity_metadata",
}
EVENT_OPTIONAL = {"creator", "user_count", "user_rsvp"}
RULE_REQUIRED = {"start", "frequency", "interval", "by_weekday", "by_n_weekday", "by_month",
                 "by_month_day"}
RULE_OPTIONAL = {"end", "by_year_day", "count"}
EVENT_USER_REQUIRED = {"guild_scheduled_event_id", "user_id", "response"}
EVENT_USER_OPTIONAL = {"user", "member", "guild_scheduled_event_exception_id"}
MEMBER_REQUIRED = {"avatar", "banner", "communication_disabled_until", "flags", "joined_at",
                   "nick", "pending", "premium_since", "roles", "user", "mute", "deaf"}
CHANNEL_REQUIRED = {"id", "type", "flags", "guild_id", "name", "position"}
USER_COUNT_REQUIRED = {"guild_scheduled_event_count", "guild_scheduled_event_exception_counts"}

EVENT_INTENT = 1 << 16
THURSDAY_1800 = dt.datetime(2031, 3, 6, 18, 0, tzinfo=dt.UTC)  # a Thursday, weeks before DST
FIVE = ("GUILD_SCHEDULED_EVENT_CREATE", "GUILD_SCHEDULED_EVENT_UPDATE",
        "GUILD_SCHEDULED_EVENT_USER_ADD", "GUILD_SCHEDULED_EVENT_USER_REMOVE",
        "GUILD_SCHEDULED_EVENT_DELETE")


def _events_path(guild: JSON, *rest: Any) -> str:
    return "/".join([f"/guilds/{guild['id']}/scheduled-events", *map(str, rest)])


def _dispatches(session: Any) -> list[tuple[str, JSON]]:
    return [(frame["t"], frame["d"]) for _, frame in session.buffer]


def _check_event_shape(event: JSON, *, with_count: bool = False) -> None:
    assert EVENT_REQUIRED <= set(event) <= EVENT_REQUIRED | EVENT_OPTIONAL, set(event)
    assert ("user_count" in event) is with_count
    assert event["privacy_level"] == 2 and event["entity_id"] is None and event["image"] is None
    assert event["guild_scheduled_event_exceptions"] == []
    for key in ("scheduled_start_time", "scheduled_end_time"):
        if event[key] is not None:
            assert event[key].endswith("+00:00")
            dt.datetime.fromisoformat(event[key])
    if event["entity_type"] == 3:
        assert event["channel_id"] is None and set(event["entity_metadata"]) == {"location"}
        assert event["scheduled_end_time"] is not None
    else:
        assert event["channel_id"] is not None and event["entity_metadata"] is None
    rule = event["recurrence_rule"]
    if rule is not None:
        assert RULE_REQUIRED <= set(rule) <= RULE_REQUIRED | RULE_OPTIONAL
        assert isinstance(rule["interval"], int)


async def _session(http: aiohttp.ClientSession, emu: DiscordEmulator, intents: int,
                   shard: list[int] | None = None) -> tuple[RawGateway, JSON]:
    gw = RawGateway(http, emu, compress=False)
    await gw.connect()
    ready = await gw.identify(emu.token, intents=intents, shard=shard)
    assert ready["t"] == "READY"
    return gw, ready


# --------------------------------------------------------------------------- world and shapes
async def test_event_shapes_and_channel_types(emulator: DiscordEmulator, world: TestWorld):
    emu = emulator
    voice = emu.add_channel(world.guild, "Voice Run", type=2)
    stage = emu.add_channel(world.guild, "Town Hall", type=13)
    for channel, kind in ((voice, 2), (stage, 13)):
        assert set(channel) >= CHANNEL_REQUIRED and channel["type"] == kind
        status, _, fetched = await api(emu, "GET", f"/channels/{channel['id']}")
        assert (status, fetched["type"]) == (200, kind)
    assert "topic" not in voice and stage["topic"] is None
    with pytest.raises(ValueError):
        emu.add_channel(world.guild, "forum", type=15)

    external = emu.add_scheduled_event(world.guild, "Long run", THURSDAY_1800,
                                       location="Park gate", description="20 km")
    in_voice = emu.add_scheduled_event(world.guild, "Debrief", THURSDAY_1800, channel=voice,
                                       creator=world.admin)
    on_stage = emu.add_scheduled_event(
        world.guild, "AMA", THURSDAY_1800, channel=stage,
        recurrence={"frequency": WEEKLY, "by_weekday": [3]},
    )
    for event in (external, in_voice, on_stage):
        _check_event_shape(event)
        assert event["status"] == 1 and event["guild_id"] == world.guild["id"]
    assert (external["entity_type"], in_voice["entity_type"], on_stage["entity_type"]) == (3, 2, 1)
    assert external["entity_metadata"] == {"location": "Park gate"}
    assert external["scheduled_start_time"] == "2031-03-06T18:00:00+00:00"
    assert external["scheduled_end_time"] == "2031-03-06T19:00:00+00:00"  # default: 1 hour
    assert in_voice["channel_id"] == voice["id"] and in_voice["scheduled_end_time"] is None
    assert external["creator_id"] == world.guild["owner_id"] == external["creator"]["id"]
    assert in_voice["creator"] == world.admin["user"]
    assert on_stage["recurrence_rule"] == {
        "start": "2031-03-06T18:00:00+00:00", "end": None, "frequency": 2, "interval": 1,
        "by_weekday": [3], "by_n_weekday": None, "by_month": None, "by_month_day": None,
        "by_year_day": None, "count": None,
    }

    status, _, listed = await api(emu, "GET", _events_path(world.guild))
    assert status == 200 and listed == [external, in_voice, on_stage]
    status, _, counted = await api(emu, "GET", _events_path(world.guild) + "?with_user_count=true")
    assert [e["user_count"] for e in counted] == [0, 0, 0]
    for event in counted:
        _check_event_shape(event, with_count=True)
    status, _, one = await api(emu, "GET", _events_path(world.guild, in_voice["id"]))
    assert (status, one) == (200, in_voice)

    # a new session's GUILD_CREATE carries the events and the channel types
    async with aiohttp.ClientSession() as http:
        gw, _ = await _session(http, emu, 513)
        guild_create = (await gw.until("GUILD_CREATE"))["d"]
        await gw.close()
    assert guild_create["guild_scheduled_events"] == [external, in_voice, on_stage]
    types = {c["name"]: c["type"] for c in guild_create["channels"]}
    assert types == {"general": 0, "runs": 0, "Voice Run": 2, "Town Hall": 13}
    assert [r.route for r in emu.requests if "scheduled-events" in r.path] == [
        "GET /guilds/{guild_id}/scheduled-events",
        "GET /guilds/{guild_id}/scheduled-events",
        "GET /guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}",
    ]


async def test_world_calls_refuse_what_discord_refuses(emulator: DiscordEmulator,
                                                       world: TestWorld):
    emu = emulator
    voice = emu.add_channel(world.guild, "Voice", type=2)
    with pytest.raises(ValueError, match="time zone"):
        emu.add_scheduled_event(world.guild, "naive", dt.datetime(2031, 1, 1))
    with pytest.raises(ValueError, match="location"):
        emu.add_scheduled_event(world.guild, "x", THURSDAY_1800, channel=voice, location="here")
    with pytest.raises(ValueError, match="voice"):
        emu.add_scheduled_event(world.guild, "x", THURSDAY_1800, channel=world.channel)
    with pytest.raises(ValueError, match="name"):
        emu.add_scheduled_event(world.guild, "n" * 101, THURSDAY_1800)
    with pytest.raises(ValueError, match="ends after"):
        emu.add_scheduled_event(world.guild, "x", THURSDAY_1800, end=THURSDAY_1800)
    event = emu.add_scheduled_event(world.guild, "Run", THURSDAY_1800)
    with pytest.raises(ValueError, match="cannot become"):
        emu.complete_scheduled_event(event)  # Discord: only ACTIVE -> COMPLETED
    emu.start_scheduled_event(event)
    with pytest.raises(ValueError, match="cannot become"):
        emu.cancel_scheduled_event(event)  # Discord: only SCHEDULED -> CANCELED
    with pytest.raises(ValueError, match="ACTIVE"):
        emu.update_scheduled_event(event, start=THURSDAY_1800 + dt.timedelta(days=1))
    emu.complete_scheduled_event(event)
    with pytest.raises(ValueError, match="finished"):
        emu.update_scheduled_event(event, name="again")
    with pytest.raises(ValueError, match="finished"):
        emu.add_event_interest(event, world.member)
    stranger = emu.add_user("stranger")
    other = emu.add_scheduled_event(world.guild, "Other", THURSDAY_1800)
    with pytest.raises(ValueError, match="not a member"):
        emu.add_event_interest(other, stranger)
    emu.add_event_interest(other, world.member)
    with pytest.raises(ValueError, match="already"):
        emu.add_event_interest(other, world.member)

    # voice -> external takes the default location and end; back to voice drops them
    moved = emu.update_scheduled_event(other, channel=voice)
    assert (moved["entity_type"], moved["entity_metadata"]) == (2, None)
    back = emu.update_scheduled_event(other, channel=None)
    assert back["entity_type"] == 3 and back["entity_metadata"] == {"location": "Online"}
    assert back["channel_id"] is None and back["scheduled_end_time"] is not None
    assert emu.scheduled_events(world.guild)[1]["user_count"] == 1


# --------------------------------------------------------------------------- gateway
async def test_the_five_dispatches_need_the_intent(emulator: DiscordEmulator, world: TestWorld):
    emu = emulator
    async with aiohttp.ClientSession() as http:
        without, _ = await _session(http, emu, 513)
        with_it, _ = await _session(http, emu, 513 | EVENT_INTENT)
        plain, wanted = emu.gateway.session_list[-2:]
        event = emu.add_scheduled_event(world.guild, "Tempo", THURSDAY_1800)
        emu.update_scheduled_event(event, description="8 x 400 m")
        emu.add_event_interest(event, world.member)
        emu.remove_event_interest(event, world.member)
        emu.delete_scheduled_event(event)
        await emu.settle()
        await without.close()
        await with_it.close()
    assert [e for e, _ in _dispatches(plain) if e.startswith("GUILD_SCHEDULED")] == []
    got = [(e, d) for e, d in _dispatches(wanted) if e.startswith("GUILD_SCHEDULED")]
    assert [e for e, _ in got] == list(FIVE)
    user_event = {"guild_scheduled_event_id": event["id"], "user_id": world.member["user"]["id"],
                  "guild_id": world.guild["id"]}
    assert got[0][1] == event
    assert got[1][1] == {**event, "description": "8 x 400 m"}  # the whole new event
    assert got[2][1] == got[3][1] == user_event
    assert got[4][1] == {**event, "description": "8 x 400 m"}
    assert "user_count" not in got[0][1]


async def test_dispatches_go_to_the_guilds_shard(emulator: DiscordEmulator, world: TestWorld):
    emu = emulator
    first = world.guild
    second = emu.add_guild("Second Club", guild_id=int(first["id"]) + (1 << 22))
    shard_of = {int(g["id"]): (int(g["id"]) >> 22) % 2 for g in (first, second)}
    assert set(shard_of.values()) == {0, 1}
    async with aiohttp.ClientSession() as http:
        gateways = [(await _session(http, emu, 513 | EVENT_INTENT, [i, 2]))[0] for i in (0, 1)]
        sessions = emu.gateway.session_list[-2:]
        for guild in (first, second):
            emu.add_scheduled_event(guild, f"Run of {guild['name']}", THURSDAY_1800)
        await emu.settle()
        for gw in gateways:
            await gw.close()
    for shard_id, session in enumerate(sessions):
        got = [d for e, d in _dispatches(session) if e == "GUILD_SCHEDULED_EVENT_CREATE"]
        assert [shard_of[int(d["guild_id"])] for d in got] == [shard_id]


# --------------------------------------------------------------------------- REST reads
async def test_list_shows_scheduled_and_active_events_only(emulator: DiscordEmulator,
                                                          world: TestWorld):
    emu = emulator
    names = ("scheduled", "active", "completed", "canceled", "deleted")
    made = {n: emu.add_scheduled_event(world.guild, n, THURSDAY_1800) for n in names}
    emu.start_scheduled_event(made["active"])
    emu.start_scheduled_event(made["completed"])
    emu.complete_scheduled_event(made["completed"])
    emu.cancel_scheduled_event(made["canceled"])
    emu.delete_scheduled_event(made["deleted"])
    status, _, listed = await api(emu, "GET", _events_path(world.guild))
    assert status == 200 and [(e["name"], e["status"]) for e in listed] == [
        ("scheduled", 1), ("active", 2)]
    for name, status_value in (("completed", 3), ("canceled", 4)):
        status, _, one = await api(emu, "GET", _events_path(world.guild, made[name]["id"]))
        assert (status, one["status"]) == (200, status_value)  # still there, not listed
    status, _, body = await api(emu, "GET", _events_path(world.guild, made["deleted"]["id"]))
    assert (status, body) == (404, {"message": "Unknown Guild Scheduled Event", "code": 10070})
    assert [e["name"] for e in emu.scheduled_events(world.guild)] == list(names[:4])
    async with aiohttp.ClientSession() as http:
        gw, _ = await _session(http, emu, 513)
        guild_create = (await gw.until("GUILD_CREATE"))["d"]
        await gw.close()
    assert [e["name"] for e in guild_create["guild_scheduled_events"]] == ["scheduled", "active"]


async def test_event_users_page_like_discord(emulator: DiscordEmulator, world: TestWorld):
    emu = emulator
    event = emu.add_scheduled_event(world.guild, "Marathon", THURSDAY_1800)
    members = [emu.add_member(world.guild, f"runner{i}") for i in range(150)]
    for member in reversed(members):  # interest order does not matter: ids ascending
        emu.add_event_interest(event, member)
    leaver = members[5]
    emu.remove_member(world.guild, leaver)  # still interested, no longer a member
    ids = sorted(int(m["user"]["id"]) for m in members)
    path = _events_path(world.guild, event["id"], "users")

    async def page(query: str) -> list[int]:
        status, _, body = await api(emu, "GET", path + query)
        assert status == 200, body
        for item in body:
            assert EVENT_USER_REQUIRED <= set(item) <= EVENT_USER_REQUIRED | EVENT_USER_OPTIONAL
            assert item["guild_scheduled_event_id"] == event["id"] and item["response"] == 1
            assert item["user_id"] == item["user"]["id"]
        return [int(item["user"]["id"]) for item in body]

    assert await page("") == ids[:100]  # default limit 100, ascending
    assert await page(f"?after={ids[99]}") == ids[100:]
    assert await page(f"?limit=10&after={ids[20]}") == ids[21:31]
    assert await page(f"?limit=10&before={ids[20]}") == ids[10:20]  # right below it
    assert await page(f"?limit=10&before={ids[5]}") == ids[:5]
    assert await page(f"?limit=10&before={ids[50]}&after={ids[0]}") == ids[40:50]  # before wins
    assert await page("?after=0&limit=1") == ids[:1]
    status, _, with_member = await api(emu, "GET", path + "?with_member=true&limit=100")
    members_of = {int(i["user"]["id"]): i.get("member") for i in with_member}
    assert members_of[int(leaver["user"]["id"])] is None  # member data only "if it exists"
    others = [m for uid, m in members_of.items() if uid != int(leaver["user"]["id"])]
    assert all(m is not None and set(m) >= MEMBER_REQUIRED for m in others)
    status, _, plain = await api(emu, "GET", path + "?with_member=false")
    assert all("member" not in i for i in plain)
    status, _, counts = await api(emu, "GET", path + "/counts")
    assert status == 200 and set(counts) == USER_COUNT_REQUIRED
    assert counts["guild_scheduled_event_count"] == 150
    status, _, one = await api(emu, "GET", _events_path(world.guild, event["id"]) +
                               "?with_user_count=1")
    assert one["user_count"] == 150

    for query, field, code in (
        ("?limit=0", "limit", "NUMBER_TYPE_MIN"),
        ("?limit=101", "limit", "NUMBER_TYPE_MAX"),
        ("?limit=ten", "limit", "NUMBER_TYPE_COERCE"),
        ("?before=abc", "before", "NUMBER_TYPE_COERCE"),
        ("?after=-1", "after", "NUMBER_TYPE_COERCE"),
    ):
        status, _, body = await api(emu, "GET", path + query)
        assert (status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body")
        assert body["errors"][field]["_errors"][0]["code"] == code, query


async def test_read_errors(emulator: DiscordEmulator, world: TestWorld):
    emu = emulator
    event = emu.add_scheduled_event(world.guild, "Run", THURSDAY_1800)
    elsewhere = emu.add_guild("No Bot Club", with_bot=False)
    hidden_voice = emu.add_channel(world.guild, "Coaches", type=2)
    emu.set_permission_overwrite(hidden_voice, emu.world.bot_id, deny=P.VIEW_CHANNEL, kind=1)
    hidden = emu.add_scheduled_event(world.guild, "Coaches only", THURSDAY_1800,
                                     channel=hidden_voice)
    cases = [
        (_events_path({"id": "1234567890123456789"}), 404, 10004),
        (_events_path(elsewhere), 403, 50001),
        (_events_path(elsewhere, event["id"]), 403, 50001),
        (_events_path(world.guild, 1234567890123456789), 404, 10070),
        (_events_path(world.guild, 1234567890123456789, "users"), 404, 10070),
        (_events_path(world.guild, "not-an-id"), 400, 50035),
        (_events_path(world.guild) + "?with_user_count=maybe", 400, 50035),
        (_events_path(world.guild, hidden["id"]), 403, 50001),
        (_events_path(world.guild, hidden["id"], "users"), 403, 50001),
    ]
    for path, status, code in cases:
        got, _, body = await api(emu, "GET", path)
        assert (got, body["code"]) == (status, code), path
    status, _, listed = await api(emu, "GET", _events_path(world.guild))
    assert [e["name"] for e in listed] == ["Run"]  # no VIEW_CHANNEL: left out
    assert emu.unhandled == []


async def test_route_buckets_split_by_guild(emulator: DiscordEmulator, world: TestWorld):
    emu = emulator
    other = emu.add_guild("Other Club")
    emu.route_limits[ER.LIST_EVENTS] = (2, 30.0)
    for _ in range(2):
        status, _, _ = await api(emu, "GET", _events_path(world.guild))
        assert status == 200
    status, _, body = await api(emu, "GET", _events_path(world.guild))
    assert status == 429 and body["global"] is False
    status, _, _ = await api(emu, "GET", _events_path(other))
    assert status == 200  # its own bucket
    limited = [r for r in emu.requests if r.route == ER.LIST_EVENTS]
    assert limited[0].response_headers["X-RateLimit-Limit"] == "2"
    assert len({r.response_headers["X-RateLimit-Bucket"] for r in limited}) == 1


# --------------------------------------------------------------------------- the cap
async def test_a_server_holds_100_unfinished_events(emulator: DiscordEmulator, world: TestWorld):
    emu = emulator
    made = [emu.add_scheduled_event(world.guild, f"Run {i}", THURSDAY_1800) for i in range(100)]
    with pytest.raises(ApiError) as refused:
        emu.add_scheduled_event(world.guild, "Run 101", THURSDAY_1800)
    assert (refused.value.status, refused.value.code) == (400, 30038)
    assert refused.value.body()["message"] == (
        "Maximum number of uncompleted guild scheduled events reached (100)")
    assert len(emu.scheduled_events(world.guild)) == 100
    _grant(emu, world.guild, P.CREATE_EVENTS | P.MANAGE_EVENTS)
    body = _external_body("Run 101")
    status, _, answer = await api(emu, "POST", _events_path(world.guild), json=body)
    assert (status, answer["code"]) == (400, 30038)
    emu.cancel_scheduled_event(made[0])  # finished events do not count
    status, _, created = await api(emu, "POST", _events_path(world.guild), json=body)
    assert status == 200 and created["name"] == "Run 101"
    status, _, listed = await api(emu, "GET", _events_path(world.guild))
    assert len(listed) == 100


# --------------------------------------------------------------------------- recurrence
def test_weekly_recurrence_keeps_utc_across_dst(emulator: DiscordEmulator, world: TestWorld):
    """Discord evaluates rules in UTC from ``start``: 18:00 UTC stays 18:00 UTC although
    the US (9 March 2031) and the EU (30 March 2031) move their clocks."""
    emu = emulator
    event = emu.add_scheduled_event(
        world.guild, "Thursday run", THURSDAY_1800,
        end=THURSDAY_1800 + dt.timedelta(minutes=90),
        recurrence={"frequency": WEEKLY, "interval": 1, "by_weekday": [3]},
    )
    emu.add_event_interest(event, world.member)
    starts = []
    for _ in range(4):
        emu.start_scheduled_event(event)
        moved = emu.complete_scheduled_event(event)
        assert moved["status"] == 1  # SCHEDULED again, same event
        starts.append(moved["scheduled_start_time"])
        end = dt.datetime.fromisoformat(moved["scheduled_end_time"])
        assert end - dt.datetime.fromisoformat(moved["scheduled_start_time"]) == dt.timedelta(
            minutes=90)
    assert starts == ["2031-03-13T18:00:00+00:00", "2031-03-20T18:00:00+00:00",
                      "2031-03-27T18:00:00+00:00", "2031-04-03T18:00:00+00:00"]
    final = emu.scheduled_events(world.guild)[0]
    assert final["user_count"] == 1 and final["id"] == event["id"]
    assert final["recurrence_rule"]["start"] == "2031-03-06T18:00:00+00:00"  # not moved


def test_daily_and_other_rules(emulator: DiscordEmulator, world: TestWorld):
    emu = emulator
    every_third_day = emu.add_scheduled_event(
        world.guild, "Recovery", dt.datetime(2031, 10, 24, 6, 30, tzinfo=dt.UTC),
        recurrence={"frequency": DAILY, "interval": 3},
    )
    emu.start_scheduled_event(every_third_day)
    moved = emu.complete_scheduled_event(every_third_day)
    assert moved["scheduled_start_time"] == "2031-10-27T06:30:00+00:00"  # over EU's DST end

    def rule(**parts: Any) -> JSON:
        return {"start": "2031-01-31T07:00:00+00:00", "end": None, "interval": 1,
                "by_weekday": None, "by_n_weekday": None, "by_month": None,
                "by_month_day": None, "by_year_day": None, "count": None, **parts}

    def after(r: JSON, when: str) -> str | None:
        found = next_occurrence(r, dt.datetime.fromisoformat(when))
        return None if found is None else found.isoformat()

    weekdays = rule(frequency=DAILY, by_weekday=[0, 1, 2, 3, 4])  # 31 Jan 2031: a Friday
    assert after(weekdays, "2031-01-31T07:00:00+00:00") == "2031-02-03T07:00:00+00:00"
    fortnightly = rule(frequency=WEEKLY, interval=2, by_weekday=[2])  # weeks from Monday:
    assert after(fortnightly, "2031-01-31T07:00:00+00:00") == "2031-02-12T07:00:00+00:00"
    assert after(fortnightly, "2031-02-12T07:00:00+00:00") == "2031-02-26T07:00:00+00:00"
    fourth_wednesday = rule(frequency=MONTHLY, by_n_weekday=[{"n": 4, "day": 2}])
    assert after(fourth_wednesday, "2031-01-31T07:00:00+00:00") == "2031-02-26T07:00:00+00:00"
    monthly = rule(frequency=MONTHLY)  # the 31st: months without one are skipped
    assert after(monthly, "2031-01-31T07:00:00+00:00") == "2031-03-31T07:00:00+00:00"
    leap_day = rule(frequency=YEARLY, by_month=[2], by_month_day=[29])
    assert after(leap_day, "2031-01-31T07:00:00+00:00") == "2032-02-29T07:00:00+00:00"
    twice = rule(frequency=DAILY, count=2)
    assert after(twice, "2031-01-31T07:00:00+00:00") == "2031-02-01T07:00:00+00:00"
    assert after(twice, "2031-02-01T07:00:00+00:00") is None
    until = rule(frequency=DAILY, end="2031-02-02T07:00:00+00:00")
    assert after(until, "2031-02-02T07:00:00+00:00") is None
    never = rule(frequency=YEARLY, by_month=[2], by_month_day=[30])  # dateutil: no occurrence
    assert after(never, "2031-01-31T07:00:00+00:00") is None

    # the series is over: completing the last occurrence completes the event
    last = emu.add_scheduled_event(
        world.guild, "Two-day camp", dt.datetime(2031, 5, 1, 9, tzinfo=dt.UTC),
        recurrence={"frequency": DAILY, "count": 2})
    for expected in (1, 3):
        emu.start_scheduled_event(last)
        assert emu.complete_scheduled_event(last)["status"] == expected

    for unsupported in (
        {"frequency": DAILY, "by_year_day": [1]},
        {"frequency": MONTHLY, "by_n_weekday": [{"n": 5, "day": 0}]},
        {"frequency": MONTHLY, "by_weekday": [0]},
        {"frequency": WEEKLY, "by_month": [1]},
        {"frequency": YEARLY, "by_month_day": [-1]},
        {"frequency": 7},
        {"frequency": DAILY, "byweekday": [0]},
    ):
        with pytest.raises(ValueError):
            emu.add_scheduled_event(world.guild, "x", THURSDAY_1800, recurrence=unsupported)


@st.composite
def _rules(draw: st.DrawFn) -> JSON:
    """Rules the emulator computes, in the shapes Discord allows and a little beyond."""
    frequency = draw(st.sampled_from([DAILY, WEEKLY, MONTHLY, YEARLY]))
    rule: JSON = {"frequency": frequency, "interval": draw(st.integers(1, 3))}
    weekdays = st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True)
    if frequency in (DAILY, WEEKLY) and draw(st.booleans()):
        rule["by_weekday"] = draw(weekdays)
    if frequency == MONTHLY and draw(st.booleans()):
        rule["by_n_weekday"] = [{"n": draw(st.integers(1, 4)), "day": draw(st.integers(0, 6))}]
    if frequency == YEARLY:
        if draw(st.booleans()):
            rule["by_month"] = [draw(st.integers(1, 12))]
        if draw(st.booleans()):
            rule["by_month_day"] = [draw(st.integers(1, 31))]
    if draw(st.booleans()):
        rule["count"] = draw(st.integers(1, 30))
    return rule


@settings(max_examples=300, deadline=None)
@given(
    rule=_rules(),
    start=st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2033, 1, 1)),
    later=st.timedeltas(dt.timedelta(0), dt.timedelta(days=800)),
)
def test_recurrence_agrees_with_dateutil(rule: JSON, start: dt.datetime,
                                         later: dt.timedelta) -> None:
    """Discord says its rules are python-dateutil's rrule: the next occurrence the emulator
    computes is the one rrule gives (in UTC), count included."""
    start = start.replace(tzinfo=dt.UTC)
    normal = normalise_rule(rule, start)
    expected_rule = rrule.rrule(
        rule["frequency"], dtstart=start, interval=rule["interval"], count=rule.get("count"),
        byweekday=[rrule.weekday(d["day"], d["n"]) for d in rule["by_n_weekday"]]
        if "by_n_weekday" in rule else rule.get("by_weekday"),
        bymonth=rule.get("by_month"), bymonthday=rule.get("by_month_day"),
    )
    after = start + later
    assert next_occurrence(normal, after) == expected_rule.after(after)


# --------------------------------------------------------------------------- REST writes
def _grant(emu: DiscordEmulator, guild: JSON, permissions: int) -> None:
    """Add ``permissions`` to the bot's managed role."""
    gid = int(guild["id"])
    role = emu.world.role_by_name(gid, emu.bot_user["username"])
    role["permissions"] = str(int(role["permissions"]) | permissions)


def _external_body(name: str, **extra: Any) -> JSON:
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    return {"name": name, "privacy_level": 2, "entity_type": 3,
            "scheduled_start_time": start.isoformat(),
            "scheduled_end_time": (start + dt.timedelta(hours=1)).isoformat(),
            "entity_metadata": {"location": "Track"}, **extra}


async def test_rest_writes_follow_discords_rules(emulator: DiscordEmulator, world: TestWorld):
    emu = emulator
    path = _events_path(world.guild)
    status, _, body = await api(emu, "POST", path, json=_external_body("Intervals"))
    assert (status, body["code"]) == (403, 50013)  # no CREATE_EVENTS
    _grant(emu, world.guild, P.CREATE_EVENTS)
    past = _external_body("Late", scheduled_start_time="2020-01-01T10:00:00Z",
                          scheduled_end_time="2020-01-01T11:00:00Z")
    status, _, body = await api(emu, "POST", path, json=past)
    assert body["errors"]["scheduled_start_time"]["_errors"][0]["code"] == (
        "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST")
    missing = {"name": "", "entity_type": 3}
    status, _, body = await api(emu, "POST", path, json=missing)
    assert status == 400 and set(body["errors"]) == {
        "name", "privacy_level", "scheduled_start_time", "entity_metadata", "scheduled_end_time"}
    voice = emu.add_channel(world.guild, "Voice", type=2)
    wrong = _external_body("Voice run", entity_type=1, channel_id=voice["id"],
                           entity_metadata=None)
    status, _, body = await api(emu, "POST", path, json=wrong)
    assert body["errors"]["channel_id"]["_errors"][0]["message"] == (
        "Channel must be a stage channel.")
    weekly = {"start": _external_body("x")["scheduled_start_time"], "frequency": 2,
              "by_weekday": [0, 1]}
    status, _, body = await api(emu, "POST", path,
                                json=_external_body("Twice a week", recurrence_rule=weekly))
    assert status == 400 and "by_weekday" in body["errors"]["recurrence_rule"]

    status, _, created = await api(emu, "POST", path, json=_external_body("Intervals"))
    assert status == 200 and created["creator_id"] == str(emu.application_id)
    _check_event_shape(created)
    eid = created["id"]
    status, _, edited = await api(emu, "PATCH", _events_path(world.guild, eid),
                                  json={"description": "6 x 1 km", "status": 2})
    assert (status, edited["status"], edited["description"]) == (200, 2, "6 x 1 km")
    status, _, body = await api(emu, "PATCH", _events_path(world.guild, eid),
                                json={"scheduled_start_time": _external_body("x")[
                                    "scheduled_start_time"]})
    assert body["errors"]["scheduled_start_time"]["_errors"][0]["code"] == (
        "GUILD_SCHEDULED_EVENT_SCHEDULE_INVALID_START_BY_STATUS")
    status, _, body = await api(emu, "PATCH", _events_path(world.guild, eid), json={"status": 4})
    assert status == 400 and "status" in body["errors"]  # ACTIVE cannot be canceled
    status, _, done = await api(emu, "PATCH", _events_path(world.guild, eid), json={"status": 3})
    assert (status, done["status"]) == (200, 3)
    status, _, body = await api(emu, "PATCH", _events_path(world.guild, eid), json={"name": "x"})
    assert (status, body) == (400, {"message": "Cannot update a finished event", "code": 180000})

    # a voice event (VIEW_CHANNEL + CONNECT come from @everyone); a stage one needs more
    in_voice = _external_body("Voice run", entity_type=2, channel_id=voice["id"],
                              entity_metadata={"location": "discarded"})
    status, _, made = await api(emu, "POST", path, json=in_voice)
    assert (status, made["entity_type"], made["entity_metadata"]) == (200, 2, None)
    stage = emu.add_channel(world.guild, "Stage", type=13)
    status, _, body = await api(emu, "POST", path, json={**in_voice, "entity_type": 1,
                                                         "channel_id": stage["id"]})
    assert (status, body["code"]) == (403, 50013)  # MANAGE_CHANNELS, MUTE / MOVE_MEMBERS
    to_external = {"entity_type": 3, "entity_metadata": {"location": "Track"}}
    status, _, body = await api(emu, "PATCH", _events_path(world.guild, made["id"]),
                                json=to_external)
    assert status == 400 and set(body["errors"]) == {"channel_id", "scheduled_end_time"}
    end = _external_body("x")["scheduled_end_time"]
    status, _, moved = await api(emu, "PATCH", _events_path(world.guild, made["id"]),
                                 json={**to_external, "channel_id": None,
                                       "scheduled_end_time": end})
    assert status == 200 and (moved["entity_type"], moved["channel_id"]) == (3, None)
    assert moved["entity_metadata"] == {"location": "Track"}
    _check_event_shape(moved)

    # someone else's event needs MANAGE_EVENTS
    theirs = emu.add_scheduled_event(world.guild, "Coach's run", THURSDAY_1800)
    status, _, body = await api(emu, "DELETE", _events_path(world.guild, theirs["id"]))
    assert (status, body["code"]) == (403, 50013)
    _grant(emu, world.guild, P.MANAGE_EVENTS)
    status, _, body = await api(emu, "DELETE", _events_path(world.guild, theirs["id"]))
    assert (status, body) == (204, None)
    routes = {r.route for r in emu.requests if "scheduled-events" in r.path}
    assert routes == {ER.CREATE_EVENT, ER.EDIT_EVENT, ER.DELETE_EVENT}
    assert emu.unhandled == []


# --------------------------------------------------------------------------- discord.py
async def test_discord_py_reads_and_follows_events(emulator: DiscordEmulator, world: TestWorld,
                                                   dpy: discord.Client):
    emu = emulator
    gid = int(world.guild["id"])
    guild = dpy.get_guild(gid)
    assert guild is not None
    voice = emu.add_channel(world.guild, "Voice", type=2)
    stage = emu.add_channel(world.guild, "Stage", type=13)
    event = emu.add_scheduled_event(world.guild, "Hill repeats", THURSDAY_1800,
                                    location="The hill")
    in_voice = emu.add_scheduled_event(world.guild, "Chat", THURSDAY_1800, channel=voice)
    await wait_until(lambda: len(guild.scheduled_events) == 2)
    assert isinstance(guild.get_channel(int(voice["id"])), discord.VoiceChannel)
    assert isinstance(guild.get_channel(int(stage["id"])), discord.StageChannel)
    cached = guild.get_scheduled_event(int(event["id"]))
    assert cached is not None and cached.location == "The hill"
    assert cached.entity_type is discord.EntityType.external
    assert cached.start_time == THURSDAY_1800
    assert guild.get_scheduled_event(int(in_voice["id"])).channel_id == int(voice["id"])

    raw = await dpy.http.get_scheduled_events(gid, False)
    assert [e["id"] for e in raw] == [event["id"], in_voice["id"]]
    assert all("user_count" not in e for e in raw)
    counted = await dpy.http.get_scheduled_events(gid, True)
    assert [e["user_count"] for e in counted] == [0, 0]
    one = await dpy.http.get_scheduled_event(gid, int(event["id"]), True)
    assert one["name"] == "Hill repeats" and one["user_count"] == 0

    runners = [emu.add_member(world.guild, f"runner{i}") for i in range(5)]
    for member in (world.member, world.member2, *runners):
        emu.add_event_interest(event, member)
    ids = sorted(int(m["user"]["id"]) for m in (world.member, world.member2, *runners))
    users = await dpy.http.get_scheduled_event_users(gid, int(event["id"]), 100, False)
    assert [int(u["user"]["id"]) for u in users] == ids
    after = await dpy.http.get_scheduled_event_users(gid, int(event["id"]), 3, True,
                                                     after=ids[1])
    assert [int(u["user"]["id"]) for u in after] == ids[2:5] and all("member" in u for u in after)
    before = await dpy.http.get_scheduled_event_users(gid, int(event["id"]), 2, False,
                                                      before=ids[4])
    assert [int(u["user"]["id"]) for u in before] == ids[2:4]

    fetched = await guild.fetch_scheduled_events(with_counts=True)
    assert {e.id: e.user_count for e in fetched} == {int(event["id"]): 7, int(in_voice["id"]): 0}
    interested = {u.id async for u in fetched[0].users()}
    assert interested == set(ids)

    update = asyncio.ensure_future(dpy.wait_for("scheduled_event_update", timeout=5))
    await asyncio.sleep(0)
    emu.start_scheduled_event(event)
    old, new = await update
    assert (old.status, new.status) == (discord.EventStatus.scheduled, discord.EventStatus.active)
    emu.delete_scheduled_event(in_voice)
    await wait_until(lambda: guild.get_scheduled_event(int(in_voice["id"])) is None)
    with pytest.raises(discord.NotFound) as missing:
        await dpy.http.get_scheduled_event(gid, int(in_voice["id"]), False)
    assert missing.value.code == 10070

    # creating through discord.py's model
    _grant(emu, world.guild, P.CREATE_EVENTS)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    made = await guild.create_scheduled_event(
        name="Parkrun", start_time=start, end_time=start + dt.timedelta(hours=1),
        entity_type=discord.EntityType.external, location="Riverside",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    assert made.location == "Riverside" and made.creator_id == emu.application_id
    stored = emu.scheduled_events(world.guild)[-1]
    assert stored["name"] == "Parkrun" and stored["creator_id"] == str(emu.application_id)
    edited = await made.edit(description="5 km")
    assert edited.description == "5 km"
    await made.delete()
    assert [e["name"] for e in emu.scheduled_events(world.guild)] == ["Hill repeats"]
    assert emu.error_responses == [r for r in emu.error_responses if r.status == 404]
    assert emu.unhandled == []
