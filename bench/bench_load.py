"""Sustained mixed load through the emulator: every interaction answered in time, memory flat.

    .venv/bin/python -m bench.bench_load [--rate 100] [--seconds 60] [--members 500]

Starts the emulator on 127.0.0.1 (Discord's rate limits on), registers the commands
(`bot.py sync --global`) and runs the real bot as a subprocess on a fresh database, in a
world of two clubs with `--members` members between them. After a short seeding (club
reminders, some members' DM reminders) and a warm-up, it sends `rate * seconds`
interactions open-loop: each is dispatched on its schedule whatever the bot is doing, as
Discord would, drawn from a realistic mix (/exercise with various names and its
autocomplete, /routine and Start / Next on the walk-through, /checkin by many members, once
a day each and then "already checked in", /streak with its calendar picture, /leaderboard
and its Next button, /timezone, /form, /help, /reminder list, /remindme show).

Recorded per interaction: the time from dispatch to the bot's first callback arriving, and
whether it came within Discord's 3 s (the emulator refuses a later one with 10062 and notes
`late_by`); an answer that defers must then be followed by the real one, and no answer may
be the error embed. Also recorded: every error answer, limit violation, unknown route and
429 the emulator saw, error lines in the bot's log, and the bot process's RSS (VmRSS) after
READY, after warm-up, after 1,000 and 6,000 answered interactions (and each quarter of the
run), and at the end. Exits 1 if any interaction went unanswered, was answered late, or
anything failed. The load generator's own garbage collector is off during the load, so its
pauses do not show up as the bot's latency.

`run_load()` and `Workload` are reused by tests/e2e/test_load_e2e.py (a short CI run).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from stride import streaks
from stride.checkins import breaks_at
from stride.storage.sqlite import prepare
from tests.e2e.stride import bot_env
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import REPO_ROOT, BotProcess, launch_bot
from tests.emulator.records import InteractionRecord

BOT = REPO_ROOT / "bot.py"
JSON = dict[str, Any]

DEADLINE = 3.0  # Discord's (and the emulator's) time to acknowledge an interaction
PNG = b"\x89PNG"
ERROR_TITLE = "Hmm, that didn't work"  # ui/errors.py: every error answer has this title

EXERCISE_NAMES = [
    "clams", "clamshell", "lunge matrix", "rdl", "glute bridge", "fire hydrant", "side plank",
    "monster walk", "strides", "squats", "step-ups", "donkey kicks", "bounding", "bosu",
    "reverse clams", "glute squeeze", "back extension", "surges", "running form",
    "marathon pace",  # unknown: "did you mean" buttons
]
TYPED = ["", "c", "cl", "cla", "lun", "glu", "bri", "side", "mon", "str", "dead", "step", "xyz"]
ZONES = ["Europe/Berlin", "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Tokyo",
         "UTC", "America/Los_Angeles", "europe/paris", "Africa/Nairobi", "America/Sao_Paulo"]
ZONES_TYPED = ["", "eu", "berl", "new", "lond", "tok", "america/", "syd"]
ROUTINES = ["quick", "full", "myrtl", "drills", "strength"]
BOARDS = ["streak", "best", "checkins"]
PERIODS = ["week", "month", "all"]

#: The mix: (label, weight). Weights are percentages.
MIX: list[tuple[str, int]] = [
    ("/exercise", 16),
    ("exercise autocomplete", 18),
    ("/routine", 7),
    ("routine Start", 5),
    ("walk-through Next", 6),
    ("/checkin", 14),
    ("/streak", 8),
    ("/leaderboard", 6),
    ("leaderboard Next", 4),
    ("/timezone", 3),
    ("timezone autocomplete", 2),
    ("/form", 3),
    ("/help", 3),
    ("/reminder list", 2),
    ("/remindme show", 3),
]


# ---------------------------------------------------------------------------------- world

@dataclass
class Club:
    """One guild of the load world."""

    guild: JSON
    channel: JSON  # #general, where members use the commands
    runs: JSON  # #runs
    admin: JSON
    members: list[JSON]
    checkin_order: list[JSON] = field(default_factory=list)
    next_checkin: int = 0
    checked_in: list[JSON] = field(default_factory=list)  # some check-in (history or today)
    checked_ids: set[int] = field(default_factory=set)
    routine_messages: deque[int] = field(default_factory=lambda: deque(maxlen=50))
    walk_screens: deque[tuple[int, JSON]] = field(default_factory=lambda: deque(maxlen=200))
    boards: deque[int] = field(default_factory=lambda: deque(maxlen=100))


def build_world(emu: DiscordEmulator, members: int, *, even: bool = False,
                guild_ids: list[int] | None = None) -> list[Club]:
    """Two clubs: a big one with 80 % of the members and a smaller one with the rest (`even`:
    half each); `guild_ids` chooses the servers' ids (e.g. one on each of two shards)."""
    if members < 10:
        sizes = [members]
    else:
        sizes = [members - members // 2, members // 2] if even else [
            members - members // 5, members // 5]
    clubs = []
    for n, (name, size) in enumerate(zip(["Riverside Running Club", "Hill Harriers"], sizes,
                                         strict=False)):
        guild = emu.add_guild(name, channels=["general", "runs"], roles=["Runners"],
                              owner=f"owner{n}",
                              guild_id=guild_ids[n] if guild_ids else None)
        gid = int(guild["id"])
        admin = emu.add_member(guild, f"coach{n}", admin=True, global_name=f"Coach {n}")
        people = [emu.add_member(guild, f"runner{n}-{i}", roles=["Runners"],
                                 global_name=f"Runner {n}-{i}") for i in range(size)]
        clubs.append(Club(guild, emu.world.channel_by_name(gid, "general"),
                          emu.world.channel_by_name(gid, "runs"), admin, people))
    return clubs


def seed_history(db: Path, clubs: list[Club], *, share: float = 0.7, days: int = 56,
                 seed: int = 1) -> int:
    """Eight weeks of check-ins (up to yesterday, UTC) for `share` of the members, written
    straight into a fresh database with figures by the real rules, so streaks, calendars and
    boards have something to show from the first interaction. Returns the check-ins written."""
    prepare(db)
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    rest_days, written = 2, 0
    members, checkins = [], []
    for club in clubs:
        gid = int(club.guild["id"])
        for member in club.members:
            if rng.random() >= share:
                continue
            habit = rng.uniform(0.15, 0.95)
            history = [today - timedelta(days=d) for d in range(days, 0, -1)
                       if rng.random() < habit] or [today - timedelta(days=1)]
            state = streaks.from_days(history, rest_days)
            uid = int(member["user"]["id"])
            assert state.last_day is not None
            members.append((
                gid, uid, state.last_day.isoformat(), f"{state.last_day.isoformat()}T07:00:00",
                state.run, state.best, state.total, state.week_key, state.week_count,
                state.month_key, state.month_count,
                breaks_at(state, rest_days, ZoneInfo("UTC")), rest_days,
            ))
            checkins += [(gid, uid, d.isoformat(), f"{d.isoformat()}T07:00:00+00:00", None)
                         for d in history]
            club.checked_in.append(member)
            club.checked_ids.add(uid)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO members (guild_id, user_id, last_day, last_at, run, best, total, "
            "week_key, week_count, month_key, month_count, breaks_at, rest_days) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", members)
        conn.executemany("INSERT OR IGNORE INTO checkins VALUES (?, ?, ?, ?, ?)", checkins)
        conn.execute("COMMIT")
        written = len(checkins)
    finally:
        conn.close()
    return written


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------- workload

@dataclass
class Result:
    """One interaction of the load and what became of it."""

    op: str
    rec: InteractionRecord | None
    lag: float = 0.0  # seconds the dispatch started after its scheduled time
    errors: list[str] = field(default_factory=list)
    outcome: str | None = None  # e.g. "recorded" / "already" for /checkin

    @property
    def latency(self) -> float | None:
        return None if self.rec is None else self.rec.response_time

    @property
    def late(self) -> bool:
        return self.rec is not None and self.rec.late_by is not None

    @property
    def unanswered(self) -> bool:
        return self.rec is None or (self.rec.response is None and self.rec.late_by is None)


Op = Callable[[Result], Awaitable[None]]


def buttons(message: JSON) -> list[JSON]:
    return [c for row in message.get("components") or [] for c in row.get("components", [])]


def find_button(message: JSON, *labels: str) -> JSON | None:
    for b in buttons(message):
        if b.get("label") in labels and not b.get("disabled"):
            return b
    return None


def first_embed(message: JSON | None) -> JSON:
    embeds = (message or {}).get("embeds") or []
    return embeds[0] if embeds else {}


class Workload:
    """The mixed interactions, their follow-up clicks and the checks on the answers."""

    def __init__(self, emu: DiscordEmulator, clubs: list[Club], *, seed: int = 1,
                 answer_timeout: float = DEADLINE + 2.0) -> None:
        self.emu = emu
        self.clubs = clubs
        self.rng = random.Random(seed)
        self.answer_timeout = answer_timeout
        self.ops: dict[str, Op] = {
            "/exercise": self.exercise,
            "exercise autocomplete": self.exercise_autocomplete,
            "/routine": self.routine,
            "routine Start": self.routine_start,
            "walk-through Next": self.walk_next,
            "/checkin": self.checkin,
            "/streak": self.streak,
            "/leaderboard": self.leaderboard,
            "leaderboard Next": self.leaderboard_next,
            "/timezone": self.timezone,
            "timezone autocomplete": self.timezone_autocomplete,
            "/form": self.simple("form"),
            "/help": self.simple("help"),
            "/reminder list": self.reminder_list,
            "/remindme show": self.remindme_show,
        }
        self.labels = [label for label, _ in MIX]
        self.weights = [weight for _, weight in MIX]
        self._club_weights = [len(c.members) for c in clubs]
        for club in clubs:
            club.checkin_order = list(club.members)
            self.rng.shuffle(club.checkin_order)

    # -- helpers ------------------------------------------------------------------------
    def club(self) -> Club:
        return self.rng.choices(self.clubs, self._club_weights)[0]

    def member(self, club: Club) -> JSON:
        return self.rng.choice(club.members)

    async def slash(self, result: Result, club: Club, name: str, options: JSON | None = None,
                    *, member: JSON | None = None, subcommand: str | None = None) -> None:
        result.rec = await self.emu.slash(
            name, options, member=member or self.member(club), guild=club.guild,
            channel=club.channel, subcommand=subcommand,
        )
        await self.answered(result)

    async def click(self, result: Result, club: Club, message_id: int, custom_id: str,
                    member: JSON) -> None:
        result.rec = await self.emu.click(message_id, custom_id, member=member,
                                          guild=club.guild, channel=club.channel)
        await self.answered(result)

    async def answered(self, result: Result) -> JSON | None:
        """Wait for the first callback; check it is not an error answer; a defer must be
        followed by the real answer."""
        rec = result.rec
        assert rec is not None
        try:
            await rec.wait_response(self.answer_timeout)
        except TimeoutError:
            return None  # late or unanswered: the record says which
        if rec.deferred:
            try:
                await rec.wait_message(15.0)
            except TimeoutError:
                result.errors.append("deferred but never answered")
                return None
        message = rec.message or (rec.response or {}).get("data")
        embed = first_embed(message)
        if embed.get("title") == ERROR_TITLE:
            result.errors.append(f"error answer: {embed.get('description', '')[:120]}")
        return message

    # -- the operations -----------------------------------------------------------------
    async def exercise(self, result: Result) -> None:
        await self.slash(result, self.club(), "exercise",
                         {"name": self.rng.choice(EXERCISE_NAMES)})

    async def exercise_autocomplete(self, result: Result) -> None:
        club = self.club()
        result.rec = await self.emu.autocomplete(
            "exercise", {"name": self.rng.choice(TYPED)}, "name", member=self.member(club),
            guild=club.guild, channel=club.channel,
        )
        await self.answered(result)

    async def routine(self, result: Result) -> None:
        club = self.club()
        name = self.rng.choice([*ROUTINES, None])
        await self.slash(result, club, "routine", {"name": name} if name else None)
        message = result.rec.message if result.rec else None
        if message is not None and find_button(message, "Start"):
            club.routine_messages.append(int(message["id"]))

    async def routine_start(self, result: Result) -> None:
        club = self.club()
        if not club.routine_messages:
            result.op = "/routine"
            return await self.routine(result)
        message_id = self.rng.choice(club.routine_messages)
        start = find_button(self.emu.message_record(message_id).message, "Start")
        assert start is not None
        member = self.member(club)
        await self.click(result, club, message_id, start["custom_id"], member)
        screen = result.rec.message if result.rec else None
        if screen is not None:
            club.walk_screens.append((int(screen["id"]), member))

    async def walk_next(self, result: Result) -> None:
        club = self.club()
        if not club.walk_screens:
            result.op = "routine Start"
            return await self.routine_start(result)
        message_id, member = club.walk_screens.popleft()  # one click at a time per screen
        screen = self.emu.message_record(message_id).message
        target = find_button(screen, "Next", "Finish", "Start over")
        assert target is not None, buttons(screen)
        await self.click(result, club, message_id, target["custom_id"], member)
        if result.rec is not None and result.rec.response is not None:
            club.walk_screens.append((message_id, member))

    async def checkin(self, result: Result) -> None:
        club = self.club()
        if club.next_checkin < len(club.checkin_order):
            member = club.checkin_order[club.next_checkin]  # everyone once ...
            club.next_checkin += 1
        else:
            member = self.member(club)  # ... then "already checked in"
        what = self.rng.choice([None, None, None, "quick", "myrtl", "clams", "full"])
        await self.slash(result, club, "checkin", {"what": what} if what else None,
                         member=member)
        title = first_embed(result.rec.message if result.rec else None).get("title", "")
        if title.startswith("Checked in"):
            result.outcome = "recorded"
            if int(member["user"]["id"]) not in club.checked_ids:
                club.checked_ids.add(int(member["user"]["id"]))
                club.checked_in.append(member)
        elif title == "Already checked in today":
            result.outcome = "already"
        elif result.rec is not None and result.rec.response is not None and not result.errors:
            result.errors.append(f"unexpected /checkin answer {title!r}")

    async def streak(self, result: Result) -> None:
        club = self.club()
        roll = self.rng.random()
        if club.checked_in and roll < 0.8:
            member, options, expect_png = self.rng.choice(club.checked_in), None, True
        elif club.checked_in and roll < 0.9:
            other = self.rng.choice(club.checked_in)
            member, options, expect_png = self.member(club), {"member": other}, True
        else:
            member, options, expect_png = self.member(club), None, False
        await self.slash(result, club, "streak", options, member=member)
        rec = result.rec
        if rec is None or rec.message is None:
            return
        # The figures come first; the calendar picture follows as an edit of the answer.
        deadline = time.perf_counter() + 5.0
        while expect_png and not self.emu.message_record(rec.message).files:
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.005)
        files = self.emu.message_record(rec.message).files
        has_png = bool(files) and files[0].data.startswith(PNG)
        result.outcome = "with PNG" if has_png else "no PNG"
        if expect_png and not has_png:
            result.errors.append("/streak of a member who checked in came without the PNG")

    async def leaderboard(self, result: Result) -> None:
        club = self.club()
        options = {"board": self.rng.choice(BOARDS), "period": self.rng.choice(PERIODS)}
        await self.slash(result, club, "leaderboard", options)
        message = result.rec.message if result.rec else None
        if message is not None and find_button(message, "Next"):
            club.boards.append(int(message["id"]))

    async def leaderboard_next(self, result: Result) -> None:
        club = self.club()
        if not club.boards:
            result.op = "/leaderboard"
            return await self.leaderboard(result)
        message_id = club.boards.popleft()
        nxt = find_button(self.emu.message_record(message_id).message, "Next")
        assert nxt is not None
        await self.click(result, club, message_id, nxt["custom_id"], self.member(club))
        if find_button(self.emu.message_record(message_id).message, "Next"):
            club.boards.append(message_id)

    async def timezone(self, result: Result) -> None:
        await self.slash(result, self.club(), "timezone", {"zone": self.rng.choice(ZONES)})

    async def timezone_autocomplete(self, result: Result) -> None:
        club = self.club()
        result.rec = await self.emu.autocomplete(
            "timezone", {"zone": self.rng.choice(ZONES_TYPED)}, "zone",
            member=self.member(club), guild=club.guild, channel=club.channel,
        )
        await self.answered(result)

    def simple(self, name: str) -> Op:
        async def op(result: Result) -> None:
            await self.slash(result, self.club(), name)
        return op

    async def reminder_list(self, result: Result) -> None:
        club = self.club()
        await self.slash(result, club, "reminder", subcommand="list", member=club.admin)

    async def remindme_show(self, result: Result) -> None:
        await self.slash(result, self.club(), "remindme", subcommand="show")

    # -- running ------------------------------------------------------------------------
    def pick(self) -> str:
        return self.rng.choices(self.labels, self.weights)[0]

    async def run_op(self, label: str, lag: float = 0.0) -> Result:
        result = Result(label, None, lag)
        try:
            await self.ops[label](result)
        except Exception as exc:  # the emulator refused to send it, or a check broke
            result.errors.append(f"{type(exc).__name__}: {exc}")
        return result

    async def seed(self) -> None:
        """What a club has set up before the rush: club reminders, some DM reminders."""
        for club in self.clubs:
            for options in ({"channel": club.runs, "time": "6:30", "days": "weekdays"},
                            {"channel": club.channel, "time": "18:00",
                             "routine": "quick"}):
                result = Result("seed /reminder add", None)
                await self.slash(result, club, "reminder", options, member=club.admin,
                                 subcommand="add")
                check_seed(result)
            for member in club.members[: max(1, len(club.members) // 25)]:
                result = Result("seed /remindme set", None)
                await self.slash(result, club, "remindme", {"time": "6:30am"}, member=member,
                                 subcommand="set")
                check_seed(result)

    async def warm_up(self, count: int) -> list[Result]:
        """Closed loop, one at a time: fills the message pools and warms every code path."""
        results = []
        for i in range(count):
            label = self.labels[i % len(self.labels)]
            results.append(await self.run_op(label))
        return results

    async def drive(self, rate: float, total: int,
                    on_done: Callable[[Result], None] | None = None) -> list[Result]:
        """Open loop: interaction i is dispatched at start + i / rate, whatever the answers."""
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05
        tasks: list[asyncio.Task[Result]] = []

        async def one(label: str, lag: float) -> Result:
            result = await self.run_op(label, lag)
            if on_done is not None:
                on_done(result)
            return result

        for i in range(total):
            at = start + i / rate
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(self.pick(), loop.time() - at)))
        return list(await asyncio.gather(*tasks))


