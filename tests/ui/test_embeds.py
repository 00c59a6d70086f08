"""The library's embeds (ui/embeds.py): within Discord's limits for the shipped data, for
entries at the data file's maximum lengths and beyond them, and what members typed shown back
safely."""

from __future__ import annotations

import re
from itertools import pairwise

import discord
import pytest

from stride.catalog import Catalog, Exercise, Routine, RoutineStep
from ui.embeds import (
    DONE_LINES,
    category_page_embed,
    chunk_lines,
    clip,
    exercise_embed,
    fit,
    form_embed,
    library_embed,
    notice_embed,
    routine_embed,
    routine_list_embed,
    shown,
    walkthrough_done_embed,
    walkthrough_embed,
    without_title,
)

from .checks import assert_fits, assert_safe, text_of

SAFETY = "This isn't medical advice: see a physio, and stop if something hurts."


def exercise(n: int = 0, **kw: object) -> Exercise:
    fields: dict[str, object] = {
        "id": f"ex-{n}", "name": f"Exercise {n}", "category": "activation",
        "summary": f"Summary {n}.", "steps": (f"Step of {n}.",), "dose": "10 reps",
    }
    return Exercise(**{**fields, **kw})  # type: ignore[arg-type]


def longest_exercise(n: int = 0, **kw: object) -> Exercise:
    """Every field at the longest the data file allows (stride/catalog.py's rules)."""
    fields: dict[str, object] = {
        "name": f"{n:02d}" + "N" * 78, "summary": "S" * 300,
        "steps": tuple(f"{i:02d}" + "s" * 248 for i in range(12)), "dose": "D" * 150,
        "equipment": "E" * 100, "cues": tuple("c" * 150 for _ in range(6)),
        "mistakes": tuple("m" * 150 for _ in range(6)),
        "cautions": tuple("a" * 250 for _ in range(4)), "tags": ("myrtl",),
        "easier": "z" * 200, "harder": "h" * 200, "without": "w" * 200,
    }
    return exercise(n, **{**fields, **kw})


def catalog_of(exercises: list[Exercise], routines: list[Routine] = (),  # type: ignore[assignment]
               safety: str = SAFETY) -> Catalog:
    return Catalog(exercises=tuple(exercises), routines=tuple(routines), safety=safety)


def names(data: dict) -> list[str]:
    return [f["name"] for f in data.get("fields", [])]


# --- the shipped library -------------------------------------------------------------------

def test_every_shipped_exercise_fits_and_shows_all_its_steps(catalog: Catalog) -> None:
    for e in catalog.exercises:
        data = assert_fits(exercise_embed(e, catalog))
        assert data["title"] == e.name and data["description"] == e.summary
        how = "\n".join(f["value"] for f in data["fields"] if f["name"].startswith("How to"))
        assert how.splitlines() == [f"**{i}.** {step}" for i, step in enumerate(e.steps, 1)]
        assert {"name": "Dose", "value": e.dose, "inline": True} in data["fields"]
        assert data["footer"]["text"] == f"\u26a0\ufe0f {catalog.safety}"


def test_every_shipped_routine_its_walkthrough_and_the_lists_fit(catalog: Catalog) -> None:
    for routine in catalog.routines:
        data = assert_fits(routine_embed(routine, catalog))
        assert data["title"] == f"{routine.name} · about {routine.minutes} min"
        assert len(data["fields"][0]["value"].splitlines()) == len(routine.steps)
        for i, step in enumerate(routine.steps):
            screen = assert_fits(walkthrough_embed(routine, i, catalog))
            assert screen["title"] == f"{i + 1}/{len(routine.steps)} · {step.name}"
            assert screen["fields"][0] == {"name": "Dose", "value": step.dose, "inline": False}
        done = assert_fits(walkthrough_done_embed(routine, catalog))
        assert f"all {len(routine.steps)} moves" in done["description"]
    shown_routines = assert_fits(routine_list_embed(catalog))
    assert len(shown_routines["fields"]) == len(catalog.routines)
    library = assert_fits(library_embed(catalog))
    assert f"{len(catalog.exercises)} exercises" in library["description"]
    listed = ", ".join(f["value"] for f in library["fields"])
    assert all(e.name in listed for e in catalog.exercises)
    assert_fits(form_embed(catalog.get("running-form"), catalog))  # type: ignore[arg-type]


