"""Autocomplete shared by several commands: time zones and routines."""

from __future__ import annotations

from discord import app_commands

from stride.catalog import Catalog
from stride.timezones import search_zones

from .embeds import clip
from .interaction import Interaction


async def zone_choices(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """IANA zones matching what the member typed (popular ones first for an empty box)."""
    return [app_commands.Choice(name=z, value=z) for z in search_zones(current, limit=25)]


def routine_choices(catalog: Catalog, current: str, prefix: str = ""
                    ) -> list[app_commands.Choice[str]]:
    """Routines whose name or id contains what the member typed."""
    needle = current.casefold().strip()
    return [
        app_commands.Choice(name=clip(f"{prefix}{r.name} (about {r.minutes} min)", 100),
                            value=r.id)
        for r in catalog.routines
        if needle in r.name.casefold() or needle in r.id
    ][:25]


async def routine_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return routine_choices(interaction.client.catalog, current)
