"""Security through the real bot: who may do what, whose data is whose, who gets pinged, and
that the token never shows up anywhere.

One bot runs for the module with LOG_LEVEL=DEBUG (the most talkative level: discord.py logs
every gateway event and HTTP call), so the last test can grep everything it wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from tests.emulator import payloads as P
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import BotProcess
from tests.emulator.records import InteractionRecord

from .conftest import StartBot
from .databases import TestDatabase
from .guards import (
    answer_of,
    assert_clean_text,
    assert_mentions_locked,
    assert_nobody_pinged,
    bot_message_requests,
    is_error,
    message_text,
)
from .stride import BOT, Stride, bot_env, button, embed_of, field
from .testworld import TestWorld

pytestmark = pytest.mark.asyncio(loop_scope="module")
JSON = dict[str, Any]
MANAGE_GUILD = 1 << 5
DEBUG_RUNS: list[BotProcess] = []  # every bot process of this module, for the token check


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stride(module_emulator: DiscordEmulator, module_world: TestWorld,
                 module_start_bot: StartBot, module_database: TestDatabase
                 ) -> AsyncIterator[Stride]:
    """The real bot on each backend, commands synced, everything at DEBUG (the sync run
    too)."""
    emu, world = module_emulator, module_world
    db = module_database
    env = {**bot_env(db), "LOG_LEVEL": "DEBUG"}
    sync = await module_start_bot(emu, BOT, env, args=["sync", "--guild", str(world.guild["id"])],
                                  wait=False)
    assert await sync.wait_exit(60) == 0, sync.output()
    proc = await module_start_bot(emu, BOT, env)
    DEBUG_RUNS.extend([sync, proc])
    yield Stride(emu, world, proc, db, module_start_bot)
    assert emu.limit_violations == []
    assert emu.unhandled == []


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club2(stride: Stride) -> JSON:
    """A second server with its own owner, where alice is a member too."""
    emu, world = stride.emu, stride.world
    guild = emu.add_guild("Second Club", channels=["chat"], owner="second-owner")
    gid = int(guild["id"])
    emu.add_member(guild, user=world.member["user"], roles=[])
    await emu.settle()
    owner = emu.world.guild(gid).members[emu.world.guild(gid).owner_id]
    return {"guild": guild, "channel": emu.world.channel_by_name(gid, "chat"), "owner": owner,
            "alice": emu.world.guild(gid).members[int(world.member["user"]["id"])]}


async def run(stride: Stride, name: str, options: JSON | None = None, *, sub: str | None = None,
              member: JSON | None = None, guild: JSON | None = None,
              channel: JSON | None = None) -> tuple[InteractionRecord, JSON]:
    """Run a command and return what the member finally sees."""
    emu, world = stride.emu, stride.world
    rec = await emu.slash(name, options, member=member or world.member,
                          guild=guild or world.guild, channel=channel or world.channel,
                          subcommand=sub)
    await rec.wait_response()
    if rec.deferred:
        await rec.wait_message()
    shown = answer_of(rec)
    assert "Traceback" not in message_text(shown)
    return rec, shown


def uid(member: JSON) -> int:
    return int(member["user"]["id"])


def later_today() -> str:
    """12 hours from now: a reminder made here never fires during the test."""
    return f"{datetime.now(UTC) + timedelta(hours=12):%H:%M}"


# --- admin commands ----------------------------------------------------------------------------

ADMIN_RUNS: list[tuple[str, JSON, str]] = [
    ("club", {}, "settings"),
    ("club", {"timezone": "Europe/Paris"}, "settings"),
    ("club", {"rest_days": 0}, "settings"),
    ("reminder", {"time": "6:30"}, "add"),  # channel added below
    ("reminder", {}, "list"),
    ("reminder", {"id": 1}, "remove"),
    ("reminder", {"id": 1}, "pause"),
    ("reminder", {"id": 1}, "resume"),
    ("reminder", {"id": 1}, "test"),
]


async def test_admin_commands_are_checked_by_the_bot_itself(stride: Stride) -> None:
    """Discord hides /club and /reminder from members (default permissions: Manage Server),
    but a server can override that: the bot refuses them itself, stores nothing and posts
    nothing. Manage Server alone (no Administrator) is enough."""
    emu, world = stride.emu, stride.world
    gid = int(world.guild["id"])
    synced = {c["name"]: c for c in emu.guild_commands[gid].values()}
    for name in ("club", "reminder"):
        assert synced[name]["default_member_permissions"] == str(MANAGE_GUILD)
    with pytest.raises(PermissionError):  # what Discord does by default
        await emu.slash("club", subcommand="settings", member=world.member, guild=world.guild)
    _, made = await run(stride, "reminder", {"channel": world.runs_channel, "time": later_today()},
                        sub="add", member=world.admin)
    assert embed_of(made)["title"] == "Reminder #1 added"
    posts_before = len(emu.channel_posts)
    before = stride.db.snapshot()
    emu.enforce_command_permissions = False  # the server let everyone see the commands
    try:
        for name, options, sub in ADMIN_RUNS:
            if sub == "add":
                options = {**options, "channel": world.runs_channel}
            rec, shown = await run(stride, name, options, sub=sub, member=world.member)
            assert rec.ephemeral and is_error(shown), (name, sub, shown)
            assert "Only members with the **Manage Server** permission" in message_text(shown)
    finally:
        emu.enforce_command_permissions = True
    assert stride.db.snapshot() == before
    assert len(emu.channel_posts) == posts_before
    manager = emu.add_member(world.guild, "manager", permissions=MANAGE_GUILD)
    await emu.settle()
    rec, shown = await run(stride, "reminder", sub="list", member=manager)
    assert not is_error(shown) and "#1" in message_text(shown)
    rec, shown = await run(stride, "club", sub="settings", member=manager)
    assert embed_of(shown)["title"] == "Club settings"


# --- members and servers -----------------------------------------------------------------------

async def test_a_member_cannot_change_another_members_data(stride: Stride) -> None:
    """Undo and 'delete my data' buttons belong to the member they were made for; /checkin
    undo, /timezone and /remindme only ever touch the caller's own rows."""
    world = stride.world
    alice, bob = world.member, world.member2
    checked, _ = await run(stride, "checkin", member=alice)
    assert checked.message is not None and not checked.ephemeral  # public: bob can see it
    await run(stride, "timezone", {"zone": "Europe/Berlin"}, member=alice)
    _, dm = await run(stride, "remindme", {"time": later_today()}, sub="set", member=alice)
    assert not is_error(dm)
    asked, _ = await run(stride, "mydata", sub="delete", member=alice)
    before = stride.db.snapshot()
    undo = await stride.click(checked.message, button(checked.message, "Undo")["custom_id"],
                              member=bob)
    assert undo.ephemeral and "Only the member who checked in" in message_text(answer_of(undo))
    assert asked.message is not None
    forget = await stride.click(asked.message,
                                button(asked.message, "Yes, delete my data")["custom_id"],
                                member=bob)
    assert forget.ephemeral and "isn't yours" in message_text(answer_of(forget))
    _, shown = await run(stride, "checkin", {"undo": True}, member=bob)
    assert "nothing to undo" in message_text(shown)
    _, shown = await run(stride, "remindme", sub="off", member=bob)
    assert "no DM reminder" in message_text(shown)
    assert stride.db.snapshot() == before
    _, shown = await run(stride, "streak", {"member": alice}, member=bob)
    assert field(embed_of(shown), "Total") == "1"  # reading someone's streak is allowed