def test_category_pages_fit_and_say_which_page(catalog: Catalog) -> None:
    entries = catalog.in_category("activation")
    first = assert_fits(category_page_embed(catalog, "activation", 0, 2, entries[:6]))
    assert names(first) == [e.name + (" · Myrtl" if e.myrtl else "") for e in entries[:6]]
    assert first["author"]["name"] == "Page 1 of 2"
    only = assert_fits(category_page_embed(catalog, "drill", 0, 1, catalog.in_category("drill")))
    assert "author" not in only  # a single page says nothing about pages


# --- at the data file's limits, and beyond -------------------------------------------------

def test_an_exercise_at_every_maximum_fits_keeping_its_steps_first() -> None:
    related = [longest_exercise(i) for i in range(1, 6)]
    longest = longest_exercise(0, related=tuple(e.id for e in related))
    catalog = catalog_of([longest, *related], safety="W" * 300)
    embed = exercise_embed(longest, catalog)
    data = assert_fits(embed)
    assert len(embed) <= 6000
    # Twelve 250-character steps do not fit one 1024-character field: they go on in more.
    assert names(data)[:4] == ["How to do it"] + ["How to do it (cont.)"] * 3
    steps = "\n".join(f["value"] for f in data["fields"][:4]).splitlines()
    assert steps == [f"**{i}.** {s}" for i, s in enumerate(longest.steps, 1)]
    # What does not fit in 6000 characters is dropped from the end, never from the middle.
    order = ["How to do it", "How to do it (cont.)", "Key cues", "Common mistakes", "Dose",
             "Category", "Equipment", without_title("E" * 100), "Easier", "Harder", "Cautions",
             "Myrtl hip circuit", "Related"]
    ranks = [order.index(n) for n in names(data)]
    assert ranks == sorted(ranks) and "Related" not in names(data)
    assert "Cautions" in names(data)  # safety first: the cautions are the last to go


def test_text_beyond_discords_limits_is_cut_with_an_ellipsis() -> None:
    e = exercise(summary="d" * 5000, name="T" * 300, steps=("x" * 2000, "short"),
                 cautions=("c" * 1500,))
    data = assert_fits(exercise_embed(e, catalog_of([e])))
    assert data["title"] == "T" * 255 + "…"
    assert data["description"] == "d" * 4095 + "…"
    how = data["fields"][0]["value"]
    assert len(how) == 1024 and how.endswith("…")
    assert data["fields"][1] == {"name": "How to do it (cont.)", "value": "**2.** short",
                                 "inline": False}
    # (Title, description and footer at their limits already make 6400: more than a message
    # may hold even without fields. The footer is checked on an entry of ordinary size.)
    plain = exercise()
    footer = assert_fits(exercise_embed(plain, catalog_of([plain], safety="w" * 3000)))
    assert len(footer["footer"]["text"]) == 2048 and footer["footer"]["text"].endswith("…")


def test_at_most_25_fields_however_many_entries() -> None:
    many = [exercise(i) for i in range(40)]
    page = assert_fits(category_page_embed(catalog_of(many), "activation", 0, 1, many))
    assert names(page) == [f"Exercise {i}" for i in range(25)]
    routines = [Routine(f"r{i}", f"Routine {i}", "s", 5, (RoutineStep(many[0], "1"),))
                for i in range(30)]
    listed = assert_fits(routine_list_embed(catalog_of(many, routines)))
    assert names(listed) == [f"Routine {i} · about 5 min" for i in range(25)]


def test_a_routine_of_many_long_moves_goes_on_in_more_fields() -> None:
    moves = [longest_exercise(i) for i in range(30)]
    routine = Routine("long", "Long", "s", 90, tuple(RoutineStep(m, "D" * 150) for m in moves))
    data = assert_fits(routine_embed(routine, catalog_of(moves, [routine])))
    assert names(data)[0] == "Moves" and set(names(data)[1:]) <= {"Moves (cont.)",
                                                                  "You will need"}
    lines = "\n".join(f["value"] for f in data["fields"] if f["name"].startswith("Moves"))
    assert lines.splitlines()[0] == f"**1.** {moves[0].name}: {'D' * 150}"


def test_fit_drops_fields_from_the_end_until_discord_would_take_it() -> None:
    embed = discord.Embed(title="t" * 300, description="d" * 5000)
    for i in range(30):
        embed.add_field(name=f"f{i}", value="v" * 100)
    data = assert_fits(fit(embed))
    # Title and description cut to 256 + 4096; fields of 102 (f0-f9) and 103 characters: 16
    # bring the total to 5990, a 17th would make it 6093.
    assert names(data) == [f"f{i}" for i in range(16)]


