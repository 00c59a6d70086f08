"""Walking the slash-command tree: the commands a member can run, for /help and `bot.py check`."""

from __future__ import annotations

from typing import Any, TypeAlias

from discord import app_commands

Command: TypeAlias = app_commands.Command[Any, ..., Any]
Root: TypeAlias = Command | app_commands.Group

# Where commands work unless they say otherwise (the tree's defaults, sent in every command's
# `contexts` / `integration_types`): in servers that added Stride, nowhere else. The library
# commands (/exercise, /exercises, /routine, /form, /help) opt in to DMs, group DMs and
# members' own installs with app_commands.allowed_contexts / allowed_installs.
SERVER_CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=False,
                                                 private_channel=False)
SERVER_INSTALLS = app_commands.AppInstallationType(guild=True, user=False)


def server_only(root: Root | app_commands.ContextMenu, tree: app_commands.CommandTree[Any]
                ) -> bool:
    """True if the command works only in a server that added Stride (club data lives per
    server): its contexts, merged over the tree's defaults, allow no DM or private channel,
    or its installs allow no user install."""
    contexts = tree.allowed_contexts
    if root.allowed_contexts is not None:
        contexts = contexts.merge(root.allowed_contexts)
    installs = tree.allowed_installs
    if root.allowed_installs is not None:
        installs = installs.merge(root.allowed_installs)
    return root.guild_only or not (
        (contexts.dm_channel or contexts.private_channel) and installs.user
    )


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
