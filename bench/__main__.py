"""Every benchmark in one run, and one table of results against the targets.

    .venv/bin/python -m bench [--runs 1000] [--guilds 1000] [--starts 5] [--quick]
                              [--postgres-only | --runs-only | --week-only]

1. Interaction latency through the emulator (bench.bench_interactions): the minimal
   discord.py bot's fixed answer is the floor; Stride on 50,000 members / 5,000,000 check-ins.
2. Memory with `--guilds` servers, and process start to READY (bench.bench_footprint).
3. Reminder firing (bench.bench_reminders): production pace under Discord's limits, raised
   pace, the skew of reminders due alone with the idle CPU, and fair turns across servers
   (one server's 5,000 DMs beside 50 other servers' club posts, all due at once).
4. Exercise figures (bench.bench_figures): drawing them all, their sizes, start-up as shipped
   and with every figure to draw, memory once every card has been shown.
5. PostgreSQL and several processes (bench.bench_postgres): PostgreSQL's p50 beside SQLite's,
   statements per command, board plans, migrate time, the load at rising rates and the
   400-reminder burst with one process and two (skipped, saying why, without PostgreSQL).
   `--postgres-only` runs just this part.
6. Club runs (bench.bench_runs): the skew of run posts (and their members' DMs) heard of by
   gateway, under Discord's limits; the event-list reads of the start's catch-up and after
   it, per server per hour; the CPU and RSS of 1,000 /runs servers beside the same bot
   without /runs. `--runs-only` runs just this part.
7. The club's week (bench.bench_week): building one weekly recap on the 50,000-member
   database (and its query plans), claiming the nudges due in one minute among 50,000, and one
   server's 10,000 nudges due with 50 other servers' club posts under Discord's limits, beside
   those posts due alone. `--week-only` runs just this part.
`--quick` runs small sizes (a smoke test of the benchmarks themselves, not figures to quote).
Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
from pathlib import Path

from bench import (
    bench_figures,
    bench_footprint,
    bench_interactions,
    bench_postgres,
    bench_reminders,
    bench_runs,
    bench_week,
)
from bench.report import Row, table

TARGET_RATIO = {"catalog": 1.3, "figure": 1.5, "database": 1.6}


def latency_rows(results: list[bench_interactions.Latency]) -> list[Row]:
    rows = []
    for r in results:
        limit = TARGET_RATIO.get(r.kind)
        rows.append(Row(
            f"{r.name} (p50 / p99 ms; x floor)",
            f"{r.p50:.2f} / {r.p99:.2f}; {r.ratio:.2f}x of {r.floor_p50:.2f}",
            f"p50 <= {limit}x floor" if limit else "-",
            r.ratio <= limit if limit else None,
        ))
    return rows


def footprint_rows(mem: dict[str, bench_footprint.Footprint], ready: dict[str, float],
                   guilds: int) -> list[Row]:
    stride, minimal = mem["stride"].rss_mib, mem["minimal"].rss_mib
    cap_mb = 60 + 15 * guilds / 1000
    stride_mb = stride * 2**20 / 1e6
    extra = ready["stride"] - ready["minimal"]
    return [
        Row(f"RSS after READY, {guilds:,} servers: minimal bot", f"{minimal:.1f} MiB", "-", None),
        Row(f"RSS after READY, {guilds:,} servers: Stride",
            f"{stride:.1f} MiB ({stride_mb:.1f} MB), {stride / minimal:.2f}x minimal",
            f"<= 1.2x minimal and < {cap_mb:.0f} MB",
            stride <= 1.2 * minimal and stride_mb < cap_mb),
        Row("start to READY: minimal bot", f"{ready['minimal']:.2f} s", "-", None),
        Row("start to READY: Stride on the 5M-check-in database",
            f"{ready['stride']:.2f} s (+{extra:.2f} s)", "<= minimal + 0.5 s", extra <= 0.5),
    ]


def reminder_rows(prod: dict[str, float], raised: dict[str, float], inproc: dict[str, float],
                  alone: dict[str, float], burst: int, club: int, dm: int) -> list[Row]:
    return [
        Row(f"{burst} club reminders due at once, Discord's limits",
            f"{prod['sent']:.0f} sent, {prod['429s']:.0f} x 429, last "
            f"{prod['last_after_due_s']:.1f} s after due",
            f"all, no 429, last <= {prod['allowed_s']:.0f} s",
            prod["sent"] == burst and prod["429s"] == 0
            and prod["last_after_due_s"] <= prod["allowed_s"]),
        Row(f"{club:,} club + {dm:,} DM reminders, pace raised, end to end",
            f"{raised['sends_per_s']:,.0f} sends/s, {raised['429s']:.0f} x 429",
            "reference (CPU-bound, see docs/performance.md)", None),
        Row("the same, scheduler + sender in-process",
            f"{inproc['sends_per_s']:,.0f} sends/s", ">= 2,000 sends/s",
            inproc["sends_per_s"] >= 2000),
        Row("reminders due alone: skew p50 / p99",
            f"{alone['skew_p50_ms']:.1f} / {alone['skew_p99_ms']:.1f} ms", "-", None),
        Row("idle CPU", f"{alone['idle_cpu_percent']:.2f} %", "-", None),
    ]


def fair_rows(fair: dict[str, float], dm: int, clubs: int) -> list[Row]:
    return [
        Row(f"fair turns: {clubs} servers' club posts beside one server's {dm:,} DMs",
            f"last club post {fair['last_club_post_s']:.1f} s after due",
            f"<= {fair['club_allowed_s']:.0f} s", fair["last_club_post_s"]
            <= fair["club_allowed_s"]),
        Row(f"fair turns: that server's {dm:,} DMs",
            f"last {fair['last_dm_s']:.1f} s after due, {fair['429s']:.0f} x 429",
            f"<= {fair['dm_allowed_s']:.0f} s, no 429",
            fair["last_dm_s"] <= fair["dm_allowed_s"] and fair["429s"] == 0
            and fair["sent"] == dm + clubs),
    ]


def figure_rows(drawing: bench_figures.Drawing, ready: dict[str, float],
                mem: dict[str, float]) -> list[Row]:
    grown = mem["rss_cards_mib"] - mem["rss_ready_mib"]
    first = ready["first_s"] - ready["shipped_s"]
    return [
        Row(f"draw all {drawing.figures} figures (one process)",
            f"{drawing.total_s:.2f} s; p50 {drawing.p50_ms:.0f} ms, max {drawing.max_ms:.0f} ms",
            "< 5 s", drawing.total_s < 5),
        Row("figure GIFs: size p50 / max; frames p50",
            f"{drawing.kb_p50:.0f} / {drawing.kb_max:.0f} KB; {drawing.frames_p50:.0f}",
            "<= 200 KB each", drawing.kb_max * 1024 <= 200_000),
        Row("start to READY with every figure to draw (first start)",
            f"{ready['first_s']:.2f} s (+{first:.2f} s); all drawn after "
            f"{ready['all_drawn_s']:.1f} s", "<= shipped + 1.5 s", first <= 1.5),
        Row("RSS after every exercise card was shown once",
            f"+{grown:.1f} MiB ({mem['rss_ready_mib']:.1f} -> {mem['rss_cards_mib']:.1f})",
            "<= +10 MB", grown * 2**20 <= 10e6),
    ]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))) / 2**20
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--guilds", type=int, default=1000)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres-only", action="store_true",
                        help="only part 5, PostgreSQL and several processes")
    parser.add_argument("--runs-only", action="store_true",
                        help="only part 6, club runs (/runs)")
    parser.add_argument("--week-only", action="store_true",
                        help="only part 7, the club's week (recaps, nudges)")
    args = parser.parse_args()
    burst, club, dm, alone = 400, 10_000, 50_000, 30
    fair_dm, fair_clubs = 5000, 50
    if args.quick:
        args.runs, args.guilds, args.starts = 50, 50, 1
        burst, club, dm, alone = 40, 200, 800, 3
        fair_dm, fair_clubs = 200, 10
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if args.postgres_only:
            return await postgres_part(args.quick, tmp_path)
        if args.runs_only:
            return await runs_part(args.quick, tmp_path)
        if args.week_only:
            return await week_part(args.quick, tmp_path)
        print("1/7 interaction latency ...", flush=True)
        rows += latency_rows(await bench_interactions.run(args.runs, tmp_path))
        print("2/7 memory and start-up ...", flush=True)
        mem = await bench_footprint.memory(args.guilds, tmp_path)
        rows += footprint_rows(mem, await bench_footprint.startup(args.starts, tmp_path),
                               args.guilds)
        print("3/7 reminders ...", flush=True)
        rows += reminder_rows(
            await bench_reminders.production_pace(burst, tmp_path),
            await bench_reminders.raised_pace(club, dm, tmp_path),
            await bench_reminders.without_network(club, dm, tmp_path),
            await bench_reminders.skew_and_idle(alone, tmp_path), burst, club, dm)
        rows += fair_rows(await bench_reminders.fair_sends(fair_dm, fair_clubs, tmp_path),
                          fair_dm, fair_clubs)
        print("4/7 figures ...", flush=True)
        rows += figure_rows(bench_figures.draw_all(),
                            await bench_figures.startup(args.starts, tmp_path),
                            await bench_figures.memory(tmp_path))
        print("5/7 PostgreSQL and several processes ...", flush=True)
        pg = await bench_postgres.run(args.quick, tmp_path / "pg", progress=progress)
        rows += bench_postgres.rows(pg)
        print("6/7 club runs ...", flush=True)
        rows += bench_runs.rows(await bench_runs.run(args.quick, tmp_path / "runs",
                                                     progress=progress))
        print("7/7 the club's week ...", flush=True)
        week = await bench_week.run(args.quick, tmp_path / "week", progress=progress)
        rows += bench_week.rows(week)
    return report(rows, pg, bench_week.details(week))


def progress(msg: str) -> None:
    print(f"    {msg}", flush=True)


async def postgres_part(quick: bool, tmp: Path) -> int:
    print("PostgreSQL and several processes ...", flush=True)
    pg = await bench_postgres.run(quick, tmp / "pg", progress=progress)
    return report(bench_postgres.rows(pg), pg)


async def runs_part(quick: bool, tmp: Path) -> int:
    print("club runs ...", flush=True)
    runs = await bench_runs.run(quick, tmp / "runs", progress=progress)
    return report(bench_runs.rows(runs), None)


async def week_part(quick: bool, tmp: Path) -> int:
    print("the club's week ...", flush=True)
    week = await bench_week.run(quick, tmp / "week", progress=progress)
    return report(bench_week.rows(week), None, bench_week.details(week))


def report(rows: list[Row], pg: bench_postgres.Results | None, week: str | None = None) -> int:
    print(f"\nStride benchmarks on {machine()}\n")
    print(table(rows))
    if pg is not None and pg.skipped is None:
        print("\n" + bench_postgres.details(pg))
    if week is not None:
        print("\n" + week)
    missed = [r.what for r in rows if r.met is False]
    print(f"\n{len(missed)} target(s) missed" + (": " + "; ".join(missed) if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
