"""The exercise library: the shipped file, validation errors, search and suggestions."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from stride.catalog import CATEGORIES, Catalog, CatalogError, load_catalog, parse_catalog

ARTICLE_ENTRIES = [
    "clams", "reverse-clams", "donkey-kicks", "lunge-matrix", "trunk-extension",
    "glute-isolation", "surges", "strides", "bounding", "squats", "bosu-runners-lunge",
    "deadlifts", "step-ups", "running-form",
]


def test_every_article_exercise_is_in_the_library(catalog: Catalog) -> None:
    ids = {e.id for e in catalog.exercises}
    assert set(ARTICLE_ENTRIES) <= ids
    assert {"glute-bridge", "side-plank", "fire-hydrant", "monster-walk"} <= ids


def test_every_category_has_entries(catalog: Catalog) -> None:
    for category in CATEGORIES:
        assert catalog.in_category(category), category


def test_lunge_matrix_has_five_directions_and_a_hip_caution(catalog: Catalog) -> None:
    matrix = catalog.get("lunge-matrix")
    assert matrix is not None
    assert len(matrix.steps) >= 5
    assert any("labrum" in c.lower() for c in matrix.cautions)


def test_myrtl_members_are_marked(catalog: Catalog) -> None:
    assert {e.id for e in catalog.exercises if e.myrtl} >= {"clams", "donkey-kicks"}


def test_required_routines(catalog: Catalog) -> None:
    quick, full = catalog.routine("quick"), catalog.routine("full")
    assert quick and full
    assert 2 <= quick.minutes <= 3
    assert {s.exercise.id for s in quick.steps} == {"clams", "lunge-matrix"}
    # The long pre-run routine: the article's activation set, with the ball and the band.
    assert full.kind == "pre-run" and full.minutes >= 12 and full.needs_equipment
    article = {"glute-isolation", "clams", "reverse-clams", "side-plank", "glute-bridge",
               "fire-hydrant", "donkey-kicks", "trunk-extension", "monster-walk",
               "lunge-matrix"}
    assert article <= {s.exercise.id for s in full.steps}
    assert all(s.exercise.category in ("activation", "drill") for s in full.steps)
    kinds = {"drills": "drills", "strength": "strength", "standing": "pre-run",
             "after-run": "mobility", "myrtl": "pre-run"}
    for rid, kind in kinds.items():
        found = catalog.routine(rid)
        assert found is not None and found.kind == kind, rid
    # Myrtl is the whole 12-move circuit, about 5 minutes, with no equipment.
    myrtl = catalog.routine("myrtl")
    assert myrtl is not None and len(myrtl.steps) == 12 and 4 <= myrtl.minutes <= 6
    assert not myrtl.needs_equipment


def test_no_people_are_named(catalog: Catalog) -> None:
    text = Path("data/exercises.toml").read_text("utf-8").lower()
    for name in ("adam", "homolka", "jay johnson", "zach", "livingstone", "ryan hall", "tina"):
        assert name not in text


def test_safety_note_mentions_physio_and_pain(catalog: Catalog) -> None:
    assert "physio" in catalog.safety.lower()
    assert "hurt" in catalog.safety.lower() or "pain" in catalog.safety.lower()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("clams", "clams"),
        ("Clams", "clams"),
        ("clamshell", "clams"),
        ("CLAM SHELLS", "clams"),
        ("reverse clams", "reverse-clams"),
        ("side lunge", "lunge-matrix"),
        ("rdl", "deadlifts"),
        ("plank", "side-plank"),
        ("donkey", "donkey-kicks"),
    ],
)
def test_resolve_forgives_case_spacing_and_aliases(
    catalog: Catalog, typed: str, expected: str
) -> None:
    found = catalog.resolve(typed)
    assert found is not None and found.id == expected


def test_ambiguous_or_unknown_names_do_not_resolve(catalog: Catalog) -> None:
    assert catalog.resolve("glute") is None
    assert catalog.resolve("xyzzy") is None
    assert catalog.resolve("") is None


def test_search_matches_any_part_of_names_and_aliases(catalog: Catalog) -> None:
    assert catalog.search("clamshell")[0].exercise.id == "clams"
    assert "glute-bridge" in [m.exercise.id for m in catalog.search("bridge")]
    ids = [m.exercise.id for m in catalog.search("lunge")]
    assert ids[:2] == ["lunge-matrix", "bosu-runners-lunge"]


def test_search_is_capped_and_empty_query_lists_all(catalog: Catalog) -> None:
    assert len(catalog.search("", limit=25)) == min(25, len(catalog.exercises))
    assert len(catalog.search("", limit=5)) == 5


def test_suggestions_for_typos(catalog: Catalog) -> None:
    assert catalog.suggest("clmas")[0].id == "clams"
    assert [e.id for e in catalog.suggest("clams")][:2] == ["clams", "reverse-clams"]
    assert len(catalog.suggest("zzzzzz")) == 3


def test_routine_lookup_by_id_or_name(catalog: Catalog) -> None:
    quick = catalog.routine("quick")
    assert quick is not None
    assert catalog.routine(quick.name) is quick
    assert catalog.routine("QUICK") is quick
    assert catalog.routine("nope") is None


# --- broken data files -------------------------------------------------------------------


def _broken(raw: dict[str, Any], change: Any) -> str:
    data = copy.deepcopy(raw)
    change(data)
    with pytest.raises(CatalogError) as info:
        parse_catalog(data, "data/exercises.toml")
    return str(info.value)


def _entry(data: dict[str, Any], exercise_id: str) -> dict[str, Any]:
    return next(e for e in data["exercises"] if e["id"] == exercise_id)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: _entry(d, "clams").pop("steps"),
         r"exercise #\d+ \('clams'\), field 'steps': is required"),
        (lambda d: _entry(d, "clams").update(steps=[]),
         r"\('clams'\), field 'steps': has 0 items"),
        (lambda d: _entry(d, "clams").update(category="cardio"),
         r"\('clams'\), field 'category': unknown category; use one of: activation"),
        (lambda d: _entry(d, "clams").update(dose="x" * 151),
         r"\('clams'\), field 'dose': is 151 characters long; at most 150"),
        (lambda d: _entry(d, "clams").update(stpes=["typo"]),
         r"\('clams'\), field 'stpes': unknown field"),
        (lambda d: _entry(d, "clams").update(related=["nope"]),
         r"\('clams'\), field 'related': 'nope' is not another entry's id"),
        (lambda d: _entry(d, "clams").update(id="Clams!"),
         r"field 'id': must be lower-case letters"),
        (lambda d: _entry(d, "squats").update(aliases=["clamshell"]),
         r"\('squats'\), field 'aliases': 'clamshell' is already used by entry 'clams'"),
        (lambda d: _entry(d, "clams").update(seconds=0),
         r"field 'seconds': is 0; must be from 10 to 900"),
        (lambda d: _entry(d, "clams").update(cues="squeeze"),
         r"field 'cues': must be a list of texts"),
        (lambda d: d["routines"][0]["steps"].append({"exercise": "nope"}),
         r"routine #1 \('quick'\), step \d+, field 'exercise': 'nope' is not an exercise id"),
        (lambda d: d["routines"][0].update(minutes="3"),
         r"routine #1 \('quick'\), field 'minutes': must be a whole number"),
        (lambda d: d.update(schema=2), r"top level, field 'schema': must be 1"),
        (lambda d: d.pop("safety"), r"top level, field 'safety': is required"),
        (lambda d: d.update(exercises=[]), r"field 'exercises': needs at least one"),
    ],
)
def test_broken_entries_name_the_file_entry_and_field(
    raw_catalog: dict[str, Any], change: Any, expected: str
) -> None:
    message = _broken(raw_catalog, change)
    assert message.startswith("data/exercises.toml: ")
    assert re.search(expected, message), message


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "exercises.toml"
    bad.write_text('schema = 1\n[[exercises]]\nid = "clams\n', "utf-8")
    with pytest.raises(CatalogError, match=r"exercises.toml: not valid TOML: .*line 3"):
        load_catalog(bad)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="file not found"):
        load_catalog(tmp_path / "nope.toml")


def test_a_club_can_add_an_exercise(raw_catalog: dict[str, Any]) -> None:
    raw = copy.deepcopy(raw_catalog)
    raw["exercises"].append({
        "id": "calf-raises", "name": "Calf raises", "category": "strength",
        "summary": "Strong calves for hills.", "steps": ["Rise onto your toes.", "Lower slowly."],
        "dose": "15 reps, 2 sets", "aliases": ["heel raises"],
    })
    catalog = parse_catalog(raw)
    found = catalog.resolve("heel raise")
    assert found is not None and found.id == "calf-raises"


def test_the_reviewed_corrections_hold(catalog: Catalog) -> None:
    """What a review of the library against the article and coaching practice corrected."""
    def text(eid: str) -> str:
        found = catalog.get(eid)
        assert found is not None, eid
        return " ".join([found.name, found.summary, *found.steps, *found.cues, *found.mistakes,
                         *found.cautions, found.dose]).lower()

    form = text("running-form")
    assert "ankles" in form and "hinging from the hips" not in form  # lean from the ankles
    assert "breath" not in form
    strides = catalog.get("strides")
    assert strides is not None and "15-30 s" in strides.dose and "7-10 s" in strides.dose
    assert not any("10 seconds" in m or "10 s" in m for m in strides.mistakes)
    assert "8-10" in text("bounding")  # 2-3 sets of 8-10 contacts, not 2-4 × 10-15
    assert "labrum" in text("bosu-runners-lunge") and "labrum" in text("lunge-matrix")
    step_ups = text("step-ups")
    assert "non-folding" in step_ups and "wall" in step_ups and "coaching" in step_ups
    deadlifts = catalog.get("deadlifts")
    assert deadlifts is not None and deadlifts.name == "Romanian deadlifts"
    assert "before" in text("deadlifts") and "round" in text("deadlifts")
    aliases = {a.lower() for e in catalog.exercises for a in e.aliases}
    assert not aliases & {"runner's lunge", "runners lunge", "crab walk"}
    for myrtl_move in ("clams", "fire-hydrant", "donkey-kicks"):
        assert "12" in text(myrtl_move) and "myrtl" in text(myrtl_move), myrtl_move
    assert all(e.equipment is None or e.equipment.lower() not in ("none", "-")
               for e in catalog.exercises)
