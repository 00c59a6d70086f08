"""The library's v2 schema and the club's own file, on small catalogs built here (independent
of the shipped data): easier/harder/without, placeholder equipment, the mobility category,
routine kinds, routine times, and the club file merged over the shipped one."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from stride.catalog import (
    CATEGORIES,
    ROUTINE_KINDS,
    CatalogError,
    is_placeholder,
    load_catalog,
    parse_catalog,
    rounded_minutes,
)
from stride.config import ROOT, Settings

SHIPPED = "data/exercises.toml"
CLUB = "data/club-exercises.toml"


def small() -> dict[str, Any]:
    """A tiny valid library: three exercises, two routines."""
    return {
        "schema": 1,
        "safety": "Not medical advice: see a physio, stop if it hurts.",
        "exercises": [
            {"id": "clams", "name": "Clams", "category": "activation", "summary": "Side hip.",
             "steps": ["Lie on your side.", "Lift the knee."], "dose": "10 each side",
             "aliases": ["clamshell"], "seconds": 60, "easier": "Smaller lifts.",
             "harder": "Add a band above the knees."},
            {"id": "band-walk", "name": "Band walk", "category": "activation",
             "summary": "Side steps.", "steps": ["Step sideways."], "dose": "10 steps each way",
             "equipment": "Resistance band (loop)", "without": "Do slow side lunges instead.",
             "seconds": 60},
            {"id": "squats", "name": "Squats", "category": "strength", "summary": "Legs.",
             "steps": ["Sit back.", "Stand up."], "dose": "3 sets of 12"},
            {"id": "hip-flexor-stretch", "name": "Hip flexor stretch", "category": "mobility",
             "summary": "Front of the hip.", "steps": ["Kneel.", "Lean forward."],
             "dose": "30 s each side", "seconds": 60},
        ],
        "routines": [
            {"id": "quick", "name": "Quick", "kind": "pre-run", "summary": "Two moves.",
             "minutes": 2, "steps": [{"exercise": "clams"}, {"exercise": "band-walk"}]},
            {"id": "strength", "name": "Strength", "kind": "strength", "summary": "Legs.",
             "minutes": 5, "steps": [{"exercise": "squats", "dose": "3 x 12", "seconds": 300}]},
        ],
    }


def _ex(data: dict[str, Any], exercise_id: str) -> dict[str, Any]:
    return next(e for e in data["exercises"] if e["id"] == exercise_id)


def _refused(change: Any, raw: dict[str, Any] | None = None) -> str:
    data = copy.deepcopy(raw or small())
    change(data)
    with pytest.raises(CatalogError) as info:
        parse_catalog(data, SHIPPED)
    return str(info.value)


# --- the new fields, loaded -----------------------------------------------------------------

def test_the_new_fields_are_loaded() -> None:
    catalog = parse_catalog(small(), SHIPPED)
    clams, band = catalog.get("clams"), catalog.get("band-walk")
    assert clams is not None and band is not None
    assert (clams.easier, clams.harder, clams.without) == (
        "Smaller lifts.", "Add a band above the knees.", None)
    assert band.equipment == "Resistance band (loop)"
    assert band.without == "Do slow side lunges instead."
    assert band.needs_equipment is True  # done as written it needs the band
    quick, strength = catalog.routine("quick"), catalog.routine("strength")
    assert quick is not None and strength is not None
    assert (quick.kind, strength.kind) == ("pre-run", "strength")
    assert [s.duration for s in quick.steps] == [60, 60] and quick.total_seconds == 120
    assert quick.steps[0].seconds is None  # the step took its exercise's time
    assert strength.steps[0].seconds == 300 and strength.minutes == 5
    assert quick.equipment == ["Resistance band (loop)"]


def test_mobility_is_the_last_category_and_the_old_ones_keep_their_order() -> None:
    assert list(CATEGORIES) == ["activation", "drill", "form", "strength", "mobility"]
    assert CATEGORIES["mobility"] == "After the run: mobility"
    catalog = parse_catalog(small(), SHIPPED)
    assert [e.id for e in catalog.in_category("mobility")] == ["hip-flexor-stretch"]
    assert list(ROUTINE_KINDS) == ["pre-run", "drills", "strength", "mobility"]


@pytest.mark.parametrize(("seconds", "minutes"), [
    (0, 1), (10, 1), (29, 1), (89, 1), (90, 2), (120, 2), (149, 2), (150, 3), (5400, 90),
])
def test_minutes_are_the_total_to_the_nearest_minute_at_least_one(seconds: int,
                                                                   minutes: int) -> None:
    assert rounded_minutes(seconds) == minutes


@pytest.mark.parametrize("text", ["None", "none", "-", " NONE ", "n/a", "—", "Nothing"])
def test_placeholders_are_recognised(text: str) -> None:
    assert is_placeholder(text)


@pytest.mark.parametrize("text", ["Mat", "Resistance band (loop)", "None needed; a step"])
def test_real_equipment_is_not_a_placeholder(text: str) -> None:
    assert not is_placeholder(text)


def test_a_routine_time_that_rounds_half_up() -> None:
    raw = small()
    raw["routines"][0]["steps"] = [{"exercise": "clams", "seconds": 45},
                                   {"exercise": "band-walk", "seconds": 45}]
    assert parse_catalog(raw, SHIPPED).routines[0].minutes == 2  # 90 s: about 2 min


# --- every new validation error names the file, the entry and the field --------------------

@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: _ex(d, "clams").update(easier="e" * 201),
         r"exercise #1 \('clams'\), field 'easier': is 201 characters long; at most 200"),
        (lambda d: _ex(d, "clams").update(harder="h" * 201),
         r"exercise #1 \('clams'\), field 'harder': is 201 characters long; at most 200"),
        (lambda d: _ex(d, "band-walk").update(without="w" * 201),
         r"exercise #2 \('band-walk'\), field 'without': is 201 characters long; at most 200"),
        (lambda d: _ex(d, "clams").update(easier=" "),
         r"\('clams'\), field 'easier': must be a non-empty text"),
        (lambda d: _ex(d, "clams").update(without="Skip the band."),
         r"exercise #1 \('clams'\), field 'without': says what to do without the equipment, "
         r"but there is no 'equipment'"),
        (lambda d: _ex(d, "band-walk").update(equipment="None"),
         r"exercise #2 \('band-walk'\), field 'equipment': 'None' is not equipment; leave the "
         r"field out"),
        (lambda d: _ex(d, "band-walk").update(equipment="none"),
         r"\('band-walk'\), field 'equipment': 'none' is not equipment"),
        (lambda d: _ex(d, "band-walk").update(equipment="-"),
         r"\('band-walk'\), field 'equipment': '-' is not equipment"),
        (lambda d: _ex(d, "clams").update(category="yoga"),
         r"\('clams'\), field 'category': unknown category; use one of: activation, drill, "
         r"form, strength, mobility$"),
        (lambda d: d["exercises"].append(copy.deepcopy(_ex(d, "squats"))),
         r"exercise #5 \('squats'\), field 'id': 'squats' is used by another exercise"),
        (lambda d: d["routines"][0].pop("kind"),
         r"routine #1 \('quick'\), field 'kind': is required"),
        (lambda d: d["routines"][0].update(kind="warm-up"),
         r"routine #1 \('quick'\), field 'kind': unknown kind; use one of: pre-run, drills, "
         r"strength, mobility$"),
        (lambda d: d["routines"][1]["steps"][0].pop("seconds"),
         r"routine #2 \('strength'\), step 1, field 'seconds': is required: exercise 'squats' "
         r"has no 'seconds', so give this step its own, like seconds = 60$"),
        (lambda d: d["routines"][1]["steps"][0].update(seconds=5),
         r"routine #2 \('strength'\), step 1, field 'seconds': is 5; must be from 10 to 900"),
        (lambda d: d["routines"][1]["steps"][0].update(seconds="5 min"),
         r"routine #2 \('strength'\), step 1, field 'seconds': must be a whole number"),
        (lambda d: d["routines"][0].update(minutes=3),
         r"routine #1 \('quick'\), field 'minutes': is 3, but its steps take 2 min in all; "
         r"make it 2"),
        (lambda d: d["routines"][0]["steps"].append({"exercise": "clams", "seconds": 50}),
         r"routine #1 \('quick'\), field 'minutes': is 2, but its steps take 2 min 50 s in "
         r"all; make it 3"),
    ],
)
def test_new_errors_name_the_file_entry_and_field(change: Any, expected: str) -> None:
    message = _refused(change)
    assert message.startswith(f"{SHIPPED}: "), message
    assert re.search(expected, message), message


def test_a_placeholder_with_a_without_is_refused_for_the_placeholder() -> None:
    message = _refused(lambda d: _ex(d, "band-walk").update(equipment="None"))
    assert "field 'equipment'" in message and "field 'without'" not in message


# --- the club's own file, merged over the shipped one ---------------------------------------

def club(**tables: list[dict[str, Any]]) -> dict[str, Any]:
    return {**tables}


CALF = {"id": "calf-raises", "name": "Calf raises", "category": "strength",
        "summary": "Calves.", "steps": ["Rise.", "Lower."], "dose": "15 reps",
        "aliases": ["heel raises"], "seconds": 90}


def test_a_club_entry_with_a_new_id_is_added_after_the_shipped_ones() -> None:
    catalog = parse_catalog(small(), SHIPPED, club=club(exercises=[CALF]), club_source=CLUB)
    assert [e.id for e in catalog.exercises][-1] == "calf-raises"
    assert len(catalog.exercises) == 5
    found = catalog.resolve("heel raise")
    assert found is not None and found.id == "calf-raises"


def test_a_club_entry_with_a_shipped_id_replaces_it_whole_in_place() -> None:
    mine = {"id": "clams", "name": "Our clams", "category": "activation", "summary": "Ours.",
            "steps": ["Our way."], "dose": "12 each side", "seconds": 60}
    catalog = parse_catalog(small(), SHIPPED, club=club(exercises=[mine]), club_source=CLUB)
    clams = catalog.get("clams")
    assert clams is not None and catalog.exercises[0] is clams
    assert (clams.name, clams.steps, clams.dose) == ("Our clams", ("Our way.",), "12 each side")
    # Whole: nothing of the shipped entry is kept (no merging of fields).
    assert clams.aliases == () and clams.easier is None and clams.harder is None
    assert catalog.find("clamshell") is None
    # Shipped routines use the club's version.
    quick = catalog.routine("quick")
    assert quick is not None and quick.steps[0].exercise is clams
    assert quick.steps[0].dose == "12 each side"


def test_club_routines_are_added_or_replace_the_shipped_ones() -> None:
    mine = {"id": "quick", "name": "Our quick", "kind": "pre-run", "summary": "Ours.",
            "minutes": 1, "steps": [{"exercise": "clams"}]}
    extra = {"id": "calves", "name": "Calves", "kind": "strength", "summary": "Calves.",
             "minutes": 2, "steps": [{"exercise": "calf-raises", "seconds": 120}]}
    catalog = parse_catalog(small(), SHIPPED, club=club(exercises=[CALF], routines=[mine, extra]),
                            club_source=CLUB)
    assert [r.id for r in catalog.routines] == ["quick", "strength", "calves"]
    quick = catalog.routine("quick")
    assert quick is not None and quick.name == "Our quick" and len(quick.steps) == 1


def test_a_club_file_with_safety_and_schema_only() -> None:
    catalog = parse_catalog(small(), SHIPPED, club={"schema": 1, "safety": "Our note: a physio."},
                            club_source=CLUB)
    assert catalog.safety == "Our note: a physio." and len(catalog.exercises) == 4


def _club_refused(extra: dict[str, Any]) -> str:
    with pytest.raises(CatalogError) as info:
        parse_catalog(small(), SHIPPED, club=extra, club_source=CLUB)
    return str(info.value)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (club(exercises=[{**CALF, "category": "cardio"}]),
         rf"^{CLUB}: exercise #1 \('calf-raises'\), field 'category': unknown category"),
        (club(exercises=[CALF, {**CALF, "steps": []}]),
         rf"^{CLUB}: exercise #2 \('calf-raises'\), field 'steps': has 0 items"),
        (club(exercises=[CALF, {**CALF, "name": "Calf raises 2", "aliases": []}]),
         rf"^{CLUB}: exercise #2 \('calf-raises'\), field 'id': 'calf-raises' is used by "
         r"another exercise"),
        (club(exercises=[{**CALF, "aliases": ["clamshell"]}]),
         rf"^{CLUB}: exercise #1 \('calf-raises'\), field 'aliases': 'clamshell' is already "
         r"used by entry 'clams'"),
        (club(exercises=[{**CALF, "related": ["nope"]}]),
         rf"^{CLUB}: exercise #1 \('calf-raises'\), field 'related': 'nope' is not another"),
        (club(exercises=[{**CALF, "equipment": "-"}]),
         rf"^{CLUB}: exercise #1 \('calf-raises'\), field 'equipment': '-' is not equipment"),
        (club(routines=[{"id": "calves", "name": "Calves", "kind": "strength", "summary": "x",
                         "minutes": 2, "steps": [{"exercise": "calf-raises"}]}]),
         rf"^{CLUB}: routine #1 \('calves'\), step 1, field 'exercise': 'calf-raises' is not "
         r"an exercise id"),
        (club(routines=[{"id": "quick", "name": "Quick", "summary": "x", "minutes": 2,
                         "steps": [{"exercise": "clams"}]}]),
         rf"^{CLUB}: routine #1 \('quick'\), field 'kind': is required"),
        (club(routines=[{"id": "quick", "name": "Quick", "kind": "pre-run", "summary": "x",
                         "minutes": 5, "steps": [{"exercise": "clams"}]}]),
         rf"^{CLUB}: routine #1 \('quick'\), field 'minutes': is 5, but its steps take 1 min "
         r"in all; make it 1"),
        ({"schema": 2}, rf"^{CLUB}: top level, field 'schema': must be 1 \(or left out\)"),
        ({"exercise": []}, rf"^{CLUB}: top level, field 'exercise': unknown field"),
        ({"exercises": {"id": "x"}},
         rf"^{CLUB}: top level, field 'exercises': must be \[\[exercises\]\] tables"),
        ({"safety": ""}, rf"^{CLUB}: top level, field 'safety': must be a non-empty text"),
    ],
)
def test_club_errors_name_the_club_file(extra: dict[str, Any], expected: str) -> None:
    message = _club_refused(extra)
    assert re.search(expected, message), message


def test_a_shipped_routine_timed_by_a_club_exercise_says_where_to_fix_it() -> None:
    slower = {**_ex(small(), "clams"), "seconds": 300}
    message = _club_refused(club(exercises=[slower]))
    assert message.startswith(f"{SHIPPED}: routine #1 ('quick'), field 'minutes': is 2, but its "
                              "steps take 6 min in all; make it 6"), message
    assert f"the time of 'clams' comes from {CLUB}: copy this routine there" in message
    untimed = {k: v for k, v in _ex(small(), "clams").items() if k != "seconds"}
    message = _club_refused(club(exercises=[untimed]))
    assert message.startswith(f"{SHIPPED}: routine #1 ('quick'), step 1, field 'seconds': is "
                              "required"), message
    assert f"comes from {CLUB}" in message


# --- files -----------------------------------------------------------------------------------

def _toml(data: dict[str, Any]) -> str:
    """Enough TOML for these tables (strings, numbers, lists of strings or inline tables)."""
    def value(v: Any) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(i) for i in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(i)}" for k, i in v.items()) + " }"
        return str(v)

    lines = [f"{k} = {value(v)}" for k, v in data.items() if not isinstance(v, list)
             or not v or not isinstance(v[0], dict)]
    for kind in ("exercises", "routines"):
        for table in data.get(kind, []):
            lines += ["", f"[[{kind}]]"] + [f"{k} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def test_load_catalog_merges_the_club_file_when_it_exists(tmp_path: Path) -> None:
    shipped, mine = tmp_path / "exercises.toml", tmp_path / "club-exercises.toml"
    shipped.write_text(_toml(small()), "utf-8")
    assert len(load_catalog(shipped, mine).exercises) == 4  # no club file: the shipped one
    assert len(load_catalog(shipped).exercises) == 4
    mine.write_text(_toml({"exercises": [CALF]}), "utf-8")
    assert [e.id for e in load_catalog(shipped, mine).exercises][-1] == "calf-raises"
    mine.write_text(_toml({"exercises": [{**CALF, "seconds": 1}]}), "utf-8")
    with pytest.raises(CatalogError, match=rf"^{re.escape(str(mine))}: exercise #1 "
                       r"\('calf-raises'\), field 'seconds': is 1"):
        load_catalog(shipped, mine)
    mine.write_text('[[exercises]]\nid = "x\n', "utf-8")
    with pytest.raises(CatalogError, match=rf"^{re.escape(str(mine))}: not valid TOML"):
        load_catalog(shipped, mine)


def test_the_club_file_setting(tmp_path: Path) -> None:
    assert Settings.from_env({}, need_token=False).club_exercises_path == (
        ROOT / "data" / "club-exercises.toml")
    relative = Settings.from_env({"CLUB_EXERCISES_PATH": "data/ours.toml"}, need_token=False)
    assert relative.club_exercises_path == ROOT / "data" / "ours.toml"
    absolute = Settings.from_env({"CLUB_EXERCISES_PATH": str(tmp_path / "c.toml")},
                                 need_token=False)
    assert absolute.club_exercises_path == tmp_path / "c.toml"


def test_the_club_file_is_ignored_by_git() -> None:
    assert "data/club-exercises.toml" in (ROOT / ".gitignore").read_text("utf-8").splitlines()
    assert "CLUB_EXERCISES_PATH=data/club-exercises.toml" in (
        ROOT / ".env.example").read_text("utf-8")
