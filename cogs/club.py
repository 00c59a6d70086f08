"""Club settings for admins (/club) and a member's own data (/mydata)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from stride.recap_chart import render_recap_chart
from stride.schedule import parse_time
from stride.streaks import MAX_REST_DAYS
from ui.checkin import CheckinButton
from ui.choices import zone_choices
from ui.components import PersistentButton, view_of
from ui.custom_id import SNOWFLAKE, CustomId
from ui.embeds import BRAND, notice_embed
from ui.interaction import Interaction
from ui.recap_embeds import CHART_FILE, recap_embed
from ui.reminder_embeds import next_text
from ui.respond import respond

from .channels import TextChannelOption, channel_for_reminders

if TYPE_CHECKING:
    from bot import StrideBot

T = TypeVar("T")


def manage_server() -> Callable[[T], T]:
    """Admin commands: Discord hides them by default, and the bot checks again itself,
    because a server can override who sees a command."""

    def predicate(interaction: Interaction) -> bool:
        permissions = interaction.permissions
        if not (permissions.manage_guild or permissions.administrator):
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    return app_commands.check(predicate)


def admin_group(name: str, description: str) -> app_commands.Group:
    """A server-only command group shown by default only to members with Manage Server
    (each command also checks it with `manage_server`)."""
    return app_commands.Group(
        name=name, description=description, guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )


class ConfirmForget(
    PersistentButton, custom_id=CustomId("stride:forget:{user_id}", user_id=SNOWFLAKE)
):
    """The confirmation button of /mydata delete: only for the member who asked."""

    def __init__(self, user_id: int) -> None:
        super().__init__(
            self.custom_ids.format(user_id=user_id), label="Yes, delete my data", emoji="🗑️",
            style=discord.ButtonStyle.danger,
        )
        self.user_id = user_id

    @classmethod
    def from_state(cls, user_id: str) -> ConfirmForget:
        return cls(int(user_id))

    async def interaction_check(  # type: ignore[override]  # typed for any client: see the base
        self, interaction: Interaction, /
    ) -> bool:
        return await self.only_for(interaction, self.user_id, "That button isn't yours.")

    async def run(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None  # interaction_check made sure
        removed = await interaction.client.checkins.forget(
            interaction.guild_id, interaction.user.id
        )
        await interaction.response.edit_message(
            embed=notice_embed(
                "Your data is deleted",
                f"Removed your settings and {removed} check-in(s) in this server. "
                "You are off the leaderboards; check in any time to start afresh.",
            ),
            view=None,
        )


async def recap_post(bot: StrideBot, guild_id: int, at: datetime | None = None,
                     tag: str | None = None) -> dict[str, Any]:
    """The weekly recap as of `at` (now), as `send` takes it: its embed, its chart and a Check
    in button (naming the reminder firing `tag`, if it is one). It pings nobody."""
    recap = await bot.recaps.build(guild_id, at)
    chart = await asyncio.to_thread(render_recap_chart, recap.daily, week_start=recap.start)
    return {
        "embed": recap_embed(recap),
        "file": discord.File(io.BytesIO(chart), filename=CHART_FILE,
                             description="Check-ins per day over the last 8 weeks"),
        "view": view_of(CheckinButton(label="Check in", firing=tag)),
        "allowed_mentions": discord.AllowedMentions.none(),
    }


WEEKDAYS = [app_commands.Choice(name=name, value=n) for n, name in enumerate(
    ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))]


class Club(commands.Cog):
    """Club-wide settings, the weekly recap, and members' own data."""

    club = admin_group("club", "Club settings (Manage Server)")
    recap = app_commands.Group(name="recap", description="The club's weekly recap",
                               parent=club)
    mydata = app_commands.Group(
        name="mydata", description="Your own data in this server", guild_only=True
    )

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @club.command(name="settings", description="Show or change the club's time zone and rest days")
    @app_commands.describe(
        timezone="Default zone for members who set none, e.g. Europe/London",
        rest_days=f"Days a member may miss in a row and keep a streak (0-{MAX_REST_DAYS})",
    )
    @app_commands.autocomplete(timezone=zone_choices)
    @manage_server()
    async def settings(
        self,
        interaction: Interaction,
        timezone: str | None = None,
        rest_days: app_commands.Range[int, 0, MAX_REST_DAYS] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        checkins = self.bot.checkins
        if timezone is None and rest_days is None:
            current = await checkins.club(interaction.guild_id)
            title = "Club settings"
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)
            before = await checkins.club(interaction.guild_id)
            current = await checkins.update_club(
                interaction.guild_id, timezone=timezone, rest_days=rest_days
            )
            if current != before:  # what is timed by the club's zone and rule follows it
                await self.bot.recaps.zone_changed(interaction.guild_id,
                                                   current.timezone or "UTC")
                await self.bot.nudges.refresh_club(interaction.guild_id)
                self.bot.reminders.wake()
            title = "Club settings updated"
        embed = discord.Embed(title=title, colour=BRAND)
        embed.add_field(name="Time zone", value=current.timezone or "UTC (not set)")
        embed.add_field(name="Rest days", value=str(current.rest_days))
        embed.set_footer(text="Every member's streak follows these settings from now on.")
        await respond(interaction, embed=embed, ephemeral=True)

    @recap.command(name="setup", description="Post a recap of the club's week every week")
    @app_commands.describe(
        channel="Where to post it",
        day="The day of the week it goes out (it covers the seven days before)",
        time="Local time in the club's zone, e.g. 9:00 or 6pm",
    )
    @app_commands.choices(day=WEEKDAYS)
    @manage_server()
    async def recap_setup(
        self, interaction: Interaction,
        channel: TextChannelOption,
        day: app_commands.Choice[int], time: str,
    ) -> None:
        assert interaction.guild_id is not None
        parse_time(time)  # a bad time is refused before Discord is asked about the channel
        target = await channel_for_reminders(self.bot, channel, interaction.guild_id)
        saved = await self.bot.recaps.setup(interaction.guild_id, target.id, day.value, time,
                                            interaction.user.id)
        await interaction.response.send_message(embed=notice_embed(
            "Weekly recap on",
            f"In {target.mention} every {day.name} at {saved.at} ({saved.timezone}): "
            f"{next_text(saved)}. It covers the seven days before. See it now with "
            "`/club recap preview`. Its chart is an image: give Stride **Attach Files** "
            "in that channel, or the recap goes out without it.",
        ), ephemeral=True)

    @recap.command(name="off", description="Stop the weekly recap")
    @manage_server()
    async def recap_off(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        await self.bot.recaps.off(interaction.guild_id)
        await interaction.response.send_message("The weekly recap is off.", ephemeral=True)

    @recap.command(name="preview", description="See the recap of the last seven days, only you")
    @manage_server()
    async def recap_preview(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        message = await recap_post(self.bot, interaction.guild_id)
        await interaction.followup.send(**message, ephemeral=True)

    @mydata.command(name="export", description="Get all your Stride data here as a CSV file")
    async def export(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        own_zone, rows = await self.bot.checkins.export(interaction.guild_id, interaction.user.id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["day", "checked_in_at_utc", "what"])
        writer.writerows([r.day.isoformat(), r.at, r.what or ""] for r in rows)
        data = io.BytesIO(out.getvalue().encode("utf-8"))
        zone = own_zone or "not set (club default)"
        await interaction.response.send_message(
            f"Your {len(rows)} check-in(s) in this server. Your time zone: {zone}.",
            file=discord.File(data, filename="stride-my-data.csv"),
            ephemeral=True,
        )

    @mydata.command(name="delete", description="Delete all your Stride data in this server")
    async def delete(self, interaction: Interaction) -> None:
        await interaction.response.send_message(
            embed=notice_embed(
                "Delete your data?",
                "This removes your check-ins, streaks and time zone in this server for good.",
            ),
            view=view_of(ConfirmForget(interaction.user.id)),
            ephemeral=True,
        )


async def setup(bot: StrideBot) -> None:
    bot.add_dynamic_items(ConfirmForget)
    await bot.add_cog(Club(bot))


async def teardown(bot: StrideBot) -> None:
    bot.remove_dynamic_items(ConfirmForget)
