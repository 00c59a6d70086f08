"""PostgreSQL beside SQLite, and several processes on one PostgreSQL database.

    .venv/bin/python -m bench.bench_postgres [--quick] [--only latency,load,burst]

Starts a throwaway PostgreSQL cluster (tests/postgres.py) with PostgreSQL's default
durability (fsync and synchronous_commit on, as SQLite runs with synchronous=FULL) and
pg_stat_statements loaded, then:

1. migrate: the 5,000,000-check-in database of bench.bench_streaks (a copy, upgraded to the
   latest schema) copied into an empty PostgreSQL database and verified (`bot.py migrate`).
2. latency: /checkin, the reminder Done button, /leaderboard (every board and period in
   turn) and /streak through the emulator, the real bot as a subprocess on each backend
   (SQLite: a copy of the same database), one interaction at a time, the two backends'
   samples interleaved (alternating which goes first). Statements per command as the
   server counted them (pg_stat_statements, calls during the case / interactions).
3. in process: the same operations on `Checkins` over both storages side by side, the
   statements each made on PostgreSQL (asyncpg's query logger on every pool connection),
   and EXPLAIN ANALYZE of the exact board SQL the backend ran (after ANALYZE): each plan's
   top node, its scans, and whether any is a sequential scan of members, check-ins or the
   per-value counts; also the generic plan the server may switch to after five runs.
4. load: the mixed load of bench.bench_load (two clubs of equal size, one on each of two
   shards) at rising rates, on SQLite (one process), PostgreSQL with one process, and
   PostgreSQL with two processes each running one shard; the three worlds run at once and
   take turns at each rate. The highest rate with p99 < 100 ms and nothing late, lost or
   failed is the result.
5. burst: 400 club reminders due at once in 8 servers of 50 channels (servers on both
   shards), Discord's rate limits on: SQLite, PostgreSQL one process, two processes (each
   then paces at REMINDER_RATE / 2).

Skips (saying why) when PostgreSQL is not installed. `--quick`: small sizes, fast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import bench_interactions as bi
from bench import bench_load as bl
from bench import bench_reminders as br
from bench import bench_streaks as bs
from bench.migrate_check import reads_alike
from bench.report import Row, table
from stride.checkins import Checkins
from stride.clock import ManualClock
from stride.records import BOARDS, PERIODS
from stride.storage import SqliteStorage
from stride.storage.sqlite import prepare
from tests import postgres as pgtest
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import launch_bot

#: PostgreSQL's defaults for durability (fsync, synchronous_commit, full_page_writes all
#: on) and memory (shared_buffers 128 MB); room for the processes' pools; statement counts.
SERVER_SETTINGS = (
    "-c listen_addresses=127.0.0.1 -c max_connections=200 "
    "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=on"
)
TARGET_RATIO = 1.5  # PostgreSQL's p50 / SQLite's, through the emulator
TARGET_TRIPS = 3  # statements per command
TARGET_P99_MS = 100.0
SCANNED = {"members", "checkins", "board_counts"}  # tables a board must not scan whole
SHARD_STEP = 1 << 22  # Discord: a server is on shard (id >> 22) % shard count
BASE_GUILD = 2 * 3_000_000 * SHARD_STEP  # on shard 0 of 2; + SHARD_STEP: on shard 1
CASES = ("/checkin", "reminder Done button", "/leaderboard", "/streak")


@dataclass(frozen=True)
class Sizes:
    members: int = bs.MEMBERS
    checkins: int = bs.CHECKINS
    runs: int = 1000  # interactions per case and backend
    inproc_runs: int = 300
    load_members: int = 500
    load_rates: tuple[int, ...] = (100, 150, 200, 250, 300, 400, 500, 600)
    load_seconds: float = 10.0
    burst: int = 400


QUICK = Sizes(members=2000, checkins=100_000, runs=40, inproc_runs=30, load_members=100,
              load_rates=(40, 80), load_seconds=3.0, burst=40)


def unavailable() -> str | None:
    """Why there can be no PostgreSQL here (then everything below is skipped), or None."""
    return pgtest.unavailable_reason()


def percentiles(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return statistics.median(s), s[min(len(s) - 1, int(len(s) * 0.99))] if s else float("nan")


# ------------------------------------------------------------------------- 1. migrate

@dataclass
class Migration:
    rows: int
    checkins: int
    seconds: float  # the whole migrate() call: copy, verify, ANALYZE, commit
    copy_seconds: float
    verify_seconds: float
    upgrade_seconds: float  # the SQLite copy brought to the latest schema first
    source_mib: float


async def migrate_big(source: Path, work: Path, url: str) -> tuple[Migration, Path]:
    """A copy of the benchmark database upgraded to the latest schema, migrated into the
    empty database at `url`; returns the figures and that upgraded copy."""
    from stride.storage.transfer import migrate

    copy = work / "migrate-source.db"
    shutil.copyfile(source, copy)
    t0 = time.perf_counter()
    prepare(copy)
    upgraded = time.perf_counter() - t0
    report = await migrate(copy, url)
    checkins = next((t.rows for t in report.tables if t.name == "checkins"), 0)
    return Migration(report.rows, checkins, report.seconds,
                     sum(t.copy_seconds for t in report.tables),
                     sum(t.verify_seconds for t in report.tables), upgraded,
                     copy.stat().st_size / 2**20), copy


# ------------------------------------------------------------------------- 2. latency

@dataclass
class Pair:
    name: str
    sqlite_p50: float
    sqlite_p99: float
    pg_p50: float
    pg_p99: float
    runs: int
    statements: float  # per interaction, counted by the server
    by_statement: list[tuple[float, str]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.pg_p50 / self.sqlite_p50


class ServerStatements:
    """pg_stat_statements of one database, read through the maintenance database."""

    def __init__(self, server: pgtest.PostgresServer, url: str) -> None:
        self.server = server
        self.name = url.rsplit("/", 1)[1]

    async def __aenter__(self) -> ServerStatements:
        self.conn = await self.server.connect()
        await self.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        self.dbid = await self.conn.fetchval(
            "SELECT oid FROM pg_database WHERE datname = $1", self.name)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.close()

    async def reset(self) -> None:
        await self.conn.execute("SELECT pg_stat_statements_reset()")

    async def calls(self) -> list[tuple[int, str]]:
        return [(int(r[0]), r[1]) for r in await self.conn.fetch(
            "SELECT calls, query FROM pg_stat_statements WHERE dbid = $1 ORDER BY calls DESC",
            self.dbid)]


async def measure_pair(name: str, sqlite: Any, pg: Any, runs: int,
                       stats: ServerStatements) -> Pair:
    """Warm up, then one interaction at a time on each backend, alternating which goes
    first; the server's statement counts from the end of the warm-up."""
    send_s, *finished_s = sqlite
    send_p, *finished_p = pg
    lite: list[float] = []
    post: list[float] = []
    for i in range(-bi.WARM_UP, runs):
        if i == 0:
            await asyncio.sleep(0.2)  # the warm-up's follow-ups (calendar edits) land
            await stats.reset()
        order = [("s", send_s, finished_s), ("p", send_p, finished_p)]
        if i % 2:
            order.reverse()
        for which, send, finished in order:
            first, _ = await bi.sample(name, send, i, *finished)
            if i >= 0:
                (lite if which == "s" else post).append(first)
    await asyncio.sleep(0.2)
    calls = await stats.calls()
    total = sum(c for c, _ in calls)
    s50, s99 = percentiles(lite)
    p50, p99 = percentiles(post)
    return Pair(name, s50, s99, p50, p99, runs, total / runs,
                [(c / runs, " ".join(q.split())[:110]) for c, q in calls[:6]])


