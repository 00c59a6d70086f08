"""`python bot.py backup` (ops/backup.py) as a subprocess, as an operator runs it."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from stride.backup_schedule import list_backups
from stride.config import ROOT
from tests.helpers import seed
from tests.postgres import PostgresServer, find_bindir


def db_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def run_backup(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python bot.py backup ...` as an operator runs it: no Discord token at all."""
    clean = {**os.environ, "DATABASE_PATH": str(tmp_path / "stride.db"), "DISCORD_TOKEN": "",
             "BACKUP_DIR": "", **env}  # set, even if empty: a developer's .env never wins
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "backup", *args], cwd=tmp_path, env=clean,
        capture_output=True, text=True, timeout=60,
    )


def test_backup_command(tmp_path: Path) -> None:
    seed(tmp_path / "stride.db", range(1, 26))
    done = run_backup(tmp_path, "saved.db")  # relative to where it is run
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "saved.db"
    assert f"Backup saved: {copy}" in done.stdout
    assert "25 check-ins, integrity check ok" in done.stdout
    assert db_rows(copy, "SELECT COUNT(*) FROM checkins") == [(25,)]
    assert db_rows(copy, "PRAGMA integrity_check") == [("ok",)]

    again = run_backup(tmp_path, "saved.db")
    assert again.returncode == 1
    assert "Backup failed:" in again.stderr and "--overwrite" in again.stderr
    assert "Traceback" not in again.stderr + again.stdout
    assert run_backup(tmp_path, "saved.db", "--overwrite").returncode == 0

    dated = run_backup(tmp_path, BACKUP_DIR=str(tmp_path / "auto"))  # no PATH: BACKUP_DIR
    assert dated.returncode == 0, dated.stderr
    (made,) = list_backups(tmp_path / "auto")
    assert f"Backup saved: {made.path}" in dated.stdout


def test_backup_command_without_a_database(tmp_path: Path) -> None:
    result = run_backup(tmp_path)
    assert result.returncode == 1
    assert f"there is no database at {tmp_path / 'stride.db'}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "stride.db").exists()
    assert list_backups(tmp_path / "backups") == []


def test_on_postgresql_backup_says_to_use_pg_dump(tmp_path: Path) -> None:
    """No connection is made: the command only says how, with the password hidden."""
    done = run_backup(tmp_path, DATABASE_URL="postgresql://stride:s3cr3t@db.example/stride")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Stride's database is PostgreSQL (postgresql://stride:***@db.example/stride)" \
        in done.stderr
    assert ('pg_dump --format=custom --file=stride-$(date +%Y%m%d-%H%M%S).dump '
            '"$DATABASE_URL"') in done.stderr
    assert "pg_restore --no-owner --single-transaction" in done.stderr
    assert "s3cr3t" not in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_pg_dump_and_pg_restore_commands_we_print_work(
        tmp_path: Path, postgres_server: PostgresServer, postgres_url: str) -> None:
    """The documented round trip: a migrated club dumped with the printed pg_dump command,
    restored with pg_restore into a new database, holds the same rows."""
    bindir = find_bindir()
    tools = [bindir / t if bindir else shutil.which(t) for t in ("pg_dump", "pg_restore")]
    if not all(t and Path(t).is_file() for t in tools):
        pytest.skip("pg_dump / pg_restore are not installed")
    seed(tmp_path / "stride.db", range(1, 51))
    migrated = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "migrate", "--to", postgres_url], cwd=tmp_path,
        env={**os.environ, "DATABASE_PATH": str(tmp_path / "stride.db"), "DISCORD_TOKEN": "",
             "DATABASE_URL": ""}, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    env = {**os.environ, "DATABASE_URL": postgres_url, "PATH": f"{bindir}:{os.environ['PATH']}"}
    dump = subprocess.run(
        'pg_dump --format=custom --file=stride-$(date +%Y%m%d-%H%M%S).dump "$DATABASE_URL"',
        shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert dump.returncode == 0, dump.stderr
    [made] = tmp_path.glob("stride-*.dump")
    restored = postgres_server.create_database_sync()
    try:
        done = subprocess.run(
            ["pg_restore", "--no-owner", "--single-transaction", f"--dbname={restored}",
             str(made)], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert asyncio.run(_counts(restored)) == asyncio.run(_counts(postgres_url)) == {
            "members": 50, "checkins": 50, "stride_schema": 1}
    finally:
        postgres_server.drop_database_sync(restored)


async def _counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}")
                for t in ("members", "checkins", "stride_schema")}
    finally:
        await conn.close()
