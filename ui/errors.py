"""The one error handler: a clear ephemeral message for the member, a log line for the rest."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from stride.errors import StorageBusy, UserError

from .embeds import notice_embed
from .interaction import Interaction
from .respond import respond

log = logging.getLogger("stride.errors")

PERMISSION_NAMES = {"manage_guild": "Manage Server"}  # as Discord's app names them
UNEXPECTED = (
    "Something went wrong on our side and the club's admins can find it in the bot's log. "
    "Please try again in a moment."
)
BUSY = (
    "Stride's records are busy right now, so this didn't go through. "
    "Please try again in a moment."
)
RESTARTING = "Stride is restarting, so this didn't go through. Please try again in a minute."


class Restarting(app_commands.CheckFailure):
    """The bot is stopping and takes no new work; the member is asked to try again."""

    def __init__(self) -> None:
        super().__init__(RESTARTING)


NOT_IN_THIS_SERVER = (
    "Stride isn't added to this server, so club commands and check-ins don't work here "
    "(you added it to your own account). `/exercise`, `/exercises`, `/routine`, `/form` and "
    "`/help` work anywhere; ask this server's admins to add Stride for the rest."
)


class NotInThisServer(app_commands.CheckFailure):
    """A server-only command (or a check-in) in a server that did not add Stride: a member
    who added it to their own account uses it there."""

    def __init__(self) -> None:
        super().__init__(NOT_IN_THIS_SERVER)


def describe(interaction: Interaction) -> str:
    """Who did what where, for log lines (ids only, never message text)."""
    what: object = interaction.command.qualified_name if interaction.command else None
    if what is None and isinstance(interaction.data, dict):
        what = interaction.data.get("custom_id") or interaction.data.get("name")
    return (
        f"interaction={interaction.id} type={interaction.type.name} what={what!r} "
        f"guild={interaction.guild_id} channel={interaction.channel_id} "
        f"user={interaction.user.id}"
    )


def answer_refused(error: BaseException) -> bool:
    """Discord refused the interaction's own answer (token expired, already answered, an
    outage that outlasted discord.py's retries): the member cannot be told anything more."""
    if not isinstance(error, discord.HTTPException):
        return False
    url = str(getattr(error.response, "url", ""))
    return "/interactions/" in url or "/webhooks/" in url


def user_message(error: Exception) -> str | None:
    """The text to show for an error members can act on; None for unexpected ones."""
    original = getattr(error, "original", error)
    if isinstance(original, UserError):
        return str(original)
    if isinstance(error, Restarting):
        return RESTARTING
    if isinstance(error, NotInThisServer):
        return NOT_IN_THIS_SERVER
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(
            PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in error.missing_permissions
        )
        return f"Only members with the **{needed}** permission can do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command works in a server, not in direct messages."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Easy there! Try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that here."
    if isinstance(error, app_commands.TransformerError):
        return "I couldn't read one of the options. Pick it from the list Discord offers."
    return None


async def report_error(interaction: Interaction, error: Exception) -> None:
    """Tell the member what went wrong (ephemerally) and log anything unexpected once."""
    original = getattr(error, "original", error)
    if answer_refused(original):
        # Autocomplete answers are routinely refused when the member types on; not an error.
        autocomplete = interaction.type is discord.InteractionType.autocomplete
        log.log(logging.DEBUG if autocomplete else logging.ERROR, "Could not answer (%s): %s",
                describe(interaction), original)
        return
    text = user_message(error)
    if text is None and isinstance(original, StorageBusy):
        log.warning("Database busy, asked to try again (%s): %s", describe(interaction), original)
        text = BUSY
    elif text is None:
        log.error("Unhandled error (%s)", describe(interaction), exc_info=original)
        text = UNEXPECTED
    if interaction.type is discord.InteractionType.autocomplete:
        return
    embed = notice_embed("Hmm, that didn't work", text)
    try:
        await respond(interaction, embed=embed, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("Could not tell the member about an error (%s): %s", describe(interaction), exc)
