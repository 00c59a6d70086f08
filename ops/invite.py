"""`bot.py invite`: the links that add Stride to a server (asking for exactly the permissions it
needs) and to a member's own account (a user install: the library commands everywhere)."""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import sys
from collections.abc import Mapping
from typing import TextIO

import discord

from stride.config import TOKEN_HELP

SCOPES = ("bot", "applications.commands")
USER_SCOPES = ("applications.commands",)  # a user install has no bot user and no permissions
USER_INSTALL = 1  # Discord's integration_type for "add to my apps" (0: a server)

NEEDED: tuple[tuple[str, str, str], ...] = (
    ("view_channel", "View Channels",
     "see the channel a club reminder is posted in (without it Discord refuses the post)"),
    ("send_messages", "Send Messages", "post club reminders in that channel"),
    ("embed_links", "Embed Links",
     "a reminder is an embed, which Discord drops from a bot's post without this"),
    ("attach_files", "Attach Files",
     "the weekly recap's chart of the club's check-ins (without it, the recap goes out "
     "without its chart)"),
    ("read_message_history", "Read Message History",
     "after a restart, look for a reminder the bot may already have posted, so that it "
     "is never posted twice"),
)
"""(flag, name in Discord, why): the only messages Stride posts itself are club reminders,
run posts and the weekly recap.
Answers to commands and buttons (the streak picture and the data export included) are
interaction responses, which need no permissions; reminders by DM need none either."""

PERMISSIONS = discord.Permissions(**{flag: True for flag, _, _ in NEEDED})

MAX_ID = 2**64 - 1
APP_ID_HELP = (
    "the Application ID is on https://discord.com/developers/applications -> your app -> "
    "General Information"
)


class TokenError(ValueError):
    """The token does not have the shape of a bot token; the message never contains it."""


def snowflake(text: str) -> int:
    """An id given on the command line (argparse type)."""
    value = text.strip()
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Discord id; it is a number like 123456789012345678 "
            f"({APP_ID_HELP})"
        )
    return int(value)


def application_id(token: str) -> int:
    """The application id inside a bot token: its first part is the bot user's id in base64,
    and a bot's user id is its application's id. Raises TokenError for anything else."""
    first = token.strip().split(".", 1)[0]
    try:
        raw = base64.b64decode(first + "=" * (-len(first) % 4), altchars=b"-_", validate=True)
        text = raw.decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.isdigit() or not 0 < int(text) <= MAX_ID or "." not in token:
        raise TokenError(
            "DISCORD_TOKEN does not look like a bot token (its first part should be the bot's "
            "id). Copy it again: https://discord.com/developers/applications -> your app -> "
            "Bot -> Reset Token."
        )
    return int(text)


def invite_url(app_id: int, permissions: discord.Permissions = PERMISSIONS) -> str:
    return (
        f"https://discord.com/oauth2/authorize?client_id={app_id}"
        f"&scope={'+'.join(SCOPES)}&permissions={permissions.value}"
    )


def user_install_url(app_id: int) -> str:
    """The link that adds Stride to the member's own account ("Add to My Apps")."""
    return (
        f"https://discord.com/oauth2/authorize?client_id={app_id}"
        f"&integration_type={USER_INSTALL}&scope={'+'.join(USER_SCOPES)}"
    )


def run(app_id: int | None, env: Mapping[str, str] | None = None,
        out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Print the invite links for `app_id`, else for the application of DISCORD_TOKEN."""
    env = os.environ if env is None else env
    source = "--app-id"
    if app_id is None:
        token = env.get("DISCORD_TOKEN", "").strip()
        if not token:
            print(f"DISCORD_TOKEN is not set, so the application is unknown. Pass it instead: "
                  f"bot.py invite --app-id ID ({APP_ID_HELP}). Or set the token: {TOKEN_HELP}",
                  file=err)
            return 2
        try:
            app_id = application_id(token)
        except TokenError as exc:
            print(f"{exc} Or pass the application instead: bot.py invite --app-id ID "
                  f"({APP_ID_HELP}).", file=err)
            return 2
        source = "DISCORD_TOKEN"
    width = max(len(name) for _, name, _ in NEEDED)
    lines = [
        f"Add Stride (application {app_id}, from {source}) to a server: open this link as "
        "someone with Manage Server there.",
        "",
        invite_url(app_id),
        "",
        f"It asks for these permissions only (integer {PERMISSIONS.value}):",
        *(f"  {name:<{width}}  {why}" for _, name, why in NEEDED),
        "Answers to commands and buttons, the streak picture and the data export included, "
        "need no permissions.",
        "To ping a role with a reminder, the role must allow it: Server Settings -> Roles -> "
        "the role -> 'Allow anyone to @mention this role'.",
        "",
        "Add Stride to your own account (Add to My Apps): /exercise, /exercises, /routine, "
        "/form and /help then work in DMs, group DMs and other servers; club commands stay "
        "in servers that added Stride. Needs no permissions.",
        "",
        user_install_url(app_id),
        "",
        "In a server that blocks external apps, Discord makes those answers visible only to "
        "you. The Developer Portal must allow it: Installation -> Installation Contexts -> "
        "User Install.",
        "",
        "Then register the commands once: bot.py sync --global (user installs use only "
        "global commands)",
    ]
    print("\n".join(lines), file=out)
    return 0
