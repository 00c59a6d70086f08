"""Club runs (/runs) through the real bot and the emulator, Discord's limits enforced.

    .venv/bin/python -m bench.bench_runs [--quick] [--steady-after 0] [--window 120]

1. Post skew: `servers` servers with a runs channel and a /runs setup (5 minutes before),
   the bot started and READY first; then two events per server created through the
   emulator (so the bot hears of them by gateway), all starting at the same instant, their
   posts due ~20 s after creation. In a fifth of the servers 5 members asked for run DMs and
   are Interested in both events. Reported: club-post skew (created minus due) p50 / p99 /
   max, the DMs' skew, 429s, and the per-run "who is Interested" reads. Target: every club
   post within 15 s of its due time, no 429.
2. Reconcile REST cost, the same bot: the list reads of the start's catch-up (how many, how
   long), then the list reads in a steady window after it, as calls per server per hour.
   Target: at most 12. The window runs while part 3 runs (at least `window` seconds).
   Note: each server's list is read again RECONCILE_EVERY (600 s) after its last read, so a
   window that ends within 600 s of the catch-up sees only reads outside that schedule (a
   loop that never settles, lists read again because they changed while read); the cadence
   itself shows with `--steady-after 600` (standalone only; the run then takes ~16 min).
3. Idle CPU: a bot with `idle_servers` /runs servers (one event each, far ahead) and,
   started beside it against its own emulator, the same bot on the same servers without
   /runs (baseline); their CPU % during the catch-up (one list a server at RECONCILE_RATE)
   and over a steady window after it, and their RSS. By default that window falls in the
   lull before the second round of reads; `--steady-after 600` puts it in that round.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.report import Row
from stride.runs import RECONCILE_EVERY, RECONCILE_RATE
from stride.storage.sqlite import prepare
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.event_routes import LIST_EVENT_USERS, LIST_EVENTS
from tests.emulator.harness import REPO_ROOT, BotProcess, launch_bot
from tests.emulator.records import MessageRecord, RequestRecord

BOT = REPO_ROOT / "bot.py"
MINUTES = 5  # the setup's lead (the least /runs allows)
LEAD_S = 20  # seconds from the events' creation to their posts' due time
EVENTS_PER_SERVER = 2
DM_MEMBERS = 5  # per DM server
CLUB_ALLOWED_S = 15.0
MAX_LOOKS_PER_HOUR = 12.0
SETTLE_S = 5.0  # after the catch-up, before a steady window starts

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Sizes:
    servers: int = 100
    dm_servers: int = 20
    window_s: float = 120.0  # part 2's steady window, at least
    idle_servers: int = 1000
    idle_window_s: float = 60.0
    steady_after_s: float = 0.0  # steady windows (parts 2, 3) start this long after catch-up


QUICK = Sizes(servers=10, dm_servers=2, window_s=30.0, idle_servers=100, idle_window_s=15.0)


@dataclass
class Skew:
    sent: int
    expected: int
    p50: float = float("nan")
    p99: float = float("nan")
    max: float = float("nan")

    @classmethod
    def of(cls, skews: Sequence[float], expected: int) -> Skew:
        if not skews:
            return cls(0, expected)
        ordered = sorted(skews)
        return cls(len(ordered), expected, statistics.median(ordered),
                   ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], ordered[-1])


@dataclass
class CatchUp:
    servers: int
    covered: int = 0  # servers whose list was read at least once
    calls: int = 0  # list reads until every server had been read
    first_s: float = float("nan")  # first read, seconds after the process started
    seconds: float = float("nan")  # first read to the one that covered the last server
    ended_wall: float = float("nan")


@dataclass
class Reconcile:
    servers: int
    window_s: float
    calls: int
    catch_up: CatchUp
    repeats: int  # servers whose list was read more than once before the window
    window_after_s: float  # from the catch-up's end to the window's start

    @property
    def per_server_hour(self) -> float:
        return self.calls / self.servers / self.window_s * 3600 if self.window_s else 0.0


@dataclass
class Idle:
    servers: int
    catch_up: CatchUp
    catch_up_cpu: tuple[float, float]  # runs, baseline (% of one core)
    catch_up_cpu_s: float  # from READY to the last server's first read
    steady_s: float = 0.0
    steady_cpu: tuple[float, float] = (float("nan"), float("nan"))
    steady_looks: int = 0
    steady_after_s: float = 0.0
    rss_mib: tuple[float, float] = (float("nan"), float("nan"))
    rate_limited: int = 0


@dataclass
class Results:
    sizes: Sizes
    club: Skew | None = None
    dms: Skew | None = None
    rate_limited: int = 0
    users_calls: int = 0
    dm_runs: int = 0
    reconcile: Reconcile | None = None
    idle: Idle | None = None
    cadence: Cadence | None = None
    logs: list[Path] = field(default_factory=list)


# ------------------------------------------------------------------------------ helpers

def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def guild_of(record: RequestRecord) -> int:
    return int(record.path.split("/")[2])  # /guilds/{guild_id}/scheduled-events...


def lists(emu: DiscordEmulator, since: int = 0) -> list[RequestRecord]:
    return [r for r in emu.requests[since:] if r.route == LIST_EVENTS]


def first_channel(emu: DiscordEmulator, guild: dict) -> dict:
    return next(iter(emu.world.guilds[int(guild["id"])].channels.values()))


def is_run_post(record: MessageRecord) -> bool:
    embeds = record.message.get("embeds") or []
    return bool(embeds) and "/events/" in (embeds[0].get("url") or "")


def seed(db: Path, channels: Sequence[dict], dm_members: Sequence[tuple[int, int, int]] = ()
         ) -> None:
    """/runs set up in each channel's server (`channels` may be empty: no /runs at all), and
    `dm_members` (guild, user, DM channel) asking for run DMs, their DM channels known."""
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    prepare(db)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO run_settings (guild_id, channel_id, minutes, created_by) VALUES (?, ?, ?, 1)",
        [(int(c["guild_id"]), int(c["id"]), MINUTES) for c in channels])
    conn.executemany("INSERT INTO run_dm_members (guild_id, user_id) VALUES (?, ?)",
                     [(g, u) for g, u, _ in dm_members])
    conn.executemany("INSERT INTO dm_channels (user_id, channel_id) VALUES (?, ?)",
                     sorted({(u, c) for _, u, c in dm_members}))
    conn.execute("COMMIT")
    conn.close()


def catch_up_of(emu: DiscordEmulator, servers: int, since: int, started: float) -> CatchUp:
    """The start's catch-up so far: list reads from request `since` on until every server's
    list had been read once (`started`: when the process was started, unix)."""
    found = CatchUp(servers)
    seen: set[int] = set()
    for record in lists(emu, since):
        if found.calls == 0:
            found.first_s = record.wall_time - started
        found.calls += 1
        seen.add(guild_of(record))
        if len(seen) == servers:
            found.seconds = record.wall_time - started - found.first_s
            found.ended_wall = record.wall_time
            break
    found.covered = len(seen)
    return found


async def wait_catch_up(emu: DiscordEmulator, servers: int, since: int, started: float,
                        timeout: float) -> CatchUp:
    deadline = time.monotonic() + timeout
    while True:
        found = catch_up_of(emu, servers, since, started)
        if found.covered == servers or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


# ------------------------------------------------------------------------------ part 1

class PostsBench:
    """Part 1's world and bot; the bot stays up for part 2's window."""

    def __init__(self, sizes: Sizes, tmp: Path) -> None:
        self.sizes = sizes
        self.tmp = tmp
        self.emu = DiscordEmulator()
        self.emu.discord_rate_limits()
        self.guilds = [self.emu.add_guild(f"Club {i}", channels=["runs"])
                       for i in range(sizes.servers)]
        self.channels = [first_channel(self.emu, g) for g in self.guilds]
        step = max(1, sizes.servers // max(1, sizes.dm_servers))
        self.dm_guilds = [g for i, g in enumerate(self.guilds) if i % step == 0][
            :sizes.dm_servers]
        self.members: dict[int, list[dict]] = {
            int(g["id"]): [self.emu.add_member(g, f"runner{i}-{j}") for j in range(DM_MEMBERS)]
            for i, g in enumerate(self.dm_guilds)}
        self.dm_channel_ids: set[int] = set()
        self.proc: BotProcess | None = None
        self.started = 0.0
        self.first_request = 0
        self.log = tmp / "runs-posts.log"

    async def start(self) -> None:
        await self.emu.start()
        dm_members = []
        for gid, members in self.members.items():
            for m in members:
                uid = int(m["user"]["id"])
                channel = int(self.emu.world.dm_channel(uid)["id"])
                self.dm_channel_ids.add(channel)
                dm_members.append((gid, uid, channel))
        db = self.tmp / "runs-posts.db"
        seed(db, self.channels, dm_members)
        self.first_request = len(self.emu.requests)
        self.started = time.time()
        self.proc = await launch_bot(self.emu, BOT, {"DATABASE_PATH": str(db)},
                                     log_path=self.log, timeout=60)

    async def stop(self) -> None:
        if self.proc is not None:
            await self.proc.stop()
        await self.emu.stop()

    async def posts(self, results: Results, progress: Progress) -> None:
        emu = self.emu
        began = time.time()
        due = int(began) + 1 + LEAD_S
        start = datetime.fromtimestamp(due + MINUTES * 60, UTC)
        events = [emu.add_scheduled_event(g, f"Club run {k + 1}", start)
                  for g in self.guilds for k in range(EVENTS_PER_SERVER)]
        for event in events:
            for member in self.members.get(int(event["guild_id"]), ()):
                emu.add_event_interest(event, member)
        created = time.time()
        club_ids = {int(c["id"]) for c in self.channels}
        club_expected = len(events)
        dm_expected = sum(len(m) for m in self.members.values()) * EVENTS_PER_SERVER
        results.dm_runs = len(self.dm_guilds) * EVENTS_PER_SERVER
        progress(f"{len(events)} events created in {created - began:.1f} s; posts "
                 f"due in {due - created:.0f} s ({club_expected} club posts, {dm_expected} DMs)")

        def split() -> tuple[list[MessageRecord], list[MessageRecord]]:
            posts = [r for r in emu.channel_posts if is_run_post(r)]
            return ([r for r in posts if r.channel_id in club_ids],
                    [r for r in posts if r.channel_id in self.dm_channel_ids])

        deadline = time.monotonic() + LEAD_S + 120
        while True:
            club, dms = split()
            if len(club) >= club_expected and len(dms) >= dm_expected:
                break
            if time.monotonic() > deadline:
                progress(f"gave up waiting: {len(club)}/{club_expected} club posts, "
                         f"{len(dms)}/{dm_expected} DMs (see {self.log})")
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # anything late (a repeat would show as sent > expected)
        club, dms = split()
        results.club = Skew.of([r.created_wall - due for r in club], club_expected)
        results.dms = Skew.of([r.created_wall - due for r in dms], dm_expected)
        results.users_calls = sum(r.route == LIST_EVENT_USERS for r in emu.requests)
        progress(f"club posts: last {results.club.max:.1f} s after due; DMs: last "
                 f"{results.dms.max:.1f} s; {len(emu.rate_limited)} x 429")

    def reconcile(self, window_start: float, window_end: float) -> Reconcile:
        catch = catch_up_of(self.emu, self.sizes.servers, self.first_request, self.started)
        before: dict[int, int] = {}
        calls = 0
        for record in lists(self.emu, self.first_request):
            if record.wall_time < window_start:
                before[guild_of(record)] = before.get(guild_of(record), 0) + 1
            elif record.wall_time < window_end:
                calls += 1
        return Reconcile(self.sizes.servers, window_end - window_start, calls, catch,
                         sum(n > 1 for n in before.values()), window_start - catch.ended_wall)


# ------------------------------------------------------------------------------ part 3

async def idle_cpu(sizes: Sizes, tmp: Path, progress: Progress) -> Idle:
    """The /runs bot and the baseline side by side, each against its own emulator with the
    same servers and events: CPU during the catch-up and after it, and RSS."""
    servers = sizes.idle_servers
    far = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    emus, dbs = [], []
    for name in ("runs", "baseline"):
        emu = DiscordEmulator()
        emu.discord_rate_limits()
        guilds = [emu.add_guild(f"Club {i}", channels=["runs"]) for i in range(servers)]
        for g in guilds:  # before any bot connects: in GUILD_CREATE, not dispatched
            emu.add_scheduled_event(g, "Sunday long run", far)
        db = tmp / f"runs-idle-{name}.db"
        seed(db, [first_channel(emu, g) for g in guilds] if name == "runs" else [])
        emus.append(emu)
        dbs.append(db)
    procs: list[BotProcess] = []
    try:
        for emu in emus:
            await emu.start()
        since = len(emus[0].requests)
        started = time.time()
        procs = list(await asyncio.gather(*(
            launch_bot(emu, BOT, {"DATABASE_PATH": str(db)},
                       log_path=tmp / f"runs-idle-{i}.log", timeout=120)
            for i, (emu, db) in enumerate(zip(emus, dbs, strict=True)))))
        ready_s = time.time() - started
        progress(f"both bots READY with {servers:,} servers in {ready_s:.1f} s; catch-up at "
                 f"{RECONCILE_RATE:.0f}/s (~{servers / RECONCILE_RATE:.0f} s)")
        cpu0 = [cpu_seconds(p.pid) for p in procs]
        wall0 = time.monotonic()
        catch = await wait_catch_up(emus[0], servers, since, started,
                                    servers / RECONCILE_RATE * 2 + 60)
        wall1 = time.monotonic()
        cpu1 = [cpu_seconds(p.pid) for p in procs]
        during = tuple((b - a) / (wall1 - wall0) * 100 for a, b in zip(cpu0, cpu1, strict=True))
        found = Idle(servers, catch, (during[0], during[1]), wall1 - wall0)
        progress(f"catch-up: {catch.calls:,} list reads, {catch.covered:,}/{servers:,} servers "
                 f"in {catch.seconds:.0f} s; CPU {during[0]:.2f} % vs {during[1]:.2f} % baseline")
        if sizes.steady_after_s:
            progress(f"waiting {sizes.steady_after_s:.0f} s for the next round of reads")
        await asyncio.sleep(SETTLE_S + sizes.steady_after_s)
        looks0 = len(lists(emus[0], since))
        cpu0, wall0 = [cpu_seconds(p.pid) for p in procs], time.monotonic()
        await asyncio.sleep(sizes.idle_window_s)
        cpu1, wall1 = [cpu_seconds(p.pid) for p in procs], time.monotonic()
        after = tuple((b - a) / (wall1 - wall0) * 100 for a, b in zip(cpu0, cpu1, strict=True))
        found.steady_s = wall1 - wall0
        found.steady_cpu = (after[0], after[1])
        found.steady_looks = len(lists(emus[0], since)) - looks0
        found.steady_after_s = sizes.steady_after_s
        rss = [rss_mib(p.pid) for p in procs]
        found.rss_mib = (rss[0], rss[1])
        found.rate_limited = len(emus[0].rate_limited) + len(emus[1].rate_limited)
        progress(f"steady {found.steady_s:.0f} s: CPU {after[0]:.2f} % vs {after[1]:.2f} % "
                 f"baseline; RSS {rss[0]:.1f} vs {rss[1]:.1f} MiB")
        return found
    finally:
        for proc in procs:
            await proc.stop()
        for emu in emus:
            await emu.stop()


# ------------------------------------------------------------------------- cadence

@dataclass
class Cadence:
    """Part 2b: the production look loop (`Runs.follow`) over one hour on a manual clock."""

    servers: int
    hour_calls: int  # list reads in the first hour after the start, catch-up included
    second_hour_calls: int
    longest_gap_s: float  # the longest time between two looks at one server
    catch_up_s: float  # from the start until every server was looked at once

    @property
    def per_server_hour(self) -> float:
        return self.second_hour_calls / self.servers


async def cadence(servers: int, tmp: Path) -> Cadence:
    """Two hours of Stride's look loop, its time injected: the real `Runs` service on a
    SQLite database with `servers` /runs setups, each look answering one event far ahead (as
    Discord's list would). Counts the looks per server and hour, and the longest gap."""
    from stride.catalog import load_catalog
    from stride.clock import ManualClock
    from stride.records import RunEvent
    from stride.reminders import Reminders
    from stride.runs import Runs
    from stride.storage.sqlite import SqliteStorage

    storage = SqliteStorage(tmp / "cadence.db")
    await storage.open()
    try:
        start = datetime(2026, 12, 1, tzinfo=UTC)
        clock = ManualClock(start)
        catalog = load_catalog(REPO_ROOT / "data" / "exercises.toml")
        runs = Runs(storage, catalog, Reminders(storage, catalog, clock), clock)
        guilds = [(n + 1) << 22 for n in range(servers)]
        for g in guilds:
            await runs.setup(g, g + 1, 30, None, None, None, 1)
        looks: dict[int, list[float]] = {g: [] for g in guilds}
        far = int((start + timedelta(days=30)).timestamp())

        async def listed() -> list[int]:
            return guilds

        async def look(guild_id: int) -> list[RunEvent]:
            at = (clock.now() - start).total_seconds()
            if at >= 7200:
                raise _HourOver
            looks[guild_id].append(at)
            return [RunEvent(guild_id, guild_id + 2, "Long run", far)]

        with contextlib.suppress(_HourOver):
            await runs.follow(listed, look)
    finally:
        await storage.close()
    times = [t for ts in looks.values() for t in ts]
    gaps = [b - a for ts in looks.values() for a, b in itertools.pairwise(ts)]
    return Cadence(servers, sum(t < 3600 for t in times), sum(t >= 3600 for t in times),
                   max(gaps, default=0.0), max(ts[0] for ts in looks.values()))


class _HourOver(Exception):
    pass


# ------------------------------------------------------------------------------ all

async def run(quick: bool, tmp: Path, progress: Progress = lambda _m: None,
              sizes: Sizes | None = None) -> Results:
    sizes = sizes or (QUICK if quick else Sizes())
    tmp.mkdir(parents=True, exist_ok=True)
    results = Results(sizes)
    bench = PostsBench(sizes, tmp)
    results.logs.append(bench.log)
    try:
        progress(f"post skew: {sizes.servers} servers with /runs, starting the bot")
        await bench.start()
        await bench.posts(results, progress)
        results.rate_limited = len(bench.emu.rate_limited)
        catch = await wait_catch_up(bench.emu, sizes.servers, bench.first_request,
                                    bench.started, sizes.servers / RECONCILE_RATE * 2 + 60)
        over = catch.ended_wall + SETTLE_S if catch.covered == sizes.servers else 0.0
        window_start = over + sizes.steady_after_s if sizes.steady_after_s and over \
            else max(time.time(), over)
        if sizes.idle_servers:
            progress(f"idle CPU: {sizes.idle_servers:,} servers with /runs beside a baseline "
                     "without (reconcile window of the first bot meanwhile)")
            results.idle = await idle_cpu(sizes, tmp, progress)
            results.logs += [tmp / "runs-idle-0.log", tmp / "runs-idle-1.log"]
        rest = window_start + sizes.window_s - time.time()
        if rest > 0:
            progress(f"reconcile window: {rest:.0f} s more")
            await asyncio.sleep(rest)
        results.reconcile = bench.reconcile(window_start, time.time())
        results.rate_limited = len(bench.emu.rate_limited)
    finally:
        await bench.stop()
    progress(f"look cadence: two hours of the look loop, {sizes.idle_servers or 100:,} "
             "servers, on a manual clock")
    results.cadence = await cadence(sizes.idle_servers or 100, tmp)
    return results


def rows(r: Results) -> list[Row]:
    """The rows for `python -m bench`'s table."""
    out: list[Row] = []
    club, dms = r.club, r.dms
    if club is not None and dms is not None:
        out.append(Row(
            f"runs: {club.expected} club posts due at once ({r.sizes.servers} servers), "
            "skew p50 / p99 / max",
            f"{club.p50:.1f} / {club.p99:.1f} / {club.max:.1f} s; {club.sent} sent, "
            f"{r.rate_limited} x 429",
            f"all within {CLUB_ALLOWED_S:.0f} s, no 429",
            club.sent == club.expected and club.max <= CLUB_ALLOWED_S and r.rate_limited == 0))
        out.append(Row(
            f"runs: {dms.expected} member DMs after them, skew p50 / p99 / max",
            f"{dms.p50:.1f} / {dms.p99:.1f} / {dms.max:.1f} s; {dms.sent} sent",
            "all sent", dms.sent == dms.expected))
        out.append(Row("runs: 'who is Interested' reads (GET .../users)",
                       f"{r.users_calls} for {r.dm_runs} runs in servers with DM members",
                       "-", None))
    rec = r.reconcile
    if rec is not None:
        c = rec.catch_up
        out.append(Row(
            f"runs: start catch-up, {rec.servers} servers",
            f"{c.calls} list reads in {c.seconds:.1f} s ({c.covered}/{c.servers} servers, "
            f"{per_s(c)}; first {c.first_s:.1f} s after start); {rec.repeats} read again",
            "-", None))
        out.append(Row(
            f"runs: list reads in the {rec.window_s:.0f} s from "
            f"{rec.window_after_s:.0f} s after catch-up (each server's next is 600 s on)",
            f"{rec.calls} = {rec.per_server_hour:.2f} per server per hour", "-", None))
    cad = r.cadence
    if cad is not None:
        out.append(Row(
            f"runs: list reads per server per hour, {cad.servers:,} servers (the look loop "
            "over 2 h, manual clock)",
            f"{cad.per_server_hour:.2f} in the second hour ({cad.hour_calls / cad.servers:.2f}"
            f" in the first, with the catch-up of {cad.catch_up_s:.0f} s); longest gap "
            f"{cad.longest_gap_s:.0f} s",
            f"<= {MAX_LOOKS_PER_HOUR:.0f}", cad.per_server_hour <= MAX_LOOKS_PER_HOUR))
    idle = r.idle
    if idle is not None:
        c = idle.catch_up
        (cr, cb), (sr, sb), (mr, mb) = idle.catch_up_cpu, idle.steady_cpu, idle.rss_mib
        out.append(Row(
            f"runs: start catch-up, {idle.servers:,} servers (the CPU bot)",
            f"{c.calls:,} in {c.seconds:.0f} s ({c.covered:,}/{c.servers:,} servers, "
            f"{per_s(c)}); {idle.rate_limited} x 429", "-", None))
        out.append(Row(
            f"runs: CPU during that catch-up ({idle.catch_up_cpu_s:.0f} s) vs no /runs",
            f"{cr:.2f} % vs {cb:.2f} % ({cr - cb:+.2f} pts, {ratio(cr, cb)})", "-", None))
        out.append(Row(
            f"runs: idle CPU {idle.steady_after_s + SETTLE_S:.0f} s after it "
            f"({idle.steady_s:.0f} s) vs no /runs",
            f"{sr:.2f} % vs {sb:.2f} % ({sr - sb:+.2f} pts, {ratio(sr, sb)}); "
            f"{idle.steady_looks} list reads", "-", None))
        out.append(Row(
            f"runs: RSS, {idle.servers:,} servers with /runs vs without",
            f"{mr:.1f} vs {mb:.1f} MiB ({mr - mb:+.1f})", "-", None))
    return out


def per_s(c: CatchUp) -> str:
    return f"{(c.calls - 1) / c.seconds:.2f}/s" if c.seconds > 0 else "-"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "baseline 0"


async def main() -> None:
    from bench.report import table

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--servers", type=int)
    parser.add_argument("--idle-servers", type=int, help="0: skip part 3")
    parser.add_argument("--window", type=float, help="part 2's steady window, seconds")
    parser.add_argument("--steady-after", type=float, default=0.0,
                        help=f"start part 2's window this long after the catch-up (e.g. "
                             f"{RECONCILE_EVERY:.0f}, to see the cadence)")
    parser.add_argument("--keep-logs", type=Path, help="copy the bots' logs here")
    args = parser.parse_args()
    base = QUICK if args.quick else Sizes()
    sizes = Sizes(
        servers=args.servers or base.servers,
        dm_servers=min(base.dm_servers, args.servers or base.servers),
        window_s=args.window if args.window is not None else base.window_s,
        idle_servers=base.idle_servers if args.idle_servers is None else args.idle_servers,
        idle_window_s=base.idle_window_s, steady_after_s=args.steady_after)
    with tempfile.TemporaryDirectory() as tmp:
        results = await run(args.quick, Path(tmp), lambda m: print(f"    {m}", flush=True),
                            sizes)
        if args.keep_logs:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
            for log in results.logs:
                if log.exists():
                    (args.keep_logs / log.name).write_bytes(log.read_bytes())
    print(table(rows(results)))


if __name__ == "__main__":
    asyncio.run(main())
