"""Stride added to a member's own account (a user install), through the real bot.

The library commands (/exercise, /exercises, /routine and its walk-through, /form, /help)
work in the bot's DM, in group DMs and in servers that never added Stride; the club
commands stay in servers that did. Commands are synced globally (`bot.py sync --global`),
so the emulator holds the `contexts` / `integration_types` Stride really sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from tests.emulator import payloads as P
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.records import InteractionRecord

from .conftest import StartBot
from .databases import TestDatabase
from .guards import answer_of, is_error, message_text
from .stride import BOT, bot_env, button, embed_of
from .testworld import TestWorld

pytestmark = pytest.mark.asyncio(loop_scope="module")
JSON = dict[str, Any]
LIBRARY = ("exercise", "exercises", "routine", "form", "help")
OPTIONS: dict[str, JSON] = {"exercise": {"name": "clams"}, "exercises": {},
                            "routine": {"name": "quick"}, "form": {}, "help": {}}
CLUB = ("checkin", "streak", "leaderboard", "timezone", "club", "mydata", "reminder",
        "remindme")


@dataclass
class Setup:
    emu: DiscordEmulator
    world: TestWorld
    db: TestDatabase
    alice: JSON
    group: JSON  # a group DM of alice and bob (Stride is not in it)
    other: JSON  # a server that never added Stride and blocks external apps
    output: Any


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def setup(module_emulator: DiscordEmulator, module_world: TestWorld,
                module_start_bot: StartBot, module_database: TestDatabase
                ) -> AsyncIterator[Setup]:
    """The bot synced globally and installed by alice, on each backend."""
    emu, world = module_emulator, module_world
    db = module_database
    sync = await module_start_bot(emu, BOT, bot_env(db), args=["sync", "--global"], wait=False)
    assert await sync.wait_exit(60) == 0, sync.output()
    proc = await module_start_bot(emu, BOT, bot_env(db))
    alice = world.member
    emu.install_for_user(alice)
    other = emu.add_guild("Other Server", with_bot=False, external_apps=False)
    emu.add_member(other, user=alice["user"])
    group = emu.add_group_dm(alice, world.member2)
    await emu.settle()
    yield Setup(emu, world, db, alice, group, other, proc.output)
    assert emu.limit_violations == [] and emu.unhandled == []
    assert "Traceback" not in proc.output()


async def run(s: Setup, name: str, **where: Any) -> InteractionRecord:
    rec = await s.emu.slash(name, OPTIONS[name], member=s.alice, **where)
    await rec.wait_response()
    return rec


async def click(s: Setup, message: JSON, label: str) -> InteractionRecord:
    rec = await s.emu.click(message, button(message, label)["custom_id"], member=s.alice)
    await rec.wait_response()
    return rec


def assert_library_answer(name: str, rec: InteractionRecord) -> None:
    answer = answer_of(rec)
    assert not is_error(answer), message_text(answer)
    title = embed_of(answer)["title"]
    assert title, name
    if name == "exercise":
        assert title == "Clams"


async def test_sync_sends_contexts_and_integration_types(setup: Setup) -> None:
    synced = {c["name"]: c for c in setup.emu.global_commands.values()}
    for name in LIBRARY:
        assert synced[name]["contexts"] == [0, 1, 2], name
        assert synced[name]["integration_types"] == [0, 1], name
    for name in CLUB:
        assert synced[name]["contexts"] == [0], name
        assert synced[name]["integration_types"] == [0], name


@pytest.mark.parametrize("name", LIBRARY)
async def test_library_in_the_bots_dm(setup: Setup, name: str) -> None:
    before = len(setup.emu.channel_posts)
    rec = await run(setup, name, dm=True)
    assert rec.payload["context"] == P.CONTEXT_BOT_DM and "member" not in rec.payload
    assert_library_answer(name, rec)
    assert len(setup.emu.channel_posts) == before  # answers only, never a post


@pytest.mark.parametrize("name", LIBRARY)
async def test_library_in_a_group_dm(setup: Setup, name: str) -> None:
    before = len(setup.emu.requests_to("POST", "/channels/"))
    rec = await run(setup, name, channel=setup.group)
    assert rec.payload["context"] == P.CONTEXT_PRIVATE_CHANNEL
    assert rec.payload["authorizing_integration_owners"] == {"1": setup.alice["user"]["id"]}
    assert_library_answer(name, rec)
    assert len(setup.emu.requests_to("POST", "/channels/")) == before  # nothing tried to post


@pytest.mark.parametrize("name", LIBRARY)
async def test_library_in_a_server_with_only_the_members_install(setup: Setup, name: str
                                                                 ) -> None:
    before = len(setup.emu.requests_to("POST", "/channels/"))
    rec = await run(setup, name, guild=setup.other)
    assert rec.payload["guild_id"] == setup.other["id"] and "member" in rec.payload
    assert "0" not in rec.payload["authorizing_integration_owners"]
    assert_library_answer(name, rec)
    assert rec.ephemeral  # the server blocks external apps: Discord made it ephemeral
    assert len(setup.emu.requests_to("POST", "/channels/")) == before


async def test_walkthrough_buttons_in_a_dm(setup: Setup) -> None:
    snapshot = setup.db.snapshot()
    rec = await run(setup, "routine", dm=True)
    routine = answer_of(rec)
    start = await click(setup, routine, "Start")
    assert start.ephemeral
    screen = start.message
    assert screen is not None
    first = embed_of(screen)
    nxt = await click(setup, screen, "Next")
    second = embed_of(setup.emu.message_record(screen).message)
    assert nxt.response is not None and nxt.response["type"] == 7 and second != first
    await click(setup, screen, "Back")
    back = embed_of(setup.emu.message_record(screen).message)
    # The same screen again, with its figure attached anew (a new attachment url).
    assert {**back, "image": None} == {**first, "image": None}
    assert back["image"]["url"].endswith("/" + first["image"]["url"].rsplit("/", 1)[1])
    await click(setup, screen, "Next")
    await click(setup, screen, "Finish")
    done = setup.emu.message_record(screen).message
    assert {"Back", "Start over", "Check in"} <= {
        b.get("label") for row in done["components"] for b in row["components"]}
    checkin = await click(setup, done, "Check in")  # no server to count it in: told so
    assert checkin.ephemeral and "server" in message_text(answer_of(checkin))
    assert setup.db.snapshot() == snapshot


async def test_walkthrough_checkin_refused_in_a_server_without_stride(setup: Setup) -> None:
    snapshot = setup.db.snapshot()
    rec = await run(setup, "routine", guild=setup.other)
    start = await click(setup, answer_of(rec), "Start")
    screen = start.message
    assert screen is not None
    await click(setup, screen, "Next")
    await click(setup, screen, "Finish")
    checkin = await click(setup, setup.emu.message_record(screen).message, "Check in")
    answer = answer_of(checkin)
    assert checkin.ephemeral and is_error(answer)
    assert "isn't added to this server" in message_text(answer)
    assert setup.db.snapshot() == snapshot


async def test_club_commands_are_not_offered_outside_servers(setup: Setup) -> None:
    for name in CLUB:
        with pytest.raises(ValueError, match="context 1"):
            await setup.emu.slash(name, member=setup.alice, dm=True)
        with pytest.raises(ValueError, match="context 2"):
            await setup.emu.slash(name, member=setup.alice, channel=setup.group)
        with pytest.raises(ValueError, match="not installed"):
            await setup.emu.slash(name, member=setup.alice, guild=setup.other)


async def test_club_command_sent_anyway_is_refused_cleanly(setup: Setup) -> None:
    """A stale client sends /checkin where Stride does not allow it: a friendly ephemeral
    answer, nothing stored."""
    emu = setup.emu
    snapshot = setup.db.snapshot()
    emu.enforce_command_contexts = False
    try:
        in_dm = await emu.slash("checkin", member=setup.alice, dm=True)
        await in_dm.wait_response()
        in_other = await emu.slash("checkin", member=setup.alice, guild=setup.other)
        await in_other.wait_response()
        timezone = await emu.slash("timezone", {"zone": "Europe/Berlin"}, member=setup.alice,
                                   channel=setup.group)
        await timezone.wait_response()
    finally:
        emu.enforce_command_contexts = True
    for rec in (in_dm, timezone):
        assert rec.ephemeral and is_error(answer_of(rec))
        assert "works in a server" in message_text(answer_of(rec))
    assert in_other.ephemeral and "isn't added to this server" in message_text(
        answer_of(in_other))
    assert setup.db.snapshot() == snapshot


async def test_library_still_public_in_the_club(setup: Setup) -> None:
    rec = await run(setup, "exercise", guild=setup.world.guild, channel=setup.world.channel)
    assert not rec.ephemeral
    owners = rec.payload["authorizing_integration_owners"]
    assert owners == {"0": setup.world.guild["id"], "1": setup.alice["user"]["id"]}
