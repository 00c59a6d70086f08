"""The exercise library: /exercise, /exercises and /form."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from stride.catalog import CATEGORIES, Catalog
from stride.errors import UserError
from ui.components import PersistentButton, pager_look, view_of
from ui.custom_id import PAGER, SLUG, CustomId
from ui.embeds import (
    category_page_embed,
    clip,
    exercise_embed,
    form_embed,
    library_embed,
    notice_embed,
    shown,
)
from ui.figures import attach
from ui.interaction import Interaction

if TYPE_CHECKING:
    from bot import StrideBot

PAGE_SIZE = 6
CATEGORY_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in CATEGORIES.items()]


class ShowExercise(
    PersistentButton, custom_id=CustomId("stride:ex:{exercise_id}", exercise_id=SLUG)
):
    """Opens one exercise for the member who clicked (used by 'did you mean' answers)."""

    def __init__(self, exercise_id: str, label: str = "Show") -> None:
        super().__init__(
            self.custom_ids.format(exercise_id=exercise_id), label=clip(label, 80),
            style=discord.ButtonStyle.secondary,
        )
        self.exercise_id = exercise_id

    @classmethod
    def from_state(cls, exercise_id: str) -> ShowExercise:
        return cls(exercise_id)

    async def run(self, interaction: Interaction) -> None:
        catalog = interaction.client.catalog
        exercise = catalog.get(self.exercise_id)
        if exercise is None:
            raise UserError("That exercise is no longer in the club's library.")
        figure = interaction.client.figures.get(exercise.id)
        await interaction.response.send_message(
            **attach(exercise_embed(exercise, catalog), figure, exercise.name), ephemeral=True
        )


class BrowsePage(
    PersistentButton,
    custom_id=CustomId(
        "stride:browse:{category}:{page}:{direction}",
        category=r"[a-z]{1,20}", page=r"\d{1,3}", direction=PAGER,
    ),
):
    """Prev/Next on a category listing."""

    def __init__(self, category: str, page: int, direction: str, *, disabled: bool) -> None:
        super().__init__(
            self.custom_ids.format(category=category, page=page, direction=direction),
            **pager_look(direction), disabled=disabled,
        )
        self.category, self.page = category, page

    @classmethod
    def from_state(cls, category: str, page: str, direction: str) -> BrowsePage:
        return cls(category, int(page), direction, disabled=False)

    async def run(self, interaction: Interaction) -> None:
        if self.category not in CATEGORIES:
            raise UserError("That category is no longer in the library.")
        embed, view = category_page(interaction.client.catalog, self.category, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


def category_page(
    catalog: Catalog, category: str, page: int
) -> tuple[discord.Embed, discord.ui.View | None]:
    """One page of a category listing, with Prev/Next when there is more than one page."""
    entries = catalog.in_category(category)
    pages = max(1, math.ceil(len(entries) / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    on_page = entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    embed = category_page_embed(catalog, category, page, pages, on_page)
    if pages == 1:
        return embed, None
    return embed, view_of(
        BrowsePage(category, max(page - 1, 0), "p", disabled=page == 0),
        BrowsePage(category, min(page + 1, pages - 1), "n", disabled=page == pages - 1),
    )


class Library(commands.Cog):
    """Look up exercises, browse the library, and read the running-form checklist."""

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @property
    def catalog(self) -> Catalog:
        return self.bot.catalog

    @app_commands.command(
        name="exercise", description="How to do an exercise: steps, cues, dose, a figure doing it"
    )
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(name="The exercise, e.g. clams or lunge matrix")
    async def exercise(self, interaction: Interaction, name: str) -> None:
        found = self.catalog.resolve(name)
        if found is not None:
            figure = self.bot.figures.get(found.id)
            await interaction.response.send_message(
                **attach(exercise_embed(found, self.catalog), figure, found.name)
            )
            return
        suggestions = self.catalog.suggest(name)
        names = ", ".join(e.name for e in suggestions)
        text = (
            f"I don't know an exercise called **{shown(name)}**."
            f"\nDid you mean: {names}?\n\nBrowse everything with `/exercises`."
        )
        await interaction.response.send_message(
            embed=notice_embed("Exercise not found", text),
            view=view_of(*(ShowExercise(e.id, f"Show {e.name}") for e in suggestions)),
            ephemeral=True,
        )

    @exercise.autocomplete("name")
    async def exercise_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=clip(m.exercise.name, 100), value=m.exercise.id)
            for m in self.catalog.search(current, limit=25)
        ]

    @app_commands.command(name="exercises", description="Browse the exercise library by category")
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(category="Show only this category")
    @app_commands.choices(category=CATEGORY_CHOICES)
    async def exercises(
        self, interaction: Interaction, category: app_commands.Choice[str] | None = None
    ) -> None:
        if category is None:
            await interaction.response.send_message(
                embed=library_embed(self.catalog), ephemeral=True
            )
            return
        embed, view = category_page(self.catalog, category.value, 0)
        if view is None:
            await interaction.response.send_message(embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    @app_commands.command(name="form", description="The running-form checklist")
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def form(self, interaction: Interaction) -> None:
        entries = self.catalog.in_category("form")
        if not entries:
            raise UserError("The club's library has no running-form entry.")
        form = self.catalog.get("running-form") or entries[0]
        figure = self.bot.figures.get(form.id)
        await interaction.response.send_message(
            **attach(form_embed(form, self.catalog), figure, form.name)
        )


async def setup(bot: StrideBot) -> None:
    bot.add_dynamic_items(ShowExercise, BrowsePage)
    await bot.add_cog(Library(bot))


async def teardown(bot: StrideBot) -> None:
    bot.remove_dynamic_items(ShowExercise, BrowsePage)
