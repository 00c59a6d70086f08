"""Club runs: /runs, and following the server's Discord scheduled events.

Stride caches no servers (no `guilds` intent: memory stays flat however many servers it is
in), and discord.py drops scheduled-event gateway events of servers it has not cached. So
Stride reads those events' raw payloads itself (the GUILD_SCHEDULED_EVENTS intent, not
privileged; discord.py's public `on_socket_raw_receive`), and looks at each /runs server's
event list over REST every ten minutes, and soon after a new gateway session, in case an
event was missed. The rules are the domain's (stride.runs).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from stride.errors import UserError
from stride.records import RunEvent
from stride.runs import MAX_MINUTES, MIN_MINUTES, Runs
from ui.choices import routine_autocomplete
from ui.embeds import notice_embed, shown
from ui.interaction import Interaction
from ui.respond import respond
from ui.run_embeds import runs_list_embed

from .channels import TextChannelOption, channel_for_reminders
from .club import manage_server
from .reminders import DiscordSender, ReminderCog

if TYPE_CHECKING:
    from bot import StrideBot

log = logging.getLogger(__name__)

EVENT_PREFIX = "GUILD_SCHEDULED_EVENT_"


def run_event(data: dict[str, Any]) -> RunEvent | None:
    """A scheduled event's payload as the domain's RunEvent (None if it is malformed)."""
    try:
        start = datetime.fromisoformat(str(data["scheduled_start_time"]))
        metadata = data.get("entity_metadata") or {}
        return RunEvent(
            guild_id=int(data["guild_id"]), event_id=int(data["id"]),
            name=str(data.get("name") or "Run"), starts_at=int(start.timestamp()),
            status=int(data.get("status") or 0),
            location=str(metadata["location"]) if metadata.get("location") else None,
            channel_id=int(data["channel_id"]) if data.get("channel_id") else None,
            recurring=bool(data.get("recurrence_rule")),
        )
    except (KeyError, TypeError, ValueError):
        log.warning("Runs: ignoring a scheduled event Stride cannot read: %.200r", data)
        return None


class RunsCog(commands.Cog, name="Runs"):
    runs_group = app_commands.Group(
        name="runs", description="Posts before the club's runs (its Discord events)",
        guild_only=True,
    )

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot
        self.task: asyncio.Task[None] | None = None
        # Scheduled-event payloads, taken in one at a time in the order they came: handled
        # side by side, a cancel could overtake the create it follows.
        self.heard: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.taking: asyncio.Task[None] | None = None

    @property
    def runs(self) -> Runs:
        return self.bot.runs

    @property
    def sender(self) -> DiscordSender:
        """The reminders' sender: DMs go through its pacing and its known DM channels."""
        cog = self.bot.get_cog("Reminders")
        assert isinstance(cog, ReminderCog)  # loaded before this one (bot.EXTENSIONS)
        return cog.sender

    async def cog_load(self) -> None:
        if self.bot.background:
            self.task = asyncio.create_task(self._follow(), name="stride-runs")
            self.taking = asyncio.create_task(self._take_in(), name="stride-runs-gateway")

    async def cog_unload(self) -> None:
        await self.stop_background()

    async def stop_background(self) -> None:
        tasks = [t for t in (self.task, self.taking) if t is not None]
        self.task = self.taking = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _follow(self) -> None:
        """The periodic looks, from the first READY on: a list read before it could miss
        events of a session not yet open (and READY would have it read again)."""
        await self.bot.wait_until_ready()
        await self.runs.follow(self._my_guilds, self.fetch_events)

    async def _my_guilds(self) -> list[int]:
        """The /runs servers this process looks after (its shards')."""
        shards = self.bot.reminders.shards
        return [g for g in await self.runs.guilds() if shards is None or shards.owns(g)]

    async def fetch_events(self, guild_id: int) -> list[RunEvent] | None:
        """The server's scheduled events as Discord lists them (paced); None if Discord
        could not say."""
        try:
            async with self.bot.pacer.request:
                data = await self.bot.http.get_scheduled_events(guild_id, False)
        except (discord.Forbidden, discord.NotFound) as exc:
            log.warning("Runs: can't read the events of server %s (%s)", guild_id, exc)
            return None
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.info("Runs: events of server %s not read now (%s)", guild_id, exc)
            return None
        events = [run_event(dict(e)) for e in data]
        return [e for e in events if e is not None]

    # --- the gateway ------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_socket_raw_receive(self, message: str | bytes) -> None:
        """Every gateway message, before discord.py parses it: the scheduled-event ones are
        queued for `_take_in` (discord.py would drop them: no server is cached); a new
        session's READY makes its servers' event lists be read again soon. Nothing here
        awaits, so the queue keeps the gateway's order."""
        text = message.decode() if isinstance(message, bytes) else message
        if EVENT_PREFIX not in text and '"READY"' not in text:
            return
        try:
            payload = json.loads(text)
        except ValueError:
            return
        kind, data = payload.get("t"), payload.get("d")
        if not isinstance(kind, str) or not isinstance(data, dict):
            return
        if kind == "READY":
            self.runs.forget_looks([int(g["id"]) for g in data.get("guilds") or []])
        elif kind.startswith(EVENT_PREFIX):
            self.heard.put_nowait((kind, data))

    async def _take_in(self) -> None:
        while True:
            kind, data = await self.heard.get()
            try:
                if kind in (EVENT_PREFIX + "CREATE", EVENT_PREFIX + "UPDATE"):
                    event = run_event(data)
                    if event is not None:
                        await self.runs.seen(event.guild_id, [event], complete=False)
                elif kind == EVENT_PREFIX + "DELETE":
                    await self.runs.removed(int(data["guild_id"]), int(data["id"]))
            except Exception:  # one bad event must not stop the others
                log.exception("Runs: could not follow %s", kind)

    # --- admins -----------------------------------------------------------------------------

    @runs_group.command(name="setup", description="Post before each of the server's runs "
                        "(Manage Server)")
    @app_commands.describe(
        channel="Where the posts go",
        minutes=f"How long before each run starts ({MIN_MINUTES}-{MAX_MINUTES})",
        routine="Always this routine (default: rotate through the pre-run routines)",
        role="Ping this role with each post",
        match="Only events whose name contains this, e.g. run (default: every event)",
    )
    @app_commands.autocomplete(routine=routine_autocomplete)
    @manage_server()
    async def setup_(
        self, interaction: Interaction,
        channel: TextChannelOption,
        minutes: app_commands.Range[int, MIN_MINUTES, MAX_MINUTES],
        routine: str | None = None, role: discord.Role | None = None,
        match: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        if role is not None and (role.guild.id != guild_id or role.is_default()):
            raise UserError(
                "Pick a role of this server to ping, e.g. Runners; not the everyone role.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        target = await channel_for_reminders(self.bot, channel, guild_id)
        settings = await self.runs.setup(guild_id, target.id, minutes, routine,
                                         role.id if role else None, match, interaction.user.id)
        mark = self.runs.mark(guild_id)
        events = await self.fetch_events(guild_id)
        if events is not None:
            await self.runs.seen(guild_id, events, complete=True, replan=True, mark=mark)
        upcoming = await self.runs.upcoming(guild_id)
        which = f"each run whose name contains “{shown(settings.match)}”" if settings.match \
            else "each of the server's events"
        text = f"Stride posts in {target.mention} {minutes} min before {which}."
        if events is None:
            text += "\n\n⚠️ I couldn't read the server's events just now; I'll try again soon."
        else:
            text += (f"\n\nFollowing {len(upcoming)} upcoming run(s). See them with "
                     "`/runs list`; members get theirs by DM with `/runs dm`.")
        await respond(interaction, embed=notice_embed("Runs set up", text), ephemeral=True)

    @runs_group.command(name="off", description="Stop the posts before runs (Manage Server)")
    @manage_server()
    async def off(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        followed = await self.runs.off(interaction.guild_id)
        await interaction.response.send_message(embed=notice_embed(
            "Runs off", f"No more posts before runs here ({followed} event(s) dropped). "
            "Turn them on again with `/runs setup`."), ephemeral=True)

    # --- everyone ---------------------------------------------------------------------------

    @runs_group.command(name="list", description="The upcoming runs and when Stride posts")
    @app_commands.describe(page="Which page, if there are many runs")
    async def list_(self, interaction: Interaction,
                    page: app_commands.Range[int, 1, 100] = 1) -> None:
        assert interaction.guild_id is not None
        settings = await self.runs.require_settings(interaction.guild_id)
        upcoming = await self.runs.upcoming(interaction.guild_id)
        wanted, paused = await self.runs.dm_choice(interaction.guild_id, interaction.user.id)
        await interaction.response.send_message(embed=runs_list_embed(
            settings, upcoming, page, self.bot.catalog, dm_line(wanted, paused)),
            ephemeral=True)

    @runs_group.command(name="dm", description="Get a DM before each run you're Interested in")
    @app_commands.describe(enabled="True: a DM before each run you mark Interested; False: none")
    async def dm(self, interaction: Interaction, enabled: bool) -> None:
        assert interaction.guild_id is not None
        guild_id, user_id = interaction.guild_id, interaction.user.id
        if not enabled:
            await self.runs.set_dm(guild_id, user_id, False)
            await interaction.response.send_message(
                "Run DMs off: you'll see runs in the club's channel only.", ephemeral=True)
            return
        settings = await self.runs.require_settings(guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        sender = self.sender
        try:
            channel_id = await sender.dm_channel(user_id)
            await sender.post(channel_id, embed=notice_embed(
                "Run DMs on", f"I'll message you here {settings.minutes} min before each of "
                "the club's runs you mark **Interested** in Discord."))
        except discord.Forbidden:
            raise UserError(
                "I can't send you direct messages, so run DMs stay off. Allow DMs from this "
                "server (server name → Privacy Settings → Direct Messages), then try again."
            ) from None
        await self.runs.set_dm(guild_id, user_id, True)
        await respond(interaction, embed=notice_embed(
            "Run DMs on", f"A DM {settings.minutes} min before each run you're Interested in "
            "(open the event in Discord and press **Interested**)."), ephemeral=True)


def dm_line(wanted: bool, paused: str | None) -> str:
    if not wanted:
        return "Your run DMs: off (`/runs dm enabled:True` for a DM before runs you're " \
               "Interested in)."
    if paused:
        return f"Your run DMs: stopped, {shown(paused, 150)}. Turn them on again with " \
               "`/runs dm enabled:True`."
    return "Your run DMs: on, for runs you marked Interested."


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(RunsCog(bot))