async def latency(sizes: Sizes, work: Path, source: Path, url: str,
                  server: pgtest.PostgresServer) -> list[Pair]:
    """The cases on both backends, each bot in an emulator of its own, interleaved."""
    async with contextlib.AsyncExitStack() as stack:
        lite = await stack.enter_async_context(bi.stride_bot(
            sizes.runs, work, source, name="sqlite", members=sizes.members))
        post = await stack.enter_async_context(bi.stride_bot(
            sizes.runs, work, source, database={"DATABASE_URL": url}, name="postgres",
            members=sizes.members))
        stats = await stack.enter_async_context(ServerStatements(server, url))
        by_name_s = {c[0]: c[2:] for c in lite}
        by_name_p = {c[0]: c[2:] for c in post}
        gc.collect()
        gc.disable()
        try:
            return [await measure_pair(n, by_name_s[n], by_name_p[n], sizes.runs, stats)
                    for n in CASES]
        finally:
            gc.enable()


# --------------------------------------------------------------------- 3. in process

@dataclass
class InProcess:
    name: str
    sqlite_p50: float
    pg_p50: float
    pg_p99: float
    statements: float  # on PostgreSQL, per operation (asyncpg's query logger)


@dataclass
class Plan:
    board: str
    period: str
    which: str  # "page" or "rank"
    top: str  # the plan's top node
    scans: list[str]
    seq_scans: list[str]  # of members / checkins / board_counts
    ms: float  # EXPLAIN ANALYZE's execution time
    generic_seq_scans: list[str] | None  # the same for the generic plan (None: not checked)


