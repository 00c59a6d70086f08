"""Pre-run reminders: /reminder for admins (club channels), /remindme for members (DMs)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypedDict

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from stride.catalog import Routine
from stride.errors import UserError
from stride.records import Reminder
from stride.reminders import Outcome, Post, Reminders, from_unix
from stride.schedule import parse_time
from ui.checkin import CheckinButton, firing_tag
from ui.choices import routine_autocomplete, zone_choices
from ui.components import view_of
from ui.embeds import BRAND, notice_embed, shown
from ui.interaction import Interaction
from ui.recap_embeds import nudge_embed
from ui.reminder_embeds import next_text, reminder_embed, reminder_list_embed, schedule_text
from ui.run_embeds import run_embed

from .channels import TextChannelOption, channel_for_reminders
from .club import admin_group, manage_server, recap_post
from .routines import StartRoutine

if TYPE_CHECKING:
    from bot import StrideBot

log = logging.getLogger(__name__)

SEND_WAIT = 6.0  # seconds a stop waits for reminder requests already sent

DM_CLOSED = 50007
MISSING_PERMISSIONS = 50013
LOST_ACCESS = {50001: "Stride can no longer see that channel",
               50013: "Stride lost permission to post in that channel"}
HISTORY_PAGES = 20  # at most this many pages of 100 messages are read to find one post
USERS_PAGE = 100  # Discord's most per page of an event's interested members
USERS_PAGES = 10  # read at most this many pages (1,000 members) for one run's DMs
RUN_GONE = "the run's event was cancelled or deleted"
NOTHING_TO_NUDGE = "no streak to save today (checked in, or it changed)"


class DiscordSender:
    """Posts reminders through the bot's shared `Pacer` (below Discord's global and
    per-channel limits, so a burst never earns a 429), and finds them again after a restart."""

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot
        self.pacer = bot.pacer
        self._dm_channels: dict[int, int] = {}
        self._embeds: dict[str | None, discord.Embed] = {}

    def _embed(self, routine: Routine | None) -> discord.Embed:
        """The reminder embed of a routine, made once (the catalog does not change while the
        bot runs); only the buttons differ from one post to the next."""
        key = routine.id if routine else None
        found = self._embeds.get(key)
        if found is None:
            found = self._embeds[key] = reminder_embed(routine, self.bot.catalog)
        return found

    def ready(self, reminder: Reminder) -> bool:
        if reminder.kind == "dm" or reminder.channel_id is None:
            return True
        return self.pacer.channel(reminder.channel_id).has_capacity()

    async def dm_channel(self, user_id: int) -> int:
        """The DM channel with a member: opened once, then remembered (also across restarts)."""
        known = self._dm_channels.get(user_id) or await self.bot.reminders.known_dm_channel(user_id)
        if known is None:
            async with self.pacer.request:
                data = await self.bot.http.start_private_message(user_id)
            known = int(data["id"])
            await self.bot.reminders.remember_dm_channel(user_id, known)
        self._dm_channels[user_id] = known
        return known

    async def post(self, channel_id: int, *, embed: discord.Embed) -> discord.Message:
        channel = self.bot.get_partial_messageable(channel_id)
        async with self.pacer.channel(channel_id), self.pacer.request:
            return await channel.send(embed=embed)

    async def _message(self, post: Post) -> dict[str, Any] | Outcome:
        """What the firing posts (the arguments of `send`), or the Outcome of not posting it:
        a run's post from its event as last seen (failed: the event is gone); the weekly
        recap, built now, with its chart; a nudge only if it is still due (skipped if not)."""
        reminder = post.reminder
        tag = firing_tag(reminder.id, post.due_at)
        if reminder.purpose == "recap":
            return await recap_post(self.bot, reminder.guild_id, from_unix(post.due_at), tag)
        if reminder.purpose == "nudge":
            nudge = await self.bot.nudges.due(reminder)
            if nudge is None:
                return Outcome("skipped", detail=NOTHING_TO_NUDGE)
            embed = nudge_embed(nudge, post.routine, self.bot.catalog)
        elif reminder.event_id is None:
            embed = self._embed(post.routine)
        else:
            event = await self.bot.runs.event(reminder.guild_id, reminder.event_id)
            if event is None:
                return Outcome("failed", detail=RUN_GONE)
            embed = run_embed(event, post.routine, self.bot.catalog)
        return {**reminder_message(self.bot, reminder, post.routine, tag, embed=embed)}

    async def send(self, post: Post, attempt: Callable[[], Awaitable[None]]) -> Outcome:
        reminder = post.reminder
        message = await self._message(post)
        if isinstance(message, Outcome):
            return message
        try:
            channel_id = await self._channel_of(reminder)
            channel = self.bot.get_partial_messageable(channel_id)
            async with self.pacer.channel(channel_id), self.pacer.request:
                await attempt()
                # The nonce names the firing (discord.py sets enforce_nonce with it): if it is
                # sent again within a few minutes, Discord keeps one.
                try:
                    sent = await channel.send(**message, nonce=post.key)
                except discord.Forbidden as exc:
                    if exc.code != MISSING_PERMISSIONS or "file" not in message:
                        raise
                    # No Attach Files there (an older invite, or the channel takes it away):
                    # Discord refused the whole post, so the recap goes without its chart.
                    log.warning("Reminder %s: no Attach Files in channel %s, posting it "
                                "without its chart", reminder.id, channel_id)
                    async with self.pacer.channel(channel_id), self.pacer.request:
                        sent = await channel.send(**_without_file(message), nonce=post.key)
        except discord.Forbidden as exc:
            if exc.code == DM_CLOSED:
                return Outcome("failed", pause="Stride can't send you direct messages "
                               "(your DMs from this server are closed)", detail=str(exc))
            reason = LOST_ACCESS.get(exc.code, "Stride is not allowed to post there")
            return Outcome("failed", pause=reason, detail=str(exc))
        except discord.NotFound as exc:
            return Outcome("failed", pause="the channel no longer exists", detail=str(exc))
        except (discord.DiscordServerError, aiohttp.ClientError, TimeoutError) as exc:
            return Outcome("retry", detail=f"{type(exc).__name__}: {exc}")
        except discord.HTTPException as exc:
            return Outcome("failed", detail=str(exc))
        return Outcome("sent", message_id=sent.id)

    async def delivered(self, post: Post, outcome: Outcome) -> None:
        """After a run's club post, its DMs: to each member who asked for run DMs and marked
        the event Interested (asked of Discord now, so a late Interested counts). A run DM
        to closed DMs switches the member's run DMs off, saying why."""
        reminder = post.reminder
        if reminder.event_id is None or outcome.detail == RUN_GONE:
            return
        if reminder.kind == "dm":
            if outcome.pause is not None and reminder.user_id is not None:
                await self.bot.runs.dm_closed(reminder.guild_id, reminder.user_id, outcome.pause)
            return
        subscribers = await self.bot.runs.dm_members(reminder.guild_id)
        if not subscribers:
            return  # nobody here wants run DMs: no need to ask who is interested
        try:
            users = await self.interested(reminder.guild_id, reminder.event_id)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Run post %s: could not read who is interested, so no DMs: %s",
                        reminder.id, exc)
            return
        added = await self.bot.runs.fan_out(reminder, users, subscribers)
        if added:
            log.info("Run post %s: %d member DM(s) to send", reminder.id, added)

    async def interested(self, guild_id: int, event_id: int) -> list[int]:
        """Who marked the event Interested, read page by page (paced)."""
        users: list[int] = []
        after: int | None = None
        for _ in range(USERS_PAGES):
            async with self.pacer.request:
                page = await self.bot.http.get_scheduled_event_users(
                    guild_id, event_id, USERS_PAGE, False, after=after)
            users += [int(item["user"]["id"]) for item in page]
            if len(page) < USERS_PAGE:
                break
            after = users[-1]
        return users

    async def _channel_of(self, reminder: Reminder) -> int:
        if reminder.kind == "dm":
            assert reminder.user_id is not None
            return await self.dm_channel(reminder.user_id)
        assert reminder.channel_id is not None
        return reminder.channel_id

    async def find(self, post: Post, since: int, until: int) -> Outcome | None:
        """Read the channel from `since` on for the bot's own message whose Done button names
        this firing (the bot sees its own messages' components without the message content
        intent; reading needs Read Message History)."""
        reminder = post.reminder
        if reminder.kind == "dm":
            assert reminder.user_id is not None
            channel_id = await self.bot.reminders.known_dm_channel(reminder.user_id)
            if channel_id is None:  # no DM channel was ever opened: nothing was sent
                return None
        else:
            assert reminder.channel_id is not None
            channel_id = reminder.channel_id
        tag = firing_tag(reminder.id, post.due_at)
        me = self.bot.user.id if self.bot.user else self.bot.application_id
        channel = self.bot.get_partial_messageable(channel_id)
        after: discord.abc.Snowflake = discord.Object(
            discord.utils.time_snowflake(from_unix(since))
        )
        seen = False  # any message at all: then the history is readable
        try:
            for _ in range(HISTORY_PAGES):
                async with self.pacer.request:
                    page = [m async for m in channel.history(limit=100, after=after,
                                                             oldest_first=True)]
                for message in page:
                    if message.created_at > from_unix(until):
                        return None
                    if message.author.id == me and _names(message, tag):
                        return Outcome("sent", message_id=message.id)
                seen = seen or bool(page)
                if len(page) < 100:
                    return None if seen else await self._unless_unreadable(reminder, channel_id)
                after = page[-1]
        except discord.Forbidden as exc:
            return Outcome("failed", detail=f"Stride can't read that channel's messages "
                           f"(it needs Read Message History): {exc}")
        except discord.NotFound as exc:
            return Outcome("failed", detail=str(exc))
        except (discord.DiscordServerError, aiohttp.ClientError, TimeoutError) as exc:
            return Outcome("retry", detail=f"{type(exc).__name__}: {exc}")
        return Outcome("failed", detail=f"more than {HISTORY_PAGES * 100} messages to read")

    async def _unless_unreadable(self, reminder: Reminder, channel_id: int) -> Outcome | None:
        """None (the post is not there), unless Stride may not read the channel's history:
        Discord then answers every read with no messages, so an empty history proves nothing
        until the bot's permissions say it may read."""
        if reminder.kind == "dm":
            return None
        assert self.bot.user is not None
        async with self.pacer.request:
            guild = await self.bot.fetch_guild(reminder.guild_id)  # with its roles
        async with self.pacer.request:
            me = await guild.fetch_member(self.bot.user.id)
        async with self.pacer.request:
            channel = await guild.fetch_channel(channel_id)
        if channel.permissions_for(me).read_message_history:
            return None
        return Outcome("failed", detail="Stride can't read that channel's messages (it needs "
                       "Read Message History)")


