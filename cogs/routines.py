"""Ready-made routines and the guided walk-through: /routine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from stride.catalog import Catalog, Routine
from stride.errors import UserError
from stride.figures import Figure, FigureLibrary
from ui.checkin import CheckinButton
from ui.choices import routine_autocomplete
from ui.components import PersistentButton, view_of
from ui.custom_id import SLUG, CustomId
from ui.embeds import (
    routine_embed,
    routine_list_embed,
    walkthrough_done_embed,
    walkthrough_embed,
)
from ui.figures import attach, replace
from ui.interaction import Interaction

if TYPE_CHECKING:
    from bot import StrideBot


def _routine(interaction: Interaction, routine_id: str) -> tuple[Catalog, Routine]:
    catalog = interaction.client.catalog
    routine = catalog.routine(routine_id)
    if routine is None:
        raise UserError(
            "That routine is no longer in the club's library. See `/routine` for the current ones."
        )
    return catalog, routine


@dataclass(frozen=True, slots=True)
class Screen:
    """One screen of the walk-through: the card, its buttons, and the move's figure."""

    embed: discord.Embed
    view: discord.ui.View
    figure: Figure | None = None
    name: str = ""


def walkthrough_screen(
    catalog: Catalog, figures: FigureLibrary, routine: Routine, index: int
) -> Screen:
    """Screen `index` of the walk-through: one per step, then the Done screen at len(steps)."""
    last = len(routine.steps)
    index = min(max(index, 0), last)
    if index == last:
        return Screen(walkthrough_done_embed(routine, catalog), view_of(
            WalkStep(routine.id, last - 1, "b", label="Back"),
            WalkStep(routine.id, 0, "s", label="Start over"),
            CheckinButton(routine.id),
        ))
    next_label = "Next" if index + 1 < last else "Finish"
    exercise = routine.steps[index].exercise
    return Screen(walkthrough_embed(routine, index, catalog), view_of(
        WalkStep(routine.id, max(index - 1, 0), "b", label="Back", disabled=index == 0),
        WalkStep(routine.id, index + 1, "n", label=next_label),
    ), figures.get(exercise.id), exercise.name)


class StartRoutine(
    PersistentButton, custom_id=CustomId("stride:start:{routine_id}", routine_id=SLUG)
):
    """The Start button under a routine: opens the member's own (ephemeral) walk-through."""

    def __init__(self, routine_id: str, label: str = "Start") -> None:
        super().__init__(
            self.custom_ids.format(routine_id=routine_id), label=label, emoji="▶️",
            style=discord.ButtonStyle.success,
        )
        self.routine_id = routine_id

    @classmethod
    def from_state(cls, routine_id: str) -> StartRoutine:
        return cls(routine_id)

    async def run(self, interaction: Interaction) -> None:
        catalog, routine = _routine(interaction, self.routine_id)
        screen = walkthrough_screen(catalog, interaction.client.figures, routine, 0)
        await interaction.response.send_message(
            **attach(screen.embed, screen.figure, screen.name), view=screen.view, ephemeral=True
        )


class WalkStep(
    PersistentButton,
    custom_id=CustomId(
        "stride:walk:{routine_id}:{index}:{move}", routine_id=SLUG, index=r"\d{1,2}", move="[bns]"
    ),
):
    """Back / Next / Start over inside a walk-through; edits the screen in place."""

    def __init__(
        self, routine_id: str, index: int, move: str, *, label: str = "Go",
        disabled: bool = False,
    ) -> None:
        style = discord.ButtonStyle.primary if move == "n" else discord.ButtonStyle.secondary
        super().__init__(
            self.custom_ids.format(routine_id=routine_id, index=index, move=move), label=label,
            style=style, disabled=disabled,
        )
        self.routine_id, self.index = routine_id, index

    @classmethod
    def from_state(cls, routine_id: str, index: str, move: str) -> WalkStep:
        return cls(routine_id, int(index), move)

    async def run(self, interaction: Interaction) -> None:
        catalog, routine = _routine(interaction, self.routine_id)
        screen = walkthrough_screen(catalog, interaction.client.figures, routine, self.index)
        await interaction.response.edit_message(
            **replace(screen.embed, screen.figure, screen.name), view=screen.view
        )


class Routines(commands.Cog):
    """Ready-made routines with a guided, step-by-step walk-through."""

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="routine", description="Ready-made routines with a guided walk-through"
    )
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(name="The routine, e.g. quick or full; leave empty to list them all")
    @app_commands.autocomplete(name=routine_autocomplete)
    async def routine(self, interaction: Interaction, name: str | None = None) -> None:
        catalog = self.bot.catalog
        if name is None:
            await interaction.response.send_message(embed=routine_list_embed(catalog))
            return
        routine = catalog.require_routine(name)
        await interaction.response.send_message(
            embed=routine_embed(routine, catalog), view=view_of(StartRoutine(routine.id))
        )


async def setup(bot: StrideBot) -> None:
    bot.add_dynamic_items(StartRoutine, WalkStep)
    await bot.add_cog(Routines(bot))


async def teardown(bot: StrideBot) -> None:
    bot.remove_dynamic_items(StartRoutine, WalkStep)
