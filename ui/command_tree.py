"""Walking the slash-command tree: the commands a member can run, for /help and `bot.py check`."""

from __future__ import annotations

from discord import app_commands

Root = app_commands.Command | app_commands.Group


def leaf_commands(root: Root) -> list[app_commands.Command]:
    """A command itself, or every command inside a group (subgroups included), in order."""
    if isinstance(root, app_commands.Command):
        return [root]
    return [c for c in root.walk_commands() if isinstance(c, app_commands.Command)]
