"""Members who leave drop off the boards, with the Server Members intent (Discord's event) and
without it (the portal switch off: Stride starts without the intent and a board looks up the
members it shows). The cost of a first board view without it is printed (run with -s)."""

from __future__ import annotations

from tests.emulator.emulator import DiscordEmulator
from tests.emulator.payloads import INTENT_GUILD_MEMBERS, PRIVILEGED_INTENTS

from .databases import TestDatabase
from .stride import Stride, embed_of, eventually, field, start_stride
from .testworld import TestWorld

GET_MEMBER = "GET /guilds/{guild_id}/members/{user_id}"
WARNING = "Discord refused the Server Members intent"
WHERE = "Developer Portal -> your app -> Bot -> Privileged Gateway Intents -> Server Members Intent"


def member_lookups(emu: DiscordEmulator) -> list[int]:
    """The user ids of every member look-up the bot made, in order."""
    return [int(r.path.rsplit("/", 1)[1]) for r in emu.requests if r.route == GET_MEMBER]


def mention(member: dict) -> str:
    return f"<@{member['user']['id']}>"


async def club_with_runners(stride: Stride, count: int = 12) -> list[dict]:
    """`count` new members with one check-in each: page 1 of the board shows the first 10."""
    runners = [stride.emu.add_member(stride.world.guild, f"runner{i}") for i in range(count)]
    await stride.emu.settle()
    for runner in runners:
        await stride.run("checkin", member=runner)
    return runners


async def board(stride: Stride) -> str:
    rec = await stride.run("leaderboard", {"board": "checkins", "period": "all"},
                           member=stride.world.admin)
    return embed_of(rec)["description"]


async def test_without_the_intent_stride_starts_and_works(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    emu = emulator
    emu.privileged_intents = PRIVILEGED_INTENTS & ~INTENT_GUILD_MEMBERS  # the portal switch off
    stride = await start_stride(emu, world, start_bot, database)
    tried = [(r.payload["intents"], r.accepted) for r in emu.gateway.identifies]
    events = 1 << 16  # GUILD_SCHEDULED_EVENTS (/runs), not privileged
    assert tried == [(INTENT_GUILD_MEMBERS | events, False), (events, True)]  # 4014, then without
    checked = await stride.run("checkin")
    assert "Checked in" in embed_of(checked)["title"]
    top = await board(stride)
    assert mention(world.member) in top
    streak = await stride.run("streak")
    assert field(embed_of(streak), "Total") == "1"
    await eventually(lambda: streak.message and streak.message["embeds"][0].get("image"), 5,
                     "the calendar picture")
    output = stride.proc.output()
    assert output.count(WARNING) == 1 and output.count(WHERE) == 1, output
    warnings = [line for line in output.splitlines() if " WARNING " in line
                and "voice will NOT be supported" not in line]  # discord.py's, every start
    assert len(warnings) == 1, output  # that one line, nothing else
    assert "Traceback" not in output and "ERROR" not in output, output
    assert emu.unhandled == [] and emu.limit_violations == []


async def test_without_the_intent_a_board_drops_leavers_when_shown(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    emu = emulator
    emu.privileged_intents = 0
    stride = await start_stride(emu, world, start_bot, database)
    runners = await club_with_runners(stride)
    assert member_lookups(emu) == []  # check-ins look nobody up
    emu.remove_member(world.guild, runners[0])  # no GUILD_MEMBER_REMOVE without the intent
    await emu.settle()
    asked = len(emu.requests)
    rec = await stride.run("leaderboard", {"board": "checkins", "period": "all"},
                           member=world.admin)
    first_ms = (rec.response_at - rec.sent_at) * 1000
    description = embed_of(rec)["description"]
    assert mention(runners[0]) not in description
    assert description.count("🥇") == 10  # still a full page: runner 10 moved up
    looked_up = member_lookups(emu)
    ids = [int(r["user"]["id"]) for r in runners]
    assert sorted(looked_up) == sorted(ids[:11])  # the first page, then the one who moved up
    assert int(world.admin["user"]["id"]) not in looked_up  # the caller is never looked up
    requests = len(emu.requests) - asked

    again = await stride.run("leaderboard", {"board": "checkins", "period": "all"},
                             member=world.member)
    warm_ms = (again.response_at - again.sent_at) * 1000
    assert member_lookups(emu) == looked_up  # within the hour: nobody looked up again
    assert mention(runners[0]) not in embed_of(again)["description"]
    assert "Traceback" not in stride.proc.output() and "ERROR" not in stride.proc.output()
    assert emu.unhandled == [] and emu.limit_violations == []
    print(f"\nfirst board view without the intent: {first_ms:.1f} ms, {requests} requests "
          f"({len(looked_up)} member look-ups); shown again: {warm_ms:.1f} ms, 0 look-ups")


async def test_with_the_intent_leavers_drop_off_at_once_without_lookups(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    emu = emulator
    stride = await start_stride(emu, world, start_bot, database)
    assert [(r.payload["intents"], r.accepted) for r in emu.gateway.identifies] == [
        (INTENT_GUILD_MEMBERS | 1 << 16, True)]
    runners = await club_with_runners(stride)
    assert mention(runners[0]) in await board(stride)
    emu.remove_member(world.guild, runners[0])  # GUILD_MEMBER_REMOVE
    await emu.settle()
    for _ in range(50):  # the event and the next command race: wait for the event's write
        if mention(runners[0]) not in (top := await board(stride)):
            break
    assert mention(runners[0]) not in top
    assert member_lookups(emu) == []
    assert WARNING not in stride.proc.output()
