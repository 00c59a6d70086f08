"""Fixtures for end-to-end tests against the Discord emulator (tests/emulator/).

Function scope (default)::

    async def test_x(emulator, world, start_bot):
        bot = await start_bot(emulator, "bot.py", {"SOME_SETTING": "1"})
        rec = await emulator.slash("ping", member=world.member)

``emulator`` is a started emulator holding the standard world; ``world`` is that world
(:class:`~tests.e2e.testworld.TestWorld`: guild, channels, role, admin, members).  Both
come from one ``emulator_world`` pair, so a test may ask for either or both.

Module scope (one emulator + bot per test module, much faster): use
``module_emulator`` / ``module_world`` / ``module_start_bot``.  pytest-asyncio runs every
async fixture and test in the event loop of its ``loop_scope``; the module emulator's
server lives in the *module* loop, so tests using it must run there too::

    @pytest.mark.asyncio(loop_scope="module")
    async def test_y(module_emulator, module_world): ...

(Mixing is fine within one file: tests without that mark get a fresh function loop
and must then use the function-scoped ``emulator``.)

Databases: every test that asks for ``database`` (function scope) or ``module_database``
(module scope; ``stride_module`` uses it) runs once per backend, ids ``[sqlite]`` and
``[postgresql]``: a fresh :class:`~tests.e2e.databases.TestDatabase` each time (PostgreSQL:
a new database on the run's server, dropped afterwards). ``@pytest.mark.sqlite_only``
keeps a test to SQLite: only for behaviour SQLite alone has (its file, its lock, its
backups), said in the test's docstring. The module-scoped emulator and bots follow the
backend too, so each backend's half of a module starts from a world of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
import pytest
import pytest_asyncio
import yarl

from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import BotProcess, launch_bot

from .databases import BACKENDS, TestDatabase
from .stride import Stride, eventually, start_stride
from .testworld import TestWorld, build_world

StartBot = Callable[..., Awaitable[BotProcess]]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One run per backend for each test with a database (SQLite only if so marked). Module
    scope: a module's tests on one backend share its module fixtures, then the other's."""
    if not {"database", "module_database"} & set(metafunc.fixturenames):
        return
    only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
    backends = ["sqlite"] if only_sqlite else list(BACKENDS)
    metafunc.parametrize("backend", backends, ids=backends, scope="module")


@pytest.fixture(scope="module")
def backend() -> str:
    """No backend: a test without a database (the parametrization above replaces this)."""
    return ""


def _databases(backend: str, folder: Path, request: pytest.FixtureRequest
               ) -> Iterator[TestDatabase]:
    if backend != "postgresql":
        yield TestDatabase("sqlite", folder / "stride.db")
        return
    server = request.getfixturevalue("postgres_server")  # skips when there is none
    url = server.create_database_sync()
    try:
        yield TestDatabase("postgresql", folder / "stride.db", url)
    finally:
        server.drop_database_sync(url)


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest
             ) -> Iterator[TestDatabase]:
    """A fresh database on this test's backend (the bot's files in tmp_path)."""
    yield from _databases(backend, tmp_path, request)


