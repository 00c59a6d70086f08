"""The weekly recap through the real bot: /club recap setup, off and preview, the post at the
club's local time on its weekday, its figures for a known week, its chart, exactly once
across DST, downtime and kill -9, and that it pings nobody.

Every recap here is due at a chosen instant (9:00 local on a weekday, days or months ahead).
The bot is started with its wall clock just before it (`boot`: Discord's clock is moved on
as far with `emu.advance`, and the process runs that far ahead with `clock_offset`), so the
post comes within seconds. A check-in history is seeded before, through the real check-in
code (`Checkins` on the test's database with a manual clock: the same rows, milestones and
day counts the bot writes), plus check-ins through the bot's own /checkin.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from stride.checkins import Checkins
from stride.clock import ManualClock
from tests.emulator import payloads as P
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import BotProcess
from tests.emulator.records import InteractionRecord

from .conftest import StartBot
from .databases import TestDatabase
from .guards import assert_clean_text, assert_mentions_locked, assert_nobody_pinged
from .stride import BOT, JSON, Stride, bot_env, buttons, embed_of, eventually, field, text_of
from .testworld import TestWorld

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
DISCORD_EPOCH_MS = 1420070400000
MONDAY = 0
EARLY = 3.0  # seconds before the due time that the bot that posts it is started
POSTED_WITHIN = 10.0  # seconds after the due time that a post counts as on time
HOSTILE = "@everyone **x** <@&1> __y__ @here"
TITLE = "The club's week · "


# --- time ------------------------------------------------------------------------------------

def next_local(weekday: int, at: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first instant after `after` at which it is `at` on a `weekday` in `zone` (UTC)."""
    day = after.astimezone(zone).date()
    while True:
        instant = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if day.weekday() == weekday and instant > after:
            return instant
        day += timedelta(days=1)


