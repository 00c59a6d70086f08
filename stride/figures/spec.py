"""What a figure is made of, read from the poses file and checked field by field.

A figure belongs to one exercise: a camera, two to four key poses (joint angles over a shared
base), the muscles to highlight, the equipment, and the points the move keeps still. Errors
name the file, the figure and the field, like the exercise file's.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ..catalog import Catalog, CatalogError
from .skeleton import ANGLES, JOINTS, PLACEMENT

VIEWS: dict[str, tuple[float, float]] = {
    "front": (0.0, 8.0),
    "side": (-90.0, 8.0),
    "back": (180.0, 8.0),
    "three-quarter": (-40.0, 14.0),
    "above": (0.0, 55.0),
}
"""Named cameras: (yaw, pitch) in degrees. Yaw 0 looks at the figure's front, -90 at its right
side (the figure faces right); pitch raises the camera above the floor."""

MUSCLES = ("glute", "outer_hip", "hip_flexor", "quad", "hamstring", "calf", "core")
"""Regions a figure can highlight; each but `core` takes a side: glute_l, calf_r ..."""
REGIONS = frozenset(["core"] + [f"{m}_{s}" for m in MUSCLES if m != "core" for s in "lr"])

EQUIPMENT: dict[str, frozenset[str]] = {
    "mat": frozenset(),
    "ball": frozenset({"at", "radius"}),
    "box": frozenset({"at", "size"}),
    "wall": frozenset({"at", "size"}),
    "bosu": frozenset({"at", "radius", "height"}),
    "band": frozenset({"between"}),
    "dumbbell": frozenset({"held"}),
}
"""Equipment kinds and their fields: props stand on the floor at `at` = [x, z] (a box, ball
or Bosu is something to rest on; a wall is only drawn, to lean or press against); a band runs
between two points of the body; dumbbells are held at the wrists named in `held`."""

SIDES = ("one", "both")
FLOWS = ("ease", "smooth")
POSE_FIELDS = frozenset(ANGLES) | frozenset(PLACEMENT) | {"hold", "lift"}
FIGURE_FIELDS = frozenset({
    "exercise", "view", "camera", "sides", "seconds", "highlight", "trail", "anchor",
    "planted", "equipment", "base", "poses", "flow",
})
DRAWING = ("spec", "skeleton", "scene", "camera", "style", "canvas", "scenery", "body", "draw")
"""The modules whose code decides a figure's pixels: their source is part of every digest, so
a change to the drawing draws cached figures again (and tells the shipped ones are stale)."""


@dataclass(frozen=True, slots=True)
class Prop:
    kind: str
    at: tuple[float, float] = (0.0, 0.0)
    size: tuple[float, float, float] = (0.0, 0.0, 0.0)
    radius: float = 0.0
    height: float = 0.0
    between: tuple[str, ...] = ()  # a band's two ends, or the wrists holding dumbbells


@dataclass(frozen=True, slots=True)
class Pose:
    angles: Mapping[str, float]
    placement: Mapping[str, float]
    hold: float = 0.2  # seconds spent still at this pose
    lift: float = 0.0  # above the floor (a hop), in body heights


@dataclass(frozen=True, slots=True)
class FigureSpec:
    """One exercise's animation, as data."""

    exercise: str
    camera: tuple[float, float]
    poses: tuple[Pose, ...]
    sides: str = "one"
    flow: str = "ease"  # "smooth": through the poses without stopping (runs, skips, circles)
    seconds: float = 2.4
    highlight: tuple[str, ...] = ()
    trail: tuple[str, ...] = ()
    anchor: str | None = None
    planted: tuple[str, ...] = ()
    equipment: tuple[Prop, ...] = ()
    digest: str = ""  # of the data and the drawing code's version: names the cached GIF


