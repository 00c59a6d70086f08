"""Reminder firing through the emulator: pacing under Discord's limits, throughput, skew, idle.

    .venv/bin/python -m bench.bench_reminders [--club 10000] [--dm 50000] [--burst 400]

1. Production pace: `--burst` club reminders due in the same minute in as many channels, the
   emulator enforcing Discord's limits (50 requests/s, 5 messages per 5 s per channel) and
   counting 429s. Target: all sent, no 429, the last within burst/40 + 5 s of the due time.
2. Raised pace (REMINDER_RATE and the emulator's limits raised to match): `--club` club and
   `--dm` member DM reminders due at once. Target: at least 2,000 sends a second. DM channels
   are remembered from an earlier day, as they are once a member's reminder has fired once.
3. Skew of reminders due alone (send start minus due time) and the bot's CPU while idle.
4. Fair turns: one server's `--fair-dm` DM reminders and `--fair-clubs` other servers' club
   reminders all due at once, at production pace under Discord's limits. Targets: every club
   post within 15 s of the due time, every DM within fair_dm/40 + 15 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from stride.storage.sqlite import prepare
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import REPO_ROOT, launch_bot

BOT = REPO_ROOT / "bot.py"
CHANNELS_PER_GUILD = 50


def world(emu: DiscordEmulator, channels: int) -> list[dict]:
    """Guilds of 50 channels each; returns the channel dicts."""
    found = []
    for g in range((channels + CHANNELS_PER_GUILD - 1) // CHANNELS_PER_GUILD):
        count = min(CHANNELS_PER_GUILD, channels - g * CHANNELS_PER_GUILD)
        guild = emu.add_guild(f"Club {g}", channels=[f"runs-{i}" for i in range(count)])
        found += [c for c in emu.world.guilds[int(guild["id"])].channels.values()]
    return found


def seed(db: Path, emu: DiscordEmulator, channels: list[dict], dm_users: list[dict],
         due: int, *, dms_first: bool = False) -> None:
    """Reminders straight into a fresh database, all due at `due` (DM reminders belong to the
    first server; `dms_first` gives them the lower ids, so they come first in the table)."""
    prepare(db)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    rows = [(int(c["guild_id"]), "channel", int(c["id"]), None) for c in channels]
    guild = int(next(iter(emu.world.guilds)))
    dms = [(guild, "dm", None, int(u["id"])) for u in dm_users]
    rows = dms + rows if dms_first else rows + dms
    conn.executemany(
        "INSERT INTO reminders (guild_id, kind, channel_id, user_id, at, days, timezone, "
        "routine, next_due, created_by) VALUES (?, ?, ?, ?, '06:30', 127, 'UTC', 'quick', ?, 1)",
        [(*row, due) for row in rows],
    )
    conn.executemany(
        "INSERT INTO dm_channels (user_id, channel_id) VALUES (?, ?)",
        [(int(u["id"]), int(emu.world.dm_channel(int(u["id"]))["id"])) for u in dm_users],
    )
    conn.execute("COMMIT")
    conn.close()


async def wait_for_posts(emu: DiscordEmulator, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(emu.channel_posts) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(emu.channel_posts)} of {count} posts")
        await asyncio.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def production_pace(burst: int, tmp: Path) -> dict[str, float]:
    emu = DiscordEmulator()
    emu.discord_rate_limits()
    channels = world(emu, burst)
    await emu.start()
    try:
        db = tmp / "burst.db"
        due = int(time.time()) + 4
        seed(db, emu, channels, [], due)
        proc = await launch_bot(emu, BOT, {"DATABASE_PATH": str(db)}, log_path=tmp / "b.log")
        try:
            await wait_for_posts(emu, burst, burst / 40 + 60)
        finally:
            await proc.stop()
        last = max(r.created_wall for r in emu.channel_posts) - due
        return {"sent": len(emu.channel_posts), "429s": len(emu.rate_limited),
                "last_after_due_s": last, "allowed_s": burst / 40 + 5}
    finally:
        await emu.stop()


async def raised_pace(club: int, dm: int, tmp: Path) -> dict[str, float]:
    emu = DiscordEmulator()
    emu.global_rate_limit = 1_000_000
    channels = world(emu, club)
    users = [emu.add_user(f"runner{i}") for i in range(dm)]
    await emu.start()
    try:
        db = tmp / "raised.db"
        due = int(time.time()) + 6
        seed(db, emu, channels, users, due)
        proc = await launch_bot(emu, BOT, {"DATABASE_PATH": str(db), "REMINDER_RATE": "10000"},
                                log_path=tmp / "r.log", timeout=120)
        try:
            bot_cpu, own_cpu = cpu_seconds(proc.pid), time.process_time()
            await wait_for_posts(emu, club + dm, 600)
            bot_cpu = cpu_seconds(proc.pid) - bot_cpu
            own_cpu = time.process_time() - own_cpu
        finally:
            await proc.stop()
        times = sorted(r.created_wall for r in emu.channel_posts)
        span = times[-1] - times[0]
        return {"sent": len(times), "429s": len(emu.rate_limited),
                "first_after_due_s": times[0] - due, "span_s": span,
                "sends_per_s": (len(times) - 1) / span if span else float("inf"),
                "dm_channel_creates": emu.dm_channel_creates,
                "bot_cpu_s": bot_cpu, "emulator_cpu_s": own_cpu}
    finally:
        await emu.stop()


async def without_network(club: int, dm: int, tmp: Path) -> dict[str, float]:
    """The same burst through the real scheduler and sender in one process, with Discord's
    HTTP answer made instant: what Stride's own code sustains, apart from the network."""
    from bot import build_bot
    from cogs.reminders import DiscordSender
    from stride.config import Settings
    from stride.pacing import Pacer

    emu = DiscordEmulator()  # only to make the ids; not started
    channels = world(emu, club)
    users = [emu.add_user(f"runner{i}") for i in range(dm)]
    db = tmp / "null.db"
    due = int(time.time()) - 1
    seed(db, emu, channels, users, due)
    settings = Settings.from_env({"DISCORD_TOKEN": "unused", "DATABASE_PATH": str(db),
                                 "REMINDER_RATE": "100000"})
    bot = build_bot(settings, background=False)
    await bot.storage.open()
    sent = 0

    async def instant(route: Any, **kwargs: Any) -> dict:
        """Discord's answer to a message create, at once: the message as it would be made."""
        nonlocal sent
        sent += 1
        body = kwargs.get("json") or {}
        return {"id": str(sent), "channel_id": str(route.channel_id), "type": 0,
                "author": {"id": "1", "username": "Stride", "discriminator": "0", "bot": True,
                           "avatar": None, "global_name": None},
                "content": body.get("content") or "", "timestamp": "2026-01-01T00:00:00+00:00",
                "edited_timestamp": None, "tts": False, "mention_everyone": False,
                "mentions": [], "mention_roles": [], "attachments": [],
                "embeds": body.get("embeds") or [], "components": body.get("components") or [],
                "pinned": False, "nonce": body.get("nonce")}

    bot.http.request = instant  # type: ignore[method-assign]
    bot.pacer = Pacer(1_000_000)
    sender = DiscordSender(bot)
    start, cpu = time.perf_counter(), time.process_time()
    await bot.reminders.tick(sender)
    await bot.reminders.drain()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    await bot.storage.close()
    return {"sent": sent, "seconds": elapsed, "sends_per_s": sent / elapsed,
            "cpu_ms_per_send": cpu / sent * 1000}


