"""Interaction latency through the emulator: Stride against a minimal discord.py bot.

    .venv/bin/python -m bench.bench_interactions [--runs 1000]

Starts the emulator on 127.0.0.1, runs each bot as a real subprocess, and measures, on the
emulator's side, the time from dispatching INTERACTION_CREATE to the bot's answer arriving.
The minimal bot answers a fixed string: the floor for any discord.py bot on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.e2e.emulator import DiscordEmulator
from tests.e2e.harness import MINIMAL_BOT, REPO_ROOT, launch_bot, populate
from tests.e2e.records import InteractionRecord

Send = Callable[[DiscordEmulator, int], Awaitable[InteractionRecord]]


async def measure(emu: DiscordEmulator, send: Send, runs: int) -> tuple[float, float]:
    for i in range(20):  # warm-up
        await (await send(emu, i)).wait_response()
    samples = []
    for i in range(runs):
        rec = await send(emu, i)
        await rec.wait_response()
        assert rec.response_time is not None
        samples.append(rec.response_time * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(runs - 1, int(runs * 0.99))]


def slash(name: str, options: dict | None = None) -> Send:
    async def send(emu: DiscordEmulator, i: int) -> InteractionRecord:
        return await emu.slash(name, options, member=emu.member, guild=emu.guild,
                               channel=emu.channel)
    return send


def autocomplete(name: str, option: str, values: list[str]) -> Send:
    async def send(emu: DiscordEmulator, i: int) -> InteractionRecord:
        return await emu.autocomplete(name, {option: values[i % len(values)]}, option,
                                      member=emu.member, guild=emu.guild, channel=emu.channel)
    return send


async def run_bot(script: Path, env: dict[str, str], cases: dict[str, Send], runs: int,
                  log_dir: Path) -> dict[str, tuple[float, float]]:
    emu = DiscordEmulator()
    populate(emu)
    await emu.start()
    try:
        proc = await launch_bot(emu, script, env, log_path=log_dir / f"{script.stem}.log")
        try:
            return {name: await measure(emu, send, runs) for name, send in cases.items()}
        finally:
            await proc.stop()
    finally:
        await emu.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        floor = await run_bot(MINIMAL_BOT, {}, {"floor: /ping": slash("ping")}, args.runs,
                              tmp_path)
        stride = await run_bot(
            REPO_ROOT / "bot.py", {"DATABASE_PATH": str(tmp_path / "stride.db")},
            {
                "/exercise clams": slash("exercise", {"name": "clams"}),
                "exercise autocomplete": autocomplete(
                    "exercise", "name", ["cl", "lunge", "glute", "bri", ""]
                ),
            },
            args.runs, tmp_path,
        )
    base = floor["floor: /ping"][0]
    print(f"{'interaction':28} {'p50 ms':>8} {'p99 ms':>8} {'p50 / floor':>12}")
    for name, (p50, p99) in {**floor, **stride}.items():
        print(f"{name:28} {p50:8.2f} {p99:8.2f} {p50 / base:12.2f}")


if __name__ == "__main__":
    asyncio.run(main())