def check_seed(result: Result) -> None:
    if result.errors or result.unanswered or result.late:
        raise RuntimeError(f"seeding failed: {result.op}: {result.errors or result.rec}")


# --------------------------------------------------------------------------------- report

@dataclass
class LoadReport:
    rate: float
    seconds: float
    total: int
    members: int
    clubs: int
    results: list[Result]
    rss: list[tuple[str, int]]  # (when, KiB)
    rss_at: dict[int, int]  # answered-interaction count -> KiB
    wall: float  # seconds from first dispatch to last answer
    bot_cpu: float  # bot CPU seconds during the load
    emu_cpu: float  # this process's CPU seconds during the load
    error_responses: list[str]
    limit_violations: list[str]
    unhandled: list[str]
    rate_limited: int
    log_errors: list[str]
    log_warnings: list[str]
    checkins: Counter[str]
    streaks: Counter[str]
    bot_exit: int | None = None

    @property
    def late(self) -> list[Result]:
        return [r for r in self.results if r.late]

    @property
    def unanswered(self) -> list[Result]:
        return [r for r in self.results if r.unanswered]

    @property
    def errored(self) -> list[Result]:
        return [r for r in self.results if r.errors]

    def rss_growth(self, since: int, until: int) -> int:
        """KiB the bot grew between `since` and `until` answered interactions."""
        return self.rss_at[until] - self.rss_at[since]

    def failures(self) -> list[str]:
        out = []
        if self.late:
            out.append(f"{len(self.late)} answered after {DEADLINE:.0f} s")
        if self.unanswered:
            out.append(f"{len(self.unanswered)} unanswered")
        if self.errored:
            out.append(f"{len(self.errored)} with errors, e.g. "
                       f"{self.errored[0].op}: {self.errored[0].errors}")
        for name, items in (("error responses", self.error_responses),
                            ("limit violations", self.limit_violations),
                            ("unhandled routes", self.unhandled),
                            ("bot log errors", self.log_errors)):
            if items:
                out.append(f"{len(items)} {name}, e.g. {items[0]}")
        if self.rate_limited:
            out.append(f"{self.rate_limited} answered 429")
        if self.bot_exit not in (None, 0):
            out.append(f"bot exited with {self.bot_exit}")
        return out


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def format_report(report: LoadReport) -> str:
    lines = [
        f"{report.total} interactions, {report.rate:g}/s for {report.seconds:g} s "
        f"(open loop), {report.members} members in {report.clubs} clubs; "
        f"last answer {report.wall:.1f} s after the first dispatch",
        "",
        f"{'interaction':24} {'count':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'late':>5} {'unans':>5} {'errors':>6}",
    ]
    by_op: dict[str, list[Result]] = {}
    for r in report.results:
        by_op.setdefault(r.op, []).append(r)
    order = [label for label, _ in MIX if label in by_op] + sorted(
        set(by_op) - {label for label, _ in MIX})

    def row(name: str, results: list[Result]) -> str:
        lat = sorted(r.latency * 1000 for r in results if r.latency is not None)
        return (f"{name:24} {len(results):6d} {percentile(lat, 0.5):8.1f} "
                f"{percentile(lat, 0.99):8.1f} {(lat[-1] if lat else math.nan):8.1f} "
                f"{sum(r.late for r in results):5d} {sum(r.unanswered for r in results):5d} "
                f"{sum(bool(r.errors) for r in results):6d}")

    lines += [row(name, by_op[name]) for name in order]
    lines.append(row("all", report.results))
    lags = sorted(r.lag * 1000 for r in report.results)
    lines += [
        "",
        f"/checkin: {report.checkins['recorded']} recorded, {report.checkins['already']} "
        f"already checked in; /streak: {report.streaks['with PNG']} with the PNG, "
        f"{report.streaks['no PNG']} without (no check-ins yet)",
        f"dispatch lag behind schedule: p50 {percentile(lags, 0.5):.1f} ms, "
        f"p99 {percentile(lags, 0.99):.1f} ms, max {(lags[-1] if lags else 0):.1f} ms",
        f"CPU during the load: bot {report.bot_cpu:.1f} s "
        f"({100 * report.bot_cpu / max(report.wall, 1e-9):.0f} %), emulator + load generator "
        f"{report.emu_cpu:.1f} s ({100 * report.emu_cpu / max(report.wall, 1e-9):.0f} %)",
        f"emulator: {len(report.error_responses)} error responses, "
        f"{len(report.limit_violations)} limit violations, {len(report.unhandled)} unhandled "
        f"routes, {report.rate_limited} 429s; bot log: {len(report.log_errors)} errors, "
        f"{len(report.log_warnings)} warnings",
        "",
        "bot RSS (VmRSS):",
    ]
    lines += [f"  {when:34} {kib / 1024:8.1f} MiB" for when, kib in report.rss]
    failures = report.failures()
    lines += ["", "FAILED: " + "; ".join(failures) if failures else "PASS"]
    for r in (report.late + report.unanswered + report.errored)[:10]:
        lines.append(f"  {r.op}: late_by={r.rec and r.rec.late_by} errors={r.errors} "
                     f"rejected={r.rec and r.rec.rejected}")
    for line in (report.log_errors + report.log_warnings)[:10]:
        lines.append(f"  log: {line[:200]}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- run

async def start_bot(emu: DiscordEmulator, tmp: Path, db: Path,
                    env: dict[str, str] | None = None) -> BotProcess:
    """Register the commands (`bot.py sync --global`), then start the bot on `db` (`env`
    over the settings, e.g. DATABASE_URL)."""
    return (await start_bots(emu, tmp, db, env))[0]


async def start_bots(emu: DiscordEmulator, tmp: Path, db: Path,
                     env: dict[str, str] | None = None, processes: int = 1
                     ) -> list[BotProcess]:
    """`start_bot`; with `processes` > 1, that many processes at once, process i running
    shard i of `processes` (SHARD_IDS / SHARD_COUNT; `env` must give a shared DATABASE_URL,
    and the emulator hands out that many shards)."""
    env = {**bot_env(db), **(env or {})}
    sync = await launch_bot(emu, BOT, env, ["sync", "--global"], log_path=tmp / "sync.log",
                            wait=False)
    code = await sync.wait_exit(60)
    if code != 0:
        raise RuntimeError(f"bot.py sync failed ({code}):\n{sync.output()}")
    if processes == 1:
        return [await launch_bot(emu, BOT, env, log_path=tmp / "bot.log")]
    return list(await asyncio.gather(*(
        launch_bot(emu, BOT, {**env, "SHARD_COUNT": str(processes), "SHARD_IDS": str(i)},
                   log_path=tmp / f"bot-{i}.log", shards=[i])
        for i in range(processes))))


async def run_load(rate: float, seconds: float, tmp: Path, *, members: int = 500,
                   warm_up: int = 60, seed: int = 1,
                   progress: Callable[[str], None] | None = None) -> LoadReport:
    """Start emulator + bot, seed, warm up, drive `rate * seconds` interactions; report."""
    total = int(rate * seconds)
    say = progress or (lambda _msg: None)
    emu = DiscordEmulator()
    emu.discord_rate_limits()
    emu.strict_commands = True
    clubs = build_world(emu, members)
    db = tmp / "stride.db"
    history = seed_history(db, clubs, seed=seed)
    say(f"{members} members, {history} check-ins of history")
    await emu.start()
    proc: BotProcess | None = None
    try:
        proc = await start_bot(emu, tmp, db)
        pid = proc.pid
        rss: list[tuple[str, int]] = [("after READY", rss_kib(pid))]
        work = Workload(emu, clubs, seed=seed)
        say("seeding reminders")
        await work.seed()
        say(f"warm-up ({warm_up} interactions, one at a time)")
        warm = await work.warm_up(warm_up)
        bad = [r for r in warm if r.errors or r.unanswered or r.late]
        if bad:
            raise RuntimeError(f"warm-up failed: {bad[0].op}: {bad[0].errors or bad[0].rec}")
        rss.append((f"after warm-up ({warm_up})", rss_kib(pid)))
        seen_errors = len(emu.error_responses)

        marks = {m for m in (total // 4, total // 2, 3 * total // 4, total, 1000, 6000)
                 if 0 < m <= total}
        rss_at: dict[int, int] = {}
        done = 0

        def on_done(_result: Result) -> None:
            nonlocal done
            done += 1
            if done in marks:
                rss_at[done] = rss_kib(pid)
                rss.append((f"after {done} interactions", rss_at[done]))
            if done % max(1, total // 10) == 0:
                say(f"{done}/{total} done")

        say(f"load: {total} interactions at {rate:g}/s")
        # The emulator keeps every request, message and interaction it saw; a full garbage
        # collection over that heap stalls its loop (up to a second after 20,000 interactions)
        # and would show up as the bot's latency. Nothing here makes much cyclic garbage.
        gc.collect()
        gc.disable()
        try:
            cpu0, emu_cpu0, t0 = cpu_seconds(pid), time.process_time(), time.perf_counter()
            results = await work.drive(rate, total, on_done)
            wall = time.perf_counter() - t0
            bot_cpu, emu_cpu = cpu_seconds(pid) - cpu0, time.process_time() - emu_cpu0
        finally:
            gc.enable()
        await asyncio.sleep(1.0)  # late answers would arrive now
        rss.append(("at the end (+1 s idle)", rss_kib(pid)))
        log_lines = proc.output().splitlines()
        report = LoadReport(
            rate=rate, seconds=seconds, total=total, members=members, clubs=len(clubs),
            results=results,
            rss=rss, rss_at=rss_at, wall=wall, bot_cpu=bot_cpu, emu_cpu=emu_cpu,
            error_responses=[f"{r.method} {r.route or r.path} -> {r.status} {r.response}"
                             for r in emu.error_responses[seen_errors:]]
            + [f"(before the load) {r.method} {r.route or r.path} -> {r.status}"
               for r in emu.error_responses[:seen_errors]],
            limit_violations=[f"{v.method} {v.path} {v.field}: {v.message}"
                              for v in emu.limit_violations],
            unhandled=[f"{r.method} {r.path}" for r in emu.unhandled],
            rate_limited=len(emu.rate_limited),
            log_errors=[ln for ln in log_lines if " ERROR " in ln or "Traceback" in ln],
            log_warnings=[ln for ln in log_lines if " WARNING " in ln
                          and "voice will NOT be supported" not in ln],
            checkins=Counter(r.outcome for r in results if r.op == "/checkin"),
            streaks=Counter(r.outcome for r in results if r.op == "/streak"),
        )
        await proc.stop()
        report.bot_exit = proc.returncode
        return report
    finally:
        if proc is not None:
            proc.stop_sync()
        await emu.stop()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0, help="interactions a second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long")
    parser.add_argument("--members", type=int, default=500, help="members in the two clubs")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = await run_load(
            args.rate, args.seconds, Path(tmp), members=args.members, seed=args.seed,
            progress=lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}",
                                       file=sys.stderr, flush=True),
        )
    print(format_report(report))
    return 1 if report.failures() else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
