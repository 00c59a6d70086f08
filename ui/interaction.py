"""The interactions Stride receives: `Interaction` is discord.Interaction whose `client` is
the StrideBot, so `interaction.client.checkins` and the other services type-check.

Only for annotations: bot.py loads the cogs (which import ui) at run time, so StrideBot is
imported for the type checker alone and the alias is a string."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import discord

if TYPE_CHECKING:
    from bot import StrideBot

Interaction: TypeAlias = "discord.Interaction[StrideBot]"