def local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def clock_change(zone: ZoneInfo, after: datetime, *, forward: bool) -> date:
    """The first day after `after` on which `zone`'s clocks go forward (a 23-hour day), or
    back (25 hours)."""
    day = after.astimezone(zone).date() + timedelta(days=1)
    while True:
        start = datetime.combine(day, time(0), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        length = end.astimezone(UTC) - start.astimezone(UTC)
        if length != timedelta(hours=24) and (length < timedelta(hours=24)) == forward:
            return day
        day += timedelta(days=1)


def week_title(first: date, last: date) -> str:
    """The recap's title for the days `first`..`last` (as Discord users read it)."""
    if first.month == last.month:
        return f"{TITLE}{first.day}–{last.day} {last:%b %Y}"
    return f"{TITLE}{first.day} {first:%b} – {last.day} {last:%b %Y}"


def posted_at(message: JSON) -> float:
    """When Discord made the message (its snowflake, on the emulator's advanced clock)."""
    return ((int(message["id"]) >> 22) + DISCORD_EPOCH_MS) / 1000


# --- the bot -----------------------------------------------------------------------------------

async def sync(emu: DiscordEmulator, world: TestWorld, start_bot: StartBot, db: TestDatabase
               ) -> None:
    proc = await start_bot(emu, BOT, bot_env(db),
                           args=["sync", "--guild", str(world.guild["id"])], wait=False)
    assert await proc.wait_exit(60) == 0, proc.output()


async def boot(stride: Stride, at: datetime) -> BotProcess:
    """Start the bot (the previous one stopped) with Discord's clock and its own at `at`."""
    ahead = at.timestamp() - stride.emu.clock.time()
    assert ahead >= 0, f"{at} is {-ahead:.0f} s in the emulator's past"
    stride.emu.advance(ahead)
    stride.proc = await stride.start_bot(stride.emu, BOT, stride.env(),
                                         clock_offset=stride.emu.clock.offset)
    return stride.proc


async def started(emu: DiscordEmulator, world: TestWorld, start_bot: StartBot,
                  db: TestDatabase, at: datetime) -> Stride:
    """Commands synced, and the bot running with its clock at `at`."""
    await sync(emu, world, start_bot, db)
    stride = Stride(emu, world, None, db, start_bot)  # type: ignore[arg-type]
    await boot(stride, at)
    return stride


async def answer(rec: InteractionRecord) -> JSON:
    """What the member saw: the response, or the followup a deferred one became."""
    if rec.deferred:
        return await rec.wait_message(10)
    return rec.message or (rec.response or {})["data"]


async def recap(stride: Stride, subcommand: str, options: JSON | None = None, *,
                member: JSON | None = None) -> InteractionRecord:
    return await stride.run("club", options, group="recap", subcommand=subcommand,
                            member=member or stride.world.admin)


async def set_up(stride: Stride, channel: JSON, weekday: int, at: str) -> JSON:
    rec = await recap(stride, "setup", {"channel": channel, "day": weekday, "time": at})
    assert rec.ephemeral, rec.response
    said = embed_of(await answer(rec))
    assert said["title"] == "Weekly recap on", said
    return said


# --- what happened ---------------------------------------------------------------------------

def recap_posts(emu: DiscordEmulator, channel: JSON) -> list[JSON]:
    """The bot's recap posts in a channel, oldest first."""
    bot_id = str(emu.world.bot_id)
    return [m for m in emu.channel_messages(channel) if m["author"]["id"] == bot_id
            and (m.get("embeds") or [{}])[0].get("title", "").startswith(TITLE)]


def statuses(db: TestDatabase) -> list[str]:
    return [status for _, status, _ in firings(db)]


async def recorded(db: TestDatabase, *expected: str) -> None:
    """Wait until the recap's firings, oldest first, have these statuses (the scheduler writes
    finished firings a moment after the send)."""
    await eventually(lambda: statuses(db) == list(expected), 10, f"firings {expected}")


def recap_row(db: TestDatabase) -> list[tuple[Any, ...]]:
    return db.rows("SELECT channel_id, at, timezone, next_due, paused FROM reminders "
                   "WHERE purpose = 'recap'")


def firings(db: TestDatabase) -> list[tuple[int, str, int | None]]:
    """(due at, status, message id) of the recap's firings, oldest first."""
    return db.rows("SELECT f.due_at, f.status, f.message_id FROM reminder_firings AS f "
                   "JOIN reminders AS r ON r.id = f.reminder_id WHERE r.purpose = 'recap' "
                   "ORDER BY f.due_at")


async def round_trip(stride: Stride) -> None:
    """A command answered: the bot is up and has had the time to do anything pending."""
    await stride.run("streak", member=stride.world.admin)


def assert_on_time(message: JSON, due: datetime) -> None:
    at = posted_at(message)
    assert due.timestamp() <= at < due.timestamp() + POSTED_WITHIN, (
        f"posted {at - due.timestamp():+.1f} s from its due time {due.isoformat()}")


def assert_discord_happy(emu: DiscordEmulator) -> None:
    assert emu.limit_violations == [] and emu.unhandled == [] and emu.rate_limited == []


# --- seeding ---------------------------------------------------------------------------------

async def seed(db: TestDatabase, world: TestWorld, history: dict[int, Iterable[datetime]],
               zone: str | None = None) -> None:
    """Check members in at these instants through the real check-in code (their milestones,
    comebacks and the club's day counts as the bot writes them); `zone`: the club's first."""
    guild_id = int(world.guild["id"])
    clock = ManualClock(datetime.now(UTC))
    async with db.opened() as storage:
        checkins = Checkins(storage, clock)
        if zone is not None:
            await checkins.update_club(guild_id, timezone=zone)
        for user_id, instants in history.items():
            for instant in instants:
                clock.current = instant.astimezone(UTC)
                result = await checkins.check_in(guild_id, user_id, "quick")
                assert result.recorded, (user_id, instant)


def uid(member: JSON) -> int:
    return int(member["user"]["id"])


# --- 1. the post: on time, once, with the week's figures ----------------------------------

async def test_the_recap_is_posted_once_at_the_local_time_with_the_weeks_figures(
    emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot, database: TestDatabase
) -> None:
    """A week in New York (Monday 9:00): 24 check-ins by 7 members, 10 the week before; a
    7-day streak reached on Sunday through /checkin, a 10th check-in and a comeback on
    Wednesday; six streaks alive of seven members present, five of them listed; a member
    who left is in the counts only."""
    emu = emulator
    due = next_local(MONDAY, time(9), NEW_YORK, datetime.now(UTC) + timedelta(days=1))
    post_day = due.astimezone(NEW_YORK).date()
    days = [post_day - timedelta(days=7 - n) for n in range(7)]  # Monday..Sunday covered
    alice, bob = world.member, world.member2
    carol = emu.add_member(world.guild, "carol", roles=["Runners"], global_name=HOSTILE)
    dave = emu.add_member(world.guild, "dave", roles=["Runners"])
    runners = [emu.add_member(world.guild, f"runner{n}", roles=["Runners"]) for n in range(3)]
    erin = emu.add_member(world.guild, "erin", roles=["Runners"])  # leaves before the recap

    def at7(day: date, minute: int = 0) -> datetime:  # 7:00 in the club's zone
        return local(day, 7, minute, NEW_YORK)

    d = days[0]
    await seed(database, world, {
        uid(alice): [at7(day) for day in days[:6]],  # Monday..Saturday; Sunday by /checkin
        # nine days three weeks ago, then Wednesday..Sunday: the 10th check-in, back after 15
        uid(bob): [at7(d + timedelta(days=n)) for n in range(-21, -12)]
        + [at7(day) for day in days[2:]],
        uid(carol): [at7(days[5]), at7(days[6])],
        uid(dave): [at7(d - timedelta(days=n)) for n in (7, 6, 5)],  # the week before only
        **{uid(r): [at7(days[6], n + 1)] for n, r in enumerate(runners)},
        uid(erin): [at7(d + timedelta(days=n)) for n in range(-7, 7)],  # 14 days in a row
    }, zone="America/New_York")

    # Sunday evening: alice's seventh day in a row through the bot, and the recap set up.
    stride = await started(emu, world, start_bot, database, due - timedelta(hours=13))
    checked = await stride.run("checkin", {"what": "quick"}, member=alice)
    assert "7-day streak" in text_of(embed_of(checked))
    # erin (the longest streak, 14 days, her 10th check-in and 14-day streak this week)
    # leaves: off the streaks, the milestones and the members present; her check-ins still
    # count among the club's.
    emu.remove_member(world.guild, erin)
    await eventually(lambda: database.rows(
        "SELECT present FROM members WHERE user_id = ?", (uid(erin),)) == [(0,)], 10,
        "erin gone")
    said = await set_up(stride, world.runs_channel, MONDAY, "9:00")
    assert f"<#{world.runs_channel['id']}> every Monday at 09:00 (America/New_York)" in \
        said["description"]
    assert f"<t:{int(due.timestamp())}:R>" in said["description"]
    assert recap_row(database) == [(int(world.runs_channel["id"]), "09:00", "America/New_York",
                                    int(due.timestamp()), None)]
    await stride.proc.stop()

    await boot(stride, due - timedelta(seconds=EARLY))
    await eventually(lambda: recap_posts(emu, world.runs_channel), 20, "the recap")
    await round_trip(stride)
    [post] = recap_posts(emu, world.runs_channel)
    assert_on_time(post, due)
    assert [m["id"] for m in emu.channel_messages(world.runs_channel)] == [post["id"]]
    await eventually(lambda: firings(database) == [
        (int(due.timestamp()), "sent", int(post["id"]))], 10, "the firing recorded as sent")
    after = next_local(MONDAY, time(9), NEW_YORK, due)
    assert recap_row(database)[0][3] == int(after.timestamp())  # next Monday 9:00

    embed = embed_of(post)
    assert embed["title"] == week_title(days[0], days[6])
    assert embed["description"] == (
        "**24** check-ins by **7** members (▲ 140% on the week before).\n"
        "**86%** of members have a streak alive (6 of 7).")
    r0, r1 = (uid(r) for r in runners[:2])
    assert field(embed, "Longest streaks now").splitlines() == [
        f"🥇 <@{uid(alice)}>: 7 days", f"🥈 <@{uid(bob)}>: 5 days",
        f"🥉 <@{uid(carol)}>: 2 days", f"**4.** <@{r0}>: 1 day", f"**5.** <@{r1}>: 1 day"]
    assert field(embed, "Milestones this week").splitlines() == [
        f"<@{uid(bob)}>: 10th check-in (Wed)", f"<@{uid(alice)}>: 7-day streak (Sun)"]
    assert field(embed, "Back after a break") == f"<@{uid(bob)}> (after 15 days)"
    assert "Runs in the next seven days" not in text_of(embed)  # /runs is not set up
    assert "America/New_York" in embed["footer"]["text"]
    assert "carol" not in text_of(embed) and "everyone" not in text_of(embed)
    assert str(uid(erin)) not in text_of(embed)

    # The chart: a PNG of sensible size, attached as recap.png and shown as the embed image.
    record = emu.message_record(post)
    [upload] = record.files
    assert upload.filename == "recap.png" and upload.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert 2_000 < len(upload.data) < 1_000_000
    [attachment] = post["attachments"]
    assert attachment["filename"] == "recap.png" and attachment["content_type"] == "image/png"
    assert 300 <= attachment["width"] <= 2000 and 150 <= attachment["height"] <= 2000
    assert record.payloads[0]["embeds"][0]["image"]["url"] == "attachment://recap.png"
    assert embed["image"]["url"] == attachment["url"]

    # Nobody pinged: no mention parsed from the text, no user or role allowed.
    assert record.allowed_mentions is not None and record.allowed_mentions["parse"] == []
    assert not record.allowed_mentions.get("users") and not record.allowed_mentions.get("roles")
    assert post["mentions"] == [] and post["mention_roles"] == []
    assert post["mention_everyone"] is False
    assert_mentions_locked(emu)
    assert_nobody_pinged(emu)

    # Its Check in button checks whoever presses it in (dave, back today).
    [check_in] = buttons(post)
    assert check_in["label"] == "Check in" and ":@" in check_in["custom_id"]
    pressed = await stride.click(post, check_in["custom_id"], member=dave)
    assert embed_of(pressed)["title"].startswith("Checked in")
    assert "Traceback" not in stride.proc.output()
    assert_discord_happy(emu)


# --- 2. hostile names of members and runs ------------------------------------------------

async def test_hostile_run_and_member_names_are_shown_safely(
    emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot, database: TestDatabase
) -> None:
    """Runs named to ping, format and fake mentions show as typed; members show only as
    mentions that ping no one; a run beyond the next seven days is left out, and of twelve
    in the week ten are listed (long names full of markdown stay within Discord's limits)."""
    emu = emulator
    due = next_local(MONDAY, time(9), ZoneInfo("UTC"), datetime.now(UTC) + timedelta(hours=2))
    carol = emu.add_member(world.guild, "carol", roles=["Runners"], global_name=HOSTILE)
    stride = await started(emu, world, start_bot, database, due - timedelta(hours=1))
    rec = await stride.run("runs", {"channel": world.runs_channel, "minutes": 5},
                           subcommand="setup", member=world.admin)
    await answer(rec)
    soon, later, far = (due + timedelta(days=n) for n in (2, 3, 8))
    emu.add_scheduled_event(world.guild, HOSTILE, soon, location="<@&1> park")
    emu.add_scheduled_event(world.guild, "Club `social` <#1> ||spoiler||", later,
                            location="Pub")
    emu.add_scheduled_event(world.guild, "Far away run", far, location="Hills")
    for n in range(10):  # after those two: eight more listed, two more counted
        emu.add_scheduled_event(world.guild, f"{n:02d} " + "*_~|`>" * 16,
                                later + timedelta(hours=n + 1), location="Track")
    await eventually(lambda: len(database.rows("SELECT event_id FROM runs")) == 13, 10,
                     "the runs followed")
    checked = await stride.run("checkin", member=carol)  # on the post day: not in the week
    assert embed_of(checked)["title"].startswith("Checked in")
    await set_up(stride, world.channel, MONDAY, "9am")
    await stride.proc.stop()

    await boot(stride, due - timedelta(seconds=EARLY))
    await eventually(lambda: recap_posts(emu, world.channel), 20, "the recap")
    [post] = recap_posts(emu, world.channel)
    assert_on_time(post, due)
    embed = embed_of(post)
    assert embed["description"].startswith("No check-ins this week.")
    assert field(embed, "Longest streaks now") == f"🥇 <@{uid(carol)}>: 1 day"
    runs = [line for f in embed["fields"] if f["name"].startswith("Runs in the next seven")
            for line in f["value"].splitlines()]
    assert len(runs) == 11 and runs[-1] == "…and 2 more runs", runs
    assert "Far away" not in "\n".join(runs)
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    assert runs[0].startswith(f"<t:{int(soon.timestamp())}:f>: ")
    assert runs[1].startswith(f"<t:{int(later.timestamp())}:f>: ")
    for line in runs:
        assert_clean_text(line)  # no live @everyone/@here, no role or user mention
    for line in runs[2:10]:
        assert line.split(": ", 1)[1].startswith(("0", "1"))
    shown = runs[0].split(": ", 1)[1]
    assert "**x**" not in shown and "__y__" not in shown  # markdown escaped: reads as typed
    assert shown.replace("\\", "").replace("\u200b", "") == HOSTILE
    assert "`social`" not in runs[1] and "||spoiler||" not in runs[1] and "<#1>" not in runs[1]
    text = text_of(embed)
    assert "**x**" not in text and "@everyone" not in text.replace("@\u200beveryone", "")
    assert_mentions_locked(emu)
    assert_nobody_pinged(emu)
    assert_discord_happy(emu)


# --- 3. across a DST change --------------------------------------------------------------

@pytest.mark.parametrize(("zone", "forward", "hours_utc"), [
    ("Europe/Berlin", True, (8, 7)),  # CET, then CEST: the 23-hour Sunday in the second week
    ("America/New_York", False, (13, 14)),  # EDT, then EST: the 25-hour Sunday
], ids=["berlin-spring", "new-york-autumn"])
async def test_the_recap_keeps_its_local_time_across_a_dst_change(
    emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot, database: TestDatabase,
    zone: str, forward: bool, hours_utc: tuple[int, int]
) -> None:
    """Monday 9:00 in the weeks before and after the clocks change: the same wall time, an
    hour apart in UTC. Set up in UTC first, then the club moves to its zone and the recap
    follows. Days are the zone's: a check-in half an hour after local midnight counts on
    that local day (in UTC it is the day before, or after)."""
    emu = emulator
    tz = ZoneInfo(zone)
    # A Sunday far enough ahead that the bot can start a day before the Monday before it.
    change = clock_change(tz, datetime.now(UTC) + timedelta(days=8), forward=forward)
    first = local(change - timedelta(days=6), 9, 0, tz)  # the Monday before it
    second = local(change + timedelta(days=1), 9, 0, tz)  # the Monday after it
    assert (first.hour, second.hour) == hours_utc
    assert second - first == timedelta(days=7, hours=hours_utc[1] - hours_utc[0])

    stride = await started(emu, world, start_bot, database, first - timedelta(days=1))
    said = await set_up(stride, world.runs_channel, MONDAY, "9:00")
    assert "(UTC)" in said["description"]
    moved = await stride.run("club", {"timezone": zone}, subcommand="settings",
                             member=world.admin)
    assert zone in text_of(embed_of(await answer(moved)))
    assert recap_row(database) == [(int(world.runs_channel["id"]), "09:00", zone,
                                    int(first.timestamp()), None)]
    await stride.proc.stop()

    alice, bob = uid(world.member), uid(world.member2)
    carol = uid(emu.add_member(world.guild, "carol", roles=["Runners"]))
    week1 = change - timedelta(days=13)  # the Monday the first recap starts on
    await seed(database, world, {
        bob: [datetime.combine(week1, time(0, 30), tzinfo=tz)],
        alice: [datetime.combine(change - timedelta(days=6), time(0, 30), tzinfo=tz)],
    })
    await boot(stride, first - timedelta(seconds=EARLY))
    await eventually(lambda: recap_posts(emu, world.runs_channel), 20, "the first recap")
    [one] = recap_posts(emu, world.runs_channel)
    assert_on_time(one, first)
    assert embed_of(one)["title"] == week_title(week1, week1 + timedelta(days=6))
    assert embed_of(one)["description"].startswith("**1** check-in by **1** member.")
    await stride.proc.stop()

    await seed(database, world, {
        bob: [datetime.combine(change, time(23, 30), tzinfo=tz)],  # the changed Sunday
        carol: [datetime.combine(change + timedelta(days=1), time(0, 30), tzinfo=tz)],
    })
    await boot(stride, second - timedelta(seconds=EARLY))
    await eventually(lambda: len(recap_posts(emu, world.runs_channel)) == 2, 20,
                     "the second recap")
    await round_trip(stride)
    one, two = recap_posts(emu, world.runs_channel)
    assert_on_time(two, second)
    for post in (one, two):
        wall = datetime.fromtimestamp(posted_at(post), tz)
        assert (wall.weekday(), wall.hour, wall.minute) == (MONDAY, 9, 0)
    embed = embed_of(two)
    assert embed["title"] == week_title(change - timedelta(days=6), change)
    assert embed["description"].startswith(  # alice's Monday and bob's Sunday; not carol's
        "**2** check-ins by **2** members (▲ 100% on the week before).")
    assert zone in embed["footer"]["text"]
    await recorded(database, "sent", "sent")
    assert recap_row(database)[0][3] == int(local(change + timedelta(days=8), 9, 0,
                                                  tz).timestamp())
    assert_discord_happy(emu)


# --- 4. downtime ---------------------------------------------------------------------------

@pytest.mark.parametrize(("late", "posted"), [(10, True), (40, False)])
async def test_a_recap_missed_in_downtime_goes_out_late_within_the_grace_window(
    emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot, database: TestDatabase,
    late: int, posted: bool
) -> None:
    """Down across the due time: back 10 minutes late, the recap goes out then, once; 40
    minutes late it is skipped. Next week's comes either way."""
    emu = emulator
    due = next_local(MONDAY, time(9), ZoneInfo("UTC"), datetime.now(UTC) + timedelta(hours=2))
    stride = await started(emu, world, start_bot, database, due - timedelta(hours=1))
    await set_up(stride, world.runs_channel, MONDAY, "9:00")
    await stride.proc.stop()

    back = due + timedelta(minutes=late)
    await boot(stride, back)
    if posted:
        await eventually(lambda: recap_posts(emu, world.runs_channel), 20, "the late recap")
        assert_on_time(recap_posts(emu, world.runs_channel)[0], back)
        # Built as of its due time: the week before that Monday.
        start = due.date() - timedelta(days=7)
        assert embed_of(recap_posts(emu, world.runs_channel)[0])["title"] == week_title(
            start, start + timedelta(days=6))
        await recorded(database, "sent")
    else:
        await recorded(database, "skipped")
    await round_trip(stride)
    assert len(recap_posts(emu, world.runs_channel)) == int(posted)
    await stride.proc.stop()

    week_on = due + timedelta(days=7)
    await boot(stride, week_on - timedelta(seconds=EARLY))
    await eventually(lambda: len(recap_posts(emu, world.runs_channel)) == int(posted) + 1, 20,
                     "next week's recap")
    await round_trip(stride)
    posts = recap_posts(emu, world.runs_channel)
    assert len(posts) == int(posted) + 1
    assert_on_time(posts[-1], week_on)
    await recorded(database, "sent" if posted else "skipped", "sent")
    assert_discord_happy(emu)


# --- 5. kill -9 around the post ------------------------------------------------------------

async def test_killed_while_discord_answers_the_recap_it_is_not_posted_twice(
    emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot, database: TestDatabase
) -> None:
    """kill -9 while the recap's answer is in flight (Discord made it, the bot never heard):
    after 10 minutes (Discord has forgotten the nonce) the bot finds its post by the firing
    its Check in button names, records it, and does not post again."""
    emu = emulator
    due = next_local(MONDAY, time(9), ZoneInfo("UTC"), datetime.now(UTC) + timedelta(hours=2))
    stride = await started(emu, world, start_bot, database, due - timedelta(hours=1))
    await set_up(stride, world.runs_channel, MONDAY, "9:00")
    await stride.proc.stop()

    hang = emu.hang_after_create(world.runs_channel)
    await boot(stride, due - timedelta(seconds=EARLY))
    await eventually(lambda: hang.hits == 1, 20, "the recap sent")
    stride.proc.kill()
    await stride.proc.wait_exit()
    assert [(d, s) for d, s, _ in firings(database)] == [(int(due.timestamp()), "claimed")]
    [made] = recap_posts(emu, world.runs_channel)
    emu.clear_faults()

    await boot(stride, datetime.fromtimestamp(emu.clock.time() + 600, UTC))
    await eventually(lambda: statuses(database) == ["sent"], 25, "the post found and recorded")
    await round_trip(stride)
    assert recap_posts(emu, world.runs_channel) == [made]
    assert firings(database)[0][2] == int(made["id"])
    assert "Traceback" not in stride.proc.output()
    assert_discord_happy(emu)


async def test_killed_just_before_the_recap_it_goes_out_once_after_the_restart(
    emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot, database: TestDatabase
) -> None:
    emu = emulator
    due = next_local(MONDAY, time(9), ZoneInfo("UTC"), datetime.now(UTC) + timedelta(hours=2))
    stride = await started(emu, world, start_bot, database, due - timedelta(hours=1))
    await set_up(stride, world.runs_channel, MONDAY, "9:00")
    stride.proc.kill()  # 59 minutes before it is due
    await stride.proc.wait_exit()
    assert firings(database) == []

    await boot(stride, due + timedelta(minutes=1))
    await eventually(lambda: recap_posts(emu, world.runs_channel), 20, "the recap")
    await round_trip(stride)
    assert len(recap_posts(emu, world.runs_channel)) == 1
    await recorded(database, "sent")
    assert_discord_happy(emu)


async def test_a_lost_answer_is_sent_again_and_discord_keeps_one(
    emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot, database: TestDatabase
) -> None:
    """Discord made the recap but its answer was a 500: discord.py sends it again (file and
    all) with the firing's nonce, and Discord answers with the message it made."""
    emu = emulator
    due = next_local(MONDAY, time(9), ZoneInfo("UTC"), datetime.now(UTC) + timedelta(hours=2))
    stride = await started(emu, world, start_bot, database, due - timedelta(hours=1))
    await set_up(stride, world.runs_channel, MONDAY, "9:00")
    await stride.proc.stop()

    lost = emu.fail_channel(world.runs_channel, 500, times=1, after_create=True)
    await boot(stride, due - timedelta(seconds=EARLY))
    await recorded(database, "sent")
    assert lost.hits == 1 and len(emu.nonce_hits) == 1
    [post] = recap_posts(emu, world.runs_channel)
    assert firings(database)[0][2] == int(post["id"])
    assert [a["filename"] for a in post["attachments"]] == ["recap.png"]
    assert_on_time(post, due)


async def test_without_attach_files_the_recap_goes_out_without_its_chart(
    emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot, database: TestDatabase
) -> None:
    """The invite asks for View Channel, Send Messages, Embed Links and Read Message History
    only: in a channel where Stride may not attach files, Discord refuses a post with a file
    (403 50013). The recap still goes out, once, without its chart, and stays on."""
    emu = emulator
    emu.set_permission_overwrite(world.runs_channel, emu.world.bot_id, kind=1,
                                 deny=P.ATTACH_FILES)
    due = next_local(MONDAY, time(9), ZoneInfo("UTC"), datetime.now(UTC) + timedelta(hours=2))
    stride = await started(emu, world, start_bot, database, due - timedelta(hours=1))
    await set_up(stride, world.runs_channel, MONDAY, "9:00")
    await stride.proc.stop()

    await boot(stride, due - timedelta(seconds=EARLY))
    await recorded(database, "sent")
    [post] = recap_posts(emu, world.runs_channel)
    assert_on_time(post, due)
    assert post["attachments"] == [] and "image" not in embed_of(post)
    assert "Runners" not in text_of(embed_of(post))
    assert [b["label"] for b in buttons(post)] == ["Check in"]
    assert (emu.message_record(post).allowed_mentions or {})["parse"] == []
    row = recap_row(database)[0]
    assert row[4] is None and row[3] == int((due + timedelta(days=7)).timestamp())  # still on
    assert_discord_happy(emu)


# --- 6. off, preview, who may ---------------------------------------------------------------

async def test_off_stops_the_recap(
    emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot, database: TestDatabase
) -> None:
    """Set up, then off: nothing at the due time (the bot back a minute after it, well within
    the grace window in which a recap still there would go out late)."""
    emu = emulator
    due = next_local(MONDAY, time(9), ZoneInfo("UTC"), datetime.now(UTC) + timedelta(hours=2))
    stride = await started(emu, world, start_bot, database, due - timedelta(hours=1))
    await set_up(stride, world.runs_channel, MONDAY, "9:00")
    assert recap_row(database)[0][3] == int(due.timestamp())
    off = await recap(stride, "off")
    assert off.ephemeral and (off.response or {})["data"]["content"] == \
        "The weekly recap is off."
    assert recap_row(database) == []
    await stride.proc.stop()

    await boot(stride, due + timedelta(minutes=1))
    await round_trip(stride)
    await asyncio.sleep(1.0)  # give a wrong post the chance to happen
    assert recap_posts(emu, world.runs_channel) == [] and firings(database) == []
    assert emu.channel_messages(world.runs_channel) == []
    again = await recap(stride, "off")
    assert again.ephemeral and "no weekly recap" in text_of(embed_of(again))
    assert_discord_happy(emu)


@pytest.mark.asyncio(loop_scope="module")
async def test_preview_shows_the_recap_only_to_the_admin(stride_module: Stride) -> None:
    stride = stride_module
    emu, world = stride.emu, stride.world
    before = len(emu.channel_posts)
    await stride.run("checkin", member=world.member2)  # today: not in the last seven days
    rec = await recap(stride, "preview")
    assert rec.deferred and rec.ephemeral
    shown = await answer(rec)
    assert shown["flags"] & 64  # only the admin sees it
    embed = embed_of(shown)
    assert embed["title"].startswith(TITLE)
    assert embed["description"].startswith("No check-ins this week.")
    assert field(embed, "Longest streaks now") == f"🥇 <@{uid(world.member2)}>: 1 day"
    [attachment] = shown["attachments"]
    assert attachment["filename"] == "recap.png" and embed["image"]["url"] == attachment["url"]
    assert emu.message_record(shown).payloads[-1]["allowed_mentions"]["parse"] == []
    assert_mentions_locked(emu)
    assert len(emu.channel_posts) == before  # nothing posted in any channel
    assert stride.db.rows("SELECT * FROM reminders WHERE purpose = 'recap'") == []


@pytest.mark.asyncio(loop_scope="module")
async def test_members_without_manage_server_are_refused_and_nothing_is_stored(
    stride_module: Stride,
) -> None:
    """Discord hides /club from them; a server can override that, so the bot checks too."""
    stride = stride_module
    emu, world = stride.emu, stride.world
    with pytest.raises(PermissionError):  # Discord shows /club only to Manage Server
        await recap(stride, "preview", member=world.member)
    emu.enforce_command_permissions = False
    try:
        for sub, options in [("setup", {"channel": world.channel, "day": MONDAY,
                                        "time": "9:00"}), ("preview", None), ("off", None)]:
            rec = await recap(stride, sub, options, member=world.member)
            said = await answer(rec)
            assert rec.ephemeral, sub
            assert "Manage Server" in text_of(embed_of(said)), (sub, said)
            assert not said.get("attachments"), sub  # the preview was not shown
    finally:
        emu.enforce_command_permissions = True
    assert stride.db.rows("SELECT * FROM reminders WHERE purpose = 'recap'") == []
    assert recap_posts(emu, world.channel) == []


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("at", "hint"), [("25:99", "18:30"), ("6", "6:30am"),
                                          ("@everyone", "6:30am")])
