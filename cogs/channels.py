"""Channel options of admin commands: the picked channel checked with Discord."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from stride.errors import UserError
from ui.interaction import Interaction

if TYPE_CHECKING:
    from bot import StrideBot


class ServerTextChannel(app_commands.Transformer["StrideBot"]):
    """A text-channel option: the channel as the interaction describes it, or None when it is
    not a text channel. discord.py would refuse a channel it cannot place (Stride caches no
    channels; a crafted request may even name another server's) with an unreadable error;
    the command checks the channel with Discord instead, and says what to pick."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: Interaction, value: Any, /
                        ) -> app_commands.AppCommandChannel | None:
        if not isinstance(value, app_commands.AppCommandChannel) or value.type not in (
            discord.ChannelType.text, discord.ChannelType.news
        ):
            return None
        return value


# A text channel option, as the commands declare it (None: the pick was not a text channel).
TextChannelOption = app_commands.Transform[app_commands.AppCommandChannel | None,
                                           ServerTextChannel]


async def channel_for_reminders(
    bot: StrideBot, picked: app_commands.AppCommandChannel | None, guild_id: int
) -> discord.TextChannel:
    """The picked channel as Discord knows it (one REST call: channels are not cached), if it
    is a text channel of this server that Stride can see; else a UserError saying what to do."""
    pick = "Pick a text channel in this server, e.g. the one where your club plans runs."
    if picked is None:
        raise UserError(pick)
    try:
        found = await bot.fetch_channel(picked.id)
    except discord.Forbidden:
        raise UserError(
            f"I can't see <#{picked.id}>. Let Stride in: in that channel's settings → "
            "Permissions, give Stride **View Channel**, **Send Messages**, **Embed Links** and "
            "**Read Message History**, "
            "then try again."
        ) from None
    except discord.NotFound:
        raise UserError(pick) from None
    if not isinstance(found, discord.TextChannel) or found.guild.id != guild_id:
        raise UserError(pick)
    return found
