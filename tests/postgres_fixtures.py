"""pytest plugin for the PostgreSQL half of the suite: fixtures and a skip summary.

Registered for the whole suite by ``pytest_plugins = ["tests.postgres_fixtures"]`` in
tests/conftest.py (or ``-p tests.postgres_fixtures`` on the command line).

* ``postgres_server`` (session): a :class:`~tests.postgres.PostgresServer`, started the
  first time a test asks for it, so runs that need no PostgreSQL start none; skips with
  the reason (how to install it) when this machine has no server.
* ``postgres_url`` (function): a fresh empty database on it, dropped after the test.

Both are synchronous, so they suit tests in any pytest-asyncio loop scope.  At the end of
a run in which PostgreSQL tests were skipped for want of a server, one line says how many
and how to run them: a skipped half of the suite should not pass unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .postgres import PostgresServer, unavailable_reason

# Reasons this plugin skipped with, and how many tests each one skipped.
_reasons: set[str] = set()
_skipped: dict[str, int] = {}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The run's PostgreSQL server (``$STRIDE_TEST_DATABASE_URL`` or a throwaway cluster)."""
    why = unavailable_reason()
    if why is not None:
        _reasons.add(why)
        pytest.skip(why)
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a new empty database of its own for this test (dropped afterwards, even if
    the test left connections open)."""
    url = postgres_server.create_database_sync()
    yield url
    postgres_server.drop_database_sync(url)


def pytest_sessionstart(session: pytest.Session) -> None:
    _skipped.clear()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the tests our fixture skipped (pytest re-raises the session fixture's skip
    in every test that asks for it)."""
    if not (report.skipped and _reasons and isinstance(report.longrepr, tuple)):
        return
    message = str(report.longrepr[2]).removeprefix("Skipped: ")
    if message in _reasons:
        _skipped[message] = _skipped.get(message, 0) + 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for why, count in _skipped.items():
        tests = "test" if count == 1 else "tests"
        terminalreporter.write_line(
            f"The PostgreSQL half of the suite was skipped ({count} {tests}): {why}",
            yellow=True, bold=True,
        )
