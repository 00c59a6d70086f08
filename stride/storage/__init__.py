"""SQLite storage: the only package that contains SQL."""

from .backup_copy import BackupCancelled, BackupError, BackupResult, backup_database
from .database import Storage
from .migrations import SchemaError

__all__ = [
    "BackupCancelled", "BackupError", "BackupResult", "SchemaError", "Storage", "backup_database",
]
