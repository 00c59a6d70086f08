"""Turns library records into Discord embeds that always fit Discord's limits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import discord

from stride.catalog import CATEGORIES, Catalog, Exercise, Routine, is_placeholder

# Discord's embed limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000

COLOURS = {
    "activation": discord.Colour.from_rgb(233, 110, 60),
    "drill": discord.Colour.from_rgb(60, 150, 233),
    "form": discord.Colour.from_rgb(90, 190, 120),
    "strength": discord.Colour.from_rgb(150, 90, 210),
    "mobility": discord.Colour.from_rgb(70, 180, 190),
}
BRAND = discord.Colour.from_rgb(233, 110, 60)
SAFETY_PREFIX = "⚠️ "
# Mentions of members, roles, channels and commands ("<@1>", "<#1>", "</x:1>") of any id.
_MENTION_START = re.compile(r"<(?=[@#/])")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def shown(text: str, limit: int = 80) -> str:
    """What a member typed, made safe to show back to them: control and invisible formatting
    characters (right-to-left marks, zero-width spaces) dropped, runs of whitespace made one
    space, cut to `limit`, then markdown and mentions escaped, so it reads as typed, formats
    nothing and pings no one."""
    visible = "".join(" " if c.isspace() else c for c in text
                      if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf"))
    visible = clip(" ".join(visible.split()), limit)
    if not visible:
        return "(blank)"
    escaped = discord.utils.escape_mentions(discord.utils.escape_markdown(visible))
    return _MENTION_START.sub("<\u200b", escaped)


def chunk_lines(lines: Iterable[str], limit: int = FIELD_VALUE_MAX) -> list[str]:
    """Join lines into as few blocks of at most `limit` characters as possible."""
    blocks: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            blocks.append(current)
            candidate = line
        current = candidate
    if current:
        blocks.append(current)
    return blocks


def add_list_field(embed: discord.Embed, name: str, lines: Sequence[str]) -> None:
    """Add `lines` as one field, continued in more fields when longer than a field may be."""
    for i, block in enumerate(chunk_lines(lines)):
        embed.add_field(name=name if i == 0 else f"{name} (cont.)", value=block, inline=False)


def numbered(items: Iterable[str]) -> list[str]:
    return [f"**{i}.** {item}" for i, item in enumerate(items, 1)]


def bullets(items: Iterable[str], mark: str = "•") -> list[str]:
    return [f"{mark} {item}" for item in items]


# The last to go when an embed is too big: how to do the move, and its cautions (safety).
KEPT_FIELDS = frozenset({"How to do it", "How to do it (cont.)", "Cautions"})


def fit(embed: discord.Embed) -> discord.Embed:
    """Drop trailing fields until the embed is within Discord's size limits (a last resort),
    the steps and cautions last; if the title, description and footer alone are too big, the
    description is cut."""
    if embed.title:
        embed.title = clip(embed.title, TITLE_MAX)
    if embed.description:
        embed.description = clip(embed.description, DESCRIPTION_MAX)
    while len(embed.fields) > FIELDS_MAX or len(embed) > EMBED_TOTAL_MAX:
        droppable = [i for i, f in enumerate(embed.fields) if f.name not in KEPT_FIELDS]
        if droppable or embed.fields:
            embed.remove_field(droppable[-1] if droppable else len(embed.fields) - 1)
        else:
            over = len(embed) - EMBED_TOTAL_MAX
            embed.description = clip(embed.description or "", len(embed.description or "") - over)
    return embed


def safety_footer(embed: discord.Embed, catalog: Catalog) -> discord.Embed:
    embed.set_footer(text=clip(SAFETY_PREFIX + catalog.safety, FOOTER_MAX))
    return embed


def exercise_embed(exercise: Exercise, catalog: Catalog) -> discord.Embed:
    """Everything about one exercise: purpose, steps, cues, mistakes, dose, cautions, related."""
    embed = discord.Embed(
        title=exercise.name,
        description=exercise.summary,
        colour=COLOURS[exercise.category],
    )
    add_list_field(embed, "How to do it", numbered(exercise.steps))
    if exercise.cues:
        add_list_field(embed, "Key cues", bullets(exercise.cues))
    if exercise.mistakes:
        add_list_field(embed, "Common mistakes", bullets(exercise.mistakes, "✗"))
    embed.add_field(name="Dose", value=exercise.dose, inline=True)
    embed.add_field(name="Category", value=exercise.category_name, inline=True)
    equipment = None if is_placeholder(exercise.equipment) else exercise.equipment
    if equipment:
        embed.add_field(name="Equipment", value=equipment, inline=True)
        if exercise.without:
            embed.add_field(name=without_title(equipment), value=exercise.without, inline=False)
    if exercise.easier:
        embed.add_field(name="Easier", value=exercise.easier, inline=True)
    if exercise.harder:
        embed.add_field(name="Harder", value=exercise.harder, inline=True)
    if exercise.cautions:
        add_list_field(embed, "Cautions", bullets(exercise.cautions, "⚠️"))
    if exercise.myrtl:
        embed.add_field(
            name="Myrtl hip circuit", value="Part of the Myrtl hip circuit.", inline=False
        )
    related = [r.name for rid in exercise.related if (r := catalog.get(rid))]
    if related:
        embed.add_field(name="Related", value=", ".join(related), inline=False)
    return fit(safety_footer(embed, catalog))


def without_title(equipment: str) -> str:
    """'No resistance band?': the heading of what to do without the equipment."""
    first = equipment[:1]
    if first.isupper() and not equipment[1:2].isupper():  # keep acronyms: 'TRX straps'
        equipment = first.lower() + equipment[1:]
    return clip(f"No {equipment}?", FIELD_NAME_MAX)


def library_embed(catalog: Catalog) -> discord.Embed:
    """The whole library at a glance, one field per category."""
    embed = discord.Embed(
        title="Exercise library",
        description=(
            f"{len(catalog.exercises)} exercises. Open one with `/exercise name:<name>`, "
            "or browse a category with `/exercises category:<category>`."
        ),
        colour=BRAND,
    )
    for category, label in CATEGORIES.items():
        names = [e.name for e in catalog.in_category(category)]
        if names:
            add_list_field(embed, f"{label} ({len(names)})", [", ".join(names)])
    return fit(safety_footer(embed, catalog))


def category_page_embed(
    catalog: Catalog, category: str, page: int, pages: int, entries: Sequence[Exercise]
) -> discord.Embed:
    embed = discord.Embed(
        title=CATEGORIES[category],
        description="Open any of these with `/exercise name:<name>`.",
        colour=COLOURS[category],
    )
    for e in entries:
        marker = " · Myrtl" if e.myrtl else ""
        embed.add_field(
            name=clip(f"{e.name}{marker}", FIELD_NAME_MAX),
            value=clip(f"{e.summary}\n*Dose:* {e.dose}", FIELD_VALUE_MAX),
            inline=False,
        )
    if pages > 1:
        embed.set_author(name=f"Page {page + 1} of {pages}")
    return fit(safety_footer(embed, catalog))


def routine_list_embed(catalog: Catalog) -> discord.Embed:
    embed = discord.Embed(
        title="Routines",
        description="Pick one with `/routine name:<routine>` and press **Start** to be guided.",
        colour=BRAND,
    )
    for r in catalog.routines[:FIELDS_MAX]:
        moves = ", ".join(step.name for step in r.steps)
        embed.add_field(
            name=clip(f"{r.name} · about {r.minutes} min", FIELD_NAME_MAX),
            value=clip(f"{r.summary}\n*Moves:* {moves}", FIELD_VALUE_MAX),
            inline=False,
        )
    return fit(safety_footer(embed, catalog))


def routine_embed(routine: Routine, catalog: Catalog) -> discord.Embed:
    embed = discord.Embed(
        title=f"{routine.name} · about {routine.minutes} min",
        description=routine.summary,
        colour=BRAND,
    )
    add_list_field(
        embed, "Moves", numbered(f"{step.name}: {step.dose}" for step in routine.steps)
    )
    equipment = routine.equipment
    if equipment:
        add_list_field(embed, "You will need", bullets(equipment))
    return fit(safety_footer(embed, catalog))


def walkthrough_embed(routine: Routine, index: int, catalog: Catalog) -> discord.Embed:
    """One screen of the guided walk-through: step `index` (0-based) of the routine."""
    step = routine.steps[index]
    exercise = step.exercise
    embed = discord.Embed(
        title=f"{index + 1}/{len(routine.steps)} · {exercise.name}",
        description=exercise.summary,
        colour=COLOURS[exercise.category],
    )
    embed.set_author(name=routine.name)
    embed.add_field(name="Dose", value=step.dose, inline=False)
    add_list_field(embed, "How to do it", numbered(exercise.steps))
    if exercise.cues:
        add_list_field(embed, "Key cues", bullets(exercise.cues))
    if exercise.cautions:
        add_list_field(embed, "Cautions", bullets(exercise.cautions, "⚠️"))
    return fit(safety_footer(embed, catalog))


DONE_LINES = {
    "pre-run": "Your glutes are awake: go and have a good run!",
    "drills": "Nice work. Drills belong in or at the end of a run, while your legs are warm: "
              "jog easily for a few minutes now to finish.",
    "strength": "Strong work. Keep sessions like this for an easy day or after a short run, "
                "not just before a hard one, and give your legs a day to recover.",
    "mobility": "All done: a good way to wind down after your run. Drink some water and rest "
                "your legs.",
}
"""The Done screen's closing line, by routine kind (stride.catalog.ROUTINE_KINDS)."""


