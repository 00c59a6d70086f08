"""`python bot.py backup` (ops/backup.py) as a subprocess, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stride.backup_schedule import list_backups
from stride.config import ROOT
from tests.e2e.guards import db_rows
from tests.helpers import seed


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
