"""The nudge before a streak ends, and milestones, through the real bot: /remindme nudge, the
DM on the last day a streak survives (once, with Done checking in), never for a streak of 1,
never after a check-in, closed DMs switching it off with the reason; a check-in reaching a
milestone says so and its Undo takes it back.

A member's history is put in the database as check-ins made on earlier days (the domain's own
Checkins on an injected clock). The bot runs a few seconds before a whole minute
(`clock_offset`), so a nudge set for that minute comes in real time.
"""

from __future__ import annotations

import time as wall
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from stride.checkins import Checkins
from stride.clock import ManualClock
from tests.emulator.emulator import DiscordEmulator

from .databases import TestDatabase
from .stride import BOT, Stride, bot_env, button, buttons, embed_of, eventually, field
from .testworld import TestWorld

KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30: a nudge time is the member's own
LEAD = 8  # seconds between the bot's start and the minute its nudges are set for


def user_id(member: dict) -> int:
    return int(member["user"]["id"])


async def seed_streak(db: TestDatabase, world: TestWorld, member: dict, days: int,
                      now: datetime, zone: ZoneInfo | None = None, rest_days: int = 0) -> None:
    """`member` checked in on the `days` local days before `now`'s (club rest days as given)."""
    guild = int(world.guild["id"])
    async with db.opened() as storage:
        clock = ManualClock(now - timedelta(days=days))
        checkins = Checkins(storage, clock)
        await checkins.update_club(guild, rest_days=rest_days)
        if zone is not None:
            await checkins.set_timezone(guild, user_id(member), zone.key)
        for _ in range(days):
            assert (await checkins.check_in(guild, user_id(member))).recorded
            clock.advance(days=1)


