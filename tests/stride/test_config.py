"""Settings from the environment (stride/config.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stride.config import DEFAULT_DATABASE, ROOT, ConfigError, Settings


def test_defaults() -> None:
    s = Settings.from_env({"DISCORD_TOKEN": "abc"})
    assert s.database_path == DEFAULT_DATABASE
    assert s.log_level == "INFO"
    assert s.dev_guild_id is None


def test_token_is_required_and_the_message_says_where_to_get_one() -> None:
    with pytest.raises(ConfigError, match=r"discord\.com/developers/applications"):
        Settings.from_env({})
    assert Settings.from_env({}, need_token=False).token == ""


def test_token_is_not_in_repr() -> None:
    assert "sekrit" not in repr(Settings.from_env({"DISCORD_TOKEN": "sekrit"}))


def test_relative_paths_are_taken_from_the_project_folder() -> None:
    s = Settings.from_env({"DISCORD_TOKEN": "t", "DATABASE_PATH": "data/other.db"})
    assert s.database_path == ROOT / "data" / "other.db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD' is not a log level"),
        ({"DEV_GUILD_ID": "my server"}, "DEV_GUILD_ID='my server' is not a server id"),
    ],
)
def test_bad_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"DISCORD_TOKEN": "t", **env})


# --- LOG_FILE ------------------------------------------------------------------------------

def test_log_file_is_optional_and_relative_paths_are_from_the_project() -> None:
    assert Settings.from_env({}, need_token=False).log_file is None
    assert Settings.from_env({"LOG_FILE": " "}, need_token=False).log_file is None
    s = Settings.from_env({"LOG_FILE": "logs/stride.log"}, need_token=False)
    assert s.log_file == ROOT / "logs" / "stride.log"


def test_log_file_may_name_folders_still_to_be_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "stride.log"
    assert Settings.from_env({"LOG_FILE": str(path)}, need_token=False).log_file == path
    assert not (tmp_path / "a").exists()  # created at start, not while reading settings


def test_log_file_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"LOG_FILE=.* is a folder; name a file in it"):
        Settings.from_env({"LOG_FILE": str(tmp_path)}, need_token=False)


def test_log_file_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("x")
    with pytest.raises(ConfigError, match=r"is a file, not a folder"):
        Settings.from_env({"LOG_FILE": str(tmp_path / "notes" / "stride.log")},
                          need_token=False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_log_file_in_a_folder_stride_cannot_write_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(ConfigError, match=r"cannot write to"):
            Settings.from_env({"LOG_FILE": str(locked / "stride.log")}, need_token=False)
    finally:
        locked.chmod(0o700)


# --- BACKUP_DIR, BACKUP_KEEP ---------------------------------------------------------------

def test_backup_settings(tmp_path: Path) -> None:
    base = {"DISCORD_TOKEN": "t"}
    default = Settings.from_env(base)
    assert (default.backup_dir, default.backup_keep) == (None, 7)
    s = Settings.from_env({**base, "BACKUP_DIR": " backups ", "BACKUP_KEEP": "14"})
    assert (s.backup_dir, s.backup_keep) == (ROOT / "backups", 14)
    assert Settings.from_env({**base, "BACKUP_DIR": str(tmp_path)}).backup_dir == tmp_path
    afile = tmp_path / "f.txt"
    afile.write_text("x")
    with pytest.raises(ConfigError, match=r"BACKUP_DIR='.*f\.txt' is a file, not a folder"):
        Settings.from_env({**base, "BACKUP_DIR": str(afile)})
    for bad in ("0", "-1", "seven", "1001"):
        with pytest.raises(ConfigError, match=f"BACKUP_KEEP='{bad}' must be a number from 1"):
            Settings.from_env({**base, "BACKUP_KEEP": bad})


def test_the_figures_file_and_the_cache_beside_the_database(tmp_path: Path) -> None:
    default = Settings.from_env({}, need_token=False)
    assert default.figures_path == ROOT / "data" / "figures.toml"
    assert default.figure_cache == ROOT / "data" / "figure-cache"
    moved = Settings.from_env({"FIGURES_PATH": str(tmp_path / "f.toml"),
                               "DATABASE_PATH": str(tmp_path / "db" / "s.db")}, need_token=False)
    assert moved.figures_path == tmp_path / "f.toml"
    assert moved.figure_cache == tmp_path / "db" / "figure-cache"
    assert "data/figure-cache/" in (ROOT / ".gitignore").read_text("utf-8").splitlines()
