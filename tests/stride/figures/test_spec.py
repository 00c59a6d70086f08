"""Reading the poses file: every mistake is named by file, figure and field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from stride.catalog import Catalog, CatalogError
from stride.figures import load_figures
from stride.figures.spec import parse_figures

GOOD = """
[[figures]]
exercise = "clams"
view = "front"
sides = "both"
highlight = ["outer_hip_r"]
trail = ["knee_r"]
anchor = "ankle_l"
planted = ["ankle_l"]
equipment = [{ kind = "band", between = ["knee_l", "knee_r"] }]
base = { roll = 90, hip_flex_l = 45, hip_flex_r = 45, knee_l = 90, knee_r = 90 }
[[figures.poses]]
[[figures.poses]]
hip_abd_r = 30
"""


def figure(**changes: Any) -> dict[str, Any]:
    table = tomllib.loads(GOOD)["figures"][0]
    for key, value in changes.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return {"figures": [table]}


def error(catalog: Catalog, raw: dict[str, Any]) -> str:
    with pytest.raises(CatalogError) as caught:
        parse_figures(raw, "club.toml", catalog)
    return str(caught.value)


def test_a_good_figure_reads_with_its_base_under_every_pose(catalog: Catalog) -> None:
    spec = parse_figures(tomllib.loads(GOOD), "f.toml", catalog)["clams"]
    assert spec.camera == (0.0, 8.0) and spec.sides == "both" and spec.seconds == 1.5
    assert [p.angles.get("hip_abd_r", 0) for p in spec.poses] == [0, 30]
    assert all(p.angles["knee_l"] == 90 and p.placement["roll"] == 90 for p in spec.poses)
    assert spec.equipment[0].between == ("knee_l", "knee_r")


@pytest.mark.parametrize(("changes", "expected"), [
    ({"exercise": "clamz"}, "figure #1 ('clamz'), field 'exercise': 'clamz' is not an exercise"),
    ({"view": "sideways"}, "field 'view': 'sideways' is unknown; use one of: front, side"),
    ({"view": None, "camera": [0, 95]}, "field 'camera': is 95; must be from -10 to 80"),
    ({"sides": "left"}, "field 'sides': must be \"one\""),
    ({"seconds": 9}, "field 'seconds': is 9; must be from 1 to 3"),
    ({"highlight": ["bicep_l"]}, "field 'highlight': 'bicep_l' is unknown"),
    ({"anchor": "nose"}, "field 'anchor': 'nose' is not a point of the figure"),
    ({"planted": "ankle_l"}, "field 'planted': must be a list of names"),
    ({"poses": [{}]}, "field 'poses': must be 2 to 4"),
    ({"poses": [{}, {"hip_abd_r": 95}]},
     "figure #1 ('clams'), pose 2, field 'hip_abd_r': is 95; must be from -30 to 75"),
    ({"poses": [{}, {"elbow_x": 10}]}, "pose 2, field 'elbow_x': unknown field"),
    ({"poses": [{}, {"knee_l": "bent"}]}, "pose 2, field 'knee_l': must be a number"),
    ({"base": {"knee_l": 170}}, "pose 1, field 'knee_l': is 170; must be from 0 to 155"),
    ({"base": {"wobble": 1}}, "base, field 'wobble': unknown field"),
    ({"colour": "red"}, "field 'colour': unknown field"),
    ({"equipment": [{"kind": "trampoline"}]}, "equipment 1, field 'kind': 'trampoline'"),
    ({"equipment": [{"kind": "box", "at": [0, 0]}]}, "equipment 1, field 'size': is required"),
    ({"equipment": [{"kind": "band", "between": ["knee_l", "knee_l"]}]},
     "field 'between': must name two different points"),
    ({"equipment": [{"kind": "ball", "at": [0, 0], "radius": 0.01}]},
     "field 'radius': is 0.01; must be from 0.05"),
])
def test_mistakes_are_named_by_file_figure_and_field(
    catalog: Catalog, changes: dict[str, Any], expected: str
) -> None:
    message = error(catalog, figure(**changes))
    assert message.startswith("club.toml: figure #1")
    assert expected in message


def test_two_figures_for_one_exercise_in_a_file_are_refused(catalog: Catalog) -> None:
    raw = figure()
    raw["figures"].append(raw["figures"][0])
    assert "figure #2 ('clams'), field 'exercise': another figure" in error(catalog, raw)


def test_a_later_file_re_poses_an_exercise_and_changes_its_digest(
    catalog: Catalog, tmp_path: Path
) -> None:
    shipped, club = tmp_path / "figures.toml", tmp_path / "club.toml"
    shipped.write_text(GOOD, encoding="utf-8")
    club.write_text(GOOD.replace("hip_abd_r = 30", "hip_abd_r = 40"), encoding="utf-8")
    alone = load_figures(catalog, shipped)["clams"]
    both = load_figures(catalog, shipped, club, tmp_path / "missing.toml")["clams"]
    assert both.poses[1].angles["hip_abd_r"] == 40
    assert alone.digest != both.digest and len(alone.digest) == 16
    assert load_figures(catalog, shipped)["clams"].digest == alone.digest  # stable


def test_broken_toml_is_named(catalog: Catalog, tmp_path: Path) -> None:
    bad = tmp_path / "club.toml"
    bad.write_text("[[figures]\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"club.toml: not valid TOML"):
        load_figures(catalog, bad)


def test_the_shipped_poses_skip_exercises_a_trimmed_library_lacks(
    catalog: Catalog, tmp_path: Path
) -> None:
    from stride.catalog import Catalog as Library
    from stride.figures import library_figures

    trimmed = Library(exercises=tuple(e for e in catalog.exercises if e.id != "clams"),
                      routines=(), safety="s")
    shipped, club = tmp_path / "figures.toml", tmp_path / "club.toml"
    shipped.write_text(GOOD, encoding="utf-8")
    assert library_figures(trimmed, shipped, club) == {}  # left out, not refused
    club.write_text(GOOD, encoding="utf-8")  # but the club's own figure must name one
    with pytest.raises(CatalogError, match=r"club.toml: figure #1 \('clams'\), field "
                       r"'exercise': 'clams' is not an exercise id"):
        library_figures(trimmed, shipped, club)
