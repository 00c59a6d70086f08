"""A contribution-graph style picture of a member's recent check-ins (PNG, drawn with Pillow)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache

from PIL import Image, ImageDraw, ImageFont

CELL, GAP, LEFT, TOP, PAD = 22, 4, 44, 26, 12
EMPTY = (45, 48, 56)
FILLED = (233, 110, 60)
TODAY_RING = (250, 250, 250)
BACKGROUND = (30, 31, 36)
TEXT = (200, 202, 210)
DAY_LABELS = ("Mon", "", "Wed", "", "Fri", "", "Sun")


@cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=12)


@cache
def _cell(fill: tuple[int, int, int], ring: bool) -> Image.Image:
    """One day's rounded square on the background, drawn once and pasted for every day."""
    tile = Image.new("RGB", (CELL, CELL), BACKGROUND)
    draw = ImageDraw.Draw(tile)
    box = (0, 0, CELL - 1, CELL - 1)
    draw.rounded_rectangle(box, radius=4, fill=fill)
    if ring:
        draw.rounded_rectangle(box, radius=4, outline=TODAY_RING, width=2)
    return tile


def render_heatmap(days: Iterable[date], today: date, weeks: int = 12) -> bytes:
    """PNG bytes: `weeks` columns (Monday-first weeks ending with today's), one cell a day."""
    checked = set(days)
    start = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    width = LEFT + weeks * (CELL + GAP) + PAD
    height = TOP + 7 * (CELL + GAP) + PAD
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = _font()
    for row, label in enumerate(DAY_LABELS):
        if label:
            draw.text((6, TOP + row * (CELL + GAP) + 4), label, fill=TEXT, font=font)
    last_month = None
    for week in range(weeks):
        monday = start + timedelta(weeks=week)
        if monday.month != last_month:
            draw.text((LEFT + week * (CELL + GAP), 6), monday.strftime("%b"), fill=TEXT, font=font)
            last_month = monday.month
        for row in range(7):
            day = monday + timedelta(days=row)
            if day > today:
                continue
            x, y = LEFT + week * (CELL + GAP), TOP + row * (CELL + GAP)
            image.paste(_cell(FILLED if day in checked else EMPTY, day == today), (x, y))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)  # a few KB either way; level 1 is fastest
    return out.getvalue()