class _Where:
    """Raises CatalogError naming the file, the figure and the field."""

    def __init__(self, source: str, where: str) -> None:
        self.source, self.where = source, where

    def fail(self, name: str | None, problem: str) -> NoReturn:
        spot = f"{self.where}, field '{name}'" if name else self.where
        raise CatalogError(f"{self.source}: {spot}: {problem}")

    def inner(self, label: str) -> _Where:
        return _Where(self.source, f"{self.where}, {label}")

    def number(self, name: str, value: Any, low: float, high: float, meaning: str = "") -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value
        ):
            self.fail(name, "must be a number")
        if not low <= value <= high:
            extra = f" ({meaning})" if meaning else ""
            self.fail(name, f"is {value}; must be from {low:g} to {high:g}{extra}")
        return float(value)

    def names(self, name: str, value: Any, allowed: frozenset[str] | tuple[str, ...],
              most: int) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, "must be a list of names, like [\"knee_l\"]")
        if len(value) > most:
            self.fail(name, f"has {len(value)} items; at most {most}")
        for item in value:
            if item not in allowed:
                self.fail(name, f"{item!r} is unknown; use one of: {', '.join(sorted(allowed))}")
        return tuple(value)

    def table(self, name: str, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(name, "must be a table")
        return value


def _pose(where: _Where, raw: Mapping[str, Any], base: Mapping[str, Any]) -> Pose:
    merged = {**base, **raw}
    angles: dict[str, float] = {}
    placement: dict[str, float] = {}
    for key, value in merged.items():
        if key in ANGLES:
            rule = ANGLES[key]
            angles[key] = where.number(key, value, rule.low, rule.high, rule.meaning)
        elif key in PLACEMENT:
            rule = PLACEMENT[key]
            placement[key] = where.number(key, value, rule.low, rule.high, rule.meaning)
    hold = where.number("hold", raw.get("hold", 0.2), 0.0, 1.5)
    lift = where.number("lift", raw.get("lift", 0.0), 0.0, 0.5)
    return Pose(angles=angles, placement=placement, hold=hold, lift=lift)


def _fields(where: _Where, name: str | None, table: Mapping[str, Any],
            allowed: frozenset[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        label = f"{name}.{unknown[0]}" if name else unknown[0]
        hint = ", ".join(sorted(allowed)) if len(allowed) < 20 else (
            "a joint angle (see docs/figures.md), turn, lean, roll, hold or lift")
        where.fail(label, f"unknown field (allowed: {hint})")


def _point(where: _Where, name: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        where.fail(name, "must be [x, z], in body heights from where the pelvis starts")
    return (where.number(name, value[0], -2, 2), where.number(name, value[1], -2, 2))


def _prop(where: _Where, raw: Any) -> Prop:
    table = where.table("equipment", raw)
    kind = table.get("kind")
    if kind not in EQUIPMENT:
        where.fail("kind", f"{kind!r} is unknown; use one of: {', '.join(EQUIPMENT)}")
    _fields(where, None, table, EQUIPMENT[kind] | {"kind"})
    missing = sorted(EQUIPMENT[kind] - set(table))
    if missing:
        where.fail(missing[0], f"is required for a {kind}")
    if kind == "band":
        ends = where.names("between", table["between"], JOINTS, 2)
        if len(ends) != 2 or ends[0] == ends[1]:
            where.fail("between", "must name two different points, like [\"knee_l\", \"knee_r\"]")
        return Prop(kind, between=ends)
    if kind == "dumbbell":
        wrists = ("wrist_l", "wrist_r")
        held = where.names("held", table["held"], wrists, 2)
        if not held:
            where.fail("held", "must name the wrist(s) holding it")
        return Prop(kind, between=held)
    at = _point(where, "at", table["at"]) if "at" in table else (0.0, 0.0)
    radius = where.number("radius", table.get("radius", 0.0), 0.0, 0.5)
    height = where.number("height", table.get("height", 0.0), 0.0, 0.5)
    size: tuple[float, float, float] = (0.0, 0.0, 0.0)
    if kind in ("box", "wall"):
        value = table["size"]
        if not isinstance(value, list) or len(value) != 3:
            where.fail("size", "must be [width, height, depth], in body heights")
        size = (where.number("size", value[0], 0.05, 1.5),
                where.number("size", value[1], 0.05, 1.0),
                where.number("size", value[2], 0.05, 1.5))
    if kind in ("ball", "bosu") and radius < 0.05:
        where.fail("radius", f"is {radius}; must be from 0.05 to 0.5")
    if kind == "bosu" and not 0.03 <= height <= radius:
        where.fail("height", f"is {height}; must be from 0.03 to the radius")
    return Prop(kind, at=at, size=size, radius=radius, height=height)


def parse_figure(raw: Any, source: str, index: int, exercises: frozenset[str]) -> FigureSpec:
    """One [[figures]] table, checked; its digest names the GIF it draws."""
    ident = raw.get("exercise") if isinstance(raw, Mapping) else None
    label = f"figure #{index} ({ident!r})" if isinstance(ident, str) else f"figure #{index}"
    where = _Where(source, label)
    if not isinstance(raw, Mapping):
        where.fail(None, "must be a table")
    table: Mapping[str, Any] = raw
    _fields(where, None, table, FIGURE_FIELDS)
    if not isinstance(ident, str) or ident not in exercises:
        where.fail("exercise", f"{ident!r} is not an exercise id in the library")
    if "view" in table and "camera" in table:
        where.fail("camera", "give either 'view' or 'camera', not both")
    if "camera" in table:
        value = table["camera"]
        if not isinstance(value, list) or len(value) != 2:
            where.fail("camera", "must be [yaw, pitch] in degrees")
        camera = (where.number("camera", value[0], -180, 180),
                  where.number("camera", value[1], -10, 80))
    else:
        view = table.get("view", "front")
        if view not in VIEWS:
            where.fail("view", f"{view!r} is unknown; use one of: {', '.join(VIEWS)}")
        camera = VIEWS[view]
    sides = table.get("sides", "one")
    if sides not in SIDES:
        where.fail("sides", "must be \"one\" (both sides alike, or one side) or \"both\" "
                   "(the move, then the same on the other side)")
    flow = table.get("flow", "ease")
    if flow not in FLOWS:
        where.fail("flow", "must be \"ease\" (ease into each pose and hold it) or \"smooth\" "
                   "(flow through the poses without stopping)")
    seconds = where.number("seconds", table.get("seconds", 2.4 if sides == "one" else 1.5),
                           1.0, 3.0)
    base = table.get("base", {})
    base = where.table("base", base)
    _fields(where.inner("base"), None, base, frozenset(ANGLES) | frozenset(PLACEMENT))
    poses_raw = table.get("poses")
    if not isinstance(poses_raw, list) or not 2 <= len(poses_raw) <= 4:
        where.fail("poses", "must be 2 to 4 [[figures.poses]] tables")
    poses = []
    for i, pose_raw in enumerate(poses_raw, 1):
        inner = where.inner(f"pose {i}")
        if not isinstance(pose_raw, Mapping):
            inner.fail(None, "must be a table")
        pose_table: Mapping[str, Any] = pose_raw
        _fields(inner, None, pose_table, POSE_FIELDS)
        poses.append(_pose(inner, pose_table, base))
    points = frozenset(JOINTS)
    anchor = table.get("anchor")
    if anchor is not None and anchor not in points:
        where.fail("anchor", f"{anchor!r} is not a point of the figure; use one of: "
                   f"{', '.join(JOINTS)}")
    equipment = table.get("equipment", [])
    if not isinstance(equipment, list) or len(equipment) > 4:
        where.fail("equipment", "must be a list of at most 4 tables like { kind = \"band\", ...}")
    props = tuple(_prop(where.inner(f"equipment {i}"), item)
                  for i, item in enumerate(equipment, 1))
    spec = FigureSpec(
        exercise=ident, camera=camera, poses=tuple(poses), sides=sides, flow=flow,
        seconds=seconds,
        highlight=where.names("highlight", table.get("highlight", []), REGIONS, 4),
        trail=where.names("trail", table.get("trail", []), points, 2),
        anchor=anchor,
        planted=where.names("planted", table.get("planted", []), points, 8),
        equipment=props,
    )
    return _with_digest(spec, table)


@functools.cache
def _drawing_code() -> bytes:
    here = Path(__file__).parent
    return b"".join((here / f"{name}.py").read_bytes() for name in DRAWING)


def _with_digest(spec: FigureSpec, table: Mapping[str, Any]) -> FigureSpec:
    digest = hashlib.sha256(_drawing_code())
    digest.update(json.dumps(table, sort_keys=True, default=str).encode())
    return dataclasses.replace(spec, digest=digest.hexdigest()[:16])


def parse_figures(raw: Mapping[str, Any], source: str, catalog: Catalog,
                  into: dict[str, FigureSpec] | None = None, *,
                  skip_unknown: bool = False) -> dict[str, FigureSpec]:
    """Every [[figures]] table of one file by exercise id, over `into` (a later file's figure
    for the same exercise replaces the earlier one). With `skip_unknown`, a figure for an
    exercise the library does not have is left out instead of refused (the shipped poses
    beside a library trimmed with EXERCISES_PATH)."""
    found = dict(into or {})
    tables = raw.get("figures", [])
    if not isinstance(tables, list):
        raise CatalogError(f"{source}: top level, field 'figures': must be [[figures]] tables")
    exercises = frozenset(e.id for e in catalog.exercises)
    seen: set[str] = set()
    for i, table in enumerate(tables, 1):
        if skip_unknown and isinstance(table, Mapping) and table.get("exercise") not in exercises:
            continue
        spec = parse_figure(table, source, i, exercises)
        if spec.exercise in seen:
            raise CatalogError(f"{source}: figure #{i} ({spec.exercise!r}), field 'exercise': "
                               "another figure in this file is for the same exercise")
        seen.add(spec.exercise)
        found[spec.exercise] = spec
    return found


def load_figures(catalog: Catalog, *paths: Path) -> dict[str, FigureSpec]:
    """The figures in each existing file, later files over earlier ones."""
    found: dict[str, FigureSpec] = {}
    for path in paths:
        found = _load(catalog, path, found, skip_unknown=False)
    return found


def library_figures(catalog: Catalog, shipped: Path, club: Path) -> dict[str, FigureSpec]:
    """What the bot shows: the shipped poses for the exercises the library has, with the
    club's figures over them (a club figure for an unknown exercise is a mistake)."""
    return _load(catalog, club, _load(catalog, shipped, {}, skip_unknown=True),
                 skip_unknown=False)


def _load(catalog: Catalog, path: Path, found: dict[str, FigureSpec], *,
          skip_unknown: bool) -> dict[str, FigureSpec]:
    if not path.is_file():
        return found
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from None
    return parse_figures(raw, str(path), catalog, found, skip_unknown=skip_unknown)