async def test_a_bad_time_is_explained_and_nothing_is_stored(
    stride_module: Stride, at: str, hint: str
) -> None:
    stride = stride_module
    rec = await recap(stride, "setup", {"channel": stride.world.channel, "day": MONDAY,
                                        "time": at})
    said = await answer(rec)
    assert rec.ephemeral
    text = text_of(embed_of(said))
    assert hint in text and "Traceback" not in text
    assert re.search(r"@everyone", text.replace("@\u200beveryone", "")) is None
    assert stride.db.rows("SELECT * FROM reminders WHERE purpose = 'recap'") == []


@pytest.mark.asyncio(loop_scope="module")
async def test_a_hidden_or_wrong_channel_is_refused(stride_module: Stride) -> None:
    stride = stride_module
    emu, world = stride.emu, stride.world
    hidden = emu.add_channel(world.guild, "coaches-only")
    emu.set_permission_overwrite(hidden, emu.world.bot_id, kind=1, deny=P.VIEW_CHANNEL)
    voice = emu.add_channel(world.guild, "Treadmill call", type=2)
    for channel, hint in [(hidden, "I can't see"), (voice, "Pick a text channel")]:
        rec = await recap(stride, "setup", {"channel": channel, "day": MONDAY, "time": "9:00"})
        assert rec.ephemeral and hint in text_of(embed_of(await answer(rec))), channel["name"]
    assert stride.db.rows("SELECT * FROM reminders WHERE purpose = 'recap'") == []


