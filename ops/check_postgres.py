"""The Database section of `bot.py check` when DATABASE_URL is set: reachable, at which schema
version (the pending migrations are named, not applied), writable, and what differs from
SQLite for the operator (connections, durability, backups). Writes nothing."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from stride.config import Settings
from stride.storage.migrations import available
from stride.storage.pg_inspection import Health, Unreachable, inspect
from stride.storage.postgres import redact

from .check import Report


async def check_postgres(settings: Settings, report: Report) -> None:
    assert settings.database_url is not None
    url = settings.database_url
    report.section("Database")
    try:
        health = await inspect(url)
    except Unreachable as exc:
        report.problem(f"{exc}.")
        return
    report.ok(f"PostgreSQL {health.server_version.split()[0]} at {redact(url)}: reachable")
    user = unquote(urlsplit(url).username or "") or "Stride's user"
    check_schema(health, user, report)
    check_writable(health, user, report)
    wanted = settings.database_pool_size * settings.processes
    line = (f"up to {settings.database_pool_size} connections per process (DATABASE_POOL_SIZE) "
            f"x {settings.processes} process{'es' if settings.processes > 1 else ''}, of "
            f"{health.max_connections} the server allows (max_connections)")
    if wanted > health.max_connections:
        report.problem(f"{line}: lower DATABASE_POOL_SIZE, or raise max_connections.")
    else:
        report.ok(line)
    report.ok(f"synchronous_commit = {health.synchronous_commit}" + (
        " (a crash of the server may take back the last commits; docs/postgresql.md)"
        if health.synchronous_commit in ("off", "local") else ""))
    report.note(("BACKUP_DIR is set, but the daily automatic backup copies SQLite files only"
                 if settings.backup_dir else "no automatic backups on PostgreSQL")
                + ": back the database up with pg_dump (`bot.py backup` prints the command).")


def check_schema(health: Health, user: str, report: Report) -> None:
    migrations = available("postgresql")
    latest = migrations[-1].version
    version = health.schema_version
    if version is None:
        return  # this user may not read it: said with the tables it may not use
    pending = [m.name for m in migrations if m.version > version]
    if version > latest:
        report.problem(f"the database is at schema version {version}, newer than "
                       f"this Stride knows ({latest}); upgrade Stride or restore a backup made "
                       "by this version.")
    elif pending:
        many = len(pending) > 1
        report.ok(f"schema version {version}; the next start applies "
                  f"migration{'s' if many else ''} {', '.join(pending)}")
        if not health.can_create:
            report.problem(f"{user} may not create tables here, which the migrations need: "
                           f"make it the database's owner (ALTER DATABASE ... OWNER TO {user}) "
                           f"or GRANT CREATE ON SCHEMA public TO {user}.")
    else:
        report.ok(f"schema version {version}, up to date")


def check_writable(health: Health, user: str, report: Report) -> None:
    if health.read_only:
        report.problem(f"Stride cannot write there: {health.read_only}.")
    elif health.not_writable:
        report.problem(f"{user} may not write {', '.join(health.not_writable)}: GRANT SELECT, "
                       f"INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {user}; "
                       f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {user}.")
    else:
        report.ok(f"writable: the primary server, and {user} may write every table")
