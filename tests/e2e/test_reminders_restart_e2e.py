"""Reminders exactly once across stops longer than Discord's nonce memory, and fair turns.

Each restart here comes after a downtime of 2 or 10 minutes: the emulator's clock is moved on
(`emu.advance`, so it forgets nonces after its 5 minutes as Discord does) and the new bot
process runs with its wall clock that far ahead (`clock_offset`). The bot runs without the
Message Content intent, so it can only recognise its own posts.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.bench_reminders import fair_sends
from tests.emulator import payloads as P
from tests.emulator.emulator import DiscordEmulator

from .databases import TestDatabase
from .stride import BOT, bot_env, eventually
from .test_reminders_e2e import seed
from .testworld import TestWorld

DOWNTIMES = [120, 600]  # within Discord's nonce memory, and well past it


def firings(db: TestDatabase) -> list[tuple[int, str, int | None, int | None]]:
    """(reminder id, status, message id, attempted at) of every firing."""
    return db.rows("SELECT reminder_id, status, message_id, attempted_at "
                   "FROM reminder_firings ORDER BY reminder_id")


def firing_tags(emu: DiscordEmulator, channel: dict) -> list[str]:
    """The firing named by each reminder post's Done button, in the order they were posted."""
    tags = []
    for message in emu.channel_messages(channel):
        for row in message.get("components") or []:
            for button in row["components"]:
                if button.get("custom_id", "").startswith("stride:checkin"):
                    tags.append(button["custom_id"].rsplit(":@", 1)[1])
    return tags


def history_reads(emu: DiscordEmulator, channel: dict) -> int:
    return sum(1 for r in emu.requests
               if r.route == "GET /channels/{channel_id}/messages"
               and r.path.rstrip("/").endswith(f"/channels/{channel['id']}/messages"))


@pytest.fixture
def emulator_without_content(emulator: DiscordEmulator) -> DiscordEmulator:
    emulator.privileged_intents = P.INTENT_GUILD_MEMBERS  # no Message Content in the portal
    return emulator


@pytest.mark.parametrize("downtime", DOWNTIMES)
async def test_sigterm_during_a_burst_records_every_post_and_resends_none(
    emulator_without_content: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase,
    downtime: int
) -> None:
    """20 reminders due at once in one channel go out over ~20 s (5 per 5 s). A SIGTERM
    midway: every post made before the stop is recorded as sent by the stop itself; after
    the downtime the rest go out, and none of the earlier ones again."""
    emu = emulator_without_content
    emu.discord_rate_limits()
    db = database
    due = int(time.time()) - 2
    for _ in range(20):
        await seed(db, world, due=due)
    bot = await start_bot(emu, BOT, bot_env(db))
    await eventually(lambda: len(emu.channel_messages(world.runs_channel)) >= 7, 30)
    assert await bot.stop() == 0
    before = firing_tags(emu, world.runs_channel)
    sent = [f for f in firings(db) if f[1] == "sent"]
    assert len(sent) == len(before) >= 7  # nothing posted is left unrecorded
    assert {f[2] for f in sent} == {int(m["id"]) for m in emu.channel_messages(world.runs_channel)}

    emu.advance(downtime)
    bot = await start_bot(emu, BOT, bot_env(db), clock_offset=downtime)
    await eventually(lambda: len(emu.channel_messages(world.runs_channel)) >= 20, 40)
    await eventually(lambda: all(f[1] == "sent" for f in firings(db)), 10)
    await bot.stop()
    tags = firing_tags(emu, world.runs_channel)
    assert len(tags) == len(set(tags)) == 20  # each firing posted exactly once
    assert tags[:len(before)] == before
    assert emu.rate_limited == [] and emu.limit_violations == []


