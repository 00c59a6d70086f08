"""SQLite storage: the only package that contains SQL."""

from .backup import BackupError, BackupResult, backup_database
from .database import Storage
from .migrations import SchemaError

__all__ = ["BackupError", "BackupResult", "SchemaError", "Storage", "backup_database"]
