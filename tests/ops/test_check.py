"""`bot.py check`: an installation checked offline, without a token, changing nothing.

The subprocess runs (`python bot.py check`, as an operator runs it) start all at once from
one module fixture, each in its own folder; the tests then read their results. A few more
cases call the same code in-process.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from ops.check import Report, check_catalog
from stride.config import Settings
from stride.storage import migrations
from stride.storage.pg_inspection import connection_problem
from stride.storage.postgres import prepare as prepare_postgres
from stride.storage.sqlite import prepare
from tests.stride.test_catalog_schema import CALF, _toml, small

ROOT = Path(__file__).resolve().parents[2]
APP_ID = 123456789012345678
TOKEN = base64.b64encode(str(APP_ID).encode()).decode().rstrip("=") + ".GhIjKl.s3cr3tP4rtOfTheT0ken"
LATEST = migrations.available()[-1].version
LATEST_PG = migrations.available("postgresql")[-1].version

CheckRun = Callable[..., tuple[int, str]]


def check_env(folder: Path, **env: str) -> dict[str, str]:
    """Every setting explicit, so a developer's own .env changes nothing here."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "LOG_"))}
    clean.update(DISCORD_TOKEN=TOKEN, DATABASE_PATH=str(folder / "stride.db"),
                 EXERCISES_PATH="", CLUB_EXERCISES_PATH=str(folder / "club-exercises.toml"),
                 LOG_FILE="", LOG_LEVEL="INFO", BACKUP_DIR="")
    clean.update(env)
    return clean


def files(folder: Path) -> dict[str, str]:
    """Every file in `folder` with a hash of its bytes: equal means nothing was written."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def db_at(path: Path, version: int | None = None) -> Path:
    """A database like Stride's (WAL mode) with migrations applied up to `version` (all)."""
    if version is None:
        prepare(path)
        return path
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.apply(conn, migrations.available()[:version])
    conn.close()
    return path


# --- the scenarios, each set up in its own folder; returns settings to add --------------------

def current_db(folder: Path) -> dict[str, str]:
    db_at(folder / "stride.db")
    return {}


def old_db(folder: Path) -> dict[str, str]:
    db_at(folder / "stride.db", version=1)
    return {}


def newer_db(folder: Path) -> dict[str, str]:
    conn = sqlite3.connect(db_at(folder / "stride.db"))
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    return {}


def random_bytes_db(folder: Path) -> dict[str, str]:
    (folder / "stride.db").write_bytes(os.urandom(40_000))
    return {}


def truncated_db(folder: Path) -> dict[str, str]:
    whole = db_at(folder / "whole.db")
    data = whole.read_bytes()
    whole.unlink()
    (folder / "stride.db").write_bytes(data[: len(data) // 2])
    return {}


def broken_data_file(folder: Path) -> dict[str, str]:
    broken = folder / "exercises.toml"
    text = (ROOT / "data" / "exercises.toml").read_text("utf-8")
    broken.write_text(text.replace('category = "strength"', 'category = "cardio"', 1), "utf-8")
    return {"EXERCISES_PATH": str(broken)}


def no_token(folder: Path) -> dict[str, str]:
    db_at(folder / "stride.db", version=2)
    return {"DISCORD_TOKEN": ""}


SCENARIOS: dict[str, Callable[[Path], dict[str, str]]] = {
    "fresh": lambda folder: {},
    "old": old_db,
    "newer": newer_db,
    "random bytes": random_bytes_db,
    "broken data": broken_data_file,
    "no token": no_token,
}


@dataclass
class Checked:
    """One `bot.py check` run: its folder (the database's), exit code, output, and the
    folder's files before and after."""

    folder: Path
    code: int
    out: str
    err: str
    before: dict[str, str]
    after: dict[str, str]

    def problems(self) -> list[str]:
        return [line for line in self.out.splitlines() if line.startswith("  PROBLEM  ")]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Checked]:
    """`python bot.py check` in a subprocess for every scenario, all started at once."""
    started = {}
    for name, setup in SCENARIOS.items():
        folder = tmp_path_factory.mktemp(name.replace(" ", "-"))
        env = check_env(folder, **setup(folder))
        started[name] = folder, files(folder), subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), "check"], cwd=folder, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
    results = {}
    for name, (folder, before, proc) in started.items():
        out, err = proc.communicate(timeout=60)
        results[name] = Checked(folder, proc.returncode, out, err, before, files(folder))
    return results


