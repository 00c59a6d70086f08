"""What reminders look like: the posted reminder, and the admin's list."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import discord

from stride.catalog import Catalog, Routine
from stride.records import Reminder
from stride.schedule import describe_days, mask_to_days

from .embeds import BRAND, add_list_field, clip, fit, numbered, safety_footer, shown


def reminder_embed(routine: Routine | None, catalog: Catalog) -> discord.Embed:
    """The reminder itself: today's routine, how long it takes, and the safety note."""
    if routine is None:
        embed = discord.Embed(
            title="Time to switch on before your run",
            description="A few minutes of activation before you head out. Try `/routine`.",
            colour=BRAND,
        )
        return fit(safety_footer(embed, catalog))
    embed = discord.Embed(
        title=f"Before you run: {routine.name} (about {routine.minutes} min)",
        description=f"{routine.summary}\n\nPress **Done** when you've done it, or "
        "**Show me how** to be walked through it.",
        colour=BRAND,
    )
    add_list_field(embed, "Today's moves",
                   numbered(f"{step.name}: {step.dose}" for step in routine.steps))
    return fit(safety_footer(embed, catalog))


def schedule_text(reminder: Reminder) -> str:
    days = describe_days(mask_to_days(reminder.days))
    return f"{reminder.at} {days} ({reminder.timezone or 'UTC'})"


def next_text(reminder: Reminder) -> str:
    """When it fires next: local time, and a Discord timestamp each reader sees in their zone."""
    if reminder.next_due is None:
        # The reason can hold a member's display name ("paused by ..."): never shown raw.
        return f"paused: {shown(reminder.paused, 120)}" if reminder.paused else "paused"
    local = datetime.fromtimestamp(reminder.next_due, ZoneInfo(reminder.timezone or "UTC"))
    return f"next {local:%a %d %b %H:%M} {reminder.timezone or 'UTC'} (<t:{reminder.next_due}:R>)"


def reminder_list_embed(reminders: list[Reminder], catalog: Catalog) -> discord.Embed:
    embed = discord.Embed(title="Club reminders", colour=BRAND)
    if not reminders:
        embed.description = "None yet. Add one with `/reminder add`."
        return embed
    for r in reminders[:25]:
        routine = catalog.routine(r.routine) if r.routine else None
        parts = [f"<#{r.channel_id}> at {schedule_text(r)}", next_text(r)]
        parts.append(f"routine: {routine.name if routine else 'rotating'}")
        if r.role_id:
            parts.append(f"pings <@&{r.role_id}>")
        embed.add_field(name=clip(f"#{r.id}", 256), value=clip("\n".join(parts), 1024),
                        inline=False)
    return fit(embed)