class QueryLog:
    """Every statement PostgresStorage sends, on any connection of its pool."""

    def __init__(self, storage: Any) -> None:
        self.count = 0
        self.queries: list[tuple[str, tuple[Any, ...]]] = []
        original = storage.connection

        @contextlib.asynccontextmanager
        async def logged() -> AsyncIterator[Any]:
            async with original() as conn:
                conn.add_query_logger(self.log)  # a set: added once per connection
                yield conn

        storage.connection = logged

    def log(self, record: Any) -> None:
        self.count += 1
        self.queries.append((record.query, tuple(record.args or ())))
        del self.queries[:-50]


async def in_process(sizes: Sizes, sqlite_path: Path, url: str
                     ) -> tuple[list[InProcess], list[Plan]]:
    """`Checkins` on both storages, side by side, as the cogs call them (at bench_streaks'
    NOW); the statements each made on PostgreSQL, and the board queries' plans."""
    from stride.storage.postgres import PostgresStorage

    lite, post = SqliteStorage(sqlite_path), PostgresStorage(url)
    await lite.open()
    await post.open()
    qlog = QueryLog(post)
    clock = ManualClock(bs.NOW)
    both = {"s": Checkins(lite, clock), "p": Checkins(post, clock)}
    conn = sqlite3.connect(sqlite_path)
    # Members who have not checked in at NOW, apart from those the latency bench used.
    free = [r[0] for r in conn.execute(
        "SELECT user_id FROM members WHERE guild_id = ? AND last_day < ? AND user_id > ? "
        "ORDER BY user_id", (bs.GUILD, bs.NOW.date().isoformat(), sizes.members // 2))]
    conn.close()
    rng = random.Random(11)
    rng.shuffle(free)
    fresh = iter(free)
    users = list(range(1, sizes.members + 1))
    found: list[InProcess] = []
    plans: list[Plan] = []

    async def timed(name: str, op: Callable[[Checkins, int], Awaitable[object]],
                    pick: Callable[[], int]) -> list[tuple[str, tuple[Any, ...]]]:
        times: dict[str, list[float]] = {"s": [], "p": []}
        counted = 0
        for i in range(-5, sizes.inproc_runs):
            user = pick()
            for which in ("sp" if i % 2 else "ps"):
                before = qlog.count
                t0 = time.perf_counter()
                await op(both[which], user)
                elapsed = (time.perf_counter() - t0) * 1000
                if i >= 0:
                    times[which].append(elapsed)
                    if which == "p":
                        counted += qlog.count - before
        p50, p99 = percentiles(times["p"])
        found.append(InProcess(name, statistics.median(times["s"]), p50, p99,
                               counted / sizes.inproc_runs))
        return list(qlog.queries)

    await timed("/checkin", lambda c, u: c.check_in(bs.GUILD, u, "quick"), lambda: next(fresh))
    for board in BOARDS:
        for period in PERIODS:
            def page_of(c: Checkins, u: int, b: str = board, p: str = period
                        ) -> Awaitable[object]:
                return c.board(bs.GUILD, u, b, p, rng.randrange(50))

            seen = await timed(f"/leaderboard {board} {period}", page_of,
                               lambda: rng.choice(users))
            page, rank = [q for q in seen if "FROM members" in q[0]][-2:]
            async with post.connection() as pconn:
                for which, (sql, args) in (("page", page), ("rank", rank)):
                    plans.append(await explain(pconn, board, period, which, sql, args))
    await timed("/streak figures", lambda c, u: c.member_view(bs.GUILD, u),
                lambda: rng.choice(users))
    await lite.close()
    await post.close()
    return found, plans


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in _nodes(child))]


def _scan(node: dict[str, Any]) -> str:
    index = f" using {node['Index Name']}" if "Index Name" in node else ""
    return f"{node['Node Type']} on {node['Relation Name']}{index}"


async def explain(conn: Any, board: str, period: str, which: str, sql: str,
                  args: tuple[Any, ...]) -> Plan:
    """The plan of `sql` as run with `args` (EXPLAIN ANALYZE), and the generic plan."""
    raw = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)
    doc = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    nodes = _nodes(doc["Plan"])
    scans = [_scan(n) for n in nodes if "Relation Name" in n]
    seq = [s for n, s in zip([n for n in nodes if "Relation Name" in n], scans, strict=True)
           if n["Node Type"] == "Seq Scan" and n["Relation Name"] in SCANNED]
    top = doc["Plan"]["Node Type"]
    if top == "Result" and doc["Plan"].get("Plans"):  # the rank: its sub-selects
        top = "Result (InitPlans)"
    generic: list[str] | None
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            graw = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
        gdoc = (json.loads(graw) if isinstance(graw, str) else graw)[0]
        generic = [_scan(n) for n in _nodes(gdoc["Plan"]) if n.get("Node Type") == "Seq Scan"
                   and n.get("Relation Name") in SCANNED]
    except Exception:  # for reference only
        generic = None
    return Plan(board, period, which, top, scans, seq, float(doc["Execution Time"]), generic)


