"""Buttons that keep working after a restart: their state lives in the custom_id."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Self

import discord

from .custom_id import CustomId
from .errors import Restarting, report_error
from .interaction import Interaction


class PersistentButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"stride:base"
):
    """Base for Stride's buttons: rebuilt from the custom_id; errors go to the one handler.

    A subclass declares its custom_id in the class statement (`custom_id=CustomId(...)`, whose
    named fields are the state; discord.py matches its regex), builds it with
    `self.custom_ids.format(...)`, is rebuilt from the state by `from_state` and implements
    `run`. A button only some members may press extends `interaction_check`.
    """

    custom_ids: ClassVar[CustomId]

    def __init_subclass__(cls, *, custom_id: CustomId) -> None:
        super().__init_subclass__(template=custom_id.regex)
        cls.custom_ids = custom_id

    def __init__(self, custom_id: str, *, label: str, style: discord.ButtonStyle,
                 disabled: bool = False, emoji: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=custom_id, disabled=disabled, emoji=emoji
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls.from_state(**match.groupdict())

    @classmethod
    def from_state(cls, *args: Any, **state: Any) -> Self:
        """The button for the state in its custom_id (each field a str, or None if unset)."""
        raise NotImplementedError

    # discord.py types the hooks (interaction_check, callback) for interactions of any client,
    # hence the ignores on each override: Stride's buttons are registered on the StrideBot
    # only (bot.add_dynamic_items in the cogs' setup), so its interactions are Interaction.
    async def interaction_check(  # type: ignore[override]
        self, interaction: Interaction, /
    ) -> bool:
        """Admission, before anything else: the interaction is tracked until it is done, so
        stopping waits for it; once the bot is stopping it is refused ("restarting").

        A subclass that checks who pressed overrides this: it calls it first, then answers
        a refusal with `refuse` (discord.py drops the press silently when the check returns
        False, and also when it raises: no error reaches the handler from here)."""
        if interaction.client.inflight.admit():
            return True
        await report_error(interaction, Restarting())
        return False

    async def only_for(self, interaction: Interaction, user_id: int, refusal: str) -> bool:
        """`interaction_check` of a button that only one member may press, in a server:
        admission first, then the owner; anyone else is told `refusal`."""
        if not await PersistentButton.interaction_check(self, interaction):
            return False
        if interaction.user.id == user_id and interaction.guild_id is not None:
            return True
        return await self.refuse(interaction, refusal)

    async def refuse(self, interaction: Interaction, text: str) -> bool:
        """Tell only the member who pressed why the button does nothing for them; False, for
        `interaction_check` to return."""
        try:
            await interaction.response.send_message(text, ephemeral=True)
        except Exception as exc:
            await report_error(interaction, exc)
        return False

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        try:
            await self.run(interaction)
        except Exception as exc:
            await report_error(interaction, exc)

    async def run(self, interaction: Interaction) -> None:
        raise NotImplementedError


def view_of(*buttons: discord.ui.Item[Any], timeout: float | None = None) -> discord.ui.View:
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