async def start_before_a_minute(emu: DiscordEmulator, world: TestWorld, start_bot,
                                db: TestDatabase) -> tuple[Stride, datetime]:
    """The bot (commands synced), its clock `LEAD` seconds before a whole minute; returns it
    and that minute (UTC)."""
    now = wall.time()
    minute = (int(now) // 60 + 2) * 60  # at least a minute ahead: the seeding comes first
    offset = minute - LEAD - now
    emu.advance(offset)
    sync = await start_bot(emu, BOT, bot_env(db), args=["sync", "--guild",
                                                        str(world.guild["id"])], wait=False)
    assert await sync.wait_exit(60) == 0, sync.output()
    proc = await start_bot(emu, BOT, bot_env(db), clock_offset=emu.clock.offset)
    stride = Stride(emu, world, proc, db, start_bot)
    return stride, datetime.fromtimestamp(minute, UTC)


def dms(emu: DiscordEmulator, member: dict) -> list[dict]:
    return emu.channel_messages(emu.dm_channel(member))


def nudges_in(emu: DiscordEmulator, member: dict) -> list[dict]:
    return [m for m in dms(emu, member)
            if (m.get("embeds") or [{}])[0].get("title", "").endswith("ends at midnight")]


async def test_the_nudge_comes_once_on_the_last_day_and_done_checks_in(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    emu, member = emulator, world.member
    minute = datetime.fromtimestamp((int(wall.time()) // 60 + 2) * 60, UTC)
    await seed_streak(database, world, member, 3, minute, KOLKATA)
    stride, minute = await start_before_a_minute(emu, world, start_bot, database)
    local = minute.astimezone(KOLKATA)
    on = await stride.run("remindme", {"enabled": True, "time": f"{local:%H:%M}"},
                          subcommand="nudge")
    assert on.deferred
    text = embed_of(await on.wait_message())["description"]
    assert f"On, at {local:%H:%M} (Asia/Kolkata)" in text and f"<t:{int(minute.timestamp())}:f>" \
        in text
    assert embed_of(dms(emu, member)[0])["title"] == "Nudges on"
    await eventually(lambda: nudges_in(emu, member), 15, "the nudge")
    [nudge] = nudges_in(emu, member)
    embed = embed_of(nudge)
    assert embed["title"] == "Your 3-day streak ends at midnight"
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), KOLKATA)
    assert f"<t:{int(midnight.timestamp())}:t>" in embed["description"]
    assert {b["label"] for b in buttons(nudge)} == {"Done", "Show me how"}
    assert emu.message_record(nudge).allowed_mentions["parse"] == []
    done = await emu.click(nudge, button(nudge, "Done")["custom_id"], member=member)
    await done.wait_response()
    assert embed_of(done)["title"].startswith("Checked in")
    assert field(embed_of(done), "Current streak") == "4 🔥"
    await eventually(lambda: database.rows(
        "SELECT f.status FROM reminder_firings AS f JOIN reminders AS r "
        "ON r.id = f.reminder_id WHERE r.purpose = 'nudge'") == [("sent",)], 5, "recorded")
    # The check-in set the next one: with no rest days, the last day is tomorrow.
    shown = await stride.run("remindme", subcommand="show")
    tomorrow = minute + timedelta(days=1)
    assert f"<t:{int(tomorrow.timestamp())}:f>" in field(embed_of(shown),
                                                         "Nudge before a streak ends")
    await stride.restart()  # nothing is sent again
    await stride.run("streak")
    assert len(nudges_in(emu, member)) == 1
    assert emu.limit_violations == [] and emu.unhandled == []
    await stride.proc.stop()


async def test_never_after_a_check_in_and_never_for_a_streak_of_one(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    emu = emulator
    minute = datetime.fromtimestamp((int(wall.time()) // 60 + 2) * 60, UTC)
    await seed_streak(database, world, world.member, 2, minute)
    await seed_streak(database, world, world.member2, 1, minute)
    stride, minute = await start_before_a_minute(emu, world, start_bot, database)
    at = f"{minute:%H:%M}"
    for member in (world.member, world.member2):
        on = await stride.run("remindme", {"enabled": True, "time": at}, subcommand="nudge",
                              member=member)
        await on.wait_message()
    one = await stride.run("remindme", subcommand="show", member=world.member2)
    assert "Nothing to nudge right now" in field(embed_of(one), "Nudge before a streak ends")
    checked = await stride.run("checkin")  # alice saves her streak before the nudge
    assert embed_of(checked)["title"].startswith("Checked in")
    await eventually(lambda: wall.time() + emu.clock.offset > minute.timestamp() + 3, 15)
    await stride.run("streak")
    assert nudges_in(emu, world.member) == [] and nudges_in(emu, world.member2) == []
    assert database.rows("SELECT COUNT(*) FROM reminder_firings") == [(0,)]
    await stride.proc.stop()


async def test_closed_dms_switch_the_nudge_off_with_the_reason(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    emu, member = emulator, world.member
    minute = datetime.fromtimestamp((int(wall.time()) // 60 + 2) * 60, UTC)
    await seed_streak(database, world, member, 2, minute)
    stride, minute = await start_before_a_minute(emu, world, start_bot, database)
    on = await stride.run("remindme", {"enabled": True, "time": f"{minute:%H:%M}"},
                          subcommand="nudge")
    await on.wait_message()
    emu.close_dms(member)

    async def switched_off() -> str:
        shown = await stride.run("remindme", subcommand="show")
        return field(embed_of(shown), "Nudge before a streak ends")

    deadline = wall.monotonic() + 15
    while "Switched off" not in (text := await switched_off()):
        assert wall.monotonic() < deadline, text
    assert "can't send you direct messages" in text
    assert "/remindme nudge enabled:True" in text
    # A bad time is refused with nothing changed; turning it off says so.
    bad = await stride.run("remindme", {"enabled": True, "time": "25:99"}, subcommand="nudge")
    assert bad.ephemeral and "can't read" in embed_of(bad)["description"]
    assert "Switched off" in await switched_off()
    off = await stride.run("remindme", {"enabled": False}, subcommand="nudge")
    assert off.response["data"]["content"] == "Your nudge is off."
    again = await stride.run("remindme", {"enabled": False}, subcommand="nudge")
    assert again.ephemeral and "already off" in embed_of(again)["description"]
    await stride.proc.stop()


async def test_a_milestone_is_said_and_undo_takes_it_back(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    now = datetime.now(UTC)
    await seed_streak(database, world, world.member, 6, now, rest_days=2)
    stride, _ = await start_before_a_minute(emulator, world, start_bot, database)
    checked = await stride.run("checkin")
    embed = embed_of(checked)
    assert field(embed, "Milestone") == "🏅 **7-day streak**!"
    assert not checked.ephemeral  # the club sees it
    assert database.rows("SELECT kind, value FROM highlights") == [("streak", 7)]
    undo = await stride.click(checked.message or checked.response["data"],
                              button(checked.message or checked.response["data"],
                                     "Undo")["custom_id"])
    assert "The 7-day streak milestone goes with it" in embed_of(undo)["description"]
    assert database.rows("SELECT kind, value FROM highlights") == []
    await stride.proc.stop()
