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

NUDGE_AND_MILESTONES = (
    "`/remindme nudge enabled:True` sends one DM on the last day your streak survives, if "
    "you haven't checked in by your chosen time (default 20:00); never for a streak of 0 or "
    "1 day. Milestones: streaks of 7, 14, 30, 50 and 100 days, and your 10th, 50th, 100th, "
    "250th and 500th check-in."
)


def command_lines(tree: app_commands.CommandTree[Any]) -> list[str]:
    """One line per slash command the bot has, from the live command tree; a group's
    subcommands share its line (`/runs setup | off | list | dm enabled`: its description)."""
    lines: list[str] = []
    for root in sorted(slash_roots(tree), key=lambda c: c.name):
        groups: dict[str, tuple[app_commands.Group, list[str]]] = {}
        for command in leaf_commands(root):
            if command.parent is None:
                lines.append(f"`/{command.qualified_name}`: {command.description}")
                continue
            group = command.parent
            groups.setdefault(group.qualified_name, (group, []))[1].append(command.name)
        lines += [f"`/{name} {' | '.join(subs)}`: {group.description}"
                  for name, (group, subs) in groups.items()]
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
        add_list_field(embed, "Streaks", [STREAK_RULE, NUDGE_AND_MILESTONES])
        embed.add_field(name="Stay safe", value=self.bot.catalog.safety, inline=False)
        await interaction.response.send_message(
            embed=fit(embed), ephemeral=True
        )


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(Help(bot))
