"""The throwaway PostgreSQL server the PostgreSQL tests stand on (tests/postgres.py).

If it quietly shared state between databases, or failed to drop one a test left connected
to, every PostgreSQL test above it would be suspect; these pin that down.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests import postgres
from tests.postgres import NOT_INSTALLED, PostgresServer, find_bindir, unavailable_reason

ROOT = Path(__file__).resolve().parent.parent


async def test_server_answers(postgres_server: PostgresServer) -> None:
    assert postgres_server.url.startswith("postgresql://")
    conn = await postgres_server.connect()
    try:
        assert await conn.fetchval("SELECT 1 + 1") == 2
        if postgres_server.cluster is not None:  # our own cluster: durability off
            assert await conn.fetchval("SHOW fsync") == "off"
            assert await conn.fetchval("SHOW listen_addresses") == "127.0.0.1"
            assert await conn.fetchval("SHOW server_encoding") == "UTF8"
    finally:
        await conn.close()


async def test_database_created_used_and_dropped(postgres_server: PostgresServer) -> None:
    url = await postgres_server.create_database()
    name = url.rsplit("/", 1)[1]
    assert name.startswith("stride_test_")
    conn = await asyncpg.connect(url)
    await conn.execute("CREATE TABLE runs (id serial PRIMARY KEY, who text NOT NULL)")
    await conn.execute("INSERT INTO runs (who) VALUES ($1), ($2)", "alice", "zoë")
    assert [r["who"] for r in await conn.fetch("SELECT who FROM runs ORDER BY id")] == [
        "alice", "zoë"
    ]
    # Left open on purpose: a test's pool may be, and the drop must still succeed.
    await postgres_server.drop_database(url)
    assert conn.is_closed() or not await _alive(conn)
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        await asyncpg.connect(url)
    await postgres_server.drop_database(url)  # already gone: fine


async def _alive(conn: asyncpg.Connection) -> bool:
    try:
        await conn.fetchval("SELECT 1")
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        return False
    return True


async def test_two_databases_are_independent(postgres_server: PostgresServer) -> None:
    first, second = await postgres_server.create_database(), await postgres_server.create_database()
    assert first != second
    try:
        a, b = await asyncpg.connect(first), await asyncpg.connect(second)
        try:
            await a.execute("CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
            await b.execute("CREATE TABLE t (x int); INSERT INTO t VALUES (2), (3)")
            assert await a.fetchval("SELECT sum(x) FROM t") == 1
            assert await b.fetchval("SELECT sum(x) FROM t") == 5
            await a.execute("CREATE TABLE only_here (y int)")
            assert await b.fetchval("SELECT to_regclass('only_here')") is None
        finally:
            await a.close()
            await b.close()
    finally:
        await postgres_server.drop_database(first)
        await postgres_server.drop_database(second)


def test_postgres_url_fixture_is_fresh(postgres_url: str) -> None:
    async def tables() -> int:
        conn = await asyncpg.connect(postgres_url)
        try:
            return int(await conn.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ))
        finally:
            await conn.close()

    assert postgres._run_sync(tables()) == 0


async def test_named_database_and_maintenance_db_protected(
    postgres_server: PostgresServer,
) -> None:
    url = await postgres_server.create_database("stride_named_db")
    assert url.endswith("/stride_named_db")
    await postgres_server.drop_database(url)
    with pytest.raises(ValueError):
        await postgres_server.drop_database(postgres_server.url)


def test_external_server_drops_what_it_created(postgres_server: PostgresServer) -> None:
    """``STRIDE_TEST_DATABASE_URL`` mode: a server we do not own is left as we found it."""
    external = PostgresServer.external(postgres_server.url)
    url = external.create_database_sync()
    external.stop()

    async def exists() -> bool:
        conn = await postgres_server.connect()
        try:
            name = url.rsplit("/", 1)[1]
            return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
        finally:
            await conn.close()

    assert postgres._run_sync(exists()) is False


def test_external_server_unreachable_fails_clearly() -> None:
    with pytest.raises(postgres.PostgresError, match="STRIDE_TEST_DATABASE_URL"):
        PostgresServer.external("postgresql://nobody@127.0.0.1:1/postgres")


def test_binaries_found_in_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STRIDE_TEST_PG_BIN", str(tmp_path))
    assert find_bindir() == tmp_path
    monkeypatch.delenv("STRIDE_TEST_PG_BIN")
    monkeypatch.delenv("STRIDE_TEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_config, no initdb
    for version in ("9.6", "15", "16"):
        (tmp_path / "lib" / version / "bin").mkdir(parents=True)
        (tmp_path / "lib" / version / "bin" / "initdb").touch()
    monkeypatch.setattr(postgres, "DEBIAN_BIN_GLOB", str(tmp_path / "lib" / "*" / "bin"))
    assert find_bindir() == tmp_path / "lib" / "16" / "bin"
    monkeypatch.setattr(postgres, "DEBIAN_BIN_GLOB", str(tmp_path / "nowhere" / "*"))
    assert find_bindir() is None
    assert unavailable_reason() == NOT_INSTALLED
    monkeypatch.setenv("STRIDE_TEST_DATABASE_URL", "postgresql://someone@db.example/x")
    assert unavailable_reason() is None


def test_missing_server_skips_and_says_how_to_run(tmp_path: Path) -> None:
    """Without PostgreSQL the tests skip and the run ends with one line saying so."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_needs_pg.py").write_text(
        "from tests import postgres\n"
        "postgres.find_bindir = lambda: None  # a machine without PostgreSQL\n"
        "def test_a(postgres_server): pass\n"
        "def test_b(postgres_url): pass\n"
        "def test_c(): pass\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIDE_TEST_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.postgres_fixtures", "-rs",
         "-p", "no:cacheprovider", "test_needs_pg.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 2 skipped" in done.stdout
    assert (
        f"The PostgreSQL half of the suite was skipped (2 tests): {NOT_INSTALLED}"
        in done.stdout
    )
