"""The exercise data file: a file that fails validation never half-loads, and what members
type into library lookups costs little whatever its length."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stride.catalog import Catalog, CatalogError, parse_catalog

ROOT = Path(__file__).resolve().parents[2]
RAW = tomllib.loads((ROOT / "data" / "exercises.toml").read_text("utf-8"))

# Any TOML value (and None: the field left out).
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(),
    st.text(max_size=400), st.sampled_from(["", " ", "x" * 6000, "clams", "Clams", "quick"]),
    st.lists(st.one_of(st.text(max_size=30), st.integers(), st.none(),
                       st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2)),
             max_size=20),
    st.dictionaries(st.text(max_size=10), st.one_of(st.integers(), st.text(max_size=10)),
                    max_size=3),
)


@st.composite
def broken(draw: st.DrawFn, raw: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The shipped data with one field of one entry changed, added or removed."""
    raw = copy.deepcopy(raw)
    kind = draw(st.sampled_from(["top", "exercises", "routines", "step"]))
    if kind == "top":
        target = raw
    elif kind == "step":
        target = draw(st.sampled_from(draw(st.sampled_from(raw["routines"]))["steps"]))
    else:
        target = draw(st.sampled_from(raw[kind]))
    key = draw(st.sampled_from([*target, "extra", "schema", "id"]))
    if key in target and draw(st.booleans()):
        del target[key]
    else:
        target[key] = draw(VALUES)
    return raw, kind


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_broken_entry_is_refused_whole_or_loaded_whole(data: st.DataObject) -> None:
    """Whatever one field holds, loading either refuses the file with a CatalogError that
    names the file and where (never another exception, never a partial result), or gives a
    whole catalog in which every entry of the file is present and usable."""
    raw, _ = data.draw(broken(RAW))
    try:
        catalog = parse_catalog(raw, "data/exercises.toml")
    except CatalogError as exc:
        message = str(exc)
        assert message.startswith("data/exercises.toml: "), message
        assert any(w in message for w in ("top level", "exercise #", "routine #")), message
        return
    assert isinstance(catalog, Catalog)
    assert [e.id for e in catalog.exercises] == [e["id"] for e in raw["exercises"]]
    assert [r.id for r in catalog.routines] == [r["id"] for r in raw["routines"]]
    for exercise in catalog.exercises:
        assert catalog.get(exercise.id) is exercise and catalog.find(exercise.name) is exercise
    for routine in catalog.routines:
        assert catalog.routine(routine.id) is routine
        assert all(catalog.get(step.exercise.id) is step.exercise for step in routine.steps)


@pytest.mark.parametrize("schema", [True, 1.0, "1", 2, None])
def test_the_schema_must_be_the_whole_number_one(raw_catalog: dict[str, Any], schema: Any
                                                 ) -> None:
    raw = {**raw_catalog, "schema": schema}
    with pytest.raises(CatalogError, match=r"field 'schema': must be 1"):
        parse_catalog(raw, "x.toml")


def test_a_broken_file_stops_the_start_before_anything_else(tmp_path: Path) -> None:
    """The bot never runs on half a library: with an entry broken near the end of the file it
    stops with the file, entry and field named, before it creates the database or connects."""
    text = (ROOT / "data" / "exercises.toml").read_text("utf-8")
    cut = text.rindex("[[routines]]")
    broken_file = tmp_path / "exercises.toml"
    broken_file.write_text(text[:cut] + text[cut:].replace("minutes = ", "minutes = -", 1),
                           "utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "EXERCISES_PATH")}
    env.update(DISCORD_TOKEN="MTIz.abc.def", EXERCISES_PATH=str(broken_file),
               DATABASE_PATH=str(tmp_path / "db" / "stride.db"), LOG_LEVEL="DEBUG")
    result = subprocess.run([sys.executable, str(ROOT / "bot.py")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "field 'minutes': is -" in result.stderr and "routine #" in result.stderr
    assert not (tmp_path / "db").exists()  # no database made or migrated
    assert "Traceback" not in result.stdout + result.stderr
    assert "gateway" not in result.stdout.lower()  # never connected


def test_long_lookups_stay_quick(catalog: Catalog) -> None:
    """Discord allows 6,000 characters; 'did you mean' compares spellings, which cost time
    growing with the length (half a second a lookup, blocking every other member, before
    the comparison was limited to a name's length)."""
    keys = " ".join(e.name for e in catalog.exercises)
    worst = 0.0
    for text in (keys * 50, "abcdefghij" * 600, "clams " * 1000, "🏃" * 6000):
        text = text[:6000]
        start = time.perf_counter()
        catalog.resolve(text)
        catalog.suggest(text)
        catalog.search(text)
        worst = max(worst, time.perf_counter() - start)
    assert worst < 0.25, worst
