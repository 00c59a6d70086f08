"""Errors the domain knows: those meant for the member who caused them, and the storage's."""


class UserError(Exception):
    """Bad input or a refused action; `str(error)` is shown to the member as is."""


class StorageError(Exception):
    """The database could not do what was asked (whichever database it is); a write that
    raised this wrote nothing."""


class StorageBusy(StorageError):
    """Another process held the database's write lock for longer than the busy timeout."""