def walkthrough_done_embed(routine: Routine, catalog: Catalog) -> discord.Embed:
    count = len(routine.steps)
    opening = f"That was all {count} moves." if count > 1 else "That was the whole routine."
    closing = DONE_LINES.get(routine.kind, DONE_LINES["pre-run"])
    embed = discord.Embed(
        title=f"Done: {routine.name} 🎉",
        description=f"{opening} {closing}",
        colour=BRAND,
    )
    embed.set_author(name=routine.name)
    return fit(safety_footer(embed, catalog))


def form_embed(form: Exercise, catalog: Catalog) -> discord.Embed:
    embed = discord.Embed(
        title=f"{form.name} checklist", description=form.summary, colour=COLOURS["form"]
    )
    add_list_field(embed, "Checklist", bullets(form.steps, "☐"))
    if form.cues:
        add_list_field(embed, "How to use it", bullets(form.cues))
    if form.mistakes:
        add_list_field(embed, "Common mistakes", bullets(form.mistakes, "✗"))
    if form.cautions:
        add_list_field(embed, "Cautions", bullets(form.cautions, "⚠️"))
    return fit(safety_footer(embed, catalog))


def notice_embed(title: str, text: str) -> discord.Embed:
    """A short message for the member, such as an error or a 'did you mean'."""
    return discord.Embed(
        title=clip(title, TITLE_MAX), description=clip(text, DESCRIPTION_MAX), colour=BRAND
    )
