"""Reminders through the real bot: setting them up, firing exactly once across restarts and
kills, and what happens when Discord refuses a post."""

from __future__ import annotations

import asyncio
import time

from stride.records import Reminder
from tests.emulator import payloads as P
from tests.emulator.emulator import DiscordEmulator
from tests.helpers import claim_now

from .databases import TestDatabase
from .stride import (
    BOT,
    Stride,
    bot_env,
    button,
    buttons,
    embed_of,
    eventually,
    field,
    start_stride,
)
from .testworld import TestWorld

NOW = int(time.time())


async def seed(db: TestDatabase, world: TestWorld, *, channel: dict | None = None,
               due: int | None = None, kind: str = "channel", user: dict | None = None,
               routine: str | None = "quick", status: str | None = None) -> Reminder:
    """Put a reminder straight into the database, as if made earlier (and maybe claimed): in
    the test world's club, by its admin, in #runs unless `channel` says otherwise."""
    async with db.opened() as storage:
        reminder = await storage.add_reminder(Reminder(
            id=0, guild_id=int(world.guild["id"]), kind=kind,
            channel_id=int((channel or world.runs_channel)["id"]) if kind == "channel" else None,
            user_id=int(user["user"]["id"]) if user else None, at="06:30", days=127,
            timezone="UTC", role_id=None, routine=routine,
            next_due=NOW - 5 if due is None else due, paused=None, fired=0,
            created_by=int(world.admin["user"]["id"]),
        ))
        if status == "claimed":  # the firing was recorded, and the process died
            await claim_now(storage, reminder)
        return reminder


def firing_statuses(db: TestDatabase) -> list[str]:
    return [status for (status,) in db.rows("SELECT status FROM reminder_firings")]


def posts(emu: DiscordEmulator, channel: dict) -> list[dict]:
    return emu.channel_messages(channel)


async def test_admin_sets_up_previews_and_removes(stride: Stride) -> None:
    emu, world = stride.emu, stride.world
    role = world.role
    added = await stride.run("reminder", {"channel": world.runs_channel, "time": "6:30am",
                                          "days": "mon,wed,fri", "role": role},
                             subcommand="add", member=world.admin)
    assert added.ephemeral and embed_of(added)["title"] == "Reminder #1 added"
    assert "06:30 Mon, Wed, Fri (UTC)" in embed_of(added)["description"]
    # Runners is not mentionable: the admin is told the ping would not notify, and how to fix.
    assert "Allow anyone to @mention this role" in embed_of(added)["description"]
    listing = await stride.run("reminder", subcommand="list", member=world.admin)
    value = field(embed_of(listing), "#1")
    assert f"<#{world.runs_channel['id']}>" in value and "<t:" in value
    test = await stride.run("reminder", {"id": 1}, subcommand="test", member=world.admin)
    assert "Posted reminder #1" in (await test.wait_message())["content"]
    [post] = posts(emu, world.runs_channel)
    assert post["content"] == f"<@&{role['id']}>"
    record = emu.message_record(post)
    mentions = record.allowed_mentions
    assert mentions["parse"] == []  # no @everyone, no users, no other roles
    assert [int(r) for r in mentions["roles"]] == [int(role["id"])]
    assert embed_of(post)["title"].startswith("Before you run")
    assert {b["label"] for b in buttons(post)} == {"Done", "Show me how"}
    done = await stride.click(post, button(post, "Done")["custom_id"])
    assert done.ephemeral and embed_of(done)["title"].startswith("Checked in")
    how = await stride.click(post, button(post, "Show me how")["custom_id"])
    assert how.ephemeral and embed_of(how)["title"].startswith("1/")
    paused = await stride.run("reminder", {"id": 1}, subcommand="pause", member=world.admin)
    assert "paused" in paused.response["data"]["content"]
    listing = await stride.run("reminder", subcommand="list", member=world.admin)
    assert "paused: paused by Coach" in field(embed_of(listing), "#1")
    await stride.run("reminder", {"id": 1}, subcommand="resume", member=world.admin)
    await stride.run("reminder", {"id": 1}, subcommand="remove", member=world.admin)
    listing = await stride.run("reminder", subcommand="list", member=world.admin)
    assert "None yet" in embed_of(listing)["description"]