# ----------------------------------------------------------------------------- 4. load

@dataclass
class Step:
    rate: int
    total: int
    p50: float
    p99: float
    max: float
    failures: list[str]
    bot_cpu: float  # CPU seconds of the bot process(es) during the step
    lag_p99: float  # ms the load generator dispatched behind schedule
    emu_cpu: float  # CPU seconds of this process (emulator + load generator) meanwhile

    @property
    def ok(self) -> bool:
        return not self.failures and self.p99 < TARGET_P99_MS


@dataclass
class LoadWorld:
    name: str
    emu: DiscordEmulator
    procs: list[Any]
    work: bl.Workload
    steps: list[Step] = field(default_factory=list)
    stopped: bool = False

    @property
    def best(self) -> Step | None:
        passed = [s for s in self.steps if s.ok]
        return passed[-1] if passed else None


async def load_world(name: str, sizes: Sizes, tmp: Path, url: str | None,
                     processes: int) -> LoadWorld:
    """Emulator, two clubs of equal size on shards 0 and 1, history, the bot(s), seeded."""
    from stride.storage.transfer import migrate

    tmp.mkdir(parents=True, exist_ok=True)
    emu = DiscordEmulator()
    emu.discord_rate_limits()
    emu.strict_commands = True
    emu.gateway.shard_count = processes
    clubs = bl.build_world(emu, sizes.load_members, even=True,
                           guild_ids=[BASE_GUILD, BASE_GUILD + SHARD_STEP])
    db = tmp / "stride.db"
    bl.seed_history(db, clubs)
    env: dict[str, str] = {}
    if url is not None:
        await migrate(db, url)
        env["DATABASE_URL"] = url
    await emu.start()
    procs = await bl.start_bots(emu, tmp, db, env, processes)
    work = bl.Workload(emu, clubs, seed=1)
    await work.seed()
    warm = await work.warm_up(60)
    bad = [r for r in warm if r.errors or r.unanswered or r.late]
    if bad:
        raise RuntimeError(f"{name}: warm-up failed: {bad[0].op}: {bad[0].errors}")
    return LoadWorld(name, emu, procs, work)


