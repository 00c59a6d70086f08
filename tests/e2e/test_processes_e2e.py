"""Several Stride processes on one PostgreSQL database, each running one of two shards.

Discord (the emulator) hands out two shards; process 0 runs SHARD_IDS=0 and process 1
SHARD_IDS=1, both with SHARD_COUNT=2 and the same DATABASE_URL. Each answers its own servers'
interactions; reminders are claimed so that each firing is posted once across both (each
process claims its own shards' reminders; a dead process's are taken over after the lease),
within Discord's limits with the pace shared.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from stride.records import Reminder
from stride.storage.postgres import PostgresStorage
from tests.emulator.emulator import DiscordEmulator

from .conftest import StartBot
from .stride import BOT, bot_env, button, embed_of, eventually
from .test_reminders_restart_e2e import firing_tags
from .testworld import TestWorld

JSON = dict[str, Any]
LEASE = 5  # seconds (REMINDER_LEASE_SECONDS): short, so a takeover fits in a test
BURST = 400
CLUBS = 16  # 8 on each shard, 25 reminders each (the most a server keeps)
CHANNELS = 5  # per club: 5 reminders a channel, Discord's 5 messages per 5 s


def clubs_on_both_shards(emu: DiscordEmulator, world: TestWorld) -> list[JSON]:
    """[the club on shard 0, the club on shard 1] (the test club is one of them)."""
    first = int(world.guild["id"])
    other = emu.add_guild("Second Club", guild_id=first + (1 << 22), channels=["general"])
    clubs = {(first >> 22) % 2: world.guild, (int(other["id"]) >> 22) % 2: other}
    return [clubs[0], clubs[1]]


def env_for(tmp_path: Path, url: str, shard: int | None) -> dict[str, str]:
    env = {**bot_env(tmp_path / "stride.db"), "DATABASE_URL": url, "SHARD_COUNT": "2",
           "REMINDER_LEASE_SECONDS": str(LEASE), "REMINDER_RATE": "40"}
    if shard is not None:
        env["SHARD_IDS"] = str(shard)
    return env


async def start_processes(emu: DiscordEmulator, start_bot: StartBot, tmp_path: Path,
                          url: str) -> list[Any]:
    """Register the commands, then start one process per shard."""
    emu.gateway.shard_count = 2
    sync = await start_bot(emu, BOT, env_for(tmp_path, url, None), args=["sync"], wait=False)
    assert await sync.wait_exit(60) == 0, sync.output()
    return [await start_bot(emu, BOT, env_for(tmp_path, url, shard), shards=[shard])
            for shard in (0, 1)]


async def seed_reminders(url: str, specs: list[tuple[JSON, JSON | None, JSON | None]],
                         due: int, admin: JSON) -> list[Reminder]:
    """Reminders straight into the database: (club, channel or None, DM member or None)."""
    storage = PostgresStorage(url)
    await storage.open()
    try:
        made = []
        for guild, channel, member in specs:
            made.append(await storage.add_reminder(Reminder(
                id=0, guild_id=int(guild["id"]), kind="dm" if member else "channel",
                channel_id=int(channel["id"]) if channel else None,
                user_id=int(member["user"]["id"]) if member else None, at="06:30", days=127,
                timezone="UTC", role_id=None, routine="quick", next_due=due, paused=None,
                fired=0, created_by=int(admin["user"]["id"]),
            )))
        return made
    finally:
        await storage.close()


async def firing_rows(url: str) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(url)
    try:
        return [(r[0], r[1]) for r in await conn.fetch(
            "SELECT reminder_id, status FROM reminder_firings")]
    finally:
        await conn.close()


def burst_channels(emu: DiscordEmulator, world: TestWorld) -> list[tuple[JSON, JSON]]:
    """CHANNELS channels in each of CLUBS new clubs, half of them on each shard."""
    first = int(world.guild["id"])
    clubs = [emu.add_guild(f"Burst Club {n}", guild_id=first + (n + 1) * (1 << 22),
                           channels=["general"]) for n in range(CLUBS)]
    assert sorted((int(c["id"]) >> 22) % 2 for c in clubs) == [0] * 8 + [1] * 8
    return [(club, emu.add_channel(club, f"runs-{n}")) for club in clubs
            for n in range(CHANNELS)]


def posted_tags(emu: DiscordEmulator, channels: list[tuple[JSON, JSON]]) -> list[str]:
    return [tag for _, channel in channels for tag in firing_tags(emu, channel)]


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


async def test_each_process_answers_its_own_servers(
    database_url: str, emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot,
    tmp_path: Path,
) -> None:
    clubs = clubs_on_both_shards(emulator, world)
    procs = await start_processes(emulator, start_bot, tmp_path, database_url)
    for shard, (proc, club) in enumerate(zip(procs, clubs, strict=True)):
        assert [s.shard for s in proc.sessions] == [(shard, 2)]
        member = emulator.add_member(club, f"runner-{shard}")
        channel = emulator.world.channel_by_name(int(club["id"]), "general")
        rec = await emulator.slash("checkin", member=member, guild=club, channel=channel)
        await rec.wait_response()
        assert embed_of(rec)["title"].startswith("Checked in"), embed_of(rec)
        arrived = [f for _, f in proc.sessions[0].buffer if f.get("t") == "INTERACTION_CREATE"]
        assert [f["d"]["guild_id"] for f in arrived] == [club["id"]]
    # One database: a board read by either process shows what the other wrote.
    for club in clubs:
        channel = emulator.world.channel_by_name(int(club["id"]), "general")
        board = await emulator.slash("leaderboard", {"board": "checkins", "period": "all"},
                                     member=emulator.add_member(club, "viewer"), guild=club,
                                     channel=channel)
        await board.wait_response()
        assert "runner-" in embed_of(board)["description"] or "<@" in embed_of(board)[
            "description"]
    assert emulator.limit_violations == [] and emulator.unhandled == []
    for proc in procs:
        assert "Traceback" not in proc.output()


@pytest.mark.parametrize("kill", [False, True], ids=["both-live", "one-killed"])
async def test_a_burst_of_reminders_posts_each_once(
    database_url: str, emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot,
    tmp_path: Path, kill: bool,
) -> None:
    """400 reminders due at once in 80 channels of 16 clubs (8 on each shard): each firing
    is posted exactly once, at most 40 requests a second between both processes (no 429). With
    `kill`, process 1 is killed (-9) a quarter of the way in: process 0 takes over its
    firings after the lease (looking for those whose answer it never heard) and posts the
    rest, still each once, within the grace window."""
    emu = emulator
    emu.discord_rate_limits()
    channels = burst_channels(emu, world)
    procs = await start_processes(emu, start_bot, tmp_path, database_url)
    due = int(time.time()) + 2
    specs = [(club, channel, None) for club, channel in channels for _ in range(5)]
    assert len(specs) == BURST
    await seed_reminders(database_url, specs, due, world.admin)
    started = time.monotonic()
    killed_at = started
    if kill:
        await eventually(lambda: len(posted_tags(emu, channels)) >= BURST // 4, 60)
        procs[1].kill()
        killed_at = time.monotonic()
        assert await procs[1].wait_exit(10) == -9
    await eventually(lambda: len(posted_tags(emu, channels)) >= BURST, 120,
                     "every reminder posted")
    took = time.monotonic() - started
    print(f"burst of {BURST}: last post {took:.1f} s after the first look"
          + (f", {time.monotonic() - killed_at:.1f} s after the kill" if kill else ""))
    rows: list[tuple[int, str]] = []

    async def all_sent() -> bool:
        rows[:] = await firing_rows(database_url)
        return len(rows) == BURST and all(status == "sent" for _, status in rows)

    deadline = time.monotonic() + 30
    while not await all_sent():
        assert time.monotonic() < deadline, sorted({s for _, s in rows})
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # a late duplicate would show up now
    tags = posted_tags(emu, channels)
    assert len(tags) == len(set(tags)) == BURST, "a firing was posted twice"
    assert emu.rate_limited == [] and emu.limit_violations == []
    # The pace is shared: 400 posts at 20 a second a process take ~10 s, never less (and
    # not much more, unless a process was killed and its share came late).
    assert took >= BURST / 40 * 0.8, took
    assert kill or took <= BURST / 40 * 2.5, took
    if kill:
        assert "from a process that stopped" in procs[0].output()
    for proc in procs:
        if proc.returncode is None:
            assert "Traceback" not in proc.output()


async def test_checkins_for_one_member_on_both_shards_count_once(
    database_url: str, emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot,
    tmp_path: Path,
) -> None:
    """A member presses Done on their DM reminder (a DM: shard 0, process 0) while running
    /checkin in their club (on shard 1: process 1), at the same moment: one check-in."""
    emu = emulator
    clubs = clubs_on_both_shards(emu, world)
    club = clubs[1]
    channel = emu.world.channel_by_name(int(club["id"]), "general")
    members = [emu.add_member(club, f"racer-{n}") for n in range(8)]
    procs = await start_processes(emu, start_bot, tmp_path, database_url)
    await seed_reminders(database_url, [(club, None, m) for m in members],
                         int(time.time()) - 1, world.admin)
    dms = [emu.dm_channel(m) for m in members]
    await eventually(lambda: all(emu.channel_messages(dm) for dm in dms), 30, "DM reminders")
    posts = [emu.channel_messages(dm)[0] for dm in dms]

    async def both(member: JSON, post: JSON) -> tuple[Any, Any]:
        done = emu.click(post, button(post, "Done")["custom_id"], member=member)
        slash = emu.slash("checkin", member=member, guild=club, channel=channel)
        return await asyncio.gather(done, slash)

    pairs = await asyncio.gather(*(both(m, p) for m, p in zip(members, posts, strict=True)))
    for done, slash in pairs:
        await done.wait_response()
        await slash.wait_response()
    storage = PostgresStorage(database_url)
    await storage.open()
    try:
        for member in members:
            days = await storage.checkin_days(int(club["id"]), int(member["user"]["id"]))
            assert len(days) == 1, (member["user"]["username"], days)
            _, record = await storage.member(int(club["id"]), int(member["user"]["id"]))
            assert record.state.total == 1
    finally:
        await storage.close()
    assert emu.limit_violations == [] and emu.unhandled == []
    for proc in procs:
        assert "Traceback" not in proc.output()


async def test_each_process_posts_its_own_servers_runs_once(
    database_url: str, emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot,
    tmp_path: Path,
) -> None:
    """/runs in a club on each shard: each process hears of its own servers' events (the
    gateway sends a server's events to its shard only) and each run is posted once."""
    from datetime import UTC, datetime

    emu = emulator
    clubs = clubs_on_both_shards(emu, world)
    channels = [emu.world.channel_by_name(int(c["id"]), "general") for c in clubs]
    conn = await asyncpg.connect(database_url)
    procs = await start_processes(emu, start_bot, tmp_path, database_url)
    try:
        await conn.executemany(
            "INSERT INTO run_settings (guild_id, channel_id, minutes, created_by) "
            "VALUES ($1, $2, 5, 1)",
            [(int(c["id"]), int(ch["id"])) for c, ch in zip(clubs, channels, strict=True)])
        start = datetime.fromtimestamp(time.time() + 5 * 60 + 4, UTC)
        events = [emu.add_scheduled_event(c, f"Run {n}", start, location="Park")
                  for n, c in enumerate(clubs)]

        def posts(channel: JSON) -> list[JSON]:
            return [m for m in emu.channel_messages(channel)
                    if "/events/" in ((m.get("embeds") or [{}])[0].get("url") or "")]

        await eventually(lambda: all(posts(ch) for ch in channels), 25, "both runs posted")
        await asyncio.sleep(1.0)  # a late duplicate would show up now
        for event, channel in zip(events, channels, strict=True):
            [post] = posts(channel)
            assert post["embeds"][0]["url"].endswith(f"/{event['id']}")
        for shard, proc in enumerate(procs):
            heard = [f["d"]["guild_id"] for _, f in proc.sessions[0].buffer
                     if f.get("t") == "GUILD_SCHEDULED_EVENT_CREATE"]
            assert heard == [clubs[shard]["id"]]
    finally:
        await conn.close()
    assert emu.limit_violations == [] and emu.unhandled == []
    for proc in procs:
        assert "Traceback" not in proc.output()