async def test_servers_never_see_each_others_data(stride: Stride, club2: JSON) -> None:
    """Alice has a streak, a zone and a DM reminder in the first server, and the first server
    has a club reminder. From the second server none of it can be seen or changed, and a
    channel of the second server cannot be used for a reminder in the first."""
    emu, world = stride.emu, stride.world
    g2, chat, owner2, alice2 = club2["guild"], club2["channel"], club2["owner"], club2["alice"]
    [(reminder_id,)] = stride.db.rows("SELECT id FROM reminders WHERE kind = 'channel'")

    async def there(name: str, options: JSON | None = None, *, sub: str | None = None,
                    member: JSON | None = None) -> tuple[InteractionRecord, JSON]:
        return await run(stride, name, options, sub=sub, member=member or owner2, guild=g2,
                         channel=chat)

    before = stride.db.snapshot()
    _, shown = await there("streak", {"member": alice2})
    assert "hasn't checked in yet" in message_text(shown)
    _, shown = await there("leaderboard", {"board": "checkins", "period": "all"})
    assert f"<@{uid(alice2)}>" not in message_text(shown)
    _, shown = await there("remindme", sub="show", member=alice2)
    assert "no DM reminder" in message_text(shown)
    _, shown = await there("club", sub="settings")
    assert field(embed_of(shown), "Time zone") == "UTC (not set)"
    _, shown = await there("reminder", sub="list")
    assert "None yet" in message_text(shown)
    for action in ("remove", "pause", "resume", "test"):
        rec, shown = await there("reminder", {"id": reminder_id}, sub=action)
        assert rec.ephemeral and is_error(shown)
        assert f"no reminder {reminder_id} in this server" in message_text(shown)
    rec, shown = await there("mydata", sub="export", member=alice2)
    export = emu.message_record(rec.message).files[0].data.decode()
    assert export.splitlines() == ["day,checked_in_at_utc,what"]
    assert "Your 0 check-in(s)" in message_text(shown) and "not set" in message_text(shown)
    rec, shown = await run(stride, "reminder", {"channel": chat, "time": "6:30"}, sub="add",
                           member=world.admin)
    assert rec.ephemeral and "Pick a text channel in this server" in message_text(shown)
    assert_clean_text(message_text(shown))
    assert stride.db.snapshot() == before


