"""Property-based tests: every command's options, as Discord delivers them, with hostile values.

One real bot runs for the whole module (`stride_module`); Hypothesis drives many examples
through it. How: pytest-asyncio (1.x) runs a `@given` coroutine test by running each example's
coroutine to completion on the test's event loop, here the *module* loop that also serves the
emulator (`loop_scope="module"`). Between examples that loop is idle and Hypothesis draws the
next values synchronously; the bot subprocess just waits. Shrinking works as usual, and only
module-scoped fixtures are used, so no function-scoped fixture is reused across examples.

Each example checks: the member gets an answer within Discord's 3 s; a refusal is an
ephemeral "Hmm, that didn't work" with a hint that shows a good value, echoes nothing raw (no
live mention, no control or right-to-left characters, no markdown) and leaves the database
exactly as it was (compared row by row through a read-only connection); an accepted value is
stored as the rule says. No answer is ever the "unexpected error" text or a traceback, and at
the end every message the bot sent set allowed_mentions to ping no one, and its log has no
error.

Discord delivers string options of 1 to 6,000 characters (autocomplete: what was typed so
far), integers within +-2**53, only listed choices, and users, roles and channels as ids with
"resolved" data; the emulator builds exactly that from the synced commands.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from stride.catalog import load_catalog
from stride.errors import UserError
from stride.schedule import days_to_mask, parse_days, parse_time
from stride.timezones import resolve_zone
from tests.emulator.records import InteractionRecord

from .guards import (
    answer_of,
    assert_clean_text,
    assert_mentions_locked,
    assert_nobody_pinged,
    is_error,
    message_text,
)
from .stride import BOT, Stride

pytestmark = pytest.mark.asyncio(loop_scope="module")

CATALOG = load_catalog(Path(BOT).parent / "data" / "exercises.toml")
EXAMPLES = 50  # random examples per command, after the explicit hostile ones below
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # every run starts from the same explicit examples; no stored state
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example, HealthCheck.filter_too_much],
)
JSON = dict[str, Any]

# The hostile values, and a few more of each kind. Every property test runs all of
# these first (as explicit examples), then random ones.
HOSTILE = [
    "x" * 6000,
    "é" * 6000,
    "🏃‍♀️🔥" * 1000,
    "\x00",
    "\x00\x01\x07\x1b[31mred\x7f",
    "line\nbreak\r\ttab",
    "\u202eevil\u202c",
    "\u200f\u200eclams\u200f",
    "\u2066isolate\u2069 \ufeffbom \u200b\u200c\u200d",
    "💪",
    "👩🏽‍🦰 quick",
    "**bold** __under__ *it* ~~s~~ `code` ```block``` ||spoiler||",
    "> quote\n# heading\n-# small [link](https://evil.example)",
    "'; DROP TABLE members; --",
    "\" OR 1=1 --",
    "%' OR '1'='1",
    "\\",
    "%s%n{0}{}",
    "@everyone",
    "@here",
    "<@&123456789012345678>",
    "<@123456789012345678>",
    "<@!123456789012345678> hi",
    "<#123456789012345678>",
    "24:00",
    "-1:00",
    "6:61",
    "Mars/Olympus",
    "Europe/Berlin\u200f",
    "../../etc/passwd",
    "posix/Europe/Berlin",
    "localtime",
    " ",
    "null",
    "NaN",
    "9" * 40,
]
TIMES = ["24:00", "-1:00", "6:61", "25:00", "12:60", "0am", "13pm", "13:00pm", "6", "18",
         "630", "6:30:00", "+6:30", "6:30\u202e", "٦:٣٠", "６:３０", "6:3", "noon", "6.30",
         "18h30", "0630", "630pm", "12am", "12pm", "6:30 a.m."]
GOOD_TIMES = ["6:30", "06:30", "6:30am", "18:30", "noon", "1830", "6pm", "12am", "0:05"]
ZONES = sorted(available_timezones())
CLUB_ZONE_HINT = re.compile(r"Europe/Berlin|could mean several time zones")


def all_examples(name: str, values: Iterable[Any], **others: Any) -> Callable[[Any], Any]:
    """Run each of `values` as an explicit example of argument `name` (the test's other
    arguments fixed to `others`)."""
    def decorate(test: Any) -> Any:
        for value in reversed(list(values)):
            test = example(**others, **{name: value})(test)
        return test
    return decorate


def pick(*branches: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One of `branches`, each about equally often (st.one_of favours the richer ones)."""
    return st.integers(0, len(branches) - 1).flatmap(lambda i: branches[i])


