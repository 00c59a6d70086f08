"""Backing up the big benchmark database, and what check-ins feel meanwhile.

    .venv/bin/python -m bench.bench_backup [--members 50000] [--checkins 5000000]

Works on a copy of the cached database of `bench.bench_streaks` under /tmp (the cached file
is never changed):

1. `python bot.py backup` on it, as an operator runs it (a separate process, no token).
2. Members check in one after another through the real path (`Checkins` on `Storage`, as
   /checkin does) for a few seconds while the bot's own automatic backup runs in a thread,
   then while `bot.py backup` runs as another process: check-in latency before and during.
3. The same with the copy made in batches of 1,000 pages instead of one step, which is what
   "copy in steps so writers are not blocked" would mean: each check-in between two batches
   makes SQLite start the copy over.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from bench.bench_streaks import GUILD, MEMBERS, NOW, cached_database
from stride.checkins import Checkins
from stride.clock import ManualClock
from stride.storage import Storage, backup_database

ROOT = Path(__file__).resolve().parent.parent
CHECKINS = 5_000_000


def summary(samples: list[float]) -> str:
    if not samples:
        return "no check-ins"
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (f"{len(ms):5d} check-ins, p50 {statistics.median(ms):6.2f} ms, p99 {p99:6.2f} ms, "
            f"worst {ms[-1]:7.2f} ms")


class Writer:
    """Checks members in back to back (each a real write: members not yet checked in
    today), recording (start, seconds) of each."""

    def __init__(self, checkins: Checkins, users: Iterator[int]) -> None:
        self.checkins = checkins
        self.users = users
        self.samples: list[tuple[float, float]] = []
        self.stop = asyncio.Event()

    async def run(self) -> None:
        for user in self.users:
            if self.stop.is_set():
                return
            start = time.perf_counter()
            await self.checkins.check_in(GUILD, user, "quick")
            self.samples.append((start, time.perf_counter() - start))

    def between(self, start: float, end: float) -> list[float]:
        return [s for t, s in self.samples if start <= t < end]


async def with_writer(checkins: Checkins, users: Iterator[int],
                      backup: Callable[[], Awaitable[str]]) -> tuple[str, str, str]:
    """Check-in latency for 1 s before and during `backup()` (an async callable)."""
    writer = Writer(checkins, users)
    task = asyncio.create_task(writer.run())
    t0 = time.perf_counter()
    await asyncio.sleep(1.0)
    began = time.perf_counter()
    note = await backup()
    ended = time.perf_counter()
    writer.stop.set()
    await task
    return summary(writer.between(t0, began)), summary(writer.between(began, ended)), note


def paged_copy(source: Path, dest: Path, pages: int, limit: float) -> str:
    """Copy in batches of `pages` (no pause between them), giving up after `limit` s."""
    started = time.perf_counter()
    restarts, last = 0, None

    def progress(status: int, remaining: int, total: int) -> None:
        nonlocal restarts, last
        if last is not None and remaining > last:
            restarts += 1
        last = remaining
        if time.perf_counter() - started > limit:
            raise TimeoutError

    src = sqlite3.connect(source)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst, pages=pages, progress=progress, sleep=0)
        outcome = f"finished in {time.perf_counter() - started:.1f} s"
    except TimeoutError:
        outcome = f"not finished after {limit:.0f} s"
    finally:
        src.close()
        dst.close()
    return f"{outcome}, started over {restarts} times"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--checkins", type=int, default=CHECKINS)
    args = parser.parse_args()
    cached = cached_database(args.members, args.checkins)
    with tempfile.TemporaryDirectory(prefix="stride-bench-backup-") as tmp:
        work = Path(tmp) / "stride.db"
        shutil.copyfile(cached, work)
        print(f"database: {work.stat().st_size / 1e6:.1f} MB (copy of {cached.name})\n")

        env = {**os.environ, "DATABASE_PATH": str(work), "DISCORD_TOKEN": "", "BACKUP_DIR": ""}
        started = time.perf_counter()
        done = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bot.py"), "backup", str(Path(tmp) / "manual.db"),
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE)
        out, _ = await done.communicate()
        print(f"1. python bot.py backup: {time.perf_counter() - started:.1f} s in all "
              f"(process start included)\n   " + out.decode().strip().replace("\n", "\n   "))

        storage = Storage(work)
        await storage.open()
        checkins = Checkins(storage, ManualClock(NOW))
        users = iter(random.Random(3).sample(range(1, args.members + 1), args.members))
        try:
            async def in_thread() -> str:
                result = await asyncio.to_thread(backup_database, work, Path(tmp) / "auto.db")
                return f"copy {result.copy_seconds:.2f} s + check {result.check_seconds:.2f} s"

            async def as_process() -> str:
                t = time.perf_counter()
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, str(ROOT / "bot.py"), "backup",
                    str(Path(tmp) / "manual2.db"), cwd=ROOT, env=env,
                    stdout=asyncio.subprocess.DEVNULL)
                await proc.wait()
                return f"process {time.perf_counter() - t:.2f} s"

            async def paged() -> str:
                return await asyncio.to_thread(paged_copy, work, Path(tmp) / "paged.db",
                                               1000, 30.0)

            print("\n2./3. check-ins one after another, through Checkins on Storage:")
            for name, backup in (("bot's automatic backup (thread)", in_thread),
                                 ("python bot.py backup (process)", as_process),
                                 ("copy in 1,000-page steps", paged)):
                before, during, note = await with_writer(checkins, users, backup)
                print(f"   {name}: {note}\n     before: {before}\n     during: {during}")
        finally:
            await storage.close()


if __name__ == "__main__":
    asyncio.run(main())