async def load_step(world: LoadWorld, rate: int, seconds: float) -> Step:
    total = int(rate * seconds)
    errors0, limited0 = len(world.emu.error_responses), len(world.emu.rate_limited)
    cpu0 = sum(bl.cpu_seconds(p.pid) for p in world.procs)
    own0 = time.process_time()
    gc.collect()
    gc.disable()
    try:
        results = await world.work.drive(rate, total)
    finally:
        gc.enable()
    await asyncio.sleep(0.5)
    cpu = sum(bl.cpu_seconds(p.pid) for p in world.procs) - cpu0
    own = time.process_time() - own0
    lat = sorted(r.latency * 1000 for r in results if r.latency is not None)
    lags = sorted(r.lag * 1000 for r in results)
    failures = []
    for what, n in (("late", sum(r.late for r in results)),
                    ("unanswered", sum(r.unanswered for r in results)),
                    ("with errors", sum(bool(r.errors) for r in results)),
                    ("error responses", len(world.emu.error_responses) - errors0),
                    ("429s", len(world.emu.rate_limited) - limited0)):
        if n:
            failures.append(f"{n} {what}")
    return Step(rate, total, bl.percentile(lat, 0.5), bl.percentile(lat, 0.99),
                lat[-1] if lat else float("nan"), failures, cpu, bl.percentile(lags, 0.99),
                own)


async def load(sizes: Sizes, tmp: Path, server: pgtest.PostgresServer,
               progress: Callable[[str], None]) -> list[LoadWorld]:
    """The three worlds at once; at each rate each in turn, until it misses twice in a row
    at one rate (a miss is tried again at once: the machine is shared and noisy)."""
    worlds: list[LoadWorld] = []
    try:
        for name, backend, processes in (("SQLite, 1 process", "sqlite", 1),
                                         ("PostgreSQL, 1 process", "pg", 1),
                                         ("PostgreSQL, 2 processes", "pg", 2)):
            url = await server.create_database() if backend == "pg" else None
            worlds.append(await load_world(name, sizes, tmp / f"load-{len(worlds)}", url,
                                           processes))
        for rate in sizes.load_rates:
            for world in worlds:
                if world.stopped:
                    continue
                for _attempt in range(2):
                    step = await load_step(world, rate, sizes.load_seconds)
                    world.steps.append(step)
                    progress(f"load {world.name} {rate}/s: p50 {step.p50:.1f} p99 "
                             f"{step.p99:.1f} ms, CPU bot {step.bot_cpu / sizes.load_seconds:.0%}"
                             f" emulator {step.emu_cpu / sizes.load_seconds:.0%} "
                             f"{'; '.join(step.failures)}")
                    if step.ok:
                        break
                    await asyncio.sleep(1.0)
                world.stopped = not step.ok
            if all(w.stopped for w in worlds):
                break
        return worlds
    finally:
        for world in worlds:
            for proc in world.procs:
                await proc.stop()
            await world.emu.stop()


# ---------------------------------------------------------------------------- 5. burst