def mostly(value: Any, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`value` two times in three, else a draw from `strategy`: where several options may
    each be wrong, this keeps enough accepted values in the mix."""
    return pick(st.just(value), st.just(value), strategy)


def discord_text(*good: str, max_size: int = 6000) -> st.SearchStrategy[str]:
    """A string option as Discord delivers it (1 to 6,000 characters), mostly hostile."""
    hostile = st.sampled_from([h for h in HOSTILE if len(h) <= max_size])
    parts = st.sampled_from([*HOSTILE[3:], *good]) if good else hostile
    return pick(
        hostile,
        st.sampled_from(good) if good else hostile,
        st.text(min_size=1, max_size=40),
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=max_size),
        st.builds(lambda a, b: (a + b)[:max_size], parts, parts),
    )


def clock_text() -> st.SearchStrategy[str]:
    """Times of day as people type them, right and wrong."""
    return st.builds(
        lambda h, sep, m, suffix: f"{h}{sep}{m}{suffix}",
        st.integers(-3, 30),
        st.sampled_from([":", ".", "h", "", " ", "::"]),
        st.sampled_from(["00", "05", "30", "59", "60", "61", "5", "075", "-1"]),
        st.sampled_from(["", "am", "pm", " PM", "a.m.", "p", "\u200f"]),
    )


def days_text() -> st.SearchStrategy[str]:
    token = st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday",
                             "weekdays", "weekends", "daily", "every day", "mon-fri",
                             "fri-mon", "tues", "thurs", "t", "s", "someday", "funday", "mo",
                             "su", "mon-tue-wed", "@everyone", "ß", "ﬁ"])
    joined = st.builds(lambda toks, sep: sep.join(toks), st.lists(token, min_size=1, max_size=5),
                       st.sampled_from([",", ", ", " ", "/", " and ", ";", "\n"]))
    return pick(joined, discord_text(max_size=200), st.sampled_from(HOSTILE))


def zone_text() -> st.SearchStrategy[str]:
    zone = st.sampled_from(ZONES)
    return pick(
        zone,
        zone.map(str.lower),
        zone.map(lambda z: z.replace("_", " ").replace("/", " / ")),
        zone.map(lambda z: z.rsplit("/", 1)[-1]),  # a city alone (some are ambiguous)
        zone.map(lambda z: z + "x"),
        discord_text("UTC", "Europe/Berlin", "eastern", "new york", "Etc/GMT+5", "GMT+25"),
    )


# --- running one interaction ---------------------------------------------------------------

async def answer(stride: Stride, name: str, options: JSON | None = None, *,
                 sub: str | None = None, member: JSON | None = None) -> tuple[
                     InteractionRecord, JSON]:
    """Run a command and return what the member finally sees (after a defer, the followup)."""
    emu, world = stride.emu, stride.world
    rec = await emu.slash(name, options, member=member or world.member, guild=world.guild,
                          channel=world.channel, subcommand=sub)
    await rec.wait_response()
    if rec.deferred:
        await rec.wait_message()
    shown = answer_of(rec)
    text = message_text(shown)
    assert "Traceback" not in text and "Something went wrong on our side" not in text, text
    if currently_in_test_context():  # counted in --hypothesis-show-statistics
        event(f"/{name}{' ' + sub if sub else ''}: {'refused' if is_error(shown) else 'done'}")
    return rec, shown


def assert_refused(rec: InteractionRecord, shown: JSON, hint: str | re.Pattern[str]) -> None:
    """A clear ephemeral refusal that shows a good value, echoing nothing raw."""
    assert rec.ephemeral, shown
    assert is_error(shown), shown
    text = shown["embeds"][0]["description"]
    assert (hint.search(text) if isinstance(hint, re.Pattern) else hint in text), (hint, text)
    assert_clean_text(text)


def ids(member: JSON) -> int:
    return int(member["user"]["id"])


def outcome(check: Callable[[], Any]) -> tuple[bool, Any]:
    """(True, value) if the domain rule accepts, (False, None) if it raises UserError."""
    try:
        return True, check()
    except UserError:
        return False, None


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def extras(stride_module: Stride) -> AsyncIterator[JSON]:
    """Beyond the test world: a second server (with a channel the bot can see), a user who is
    in neither, and the club's roles (Runners, @everyone) as option values."""
    emu, world = stride_module.emu, stride_module.world
    other = emu.add_guild("Other Club", channels=["elsewhere"], owner="other-owner")
    outsider = emu.add_user("outsider", global_name="@everyone <@&1>")
    await emu.settle()
    await asyncio.sleep(0.2)  # the bot takes in the new server
    yield {
        "other_channel": emu.world.channel_by_name(int(other["id"]), "elsewhere"),
        "outsider": outsider,
        "runners": world.role,
        "everyone_role": emu.world.guild(world.guild).roles[int(world.guild["id"])],
    }


# --- the library: /exercise, /routine, /exercises, /form, /help --------------------------

NAMES = [e.name for e in CATALOG.exercises] + ["clamshell", "rdl", "LUNGE MATRIX"]


@PROPERTY
@given(name=discord_text(*NAMES))
@all_examples("name", HOSTILE)
async def test_exercise_name(stride_module: Stride, name: str) -> None:
    before = stride_module.db.snapshot()
    rec, shown = await answer(stride_module, "exercise", {"name": name})
    expected = CATALOG.resolve(name)
    event(f"/exercise: {'found' if expected else 'not found'}")
    if expected is not None:
        assert not rec.ephemeral and shown["embeds"][0]["title"] == expected.name
    else:
        assert rec.ephemeral and shown["embeds"][0]["title"] == "Exercise not found", shown
        assert "Did you mean" in shown["embeds"][0]["description"]
        assert_clean_text(shown["embeds"][0]["description"])
        assert 1 <= len(shown["components"][0]["components"]) <= 3
    assert stride_module.db.snapshot() == before


ROUTINES = [r.name for r in CATALOG.routines] + [r.id for r in CATALOG.routines]


@PROPERTY
@given(name=discord_text(*ROUTINES))
@all_examples("name", HOSTILE)
async def test_routine_name(stride_module: Stride, name: str) -> None:
    before = stride_module.db.snapshot()
    rec, shown = await answer(stride_module, "routine", {"name": name})
    expected = CATALOG.routine(name)
    if expected is not None:
        assert shown["embeds"][0]["title"].startswith(expected.name)
    else:
        assert_refused(rec, shown, "`quick`")
    assert stride_module.db.snapshot() == before


async def test_every_choice_of_the_commands_without_free_text(stride_module: Stride) -> None:
    """/exercises, /form, /help, /leaderboard and /mydata export: Discord only delivers listed
    choices, so every one is tried; none stores anything."""
    before = stride_module.db.snapshot()
    runs: list[tuple[str, JSON | None, str | None]] = [("form", None, None),
                                                        ("help", None, None),
                                                        ("exercises", None, None),
                                                        ("mydata", None, "export")]
    runs += [("exercises", {"category": c}, None)
             for c in ("activation", "drill", "form", "strength")]
    for board in (None, "streak", "best", "checkins"):
        for period in (None, "week", "month", "all"):
            options = {k: v for k, v in (("board", board), ("period", period)) if v}
            runs.append(("leaderboard", options, None))
    for name, options, sub in runs:
        _rec, shown = await answer(stride_module, name, options, sub=sub)
        assert not is_error(shown), (name, options, shown)
    assert stride_module.db.snapshot() == before


# --- check-ins and streaks ----------------------------------------------------------------

@PROPERTY
@given(what=discord_text(*ROUTINES, *NAMES))
@all_examples("what", HOSTILE)
async def test_checkin_what(stride_module: Stride, what: str) -> None:
    db, world = stride_module.db, stride_module.world
    before = db.snapshot()
    rec, shown = await answer(stride_module, "checkin", {"what": what})
    routine = CATALOG.routine(what)
    exercise = None if routine else CATALOG.resolve(what)
    if routine is None and exercise is None:
        assert_refused(rec, shown, "leave `what` empty")
        assert db.snapshot() == before
        return
    expected = routine.id if routine else exercise.id  # type: ignore[union-attr]
    assert shown["embeds"][0]["title"].startswith("Checked in"), shown
    [(stored,)] = db.rows("SELECT what FROM checkins WHERE guild_id = ? AND user_id = ?",
                          (int(world.guild["id"]), ids(world.member)))
    assert stored == expected
    rec, shown = await answer(stride_module, "checkin", {"undo": True})
    assert shown["embeds"][0]["title"] == "Check-in taken back"
    assert db.rows("SELECT * FROM checkins") == []


async def test_streak_of_anyone(stride_module: Stride, extras: JSON) -> None:
    """/streak member: members, members with hostile names, and a user who is not in the
    server. Reading a streak never stores anything and never shows raw names."""
    emu, world = stride_module.emu, stride_module.world
    hostile_names = ["@everyone", "<@&123456789012345678>", "**bold**||x||", "\u202eevil",
                     "'; DROP TABLE members;--", "`code`"]
    odd = [emu.add_member(world.guild, f"odd{i}", global_name=n)
           for i, n in enumerate(hostile_names)]
    await emu.settle()
    for person in odd[::2]:  # some with a streak (their name is in the figures), some without
        _rec, shown = await answer(stride_module, "checkin", member=person)
        assert shown["embeds"][0]["title"].startswith("Checked in"), shown
    people = [world.member, world.member2, world.admin, extras["outsider"], *odd]
    before = stride_module.db.snapshot()
    for person in people:
        _rec, shown = await answer(stride_module, "streak", {"member": person})
        assert not is_error(shown), shown
        assert_clean_text(shown["embeds"][0]["title"] + shown["embeds"][0]["description"])
    assert stride_module.db.snapshot() == before


@PROPERTY
@given(zone=zone_text())
@all_examples("zone", HOSTILE)
async def test_timezone_zone(stride_module: Stride, zone: str) -> None:
    db, world = stride_module.db, stride_module.world
    before = db.snapshot()
    rec, shown = await answer(stride_module, "timezone", {"zone": zone})
    ok, resolved = outcome(lambda: resolve_zone(zone).key)
    if not ok:
        assert_refused(rec, shown, CLUB_ZONE_HINT)
        assert db.snapshot() == before
        return
    assert rec.ephemeral and f"**{resolved}**" in shown["content"]
    [(stored,)] = db.rows("SELECT timezone FROM members WHERE guild_id = ? AND user_id = ?",
                          (int(world.guild["id"]), ids(world.member)))
    assert stored == resolved


# --- admin: /club settings -----------------------------------------------------------------

@PROPERTY
@given(zone=mostly(None, zone_text()), rest_days=pick(st.none(), st.integers(-3, 12)))
@all_examples("zone", [*HOSTILE[:12], None], rest_days=None)
@all_examples("rest_days", [-1, 7, 2**53], zone=None)
async def test_club_settings(stride_module: Stride, zone: str | None, rest_days: int | None
                             ) -> None:
    db, world = stride_module.db, stride_module.world
    options = {k: v for k, v in (("timezone", zone), ("rest_days", rest_days)) if v is not None}
    before = db.snapshot()
    rec, shown = await answer(stride_module, "club", options, sub="settings", member=world.admin)
    zone_ok, resolved = (True, None) if zone is None else outcome(lambda: resolve_zone(zone).key)
    days_ok = rest_days is None or 0 <= rest_days <= 6
    if not (zone_ok and days_ok):
        hints = ([] if zone_ok else [CLUB_ZONE_HINT.pattern]) + ([] if days_ok else ["0 to 6"])
        assert_refused(rec, shown, re.compile("|".join(hints)))
        assert db.snapshot() == before
        return
    assert rec.ephemeral and not is_error(shown)
    if not options:
        assert db.snapshot() == before  # only shown
        return
    [(stored_zone, stored_days)] = db.rows(
        "SELECT timezone, rest_days FROM guild_settings WHERE guild_id = ?",
        (int(world.guild["id"]),))
    if resolved is not None:
        assert stored_zone == resolved
    if rest_days is not None:
        assert stored_days == rest_days


# --- reminders -------------------------------------------------------------------------------

def expected_reminder(time_text: str, days: str | None, zone: str | None
                      ) -> tuple[list[str], tuple[str, int, str | None] | None]:
    """The hints a refusal may show, or what must be stored: (at, days mask, zone)."""
    problems = []
    ok_time, at = outcome(lambda: parse_time(time_text))
    ok_days, chosen = outcome(lambda: parse_days(days))
    ok_zone, key = (True, None) if zone is None else outcome(lambda: resolve_zone(zone).key)
    if not ok_time:
        problems.append("Try 6:30, 06:30, 6:30am or 18:30")
    if not ok_days:
        problems.append("mon,wed,fri")
    if not ok_zone:
        problems.append("Europe/Berlin")
        problems.append("could mean several time zones")
    if problems:
        return problems, None
    assert isinstance(at, time)
    return [], (f"{at:%H:%M}", days_to_mask(chosen), key)


def simple_clock(text: str) -> tuple[int, int] | None:
    """An independent reading of plain 'H:MM' (no am/pm): (hour, minute) as typed."""
    match = re.fullmatch(r"(-?\d{1,2}):(\d{2})", text, re.ASCII)
    return (int(match[1]), int(match[2])) if match else None


@PROPERTY
@given(
    time_text=pick(st.sampled_from(GOOD_TIMES), clock_text(), st.sampled_from(TIMES),
                   discord_text()),
    days=mostly(None, days_text()),
    zone=mostly(None, zone_text()),
    channel=st.sampled_from(["general", "runs", "runs", "other"]),
    role=st.sampled_from([None, None, "Runners", "@everyone"]),
    routine=mostly(None, discord_text(*ROUTINES)),
)
@all_examples("time_text", [*TIMES, *HOSTILE], days=None, zone=None, channel="runs", role=None,
              routine=None)
@all_examples("days", HOSTILE, time_text="6:30", zone=None, channel="runs", role=None,
              routine=None)
@all_examples("zone", HOSTILE, time_text="6:30", days=None, channel="runs", role=None,
              routine=None)
@all_examples("routine", HOSTILE, time_text="6:30", days=None, zone=None, channel="runs",
              role=None)
@all_examples("channel", ["other"], time_text="6:30", days=None, zone=None, role=None,
              routine=None)
@all_examples("role", ["@everyone", "Runners"], time_text="6:30", days=None, zone=None,
              channel="runs", routine=None)
async def test_reminder_add(stride_module: Stride, extras: JSON, time_text: str,
                            days: str | None, zone: str | None, channel: str,
                            role: str | None, routine: str | None) -> None:
    db, world = stride_module.db, stride_module.world
    gid = int(world.guild["id"])
    channels = {"general": world.channel, "runs": world.runs_channel,
                "other": extras["other_channel"]}
    roles = {"Runners": extras["runners"], "@everyone": extras["everyone_role"]}
    options: JSON = {"channel": channels[channel], "time": time_text}
    for key, value in (("days", days), ("timezone", zone), ("routine", routine)):
        if value is not None:
            options[key] = value
    if role is not None:
        options["role"] = roles[role]
    before = db.snapshot()
    rec, shown = await answer(stride_module, "reminder", options, sub="add", member=world.admin)
    problems, stored = expected_reminder(time_text, days, zone)
    if channel == "other":
        problems.append("channel in this server")
    if role == "@everyone":
        problems.append("not the everyone role")
    routine_found = CATALOG.routine(routine) if routine is not None else None
    if routine is not None and routine_found is None:
        problems.append("`quick`")
    plain = simple_clock(time_text)
    if plain is not None:  # plain H:MM: accepted exactly when it is a real time of day
        time_ok = outcome(lambda: parse_time(time_text))[0]
        assert time_ok == (0 <= plain[0] <= 23 and 0 <= plain[1] <= 59), time_text
    if problems:
        assert rec.ephemeral and is_error(shown), (options, shown)
        text = shown["embeds"][0]["description"]
        assert any(p in text for p in problems), (problems, text)
        assert_clean_text(text)
        assert db.snapshot() == before
        return
    assert stored is not None and not is_error(shown), (options, shown)
    club_zone = db.rows("SELECT timezone FROM guild_settings WHERE guild_id = ?", (gid,))
    at, mask, key = stored
    rows = db.rows("SELECT id, channel_id, at, days, timezone, role_id, routine FROM "
                   "reminders WHERE guild_id = ? AND kind = 'channel'", (gid,))
    [(rid, channel_id, s_at, s_days, s_zone, s_role, s_routine)] = rows
    assert (channel_id, s_at, s_days) == (int(channels[channel]["id"]), at, mask)
    assert s_zone == (key or (club_zone[0][0] if club_zone and club_zone[0][0] else "UTC"))
    assert s_role == (int(roles[role]["id"]) if role else None)
    assert s_routine == (routine_found.id if routine_found else None)
    rec, shown = await answer(stride_module, "reminder", {"id": rid}, sub="remove",
                              member=world.admin)
    assert f"Reminder #{rid} deleted" in shown["content"]
    assert db.rows("SELECT * FROM reminders WHERE kind = 'channel'") == []


@PROPERTY
@given(action=st.sampled_from(["remove", "pause", "resume", "test"]),
       reminder_id=pick(st.integers(-(2**53), 2**53), st.integers(-2, 50),
                        st.sampled_from(["other", "dm"])))
@all_examples("reminder_id", ["other", "dm", 0, -1, 2**53, -(2**53)], action="remove")
@all_examples("reminder_id", ["other", "dm", 0, -1, 2**53, -(2**53)], action="pause")
@all_examples("reminder_id", ["other", "dm", 0, -1, 2**53, -(2**53)], action="resume")
@all_examples("reminder_id", ["other", "dm", 0, -1, 2**53, -(2**53)], action="test")
async def test_reminder_ids(stride_module: Stride, extras: JSON, action: str,
                            reminder_id: int | str) -> None:
    """Ids that are not a club reminder of this server: none, another server's, a member's
    DM reminder. Each is refused, listing this server's reminders, and nothing changes."""
    db, world = stride_module.db, stride_module.world
    if isinstance(reminder_id, str):
        reminder_id = await planted_reminder(stride_module, extras, reminder_id)
    before = db.snapshot()
    rec, shown = await answer(stride_module, "reminder", {"id": reminder_id}, sub=action,
                              member=world.admin)
    assert_refused(rec, shown, f"There is no reminder {reminder_id} in this server")
    assert db.snapshot() == before


PLANTED: dict[str, int] = {}


def later_today() -> str:
    """A time of day 12 hours away: a planted reminder never fires during the test."""
    return f"{datetime.now(UTC) + timedelta(hours=12):%H:%M}"


async def planted_reminder(stride: Stride, extras: JSON, kind: str) -> int:
    """A reminder that is not this server's club reminder: another server's channel reminder
    (made there by its owner), or alice's own DM reminder."""
    found = PLANTED.get(kind)
    if found is not None:
        return found
    emu, world = stride.emu, stride.world
    if kind == "other":
        other = emu.world.guild(int(extras["other_channel"]["guild_id"]))
        rec = await emu.slash("reminder", {"channel": extras["other_channel"],
                                           "time": later_today()},
                              subcommand="add", member=other.members[other.owner_id],
                              guild=other.id, channel=extras["other_channel"])
    else:
        rec = await emu.slash("remindme", {"time": later_today()}, subcommand="set",
                              member=world.admin, guild=world.guild, channel=world.channel)
    await rec.wait_response()
    assert not is_error(await rec.wait_message())
    [(rid,)] = stride.db.rows("SELECT MAX(id) FROM reminders")
    PLANTED[kind] = rid
    return rid


DM_MEMBERS: list[JSON] = []


@pytest.fixture(scope="module", autouse=True)
def fresh_caches(stride_module: Stride) -> None:
    """Each backend's half of the module runs in a world of its own: forget the reminders
    and members made in the other's."""
    del stride_module
    PLANTED.clear()
    DM_MEMBERS.clear()


async def next_dm_member(stride: Stride) -> JSON:
    """One of 30 members in turn: the bot paces posts to one DM channel (5 per 5 s), which
    would make this test wait, not fail."""
    if not DM_MEMBERS:
        DM_MEMBERS.extend(stride.emu.add_member(stride.world.guild, f"dm{i}") for i in range(30))
        await stride.emu.settle()
    DM_MEMBERS.append(DM_MEMBERS.pop(0))
    return DM_MEMBERS[-1]


@PROPERTY
@given(time_text=pick(st.sampled_from(GOOD_TIMES), clock_text(), st.sampled_from(TIMES),
                     discord_text()),
       days=mostly(None, days_text()))
@all_examples("time_text", [*TIMES, *HOSTILE], days=None)
@all_examples("days", HOSTILE, time_text="7:15")
async def test_remindme_set(stride_module: Stride, time_text: str, days: str | None) -> None:
    db = stride_module.db
    member = await next_dm_member(stride_module)
    options = {"time": time_text} if days is None else {"time": time_text, "days": days}
    before = db.snapshot()
    rec, shown = await answer(stride_module, "remindme", options, sub="set", member=member)
    problems, stored = expected_reminder(time_text, days, None)
    if problems:
        assert_refused(rec, shown, re.compile("|".join(map(re.escape, problems))))
        assert db.snapshot() == before
        return
    assert stored is not None and not is_error(shown), shown
    rows = db.rows("SELECT at, days FROM reminders WHERE kind = 'dm' AND user_id = ?",
                   (ids(member),))
    assert rows == [stored[:2]]
    rec, shown = await answer(stride_module, "remindme", sub="off", member=member)
    assert "off" in shown["content"]


# --- autocomplete ---------------------------------------------------------------------------

AUTOCOMPLETE = [
    ("exercise", None, "name", {}),
    ("routine", None, "name", {}),
    ("checkin", None, "what", {}),
    ("timezone", None, "zone", {}),
    ("club", "settings", "timezone", {}),
    ("reminder", "add", "timezone", {"time": "6:30"}),
    ("reminder", "add", "routine", {"time": "6:30"}),
]


@PROPERTY
@given(where=st.sampled_from(AUTOCOMPLETE), typed=pick(st.just(""), discord_text()))
@all_examples("where", AUTOCOMPLETE, typed="")
@all_examples("typed", HOSTILE, where=AUTOCOMPLETE[0])
@all_examples("typed", HOSTILE, where=AUTOCOMPLETE[2])
@all_examples("typed", HOSTILE, where=AUTOCOMPLETE[3])
@all_examples("typed", HOSTILE, where=AUTOCOMPLETE[6])
async def test_autocomplete(stride_module: Stride, where: tuple[str, str | None, str, JSON],
                            typed: str) -> None:
    """Whatever is typed, every autocomplete answers in time with at most 25 valid choices
    (the emulator checks names 1-100 and values up to 100 characters) and stores nothing."""
    db, emu, world = stride_module.db, stride_module.emu, stride_module.world
    name, sub, focused, others = where
    before = db.snapshot()
    member = world.admin if name in ("club", "reminder") else world.member
    rec = await emu.autocomplete(name, {**others, focused: typed}, focused, subcommand=sub,
                                 member=member, guild=world.guild, channel=world.channel)
    await rec.wait_response()
    assert rec.choices is not None and len(rec.choices) <= 25
    event(f"autocomplete {name} {focused}: {'some' if rec.choices else 'no'} choices")
    assert db.snapshot() == before


async def test_each_was_answered_safely(stride_module: Stride) -> None:
    """After all of the above: every message the bot sent pinged no one, none broke a
    Discord limit, every interaction was answered in time, and the log has no error."""
    emu = stride_module.emu
    assert assert_mentions_locked(emu) > 300
    assert_nobody_pinged(emu)
    assert emu.limit_violations == []
    late = [r for r in emu.interactions.values() if r.response is None or r.late_by]
    assert late == []
    output = stride_module.proc.output()
    assert "Traceback" not in output and "ERROR" not in output, output[-5000:]