async def skew_and_idle(count: int, tmp: Path) -> dict[str, float]:
    emu = DiscordEmulator()
    emu.discord_rate_limits()
    channels = world(emu, count)
    await emu.start()
    try:
        db = tmp / "skew.db"
        start = int(time.time()) + 4
        prepare(db)
        conn = sqlite3.connect(db, isolation_level=None)
        conn.executemany(
            "INSERT INTO reminders (guild_id, kind, channel_id, at, days, timezone, routine, "
            "next_due, created_by) VALUES (?, 'channel', ?, '06:30', 127, 'UTC', 'quick', ?, 1)",
            [(int(c["guild_id"]), int(c["id"]), start + i) for i, c in enumerate(channels)],
        )
        # One far in the future, so the scheduler has something to sleep towards when idle.
        conn.execute(
            "INSERT INTO reminders (guild_id, kind, channel_id, at, days, timezone, next_due, "
            "created_by) VALUES (?, 'channel', ?, '06:30', 127, 'UTC', ?, 1)",
            (int(channels[0]["guild_id"]), int(channels[0]["id"]), start + 86400),
        )
        conn.close()
        proc = await launch_bot(emu, BOT, {"DATABASE_PATH": str(db)}, log_path=tmp / "s.log")
        try:
            await wait_for_posts(emu, count, count + 30)
            skews = []
            for record in emu.channel_posts:
                due = start + [int(c["id"]) for c in channels].index(record.channel_id)
                skews.append((record.created_wall - due) * 1000)
            await asyncio.sleep(2)  # settle
            cpu0, wall0 = cpu_seconds(proc.pid), time.monotonic()
            await asyncio.sleep(10)
            idle = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - wall0) * 100
        finally:
            await proc.stop()
        skews.sort()
        return {"reminders": count, "skew_p50_ms": statistics.median(skews),
                "skew_p99_ms": skews[min(len(skews) - 1, int(len(skews) * 0.99))],
                "idle_cpu_percent": idle}
    finally:
        await emu.stop()