def test_fit_cuts_the_description_when_no_field_is_left_to_drop() -> None:
    embed = discord.Embed(title="t" * 256, description="d" * 4096)
    embed.set_footer(text="f" * 2048)  # 6400 characters before any field
    data = assert_fits(fit(embed))
    assert len(data["description"]) == 6000 - 256 - 2048 and data["description"].endswith("…")


# --- helpers -------------------------------------------------------------------------------

def test_clip_keeps_what_fits_and_marks_a_cut() -> None:
    assert clip("x" * 10, 10) == "x" * 10
    assert clip("x" * 11, 10) == "x" * 9 + "…"
    assert clip("abcd     efgh", 10) == "abcd…"  # no space left dangling before the mark


def test_chunk_lines_keeps_every_line_in_order_in_blocks_that_fit() -> None:
    lines = [f"line {i} " + "z" * (i * 37 % 300) for i in range(60)]
    blocks = chunk_lines(lines)
    assert all(len(b) <= 1024 for b in blocks)
    assert "\n".join(blocks).splitlines() == lines
    for before, after in pairwise(blocks):  # none of them could have taken one more line
        assert len(before) + 1 + len(after.split("\n")[0]) > 1024
    assert chunk_lines([]) == []
    assert chunk_lines(["y" * 2000]) == ["y" * 1023 + "…"]


def test_notice_embed_stays_within_limits() -> None:
    data = assert_fits(notice_embed("n" * 400, "m" * 5000))
    assert len(data["title"]) == 256 and len(data["description"]) == 4096


# --- hostile text --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("clams", "clams"),
        ("**bold** _it_ `code` ~~x~~ ||spoiler||",
         r"\*\*bold\*\* \_it\_ \`code\` \~\~x\~\~ \|\|spoiler\|\|"),
        ("@everyone @here", "@\u200beveryone @\u200bhere"),
        ("<@123> <@!123> <@&456>", "<\u200b@123> <\u200b@!123> <\u200b@&456>"),
        ("<#789> </checkin:1>", "<\u200b#789> <\u200b/checkin:1>"),
        ("\u202eevil\u202c \u2066x\u2069", "evil x"),  # direction overrides and isolates
        ("zero\u200bwidth\u200d\ufeff", "zerowidth"),
        ("a   b \u3000 c\u00a0d", "a b c d"),  # any run of spaces is one
        ("bell\x00\x07\x1b[31mred", "bell[31mred"),  # control characters dropped
        # A line break becomes a space: no line of its own (no heading, no quote).
        ("two\n# lines\r\n> quoted", "two # lines > quoted"),
        ("# heading", "\\# heading"),  # markdown that works at the start is escaped there
        ("> quote", "\\> quote"),
        ("-# small", "\\-# small"),
        ("[link](https://x.example)", "\\[link](https://x.example)"),
        ("", "(blank)"),
        (" \u200b\n\t\u202e ", "(blank)"),
    ],
)
def test_shown_makes_typed_text_safe(typed: str, expected: str) -> None:
    assert shown(typed) == expected
    assert_safe(shown(typed))


def test_shown_cuts_before_escaping_so_nothing_escaped_is_split() -> None:
    assert shown("a" * 500) == "a" * 79 + "…"
    assert shown("*" * 500, 10) == r"\*" * 9 + "…"
    assert shown("é" * 100, 120) == "é" * 100


def test_no_live_mention_survives_shown_whatever_is_typed() -> None:
    pieces = ["<", "@", "!", "&", "#", "/", ":", ">", "123", "everyone", "here", " ", "\u200b",
              "\u202e", "*", "\\"]
    for a in pieces:
        for b in pieces:
            for c in pieces:
                typed = f"{a}{b}{c}{a}{b}123>"
                text = shown(typed, 200)
                assert re.search(r"<[@#/]", text) is None, (typed, text)
                assert_safe(text)


def test_a_catalog_name_with_markup_is_shown_as_in_the_file() -> None:
    """Library text is the club's own (checked at load); it may format, and the embed keeps it,
    but it is never the way in for a member's text (see shown)."""
    e = exercise(name="Clams *slow*", summary="Use **both** sides.")
    data = assert_fits(exercise_embed(e, catalog_of([e])))
    assert data["title"] == "Clams *slow*" and "**both**" in text_of(data)


