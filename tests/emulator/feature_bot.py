"""A discord.py bot touching every flow the emulator supports (harness self-test only).

Views (button + select) on an ephemeral message, a modal, defer + followups +
edits, a DM, a file upload, plain channel messages (send/edit/react/fetch/delete),
guild commands with typed options and a permission-gated subcommand group.
Needs ``DISCORD_TOKEN`` and ``GUILD_ID``.
"""

from __future__ import annotations

import asyncio
import io
import os

import discord
from discord import app_commands

GUILD = discord.Object(int(os.environ.get("GUILD_ID", "0")))


class FeatureBot(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default())
        self.tree = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        await self.tree.sync()
        await self.tree.sync(guild=GUILD)


bot = FeatureBot()


class MenuView(discord.ui.View):
    @discord.ui.button(label="Go", custom_id="go")
    async def go(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="went", view=None)

    @discord.ui.select(
        custom_id="pace",
        options=[discord.SelectOption(label="easy"), discord.SelectOption(label="hard")],
    )
    async def pace(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"pace {select.values[0]}")


class LogForm(discord.ui.Modal, title="Log a run"):
    distance = discord.ui.TextInput(label="Distance", custom_id="distance")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"got {self.distance.value}")


@bot.tree.command(description="Ephemeral menu")
async def menu(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("pick", view=MenuView(), ephemeral=True)


@bot.tree.command(description="Deferred answer")
async def slow(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)
    await asyncio.sleep(0.05)
    await interaction.followup.send("done", ephemeral=True)  # replaces the "thinking" message
    await interaction.edit_original_response(content="edited")
    await interaction.followup.send("second", ephemeral=True)


@bot.tree.command(description="Modal")
async def form(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(LogForm())


@bot.tree.command(description="DM me")
async def dm(interaction: discord.Interaction) -> None:
    await interaction.user.send("hello in dm")
    await interaction.response.send_message("sent", ephemeral=True)


@bot.tree.command(description="Too long")
async def toolong(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("x" * 2001)


@bot.tree.command(description="File")
async def file(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(
        "here", file=discord.File(io.BytesIO(b"hello"), "a.txt")
    )


@bot.tree.command(description="Channel message round trip")
async def post(interaction: discord.Interaction) -> None:
    await interaction.response.defer(ephemeral=True)
    channel = interaction.channel
    assert isinstance(channel, discord.TextChannel) and interaction.guild is not None
    msg = await channel.send("posted", embed=discord.Embed(title="T", description="D"))
    await msg.edit(content="posted2")
    await msg.add_reaction("\N{THUMBS UP SIGN}")
    fetched = await channel.fetch_message(msg.id)
    member = await interaction.guild.fetch_member(interaction.user.id)
    await interaction.edit_original_response(content=f"ok {fetched.content} {member.name}")
    await msg.delete()


@bot.tree.command(description="Typed options")
@app_commands.guilds(GUILD)
async def plan(
    interaction: discord.Interaction,
    laps: int,
    who: discord.Member,
    where: discord.TextChannel,
    ratio: float = 1.0,
) -> None:
    await interaction.response.send_message(f"{laps} {who.name} {where.name} {ratio}")


club = app_commands.Group(
    name="club",
    description="Club admin",
    guild_ids=[GUILD.id],
    default_permissions=discord.Permissions(manage_guild=True),
)
members = app_commands.Group(name="members", description="Members", parent=club)


@members.command(description="Count members")
async def count(interaction: discord.Interaction) -> None:
    assert interaction.guild is not None
    await interaction.response.send_message(f"{interaction.guild.member_count} members")


bot.tree.add_command(club)


if __name__ == "__main__":
    bot.run(os.environ["DISCORD_TOKEN"])