def test_all_good_lists_the_commands_with_their_options(checked: dict[str, Checked]) -> None:
    run = checked["fresh"]
    assert run.code == 0, run.out + run.err
    assert run.problems() == []
    assert "does not exist yet; it will be created on first start" in run.out
    assert run.after == run.before == {}  # the check created nothing
    assert f"DISCORD_TOKEN is set (application {APP_ID}" in run.out
    assert "exercises.toml: " in run.out and " routines" in run.out
    for line in (
        "/exercise name - How to do an exercise",
        "name: text, required, autocomplete",
        "/exercises [category]",
        "category: text, optional, choices: Pre-run activation, During-run drills",
        "/checkin [what] [undo]",
        "undo: true/false, optional",
        "/leaderboard [board] [period]",
        "/club settings [timezone] [rest_days]",
        "rest_days: whole number from 0 to 6, optional",
        "/reminder add channel time [days] [timezone] [role] [routine]",
        "channel: channel (text, news), required",
        "(Manage Server, servers only)",
        "/remindme set time [days]",
        "/help - ",
    ):
        assert line in run.out, line
    assert "All good" in run.out
    assert "s3cr3t" not in run.out + run.err


def test_an_old_schema_says_which_migrations_the_start_applies(
        checked: dict[str, Checked]) -> None:
    run = checked["old"]
    assert run.code == 0, run.out
    pending = ", ".join(m.name for m in migrations.available()[1:])
    assert f"schema version 1; the next start applies migrations {pending}" in run.out
    assert "apply cleanly" in run.out
    assert run.after == run.before
    conn = sqlite3.connect(run.folder / "stride.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()


def test_a_database_from_a_newer_stride_is_refused_and_untouched(
        checked: dict[str, Checked]) -> None:
    run = checked["newer"]
    assert run.code == 1
    assert run.problems() == [
        f"  PROBLEM  {run.folder / 'stride.db'}: the database is at schema version 999, newer "
        f"than this Stride knows ({LATEST}); upgrade Stride or restore a backup made by this "
        "version."
    ]
    assert run.after == run.before


def test_a_corrupt_database_is_a_problem_with_the_fix(checked: dict[str, Checked]) -> None:
    run = checked["random bytes"]
    assert run.code == 1
    [problem] = run.problems()
    assert f"{run.folder / 'stride.db'} is not a usable SQLite database" in problem
    assert "restore the database from a backup" in problem
    assert "Traceback" not in run.out + run.err
    assert run.after == run.before


def test_a_broken_data_file_is_named_and_the_rest_still_checked(
        checked: dict[str, Checked]) -> None:
    run = checked["broken data"]
    assert run.code == 1
    [problem] = run.problems()
    assert "exercises.toml: exercise #" in problem
    assert "('squats'), field 'category': unknown category" in problem
    assert "will be created on first start" in run.out  # the database was checked
    assert "/exercise name" in run.out  # and the commands listed
    assert "1 problem found" in run.out


def test_a_missing_token_is_reported_and_the_rest_still_checked(
        checked: dict[str, Checked]) -> None:
    run = checked["no token"]
    assert run.code == 1
    [problem] = run.problems()
    assert "DISCORD_TOKEN is not set" in problem
    assert "discord.com/developers/applications" in problem
    assert "the next start applies migration" in run.out and " 0003_reminders" in run.out
    assert "/reminder add" in run.out
    assert "1 problem found: fix it" in run.out


# --- in-process: the same code, quicker -------------------------------------------------------

@pytest.fixture
def check_run(tmp_path: Path) -> CheckRun:
    from bot import EXTENSIONS, StrideBot
    from ops import check

    def run(**env: str) -> tuple[int, str]:
        out = io.StringIO()
        code = check.run(StrideBot, EXTENSIONS, env=check_env(tmp_path, **env), out=out)
        return code, out.getvalue()

    return run


def test_a_current_database_is_checked_and_left_alone(tmp_path: Path,
                                                      check_run: CheckRun) -> None:
    current_db(tmp_path)
    before = files(tmp_path)
    code, out = check_run()
    assert code == 0, out
    assert f"stride.db: schema version {LATEST}, up to date; integrity ok" in out
    assert files(tmp_path) == before  # no byte changed, no -wal or -shm file left behind


def test_a_truncated_database_is_a_problem(tmp_path: Path, check_run: CheckRun) -> None:
    truncated_db(tmp_path)
    before = files(tmp_path)
    code, out = check_run()
    assert code == 1
    assert f"PROBLEM  {tmp_path / 'stride.db'} is not a usable SQLite database" in out
    assert files(tmp_path) == before


def test_every_bad_setting_is_reported_and_defaults_used_for_the_rest(
        check_run: CheckRun) -> None:
    code, out = check_run(LOG_LEVEL="LOUD", REMINDER_RATE="fast")
    assert code == 1
    assert "PROBLEM  LOG_LEVEL='LOUD' is not a log level" in out
    assert "PROBLEM  REMINDER_RATE='fast' must be a number" in out
    assert "checking the rest with the default for LOG_LEVEL, REMINDER_RATE" in out
    assert "/help" in out and "2 problems found" in out


def test_a_garbled_token_is_a_problem_and_never_printed(check_run: CheckRun) -> None:
    code, out = check_run(DISCORD_TOKEN="not-a-token-s3cr3t")
    assert code == 1
    assert "DISCORD_TOKEN does not look like a bot token" in out
    assert "s3cr3t" not in out


def test_a_running_bot_s_database_is_read_through_its_wal(tmp_path: Path,
                                                          check_run: CheckRun) -> None:
    """While the bot runs, recent commits are only in the -wal file: the check sees them."""
    db = db_at(tmp_path / "stride.db", version=1)
    bot = sqlite3.connect(db, isolation_level=None)
    try:
        bot.execute("PRAGMA wal_autocheckpoint = 0")  # like Stride: the WAL keeps new pages
        migrations.apply(bot)
        wal = Path(f"{db}-wal")
        assert wal.stat().st_size > 0
        main_before, wal_before = files(tmp_path)["stride.db"], wal.read_bytes()
        code, out = check_run()
        assert code == 0, out
        assert f"schema version {LATEST}, up to date; integrity ok" in out
        assert files(tmp_path)["stride.db"] == main_before and wal.read_bytes() == wal_before
    finally:
        bot.close()


def test_damage_found_by_integrity_check_is_listed_on_one_line(tmp_path: Path,
                                                                check_run: CheckRun) -> None:
    db = tmp_path / "stride.db"
    conn = sqlite3.connect(db)
    with conn:  # one transaction
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute("CREATE INDEX t_v ON t (v)")
        conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"value {i:06}",) for i in range(5000)])
    conn.close()
    data = bytearray(db.read_bytes())
    data[-4096 + 200:-4096 + 1200] = b"A" * 1000  # scribble over the cells of the last page
    db.write_bytes(bytes(data))
    code, out = check_run()
    assert code == 1
    problems = [line for line in out.splitlines() if "PROBLEM" in line]
    assert len(problems) == 1
    assert f"{db} is damaged (PRAGMA integrity_check: " in problems[0]
    assert "Stride must not run on it" in problems[0]


