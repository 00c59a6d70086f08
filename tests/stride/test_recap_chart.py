"""The recap chart, read back from its pixels: size, bar colours and heights, labels, themes."""

from __future__ import annotations

import io
from datetime import date, timedelta
from itertools import pairwise

import pytest
from PIL import Image

from stride.recap_chart import (
    HEIGHT,
    LABEL_GAP,
    PAD,
    PLOT_BOTTOM,
    PLOT_TOP,
    THEMES,
    WIDTH,
    contrast,
    font,
    format_count,
    nice_ticks,
    render_recap_chart,
)

SUNDAY = date(2026, 11, 29)  # the recap week is Monday 23 Nov to Sunday 29 Nov 2026
THEME_NAMES = sorted(THEMES)


def days(counts: list[int], end: date = SUNDAY) -> list[tuple[date, int]]:
    return [(end - timedelta(days=len(counts) - 1 - i), n) for i, n in enumerate(counts)]


def png(counts: list[int], theme: str = "dark", **kwargs: date) -> Image.Image:
    image = Image.open(io.BytesIO(render_recap_chart(days(counts), theme=theme, **kwargs)))
    assert image.format == "PNG"
    return image.convert("RGBA")


def rgb(image: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    r, g, b, _ = image.getpixel((x, y))  # type: ignore[misc]
    return (r, g, b)


def bars(image: Image.Image, theme: str, y: int = PLOT_BOTTOM - 1) -> list[tuple[int, int, str]]:
    """The runs of bar-coloured pixels along row y: (first x, last x, "week" or "earlier")."""
    palette, runs = THEMES[theme], list[tuple[int, int, str]]()
    colours = {palette.week: "week", palette.earlier: "earlier"}
    for x in range(WIDTH):
        kind = colours.get(rgb(image, x, y))
        if kind and runs and runs[-1][1] == x - 1 and runs[-1][2] == kind:
            runs[-1] = (runs[-1][0], x, kind)
        elif kind:
            runs.append((x, x, kind))
    return runs


def bar_height(image: Image.Image, theme: str, x: int) -> int:
    colours = {THEMES[theme].week, THEMES[theme].earlier}
    return sum(rgb(image, x, y) in colours for y in range(PLOT_TOP - 10, PLOT_BOTTOM))


@pytest.mark.parametrize("theme", THEME_NAMES)
def test_a_card_of_the_inline_size_with_transparent_rounded_corners(theme: str) -> None:
    image = png([10] * 56, theme)
    assert image.size == (WIDTH, HEIGHT)
    assert 720 <= WIDTH <= 800 and 300 <= HEIGHT <= 340
    raw = Image.open(io.BytesIO(render_recap_chart(days([10] * 56), theme=theme)))
    assert raw.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert image.getpixel((WIDTH - 1, HEIGHT - 1))[3] == 0  # type: ignore[index]
    assert image.getpixel((WIDTH // 2, 8)) == (*THEMES[theme].card, 255)  # opaque everywhere else
    assert image.getchannel("A").crop((12, 12, WIDTH - 12, HEIGHT - 12)).getextrema() == (255, 255)


@pytest.mark.parametrize("theme", THEME_NAMES)
def test_this_weeks_bars_are_in_the_accent_colour_and_older_ones_muted(theme: str) -> None:
    image = png([10] * 56, theme)
    runs = bars(image, theme)
    assert [kind for *_, kind in runs] == ["earlier"] * 49 + ["week"] * 7
    first, last, _ = runs[-1]
    assert rgb(image, (first + last) // 2, PLOT_BOTTOM - 20) == THEMES[theme].week
    first, last, _ = runs[-8]
    assert rgb(image, (first + last) // 2, PLOT_BOTTOM - 20) == THEMES[theme].earlier
    assert THEMES["dark"].week == (233, 110, 60)  # the house accent, as in the heat map


def test_week_start_picks_the_accent_bars() -> None:
    runs = bars(png([10] * 56, week_start=SUNDAY - timedelta(days=2)), "dark")
    assert [kind for *_, kind in runs] == ["earlier"] * 53 + ["week"] * 3


def test_bars_are_evenly_spaced_equal_and_proportional() -> None:
    counts = [(i * 7) % 40 + 1 for i in range(56)]
    image = png(counts)
    runs = bars(image, "dark")
    assert len(runs) == 56
    assert len({last - first for first, last, _ in runs}) == 1
    assert len({b[0] - a[0] for a, b in pairwise(runs)}) == 1
    top = nice_ticks(max(counts))[-1]
    for (first, _, _), count in zip(runs, counts, strict=True):
        expected = round(count / top * (PLOT_BOTTOM - PLOT_TOP))
        assert abs(bar_height(image, "dark", first) - expected) <= 1


def test_a_zero_day_has_no_bar_and_a_small_count_is_still_visible() -> None:
    counts = [5000] * 56
    counts[20], counts[30] = 0, 1
    runs = bars(png(counts), "dark")
    assert len(runs) == 55
    gaps = [b[0] - a[0] for a, b in pairwise(runs)]
    assert gaps.count(max(gaps)) == 1 and max(gaps) == 2 * min(gaps)
    assert bar_height(png(counts), "dark", runs[29][0]) >= 2  # day 30: 1 check-in of 5,000


@pytest.mark.parametrize("theme", THEME_NAMES)
@pytest.mark.parametrize("counts", [[], [0] * 56, [0]], ids=["empty", "all-zero", "one-zero"])
def test_no_check_ins_draw_an_empty_scale_and_say_so(theme: str, counts: list[int]) -> None:
    image = png(counts, theme)
    assert image.size == (WIDTH, HEIGHT)
    palette = THEMES[theme]
    plot = image.crop((PAD + 40, PLOT_TOP - 5, WIDTH - PAD, PLOT_BOTTOM + 1)).convert("RGB")
    colours = {colour for _, colour in plot.getcolors(1 << 16) or []}
    assert palette.week not in colours and palette.earlier not in colours
    assert palette.axis in colours  # the baseline
    middle = image.crop((WIDTH // 2 - 60, PLOT_TOP + 80, WIDTH // 2 + 60, PLOT_BOTTOM - 80))
    assert any(rgb(middle, x, y) == palette.text for x in range(120) for y in range(middle.height))


def test_one_day_is_one_accent_bar_at_the_right() -> None:
    runs = bars(png([3], "light"), "light")
    assert len(runs) == 1 and runs[0][2] == "week" and runs[0][1] >= WIDTH - PAD - 12


@pytest.mark.parametrize("length", [56, 366])
@pytest.mark.parametrize("peak", [9, 1234, 50_000, 999_999_999, 10**15])
def test_tick_labels_fit_in_the_left_margin(peak: int, length: int) -> None:
    image = png([peak] * length)
    baseline = [rgb(image, x, PLOT_BOTTOM) for x in range(WIDTH)]
    left = baseline.index(THEMES["dark"].axis)  # where the plot (its baseline) starts
    ticks = nice_ticks(peak)
    widest = max(font(12).getlength(format_count(t, ticks[-1])) for t in ticks)
    assert PAD + widest + LABEL_GAP <= left
    card, inked = THEMES["dark"].card, []
    for y in range(PLOT_TOP - 10, PLOT_BOTTOM + 8):
        inked += [x for x in range(left) if rgb(image, x, y) != card]
    assert inked and min(inked) >= PAD and max(inked) < left - LABEL_GAP + 1


def label_marks(image: Image.Image) -> list[int]:
    """The x of each date label's tick mark, just under the baseline."""
    return [x for x in range(WIDTH) if rgb(image, x, PLOT_BOTTOM + 3) == THEMES["dark"].axis]


def label_spans(image: Image.Image) -> list[tuple[int, int]]:
    """The date labels' ink, column runs under the baseline (a word space is narrower than 9)."""
    band = range(PLOT_BOTTOM + 8, PLOT_BOTTOM + 26)
    inked = [x for x in range(WIDTH) if any(rgb(image, x, y) != THEMES["dark"].card for y in band)]
    spans: list[tuple[int, int]] = []
    for x in inked:
        if spans and x - spans[-1][1] < 9:
            spans[-1] = (spans[-1][0], x)
        else:
            spans.append((x, x))
    return spans


def test_a_monday_label_under_each_week() -> None:
    image = png([4] * 56)
    marks = label_marks(image)
    assert marks == [first for first, _, _ in bars(image, "dark")][::7]
    assert all(
        abs(first - mark) <= 2 for (first, _), mark in zip(label_spans(image), marks, strict=True)
    )


@pytest.mark.parametrize("length", [56, 100, 366])
def test_date_labels_never_crowd_overlap_or_leave_the_card(length: int) -> None:
    image = png([4] * length)
    marks, spans = label_marks(image), label_spans(image)
    assert len(spans) == len(marks) >= 6  # no two labels ran into one
    week = [x for x in range(WIDTH) if rgb(image, x, PLOT_BOTTOM - 1) == THEMES["dark"].week]
    assert marks[-1] == week[0]  # this week's Monday (its first bar) is always labelled
    assert spans[0][0] >= PAD and spans[-1][1] <= WIDTH - PAD
    assert all(b[0] - a[1] >= 10 for a, b in pairwise(spans))
    gaps = [b - a for a, b in pairwise(marks)]
    assert max(gaps[:-1]) - min(gaps[:-1]) <= 1  # every nth week (the last label may be nudged)


def test_nice_ticks() -> None:
    assert nice_ticks(0) == [0, 1, 2, 3, 4]
    assert nice_ticks(5) == [0, 1, 2, 3, 4, 5]
    assert nice_ticks(9) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(41) == [0, 10, 20, 30, 40, 50]
    assert nice_ticks(50_000) == [0, 10_000, 20_000, 30_000, 40_000, 50_000]
    for peak in [*range(200), 999, 1001, 12_345, 987_654_321]:
        ticks = nice_ticks(peak)
        step = ticks[1]
        assert ticks[0] == 0 and ticks[-1] >= peak and 3 <= len(ticks) - 1 <= 5
        assert int(str(step).rstrip("0") or 0) in (1, 2, 5)
        assert ticks == list(range(0, ticks[-1] + 1, step))


def test_format_count() -> None:
    assert [format_count(v, 2500) for v in (0, 500, 2500)] == ["0", "500", "2,500"]
    assert [format_count(v, 50_000) for v in (0, 10_000, 50_000)] == ["0", "10k", "50k"]
    assert format_count(1_500_000, 20_000_000) == "1.5M"
    assert format_count(5 * 10**14, 10**15) == "500T"


def test_contrast() -> None:
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast((255, 255, 255), (0, 0, 0)) == pytest.approx(21)
    assert contrast((50, 60, 70), (50, 60, 70)) == pytest.approx(1)
    assert contrast((0x77, 0x77, 0x77), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("theme", THEME_NAMES)
def test_both_palettes_are_readable_on_their_own_card(theme: str) -> None:
    p = THEMES[theme]
    assert contrast(p.title, p.card) >= 4.5 and contrast(p.text, p.card) >= 4.5
    assert contrast(p.week, p.card) >= 3 and contrast(p.earlier, p.card) >= 3


@pytest.mark.parametrize(
    ("daily", "message"),
    [
        (days([3, -1, 4]), "negative"),
        ([(SUNDAY, 1), (SUNDAY + timedelta(days=2), 1)], "consecutive"),
        ([(SUNDAY, 1), (SUNDAY, 1)], "consecutive"),
        ([(SUNDAY, 1), (SUNDAY - timedelta(days=1), 1)], "consecutive"),
        (days([1] * 367), "at most 366"),
    ],
)
def test_bad_input_is_refused(daily: list[tuple[date, int]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_recap_chart(daily)


def test_an_unknown_theme_is_refused() -> None:
    with pytest.raises(ValueError, match="theme"):
        render_recap_chart(days([1]), theme="sepia")


def test_the_same_input_gives_the_same_bytes_and_no_metadata() -> None:
    daily = days([(i * 13) % 31 for i in range(56)])
    first = render_recap_chart(daily)
    assert render_recap_chart(daily) == first
    assert render_recap_chart(daily, theme="light") != first
    assert b"tIME" not in first and b"tEXt" not in first and b"iTXt" not in first
