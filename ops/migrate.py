"""`bot.py migrate --to postgresql://...`: move Stride from its SQLite file to PostgreSQL, once,
with the bot stopped. The copy is verified row by row and committed whole or not at all; the
SQLite file is only read, and stays as the fallback."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from stride.config import Settings
from stride.storage.postgres import redact
from stride.storage.transfer import (
    MigrationError,
    MigrationRefused,
    MigrationReport,
    Step,
    migrate,
)

__all__ = ["migrate", "migrate_command", "run"]


def migrate_command(settings: Settings, url: str) -> int:
    """`python bot.py migrate --to URL`; returns the exit code."""
    try:
        return asyncio.run(run(settings, url))
    except KeyboardInterrupt:  # the transaction is rolled back with the connection
        print("Interrupted: nothing was kept in PostgreSQL; run migrate again.", file=sys.stderr)
        return 1


async def run(settings: Settings, url: str, out: TextIO = sys.stdout,
              err: TextIO = sys.stderr) -> int:
    """Copy DATABASE_PATH into the empty database at `url`; 0 when done, 1 if refused or
    failed (then nothing was kept in PostgreSQL)."""
    if not url.startswith(("postgresql://", "postgres://")):
        print(f"Not migrated: --to must be a PostgreSQL URL like "
              f"postgresql://stride:PASSWORD@localhost/stride, not {redact(url)!r}.", file=err)
        return 1
    print(f"Copying {settings.database_path} into {redact(url)} (keep the bot stopped) ...",
          file=out, flush=True)
    phases = ["copy"]

    def progress(step: Step) -> None:
        if step.phase != phases[-1]:
            phases.append(step.phase)
            print("Verifying every row ...", file=out, flush=True)
        if not step.done or step.seconds >= 1.0:  # small tables show in the summary only
            verb = "copied" if step.phase == "copy" else "verified"
            share = "" if step.done else f" of {step.total:,}"
            print(f"  {step.table}: {step.rows:,}{share} rows {verb} ({step.seconds:.1f} s)",
                  file=out, flush=True)

    try:
        report = await migrate(settings.database_path, url, progress)
    except MigrationRefused as exc:
        print(f"Not migrated: {exc}", file=err)
        return 1
    except MigrationError as exc:
        print(f"Migration failed and was rolled back ({redact(url)} keeps none of it; fix "
              f"the cause and run migrate again): {exc}", file=err)
        return 1
    print(summary(report, settings), file=out)
    return 0


def summary(report: MigrationReport, settings: Settings) -> str:
    """The tables copied, and what to change in .env now."""
    lines = [f"Migrated {report.rows:,} rows in {report.seconds:.1f} s:"]
    lines += [f"  {t.name}: {_rows(t.rows)}, verified (copied in {t.copy_seconds:.1f} s, "
              f"verified in {t.verify_seconds:.1f} s)" for t in report.tables]
    if report.applied:
        names = report.applied[0] + (f" to {report.applied[-1]}" if len(report.applied) > 1
                                     else "")
        lines.append(f"  (the schema was set up first: migrations {names})")
    lines += [
        "",
        "Now, in .env:",
        f"  DATABASE_URL={report.target}",
        "      (with the real password in place of ***); Stride then uses PostgreSQL."
        if "***" in report.target else "      Stride then uses PostgreSQL.",
        f"  Keep {settings.database_path}: it is unchanged, a backup as of now, and the way",
        "      back (remove DATABASE_URL), without what is written on PostgreSQL from now on.",
        "  SHARD_COUNT and SHARD_IDS may now split the shards over several processes on this",
        "      database (docs/postgresql.md).",
    ]
    if settings.backup_dir:
        lines += [f"  BACKUP_DIR ({settings.backup_dir}): the daily backups copy SQLite files",
                  "      only; back PostgreSQL up with pg_dump (`bot.py backup` says how)."]
    lines += ["Then check and start: python bot.py check && python bot.py"]
    return "\n".join(lines)


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"