# --- library v2: easier / harder / without, equipment, the Done screen by kind ----------------

def test_the_exercise_card_shows_easier_harder_and_what_to_do_without() -> None:
    e = exercise(equipment="Resistance band (loop)", without="Do side lunges instead.",
                 easier="Smaller steps.", harder="A stronger band.",
                 cautions=("Stop if your hip pinches.",))
    data = assert_fits(exercise_embed(e, catalog_of([e])))
    fields = {f["name"]: f["value"] for f in data["fields"]}
    assert fields["Easier"] == "Smaller steps." and fields["Harder"] == "A stronger band."
    assert fields["No resistance band (loop)?"] == "Do side lunges instead."
    assert fields["Equipment"] == "Resistance band (loop)"
    order = names(data)
    assert order.index("Equipment") < order.index("No resistance band (loop)?") < order.index(
        "Easier") < order.index("Harder") < order.index("Cautions")


def test_the_exercise_card_leaves_out_what_is_not_there() -> None:
    e = exercise(equipment="None")  # a placeholder (refused by the loader) is never shown
    data = assert_fits(exercise_embed(e, catalog_of([e])))
    assert not {"Easier", "Harder", "Equipment"} & set(names(data))
    assert not any(n.startswith("No ") for n in names(data))


@pytest.mark.parametrize(("equipment", "title"), [
    ("Mat", "No mat?"), ("TRX straps", "No TRX straps?"), ("a step", "No a step?"),
])
def test_without_title(equipment: str, title: str) -> None:
    assert without_title(equipment) == title
    assert len(without_title("E" * 300)) == 256


def test_you_will_need_lists_real_equipment_once() -> None:
    band = exercise(1, equipment="Resistance band (loop)")
    band2 = exercise(2, equipment="resistance band (loop)")
    none = exercise(3, equipment="None")
    dash = exercise(4, equipment="-")
    bare = exercise(5)
    mat = exercise(6, equipment="Mat")
    moves = [band, none, band2, dash, bare, mat]
    routine = Routine("r", "R", "s", 6, tuple(RoutineStep(m, "1") for m in moves))
    data = assert_fits(routine_embed(routine, catalog_of(moves, [routine])))
    need = next(f["value"] for f in data["fields"] if f["name"] == "You will need")
    assert need.splitlines() == ["• Resistance band (loop)", "• Mat"]
    plain = Routine("p", "P", "s", 1, (RoutineStep(none, "1"), RoutineStep(bare, "1")))
    assert "You will need" not in names(assert_fits(routine_embed(plain, catalog_of(moves))))


def test_the_routine_card_shows_about_how_long_it_takes() -> None:
    e = exercise(seconds=60)
    routine = Routine("r", "R", "s", 3, (RoutineStep(e, "1"), RoutineStep(e, "1", 120)),
                      "pre-run")
    assert routine.total_seconds == 180
    data = assert_fits(routine_embed(routine, catalog_of([e], [routine])))
    assert data["title"] == "R · about 3 min"


@pytest.mark.parametrize(("kind", "words"), [
    ("pre-run", "have a good run"), ("drills", "end of a run"), ("strength", "easy day"),
    ("mobility", "after your run"),
])
def test_the_done_screen_closes_by_the_routines_kind(kind: str, words: str) -> None:
    e = exercise()
    routine = Routine("r", "R", "s", 2, (RoutineStep(e, "1"), RoutineStep(e, "2")), kind)
    data = assert_fits(walkthrough_done_embed(routine, catalog_of([e], [routine])))
    assert data["description"] == f"That was all 2 moves. {DONE_LINES[kind]}"
    assert words in data["description"]
    others = [line for k, line in DONE_LINES.items() if k != kind]
    assert not any(line in data["description"] for line in others)


def test_only_a_pre_run_done_screen_sends_you_off_to_run() -> None:
    assert "good run" in DONE_LINES["pre-run"]
    assert "not just before a hard one" in DONE_LINES["strength"]
    assert all("good run" not in DONE_LINES[k] for k in ("drills", "strength", "mobility"))
    one = Routine("r", "R", "s", 1, (RoutineStep(exercise(), "1"),), "mobility")
    data = assert_fits(walkthrough_done_embed(one, catalog_of([exercise()], [one])))
    assert data["description"].startswith("That was the whole routine. ")
