"""Logging (bot.setup_logging): with LOG_FILE, a rotating file instead of standard output, the
token never written. (The LOG_FILE setting itself: tests/stride/test_config.py.)"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

import bot
from stride.config import Settings

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
