"""Interaction latency through the emulator: Stride on a big club against a minimal bot.

    .venv/bin/python -m bench.bench_interactions [--runs 1000]

Starts the emulator on 127.0.0.1, runs each bot as a real subprocess, and measures, on the
emulator's side, the time from dispatching INTERACTION_CREATE to the bot's answer arriving.
The minimal discord.py bot answers a fixed string: the floor for any bot on this machine.
Stride runs on a copy of the benchmark database of `bench.bench_streaks` (50,000 members,
5,000,000 check-ins; built once and cached under bench/out/), in a server whose id and
members match it. Every /checkin and every Done press is by a member who has not yet
checked in today, so each one writes; /streak and /leaderboard go to random members, and
/leaderboard cycles through every board and period.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import bench_streaks
from tests.e2e.stride import bot_env, button
from tests.e2e.testworld import build_world
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import MINIMAL_BOT, REPO_ROOT, launch_bot
from tests.emulator.records import InteractionRecord

BOT = REPO_ROOT / "bot.py"
JSON = dict[str, Any]
Send = Callable[[int], Awaitable[InteractionRecord]]
WARM_UP = 20


@dataclass(frozen=True)
class Latency:
    name: str
    p50: float  # milliseconds
    p99: float
    runs: int
    kind: str  # "floor", "catalog", "figure", "database" or "reference"
    floor_p50: float  # the floor's p50 measured alongside (interleaved with) these runs

    @property
    def ratio(self) -> float:
        return self.p50 / self.floor_p50


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


Finished = Callable[[InteractionRecord], bool]


async def sample(name: str, send: Send, i: int, finished: Finished | None = None
                 ) -> tuple[float, float | None]:
    """One interaction: ms from dispatch to the first answer (and to `finished`, if given)."""
    rec = await send(i)
    await rec.wait_response()
    assert rec.response_time is not None and rec.sent_at is not None, rec
    assert not _is_error(rec), f"{name}: error answer {rec.response}"
    if finished is None:
        return rec.response_time * 1000, None
    deadline = time.perf_counter() + 5
    while not finished(rec):
        assert time.perf_counter() < deadline, f"{name}: not finished: {rec}"
        await asyncio.sleep(0.0005)
    return rec.response_time * 1000, (time.perf_counter() - rec.sent_at) * 1000


async def measure(name: str, kind: str, send: Send, runs: int, floor: Send,
                  finished: Finished | None = None) -> list[Latency]:
    """Warm up, then one interaction at a time, alternating with the floor's /ping, so both
    see the same machine: dispatch -> first answer at the emulator.

    With `finished`, the next interaction waits until the bot's follow-up work for this one
    (e.g. the /streak calendar edit) has arrived too, and that time is reported as well.
    """
    samples, complete, floors = [], [], []
    for i in range(-WARM_UP, runs):
        base, _ = await sample("floor", floor, i)
        first, done = await sample(name, send, i, finished)
        if i >= 0:
            floors.append(base)
            samples.append(first)
            if done is not None:
                complete.append(done)
    base = statistics.median(floors)
    found = [Latency(name, *percentiles(samples), runs, kind, base)]
    if complete:
        found.append(Latency(f"{name} (+ follow-up)", *percentiles(complete), runs, "reference",
                             base))
    return found


def calendar(rec: InteractionRecord) -> bool:
    """The /streak answer shows its calendar picture (or has none to show)."""
    embeds = (rec.message or {}).get("embeds") or [{}]
    return "image" in embeds[0] or "No check-ins" in (embeds[0].get("description") or "")


def _is_error(rec: InteractionRecord) -> bool:
    data = (rec.response or {}).get("data") or {}
    return any("went wrong" in (e.get("title") or "") for e in data.get("embeds") or [])


@contextlib.asynccontextmanager
async def minimal_bot(log_dir: Path) -> AsyncIterator[tuple[Send, Send]]:
    """The minimal bot running: its /ping (the floor: a fixed string) and /echo autocomplete."""
    emu = DiscordEmulator()
    world = build_world(emu)
    where = {"member": world.member, "guild": world.guild, "channel": world.channel}
    await emu.start()
    try:
        proc = await launch_bot(emu, MINIMAL_BOT, {}, log_path=log_dir / "minimal.log")
        try:
            def ping(i: int) -> Awaitable[InteractionRecord]:
                return emu.slash("ping", **where)

            words = ["e", "run", "tem", "", "str"]

            def echo(i: int) -> Awaitable[InteractionRecord]:
                return emu.autocomplete("echo", {"text": words[i % len(words)]}, "text", **where)

            yield ping, echo
        finally:
            await proc.stop()
    finally:
        await emu.stop()


def fresh_members(db: Path, count: int) -> list[int]:
    """Members of the big club who have not checked in today in any time zone."""
    yesterday = (datetime.now(UTC).date().toordinal() - 1)
    cutoff = datetime.fromordinal(yesterday).date().isoformat()
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT user_id FROM members WHERE guild_id = ? AND last_day < ? ORDER BY user_id "
            "LIMIT ?", (bench_streaks.GUILD, cutoff, count)).fetchall()
    finally:
        conn.close()
    if len(rows) < count:
        raise RuntimeError(f"only {len(rows)} members free to check in, need {count}")
    return [r[0] for r in rows]


@dataclass
class BigClub:
    guild: JSON
    channel: JSON  # general
    admin: JSON
    members: dict[int, JSON]  # by user id


def big_club(emu: DiscordEmulator, fresh: list[int], others: int,
             members: int = bench_streaks.MEMBERS) -> BigClub:
    """The server of the benchmark database, with its admin and the members the bench uses."""
    guild = emu.add_guild("Big Running Club", channels=["general", "runs"],
                          roles=["Runners"], owner="club-owner", guild_id=bench_streaks.GUILD)
    gid = int(guild["id"])
    channel = emu.world.channel_by_name(gid, "general")
    admin = emu.add_member(guild, "coach", admin=True)
    rng = random.Random(3)
    picked = set(fresh) | set(rng.sample(range(1, members + 1), min(others, members)))
    people = {uid: emu.add_member(guild, user=emu.add_user(f"runner{uid}", user_id=uid))
              for uid in sorted(picked)}
    return BigClub(guild, channel, admin, people)


#: (name, kind, send[, finished]): one case of Stride's interactions, as `measure` takes it.
Case = tuple[Any, ...]


@contextlib.asynccontextmanager
async def stride_bot(runs: int, log_dir: Path, source: Path, env: dict[str, str] | None = None,
                     *, database: dict[str, str] | None = None, name: str = "stride",
                     members: int = bench_streaks.MEMBERS) -> AsyncIterator[list[Case]]:
    """Stride running in an emulator of its own on the benchmark database, and its cases.

    `source` is the benchmark database (SQLite): the bot runs on a copy of it, or, with
    `database` (the bot's database settings, e.g. DATABASE_URL), on that database, which
    must hold the same data (fresh members are read from `source`). Each case may be sent
    `runs + WARM_UP` times.
    """
    if database is None:
        db = log_dir / f"{name}.db"
        shutil.copyfile(source, db)
        db_env = bot_env(db)
    else:
        db_env = {**bot_env(log_dir / f"{name}.db"), **database}
    fresh = fresh_members(source, 2 * (runs + WARM_UP))
    emu = DiscordEmulator()
    club = big_club(emu, fresh, others=1000, members=members)
    people = club.members
    await emu.start()
    rng = random.Random(5)
    anyone = list(people.values())
    checkin_members = iter([people[u] for u in fresh[: runs + WARM_UP]])
    done_members = iter([people[u] for u in fresh[runs + WARM_UP:]])
    where = {"guild": club.guild, "channel": club.channel}
    try:
        proc = await launch_bot(emu, BOT, {**db_env, **(env or {})},
                                log_path=log_dir / f"{name}.log")
        try:
            def slash(name: str, options: dict | None = None, who: Callable[[], JSON] = lambda:
                      rng.choice(anyone)) -> Send:
                def send(i: int) -> Awaitable[InteractionRecord]:
                    return emu.slash(name, options, member=who(), **where)
                return send

            terms = ["cl", "lunge", "glute", "bri", "", "side pl", "monster", "hydr"]

            def complete(i: int) -> Awaitable[InteractionRecord]:
                return emu.autocomplete("exercise", {"name": terms[i % len(terms)]}, "name",
                                        member=rng.choice(anyone), **where)

            boards = [(b, p) for b in ("streak", "best", "checkins")
                      for p in ("week", "month", "all")]

            def leaderboard(i: int) -> Awaitable[InteractionRecord]:
                board, period = boards[i % len(boards)]
                return emu.slash("leaderboard", {"board": board, "period": period},
                                 member=rng.choice(anyone), **where)

            # A real reminder post (the admin's /reminder test), whose Done button members press.
            add = await emu.slash("reminder", {"channel": club.channel, "time": "6:30"},
                                  subcommand="add", member=club.admin, **where)
            await add.wait_response()
            test = await emu.slash("reminder", {"id": 1}, subcommand="test", member=club.admin,
                                   **where)
            await test.wait_message()
            post = next(m for m in emu.world.channel_messages(int(club.channel["id"]))
                        if m.get("components"))
            done_id = button(post, "Done")["custom_id"]

            def done(i: int) -> Awaitable[InteractionRecord]:
                return emu.click(post, done_id, member=next(done_members), **where)

            cases: list[Case] = [
                # The card with its figure: the GIF is uploaded with every answer.
                ("/exercise clams (card + figure)", "figure",
                 slash("exercise", {"name": "clams"})),
                ("/exercises (browse)", "catalog", slash("exercises")),
                ("/exercise autocomplete", "catalog", complete),
                ("/checkin", "database", slash("checkin", None, lambda: next(checkin_members))),
                ("reminder Done button", "database", done),
                ("/leaderboard", "database", leaderboard),
            ]
            # The figures come at once; the calendar picture follows as an edit of the answer.
            cases.append(("/streak", "database", slash("streak"), calendar))
            yield cases
        finally:
            await proc.stop()
    finally:
        await emu.stop()


async def stride(runs: int, log_dir: Path, source: Path, floor: Send, only: str = "",
                 env: dict[str, str] | None = None) -> list[Latency]:
    async with stride_bot(runs, log_dir, source, env) as cases:
        return [r for name, kind, send, *done in cases if only in name
                for r in await measure(name, kind, send, runs, floor, *done)]


async def run(runs: int, tmp: Path, only: str = "", env: dict[str, str] | None = None
              ) -> list[Latency]:
    """The floor and Stride side by side; the emulators' garbage collector paused meanwhile."""
    source = bench_streaks.cached_database()
    gc.collect()
    gc.disable()
    try:
        async with minimal_bot(tmp) as (ping, echo):
            floor = await measure("floor: minimal bot /ping", "floor", ping, runs, ping)
            reference = await measure("minimal bot autocomplete", "reference", echo, runs, ping)
            return [*floor, *reference, *await stride(runs, tmp, source, ping, only, env)]
    finally:
        gc.enable()


def table(results: list[Latency]) -> str:
    lines = [f"{'interaction':28} {'runs':>6} {'p50 ms':>8} {'p99 ms':>8} {'floor p50':>10} "
             f"{'p50 / floor':>12}"]
    lines += [f"{r.name:28} {r.runs:6} {r.p50:8.2f} {r.p99:8.2f} {r.floor_p50:10.2f} "
              f"{r.ratio:12.2f}" for r in results]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--only", default="", help="only Stride's cases whose name has this")
    parser.add_argument("--sync", choices=("full", "normal"), default="full",
                        help="the bot's DATABASE_SYNC (default: full, as in production)")
    parser.add_argument("--no-figures", action="store_true",
                        help="cards without their figures (what a figure costs, side by side)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATABASE_SYNC": args.sync}
        if args.no_figures:
            (Path(tmp) / "no-figures.toml").write_text("", encoding="utf-8")
            env["FIGURES_PATH"] = str(Path(tmp) / "no-figures.toml")
        print(table(await run(args.runs, Path(tmp), args.only, env)))


if __name__ == "__main__":
    asyncio.run(main())