async def fair_sends(dm: int, clubs: int, tmp: Path, rate: float = 40.0) -> dict[str, float]:
    """One big server's DM wave and other servers' club posts, all due at once, at the real
    pace (`rate`, REMINDER_RATE) under Discord's limits: how long the club posts and the DMs
    take to go out."""
    emu = DiscordEmulator()
    emu.discord_rate_limits()
    big = emu.add_guild("Big club", channels=["runs"])
    users = [emu.add_user(f"runner{i}") for i in range(dm)]
    small = [emu.add_guild(f"Club {i}", channels=["runs"]) for i in range(clubs)]
    channels = [next(iter(emu.world.guilds[int(g["id"])].channels.values())) for g in small]
    assert int(next(iter(emu.world.guilds))) == int(big["id"])
    await emu.start()
    try:
        db = tmp / "fair.db"
        due = int(time.time()) + 4
        seed(db, emu, channels, users, due, dms_first=True)
        proc = await launch_bot(emu, BOT, {"DATABASE_PATH": str(db), "REMINDER_RATE": str(rate)},
                                log_path=tmp / "f.log")
        try:
            await wait_for_posts(emu, dm + clubs, dm / rate + 120)
        finally:
            await proc.stop()
        club_ids = {int(c["id"]) for c in channels}
        club_times = [r.created_wall - due for r in emu.channel_posts if r.channel_id in club_ids]
        dm_times = [r.created_wall - due for r in emu.channel_posts
                    if r.channel_id not in club_ids]
        order = [r.channel_id in club_ids for r in emu.channel_posts]
        return {"sent": len(emu.channel_posts), "429s": len(emu.rate_limited),
                "last_club_post_s": max(club_times), "club_allowed_s": 15.0,
                "last_dm_s": max(dm_times), "dm_allowed_s": dm / rate + 15,
                "club_posts_in_first": max(i for i, club in enumerate(order) if club) + 1}
    finally:
        await emu.stop()


def show(title: str, figures: dict[str, float]) -> None:
    print(title)
    for key, value in figures.items():
        print(f"  {key:22} {value:12,.2f}" if isinstance(value, float) else
              f"  {key:22} {value:12,}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=400)
    parser.add_argument("--club", type=int, default=10_000)
    parser.add_argument("--dm", type=int, default=50_000)
    parser.add_argument("--alone", type=int, default=30)
    parser.add_argument("--fair-dm", type=int, default=5000)
    parser.add_argument("--fair-clubs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        show(f"1. production pace, {args.burst} club reminders due at once",
             await production_pace(args.burst, tmp_path))
        show(f"2. raised pace, {args.club:,} club + {args.dm:,} DM reminders due at once",
             await raised_pace(args.club, args.dm, tmp_path))
        show("2b. the same, scheduler and sender in-process, HTTP answered instantly",
             await without_network(args.club, args.dm, tmp_path))
        show(f"3. {args.alone} reminders due one a second, then 10 s idle",
             await skew_and_idle(args.alone, tmp_path))
        show(f"4. fair turns: {args.fair_dm:,} DMs of one server, {args.fair_clubs} other "
             "servers' club posts, due at once", await fair_sends(args.fair_dm,
                                                                 args.fair_clubs, tmp_path))


if __name__ == "__main__":
    asyncio.run(main())
