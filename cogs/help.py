"""/help: what Stride does and how to use it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from ui.command_tree import leaf_commands, slash_roots
from ui.embeds import BRAND, add_list_field, fit
from ui.interaction import Interaction

if TYPE_CHECKING:
    from bot import StrideBot

ABOUT = (
    "Stride teaches short exercises that wake up and practise the hip and glute muscles "
    "runners tend to under-use, walks you through them step by step, and lets the club keep "
    "the habit going together."
)

HOW_MUCH = (
    "Nobody does all of this every day. The idea is a couple of minutes of two or three moves "
    "before most runs (`/routine name:quick`); the longer routines, drills, strength and "
    "mobility work are for days when you have the time."
)


STREAK_RULE = (
    "Check in once a day with `/checkin` (your own day: set `/timezone`). A streak counts "
    "your check-in days and survives missed days up to the club's rest days (default 2). "
    "Example with 2: Mon, Tue, Fri is a streak of 3; it still stands on Monday, and ends on "
    "Tuesday if Sat, Sun and Mon are all missed."
)


def command_lines(tree: app_commands.CommandTree[Any]) -> list[str]:
    """One line per slash command (and subcommand) the bot has, from the live command tree."""
    lines: list[str] = []
    for root in sorted(slash_roots(tree), key=lambda c: c.name):
        lines += [f"`/{c.qualified_name}`: {c.description}" for c in leaf_commands(root)]
    return lines


class Help(commands.Cog):
    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What Stride does and its commands")
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def help(self, interaction: Interaction) -> None:
        embed = discord.Embed(title="Stride: activation for runners", description=ABOUT,
                              colour=BRAND)
        add_list_field(embed, "How much?", [HOW_MUCH])
        add_list_field(embed, "Commands", command_lines(self.bot.tree))
        add_list_field(embed, "Start here", [
            "Before your next run, try `/routine name:quick` and press **Start**.",
            "Look up any move with `/exercise`, e.g. `/exercise name:clams`: the card shows "
            "the steps and an animated figure doing the move.",
        ])
        add_list_field(embed, "Streaks", [STREAK_RULE])
        embed.add_field(name="Stay safe", value=self.bot.catalog.safety, inline=False)
        await interaction.response.send_message(
            embed=fit(embed), ephemeral=True
        )


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(Help(bot))
