"""The standard test world: one running club with an admin and two runners.

The ``world`` fixture (conftest.py) builds it on the test's emulator and hands it to the
test; the emulator knows nothing of it beyond what it models (the guild, its channels,
roles and members) and the defaults of actions that name no one (``emu.defaults``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from tests.emulator.actions import ActionDefaults
from tests.emulator.emulator import DiscordEmulator

JSON = dict[str, Any]


@dataclass(frozen=True)
class TestWorld:
    """What the standard world holds (payload dicts as the emulator returns them).

    ``guild`` "Test Running Club"; ``channel`` #general and ``runs_channel`` #runs;
    ``role`` Runners; ``admin`` coach (ADMINISTRATOR); ``member`` alice and ``member2`` bob
    (both Runners).  Members are guild member dicts (``member["user"]["id"]``).
    """

    __test__: ClassVar[bool] = False  # not a test class, even when imported into a test module

    guild: JSON
    channel: JSON
    runs_channel: JSON
    role: JSON
    admin: JSON
    member: JSON
    member2: JSON


def build_world(emu: DiscordEmulator) -> TestWorld:
    """Add the standard world to ``emu``; actions that name no one happen as alice in
    #general of the club (``emu.defaults``)."""
    guild = emu.add_guild(
        "Test Running Club", channels=["general", "runs"], roles=["Runners"], owner="club-owner"
    )
    gid = int(guild["id"])
    world = TestWorld(
        guild=guild,
        channel=emu.world.channel_by_name(gid, "general"),
        runs_channel=emu.world.channel_by_name(gid, "runs"),
        role=emu.world.role_by_name(gid, "Runners"),
        admin=emu.add_member(guild, "coach", admin=True, global_name="Coach"),
        member=emu.add_member(guild, "alice", roles=["Runners"], global_name="Alice"),
        member2=emu.add_member(guild, "bob", roles=["Runners"], global_name="Bob"),
    )
    emu.defaults = ActionDefaults(guild=world.guild, channel=world.channel, member=world.member)
    return world
