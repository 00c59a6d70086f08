"""Every shipped exercise has a figure, and every figure is a small, valid, looping GIF that
matches its poses byte for byte and moves like a body."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from stride.catalog import Catalog
from stride.config import DEFAULT_FIGURES
from stride.figures import FigureSpec, load_figures, measure, render_gif
from stride.figures.library import SHIPPED, Manifest
from stride.figures.style import HEIGHT, WIDTH

from ...conftest import EXERCISES

MAX_BYTES = 200_000
MAX_DRIFT_PX = 3.0


def _shipped() -> dict[str, FigureSpec]:
    from stride.catalog import load_catalog

    return load_figures(load_catalog(EXERCISES), DEFAULT_FIGURES)


SPECS = _shipped()
IDS = sorted(SPECS)


def test_every_exercise_has_a_figure(catalog: Catalog) -> None:
    assert sorted(e.id for e in catalog.exercises) == IDS


def test_the_manifest_names_every_figure_with_its_digest() -> None:
    manifest = Manifest.read(SHIPPED)
    assert manifest.digests == {i: SPECS[i].digest for i in IDS}, (
        "data/figures/ is out of date: run python -m ops.figures")
    assert sorted(p.stem for p in Path(SHIPPED).glob("*.gif")) == IDS


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_gif_is_small_animated_and_loops_in_two_to_three_seconds(exercise_id: str) -> None:
    data = (SHIPPED / f"{exercise_id}.gif").read_bytes()
    assert len(data) <= MAX_BYTES
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "GIF" and image.size == (WIDTH, HEIGHT)
        assert image.is_animated and image.n_frames >= 2
        assert image.info.get("loop") == 0  # for ever
        total = 0
        for frame in range(image.n_frames):
            image.seek(frame)
            total += image.info["duration"]
    assert 2000 <= total <= 3000


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_shipped_gif_is_what_its_poses_draw(exercise_id: str) -> None:
    """Deterministic: the same data gives the same bytes, so the shipped file is the truth."""
    shipped = (SHIPPED / f"{exercise_id}.gif").read_bytes()
    assert render_gif(SPECS[exercise_id]) == shipped, "run python -m ops.figures"


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_figure_moves_like_a_body(exercise_id: str) -> None:
    report = measure(SPECS[exercise_id])
    assert report.bone_error < 1e-9  # bones keep their length in 3-D, in every frame
    assert report.out_of_range == ()  # joints inside their anatomical ranges
    assert report.below_floor <= 0.005  # nothing sinks into the floor or the equipment
    for point, drift in report.drift.items():  # what the move keeps still stays still
        assert drift <= MAX_DRIFT_PX, f"{point} moves {drift:.1f} px"


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_working_muscles_and_the_kit_are_drawn(exercise_id: str, catalog: Catalog) -> None:
    spec, exercise = SPECS[exercise_id], catalog.get(exercise_id)
    assert exercise is not None
    assert spec.highlight, "highlight the working muscle group"
    if exercise.needs_equipment:
        assert any(p.kind != "mat" for p in spec.equipment), exercise.equipment
