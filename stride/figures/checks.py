"""Measurements of a figure's loop that say whether it moves like a body: bones that keep
their length, joints inside their ranges, nothing under the floor, planted points that stay
put. The tests assert them; `python -m ops.figures --report` prints them for authors."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .camera import Layout, layout
from .scene import CLEARANCE, Frame, frames, support
from .skeleton import ANGLES, BONES, distance
from .spec import FigureSpec


@dataclass(frozen=True, slots=True)
class Report:
    exercise: str
    bone_error: float  # largest change of any bone's length, in body heights
    out_of_range: tuple[str, ...]  # "hip_abd_r=80 in frame 3"
    below_floor: float  # deepest point under what supports it, in body heights (0: none)
    drift: dict[str, float]  # planted point -> largest move from frame 0, in card pixels

    @property
    def worst_drift(self) -> float:
        return max(self.drift.values(), default=0.0)


def pixel_drift(view: Layout, loop: Sequence[Frame], point: str) -> float:
    start = view.pixel(loop[0].joints[point])
    return max(math.dist(start, view.pixel(f.joints[point])) for f in loop)


def measure(spec: FigureSpec) -> Report:
    loop = frames(spec)
    view = layout(spec, loop)
    bone_error = max(abs(distance(f.joints[a], f.joints[b]) - length)
                     for f in loop for (a, b), length in BONES.items())
    bad = []
    for i, f in enumerate(loop):
        for name, value in f.angles.items():
            rule = ANGLES[name]
            if not rule.low - 1e-9 <= value <= rule.high + 1e-9:
                bad.append(f"{name}={value:.0f} in frame {i}")
    below = max(0.0, max(
        support(spec.equipment, v[0], v[2]) + CLEARANCE[k] - v[1] - 1e-9
        for f in loop for k, v in f.joints.items()))
    drift = {p: pixel_drift(view, loop, p) for p in spec.planted}
    return Report(spec.exercise, bone_error, tuple(bad), below, drift)
