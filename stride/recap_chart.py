"""The weekly recap's bar chart: the club's check-ins per day (PNG, drawn with Pillow).

Discord shows the image on a dark or a light background and the bot cannot know which, so the
chart is an opaque card with its own palette (and transparent rounded corners): text contrast
never depends on the viewer's theme. The geometry is fixed (56 day slots, newest on the right)
so this week's bars sit in the same place every week.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from itertools import pairwise

from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]
WIDTH, HEIGHT, PAD, RADIUS = 760, 320, 20, 12
PLOT_TOP, PLOT_BOTTOM = 64, HEIGHT - 42  # gridline of the top tick; the baseline (y = 0)
MIN_LEFT, LABEL_GAP = 56, 8  # plot's left edge at least; gap between tick labels and plot
SLOTS, MAX_DAYS = 56, 366  # fewer days keep the 8-week geometry; more shrink the bars


@dataclass(frozen=True)
class Palette:
    card: RGB
    border: RGB  # a hairline so a light card still has an edge on Discord's white
    title: RGB
    text: RGB
    grid: RGB
    axis: RGB
    week: RGB  # this week's bars
    earlier: RGB  # older bars


THEMES = {
    "dark": Palette(
        card=(30, 31, 36),
        border=(30, 31, 36),
        title=(236, 237, 240),
        text=(170, 173, 183),
        grid=(48, 50, 57),
        axis=(88, 91, 101),
        week=(233, 110, 60),
        earlier=(104, 108, 120),
    ),
    "light": Palette(
        card=(255, 255, 255),
        border=(221, 223, 228),
        title=(30, 31, 36),
        text=(88, 92, 102),
        grid=(236, 237, 240),
        axis=(178, 181, 189),
        week=(208, 84, 34),
        earlier=(140, 144, 155),
    ),
}


def contrast(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio of two sRGB colours, 1 (same) to 21 (black on white)."""

    def luminance(c: RGB) -> float:
        r, g, b = (
            s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
            for s in (v / 255 for v in c)
        )
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def nice_ticks(peak: int) -> list[int]:
    """0 up to the first multiple of a 1/2/5 x 10^n step >= peak (4 at least), 3 to 5 steps."""
    peak, magnitude = max(peak, 4), 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if (steps := -(-peak // step)) <= 5:
                return list(range(0, steps * step + 1, step))
        magnitude *= 10


def format_count(value: int, top: int) -> str:
    """A tick label: "2,500", or "20k" / "1.5M" (and so on) once the scale reaches 10 units."""
    for unit, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "k")):
        if top >= 10 * unit and value:
            return f"{value / unit:g}{suffix}"
    return f"{value:,}"


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _rounded(width: int, height: int, radius: int) -> Image.Image:
    """An anti-aliased rounded-rectangle mask: a disc drawn at 4x, its quarters as the corners."""
    disc = Image.new("L", (8 * radius, 8 * radius))
    ImageDraw.Draw(disc).ellipse((0, 0, 8 * radius - 1, 8 * radius - 1), fill=255)
    disc, mask = disc.reduce(4), Image.new("L", (width, height), 255)
    for x, y in ((0, 0), (radius, 0), (0, radius), (radius, radius)):
        mask.paste(
            disc.crop((x, y, x + radius, y + radius)), (x and width - radius, y and height - radius)
        )
    return mask


@cache
def _card(theme: str) -> Image.Image:
    """The empty card, made once: a hairline border, the fill, transparent rounded corners."""
    p = THEMES[theme]
    card = Image.new("RGB", (WIDTH, HEIGHT), p.border)
    card.paste(p.card, (1, 1, WIDTH - 1, HEIGHT - 1), _rounded(WIDTH - 2, HEIGHT - 2, RADIUS - 1))
    card.putalpha(_rounded(WIDTH, HEIGHT, RADIUS))
    return card


def _title(days: int) -> str:
    weeks, rest = divmod(days, 7)
    if days in (0, SLOTS) or (weeks > 1 and not rest):  # no days yet: the usual 8-week frame
        return f"Check-ins per day, last {weeks or 8} weeks"
    if days == 7:
        return "Check-ins per day, last week"
    return f"Check-ins per day, last {days} day{'s' * (days != 1)}"


