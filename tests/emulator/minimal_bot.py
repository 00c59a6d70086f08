"""The smallest useful discord.py bot: ``/ping`` and ``/echo text:<autocomplete>``.

Used to prove the emulator and the launch path and as the performance floor for benchmarks.
Run: ``DISCORD_TOKEN=... python tests/emulator/minimal_bot.py``.
"""

from __future__ import annotations

import os

import discord
from discord import app_commands

WORDS = [
    "easy run",
    "fartlek",
    "hill repeats",
    "intervals",
    "long run",
    "recovery jog",
    "strides",
    "tempo run",
]


class MinimalBot(discord.Client):
    def __init__(self) -> None:
        # Intents.default() already leaves out members, presences and message content.
        super().__init__(intents=discord.Intents.default())
        self.tree = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        await self.tree.sync()


bot = MinimalBot()


@bot.tree.command(description="Check that the bot answers.")
async def ping(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("pong")


async def suggest(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    needle = current.lower()
    return [app_commands.Choice(name=w, value=w) for w in WORDS if needle in w][:25]


@bot.tree.command(description="Repeat some text.")
@app_commands.describe(text="What to repeat")
@app_commands.autocomplete(text=suggest)
async def echo(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(text, allowed_mentions=discord.AllowedMentions.none())


if __name__ == "__main__":
    bot.run(os.environ["DISCORD_TOKEN"])