@pytest.mark.asyncio(loop_scope="module")
async def test_a_second_setup_replaces_the_first(stride_module: Stride) -> None:
    stride = stride_module
    world = stride.world
    await set_up(stride, world.channel, MONDAY, "9:00")
    said = await set_up(stride, world.runs_channel, 4, "6pm")
    assert "every Friday at 18:00 (UTC)" in said["description"]
    [(channel_id, at, zone, due, paused)] = recap_row(stride.db)
    assert (channel_id, at, zone, paused) == (int(world.runs_channel["id"]), "18:00", "UTC", None)
    when = datetime.fromtimestamp(due, UTC)
    assert (when.weekday(), when.hour, when.minute) == (4, 18, 0)
    assert 0 < due - stride.emu.clock.time() <= 7 * 86400
    off = await recap(stride, "off")
    assert off.ephemeral and recap_row(stride.db) == []


# Keep the module's clock helpers honest: they are what every case above relies on.
def test_clock_helpers() -> None:
    after = datetime(2027, 3, 20, 12, tzinfo=UTC)
    assert clock_change(BERLIN, after, forward=True) == date(2027, 3, 28)
    assert clock_change(NEW_YORK, after, forward=False) == date(2027, 11, 7)
    assert next_local(MONDAY, time(9), BERLIN, after) == datetime(2027, 3, 22, 8, tzinfo=UTC)
    assert next_local(MONDAY, time(9), BERLIN, datetime(2027, 3, 22, 8, tzinfo=UTC)) == \
        datetime(2027, 3, 29, 7, tzinfo=UTC)
    assert week_title(date(2026, 11, 30), date(2026, 12, 6)) == f"{TITLE}30 Nov – 6 Dec 2026"
