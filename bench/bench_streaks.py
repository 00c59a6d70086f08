"""Check-in, leaderboard and streak performance on a big club, against the naive way.

    .venv/bin/python -m bench.bench_streaks [--members 50000] [--checkins 5000000]

Builds (once, cached under bench/out/) a database with one server of 50,000 members and
5,000,000 check-ins spread over two years, then times the real code paths (`Checkins` on
`Storage`, as the cogs call them) and the same questions answered by aggregating the raw
check-ins. Prints p50/p99 in milliseconds per operation and the database statements each
operation made (each one a hop to the database thread, or a read run inline).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from stride import streaks
from stride.checkins import Checkins, breaks_at, heatmap_start
from stride.clock import ManualClock
from stride.heatmap import render_heatmap
from stride.records import BOARDS, PERIODS
from stride.storage import SqliteStorage as Storage
from stride.storage.sqlite import prepare

GUILD = 424242
MEMBERS = 50_000
CHECKINS = 5_000_000
OUT = Path(__file__).resolve().parent / "out"
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", None]


def build(path: Path, members: int, checkins: int, seed: int = 7) -> None:
    """Write the data set straight into SQLite, with figures computed by the real rules."""
    if path.exists():
        path.unlink()
    prepare(path)
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    first = NOW.date() - timedelta(days=729)
    per_member = checkins / members
    total = 0
    member_rows, checkin_rows = [], []
    for user in range(1, members + 1):
        # Checkins differ: some check in most days, some rarely.
        share = min(1.0, rng.expovariate(1.0) * per_member / 730)
        count = min(730, max(1, round(share * 730)))
        if user == members:
            count = max(1, min(730, checkins - total))
        total += count
        days = sorted(first + timedelta(days=d) for d in rng.sample(range(730), count))
        state = streaks.from_days(days, 2)
        zone = rng.choice(ZONES)
        member_rows.append((
            GUILD, user, zone, state.last_day.isoformat(), NOW.isoformat(), "quick",
            state.run, state.best, state.total, state.week_key, state.week_count,
            state.month_key, state.month_count,
            breaks_at(state, 2, ZoneInfo(zone or "UTC")), 2,
        ))
        checkin_rows.extend(
            (GUILD, user, d.isoformat(), f"{d.isoformat()}T07:00:00+00:00", None) for d in days
        )
        if len(checkin_rows) > 200_000:
            _flush(conn, member_rows, checkin_rows)
    _flush(conn, member_rows, checkin_rows)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def _flush(conn: sqlite3.Connection, member_rows: list, checkin_rows: list) -> None:
    conn.executemany(
        "INSERT INTO members (guild_id, user_id, timezone, last_day, last_at, last_what, run, "
        "best, total, week_key, week_count, month_key, month_count, breaks_at, rest_days) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        member_rows,
    )
    conn.executemany("INSERT OR IGNORE INTO checkins VALUES (?, ?, ?, ?, ?)", checkin_rows)
    member_rows.clear()
    checkin_rows.clear()


def cached_database(members: int = MEMBERS, checkins: int = CHECKINS,
                    rebuild: bool = False) -> Path:
    """The benchmark database (built on first use, then reused from bench/out/)."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"streaks-{members}-{checkins}.db"
    if rebuild or not path.exists():
        t0 = time.perf_counter()
        print(f"building {path.name} (once; a few minutes)...", flush=True)
        build(path, members, checkins)
        print(f"built {path.name} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


class RoundTrips:
    """Counts database statements while installed: hops to the database thread (execute,
    execute_fetchall) and the reads Storage runs inline."""

    def __init__(self, storage: Storage) -> None:
        self.count = 0
        for target, name in ((storage.conn, "execute"), (storage.conn, "execute_fetchall"),
                             (storage, "_lookup")):
            self._wrap(target, name)

    def _wrap(self, target: object, name: str) -> None:
        original = getattr(target, name)

        def counting(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        setattr(target, name, counting)


async def timed(
    name: str, runs: int, op: Callable[[int], Awaitable[object]], trips: RoundTrips | None
) -> tuple[str, float, float, float]:
    samples = []
    before = trips.count if trips else 0
    for i in range(runs):
        start = time.perf_counter()
        await op(i)
        samples.append((time.perf_counter() - start) * 1000)
    per_op = ((trips.count - before) / runs) if trips else float("nan")
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return name, statistics.median(samples), p99, per_op


NAIVE_VALUE = {
    ("checkins", "all"): "COUNT(*)",
    ("checkins", "week"): "COUNT(*) FILTER (WHERE day >= :week_start)",
    ("checkins", "month"): "COUNT(*) FILTER (WHERE day >= :month_start)",
}


async def naive_board(storage: Storage, board: str, period: str, page: int) -> list:
    """The board by aggregating raw check-ins (checkins board) or replaying them (streaks)."""
    today = NOW.date()
    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    if board == "checkins":
        start = {"all": "", "week": week_start.isoformat(), "month": month_start.isoformat()}
        async with storage.conn.execute(
            "SELECT user_id, COUNT(*) AS n FROM checkins WHERE guild_id = ? AND day >= ? "
            "GROUP BY user_id ORDER BY n DESC, user_id LIMIT 10 OFFSET ?",
            (GUILD, start[period], page * 10),
        ) as cur:
            return list(await cur.fetchall())
    states: dict[int, list[date]] = {}
    async for user_id, day in storage.guild_days(GUILD):
        states.setdefault(user_id, []).append(day)
    values = []
    for user_id, days in states.items():
        state = streaks.from_days(days, 2)
        value = streaks.current_streak(state, today, 2) if board == "streak" else state.best
        values.append((value, user_id))
    values.sort(reverse=True)
    return values[page * 10 : page * 10 + 10]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--checkins", type=int, default=CHECKINS)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    path = cached_database(args.members, args.checkins, args.rebuild)
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]
    conn.close()
    print(f"data set: {args.members:,} members, {rows:,} check-ins, "
          f"{path.stat().st_size / 2**20:.0f} MiB\n")

    # Time a fresh copy, so that every run checks in members who have not checked in today.
    work = OUT / "streaks-run.db"
    shutil.copyfile(path, work)
    storage = Storage(work)
    await storage.open()
    trips = RoundTrips(storage)
    clock = ManualClock(NOW)
    checkins = Checkins(storage, clock)
    rng = random.Random(1)
    users = list(range(1, args.members + 1))
    results = []

    async def checkin(i: int) -> None:
        await checkins.check_in(GUILD, rng.choice(users), "quick")

    results.append(await timed("/checkin", args.runs, checkin, trips))
    for board in BOARDS:
        for period in PERIODS:
            async def page(i: int, board: str = board, period: str = period) -> None:
                await checkins.board(GUILD, rng.choice(users), board, period, rng.randrange(0, 50))

            results.append(await timed(f"/leaderboard {board} {period}", args.runs, page, trips))

    async def figures(i: int) -> None:
        await checkins.member_view(GUILD, rng.choice(users))

    results.append(await timed("/streak figures", args.runs, figures, trips))
    view = await checkins.member_view(GUILD, 1)

    async def png(i: int) -> None:
        render_heatmap(view.recent_days, view.today)

    results.append(await timed("/streak PNG", 100, png, None))

    naive = []

    async def naive_figures(i: int) -> None:
        user = rng.choice(users)
        days = await storage.checkin_days(GUILD, user)
        streaks.figures(streaks.from_days(days, 2), NOW.date(), 2)
        await storage.checkin_days(GUILD, user, since=heatmap_start(NOW.date()))

    naive.append(await timed("/streak figures (naive)", args.runs, naive_figures, None))
    for board, period in [("checkins", "all"), ("checkins", "week"), ("streak", "all")]:
        runs = 3 if board != "checkins" else 20

        async def naive_page(i: int, board: str = board, period: str = period) -> None:
            await naive_board(storage, board, period, 0)

        naive.append(await timed(f"/leaderboard {board} {period} (naive)", runs, naive_page, None))
    await storage.close()
    work.unlink()

    print(f"{'operation':38} {'p50 ms':>9} {'p99 ms':>9} {'statements':>12}")
    for name, p50, p99, per_op in results:
        trips_text = "-" if per_op != per_op else f"{per_op:.1f}"
        print(f"{name:38} {p50:9.2f} {p99:9.2f} {trips_text:>12}")
    print()
    fast = {name: p50 for name, p50, _, _ in results}
    for name, p50, p99, _ in naive:
        base = name.removesuffix(" (naive)")
        print(f"{name:38} {p50:9.1f} {p99:9.1f}   {p50 / fast[base]:8.0f}x slower")


if __name__ == "__main__":
    asyncio.run(main())
