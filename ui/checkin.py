"""Checking in from anywhere: the shared answer, and the Check in / Undo buttons."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import discord

from stride.catalog import Catalog

from .components import PersistentButton, view_of
from .custom_id import SLUG, SNOWFLAKE, CustomId
from .errors import NotInThisServer
from .interaction import Interaction
from .respond import respond
from .streak_embeds import checkin_embed, undo_embed

DEFER_AFTER = 1.5  # seconds of work after which the answer is deferred


async def do_checkin(
    interaction: Interaction, what: str | None = None, guild_id: int | None = None,
    *, public: bool = False,
) -> None:
    """Check the member in and answer: shared by /checkin (public, so the club sees it) and
    every 'Check in' / 'Done' button (only to the member)."""
    guild_id = guild_id or interaction.guild_id
    assert guild_id is not None
    work = asyncio.ensure_future(
        interaction.client.checkins.check_in(guild_id, interaction.user.id, what)
    )
    # Usually a few ms; under a burst, say "thinking" before Discord's 3 s deadline passes.
    try:
        done, _ = await asyncio.wait({work}, timeout=DEFER_AFTER)
    except asyncio.CancelledError:
        work.cancel()  # the bot is stopping and gave up waiting: nothing left running alone
        raise
    if not done:
        await interaction.response.defer(ephemeral=not public, thinking=True)
    try:
        result = await work
    except Exception:
        if not done and public:
            # Take the public "thinking..." away, so the error reaches only this member.
            await interaction.delete_original_response()
        raise
    label = _what_label(interaction.client.catalog, what)
    embed = checkin_embed(interaction.user, result, label)
    in_server = interaction.guild_id is not None
    view = view_of(UndoCheckin(interaction.user.id)) if result.recorded and in_server else None
    await _send(interaction, embed, view, ephemeral=in_server and not (public and result.recorded))


def _what_label(catalog: Catalog, what: str | None) -> str | None:
    if not what:
        return None
    routine = catalog.routine(what)
    exercise = catalog.get(what)
    return routine.name if routine else exercise.name if exercise else None


async def _send(
    interaction: Interaction,
    embed: discord.Embed,
    view: discord.ui.View | None,
    *,
    ephemeral: bool,
) -> None:
    kwargs: dict[str, Any] = {"embed": embed, "ephemeral": ephemeral}
    if view is not None:
        kwargs["view"] = view
    await respond(interaction, **kwargs)


class UndoCheckin(
    PersistentButton, custom_id=CustomId("stride:undo:{user_id}", user_id=SNOWFLAKE)
):
    """Undo on a check-in answer: only the member who checked in may press it."""

    def __init__(self, user_id: int) -> None:
        super().__init__(
            self.custom_ids.format(user_id=user_id), label="Undo",
            style=discord.ButtonStyle.secondary,
        )
        self.user_id = user_id

    @classmethod
    def from_state(cls, user_id: str) -> UndoCheckin:
        return cls(int(user_id))

    async def interaction_check(  # type: ignore[override]  # typed for any client: see the base
        self, interaction: Interaction, /
    ) -> bool:
        return await self.only_for(
            interaction, self.user_id,
            "Only the member who checked in can undo it. Use `/checkin` for your own.",
        )

    async def run(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None  # interaction_check made sure
        undone = await interaction.client.checkins.undo(interaction.guild_id, interaction.user.id)
        await interaction.response.send_message(embed=undo_embed(undone), ephemeral=True)


FIRING = r"[0-9A-Za-z]{1,11}\.[0-9A-Za-z]{1,11}"  # a reminder firing: see firing_tag
DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def firing_tag(reminder_id: int, due_at: int) -> str:
    """A reminder firing, compact enough for any custom_id (base 62: within Discord's 100
    characters with a 40-character routine id and a 20-digit server id)."""
    return f"{_base62(reminder_id)}.{_base62(due_at)}"


def _base62(number: int) -> str:
    text = ""
    while True:
        number, rest = divmod(number, len(DIGITS))
        text = DIGITS[rest] + text
        if number == 0:
            return text


class CheckinButton(
    PersistentButton,
    custom_id=CustomId(
        "stride:checkin[:{what}][:g{guild_id}][:@{firing}]",
        what=SLUG, guild_id=SNOWFLAKE, firing=FIRING,
    ),
):
    """'Check in' on the walk-through's Done screen and on reminders. In a DM the server to
    check in to travels in the custom_id. On a reminder it also names the firing, so the
    bot can find its own post again after a restart (it sees its messages' components)."""

    def __init__(
        self, what: str | None = None, label: str = "Check in", guild_id: int | None = None,
        firing: str | None = None,
    ) -> None:
        super().__init__(
            self.custom_ids.format(what=what, guild_id=guild_id, firing=firing),
            label=label, emoji="✅", style=discord.ButtonStyle.success,
        )
        self.what, self.guild_id = what, guild_id

    @classmethod
    def from_state(
        cls, what: str | None = None, guild_id: str | None = None, firing: str | None = None
    ) -> CheckinButton:
        return cls(what, guild_id=int(guild_id) if guild_id else None, firing=firing)

    @classmethod
    def firing_of(cls, custom_id: str) -> str | None:
        """The reminder firing a Done button's custom_id names (None: no firing, or not a
        Check in button at all)."""
        match = re.fullmatch(cls.custom_ids.regex, custom_id)
        return match["firing"] if match else None

    async def run(self, interaction: Interaction) -> None:
        if interaction.guild_id is not None and not interaction.is_guild_integration():
            # A walk-through in a server where a member only added Stride to their account.
            raise NotInThisServer()
        guild_id = interaction.guild_id or self.guild_id
        if guild_id is None:
            await interaction.response.send_message(
                "Check-ins count per server: use this in your club's server.", ephemeral=True
            )
            return
        await do_checkin(interaction, self.what, guild_id)
