"""LOG_FILE: logs to a rotating file instead of standard output, the token never written."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

import bot
from stride.config import ROOT, ConfigError, Settings

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.s3cr3tP4rtOfTheT0ken"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root, discord_log = logging.getLogger(), logging.getLogger("discord")
    saved = root.handlers[:], root.level, discord_log.level
    yield
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers[:], level, discord_level = saved
    root.setLevel(level)
    discord_log.setLevel(discord_level)


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


def test_logs_go_to_the_rotating_file_with_the_token_redacted(
        tmp_path: Path, restore_logging: None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "logs" / "stride.log"
    settings = Settings.from_env({"DISCORD_TOKEN": TOKEN, "LOG_FILE": str(path)})
    bot.setup_logging(settings)
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, RotatingFileHandler)
    assert (handler.maxBytes, handler.backupCount) == (5 * 1024 * 1024, 5)
    assert isinstance(handler.formatter, bot.RedactingFormatter)
    log = logging.getLogger("stride.test")
    log.info("login with %s", TOKEN)
    try:
        raise RuntimeError(f"refused {TOKEN}")
    except RuntimeError:
        log.exception("failed")
    text = path.read_text("utf-8")
    assert "login with [token]" in text and "RuntimeError: refused [token]" in text
    assert "s3cr3t" not in text
    assert capsys.readouterr().out == ""  # nothing on standard output
    # Rotation: small files for the test; the old ones are kept, the oldest dropped.
    monkeypatch.setattr(handler, "maxBytes", 300)
    for i in range(40):
        log.info("line %d of the test with %s", i, TOKEN)
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["stride.log", *(f"stride.log.{n}" for n in range(1, 6))]
    for p in path.parent.iterdir():
        assert "s3cr3t" not in p.read_text("utf-8")