async def test_bad_input_is_explained_and_changes_nothing(stride: Stride) -> None:
    emu, world = stride.emu, stride.world
    for options, hint in [({"time": "24:00"}, "6:30am"), ({"time": "6:61"}, "18:30"),
                          ({"time": "7:00", "days": "someday"}, "weekdays"),
                          ({"time": "7:00", "timezone": "Mars/Base"}, "Europe/Berlin")]:
        rec = await stride.run("reminder", {"channel": world.runs_channel, **options},
                               subcommand="add", member=world.admin)
        assert rec.ephemeral and hint in embed_of(rec)["description"], options
    # A channel hidden from Stride: said plainly, with what to change; nothing stored.
    hidden = emu.add_channel(world.guild, "coaches-only")
    emu.world.set_overwrite(int(hidden["id"]), emu.world.bot_id, 1, 0, P.VIEW_CHANNEL)
    rec = await stride.run("reminder", {"channel": hidden, "time": "7:00"}, subcommand="add",
                           member=world.admin)
    assert rec.ephemeral and "I can't see" in embed_of(rec)["description"]
    assert "View Channel" in embed_of(rec)["description"]
    # A mentionable role: no warning.
    early = emu.add_role(world.guild, "Early birds", mentionable=True)
    ok = await stride.run("reminder", {"channel": world.runs_channel, "time": "5:45",
                                       "role": early}, subcommand="add", member=world.admin)
    assert "Reminder #" in embed_of(ok)["title"] and "@mention" not in embed_of(ok)["description"]
    await stride.run("reminder", {"id": int(embed_of(ok)["title"].split("#")[1].split()[0])},
                     subcommand="remove", member=world.admin)
    missing = await stride.run("reminder", {"id": 99}, subcommand="remove", member=world.admin)
    assert "no reminder 99" in embed_of(missing)["description"]
    emu.enforce_command_permissions = False
    refused = await stride.run("reminder", subcommand="list", member=world.member)
    emu.enforce_command_permissions = True
    assert "Manage Server" in embed_of(refused)["description"]
    listing = await stride.run("reminder", subcommand="list", member=world.admin)
    assert "None yet" in embed_of(listing)["description"]


