"""A throwaway PostgreSQL server for tests: one cluster per run, one database per test.

Stride's PostgreSQL backend is tested against the real server rather than a fake, because
what differs between backends (types, locking, transactions, SQL dialect) is exactly what a
fake would hide.  ``PostgresServer.start()`` either uses the server named by
``STRIDE_TEST_DATABASE_URL`` (its user must be allowed to CREATE DATABASE) or runs
``initdb`` + ``pg_ctl`` in a temporary folder with durability off (the data is thrown away),
listening on 127.0.0.1 and a free port only; that takes about a second.  Tests then take a
fresh database each (``create_database`` / ``drop_database``), which is much cheaper than a
cluster and keeps them independent.

When this machine has no server binaries, ``unavailable_reason()`` says why and how to get
them; the pytest fixtures (tests/postgres_fixtures.py) skip with that reason.  Nothing here
depends on pytest, so benchmarks and scripts can use it too::

    with PostgresServer.start() as server:
        url = server.create_database_sync()   # postgresql://stride@127.0.0.1:PORT/stride_test_...
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    import asyncpg

#: Directory holding ``initdb``, ``pg_ctl`` and ``postgres`` (overrides the search).
ENV_BIN = "STRIDE_TEST_PG_BIN"
#: A server to use instead of starting one (its user may CREATE DATABASE).
ENV_URL = "STRIDE_TEST_DATABASE_URL"
#: Where Debian and Ubuntu put each major version's server binaries.
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
#: The superuser of the throwaway cluster (``initdb -U``; trust authentication).
SUPERUSER = "stride"
NOT_INSTALLED = (
    "PostgreSQL is not installed: `apt-get install postgresql` "
    f"(or set {ENV_URL} to a server you own)"
)
# Durability off (the cluster dies with the run) and room for every test's pool.
SERVER_SETTINGS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB"
)
_T = TypeVar("_T")


class PostgresError(RuntimeError):
    """A server that should be usable is not (a failed start, a wrong setting)."""


def find_bindir() -> Path | None:
    """The folder of the server binaries: ``$STRIDE_TEST_PG_BIN``, ``pg_config --bindir``,
    the newest ``/usr/lib/postgresql/*/bin``, or the folder of ``initdb`` on PATH."""
    configured = os.environ.get(ENV_BIN)
    if configured:
        return Path(configured)
    # Debian's pg_config comes with libpq-dev too, so its answer may lack the server.
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out and (Path(out) / "initdb").is_file():
                return Path(out)
    debian = [Path(p) for p in glob.glob(DEBIAN_BIN_GLOB) if (Path(p) / "initdb").is_file()]
    if debian:
        return max(debian, key=lambda p: _version_key(p.parent.name))
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb is not None else None


def _version_key(name: str) -> tuple[int, ...]:
    """"15" < "16" < "9.6" would be wrong as strings: compare the numbers."""
    return tuple(int(n) for n in re.findall(r"\d+", name)) or (0,)


def unavailable_reason() -> str | None:
    """Why this run cannot have a PostgreSQL server (the tests' skip reason), or None."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        return "asyncpg is not installed: `pip install -r requirements.txt`"
    if os.environ.get(ENV_URL):
        return None
    if find_bindir() is None:
        return NOT_INSTALLED
    if os.geteuid() == 0 and (_postgres_user() is None or shutil.which("runuser") is None):
        return (
            "initdb refuses to run as root and there is no `postgres` user (or no runuser) "
            f"to run it as: `apt-get install postgresql`, or set {ENV_URL}"
        )
    return None


def _postgres_user() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


def _free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (retried if someone takes it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _database_of(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def _run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to the end on a private loop in a worker thread.

    Sync fixtures run between pytest-asyncio's loops (and maybe inside one): a thread of
    its own never touches, closes or blocks the caller's event loop.
    """
    result: list[_T] = []
    error: list[BaseException] = []

    def work() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=work, name="postgres-sync", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


class _Cluster:
    """``initdb`` + ``pg_ctl`` in a temporary folder; as ``postgres`` when we are root."""

    def __init__(self, bindir: Path, settings: str = SERVER_SETTINGS) -> None:
        if not (bindir / "initdb").is_file():
            raise PostgresError(f"no initdb in {bindir} (check {ENV_BIN})")
        self.bindir = bindir
        self.settings = settings
        self.base = Path(tempfile.mkdtemp(prefix="stride-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.port = 0
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            user = _postgres_user()
            if user is None:
                raise PostgresError("running as root and there is no `postgres` user")
            os.chown(self.base, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        # cwd: the postgres user may not be able to read ours.
        return subprocess.run(
            [*self.prefix, str(self.bindir / tool), *args],
            cwd=self.base, capture_output=True, text=True, timeout=120, check=False,
        )

    def start(self) -> None:
        # UTF8 with the C locale: the same on every machine whatever LANG says, Unicode
        # names stored as such, and lower() / ORDER BY byte-wise, as in SQLite.
        done = self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", SUPERUSER, "--no-sync",
            "--encoding=UTF8", "--locale=C",
        )
        if done.returncode != 0:
            raise PostgresError(f"initdb failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        for _attempt in range(5):
            self.port = _free_port()
            options = f"-p {self.port} -k {self.base} {self.settings}"
            done = self._run(
                "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log),
                "-o", options,
            )
            if done.returncode == 0:
                return
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            if "could not bind" not in log and "already in use" not in log:
                break
        raise PostgresError(
            f"pg_ctl start failed ({done.returncode}):\n{done.stdout}{done.stderr}\n{log}"
        )

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.base, ignore_errors=True)


class PostgresServer:
    """A PostgreSQL server the tests may create and drop databases on.

    ``url`` is its maintenance database (``postgresql://stride@127.0.0.1:PORT/postgres``
    for a cluster of our own); ``create_database`` returns the URL of a new empty one.
    """

    def __init__(self, url: str, *, cluster: _Cluster | None = None) -> None:
        self.url = url
        self.cluster = cluster
        #: Seconds ``initdb`` + ``pg_ctl start`` took (None: an external server).
        self.started_in: float | None = None
        self._names = itertools.count(1)
        self._created: set[str] = set()
        self._stopped = False
        atexit.register(self.stop)  # also when a run dies before its fixtures' teardown

    # -- lifecycle -------------------------------------------------------------------
    @classmethod
    def start(cls) -> PostgresServer:
        """The server of ``$STRIDE_TEST_DATABASE_URL`` if set, else a new local cluster."""
        url = os.environ.get(ENV_URL)
        return cls.external(url) if url else cls.local()

    @classmethod
    def local(cls, bindir: Path | None = None, *, settings: str = SERVER_SETTINGS
              ) -> PostgresServer:
        """``initdb`` and start a throwaway cluster (binaries: ``find_bindir()``), with the
        server options ``settings`` (``postgres`` command-line options; the default turns
        durability off; benchmarks pass their own)."""
        found = bindir or find_bindir()
        if found is None:
            raise PostgresError(NOT_INSTALLED)
        began = time.monotonic()
        cluster = _Cluster(found, settings)
        try:
            cluster.start()
        except BaseException:
            cluster.stop()
            raise
        server = cls(f"postgresql://{SUPERUSER}@127.0.0.1:{cluster.port}/postgres",
                     cluster=cluster)
        server.started_in = time.monotonic() - began
        return server

    @classmethod
    def external(cls, url: str) -> PostgresServer:
        """A server someone else runs; fails now, clearly, if it cannot be reached."""
        server = cls(url)
        try:
            _run_sync(server._check())
        except Exception as exc:
            server._stopped = True
            atexit.unregister(server.stop)
            raise PostgresError(f"{ENV_URL}: cannot use that server: {exc!r}") from None
        return server

    async def _check(self) -> None:
        conn = await self.connect()
        await conn.close()

    def stop(self) -> None:
        """Stop our cluster and delete its folder (an external server: drop what we made)."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        if self.cluster is not None:
            self.cluster.stop()  # -m immediate: nothing to save
        else:
            for name in sorted(self._created):
                with contextlib.suppress(Exception):
                    self.drop_database_sync(self.database_url(name))

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------------
    def database_url(self, name: str) -> str:
        """This server's URL with the database ``name`` (user, host, query kept)."""
        return urlsplit(self.url)._replace(path="/" + name).geturl()

    async def connect(self, url: str | None = None) -> asyncpg.Connection:
        """One asyncpg connection (to the maintenance database by default)."""
        import asyncpg

        return await asyncpg.connect(url or self.url, timeout=15)

    async def create_database(self, name: str | None = None) -> str:
        """CREATE DATABASE ``name`` (default: a new ``stride_test_<pid>_<n>``); its URL.

        The pid keeps names apart when several runs share an external server.
        """
        name = name or f"stride_test_{os.getpid()}_{next(self._names)}"
        conn = await self.connect()
        try:
            await conn.execute(f"CREATE DATABASE {_quote_ident(name)}")
        finally:
            await conn.close()
        self._created.add(name)
        return self.database_url(name)

    async def drop_database(self, url: str) -> None:
        """DROP the database of ``url``, ending its sessions first (a test's pool may be
        left open: DROP DATABASE refuses while anyone is connected)."""
        name = _database_of(url)
        if not name or name == _database_of(self.url):
            raise ValueError(f"refusing to drop the maintenance database {name!r}")
        conn = await self.connect()
        try:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            # FORCE (PostgreSQL 13+) also ends a session that reconnected meanwhile.
            force = " WITH (FORCE)" if conn.get_server_version() >= (13, 0) else ""
            await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)}{force}")
        finally:
            await conn.close()
        self._created.discard(name)

    def create_database_sync(self, name: str | None = None) -> str:
        """``create_database`` for synchronous code (fixtures), on a private loop."""
        return _run_sync(self.create_database(name))

    def drop_database_sync(self, url: str) -> None:
        """``drop_database`` for synchronous code (fixtures), on a private loop."""
        _run_sync(self.drop_database(url))
