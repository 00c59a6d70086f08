"""Fixtures for end-to-end tests against the Discord emulator.

Function scope (default)::

    async def test_x(emulator, start_bot):
        bot = await start_bot(emulator, "bot.py", {"SOME_SETTING": "1"})
        rec = await emulator.slash("ping")

Module scope (one emulator + bot per test module, much faster): use
``module_emulator`` / ``module_start_bot``.  pytest-asyncio runs every async
fixture and test in the event loop of its ``loop_scope``; the module emulator's
server lives in the *module* loop, so tests using it must run there too::

    @pytest.mark.asyncio(loop_scope="module")
    async def test_y(module_emulator): ...

(Mixing is fine within one file: tests without that mark get a fresh function loop
and must then use the function-scoped ``emulator``.)
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from .emulator import DiscordEmulator
from .harness import BotProcess, launch_bot, populate
from .stride import Stride, start_stride

StartBot = Callable[..., Awaitable[BotProcess]]


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    """A started emulator with the standard world (see ``harness.populate``).

    ``emulator.guild`` "Test Running Club", ``.channel`` #general, ``.runs_channel``
    #runs, ``.admin`` (ADMINISTRATOR), ``.member`` and ``.member2`` (role Runners).
    """
    emu = DiscordEmulator()
    populate(emu)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_emulator() -> AsyncIterator[DiscordEmulator]:
    """Same as ``emulator`` but shared by a module (tests need loop_scope="module")."""
    emu = DiscordEmulator()
    populate(emu)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


def _starter(log_dir: Path, procs: list[BotProcess]) -> StartBot:
    async def start_bot(
        emu: DiscordEmulator,
        script: str | os.PathLike[str],
        env: dict[str, str] | None = None,
        args: Sequence[str] = (),
        *,
        clock_offset: float = 0.0,
        **kwargs: Any,
    ) -> BotProcess:
        log_path = log_dir / f"bot-{len(procs)}-{Path(script).stem}.log"
        proc = await launch_bot(
            emu, script, env, args, log_path=log_path, clock_offset=clock_offset, **kwargs
        )
        procs.append(proc)
        return proc

    return start_bot


@pytest.fixture
def start_bot(tmp_path: Path) -> Iterator[StartBot]:
    """``await start_bot(emu, script, env=None, args=(), *, clock_offset=0.0, wait=True)
    -> BotProcess``; killed at teardown."""
    procs: list[BotProcess] = []
    yield _starter(tmp_path, procs)
    for proc in procs:
        proc.stop_sync()


@pytest.fixture(scope="module")
def module_start_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartBot]:
    """Module-scoped ``start_bot`` (pair it with ``module_emulator``)."""
    procs: list[BotProcess] = []
    yield _starter(tmp_path_factory.mktemp("bots"), procs)
    for proc in procs:
        proc.stop_sync()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stride_module(
    module_emulator: DiscordEmulator, module_start_bot: StartBot,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stride]:
    """The real bot (commands synced to the test server) for a whole test module. At the end,
    nothing it sent broke Discord's limits or hit a route Discord does not have."""
    db = tmp_path_factory.mktemp("db") / "stride.db"
    yield await start_stride(module_emulator, module_start_bot, db)
    assert module_emulator.limit_violations == []
    assert module_emulator.unhandled == []
