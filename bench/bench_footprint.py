"""Memory with 1,000 servers and start-up time: Stride against the minimal discord.py bot.

    .venv/bin/python -m bench.bench_footprint [--guilds 1000] [--starts 5]

Memory: the emulator serves `--guilds` servers of 50 text channels and 20 roles each; each
bot is started as a real subprocess, and once READY and every GUILD_CREATE have been sent and
the bot has been idle for two seconds, its resident memory (VmRSS) is read. Start-up: from
starting the process to READY and every GUILD_CREATE sent, Stride on a copy of the benchmark
database (50,000 members, 5,000,000 check-ins), the minimal bot with nothing to open; the
median of `--starts` starts each.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import bench_streaks
from bench.bench_load import rss_kib
from tests.e2e.stride import bot_env
from tests.e2e.testworld import build_world
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import MINIMAL_BOT, REPO_ROOT, launch_bot

BOT = REPO_ROOT / "bot.py"
CHANNELS, ROLES = 50, 20
IDLE = 2.0  # seconds after READY before memory is read


@dataclass(frozen=True)
class Footprint:
    bot: str
    rss_mib: float
    ready_s: float  # process start -> READY and every GUILD_CREATE sent


def many_guilds(emu: DiscordEmulator, guilds: int) -> None:
    channels = [f"channel-{i}" for i in range(CHANNELS)]
    roles = [f"role-{i}" for i in range(ROLES)]
    for g in range(guilds):
        emu.add_guild(f"Club {g}", channels=channels, roles=roles, owner=f"owner{g}")


async def one_start(script: Path, env: dict[str, str], guilds: int, log: Path,
                    memory: bool) -> Footprint:
    emu = DiscordEmulator()
    if guilds:
        many_guilds(emu, guilds)
    else:
        build_world(emu)
    await emu.start()
    try:
        start = time.perf_counter()
        proc = await launch_bot(emu, script, env, log_path=log, timeout=120)
        ready = time.perf_counter() - start
        try:
            rss = 0.0
            if memory:
                await asyncio.sleep(IDLE)
                rss = rss_kib(proc.pid) / 1024
            return Footprint(script.stem, rss, ready)
        finally:
            await proc.stop()
    finally:
        await emu.stop()


async def memory(guilds: int, tmp: Path) -> dict[str, Footprint]:
    """RSS of each bot serving `guilds` servers (Stride on a fresh database)."""
    return {
        "minimal": await one_start(MINIMAL_BOT, {}, guilds, tmp / "minimal-mem.log", True),
        "stride": await one_start(BOT, bot_env(tmp / "mem.db"), guilds, tmp / "stride-mem.log",
                                  True),
    }


async def startup(starts: int, tmp: Path) -> dict[str, float]:
    """Median seconds from process start to READY: minimal bot, and Stride on the big database."""
    db = tmp / "startup.db"
    shutil.copyfile(bench_streaks.cached_database(), db)
    await one_start(BOT, bot_env(db), 0, tmp / "stride-first.log", False)  # applies migrations
    times: dict[str, list[float]] = {"minimal": [], "stride": []}
    for i in range(starts):  # interleaved, so both see the same machine
        times["minimal"].append(
            (await one_start(MINIMAL_BOT, {}, 0, tmp / f"minimal-{i}.log", False)).ready_s)
        times["stride"].append(
            (await one_start(BOT, bot_env(db), 0, tmp / f"stride-{i}.log", False)).ready_s)
    return {name: statistics.median(values) for name, values in times.items()}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--guilds", type=int, default=1000)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mem = await memory(args.guilds, Path(tmp))
        ready = await startup(args.starts, Path(tmp))
    print(f"{'bot':10} {'RSS MiB, ' + str(args.guilds) + ' servers':>24} {'start to READY s':>17}")
    for name in ("minimal", "stride"):
        print(f"{name:10} {mem[name].rss_mib:24.1f} {ready[name]:17.2f}")
    print(f"stride / minimal memory: {mem['stride'].rss_mib / mem['minimal'].rss_mib:.2f}x; "
          f"start-up: +{ready['stride'] - ready['minimal']:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
