"""The club's week on a big club: building the weekly recap, finding the members to nudge,
and a wave of nudges beside other servers' club posts.

    .venv/bin/python -m bench.bench_week [--quick]

1. Recap: a copy of bench_streaks' database (one server, 50,000 members, 5,000,000 check-ins;
   opening the copy applies the pending migrations, 0009 among them, which backfills
   club_days), with highlights added for ~2 % of the last 8 weeks' check-ins (milestones and
   comebacks). `Recaps.build` (every query and the Python around it) timed `runs` times after
   a warm-up, and the chart drawn. Target: p50 < 200 ms. EXPLAIN QUERY PLAN of each statement
   club_week runs: no full scan (no `SCAN` of a table, and the check-ins searched by day).
2. Nudge selection: a nudge row for each of the 50,000 members, due at 20:00 on one of the
   next 7 days in one of 24 zones (~300 a minute); `claim_due` of consecutive due minutes, one
   claim each (found rows claimed and moved to None, as the scheduler's plan does for a
   nudge; each a real commit). Targets: choosing them (the claim's SELECT) < 50 ms, through
   index reminders_due; the whole claim p50 < 50 ms.
3. Nudge wave: the real bot against the emulator, Discord's limits, REMINDER_RATE 40. One
   server's 10,000 members each with a nudge due at `due` and a streak that ends tonight
   (UTC, rest days 0, not checked in today), DM channels remembered, beside 50 other servers'
   club reminders due then too; and first the same 50 club posts due alone (baseline).
   Targets: last club post <= 15 s after due, last nudge <= 10,000/40 + 15 s, no 429, all
   sent; the club posts' p99 with the nudges against without, as a ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import random
import re
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as daytime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.bench_reminders import BOT
from bench.bench_streaks import GUILD, NOW, cached_database
from bench.report import Row
from stride.catalog import load_catalog
from stride.checkins import breaks_at
from stride.config import DEFAULT_EXERCISES
from stride.milestones import STREAK_MILESTONES, TOTAL_MILESTONES
from stride.recap_chart import render_recap_chart
from stride.recaps import CHART_DAYS, Recaps
from stride.records import Claim, Lease, Reminder
from stride.reminders import Reminders
from stride.storage import SqliteStorage
from stride.storage import club_week as cw
from stride.storage.sqlite import prepare
from stride.streaks import from_days
from stride.timezones import day_start
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import launch_bot

Progress = Callable[[str], None]
STATEMENTS = ("_DAILY", "_MEMBERS_IN", "_ALIVE", "_TOP", "_MILESTONE_ROWS", "_MILESTONE_COUNT",
              "_COMEBACK_ROWS", "_COMEBACK_COUNT")
HIGHLIGHT_SHARE = 0.02
# 24 zones with distinct UTC offsets in late November (-10 h to +13 h, and +5:30).
ZONES = ("Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
         "America/Chicago", "America/New_York", "America/Halifax", "America/Sao_Paulo",
         "Atlantic/South_Georgia", "Atlantic/Azores", "UTC", "Europe/Berlin", "Europe/Athens",
         "Europe/Moscow", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka",
         "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Brisbane",
         "Australia/Sydney", "Pacific/Auckland")
RECAP_TARGET_MS, CLAIM_TARGET_MS, CLUB_ALLOWED_S = 200.0, 50.0, 15.0
RATE = 40.0


@dataclass(frozen=True)
class Sizes:
    members: int = 50_000
    checkins: int = 5_000_000
    runs: int = 60
    minutes: int = 24  # due minutes claimed in turn
    nudges: int = 10_000
    clubs: int = 50


QUICK = Sizes(members=2000, checkins=100_000, runs=10, minutes=5, nudges=200, clubs=10)


@dataclass
class Results:
    sizes: Sizes
    open_s: float = 0.0
    migrated: str = ""
    highlights: int = 0
    week_highlights: tuple[int, int] = (0, 0)  # milestones, comebacks in the recap's week
    recap: dict[str, Any] = field(default_factory=dict)  # what the recap found
    build_ms: list[float] = field(default_factory=list)
    first_ms: float = 0.0
    statement_ms: dict[str, float] = field(default_factory=dict)
    chart_ms: list[float] = field(default_factory=list)
    plans: dict[str, list[str]] = field(default_factory=dict)
    scans: list[str] = field(default_factory=list)  # the statements that scan
    claim_ms: list[float] = field(default_factory=list)
    choose_ms: list[float] = field(default_factory=list)  # the claim's SELECT alone
    claimed: list[int] = field(default_factory=list)
    claim_plan: list[str] = field(default_factory=list)
    alone: dict[str, float] = field(default_factory=dict)
    wave: dict[str, float] = field(default_factory=dict)
    note: str = ""


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def plan_of(conn: sqlite3.Connection, sql: str, params: Any) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


def full_scans(plan: list[str]) -> list[str]:
    """A `SCAN` of a table (or a whole index), or check-ins searched without their day."""
    return [step for step in plan if re.match(r"SCAN (?!CONSTANT)", step)
            or (step.startswith("SEARCH checkins") and "day" not in step)]


# ------------------------------------------------------------------ 1 and 2: in process

def add_highlights(db: Path, since: date, seed: int = 11) -> int:
    """Milestones and comebacks for ~2 % of the check-ins from `since` (the bench's setup)."""
    rng = random.Random(seed)
    conn = sqlite3.connect(db, isolation_level=None)
    rows = conn.execute("SELECT user_id, day FROM checkins WHERE guild_id = ? AND day >= ?",
                        (GUILD, since.isoformat())).fetchall()
    picked = rng.sample(rows, round(len(rows) * HIGHLIGHT_SHARE))
    found = []
    for user, day in picked:
        kind = rng.choices(("streak", "total", "back"), (3, 3, 4))[0]
        value = (rng.choice(STREAK_MILESTONES) if kind == "streak" else
                 rng.choice(TOTAL_MILESTONES) if kind == "total" else rng.randint(3, 60))
        found.append((GUILD, user, day, kind, value))
    conn.execute("BEGIN")
    conn.executemany("INSERT OR IGNORE INTO highlights VALUES (?, ?, ?, ?, ?)", found)
    conn.execute("COMMIT")
    conn.close()
    return len(found)


def add_nudges(db: Path, members: int, first_day: date, seed: int = 12) -> None:
    """Every member's nudge row: 20:00 local on one of the 7 days from `first_day`."""
    rng = random.Random(seed)
    rows = []
    for user in range(1, members + 1):
        zone = ZONES[rng.randrange(len(ZONES))]
        day = first_day + timedelta(days=rng.randrange(7))
        due = datetime.combine(day, daytime(20), ZoneInfo(zone))
        rows.append((GUILD, user, zone, int(due.timestamp()), user))
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO reminders (guild_id, kind, user_id, at, days, timezone, next_due, "
        "created_by, purpose) VALUES (?, 'dm', ?, '20:00', 127, ?, ?, ?, 'nudge')", rows)
    conn.execute("COMMIT")
    conn.close()


def claim_everything(due: list[Reminder]) -> tuple[list[Claim], dict[int, int | None]]:
    """The scheduler's plan for nudges found due in time: claimed, and moved to None."""
    return ([Claim(r, r.next_due or 0, "claimed") for r in due], {r.id: None for r in due})


async def in_process(sizes: Sizes, tmp: Path, results: Results, progress: Progress) -> None:
    source = cached_database(sizes.members, sizes.checkins)
    db = tmp / "week.db"
    shutil.copyfile(source, db)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        before = conn.execute("PRAGMA user_version").fetchone()[0]
    storage = SqliteStorage(db)
    started = time.perf_counter()
    await storage.open()
    results.open_s = time.perf_counter() - started
    results.migrated = f"{before} -> {await storage.schema_version()}"
    try:
        progress(f"recap: opened the copy in {results.open_s:.1f} s (schema "
                 f"{results.migrated}); adding highlights")
        results.highlights = add_highlights(db, NOW.date() - timedelta(days=CHART_DAYS - 1))
        await recap(storage, db, sizes, results)
        progress(f"nudges: {sizes.members:,} nudge rows, claiming {sizes.minutes} minutes")
        await claims(storage, db, sizes, results)
    finally:
        await storage.close()


async def recap(storage: SqliteStorage, db: Path, sizes: Sizes, results: Results) -> None:
    recaps = Recaps(storage, Reminders(storage, load_catalog(DEFAULT_EXERCISES)))
    started = time.perf_counter()
    built = await recaps.build(GUILD, NOW)
    results.first_ms = (time.perf_counter() - started) * 1000
    for _ in range(5):
        await recaps.build(GUILD, NOW)
    for _ in range(sizes.runs):
        started = time.perf_counter()
        await recaps.build(GUILD, NOW)
        results.build_ms.append((time.perf_counter() - started) * 1000)
    results.recap = {"week": f"{built.start}..{built.end}", "checkins": built.checkins,
                     "previous": built.previous, "members": built.members,
                     "present": built.present, "alive": built.alive, "top": built.top[:3],
                     "milestones": built.milestone_count, "comebacks": built.comeback_count,
                     "listed": len(built.milestones) + len(built.comebacks)}
    for _ in range(max(5, sizes.runs // 3)):
        started = time.perf_counter()
        render_recap_chart(built.daily, week_start=built.start)
        results.chart_ms.append((time.perf_counter() - started) * 1000)
    conn = sqlite3.connect(db)
    results.week_highlights = conn.execute(
        "SELECT COALESCE(SUM(kind <> 'back'), 0), COALESCE(SUM(kind = 'back'), 0) "
        "FROM highlights WHERE guild_id = ? AND day BETWEEN ? AND ?",
        (GUILD, built.start.isoformat(), built.end.isoformat())).fetchone()
    chart_start = built.end - timedelta(days=CHART_DAYS - 1)
    params = {"guild": GUILD, "first": chart_start.isoformat(), "start": built.start.isoformat(),
              "end": built.end.isoformat(), "now": int(NOW.timestamp()),
              "limit": cw.TOP_STREAKS}
    for name in STATEMENTS:
        sql = getattr(cw, name)
        results.plans[name] = plan_of(conn, sql, params)
        if full_scans(results.plans[name]):
            results.scans.append(name)
        samples = []
        for _ in range(max(5, sizes.runs // 3)):
            started = time.perf_counter()
            conn.execute(sql, params).fetchall()
            samples.append((time.perf_counter() - started) * 1000)
        results.statement_ms[name] = statistics.median(samples)
    conn.close()


async def claims(storage: SqliteStorage, db: Path, sizes: Sizes, results: Results) -> None:
    first_day = NOW.date() + timedelta(days=1)
    add_nudges(db, sizes.members, first_day)
    conn = sqlite3.connect(db)
    dues = Counter(n for (n,) in conn.execute(
        "SELECT next_due FROM reminders WHERE purpose = 'nudge'"))
    seen: list[tuple[str, Any]] = []
    fetch = storage.conn.execute_fetchall

    def recording(sql: str, params: Any = None) -> Any:
        seen.append((sql, params))
        return fetch(sql, params)

    storage.conn.execute_fetchall = recording  # type: ignore[method-assign]
    select: str | None = None
    for minute in sorted(dues)[:sizes.minutes]:
        if select is not None:  # choosing them alone: the claim's own SELECT, just before it
            started = time.perf_counter()
            chosen = conn.execute(select, (minute, 500)).fetchall()
            results.choose_ms.append((time.perf_counter() - started) * 1000)
            assert len(chosen) == min(500, dues[minute])
        started = time.perf_counter()
        found = await storage.claim_due(minute, 500, claim_everything, Lease("bench", minute + 30))
        results.claim_ms.append((time.perf_counter() - started) * 1000)
        results.claimed.append(len(found))
        assert len(found) == min(500, dues[minute]), (len(found), dues[minute])
        select = select or next(s for s, _ in seen if "next_due <=" in s)
    storage.conn.execute_fetchall = fetch  # type: ignore[method-assign]
    select, params = next((s, p) for s, p in seen if "next_due <=" in s)
    results.claim_plan = plan_of(conn, select, params)
    conn.close()


# ------------------------------------------------------------------ 3: the nudge wave

def seed_wave(db: Path, big: int, users: list[int], dms: dict[int, int],
              clubs: list[tuple[int, int]], today: date) -> None:
    """One server whose members' streaks end tonight (each with a nudge), and one club
    reminder in each of `clubs` (server, channel); every reminder's due time set later. The
    nudges get the lower ids, so they come first in the claims (due time, then id)."""
    prepare(db)
    yesterday, utc = today - timedelta(days=1), ZoneInfo("UTC")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO guild_settings (guild_id, timezone, rest_days) VALUES (?, 'UTC', 0)",
                 (big,))
    members, checkins = [], []
    for n, user in enumerate(users):
        days = [yesterday - timedelta(days=k) for k in range(2 + n % 29)]
        state = from_days(days, 0)
        members.append((big, user, yesterday.isoformat(), f"{yesterday}T07:00:00+00:00",
                        state.run, state.best, state.total, state.week_key, state.week_count,
                        state.month_key, state.month_count, breaks_at(state, 0, utc)))
        checkins += [(big, user, d.isoformat(), f"{d}T07:00:00+00:00") for d in days]
    conn.executemany(
        "INSERT INTO members (guild_id, user_id, last_day, last_at, last_what, run, best, "
        "total, week_key, week_count, month_key, month_count, breaks_at, rest_days) "
        "VALUES (?, ?, ?, ?, 'quick', ?, ?, ?, ?, ?, ?, ?, ?, 0)", members)
    conn.executemany("INSERT OR IGNORE INTO checkins (guild_id, user_id, day, at) "
                     "VALUES (?, ?, ?, ?)", checkins)
    conn.executemany(
        "INSERT INTO reminders (guild_id, kind, user_id, at, days, timezone, created_by, "
        "purpose) VALUES (?, 'dm', ?, '20:00', 127, 'UTC', ?, 'nudge')",
        [(big, u, u) for u in users])
    conn.executemany("INSERT INTO reminders (guild_id, kind, channel_id, at, days, timezone, "
                     "routine, created_by) VALUES (?, 'channel', ?, '06:30', 127, 'UTC', "
                     "'quick', 1)", clubs)
    conn.executemany("INSERT INTO dm_channels (user_id, channel_id) VALUES (?, ?)",
                     list(dms.items()))
    conn.execute("COMMIT")
    conn.close()


async def safe_day(seconds: float) -> str:
    """Wait, if needed, so that the next `seconds` stay within one UTC day; what was done."""
    now = datetime.now(UTC)
    left = (day_start(now.date() + timedelta(days=1), ZoneInfo("UTC")) - now).total_seconds()
    if left > seconds:
        return ""
    await asyncio.sleep(left + 2)
    return f"waited {left + 2:.0f} s for UTC midnight to pass (the nudges' day)"


async def wave(nudges: int, clubs: int, tmp: Path, name: str) -> dict[str, float]:
    """The bot sends `clubs` servers' club posts and one server's `nudges` nudges, all due
    at once; when each went out."""
    emu = DiscordEmulator()
    emu.discord_rate_limits()
    big = int(emu.add_guild("Big club", channels=["runs"])["id"])
    users = [int(emu.add_user(f"runner{i}")["id"]) for i in range(nudges)]
    small = [emu.add_guild(f"Club {i}", channels=["runs"]) for i in range(clubs)]
    channels = [int(next(iter(emu.world.guilds[int(g["id"])].channels.values()))["id"])
                for g in small]
    dms = {u: int(emu.world.dm_channel(u)["id"]) for u in users}
    await emu.start()
    # The emulator counts Discord's limits by when it handles each request. Its records grow
    # by 10,000 posts, and this process's full garbage collections grew to 0.4 s pauses
    # (every ~50 s): the requests that waited meanwhile were then counted at once, 429s of
    # the emulator's own making. So no collections in here while the bot sends.
    gc.collect()
    gc.disable()
    try:
        db = tmp / f"{name}.db"
        today = datetime.now(UTC).date()
        seed_wave(db, big, users, dms, [(int(g["id"]), c) for g, c in zip(small, channels,
                                                                          strict=True)], today)
        due = int(time.time()) + 6
        assert datetime.fromtimestamp(due, UTC).date() == today
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("UPDATE reminders SET next_due = ?", (due,))
        conn.close()
        proc = await launch_bot(emu, BOT, {"DATABASE_PATH": str(db), "REMINDER_RATE": str(RATE)},
                                log_path=tmp / f"{name}.log")
        try:
            deadline = time.monotonic() + nudges / RATE + 90
            while len(emu.channel_posts) < nudges + clubs and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        finally:
            await proc.stop()
        club_ids = set(channels)
        arrived = sorted(r.time for r in emu.requests if r.path.endswith("/messages"))
        club_s = [r.created_wall - due for r in emu.channel_posts if r.channel_id in club_ids]
        nudge_s = [r.created_wall - due for r in emu.channel_posts if r.channel_id not in club_ids]
        return {"sent": len(emu.channel_posts), "expected": nudges + clubs,
                "429s": len(emu.rate_limited), "clubs_sent": len(club_s),
                "club_p50_s": statistics.median(club_s) if club_s else float("nan"),
                "club_p99_s": pct(club_s, 0.99), "club_last_s": max(club_s, default=float("nan")),
                "nudges_sent": len(nudge_s), "nudge_last_s": max(nudge_s, default=0.0),
                "nudge_allowed_s": nudges / RATE + 15,
                "dm_opens": emu.dm_channel_creates, "most_in_1s": most_within(arrived, 1.0),
                "most_in_50ms": most_within(arrived, 0.05)}
    finally:
        gc.enable()
        await emu.stop()


def most_within(times: list[float], seconds: float) -> int:
    """The most of the sorted `times` within any `seconds`."""
    most, first = 0, 0
    for n, t in enumerate(times):
        while times[first] <= t - seconds:
            first += 1
        most = max(most, n - first + 1)
    return most


# ------------------------------------------------------------------ all, and the rows

async def run(quick: bool, tmp: Path, progress: Progress = lambda _m: None,
              sizes: Sizes | None = None) -> Results:
    sizes = sizes or (QUICK if quick else Sizes())
    tmp.mkdir(parents=True, exist_ok=True)
    results = Results(sizes)
    await in_process(sizes, tmp, results, progress)
    results.note = await safe_day(2 * 60 + sizes.nudges / RATE + 120)
    if results.note:
        progress(results.note)
    progress(f"club posts alone: {sizes.clubs} servers' club reminders due at once")
    results.alone = await wave(0, sizes.clubs, tmp, "week-alone")
    progress(f"nudge wave: {sizes.nudges:,} nudges of one server beside those {sizes.clubs} "
             f"club posts (about {sizes.nudges / RATE:.0f} s)")
    results.wave = await wave(sizes.nudges, sizes.clubs, tmp, "week-wave")
    return results


def rows(r: Results) -> list[Row]:
    """The rows for `python -m bench`'s table."""
    s, w, a = r.sizes, r.wave, r.alone
    build50, claim_max = statistics.median(r.build_ms), max(r.claim_ms)
    slowest = max(r.statement_ms, key=r.statement_ms.__getitem__)
    ratio = w["club_p99_s"] / a["club_p99_s"] if a["club_p99_s"] > 0 else float("nan")
    return [
        Row(f"week: build one recap, {s.members:,} members / {s.checkins:,} check-ins "
            f"(p50 / p99 ms, {s.runs} runs)",
            f"{build50:.1f} / {pct(r.build_ms, 0.99):.1f}; first {r.first_ms:.1f}; slowest "
            f"statement {slowest} {r.statement_ms[slowest]:.1f}",
            f"p50 < {RECAP_TARGET_MS:.0f} ms", build50 < RECAP_TARGET_MS),
        Row("week: opening the copy (migrations, 0009's backfill and index)",
            f"{r.open_s:.1f} s (schema {r.migrated})", "-", None),
        Row("week: the recap's milestones / comebacks counted, of those in its week",
            f"{r.recap['milestones']:,} / {r.recap['comebacks']:,} of "
            f"{r.week_highlights[0]:,} / {r.week_highlights[1]:,} ({r.recap['listed']} listed, "
            f"at most {cw.HIGHLIGHTS_READ} of each)", "all",
            (r.recap["milestones"], r.recap["comebacks"]) == r.week_highlights),
        Row("week: recap chart PNG (p50 ms)", f"{statistics.median(r.chart_ms):.1f}", "-", None),
        Row(f"week: club_week's {len(STATEMENTS)} statements, EXPLAIN QUERY PLAN: no full scan",
            "yes" if not r.scans else f"no: {', '.join(r.scans)}", "yes", not r.scans),
        Row(f"week: choose the nudges due in one minute among {s.members:,} (the claim's "
            f"SELECT; p50 / max ms, {len(r.choose_ms)} minutes)",
            f"{statistics.median(r.choose_ms):.2f} / {max(r.choose_ms):.2f}; "
            f"{min(r.claimed)}-{max(r.claimed)} a minute", f"< {CLAIM_TARGET_MS:.0f} ms",
            max(r.choose_ms) < CLAIM_TARGET_MS),
        Row(f"week: claim them (choose, record the firings, move them on, durable commit; "
            f"p50 / max ms, {len(r.claim_ms)} minutes)",
            f"{statistics.median(r.claim_ms):.1f} / {claim_max:.1f}",
            f"p50 < {CLAIM_TARGET_MS:.0f} ms", statistics.median(r.claim_ms) < CLAIM_TARGET_MS),
        Row("week: the claim's SELECT uses index reminders_due",
            " | ".join(r.claim_plan), "reminders_due",
            any("reminders_due" in step for step in r.claim_plan)),
        Row(f"week: {s.clubs} club posts beside one server's {s.nudges:,} nudges: last after due",
            f"{w['club_last_s']:.1f} s ({w['clubs_sent']:.0f} sent)",
            f"<= {CLUB_ALLOWED_S:.0f} s",
            w["club_last_s"] <= CLUB_ALLOWED_S and w["clubs_sent"] == s.clubs),
        Row("week: club-post skew p50 / p99, alone -> beside the nudges",
            f"{a['club_p50_s']:.2f} / {a['club_p99_s']:.2f} -> {w['club_p50_s']:.2f} / "
            f"{w['club_p99_s']:.2f} s (p99 {ratio:.2f}x)", "-", None),
        Row(f"week: the {s.nudges:,} nudges: last after due, 429s, sent",
            f"{w['nudge_last_s']:.1f} s, {w['429s'] + a['429s']:.0f} x 429 (most in 1 s / "
            f"50 ms: {w['most_in_1s']:.0f} / {w['most_in_50ms']:.0f}), "
            f"{w['sent']:,.0f} / {w['expected']:,.0f} sent, {w['dm_opens']:.0f} DM opens",
            f"<= {w['nudge_allowed_s']:.0f} s, no 429, all",
            w["nudge_last_s"] <= w["nudge_allowed_s"] and w["429s"] + a["429s"] == 0
            and w["sent"] == w["expected"] and a["sent"] == a["expected"]),
    ]


def details(r: Results) -> str:
    """The plans and the figures behind the rows."""
    lines = [f"The club's week: opened the copy in {r.open_s:.1f} s (schema {r.migrated}); "
             f"{r.highlights:,} highlights added", f"recap as built: {r.recap}",
             "statement p50 ms: " + ", ".join(f"{k} {v:.2f}" for k, v in r.statement_ms.items())]
    for name, plan in r.plans.items():
        lines.append(f"EXPLAIN QUERY PLAN {name}:")
        lines += [f"    {step}" for step in plan]
    lines.append("EXPLAIN QUERY PLAN claim_due's SELECT:")
    lines += [f"    {step}" for step in r.claim_plan]
    lines.append(f"claims: ms {[round(m, 1) for m in r.claim_ms]}; rows {r.claimed}")
    lines.append(f"club posts alone: {r.alone}")
    lines.append(f"beside the nudges: {r.wave}")
    if r.note:
        lines.append(r.note)
    return "\n".join(lines)


async def main() -> None:
    from bench.report import table

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = await run(args.quick, Path(tmp), lambda m: print(f"    {m}", flush=True))
    print(table(rows(results)))
    print("\n" + details(results))


if __name__ == "__main__":
    asyncio.run(main())
