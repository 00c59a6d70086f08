"""Stride's storage: the only package that contains SQL. Two backends with one interface
(`Storage`): SQLite, embedded, for one process; PostgreSQL for several processes."""

from stride.config import Settings

from .backup_copy import BackupCancelled, BackupError, BackupResult, backup_database
from .club_week import WeekStore
from .interface import Plan, Storage
from .migrations import SchemaError
from .runs import RunPlan, RunStore
from .sqlite import SqliteStorage


def storage_for(settings: Settings) -> Storage:
    """The backend the settings ask for (not yet opened): PostgreSQL when DATABASE_URL is
    set, else the SQLite file at DATABASE_PATH."""
    if settings.database_url:
        from .postgres import PostgresStorage  # asyncpg is imported only when it is used

        return PostgresStorage(settings.database_url, pool_size=settings.database_pool_size,
                               busy_timeout_ms=settings.database_busy_timeout_ms)
    return SqliteStorage(settings.database_path, settings.database_busy_timeout_ms,
                         settings.database_sync)


__all__ = [
    "BackupCancelled", "BackupError", "BackupResult", "Plan", "RunPlan", "RunStore",
    "SchemaError", "SqliteStorage", "Storage", "WeekStore", "backup_database", "storage_for",
]
