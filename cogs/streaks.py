"""Check-ins, streaks and leaderboards: /checkin, /streak, /leaderboard, /timezone."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from stride.errors import UserError
from stride.heatmap import render_heatmap
from stride.records import BOARDS, PERIODS
from ui.checkin import CheckinButton, UndoCheckin, do_checkin
from ui.choices import routine_choices, zone_choices
from ui.components import PersistentButton, pager_look, view_of
from ui.custom_id import PAGER, CustomId
from ui.embeds import shown
from ui.interaction import Interaction
from ui.members import GuildMembers
from ui.streak_embeds import board_embed, streak_embed, undo_embed

if TYPE_CHECKING:
    from bot import StrideBot

BOARD_CHOICES = [
    app_commands.Choice(name="Current streak", value="streak"),
    app_commands.Choice(name="Longest streak", value="best"),
    app_commands.Choice(name="Check-ins", value="checkins"),
]
PERIOD_CHOICES = [
    app_commands.Choice(name="This week", value="week"),
    app_commands.Choice(name="This month", value="month"),
    app_commands.Choice(name="All time", value="all"),
]


class BoardPageButton(
    PersistentButton,
    custom_id=CustomId(
        "stride:board:{board}:{period}:{page}:{direction}",
        board=r"[a-z]{1,10}", period=r"[a-z]{1,5}", page=r"\d{1,5}", direction=PAGER,
    ),
):
    """Prev/Next under a leaderboard: works for anyone, and after a restart."""

    def __init__(
        self, board: str, period: str, page: int, direction: str, *, disabled: bool
    ) -> None:
        super().__init__(
            self.custom_ids.format(board=board, period=period, page=page, direction=direction),
            **pager_look(direction), disabled=disabled,
        )
        self.board, self.period, self.page = board, period, page

    @classmethod
    def from_state(cls, board: str, period: str, page: str, direction: str) -> BoardPageButton:
        return cls(board, period, int(page), direction, disabled=False)

    async def run(self, interaction: Interaction) -> None:
        if self.board not in BOARDS or self.period not in PERIODS or interaction.guild_id is None:
            return
        embed, view = await board_screen(interaction, self.board, self.period, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


async def board_screen(
    interaction: Interaction, board: str, period: str, page: int
) -> tuple[discord.Embed, discord.ui.View]:
    guild_id, caller = interaction.guild_id, interaction.user.id
    assert guild_id is not None
    bot = interaction.client
    # Without the Server Members intent the page's members are looked up before it is shown.
    directory = GuildMembers(interaction.guild, bot.pacer) if interaction.guild else None
    found = await bot.membership.board(
        lambda: bot.checkins.board(guild_id, caller, board, period, page),
        guild_id, caller, directory,
    )
    # Servers are not cached (no `guilds` intent): the name is there only if Discord sent it.
    guild_name = getattr(interaction.guild, "name", None)
    embed = board_embed(found, guild_name, interaction.user.id)
    view = view_of(
        BoardPageButton(board, period, max(found.page - 1, 0), "p", disabled=found.page == 0),
        BoardPageButton(
            board,
            period,
            found.page + 1 if found.has_next else found.page,
            "n",
            disabled=not found.has_next,
        ),
    )
    return embed, view


class Streaks(commands.Cog):
    """Check in, see your streak, and see how the club is doing."""

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @app_commands.command(name="checkin", description="Record that you did your activation today")
    @app_commands.describe(
        what="Optional: the routine or exercise you did",
        undo="Take back today's check-in instead",
    )
    @app_commands.guild_only()
    async def checkin(
        self, interaction: Interaction, what: str | None = None, undo: bool = False
    ) -> None:
        assert interaction.guild_id is not None
        if undo:
            undone = await self.bot.checkins.undo(interaction.guild_id, interaction.user.id)
            await interaction.response.send_message(embed=undo_embed(undone), ephemeral=True)
            return
        if what is not None:
            what = self._known_what(what)
        await do_checkin(interaction, what, public=True)

    def _known_what(self, what: str) -> str:
        catalog = self.bot.catalog
        routine = catalog.routine(what)
        if routine:
            return routine.id
        exercise = catalog.resolve(what)
        if exercise:
            return exercise.id
        names = ", ".join(r.id for r in catalog.routines)
        raise UserError(
            f"I don't know a routine or exercise called **{shown(what)}**."
            f" Try a routine ({names}) or leave `what` empty."
        )

    @checkin.autocomplete("what")
    async def checkin_what(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        catalog = self.bot.catalog
        choices = routine_choices(catalog, current, prefix="Routine: ")
        choices += [
            app_commands.Choice(name=m.exercise.name[:100], value=m.exercise.id)
            for m in catalog.search(current, limit=25)
        ]
        return choices[:25]

    @app_commands.command(name="streak", description="Your streak figures and a 12-week calendar")
    @app_commands.describe(member="Someone else in the server (default: you)")
    @app_commands.guild_only()
    async def streak(
        self, interaction: Interaction, member: discord.User | None = None
    ) -> None:
        assert interaction.guild_id is not None
        who = member or interaction.user
        view = await self.bot.checkins.member_view(interaction.guild_id, who.id)
        embed = streak_embed(who, view, self_view=who.id == interaction.user.id)
        # The figures go out at once; the calendar (a few ms of drawing) follows as an edit.
        await interaction.response.send_message(embed=embed)
        if view.figures.total == 0:
            return
        png = await asyncio.to_thread(render_heatmap, view.recent_days, view.today)
        embed.set_image(url="attachment://streak.png")
        await interaction.edit_original_response(
            embed=embed, attachments=[discord.File(io.BytesIO(png), filename="streak.png")]
        )

    @app_commands.command(name="leaderboard", description="The club's leaderboards")
    @app_commands.describe(board="What to rank by", period="Over which time")
    @app_commands.choices(board=BOARD_CHOICES, period=PERIOD_CHOICES)
    @app_commands.guild_only()
    async def leaderboard(
        self,
        interaction: Interaction,
        board: app_commands.Choice[str] | None = None,
        period: app_commands.Choice[str] | None = None,
    ) -> None:
        embed, view = await board_screen(
            interaction,
            board.value if board else "streak",
            period.value if period else "all",
            0,
        )
        await interaction.response.send_message(embed=embed, view=view)

    @app_commands.command(name="timezone", description="Set your time zone, so 'today' is yours")
    @app_commands.describe(zone="An IANA time zone such as Europe/Berlin or America/New_York")
    @app_commands.autocomplete(zone=zone_choices)
    @app_commands.guild_only()
    async def timezone(self, interaction: Interaction, zone: str) -> None:
        assert interaction.guild_id is not None
        effective = await self.bot.checkins.set_timezone(
            interaction.guild_id, interaction.user.id, zone
        )
        await self.bot.reminders.member_zone_changed(
            interaction.guild_id, interaction.user.id, effective
        )
        await self.bot.nudges.refresh(interaction.guild_id, interaction.user.id)
        self.bot.reminders.wake()
        await interaction.response.send_message(
            f"Your time zone is now **{effective}**. Your check-ins count by your local day.",
            ephemeral=True,
        )

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.bot.checkins.member_left(payload.guild_id, payload.user.id)
        await self.bot.nudges.member_left(payload.guild_id, payload.user.id)

    async def cog_unload(self) -> None:
        await self.bot.membership.close()  # member look-ups still running


async def setup(bot: StrideBot) -> None:
    bot.add_dynamic_items(UndoCheckin, CheckinButton, BoardPageButton)
    await bot.add_cog(Streaks(bot))


async def teardown(bot: StrideBot) -> None:
    bot.remove_dynamic_items(UndoCheckin, CheckinButton, BoardPageButton)
