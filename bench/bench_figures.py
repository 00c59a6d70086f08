"""Exercise figures: drawing them, what they weigh, and what they cost the running bot.

    .venv/bin/python -m bench.bench_figures

1. Drawing every shipped figure in this process: milliseconds per figure, GIF sizes, frames.
2. Start-up, interleaved: process start to READY for Stride as shipped (figures drawn ahead)
   and for a first start that has every figure to draw (all poses changed, empty cache: the
   bot draws them in a thread while it connects), with the time until they are all drawn.
3. Memory: Stride's RSS after READY, then after every exercise card has been shown once
   (every GIF read and kept).
"""

from __future__ import annotations

import asyncio
import io
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bench.bench_load import rss_kib
from stride.catalog import load_catalog
from stride.config import DEFAULT_EXERCISES, DEFAULT_FIGURES
from stride.figures import load_figures, render_gif
from tests.e2e.stride import bot_env
from tests.e2e.testworld import build_world
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import REPO_ROOT, launch_bot

BOT = REPO_ROOT / "bot.py"
IDLE = 2.0


@dataclass(frozen=True)
class Drawing:
    figures: int
    total_s: float
    p50_ms: float
    max_ms: float
    kb_p50: float
    kb_max: float
    frames_p50: float


def draw_all() -> Drawing:
    specs = load_figures(load_catalog(DEFAULT_EXERCISES), DEFAULT_FIGURES)
    times, sizes, frames = [], [], []
    started = time.perf_counter()
    for spec in specs.values():
        t = time.perf_counter()
        gif = render_gif(spec)
        times.append((time.perf_counter() - t) * 1000)
        sizes.append(len(gif) / 1024)
        with Image.open(io.BytesIO(gif)) as image:
            frames.append(image.n_frames)
    total = time.perf_counter() - started
    return Drawing(len(specs), total, statistics.median(times), max(times),
                   statistics.median(sizes), max(sizes), statistics.median(frames))


def _unshipped(tmp: Path) -> Path:
    """A copy of the shipped poses with no GIFs drawn ahead beside it: the bot draws all."""
    path = tmp / "figures.toml"
    shutil.copyfile(DEFAULT_FIGURES, path)
    return path


async def _start(env: dict[str, str], log: Path, *, cards: bool = False,
                 wait_drawn: bool = False) -> dict[str, float]:
    emu = DiscordEmulator()
    world = build_world(emu)
    await emu.start()
    try:
        started = time.perf_counter()
        proc = await launch_bot(emu, BOT, env, log_path=log, timeout=120)
        out = {"ready_s": time.perf_counter() - started}
        try:
            if wait_drawn:
                while "Drew " not in proc.output():
                    await asyncio.sleep(0.05)
                out["drawn_s"] = time.perf_counter() - started
            if cards:
                await asyncio.sleep(IDLE)
                out["rss_ready_mib"] = rss_kib(proc.pid) / 1024
                for exercise in load_catalog(DEFAULT_EXERCISES).exercises:
                    rec = await emu.slash("exercise", {"name": exercise.id},
                                          member=world.member, guild=world.guild,
                                          channel=world.channel)
                    await rec.wait_response()
                await asyncio.sleep(IDLE)
                out["rss_cards_mib"] = rss_kib(proc.pid) / 1024
            return out
        finally:
            await proc.stop()
    finally:
        await emu.stop()


async def startup(starts: int, tmp: Path) -> dict[str, float]:
    """Median READY times as shipped and on a first start with every figure to draw."""
    reposed = _unshipped(tmp)
    shipped, first, drawn = [], [], []
    for i in range(starts):  # interleaved: both see the same machine
        db = tmp / f"shipped-{i}" / "stride.db"
        db.parent.mkdir()
        shipped.append((await _start(bot_env(db), tmp / f"shipped-{i}.log"))["ready_s"])
        db = tmp / f"first-{i}" / "stride.db"  # an empty cache beside it
        db.parent.mkdir()
        env = {**bot_env(db), "FIGURES_PATH": str(reposed)}
        result = await _start(env, tmp / f"first-{i}.log", wait_drawn=True)
        first.append(result["ready_s"])
        drawn.append(result["drawn_s"])
    return {"shipped_s": statistics.median(shipped), "first_s": statistics.median(first),
            "all_drawn_s": statistics.median(drawn)}


async def memory(tmp: Path) -> dict[str, float]:
    db = tmp / "memory" / "stride.db"
    db.parent.mkdir()
    return await _start(bot_env(db), tmp / "memory.log", cards=True)


async def main() -> None:
    drawing = draw_all()
    print(f"drew {drawing.figures} figures in {drawing.total_s:.2f} s: p50 {drawing.p50_ms:.0f}"
          f" ms, max {drawing.max_ms:.0f} ms; GIF p50 {drawing.kb_p50:.0f} KB, max "
          f"{drawing.kb_max:.0f} KB; p50 {drawing.frames_p50:.0f} frames")
    with tempfile.TemporaryDirectory() as tmp:
        ready = await startup(3, Path(tmp))
        mem = await memory(Path(tmp))
    print(f"start to READY: shipped {ready['shipped_s']:.2f} s, first start with every "
          f"figure to draw {ready['first_s']:.2f} s (all drawn after {ready['all_drawn_s']:.1f} s)")
    print(f"RSS: {mem['rss_ready_mib']:.1f} MiB after READY, {mem['rss_cards_mib']:.1f} MiB "
          f"after every card was shown (+{mem['rss_cards_mib'] - mem['rss_ready_mib']:.1f} MiB)")


if __name__ == "__main__":
    asyncio.run(main())
