"""Embeds for check-ins, streak figures and leaderboards."""

from __future__ import annotations

import discord

from stride.checkins import BoardPage, CheckinResult, MemberView, UndoResult
from stride.milestones import describe, is_milestone
from stride.records import Highlight
from stride.streaks import Figures

from .embeds import BRAND, fit, shown

BOARD_TITLES = {"streak": "Current streaks", "best": "Longest streaks", "checkins": "Check-ins"}
PERIOD_TITLES = {"week": "this week", "month": "this month", "all": "all time"}
UNITS = {"streak": "days", "best": "days", "checkins": "check-ins"}
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


def encouragement(figures: Figures) -> str:
    """A short line that fits where the member is."""
    if figures.total == 1:
        return "First check-in! Every streak starts with one."
    if figures.current == figures.best and figures.current >= 3:
        return "That's your best streak yet. Keep it rolling!"
    if figures.current >= 7:
        return "A week and more of switched-on glutes. Lovely work."
    if figures.current == 1:
        return "A fresh start. Your glutes thank you."
    return "Nice one. Consistency beats intensity."


def _figures_fields(embed: discord.Embed, figures: Figures) -> None:
    embed.add_field(name="Current streak", value=f"{figures.current} 🔥", inline=True)
    embed.add_field(name="Longest", value=str(figures.best), inline=True)
    embed.add_field(name="Total", value=str(figures.total), inline=True)
    embed.add_field(name="This week", value=str(figures.week), inline=True)
    embed.add_field(name="This month", value=str(figures.month), inline=True)


def checkin_embed(user: discord.abc.User, result: CheckinResult, what: str | None) -> discord.Embed:
    if not result.recorded:
        embed = discord.Embed(
            title="Already checked in today",
            description=(
                f"You're already in for {result.day:%A %d %B}. Come back tomorrow, or take a "
                "rest day: the streak allows for them."
            ),
            colour=BRAND,
        )
        _figures_fields(embed, result.figures)
        return fit(embed)
    did = f" ({what})" if what else ""
    embed = discord.Embed(
        title=f"Checked in{did} ✅",
        description=f"{user.mention} is switched on for {result.day:%A}. "
        f"{encouragement(result.figures)}",
        colour=BRAND,
    )
    _figures_fields(embed, result.figures)
    _highlights_field(embed, result.highlights)
    return fit(embed)


def _highlights_field(embed: discord.Embed, highlights: tuple[Highlight, ...]) -> None:
    """The check-in's milestones (and a comeback), said so the club can cheer."""
    lines = [f"🏅 **{describe(h)}**!" for h in highlights if is_milestone(h)]
    lines += [f"👋 Welcome back after {h.value} days: a fresh streak starts today."
              for h in highlights if h.kind == "back"]
    if lines:
        embed.add_field(name="Milestone" if len(lines) == 1 else "Milestones",
                        value="\n".join(lines), inline=False)


def undo_embed(result: UndoResult) -> discord.Embed:
    text = "Today's check-in is gone. You can check in again any time today."
    taken = [describe(h) for h in result.taken_back if is_milestone(h)]
    if taken:
        text += f" The {' and '.join(taken)} milestone{'s go' if len(taken) > 1 else ' goes'} " \
                "with it, until you check in again."
    embed = discord.Embed(title="Check-in taken back", description=text, colour=BRAND)
    _figures_fields(embed, result.figures)
    return fit(embed)


def streak_embed(user: discord.abc.User, view: MemberView, *, self_view: bool) -> discord.Embed:
    display = shown(user.display_name, 80)  # members choose their names: never shown raw
    name = "You" if self_view else display
    if view.figures.total == 0:
        nudge = (
            "No check-ins yet. Do `/routine name:quick` before your next run, then `/checkin`!"
            if self_view
            else f"{display} hasn't checked in yet."
        )
        return discord.Embed(title="No streak yet", description=nudge, colour=BRAND)
    embed = discord.Embed(
        title=f"{display}'s streak",
        description=(
            f"{name} can miss up to {view.rest_days} day(s) in a row and keep the streak. "
            f"Days count in {view.zone}."
        ),
        colour=BRAND,
    )
    _figures_fields(embed, view.figures)
    embed.set_footer(text="The last 12 weeks: one square a day, orange = checked in.")
    return fit(embed)


def board_embed(page: BoardPage, guild_name: str | None, caller_id: int) -> discord.Embed:
    unit = UNITS[page.board]
    title = f"{BOARD_TITLES[page.board]} · {PERIOD_TITLES[page.period]}"
    lines = [
        f"{MEDALS.get(row.rank, f'**{row.rank}.**')} <@{row.user_id}>: {row.value} {unit}"
        + (" ← you" if row.user_id == caller_id else "")
        for row in page.slice.rows
    ]
    if not lines and page.page == 0:
        lines = ["Nobody on this board yet. Be the first: `/checkin` after your activation!"]
    elif not lines:
        lines = ["No more members on this board."]
    embed = discord.Embed(title=title, description="\n".join(lines), colour=BRAND)
    if guild_name:
        embed.set_author(name=guild_name[:256])
    if page.slice.my_rank is not None:
        you = f"#{page.slice.my_rank} with {page.slice.my_value} {unit}"
    else:
        you = "Not on this board yet: check in to join it."
    embed.add_field(name="You", value=you, inline=False)
    embed.set_footer(text=f"Page {page.page + 1}" + ("" if page.has_next else " (last)"))
    return fit(embed)
