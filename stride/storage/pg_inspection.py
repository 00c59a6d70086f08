"""Looking at a PostgreSQL database without changing it (`bot.py check`, `bot.py migrate`):
can Stride reach it, at which schema version, may it write there. A connection error becomes
one sentence that says what to do, since the driver's own wording rarely does."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import asyncpg  # type: ignore[import-untyped, unused-ignore]

from .postgres import redact, schema_version

CONNECT_TIMEOUT = 10.0  # seconds; a wrong host or a firewall otherwise hangs for minutes


class Unreachable(Exception):
    """Stride cannot connect to the database; the message says why and how to fix it."""


async def connect(url: str) -> asyncpg.Connection:
    """One connection, or Unreachable with a hint."""
    try:
        return await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise Unreachable(connection_problem(exc, url)) from exc


def connection_problem(exc: BaseException, url: str) -> str:
    """What went wrong connecting to `url`, and the likely fix."""
    parts = urlsplit(url)
    user = unquote(parts.username or "") or "the user"
    database = unquote(parts.path.lstrip("/")) or user
    where = f"cannot connect to {redact(url)}"
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return (f"{where}: wrong password for {user}. Fix the password in DATABASE_URL, or set "
                f"it on the server: sudo -u postgres psql -c \"ALTER ROLE {user} PASSWORD "
                "'...'\"")
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return (f"{where}: the database {database} does not exist. Create it, owned by "
                f"Stride's user: sudo -u postgres createdb -O {user} {database}")
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return (f"{where}: the server refused {user} ({exc}). Create the user "
                f"(sudo -u postgres createuser --pwprompt {user}) or allow it in pg_hba.conf")
    if isinstance(exc, socket.gaierror):
        return f"{where}: unknown host {parts.hostname!r}; check the host in DATABASE_URL"
    if isinstance(exc, TimeoutError):
        return (f"{where}: no answer within {CONNECT_TIMEOUT:g} s; check the host and port in "
                "DATABASE_URL, and that no firewall is in the way")
    if isinstance(exc, OSError):
        return (f"{where}: {exc.strerror or exc}. Is the PostgreSQL server running there? "
                "(systemctl status postgresql; pg_isready -h HOST -p PORT)")
    return f"{where}: {exc}"


@dataclass(frozen=True)
class Health:
    """What `bot.py check` reports about a reachable database."""

    server_version: str
    schema_version: int | None  # None: this user may not read it
    read_only: str | None  # why nothing can be written there, or None
    not_writable: tuple[str, ...]  # tables and sequences this user may not write
    can_create: bool  # may create tables in its schema (pending migrations need it)
    max_connections: int  # for Stride's pools: max_connections - superuser_reserved_connections
    synchronous_commit: str


async def inspect(url: str) -> Health:
    """Look at the database (read-only: nothing is written); raises Unreachable."""
    conn = await connect(url)
    try:
        async with conn.transaction(readonly=True):
            row = await conn.fetchrow(
                "SELECT current_setting('server_version') AS server, pg_is_in_recovery() AS "
                "standby, current_setting('default_transaction_read_only') = 'on' AS ro, "
                "has_schema_privilege(current_schema(), 'CREATE') AS can_create, "
                "current_setting('max_connections')::int "
                "- current_setting('superuser_reserved_connections')::int AS connections, "
                "current_setting('synchronous_commit') AS sync")
            denied = await conn.fetch(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
                "AND ((relkind IN ('r', 'p') AND NOT has_table_privilege(oid, "
                "'SELECT, INSERT, UPDATE, DELETE')) OR (relkind = 'S' AND NOT "
                "has_sequence_privilege(oid, 'USAGE'))) ORDER BY relname")
            try:
                async with conn.transaction():  # a savepoint: the error ends only this
                    version: int | None = await schema_version(conn)
            except asyncpg.InsufficientPrivilegeError:
                version = None  # reported with the tables it may not write
    finally:
        await conn.close()
    assert row is not None
    read_only = ("it is a standby (a read-only replica); point DATABASE_URL at the primary"
                 if row["standby"] else
                 "default_transaction_read_only is on for this user or database"
                 if row["ro"] else None)
    return Health(row["server"], version, read_only, tuple(r[0] for r in denied),
                  row["can_create"], row["connections"], row["sync"])
