"""Starting the real Stride bot against the emulator, and small helpers for its answers."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import REPO_ROOT, BotProcess
from tests.emulator.records import InteractionRecord

from .databases import TestDatabase
from .testworld import TestWorld

BOT = REPO_ROOT / "bot.py"
JSON = dict[str, Any]


@dataclass
class Stride:
    """A running Stride bot, its emulator, the test world in it and its database."""

    emu: DiscordEmulator
    world: TestWorld
    proc: BotProcess
    db: TestDatabase
    start_bot: Any
    extra_env: dict[str, str] = dataclasses.field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**bot_env(self.db), **self.extra_env}

    async def restart(self) -> None:
        """Stop the bot (SIGTERM) and start a fresh process on the same database."""
        await self.proc.stop()
        self.proc = await self.start_bot(self.emu, BOT, self.env())

    async def run(self, name: str, options: dict[str, Any] | None = None, *,
                  member: JSON | None = None, **kw: Any) -> InteractionRecord:
        """Run a slash command as `member` (default: alice) and wait for the answer."""
        rec = await self.emu.slash(name, options, member=member or self.world.member,
                                   guild=kw.pop("guild", self.world.guild),
                                   channel=kw.pop("channel", self.world.channel), **kw)
        await rec.wait_response()
        return rec

    async def click(self, message: JSON, custom_id: str, *, member: JSON | None = None
                    ) -> InteractionRecord:
        rec = await self.emu.click(message, custom_id, member=member or self.world.member,
                                   guild=self.world.guild, channel=self.world.channel)
        await rec.wait_response()
        return rec


def bot_env(db: TestDatabase | Path) -> dict[str, str]:
    """The tests' settings for a bot on `db` (a bare Path: that SQLite file). Empty values win
    over a developer's own .env (python-dotenv never overrides)."""
    if isinstance(db, Path):
        db = TestDatabase("sqlite", db)
    return {**db.env(), "LOG_LEVEL": "INFO", "EXERCISES_PATH": "", "LOG_FILE": "",
            "BACKUP_DIR": "", "DATABASE_SYNC": "", "SHARD_COUNT": "", "FIGURES_PATH": ""}


async def start_stride(emu: DiscordEmulator, world: TestWorld, start_bot: Any,
                       db: TestDatabase, env: dict[str, str] | None = None) -> Stride:
    """Register the commands in the test server (`bot.py sync --guild`), then run the bot
    (with `env` over the tests' settings)."""
    stride = Stride(emu, world, None, db, start_bot, dict(env or {}))  # type: ignore[arg-type]
    sync = await start_bot(
        emu, BOT, stride.env(), args=["sync", "--guild", str(world.guild["id"])], wait=False
    )
    code = await sync.wait_exit(60)
    assert code == 0, sync.output()
    stride.proc = await start_bot(emu, BOT, stride.env())
    return stride


def embed_of(message_or_rec: Any) -> JSON:
    """The first embed of a message, an interaction record's message or callback data."""
    if isinstance(message_or_rec, InteractionRecord):
        message = message_or_rec.message or (message_or_rec.response or {}).get("data") or {}
    else:
        message = message_or_rec
    embeds = message.get("embeds") or []
    assert embeds, f"no embed in {message}"
    return embeds[0]


def buttons(message: JSON) -> list[JSON]:
    return [c for row in message.get("components") or [] for c in row.get("components", [])]


def button(message: JSON, label: str) -> JSON:
    found = [b for b in buttons(message) if b.get("label") == label]
    assert found, f"no button {label!r} in {[b.get('label') for b in buttons(message)]}"
    return found[0]


def field(embed: JSON, name: str) -> str:
    for f in embed.get("fields", []):
        if f["name"] == name:
            return f["value"]
    raise AssertionError(f"no field {name!r} in {[f['name'] for f in embed.get('fields', [])]}")


def text_of(embed: JSON) -> str:
    parts = [embed.get("title", ""), embed.get("description", "")]
    parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
    parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(parts)


async def eventually(check: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Wait until `check()` is true (polling every 20 ms); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what or check}")
        await asyncio.sleep(0.02)