def _without_file(message: dict[str, Any]) -> dict[str, Any]:
    """A post's arguments without its file, and its embed without the image showing it."""
    embed = message["embed"].copy()
    embed.set_image(url=None)
    return {**{k: v for k, v in message.items() if k != "file"}, "embed": embed}


def _names(message: discord.Message, tag: str) -> bool:
    """Whether one of the message's buttons is a Done button naming this firing."""
    return any(
        CheckinButton.firing_of(str(getattr(child, "custom_id", "") or "")) == tag
        for row in message.components for child in getattr(row, "children", [])
    )


class ReminderMessage(TypedDict):
    """A reminder post: the arguments of `Messageable.send`."""

    content: str | None
    embed: discord.Embed
    view: discord.ui.View
    allowed_mentions: discord.AllowedMentions


def reminder_message(bot: StrideBot, reminder: Reminder, routine: Routine | None,
                     firing: str | None = None, *, embed: discord.Embed | None = None
                     ) -> ReminderMessage:
    """The reminder's content, embed, buttons and exactly the mentions it may make; `firing`
    (its tag) goes into the Done button, so the post can be found again after a restart."""
    buttons: list[discord.ui.Item[Any]] = [
        CheckinButton(routine.id if routine else None, label="Done",
                      guild_id=reminder.guild_id if reminder.kind == "dm" else None,
                      firing=firing),
    ]
    if routine is not None:
        buttons.append(StartRoutine(routine.id, label="Show me how"))
    role = discord.Object(reminder.role_id) if reminder.role_id else None
    return {
        "content": f"<@&{reminder.role_id}>" if role else None,
        "embed": embed or reminder_embed(routine, bot.catalog),
        "view": view_of(*buttons),
        # Only the configured role is pinged; never @everyone, other roles or members.
        "allowed_mentions": discord.AllowedMentions(
            everyone=False, users=False, roles=[role] if role else False
        ),
    }