def rows_about(db: TestDatabase, guild_id: int, user_id: int
               ) -> dict[str, list[tuple[Any, ...]]]:
    """Every row in the server's part of the database that names the member: any table with
    a guild_id and a member column, and firings of the member's reminders."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    for table, columns in db.tables().items():
        if "guild_id" not in columns or "user_id" not in columns:
            continue
        who, params = "user_id = ?", [guild_id, user_id]
        if "created_by" in columns and "kind" in columns:  # the member's own reminders
            who += " OR (created_by = ? AND kind = 'dm')"
            params.append(user_id)
        rows = db.rows(f'SELECT * FROM "{table}" WHERE guild_id = ? AND ({who})',
                       tuple(params))
        if rows:
            found[table] = sorted(rows, key=repr)  # heap order may differ between reads
    orphans = db.rows("SELECT * FROM reminder_firings WHERE reminder_id NOT IN "
                      "(SELECT id FROM reminders)")
    if orphans:
        found["reminder_firings"] = orphans
    return found


async def test_mydata_delete_removes_every_row_about_the_member(stride: Stride, club2: JSON
                                                                ) -> None:
    """After the tests above alice has, in the first server, a members row, a check-in and a
    DM reminder (given a firing here); bob has a check-in there, alice one in the second
    server. Deleting her data there leaves no row about her in that server, and everything
    else as it was."""
    world = stride.world
    db = stride.db
    g1, g2 = int(world.guild["id"]), int(club2["guild"]["id"])
    alice, bob = uid(world.member), uid(world.member2)
    await run(stride, "checkin", member=world.member2)
    await run(stride, "checkin", member=club2["alice"], guild=club2["guild"],
              channel=club2["channel"])
    [(dm_id,)] = db.rows("SELECT id FROM reminders WHERE kind = 'dm' AND user_id = ?",
                         (alice,))
    db.execute("INSERT INTO reminder_firings (reminder_id, due_at, status) "  # as if sent
               "VALUES (?, 1, 'sent')", (dm_id,))
    assert set(rows_about(db, g1, alice)) == {"members", "checkins", "reminders"}
    others = {(g1, bob): rows_about(db, g1, bob), (g2, alice): rows_about(db, g2, alice)}
    assert all(others.values())
    club_rows = db.rows("SELECT * FROM reminders WHERE kind = 'channel' ORDER BY id")
    asked, _ = await run(stride, "mydata", sub="delete")
    assert asked.message is not None
    done = await stride.click(asked.message,
                              button(asked.message, "Yes, delete my data")["custom_id"])
    assert "deleted" in message_text(answer_of(done))
    assert rows_about(db, g1, alice) == {}
    assert db.rows("SELECT * FROM reminder_firings WHERE reminder_id = ?", (dm_id,)) == []
    assert {key: rows_about(db, *key) for key in others} == others
    assert db.rows("SELECT * FROM reminders WHERE kind = 'channel' ORDER BY id") == club_rows
    _, shown = await run(stride, "streak")
    assert "No check-ins yet" in message_text(shown)
    _, shown = await run(stride, "remindme", sub="show")
    assert "no DM reminder" in message_text(shown)


# --- mentions ---------------------------------------------------------------------------------

async def test_only_a_reminders_configured_role_is_pinged(stride: Stride) -> None:
    """Names that look like pings (an admin called '@everyone', a member called '<@&id>') go
    through a check-in, a streak, a pause and the reminder list; the reminder post pings its
    configured role and nothing else."""
    emu, world = stride.emu, stride.world
    gid = int(world.guild["id"])
    role = emu.add_role(world.guild, "Early birds", mentionable=True)
    other_role = emu.world.role_by_name(gid, "Runners")
    loud_admin = emu.add_member(world.guild, "loud", admin=True,
                                global_name=f"@everyone <@&{other_role['id']}>")
    sneaky = emu.add_member(world.guild, "sneaky", global_name=f"<@{uid(world.admin)}> @here")
    await emu.settle()
    rec, shown = await run(stride, "checkin", member=sneaky)
    assert not rec.ephemeral and rec.message is not None
    assert rec.message["mentions"] == [] and rec.message["mention_everyone"] is False
    _, shown = await run(stride, "streak", {"member": sneaky})
    assert_clean_text(embed_of(shown)["title"] + embed_of(shown)["description"])
    _, added = await run(stride, "reminder", {"channel": world.runs_channel, "time": later_today(),
                                              "role": role}, sub="add", member=loud_admin)
    reminder_id = int(embed_of(added)["title"].split("#")[1].split()[0])
    await run(stride, "reminder", {"id": reminder_id}, sub="pause", member=loud_admin)
    _, listing = await run(stride, "reminder", sub="list", member=loud_admin)
    paused = field(embed_of(listing), f"#{reminder_id}")
    assert "paused by" in paused
    assert_clean_text(paused.split("paused: ", 1)[1].splitlines()[0])
    rec, tested = await run(stride, "reminder", {"id": reminder_id}, sub="test",
                            member=loud_admin)
    assert "Posted reminder" in message_text(tested)
    post = emu.channel_messages(world.runs_channel)[-1]
    assert post["content"] == f"<@&{role['id']}>"
    assert post["mention_roles"] == [role["id"]]
    assert post["mentions"] == [] and post["mention_everyone"] is False
    record = emu.message_record(post)
    assert record.allowed_mentions is not None
    assert record.allowed_mentions["parse"] == []
    assert [int(r) for r in record.allowed_mentions["roles"]] == [int(role["id"])]


async def test_every_message_sets_allowed_mentions(stride: Stride) -> None:
    """Over everything this module made the bot send (answers, followups, edits, DMs and
    channel posts): allowed_mentions is always there with parse == [], and roles only on the
    reminder post, only its configured role."""
    emu, world = stride.emu, stride.world
    role_pings = {int(world.runs_channel["id"]): int(emu.world.role_by_name(
        int(world.guild["id"]), "Early birds")["id"])}
    checked = assert_mentions_locked(emu, role_pings)
    assert checked >= 40
    assert_nobody_pinged(emu, role_pings)
    kinds = {r.route for r, _ in bot_message_requests(emu)}
    assert {"POST /interactions/{interaction_id}/{token}/callback",
            "POST /channels/{channel_id}/messages",
            "POST /webhooks/{application_id}/{token}"} <= kinds


# --- the token -----------------------------------------------------------------------------------

def token_parts(token: str) -> list[str]:
    return [token, *(part for part in token.split(".") if len(part) >= 6)]


async def test_the_token_never_appears_in_any_output(stride: Stride,
                                                     module_start_bot: StartBot) -> None:
    """Everything the bot wrote at DEBUG (the sync run, this module's commands, an error the
    handler logs with its traceback, a reconnect) and a start with a rejected token: neither
    token, nor any part of it, is in the output."""
    emu, world = stride.emu, stride.world
    # An error path: Discord refuses the answer (the 3 s window closed: 404, code 10062), so
    # the error handler logs the exception.
    emu.interaction_deadline = 0.0
    try:
        rec = await emu.slash("help", member=world.member, guild=world.guild, channel=world.channel)
        for _ in range(100):
            if "10062" in stride.proc.output():
                break
            await asyncio.sleep(0.05)
    finally:
        emu.interaction_deadline = 3.0
    assert rec.response is None
    await emu.gateway.send_reconnect()  # a reconnect and RESUME at DEBUG
    for _ in range(100):
        await asyncio.sleep(0.05)
        try:
            _, shown = await run(stride, "exercise", {"name": "clams"})
            break
        except RuntimeError:  # not connected again yet
            continue
    assert embed_of(shown)["title"] == "Clams"
    wrong = P.make_bot_token(emu.application_id + 1)  # a well-formed token Discord refuses
    refused = await module_start_bot(emu, BOT, {**stride.env(), "LOG_LEVEL": "DEBUG",
                                                "DISCORD_TOKEN": wrong}, wait=False)
    assert await refused.wait_exit(30) == 2
    assert "Discord rejected DISCORD_TOKEN" in refused.output()
    await stride.proc.stop()
    outputs = {f"run {i}": proc.output() for i, proc in enumerate(DEBUG_RUNS)}
    outputs["refused start"] = refused.output()
    assert "ERROR" in outputs["run 1"] and "10062" in outputs["run 1"]
    assert "DEBUG" in outputs["run 1"] and "INTERACTION_CREATE" in outputs["run 1"]
    for where, text in outputs.items():
        for secret in token_parts(emu.token) + token_parts(wrong):
            assert secret not in text, f"{secret[:4]}… found in {where}"

