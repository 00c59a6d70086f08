"""Errors that carry a message meant for the member who caused them."""


class UserError(Exception):
    """Bad input or a refused action; `str(error)` is shown to the member as is."""