def catalog_report(settings: Settings) -> tuple[Report, str]:
    """What `bot.py check` says of the exercise data, and the report it keeps."""
    out = io.StringIO()
    report = Report(out)
    check_catalog(settings, report)
    return report, out.getvalue()


def test_the_club_file_is_checked_with_the_shipped_one(tmp_path: Path) -> None:
    shipped, club = tmp_path / "exercises.toml", tmp_path / "club-exercises.toml"
    shipped.write_text(_toml(small()), "utf-8")
    settings = Settings.from_env({"EXERCISES_PATH": str(shipped),
                                  "CLUB_EXERCISES_PATH": str(club)}, need_token=False)

    def checked() -> tuple[Report, str]:
        return catalog_report(settings)

    report, out = checked()
    assert report.problems == [] and f"no club file at {club}" in out
    club.write_text(_toml({"exercises": [CALF]}), "utf-8")
    report, out = checked()
    assert report.problems == []
    assert f"with the club's own {club} merged over it: 5 exercises, 2 routines" in out
    club.write_text(_toml({"exercises": [{**CALF, "equipment": "None"}]}), "utf-8")
    report, _ = checked()
    [problem] = report.problems
    assert problem.startswith(f"{club}: exercise #1 ('calf-raises'), field 'equipment': "
                              "'None' is not equipment")
    assert "set CLUB_EXERCISES_PATH to a good file" in problem


