"""One Stride process serving two shards: Discord splits the servers, both shards answer."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.emulator.emulator import DiscordEmulator

from .conftest import StartBot
from .databases import TestDatabase
from .stride import BOT, bot_env, embed_of, start_stride
from .testworld import TestWorld

JSON = dict[str, Any]


def club_on_each_shard(emu: DiscordEmulator, world: TestWorld) -> dict[int, JSON]:
    """The standard test club, plus clubs until each of two shards has one (Discord puts a
    server on shard (server id >> 22) % shard count)."""
    clubs = {(int(world.guild["id"]) >> 22) % 2: world.guild}
    while len(clubs) < 2:
        guild = emu.add_guild(f"Club {len(emu.world.guilds)}", channels=["general"])
        clubs.setdefault((int(guild["id"]) >> 22) % 2, guild)
    return clubs


async def use_club(emu: DiscordEmulator, guild: JSON, name: str) -> JSON:
    """A member of `guild` checks in and looks at the board; returns the member."""
    member = emu.add_member(guild, name)
    channel = emu.world.channel_by_name(int(guild["id"]), "general")
    exercise = await emu.slash("exercise", {"name": "clams"}, member=member, guild=guild,
                               channel=channel)
    await exercise.wait_response()
    assert embed_of(exercise)["title"] == "Clams"
    checkin = await emu.slash("checkin", member=member, guild=guild, channel=channel)
    await checkin.wait_response()
    assert "Checked in" in embed_of(checkin)["title"], embed_of(checkin)
    return member


async def board_of(emu: DiscordEmulator, guild: JSON, member: JSON) -> str:
    channel = emu.world.channel_by_name(int(guild["id"]), "general")
    rec = await emu.slash("leaderboard", {"board": "checkins", "period": "all"}, member=member,
                          guild=guild, channel=channel)
    await rec.wait_response()
    return embed_of(rec)["description"]


async def test_two_shards_from_discord_both_answer(
    emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot, database: TestDatabase
) -> None:
    emulator.gateway.shard_count = 2  # what GET /gateway/bot recommends
    clubs = club_on_each_shard(emulator, world)
    stride = await start_stride(emulator, world, start_bot, database)
    shards = sorted(tuple(s.shard) for s in stride.proc.sessions if s.shard is not None)
    assert shards == [(0, 2), (1, 2)]
    for shard, guild in clubs.items():
        member = await use_club(emulator, guild, f"runner-{shard}")
        # Each club's interactions went over its own shard's connection.
        session = next(s for s in stride.proc.sessions if s.shard == (shard, 2))
        assert any(frame["t"] == "INTERACTION_CREATE" and frame["d"]["guild_id"] == guild["id"]
                   for _, frame in session.buffer)
        # The member leaves: the event goes to this shard only, and they drop off the board.
        assert f"<@{member['user']['id']}>" in await board_of(emulator, guild, member)
        emulator.remove_member(guild, member)
        await emulator.settle()
        stayer = emulator.add_member(guild, f"stayer-{shard}")

        for _ in range(100):
            if f"<@{member['user']['id']}>" not in await board_of(emulator, guild, stayer):
                break
            await asyncio.sleep(0.05)
        assert f"<@{member['user']['id']}>" not in await board_of(emulator, guild, stayer)
    assert emulator.limit_violations == [] and emulator.unhandled == []
    assert "Traceback" not in stride.proc.output()


async def test_configured_shard_count(
    emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot, database: TestDatabase
) -> None:
    """SHARD_COUNT=2 splits the servers even when Discord recommends one shard."""
    clubs = club_on_each_shard(emulator, world)
    proc = await start_bot(emulator, BOT, {**bot_env(database),
                                           "SHARD_COUNT": "2"})
    assert sorted(tuple(s.shard) for s in proc.sessions if s.shard) == [(0, 2), (1, 2)]
    for shard, guild in clubs.items():
        await use_club(emulator, guild, f"runner-{shard}")
