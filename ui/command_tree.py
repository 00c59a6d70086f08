"""Walking the slash-command tree: the commands a member can run, for /help and `bot.py check`."""

from __future__ import annotations

from typing import Any, TypeAlias

from discord import app_commands

Command: TypeAlias = app_commands.Command[Any, ..., Any]
Root: TypeAlias = Command | app_commands.Group


def slash_roots(tree: app_commands.CommandTree[Any]) -> list[Root]:
    """The tree's top-level slash commands and groups (a context menu is not one)."""
    return [
        c for c in tree.get_commands()
        if isinstance(c, app_commands.Command | app_commands.Group)
    ]


def leaf_commands(root: Root) -> list[Command]:
    """A command itself, or every command inside a group (subgroups included), in order."""
    if isinstance(root, app_commands.Command):
        return [root]
    return [c for c in root.walk_commands() if isinstance(c, app_commands.Command)]