def test_figures_are_checked_and_the_ones_to_draw_named(tmp_path: Path) -> None:
    club = tmp_path / "club-exercises.toml"
    settings = Settings.from_env({"CLUB_EXERCISES_PATH": str(club),
                                  "DATABASE_PATH": str(tmp_path / "stride.db")},
                                 need_token=False)

    def checked() -> tuple[Report, str]:
        return catalog_report(settings)

    report, out = checked()
    assert report.problems == [] and "figures for 36 of 36 exercises" in out
    assert "to draw" not in out  # all shipped, drawn ahead
    figure = '[[figures]]\nexercise = "clams"\n[[figures.poses]]\n[[figures.poses]]\n'
    club.write_text(figure + "hip_abd_r = 30\n", "utf-8")
    report, out = checked()
    assert report.problems == []
    assert f"1 to draw at the next start, into {tmp_path / 'figure-cache'} (clams)" in out
    club.write_text(figure + "hip_abd_r = 80\n", "utf-8")
    report, _ = checked()
    [problem] = report.problems
    assert problem.startswith(f"{club}: figure #1 ('clams'), pose 2, field 'hip_abd_r': is 80")
    assert "docs/figures.md" in problem


# --- PostgreSQL (DATABASE_URL set): against a real server -------------------------------------

def _pg(url: str, *statements: str) -> None:
    """Run statements on `url` (as the test cluster's superuser)."""
    async def go() -> None:
        conn = await asyncpg.connect(url)
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()
    asyncio.run(go())


def _database_section(out: str) -> str:
    return out.split("\nDatabase\n", 1)[1].split("\n\n", 1)[0]


def test_postgresql_new_database_pending_migrations_named_not_applied(
        postgres_url: str, check_run: CheckRun) -> None:
    code, out = check_run(DATABASE_URL=postgres_url.replace("://stride@", "://stride:s3cr3t@"))
    assert code == 0, out
    section = _database_section(out)
    pending = ", ".join(m.name for m in migrations.available("postgresql"))
    assert re.search(r"ok       PostgreSQL \d+\.\d+ at postgresql://stride:\*\*\*@[^ ]+: "
                     "reachable", section), section
    assert f"schema version 0; the next start applies migrations {pending}" in section
    assert "writable: the primary server, and stride may write every table" in section
    allowed = asyncio.run(_connections(postgres_url))
    assert f"x 1 process, of {allowed} the server allows (max_connections)" in section
    assert "note     no automatic backups on PostgreSQL: back the database up with pg_dump" \
        in section
    assert "s3cr3t" not in out
    assert asyncio.run(_has_table(postgres_url, "stride_schema")) is False  # nothing written


async def _connections(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(
            "SELECT current_setting('max_connections')::int "
            "- current_setting('superuser_reserved_connections')::int"))
    finally:
        await conn.close()


