"""Buttons that keep working after a restart: their state lives in the custom_id."""

from __future__ import annotations

from typing import Any

import discord

from .errors import Restarting, report_error


class PersistentButton(discord.ui.DynamicItem[discord.ui.Button], template=r"stride:base"):
    """Base for Stride's buttons: rebuilt from the custom_id; errors go to the one handler.

    Subclasses set `template` (a regex whose named groups are the state) and implement `run`.
    """

    def __init__(self, custom_id: str, *, label: str, style: discord.ButtonStyle,
                 disabled: bool = False, emoji: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=custom_id, disabled=disabled, emoji=emoji
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: Any, /
    ) -> PersistentButton:
        return cls.from_state(**match.groupdict())

    @classmethod
    def from_state(cls, **state: str) -> PersistentButton:
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        try:
            # Tracked until done, so stopping waits for it; refused once the bot is stopping.
            if not interaction.client.inflight.admit():  # type: ignore[attr-defined]
                raise Restarting()
            await self.run(interaction)
        except Exception as exc:
            await report_error(interaction, exc)

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


def view_of(*buttons: discord.ui.Item, timeout: float | None = None) -> discord.ui.View:
    """A view holding `buttons` in order (discord.py lays them out, five to a row)."""
    view = discord.ui.View(timeout=timeout)
    for button in buttons:
        view.add_item(button)
    # Every Stride button is a DynamicItem, dispatched by its custom_id; a stopped view is still
    # sent as components, but discord.py does not keep it (it would hold ephemeral views with
    # a 15-minute timer each, a steady memory growth under load).
    view.stop()
    return view


def pager_look(direction: str) -> dict[str, Any]:
    """Label, emoji and style of a Prev ('p') or Next ('n') paging button."""
    back = direction == "p"
    return {"label": "Prev" if back else "Next", "emoji": "◀️" if back else "▶️",
            "style": discord.ButtonStyle.secondary}
