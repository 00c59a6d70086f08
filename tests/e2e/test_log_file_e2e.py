"""LOG_FILE through the real bot: a DEBUG run logs to the file only, without the token."""

from __future__ import annotations

from pathlib import Path

from tests.emulator.emulator import DiscordEmulator

from .conftest import StartBot
from .databases import TestDatabase
from .stride import BOT, bot_env


async def test_the_bot_logs_to_log_file_and_never_the_token(
        emulator: DiscordEmulator, start_bot: StartBot, database: TestDatabase,
        tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "stride.log"  # the folder is created at start
    env = {**bot_env(database), "LOG_LEVEL": "DEBUG", "LOG_FILE": str(log_file)}
    proc = await start_bot(emulator, BOT, env)
    assert await proc.stop() == 0
    text = log_file.read_text("utf-8")
    backend = "sqlite" if database.url is None else "postgres"
    assert f"stride.storage.{backend}: Database " in text  # Stride's own lines
    assert "has connected to Gateway" in text and " DEBUG " in text  # and discord.py's
    for secret in [emulator.token, *emulator.token.split(".")]:
        assert secret not in text
    assert proc.output().strip() == ""  # nothing went to standard output or error