async def _has_table(url: str, name: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT to_regclass($1)", name) is not None
    finally:
        await conn.close()


def test_postgresql_up_to_date_and_newer(postgres_url: str, check_run: CheckRun,
                                         tmp_path: Path) -> None:
    asyncio.run(prepare_postgres(postgres_url))
    code, out = check_run(DATABASE_URL=postgres_url, BACKUP_DIR=str(tmp_path / "backups"))
    assert code == 0, out
    section = _database_section(out)
    assert f"ok       schema version {LATEST_PG}, up to date" in section
    assert "BACKUP_DIR is set, but the daily automatic backup copies SQLite files only" \
        in section
    _pg(postgres_url, "UPDATE stride_schema SET version = 999")
    code, out = check_run(DATABASE_URL=postgres_url)
    assert code == 1
    assert (f"PROBLEM  the database is at schema version 999, newer than this Stride knows "
            f"({LATEST_PG}); upgrade Stride") in out


def test_postgresql_unreachable_and_missing_database(postgres_url: str,
                                                     check_run: CheckRun) -> None:
    code, out = check_run(DATABASE_URL="postgresql://stride:pw@127.0.0.1:1/stride")
    assert code == 1
    [problem] = [line for line in out.splitlines() if "PROBLEM" in line]
    assert "cannot connect to postgresql://stride:***@127.0.0.1:1/stride: " in problem
    assert "Is the PostgreSQL server running there?" in problem
    assert "/exercise name" in out  # the rest is still checked
    code, out = check_run(DATABASE_URL=postgres_url + "_missing")
    assert code == 1
    assert "does not exist. Create it, owned by Stride's user: sudo -u postgres createdb -O " \
           f"stride {postgres_url.rsplit('/', 1)[1]}_missing" in out


def test_postgresql_read_only_or_without_privileges(postgres_url: str,
                                                     check_run: CheckRun) -> None:
    asyncio.run(prepare_postgres(postgres_url))
    name = postgres_url.rsplit("/", 1)[1]
    role = f"visitor_{name}"
    _pg(postgres_url, f"CREATE ROLE {role} LOGIN")
    try:
        code, out = check_run(DATABASE_URL=postgres_url.replace("://stride@", f"://{role}@"))
        assert code == 1
        assert (f"PROBLEM  {role} may not write board_counts, checkins, club_days, "
                "dm_channels, guild_settings, highlights, members, reminder_firings, "
                "reminders, reminders_id_seq, "
                "run_dm_members, run_settings, runs, "
                f"stride_schema: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
                f"public TO {role};") in out
    finally:
        _pg(postgres_url, f"DROP ROLE {role}")
    _pg(postgres_url, f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    code, out = check_run(DATABASE_URL=postgres_url)
    assert code == 1
    assert ("PROBLEM  Stride cannot write there: default_transaction_read_only is on for this "
            "user or database.") in out


def test_postgresql_pool_larger_than_the_server_allows(postgres_url: str,
                                                        check_run: CheckRun) -> None:
    allowed = asyncio.run(_connections(postgres_url))
    code, out = check_run(DATABASE_URL=postgres_url, DATABASE_POOL_SIZE=str(allowed + 1))
    assert code == 1
    assert (f"PROBLEM  up to {allowed + 1} connections per process (DATABASE_POOL_SIZE) x 1 "
            f"process, of {allowed} the server allows (max_connections): lower "
            "DATABASE_POOL_SIZE") in out


def test_connection_errors_say_what_to_do() -> None:
    url = "postgresql://stride:s3cr3t@db.example/stride"
    wrong = connection_problem(asyncpg.InvalidPasswordError("password authentication failed"),
                               url)
    assert wrong.startswith("cannot connect to postgresql://stride:***@db.example/stride: "
                            "wrong password for stride.")
    assert "ALTER ROLE stride PASSWORD" in wrong and "s3cr3t" not in wrong
    assert "no answer within 10 s" in connection_problem(TimeoutError(), url)
    refused = asyncpg.InvalidAuthorizationSpecificationError('role "stride" does not exist')
    assert "createuser --pwprompt stride" in connection_problem(refused, url)