def burst_world(emu: DiscordEmulator, channels: int, guilds: int = 8) -> list[dict[str, Any]]:
    """`guilds` servers sharing `channels` channels (400: 8 of 50), alternately on shard 0
    and shard 1 of two."""
    per = -(-channels // guilds)
    found = []
    for g in range(guilds):
        count = min(per, channels - g * per)
        if count <= 0:
            break
        guild = emu.add_guild(f"Club {g}", channels=[f"runs-{i}" for i in range(count)],
                              guild_id=BASE_GUILD + g * SHARD_STEP)
        found += list(emu.world.guilds[int(guild["id"])].channels.values())
    return found


async def burst(count: int, tmp: Path, url: str | None, processes: int) -> dict[str, float]:
    """`count` club reminders due at once, Discord's limits; all sent? 429s? the last?"""
    from stride.storage.transfer import migrate

    tmp.mkdir(parents=True, exist_ok=True)
    emu = DiscordEmulator()
    emu.discord_rate_limits()
    emu.gateway.shard_count = processes
    channels = burst_world(emu, count)
    await emu.start()
    procs: list[Any] = []
    try:
        db = tmp / "burst.db"
        due = int(time.time()) + 8  # the bots are up by then
        br.seed(db, emu, channels, [], due)
        env = {"DATABASE_PATH": str(db), "DATABASE_URL": "", "SHARD_COUNT": ""}
        if url is not None:
            await migrate(db, url)
            env["DATABASE_URL"] = url
        if processes == 1:
            procs = [await launch_bot(emu, br.BOT, env, log_path=tmp / "bot.log")]
        else:
            procs = list(await asyncio.gather(*(launch_bot(
                emu, br.BOT, {**env, "SHARD_COUNT": str(processes), "SHARD_IDS": str(i)},
                log_path=tmp / f"bot-{i}.log", shards=[i]) for i in range(processes))))
        started = time.time()
        await br.wait_for_posts(emu, count, count / 40 + 60)
        await asyncio.sleep(1.0)  # a duplicate would show up now
        times = [r.created_wall for r in emu.channel_posts]
        shard_of = {int(c["id"]): (int(c["guild_id"]) >> 22) % 2 for c in channels}
        per_shard = Counter(shard_of.get(r.channel_id, -1) for r in emu.channel_posts)
        for r in emu.rate_limited:  # which limit, when: for the report
            print(f"    429: {r.method} {r.route or r.path} scope={r.rate_limit_scope} "
                  f"{r.wall_time - due:+.2f} s after due", file=sys.stderr, flush=True)
        return {"sent": len(times), "429s": len(emu.rate_limited),
                "last_after_due_s": max(times) - due,
                "first_after_due_s": min(times) - due, "allowed_s": count / 40 + 5,
                "up_before_due_s": due - started, "shard0": per_shard[0],
                "shard1": per_shard[1]}
    finally:
        for proc in procs:
            await proc.stop()
        await emu.stop()


# ------------------------------------------------------------------------------ all

@dataclass
class Results:
    sizes: Sizes
    migration: Migration | None = None
    alike: Any = None  # migrate_check.Alike: the big database read on both, after migrate
    pairs: list[Pair] = field(default_factory=list)
    inproc: list[InProcess] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    load: list[LoadWorld] = field(default_factory=list)
    bursts: dict[str, dict[str, float]] = field(default_factory=dict)
    server: str = ""
    skipped: str | None = None


async def run(quick: bool, tmp: Path, only: set[str] | None = None,
              progress: Callable[[str], None] = lambda _m: None) -> Results:
    sizes = QUICK if quick else Sizes()
    results = Results(sizes)
    reason = unavailable()
    if reason is not None:
        results.skipped = reason
        return results
    wanted = only or {"latency", "load", "burst"}
    tmp.mkdir(parents=True, exist_ok=True)
    server = pgtest.PostgresServer.local(settings=SERVER_SETTINGS)
    try:
        conn = await server.connect()
        try:
            results.server = (await conn.fetchval("SHOW server_version")) + ", fsync " + (
                await conn.fetchval("SHOW fsync")) + ", synchronous_commit " + (
                await conn.fetchval("SHOW synchronous_commit"))
        finally:
            await conn.close()
        if "latency" in wanted:
            source = bs.cached_database(sizes.members, sizes.checkins)
            url = await server.create_database("stride_big")
            progress(f"migrate {source.name} into PostgreSQL")
            results.migration, upgraded = await migrate_big(source, tmp, url)
            progress(f"migrated in {results.migration.seconds:.1f} s; reading both")
            results.alike = await reads_alike(upgraded, url, bs.GUILD,
                                              list(range(1, sizes.members + 1)), bs.NOW)
            progress("latency")
            results.pairs = await latency(sizes, tmp, upgraded, url, server)
            progress("in process, plans")
            results.inproc, results.plans = await in_process(sizes, tmp / "sqlite.db", url)
            for f in tmp.glob("*.db*"):
                f.unlink()
        if "burst" in wanted:
            for name, backend, processes in (("SQLite, 1 process", "sqlite", 1),
                                             ("PostgreSQL, 1 process", "pg", 1),
                                             ("PostgreSQL, 2 processes", "pg", 2)):
                progress(f"burst: {name}")
                burst_url = await server.create_database() if backend == "pg" else None
                results.bursts[name] = await burst(sizes.burst, tmp / f"burst-{processes}"
                                                   f"-{backend}", burst_url, processes)
        if "load" in wanted:
            results.load = await load(sizes, tmp, server, progress)
    finally:
        server.stop()
    return results


def rows(r: Results) -> list[Row]:
    """The rows for `python -m bench`'s table."""
    if r.skipped is not None:
        return [Row("PostgreSQL benchmarks", f"SKIPPED: {r.skipped}", "-", None)]
    out: list[Row] = []
    for p in r.pairs:
        trips = p.statements
        out.append(Row(
            f"PostgreSQL vs SQLite: {p.name} (p50 ms; statements/command)",
            f"{p.pg_p50:.2f} vs {p.sqlite_p50:.2f}: {p.ratio:.2f}x; {trips:.2f}",
            f"<= {TARGET_RATIO}x, <= {TARGET_TRIPS}",
            p.ratio <= TARGET_RATIO and trips <= TARGET_TRIPS + 0.05))
    for i in r.inproc:
        out.append(Row(f"PostgreSQL in process: {i.name} (statements)",
                       f"{i.statements:.2f}; p50 {i.pg_p50:.2f} ms (SQLite {i.sqlite_p50:.2f})",
                       f"<= {TARGET_TRIPS}", i.statements <= TARGET_TRIPS + 0.05))
    if r.plans:
        seq = [f"{p.board} {p.period} {p.which}: {', '.join(p.seq_scans)}"
               for p in r.plans if p.seq_scans]
        generic = [p for p in r.plans if p.generic_seq_scans]
        out.append(Row(f"PostgreSQL board plans ({len(r.plans)} page + rank queries)",
                       f"{len(seq)} with a seq scan" + (f" ({'; '.join(seq)})" if seq else "")
                       + f"; generic plans: {len(generic)} with one",
                       "no seq scan", not seq))
    if r.migration is not None:
        m = r.migration
        out.append(Row(f"migrate {m.checkins:,} check-ins ({m.rows:,} rows) to PostgreSQL",
                       f"{m.seconds:.1f} s (copy {m.copy_seconds:.1f}, verify "
                       f"{m.verify_seconds:.1f}); {m.rows / m.seconds:,.0f} rows/s; upgrading "
                       f"the {m.source_mib:.0f} MiB copy first {m.upgrade_seconds:.1f} s",
                       "-", None))
    if r.alike is not None:
        a = r.alike
        out.append(Row("after migrate: member views and board pages on both",
                       f"{a.members} members, {a.boards} pages: "
                       + ("the same" if a.same else f"{len(a.differences)} differ: "
                          + "; ".join(a.differences[:3])),
                       "the same", a.same))
    for w in r.load:
        best = w.best
        first_miss = next((s for s in w.steps if not s.ok and s.rate > (best.rate if best
                                                                          else 0)), None)
        miss = (f"; at {first_miss.rate}/s p99 {first_miss.p99:.0f} ms"
                + (f" {', '.join(first_miss.failures)}" if first_miss.failures else "")
                if first_miss else f"; no miss up to {r.sizes.load_rates[-1]}/s")
        out.append(Row(f"load, {w.name}: interactions/s at p99 < {TARGET_P99_MS:.0f} ms",
                       (f"{best.rate}/s (p99 {best.p99:.1f} ms)" if best else "none") + miss,
                       f"p99 < {TARGET_P99_MS:.0f} ms", best is not None))
    for name, b in r.bursts.items():
        n = r.sizes.burst
        out.append(Row(
            f"{n} reminders due at once on 2 shards, {name}",
            f"{b['sent']:.0f} sent ({b['shard0']:.0f} + {b['shard1']:.0f}), {b['429s']:.0f} "
            f"x 429, last {b['last_after_due_s']:.1f} s after due",
            f"all, 0 x 429, <= {b['allowed_s']:.0f} s",
            b["sent"] == n and b["429s"] == 0 and b["last_after_due_s"] <= b["allowed_s"]))
    return out


def details(r: Results) -> str:
    """What the table leaves out: per-statement counts, plans, load steps."""
    lines = [f"PostgreSQL {r.server}"]
    for p in r.pairs:
        lines.append(f"\n{p.name}: SQLite p50/p99 {p.sqlite_p50:.2f}/{p.sqlite_p99:.2f} ms, "
                     f"PostgreSQL {p.pg_p50:.2f}/{p.pg_p99:.2f} ms, {p.ratio:.2f}x, "
                     f"{p.statements:.2f} statements per command:")
        lines += [f"    {n:6.2f}  {q}" for n, q in p.by_statement]
    if r.inproc:
        lines.append(f"\n{'in process (Checkins)':32} {'SQLite p50':>10} {'PG p50':>8} "
                     f"{'PG p99':>8} {'PG stmts':>9}")
        lines += [f"{i.name:32} {i.sqlite_p50:10.2f} {i.pg_p50:8.2f} {i.pg_p99:8.2f} "
                  f"{i.statements:9.2f}" for i in r.inproc]
    if r.plans:
        lines.append("\nboard plans (EXPLAIN ANALYZE of the backend's SQL, after ANALYZE):")
        for plan in r.plans:
            generic = ("?" if plan.generic_seq_scans is None else
                       "seq scan!" if plan.generic_seq_scans else "no seq scan")
            lines.append(f"  {plan.board:8} {plan.period:5} {plan.which:4} {plan.ms:7.3f} ms  "
                         f"top: {plan.top}; {'; '.join(dict.fromkeys(plan.scans))}; "
                         f"generic: {generic}")
    for w in r.load:
        lines.append(f"\nload, {w.name}:")
        lines += [f"  {s.rate:4}/s x {s.total}: p50 {s.p50:6.1f}  p99 {s.p99:7.1f}  max "
                  f"{s.max:7.1f} ms, CPU: bot {s.bot_cpu / r.sizes.load_seconds:4.0%}, "
                  f"emulator {s.emu_cpu / r.sizes.load_seconds:4.0%}; dispatch lag p99 "
                  f"{s.lag_p99:.1f} ms {'; '.join(s.failures)}"
                  for s in w.steps]
    for name, b in r.bursts.items():
        lines.append(f"\nburst, {name}: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float)
                                                       else f"{k} {v}" for k, v in b.items()))
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated: latency,load,burst")
    args = parser.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None

    def say(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        results = await run(args.quick, Path(tmp), only, say)
    found = rows(results)
    print(table(found))
    if results.skipped is None:
        print("\n" + details(results))
    return 1 if any(r.met is False for r in found) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