class ReminderCog(commands.Cog, name="Reminders"):
    reminder = admin_group("reminder", "Club pre-run reminders (Manage Server)")
    remindme = app_commands.Group(
        name="remindme", description="Your own pre-run reminder by DM", guild_only=True
    )

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot
        self.sender = DiscordSender(bot)
        self.task: asyncio.Task[None] | None = None

    @property
    def reminders(self) -> Reminders:
        return self.bot.reminders

    async def cog_load(self) -> None:
        if self.bot.background:
            self.task = asyncio.create_task(self._run(), name="stride-reminders")

    async def cog_unload(self) -> None:
        await self.stop_background()

    async def stop_background(self) -> None:
        """Stop the scheduler: nothing new fires; requests already sent are waited for (at
        most SEND_WAIT seconds) and every finished send is recorded; a send cut short is
        looked for in its channel after the next start, and sent only if it is not there."""
        if self.task is not None:
            task, self.task = self.task, None
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await self.reminders.stop(SEND_WAIT)

    async def _run(self) -> None:
        while True:
            try:
                await self.reminders.run(self.sender)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("The reminder scheduler stopped; restarting it in 10 s")
                await asyncio.sleep(10)

    # --- admins ---------------------------------------------------------------------------

    @reminder.command(name="add", description="Post a pre-run reminder in a channel")
    @app_commands.describe(
        channel="Where to post it",
        time="Local time, e.g. 6:30, 6:30am or 18:30",
        days="e.g. mon,wed,fri, weekdays or weekends (default: every day)",
        timezone="Default: the club's time zone",
        role="Ping this role with the reminder",
        routine="Always this routine (default: rotate through the pre-run routines)",
    )
    @app_commands.autocomplete(timezone=zone_choices, routine=routine_autocomplete)
    @manage_server()
    async def add(
        self, interaction: Interaction,
        channel: TextChannelOption,
        time: str,
        days: str | None = None, timezone: str | None = None, role: discord.Role | None = None,
        routine: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        if role is not None and (role.guild.id != interaction.guild_id or role.is_default()):
            raise UserError(
                "Pick a role of this server to ping, e.g. Runners; not the everyone role."
            )
        if routine is not None:
            self.bot.catalog.require_routine(routine)
        target = await channel_for_reminders(self.bot, channel, interaction.guild_id)
        created = await self.reminders.add_club(
            interaction.guild_id, target.id, time, days, timezone,
            role.id if role else None, routine, interaction.user.id,
        )
        text = (f"In {target.mention} at {schedule_text(created)}; {next_text(created)}.\n"
                f"Preview it with `/reminder test id:{created.id}`.")
        if role is not None and not role.mentionable:
            text += (f"\n\n⚠️ {role.mention} can't be mentioned by others, so the reminder won't "
                     "notify its members. To fix it: Server Settings → Roles → "
                     f"{shown(role.name)} → turn on *Allow anyone to @mention this role*.")
        await interaction.response.send_message(
            embed=notice_embed(f"Reminder #{created.id} added", text), ephemeral=True
        )

    @reminder.command(name="list", description="The club's reminders and when they fire next")
    @manage_server()
    async def list_(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        found = await self.reminders.club_reminders(interaction.guild_id)
        await interaction.response.send_message(
            embed=reminder_list_embed(found, self.bot.catalog), ephemeral=True
        )

    @reminder.command(name="remove", description="Delete a reminder")
    @app_commands.describe(id="The reminder's number, from /reminder list")
    @manage_server()
    async def remove(self, interaction: Interaction, id: int) -> None:
        assert interaction.guild_id is not None
        found = await self.reminders.get(interaction.guild_id, id)
        await self.reminders.remove(found)
        await interaction.response.send_message(f"Reminder #{id} deleted.", ephemeral=True)

    @reminder.command(name="pause", description="Stop a reminder until you resume it")
    @app_commands.describe(id="The reminder's number, from /reminder list")
    @manage_server()
    async def pause(self, interaction: Interaction, id: int) -> None:
        assert interaction.guild_id is not None
        found = await self.reminders.get(interaction.guild_id, id)
        await self.reminders.pause(found, f"paused by {interaction.user.display_name}"[:100])
        await interaction.response.send_message(f"Reminder #{id} paused.", ephemeral=True)

    @reminder.command(name="resume", description="Start a paused reminder again")
    @app_commands.describe(id="The reminder's number, from /reminder list")
    @manage_server()
    async def resume(self, interaction: Interaction, id: int) -> None:
        assert interaction.guild_id is not None
        found = await self.reminders.resume(
            await self.reminders.get(interaction.guild_id, id)
        )
        await interaction.response.send_message(
            f"Reminder #{id} resumed: {next_text(found)}.", ephemeral=True
        )

    @reminder.command(name="test", description="Post a reminder now, to preview it")
    @app_commands.describe(id="The reminder's number, from /reminder list")
    @manage_server()
    async def test(self, interaction: Interaction, id: int) -> None:
        assert interaction.guild_id is not None
        found = await self.reminders.get(interaction.guild_id, id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        routine = self.reminders.routine_for(found, found.fired)
        post = Post(found, int(discord.utils.utcnow().timestamp()), routine)
        outcome = await self.sender.send(post, _no_record)
        if outcome.status == "sent":
            text = f"Posted reminder #{id} in <#{found.channel_id}>."
        else:
            text = f"Couldn't post it: {outcome.pause or outcome.detail}."
        await interaction.followup.send(text, ephemeral=True)

    # --- members ----------------------------------------------------------------------------

    @remindme.command(name="set", description="Get a DM before your run, in your time zone")
    @app_commands.describe(
        time="Your local time, e.g. 6:30, 6:30am or 18:30",
        days="e.g. mon,wed,fri, weekdays or weekends (default: every day)",
    )
    async def remindme_set(
        self, interaction: Interaction, time: str, days: str | None = None
    ) -> None:
        assert interaction.guild_id is not None
        draft = await self.reminders.draft_personal(
            interaction.guild_id, interaction.user.id, time, days
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            channel_id = await self.sender.dm_channel(interaction.user.id)
            await self.sender.post(channel_id, embed=notice_embed(
                "Reminders on",
                f"I'll remind you here at {schedule_text(draft)}: {next_text(draft)}.",
            ))
        except discord.Forbidden:
            raise UserError(
                "I can't send you direct messages, so I haven't set the reminder. Allow DMs "
                "from this server (server name → Privacy Settings → Direct Messages), then "
                "try again."
            ) from None
        await self.reminders.save(draft)
        await interaction.followup.send(
            embed=notice_embed("Reminder set", f"I'll DM you at {schedule_text(draft)}."),
            ephemeral=True,
        )

    @remindme.command(name="off", description="Stop your DM reminder")
    async def remindme_off(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        found = await self.reminders.personal(interaction.guild_id, interaction.user.id)
        if found is None:
            raise UserError("You have no DM reminder here. Set one with `/remindme set`.")
        await self.reminders.remove(found)
        await interaction.response.send_message("Your DM reminder is off.", ephemeral=True)

    @remindme.command(name="show", description="Your DM reminder and nudge, and when they come")
    async def remindme_show(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        found = await self.reminders.personal(interaction.guild_id, interaction.user.id)
        if found is None:
            text = "You have no DM reminder here. Set one with `/remindme set time:6:30am`."
        else:
            text = f"At {schedule_text(found)}: {next_text(found)}."
        nudge = await self.bot.nudges.get(interaction.guild_id, interaction.user.id)
        embed = discord.Embed(title="Your reminder", description=text, colour=BRAND)
        embed.add_field(name="Nudge before a streak ends", value=nudge_text(nudge), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @remindme.command(name="nudge",
                      description="A DM on the last day your streak survives, if you haven't "
                                  "checked in")
    @app_commands.describe(enabled="Turn the nudge on or off",
                           time="Your local time for it, e.g. 20:00 or 7pm (default 20:00)")
    async def remindme_nudge(self, interaction: Interaction, enabled: bool,
                             time: str | None = None) -> None:
        assert interaction.guild_id is not None
        nudges = self.bot.nudges
        if not enabled:
            await nudges.disable(interaction.guild_id, interaction.user.id)
            await interaction.response.send_message("Your nudge is off.", ephemeral=True)
            return
        if time is not None:
            parse_time(time)  # a bad time is refused before anything is sent
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            channel_id = await self.sender.dm_channel(interaction.user.id)
            await self.sender.post(channel_id, embed=notice_embed(
                "Nudges on",
                "On the last day your streak survives, if you haven't checked in yet, I'll "
                "message you here once. Never for a streak of 0 or 1 days.",
            ))
        except discord.Forbidden:
            raise UserError(
                "I can't send you direct messages, so the nudge is not on. Allow DMs from "
                "this server (server name → Privacy Settings → Direct Messages), then try "
                "again."
            ) from None
        saved = await nudges.enable(interaction.guild_id, interaction.user.id, time)
        self.reminders.wake()
        await interaction.followup.send(
            embed=notice_embed("Nudge on", nudge_text(saved)), ephemeral=True)

def nudge_text(nudge: Reminder | None) -> str:
    """The member's nudge as /remindme show tells it."""
    if nudge is None:
        return "Off. Turn it on with `/remindme nudge enabled:True`."
    when = f"{nudge.at} ({nudge.timezone or 'UTC'})"
    if nudge.paused:
        return f"Switched off: {shown(nudge.paused, 120)}. Turn it on again with " \
               "`/remindme nudge enabled:True`."
    if nudge.next_due is None:
        return (f"On, at {when}, on the last day a streak of 2 days or more survives. "
                "Nothing to nudge right now.")
    return (f"On, at {when}. Next: <t:{nudge.next_due}:f> (<t:{nudge.next_due}:R>), unless "
            "you check in first.")


async def _no_record() -> None:
    """A preview is not a scheduled firing: there is no attempt to record."""


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(ReminderCog(bot))