async def test_due_reminder_posts_once_across_restarts(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    db = database
    await seed(db, world)
    bot = await start_bot(emulator, BOT, bot_env(db))
    await eventually(lambda: len(posts(emulator, world.runs_channel)) == 1)
    await bot.stop()
    bot = await start_bot(emulator, BOT, bot_env(db))
    await asyncio.sleep(1.0)  # give a wrong second post the chance to happen
    await bot.stop()
    assert len(posts(emulator, world.runs_channel)) == 1
    assert firing_statuses(db) == ["sent"]


async def test_killed_before_the_due_time(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    db = database
    await seed(db, world, due=int(time.time()) + 2)
    bot = await start_bot(emulator, BOT, bot_env(db))
    bot.kill()  # kill -9, before it is due
    await bot.wait_exit()
    bot = await start_bot(emulator, BOT, bot_env(db))
    await eventually(lambda: len(posts(emulator, world.runs_channel)) == 1)
    await asyncio.sleep(0.5)
    await bot.stop()
    assert len(posts(emulator, world.runs_channel)) == 1


async def test_killed_while_sending_posts_exactly_once(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    """The firing was recorded and the message reached Discord, then the process died before
    recording the send: the restart finds its post (and records it), or sends it again with
    the same nonce and Discord keeps one."""
    db = database
    reminder = await seed(db, world, status="claimed")
    dead = await start_bot(emulator, BOT, bot_env(db))
    dead.kill()  # it may or may not have resent before dying: either way one message
    await dead.wait_exit()
    if not posts(emulator, world.runs_channel):
        # Make the "lost" first send: the same nonce the bot uses for this firing.
        import aiohttp

        async with aiohttp.ClientSession() as http:
            await http.post(
                f"{emulator.api_base}/channels/{world.runs_channel['id']}/messages",
                json={"content": "first try", "nonce": f"r{reminder.id}-{reminder.next_due}",
                      "enforce_nonce": True},
                headers={"Authorization": f"Bot {emulator.token}"},
            )
    bot = await start_bot(emulator, BOT, bot_env(db))
    await eventually(lambda: firing_statuses(db) == ["sent"], 10, "the send recorded")
    await bot.stop()
    assert len(posts(emulator, world.runs_channel)) == 1
    assert "already posted before the restart" in bot.output() or emulator.nonce_hits


async def test_after_the_grace_window_it_is_skipped(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    db = database
    await seed(db, world, due=int(time.time()) - 40 * 60)
    late = await seed(db, world, channel=world.channel, due=int(time.time()) - 10 * 60)
    bot = await start_bot(emulator, BOT, bot_env(db))
    await eventually(lambda: len(posts(emulator, world.channel)) == 1)  # 10 min late: sent
    await asyncio.sleep(0.5)
    await bot.stop()
    assert posts(emulator, world.runs_channel) == []  # 40 min late: skipped
    assert sorted(firing_statuses(db)) == ["sent", "skipped"]
    assert late.id == 2


async def test_deleted_channel_pauses_that_reminder_only(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    db = database
    gone = emulator.add_channel(world.guild, "old-runs")
    await seed(db, world, channel=gone)
    await seed(db, world, channel=world.runs_channel)
    emulator.delete_channel(gone)
    stride = await start_stride(emulator, world, start_bot, db)
    await eventually(lambda: len(posts(emulator, world.runs_channel)) == 1)
    listing = await stride.run("reminder", subcommand="list", member=world.admin)
    await eventually(lambda: True)
    for _ in range(40):
        listing = await stride.run("reminder", subcommand="list", member=world.admin)
        if "no longer exists" in field(embed_of(listing), "#1"):
            break
        await asyncio.sleep(0.05)
    assert "paused: the channel no longer exists" in field(embed_of(listing), "#1")
    assert "paused" not in field(embed_of(listing), "#2")
    assert "Traceback" not in stride.proc.output()


async def test_lost_permission_pauses_with_the_reason(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    db = database
    await seed(db, world)
    emulator.remove_send_permission(world.runs_channel)
    stride = await start_stride(emulator, world, start_bot, db)
    for _ in range(60):
        listing = await stride.run("reminder", subcommand="list", member=world.admin)
        if "lost permission" in field(embed_of(listing), "#1"):
            break
        await asyncio.sleep(0.05)
    assert "paused: Stride lost permission to post in that channel" in field(
        embed_of(listing), "#1")


async def test_member_dm_reminder(stride: Stride) -> None:
    emu, world = stride.emu, stride.world
    rec = await stride.run("remindme", {"time": "7:00", "days": "weekdays"}, subcommand="set")
    assert rec.deferred
    assert "07:00 weekdays (UTC)" in embed_of(await rec.wait_message())["description"]
    dm = emu.dm_channel(world.member)
    [confirmation] = posts(emu, dm)
    assert embed_of(confirmation)["title"] == "Reminders on"
    shown = await stride.run("remindme", subcommand="show")
    assert "07:00 weekdays" in embed_of(shown)["description"]
    # DMs closed: a clear message, and nothing is stored.
    emu.close_dms(world.member2)
    closed = await stride.run("remindme", {"time": "7:00"}, subcommand="set",
                              member=world.member2)
    assert "can't send you direct messages" in embed_of(await closed.wait_message())[
        "description"]
    nothing = await stride.run("remindme", subcommand="show", member=world.member2)
    assert "no DM reminder" in embed_of(nothing)["description"]
    off = await stride.run("remindme", subcommand="off")
    assert "off" in off.response["data"]["content"]
    assert emu.dm_channel_creates_by_user[int(world.member["user"]["id"])] == 1


async def test_dm_reminder_fires_and_checks_in_to_the_server(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    db = database
    await seed(db, world, kind="dm", user=world.member)
    stride = await start_stride(emulator, world, start_bot, db)
    dm = emulator.dm_channel(world.member)
    await eventually(lambda: len(posts(emulator, dm)) == 1)
    [post] = posts(emulator, dm)
    done = await emulator.click(post, button(post, "Done")["custom_id"], member=world.member)
    await done.wait_response()
    assert embed_of(done)["title"].startswith("Checked in")
    streak = await stride.run("streak")
    assert field(embed_of(streak), "Total") == "1"


async def test_dm_failure_later_switches_the_reminder_off(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    db = database
    await seed(db, world, kind="dm", user=world.member)
    emulator.close_dms(world.member)
    stride = await start_stride(emulator, world, start_bot, db)
    for _ in range(60):
        shown = await stride.run("remindme", subcommand="show")
        if "paused" in embed_of(shown)["description"]:
            break
        await asyncio.sleep(0.05)
    assert "can't send you direct messages" in embed_of(shown)["description"]