def render_recap_chart(
    daily: Sequence[tuple[date, int]], *, week_start: date | None = None, theme: str = "dark"
) -> bytes:
    """PNG bytes: one bar a day, oldest left; days from `week_start` (default: the last 7)
    in the accent colour so the recap's week stands out. `theme` is "dark" or "light"."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; expected one of {sorted(THEMES)}")
    if len(daily) > MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} days, got {len(daily)}")
    for (prev, _), (day, _) in pairwise(daily):
        if day - prev != timedelta(days=1):
            raise ValueError(f"days must be consecutive, oldest first: {prev} then {day}")
    if any(count < 0 for _, count in daily):
        raise ValueError("check-in counts cannot be negative")
    if week_start is None and daily:
        week_start = daily[max(len(daily) - 7, 0)][0]

    p, small = THEMES[theme], font(12)
    image = _card(theme).copy()
    draw = ImageDraw.Draw(image)
    draw.text((PAD, 30), _title(len(daily)), fill=p.title, font=font(16), anchor="ls")

    x = WIDTH - PAD  # legend, right to left, on the title's baseline
    for label, colour in (("Earlier", p.earlier), ("This week", p.week)):
        x -= int(small.getlength(label))
        draw.text((x, 30), label, fill=p.text, font=small, anchor="ls")
        draw.rectangle((x - 16, 20, x - 7, 29), fill=colour)
        x -= 32

    peak = max((count for _, count in daily), default=0)
    ticks = nice_ticks(peak)
    labels = [format_count(t, ticks[-1]) for t in ticks]
    left = max(MIN_LEFT, PAD + LABEL_GAP + max(int(small.getlength(s)) + 1 for s in labels))
    right, span = WIDTH - PAD, PLOT_BOTTOM - PLOT_TOP
    slots = max(len(daily), SLOTS)  # fewer days: right-aligned; more: fractional slots
    slot = (right - left) / slots if slots > SLOTS else (right - left) // slots
    left = right - round(slots * slot)  # whole-pixel slots leave the spare pixels to the margin
    for tick, label in zip(ticks, labels, strict=True):
        y = PLOT_BOTTOM - round(tick / ticks[-1] * span)
        draw.line((left, y, right, y), fill=p.axis if tick == 0 else p.grid)
        draw.text((left - LABEL_GAP, y), label, fill=p.text, font=small, anchor="rm")

    gap, n = int(slot // 4), len(daily)
    lefts = [right - round((n - i) * slot) + gap // 2 for i in range(n + 1)]  # the newest at right
    for (day, count), x0, x1 in zip(daily, lefts, lefts[1:], strict=False):
        if count:  # a zero day is no bar: the baseline shows through
            top = PLOT_BOTTOM - max(2, round(count / ticks[-1] * span))
            colour = p.week if week_start is not None and day >= week_start else p.earlier
            draw.rectangle((x0, top, max(x0, x1 - gap - 1), PLOT_BOTTOM - 1), fill=colour)

    # Each week's Monday under its first bar, every nth week when they would crowd, counted back
    # from this week so its own Monday is always labelled; no Monday at all: the first day.
    mondays = [i for i, (day, _) in enumerate(daily) if day.weekday() == 0] or [0][: len(daily)]
    texts = {i: f"{daily[i][0].day} {daily[i][0]:%b}" for i in mondays}
    widths = {i: int(small.getlength(text)) for i, text in texts.items()}
    every = -(-(max(widths.values(), default=0) + 12) // max(1, round(7 * slot)))
    label_start, since = WIDTH, every
    for i in reversed(mondays):
        tx = min(lefts[i], right - widths[i])
        if since >= every and tx + widths[i] + 12 <= label_start:
            draw.line((lefts[i], PLOT_BOTTOM, lefts[i], PLOT_BOTTOM + 4), fill=p.axis)
            draw.text((tx, PLOT_BOTTOM + 10), texts[i], fill=p.text, font=small, anchor="lt")
            label_start, since = tx, 0
        since += 1
    if peak == 0:
        middle = ((left + right) // 2, (PLOT_TOP + PLOT_BOTTOM) // 2)
        box = draw.textbbox(middle, "No check-ins yet", font=font(14), anchor="mm")
        draw.rectangle((box[0] - 10, box[1] - 6, box[2] + 10, box[3] + 6), fill=p.card)
        draw.text(middle, "No check-ins yet", fill=p.text, font=font(14), anchor="mm")

    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)  # level 1 is fastest; no metadata is added
    return out.getvalue()
