"""Start-up errors, exactly as a newcomer meets them: `python bot.py` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "EXERCISES_PATH")}
    clean.update(DATABASE_PATH=str(tmp_path / "stride.db"), **env)
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py")], cwd=tmp_path, env=clean,
        capture_output=True, text=True, timeout=60,
    )


def test_missing_token_explains_where_to_get_one(tmp_path: Path) -> None:
    # An empty variable wins over a developer's own .env (python-dotenv never overrides).
    result = run_bot(tmp_path, DISCORD_TOKEN="")
    assert result.returncode == 2
    assert "DISCORD_TOKEN is not set" in result.stderr
    assert "discord.com/developers/applications" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_broken_data_file_names_file_entry_and_field(tmp_path: Path) -> None:
    broken = tmp_path / "exercises.toml"
    text = (ROOT / "data" / "exercises.toml").read_text("utf-8")
    broken.write_text(text.replace('category = "strength"', 'category = "cardio"', 1), "utf-8")
    result = run_bot(tmp_path, DISCORD_TOKEN="x.y.z", EXERCISES_PATH=str(broken))
    assert result.returncode == 2
    assert "exercises.toml" in result.stderr
    assert "field 'category': unknown category" in result.stderr
    assert "('squats')" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "x.y.z" not in result.stderr + result.stdout


def test_a_broken_figure_in_the_club_file_stops_the_start_and_is_named(tmp_path: Path) -> None:
    club = tmp_path / "club-exercises.toml"
    club.write_text(
        '[[figures]]\nexercise = "clams"\n[[figures.poses]]\n[[figures.poses]]\n'
        'hip_abd_r = 120\n', "utf-8")
    result = run_bot(tmp_path, DISCORD_TOKEN="x.y.z", CLUB_EXERCISES_PATH=str(club))
    assert result.returncode == 2
    assert "the exercise data file has a problem" in result.stderr
    assert ("club-exercises.toml: figure #1 ('clams'), pose 2, field 'hip_abd_r': is 120; "
            "must be from -30 to 75") in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
