"""Answering an interaction whether or not it was answered (or deferred) already."""

from __future__ import annotations

from typing import Any

from .interaction import Interaction


async def respond(interaction: Interaction, **message: Any) -> None:
    """The interaction's response, or a follow-up once it has one ("thinking..." included):
    Discord takes one response per interaction, then follow-ups."""
    if interaction.response.is_done():
        await interaction.followup.send(**message)
    else:
        await interaction.response.send_message(**message)
