"""What `bot.py migrate` copies: the tables found in the SQLite file (parents before the
tables whose foreign keys point at them), matched column by column with the PostgreSQL
schema, and how each value becomes the PostgreSQL type (SQLite stores days and times as
text). A table or column on one side only stops the migration before anything is copied."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import asyncpg  # type: ignore[import-untyped, unused-ignore]

Row = tuple[Any, ...]
Convert = Callable[[Any], Any]


class MigrationError(Exception):
    """The migration failed and was rolled back: the target keeps no row. Says why."""


class MigrationRefused(MigrationError):
    """The migration did not start (nothing was changed); the message says what to do."""


@dataclass(frozen=True)
class SourceTable:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key (all columns for a table without one)
    parents: frozenset[str]  # tables its foreign keys reference
    rows: int

    @property
    def select(self) -> str:
        """Every row, in primary-key order (SQLite compares text byte by byte)."""
        return (f"SELECT {_names(self.columns)} FROM {_ident(self.name)} "
                f"ORDER BY {_names(self.key)}")


@dataclass(frozen=True)
class Plan:
    table: SourceTable
    converters: tuple[Convert | None, ...]  # per column; None: the value as SQLite has it
    select: str  # the copy read back in the same order as SourceTable.select
    sequences: dict[str, str]  # column -> the sequence behind its identity / serial
    has_triggers: bool  # user triggers, turned off while the copy goes in

    def convert(self, rows: list[Row]) -> list[Row]:
        """SQLite's rows as PostgreSQL takes them (as they are, when the types agree)."""
        if not any(self.converters):
            return rows
        return [self._convert(row) for row in rows]

    def _convert(self, row: Row) -> Row:
        try:
            return tuple(v if f is None or v is None else f(v)
                         for f, v in zip(self.converters, row, strict=True))
        except (ValueError, TypeError) as exc:
            raise MigrationError(f"{self.table.name}: cannot convert row {row!r}: {exc}") from exc


def source_tables(conn: sqlite3.Connection) -> list[SourceTable]:
    """Every table of the SQLite database (SQLite's own excepted), parents first."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\' ORDER BY rowid")]
    found = {}
    for name in names:
        info = conn.execute(f"PRAGMA table_info({_ident(name)})").fetchall()
        columns = tuple(r[1] for r in info)
        key = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        parents = frozenset(r[2] for r in conn.execute(
            f"PRAGMA foreign_key_list({_ident(name)})") if r[2] != name)
        rows = conn.execute(f"SELECT COUNT(*) FROM {_ident(name)}").fetchone()[0]
        found[name] = SourceTable(name, columns, key or columns, parents, rows)
    ordered: list[SourceTable] = []
    while found:  # in the order they were created, each after the tables it references
        ready = next((t for t in found.values() if not t.parents & found.keys()), None)
        if ready is None:
            raise MigrationError(f"the foreign keys of {', '.join(found)} form a cycle")
        ordered.append(found.pop(ready.name))
    return ordered


async def plan_table(conn: asyncpg.Connection, table: SourceTable) -> Plan:
    """Match `table` with its PostgreSQL counterpart; MigrationError on any mismatch."""
    columns = {r["name"]: r for r in await conn.fetch(_COLUMNS, _ident(table.name))}
    if not columns:
        raise MigrationError(f"the SQLite table {table.name} has no counterpart in PostgreSQL: "
                             "it is not one of Stride's (added by hand?); migrate cannot copy it")
    only_here = [c for c in table.columns if c not in columns]
    only_there = [c for c in columns if c not in table.columns]
    if only_here or only_there:
        raise MigrationError(f"{table.name}: the columns differ (only in SQLite: "
                             f"{', '.join(only_here) or 'none'}; only in PostgreSQL: "
                             f"{', '.join(only_there) or 'none'})")
    converters = tuple(_converter(table.name, c, columns[c]["type"]) for c in table.columns)
    order = ", ".join(_ident(c) + (' COLLATE "C"' if columns[c]["needs_c"] else "")
                      for c in table.key)
    triggers = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) "
        "AND NOT tgisinternal)", _ident(table.name))
    return Plan(
        table, converters,
        f"SELECT {_names(table.columns)} FROM {_ident(table.name)} ORDER BY {order}",
        {c: r["sequence"] for c, r in columns.items() if r["sequence"]}, bool(triggers),
    )


# Each column's base type, its sequence, and whether ORDER BY needs COLLATE "C" to sort text
# byte by byte as SQLite does (not when the column's collation already is C).
_COLUMNS = """
SELECT a.attname AS name,
       COALESCE(NULLIF(t.typbasetype, 0)::regtype::text, CASE WHEN t.typtype = 'e'
                THEN 'text' ELSE t.typname::text END) AS type,
       pg_get_serial_sequence($1, a.attname) AS sequence,
       a.attcollation <> 0 AND NOT COALESCE(co.collname IN ('C', 'POSIX') OR (
           co.collname = 'default' AND d.datcollate IN ('C', 'POSIX')
           AND COALESCE(to_jsonb(d) ->> 'datlocprovider', 'c') <> 'i'), false) AS needs_c
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
JOIN pg_database d ON d.datname = current_database()
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attgenerated = ''
ORDER BY a.attnum
"""


def _timestamp(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _naive(value: str) -> datetime:
    return _timestamp(value).astimezone(UTC).replace(tzinfo=None)


def _bool(value: int) -> bool:
    if value not in (0, 1):
        raise ValueError(f"{value!r} is not 0 or 1")
    return bool(value)


_CONVERTERS: dict[str, Convert | None] = {
    **dict.fromkeys(("int2", "int4", "int8", "smallint", "integer", "bigint", "text",
                     "varchar", "bpchar", "name", "citext", "bytea", "json", "jsonb",
                     "character varying", "character"), None),
    **dict.fromkeys(("float4", "float8", "real", "double precision"), float),
    "bool": _bool, "boolean": _bool, "numeric": lambda v: Decimal(str(v)),
    "date": date.fromisoformat, "time": time.fromisoformat,
    "time without time zone": time.fromisoformat,
    "timestamptz": _timestamp, "timestamp with time zone": _timestamp,
    "timestamp": _naive, "timestamp without time zone": _naive,
}


def _converter(table: str, column: str, pg_type: str) -> Convert | None:
    if pg_type not in _CONVERTERS:
        raise MigrationError(f"{table}.{column} has the PostgreSQL type {pg_type}, which "
                             "migrate does not know how to fill from SQLite")
    return _CONVERTERS[pg_type]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _names(columns: tuple[str, ...]) -> str:
    return ", ".join(_ident(c) for c in columns)
