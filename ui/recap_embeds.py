"""What the club's week looks like: the weekly recap, and the nudge before a streak ends.

Members are shown as mentions (each reader sees the name they know), and every message that
carries them is sent with mentions disabled, so a recap pings nobody.
"""

from __future__ import annotations

import discord

from stride.catalog import Catalog, Routine
from stride.milestones import describe
from stride.nudges import NudgeText
from stride.recaps import Recap
from stride.records import ClubHighlight

from .embeds import BRAND, FOOTER_MAX, add_list_field, clip, fit, safety_footer, shown
from .reminder_embeds import reminder_embed

CHART_FILE = "recap.png"
LISTED = 10  # milestones, comebacks and runs each list at most this many (one field each)
RUN_NAME_SHOWN = 50  # characters of a run's name: ten plain lines fit one field (escaped
# markdown can double a name; the list then goes on in a second field, still within limits)
MEDALS = ("🥇", "🥈", "🥉")


def _dates(recap: Recap) -> str:
    if recap.start.month == recap.end.month:
        return f"{recap.start.day}–{recap.end.day} {recap.end:%b %Y}"
    return f"{recap.start.day} {recap.start:%b} – {recap.end.day} {recap.end:%b %Y}"


def _trend(recap: Recap) -> str:
    if recap.previous == 0:
        return ""
    change = (recap.checkins - recap.previous) / recap.previous
    if abs(change) < 0.005:
        return " (as many as the week before)"
    arrow = "▲" if change > 0 else "▼"
    return f" ({arrow} {abs(change):.0%} on the week before)"


def _more(lines: list[str], total: int, what: str) -> list[str]:
    if total > len(lines):
        lines.append(f"…and {total - len(lines)} more {what}")
    return lines


def _highlight_line(h: ClubHighlight) -> str:
    return f"<@{h.user_id}>: {describe(h.highlight)} ({h.day:%a})"


def recap_embed(recap: Recap, *, chart: bool = True) -> discord.Embed:
    """The recap: the week's check-ins and members, streaks alive, the longest streaks, the
    week's milestones and comebacks, and the next week's runs; the chart as its image."""
    if recap.checkins:
        summary = (f"**{recap.checkins:,}** check-in{'s' if recap.checkins != 1 else ''} by "
                   f"**{recap.members:,}** member{'s' if recap.members != 1 else ''}"
                   f"{_trend(recap)}.")
    else:
        summary = "No check-ins this week. A new week starts now: `/checkin` after your warm-up!"
    if recap.present:
        summary += (f"\n**{recap.alive_share:.0%}** of members have a streak alive "
                    f"({recap.alive:,} of {recap.present:,}).")
    embed = discord.Embed(title=f"The club's week · {_dates(recap)}", description=summary,
                          colour=BRAND)
    if recap.top:
        add_list_field(embed, "Longest streaks now", [
            f"{MEDALS[i] if i < len(MEDALS) else f'**{i + 1}.**'} <@{user}>: {days} "
            f"day{'s' if days != 1 else ''}" for i, (user, days) in enumerate(recap.top)])
    if recap.milestones:
        add_list_field(embed, "Milestones this week", _more(
            [_highlight_line(h) for h in recap.milestones[:LISTED]], recap.milestone_count,
            "milestones"))
    if recap.comebacks:
        add_list_field(embed, "Back after a break", _more(
            [f"<@{h.user_id}> (after {h.highlight.value} days)"
             for h in recap.comebacks[:LISTED]], recap.comeback_count, "members"))
    if recap.runs:
        add_list_field(embed, "Runs in the next seven days", _more(
            [f"<t:{r.starts_at}:f>: {shown(r.name, RUN_NAME_SHOWN)}"
             for r in recap.runs[:LISTED]],
            len(recap.runs), "runs"))
    if chart:
        embed.set_image(url=f"attachment://{CHART_FILE}")
    embed.set_footer(text=f"Days count in {recap.zone}.")
    return fit(embed)


def nudge_embed(nudge: NudgeText, routine: Routine | None, catalog: Catalog) -> discord.Embed:
    """The nudge: the streak at stake, that it ends at midnight, and the quick routine."""
    base = reminder_embed(routine, catalog)
    days = f"{nudge.streak}-day"
    embed = discord.Embed(
        title=f"Your {days} streak ends at midnight",
        description=(
            f"Today is the last day to keep your **{days}** streak going: it ends "
            f"<t:{nudge.ends_at}:t> (<t:{nudge.ends_at}:R>) unless you check in.\n\n"
            + (f"A quick one does it: **{routine.name}**, about {routine.minutes} min. "
               "Press **Done** when you've done it, or **Show me how**."
               if routine else "Do a few minutes of activation, then press **Done**.")
        ),
        colour=BRAND,
    )
    for field in base.fields:  # the routine's moves
        embed.add_field(name=field.name, value=field.value, inline=field.inline)
    safety_footer(embed, catalog)
    embed.set_footer(text=clip(f"{embed.footer.text} Nudges off: /remindme nudge "
                               "enabled:False", FOOTER_MAX))
    return fit(embed)
