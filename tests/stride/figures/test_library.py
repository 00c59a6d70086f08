"""Where the bot's figures come from: shipped, drawn once into the cache, or none."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from stride.catalog import Catalog
from stride.figures import FigureLibrary, render_gif
from stride.figures.library import Manifest
from stride.figures.spec import parse_figures

from .test_spec import GOOD


@pytest.fixture
def specs(catalog: Catalog) -> dict:
    return parse_figures(tomllib.loads(GOOD), "f.toml", catalog)


def test_a_shipped_gif_is_used_while_its_poses_are_unchanged(
    specs: dict, tmp_path: Path
) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "clams.gif").write_bytes(b"GIF89a shipped")
    Manifest({"clams": specs["clams"].digest}).write(shipped)
    library = FigureLibrary(specs, cache=tmp_path / "cache", shipped=shipped)
    assert library.missing() == []
    figure = library.get("clams")
    assert figure is not None and figure.data == b"GIF89a shipped"
    assert figure.filename == "clams.gif"
    assert library.get("squats") is None  # no poses, no figure


def test_re_posed_figures_are_drawn_once_then_found_in_the_cache(
    specs: dict, tmp_path: Path
) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    Manifest({"clams": "an-older-digest"}).write(shipped)
    (shipped / "clams.gif").write_bytes(b"GIF89a stale")
    cache = tmp_path / "cache"
    first = FigureLibrary(specs, cache=cache, shipped=shipped)
    assert first.get("clams") is None and first.missing() == ["clams"]
    assert first.draw_missing() == ["clams"]
    drawn = first.get("clams")
    assert drawn is not None and drawn.data == render_gif(specs["clams"])
    assert [p.name for p in cache.iterdir()] == [f"clams-{specs['clams'].digest}.gif"]
    again = FigureLibrary(specs, cache=cache, shipped=shipped)  # the next start
    assert again.missing() == [] and again.draw_missing() == []
    assert again.get("clams") == drawn


def test_a_cache_that_cannot_be_written_keeps_the_figure_in_memory(
    specs: dict, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    cache.write_text("a file where the folder should be", encoding="utf-8")
    library = FigureLibrary(specs, cache=cache, shipped=tmp_path)
    assert library.draw_missing() == ["clams"]
    assert library.get("clams") is not None and cache.is_file()


def test_a_broken_manifest_means_nothing_is_shipped(specs: dict, tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    assert Manifest.read(tmp_path).digests == {}
    assert FigureLibrary(specs, cache=None, shipped=tmp_path).missing() == ["clams"]
