"""What club runs look like: the pre-run post, and /runs list."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from stride.catalog import Catalog, Routine
from stride.records import RunEvent, RunSettings
from stride.runs import UpcomingRun

from .embeds import (
    BRAND,
    DESCRIPTION_MAX,
    add_list_field,
    clip,
    fit,
    numbered,
    safety_footer,
    shown,
)

RUNS_PER_PAGE = 15  # a line each (at most ~230 characters): well within one description
EVENT_LINK = "https://discord.com/events/{guild}/{event}"


def event_link(event: RunEvent) -> str:
    return EVENT_LINK.format(guild=event.guild_id, event=event.event_id)


def where(event: RunEvent) -> str | None:
    """An external event's place (as its organiser typed it: shown safely), or its channel."""
    if event.location:
        return shown(event.location, 100)
    if event.channel_id:
        return f"<#{event.channel_id}>"
    return None


def run_embed(event: RunEvent, routine: Routine | None, catalog: Catalog) -> discord.Embed:
    """The post before a run: the run (its name shown safely: never a mention or markdown),
    when and where it starts, a link to the event, the routine to do first, the safety note."""
    lines = [f"Starts <t:{event.starts_at}:t> (<t:{event.starts_at}:R>)"]
    place = where(event)
    if place:
        lines.append(f"Where: {place}")
    lines.append(f"[Event details]({event_link(event)})")
    if routine is None:
        lines.append("\nWarm up your hips and glutes before you head out: try `/routine`.")
    else:
        lines.append(f"\n**Before you go: {routine.name}** (about {routine.minutes} min). "
                     f"{routine.summary}")
        lines.append("Press **Done** when you've done it, or **Show me how** to be walked "
                     "through it.")
    embed = discord.Embed(title=clip(f"🏃 {shown(event.name, 100)}", 256),
                          description=clip("\n".join(lines), DESCRIPTION_MAX), colour=BRAND,
                          url=event_link(event))
    if routine is not None:
        add_list_field(embed, "The moves",
                       numbered(f"{step.name}: {step.dose}" for step in routine.steps))
    return fit(safety_footer(embed, catalog))


def runs_list_embed(settings: RunSettings, runs: Sequence[UpcomingRun], page: int,
                    catalog: Catalog, dm_line: str) -> discord.Embed:
    """One page of the runs Stride will post for, soonest first, each with when its post
    goes out; the setup and the member's own DM choice below."""
    pages = max(1, -(-len(runs) // RUNS_PER_PAGE))
    page = min(max(page, 1), pages)
    shown_runs = runs[(page - 1) * RUNS_PER_PAGE: page * RUNS_PER_PAGE]
    routine = catalog.routine(settings.routine) if settings.routine else None
    setup = (f"Posts in <#{settings.channel_id}> {settings.minutes} min before each run"
             + (f" whose name contains “{shown(settings.match, 100)}”" if settings.match else "")
             + f"; routine: {routine.name if routine else 'rotating'}"
             + (f"; pings <@&{settings.role_id}>" if settings.role_id else "") + ".")
    lines = [setup, ""]
    if not shown_runs:
        lines.append("No upcoming runs. Create a scheduled event in Discord (Events → Create "
                     "Event) and it shows here within a minute.")
    for run in shown_runs:
        lines.append(f"**{shown(run.event.name, 80)}** <t:{run.event.starts_at}:f>: "
                     + post_text(run) + (" (repeats)" if run.event.recurring else ""))
    lines += ["", dm_line]
    embed = discord.Embed(title="Club runs", description=clip("\n".join(lines), DESCRIPTION_MAX),
                          colour=BRAND)
    if pages > 1:
        embed.set_footer(text=f"Page {page} of {pages} ({len(runs)} runs): /runs list page:"
                         f"{page % pages + 1}")
    return fit(embed)


def post_text(run: UpcomingRun) -> str:
    if run.post_due is not None:
        return f"post <t:{run.post_due}:R>"
    if run.paused:
        return f"not posting: {shown(run.paused, 100)}"
    return "posted"
