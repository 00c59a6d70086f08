"""A short run of the load benchmark (bench/bench_load.py) for CI: 50 mixed interactions a
second for 8 seconds through the emulator, sent open-loop by the members of two clubs.

Every interaction is answered within Discord's 3 seconds with no error, the bot sends nothing
Discord would refuse, and its memory stays flat once warm. The full run (100 a second for a
minute) is `python -m bench.bench_load`.
"""

from __future__ import annotations

from pathlib import Path

from bench.bench_load import format_report, run_load

RATE, SECONDS = 50, 8
MEMBERS = 40  # few enough that check-ins go round everyone, then get "already checked in"
RSS_GROWTH_LIMIT_KIB = 15 * 1024  # generous: the bot's RSS wobbles by a few MiB


async def test_mixed_load_answered_in_time_with_flat_memory(tmp_path: Path) -> None:
    report = await run_load(RATE, SECONDS, tmp_path, members=MEMBERS, warm_up=60)
    text = format_report(report)
    print(text)  # shown with -s or -rP; the assertions repeat it on failure
    total = RATE * SECONDS
    assert len(report.results) == total
    assert report.late == [], text
    assert report.unanswered == [], text
    assert report.errored == [], text
    assert report.error_responses == [], text
    assert report.limit_violations == [], text
    assert report.unhandled == [], text
    assert report.rate_limited == 0, text
    assert report.log_errors == [], text
    assert report.bot_exit == 0, text
    # the workload really was mixed: every kind of interaction ran, check-ins were recorded
    assert {r.op for r in report.results} >= {
        "/exercise", "exercise autocomplete", "/routine", "routine Start", "walk-through Next",
        "/checkin", "/streak", "/leaderboard", "/help", "/form",
    }, text
    assert report.checkins["recorded"] > MEMBERS // 2 and report.checkins["already"] > 0, text
    assert report.streaks["with PNG"] > 0, text
    assert report.rss_growth(total // 4, total) < RSS_GROWTH_LIMIT_KIB, text
