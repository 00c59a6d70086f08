"""Numbered schema migrations: `migrations/<dialect>/NNNN_name.sql`, applied in order, each
atomically. SQLite and PostgreSQL have a folder each, with the same numbers and names: the
same schema in each database's own SQL.

On SQLite the schema version is `PRAGMA user_version`, so it travels with the database file;
PostgreSQL keeps it in a table (stride.storage.postgres).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class SchemaError(RuntimeError):
    """The database cannot be used with this version of Stride."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


DIALECTS = ("sqlite", "postgresql")


def available(dialect: str = "sqlite", folder: Path | None = None) -> list[Migration]:
    """All migrations shipped with Stride for `dialect`, by version; the numbers must run
    1, 2, 3, ..."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    root = folder or Path(str(resources.files(__package__) / "migrations" / dialect))
    found = []
    for path in sorted(root.iterdir()):
        match = _NAME.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), path.stem, path.read_text("utf-8")))
    for expected, migration in enumerate(found, 1):
        if migration.version != expected:
            raise SchemaError(f"migration {migration.name}: expected number {expected:04d}")
    return found


def refuse_newer(conn: sqlite3.Connection, migrations: list[Migration] | None = None) -> int:
    """The database's schema version; raises SchemaError if a newer Stride wrote it (checked
    before anything touches the file, so a refused database is left exactly as it was)."""
    migrations = available() if migrations is None else migrations
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    check_version(current, migrations)
    return current


def check_version(current: int, migrations: list[Migration]) -> None:
    """Raise SchemaError if `current` is newer than the latest of `migrations`."""
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise SchemaError(
            f"the database is at schema version {current}, newer than this Stride knows "
            f"({latest}); upgrade Stride or restore a backup made by this version"
        )


def apply(conn: sqlite3.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Bring the schema up to date on a connection in autocommit mode; return what was applied.

    Each migration and its version bump commit together or not at all. A database written by a
    newer Stride (higher version than any migration here) is refused, never altered.
    """
    migrations = available() if migrations is None else migrations
    current = refuse_newer(conn, migrations)
    done = []
    for migration in migrations:
        if migration.version <= current:
            continue
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{migration.sql}\n;PRAGMA user_version = {migration.version};"
                "\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise SchemaError(f"migration {migration.name} failed: {exc}") from exc
        done.append(migration.name)
    return done