@pytest.mark.parametrize("kind", ["channel", "dm"])
@pytest.mark.parametrize("downtime", DOWNTIMES)
async def test_killed_while_discord_answers_posts_once(
    emulator_without_content: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase,
    downtime: int,
    kind: str,
) -> None:
    """kill -9 while a post's answer is in flight (Discord made the message, the bot never
    heard back): after the downtime the bot looks for its post, finds it, records it, and
    does not post again, also when Discord has forgotten the nonce."""
    emu = emulator_without_content
    db = database
    user = world.member
    channel = world.runs_channel if kind == "channel" else emu.dm_channel(user)
    reminder = await seed(db, world, kind=kind, user=user if kind == "dm" else None)
    hang = emu.hang_after_create(channel)
    bot = await start_bot(emu, BOT, bot_env(db))
    await eventually(lambda: hang.hits == 1, 20)
    # Others talk in the channel meanwhile (their messages are hidden from the bot).
    if kind == "channel":
        await emu.user_message("see you at the track", member=world.member2,
                               channel=world.runs_channel)
    bot.kill()
    await bot.wait_exit()
    [(rid, status, message_id, attempted_at)] = firings(db)
    assert (rid, status, message_id) == (reminder.id, "claimed", None) and attempted_at
    emu.clear_faults()

    emu.advance(downtime)
    bot = await start_bot(emu, BOT, bot_env(db), clock_offset=downtime)
    await eventually(lambda: firings(db)[0][1] == "sent", 20)
    await bot.stop()
    bot_id = str(emu.world.bot_id)
    [post] = [m for m in emu.channel_messages(channel) if m["author"]["id"] == bot_id]
    assert firings(db)[0][2] == int(post["id"])  # the post made before the kill
    assert history_reads(emu, channel) >= 1
    assert len(firing_tags(emu, channel)) == 1


@pytest.mark.parametrize("downtime", DOWNTIMES)
async def test_an_attempt_that_never_reached_discord_is_sent_after_looking(
    emulator_without_content: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase,
    downtime: int
) -> None:
    """The attempt was recorded, then the process died before the request reached Discord:
    the bot looks, finds nothing, and sends it once."""
    emu = emulator_without_content
    db = database
    reminder = await seed(db, world, status="claimed")
    async with db.opened() as storage:
        await storage.mark_attempted([(reminder.id, reminder.next_due or 0)], int(time.time()))
    emu.advance(downtime)
    bot = await start_bot(emu, BOT, bot_env(db), clock_offset=downtime)
    await eventually(lambda: firings(db)[0][1] == "sent", 20)
    await bot.stop()
    assert history_reads(emu, world.runs_channel) >= 1
    assert len(firing_tags(emu, world.runs_channel)) == 1


async def test_club_posts_are_not_held_up_by_another_servers_dm_wave(tmp_path: Path) -> None:
    """A smaller `python -m bench` case 4 (there: 5,000 DMs and 50 servers): one server's 300
    DM reminders, with lower ids, and 10 other servers' club posts, all due at once, under
    Discord's limits. The club posts take their turns among the first posts instead of
    queueing behind the DMs.

    At 30 sends a second, not the default 40: what this checks is the order of turns. The
    emulator counts Discord's 50 a second when it gets round to each request, so on a loaded
    2-core machine (the whole suite running) requests the bot paced evenly can reach it
    bunched: 1 x 429 in about one full run in three at 40. The production pace and its
    0 x 429 are measured by `python -m bench` (its case 4, 5,000 DMs)."""
    figures = await fair_sends(300, 10, tmp_path, rate=30.0)
    assert figures["sent"] == 310 and figures["429s"] == 0
    # 10 club posts, interleaved with the DMs: 11 in turn order, give or take the 4 lanes.
    assert figures["club_posts_in_first"] <= 15


@pytest.mark.parametrize("downtime", [60, 600])  # within Stride's 2 minutes of nonce trust
async def test_without_read_message_history_the_nonce_decides(
    emulator_without_content: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase,
    downtime: int
) -> None:
    """Without Read Message History Discord answers every read with no messages, which
    proves nothing: the bot checks its permissions, and re-sends only while Discord still
    remembers the nonce (1 minute: kept once); after that (10 minutes) it records the firing
    as not sent, with the reason, rather than risk posting it twice."""
    emu = emulator_without_content
    db = database
    emu.set_permission_overwrite(world.runs_channel, emu.world.bot_id, kind=1,
                                 deny=P.READ_MESSAGE_HISTORY)
    await seed(db, world)
    hang = emu.hang_after_create(world.runs_channel)
    bot = await start_bot(emu, BOT, bot_env(db))
    await eventually(lambda: hang.hits == 1, 20)
    bot.kill()
    await bot.wait_exit()
    emu.clear_faults()

    emu.advance(downtime)
    hits = len(emu.nonce_hits)
    bot = await start_bot(emu, BOT, bot_env(db), clock_offset=downtime)
    await eventually(lambda: firings(db)[0][1] != "claimed", 20)
    await bot.stop()
    assert len(firing_tags(emu, world.runs_channel)) == 1  # never twice
    if downtime < 120:
        assert firings(db)[0][1] == "sent" and len(emu.nonce_hits) == hits + 1
    else:
        assert firings(db)[0][1] == "failed"
        assert "Read Message History" in bot.output()