@pytest.fixture(scope="module")
def module_database(backend: str, tmp_path_factory: pytest.TempPathFactory,
                    request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    """``database`` for a whole module (and backend): pair it with ``module_start_bot``."""
    yield from _databases(backend, tmp_path_factory.mktemp("db"), request)


@contextlib.asynccontextmanager
async def _started_world() -> AsyncIterator[tuple[DiscordEmulator, TestWorld]]:
    emu = DiscordEmulator()
    world = build_world(emu)
    await emu.start()
    try:
        yield emu, world
    finally:
        await emu.stop()


@pytest_asyncio.fixture
async def emulator_world() -> AsyncIterator[tuple[DiscordEmulator, TestWorld]]:
    """A started emulator and the standard world in it (see ``testworld.build_world``)."""
    async with _started_world() as pair:
        yield pair


@pytest.fixture
def emulator(emulator_world: tuple[DiscordEmulator, TestWorld]) -> DiscordEmulator:
    """A started emulator with the standard world; actions default to alice in #general."""
    return emulator_world[0]


@pytest.fixture
def world(emulator_world: tuple[DiscordEmulator, TestWorld]) -> TestWorld:
    """The standard world in ``emulator``: ``world.guild`` "Test Running Club",
    ``.channel`` #general, ``.runs_channel`` #runs, ``.role`` Runners, ``.admin``
    (ADMINISTRATOR), ``.member`` alice and ``.member2`` bob (both Runners)."""
    return emulator_world[1]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_emulator_world(backend: str
                                ) -> AsyncIterator[tuple[DiscordEmulator, TestWorld]]:
    """Same as ``emulator_world`` but shared by a module (tests need loop_scope="module");
    one per backend (``backend``: only so it is not shared between them)."""
    del backend
    async with _started_world() as pair:
        yield pair


@pytest.fixture(scope="module")
def module_emulator(
    module_emulator_world: tuple[DiscordEmulator, TestWorld],
) -> DiscordEmulator:
    """Same as ``emulator`` but shared by a module (tests need loop_scope="module")."""
    return module_emulator_world[0]


@pytest.fixture(scope="module")
def module_world(module_emulator_world: tuple[DiscordEmulator, TestWorld]) -> TestWorld:
    """The standard world in ``module_emulator``."""
    return module_emulator_world[1]


def _starter(log_dir: Path, procs: list[BotProcess]) -> StartBot:
    numbers = itertools.count()  # taken before any await: bots started at once get their own

    async def start_bot(
        emu: DiscordEmulator,
        script: str | os.PathLike[str],
        env: dict[str, str] | None = None,
        args: Sequence[str] = (),
        *,
        clock_offset: float = 0.0,
        **kwargs: Any,
    ) -> BotProcess:
        log_path = log_dir / f"bot-{next(numbers)}-{Path(script).stem}.log"
        proc = await launch_bot(
            emu, script, env, args, log_path=log_path, clock_offset=clock_offset, **kwargs
        )
        procs.append(proc)
        return proc

    return start_bot


@pytest.fixture
def start_bot(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StartBot]:
    """``await start_bot(emu, script, env=None, args=(), *, clock_offset=0.0, wait=True)
    -> BotProcess``; killed at teardown, before the test's database is dropped."""
    for name in ("database", "postgres_url"):  # set up first, so torn down after the bots
        if name in request.fixturenames:
            request.getfixturevalue(name)
    procs: list[BotProcess] = []
    yield _starter(tmp_path, procs)
    for proc in procs:
        proc.stop_sync()


@pytest.fixture(scope="module")
def module_start_bot(tmp_path_factory: pytest.TempPathFactory, backend: str
                     ) -> Iterator[StartBot]:
    """Module-scoped ``start_bot`` (pair it with ``module_emulator``); its bots are stopped
    when the module, or its half on one backend, is done."""
    del backend
    procs: list[BotProcess] = []
    yield _starter(tmp_path_factory.mktemp("bots"), procs)
    for proc in procs:
        proc.stop_sync()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stride_module(
    module_emulator: DiscordEmulator, module_world: TestWorld, module_start_bot: StartBot,
    module_database: TestDatabase,
) -> AsyncIterator[Stride]:
    """The real bot (commands synced to the test server) for a whole test module, on each
    backend. At the end, nothing it sent broke Discord's limits or hit a route Discord does
    not have."""
    yield await start_stride(module_emulator, module_world, module_start_bot, module_database)
    assert module_emulator.limit_violations == []
    assert module_emulator.unhandled == []


@pytest_asyncio.fixture
async def stride(emulator: DiscordEmulator, world: TestWorld, start_bot: StartBot,
                 database: TestDatabase) -> AsyncIterator[Stride]:
    """The real bot (commands synced to the test server) for one test, on each backend. At
    the end, nothing it sent broke Discord's limits, hit a route Discord does not have, or
    earned a 429."""
    bot = await start_stride(emulator, world, start_bot, database)
    yield bot
    assert emulator.limit_violations == []
    assert emulator.unhandled == []
    assert emulator.rate_limited == []


@pytest_asyncio.fixture
async def dpy(emulator: DiscordEmulator, world: TestWorld, monkeypatch: pytest.MonkeyPatch
              ) -> AsyncIterator[discord.Client]:
    """A real ``discord.Client`` running in this loop against the emulator (default intents)."""
    monkeypatch.setattr(discord.http.Route, "BASE", emulator.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(emulator.gateway_url)
    )
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    runner = asyncio.ensure_future(client.start(emulator.token))
    guild_id = int(world.guild["id"])
    try:
        await eventually(lambda: runner.done() or client.get_guild(guild_id) is not None, 10)
        if runner.done():
            runner.result()  # surface the startup error
        yield client
    finally:
        await client.close()
        await asyncio.wait({runner}, timeout=5)
