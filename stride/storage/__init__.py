"""SQLite storage: the only package that contains SQL."""

from .database import Storage
from .migrations import SchemaError

__all__ = ["SchemaError", "Storage"]
