"""Putting an exercise's animated figure on an embed: the GIF goes as an attachment and the
embed's image points at it, so it plays inside the card (on phones too)."""

from __future__ import annotations

import io
from typing import Any

import discord

from stride.figures import Figure


def _file(figure: Figure, name: str) -> discord.File:
    return discord.File(io.BytesIO(figure.data), filename=figure.filename,
                        description=f"Animated figure: {name}"[:1024])


def attach(embed: discord.Embed, figure: Figure | None, name: str) -> dict[str, Any]:
    """Keyword arguments for `send_message` / `send`: the embed, with its figure if any."""
    if figure is None:
        return {"embed": embed}
    embed.set_image(url=f"attachment://{figure.filename}")
    return {"embed": embed, "file": _file(figure, name)}


def replace(embed: discord.Embed, figure: Figure | None, name: str) -> dict[str, Any]:
    """Keyword arguments for `edit_message`: the embed, and the attachments replaced by its
    figure (or removed, so a screen without a figure does not keep the last one)."""
    if figure is None:
        return {"embed": embed, "attachments": []}
    embed.set_image(url=f"attachment://{figure.filename}")
    return {"embed": embed, "attachments": [_file(figure, name)]}
