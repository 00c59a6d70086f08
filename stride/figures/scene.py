"""From key poses to frames: easing between them, and placing the body on what supports it.

Each frame's joint angles are eased from one key pose to the next; the pelvis is then moved
so that the anchor (a foot that stays put, say) stays where it was in the first frame, and
lowered until the body rests on the floor or the equipment under it (plus the pose's lift).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .skeleton import ANGLES, HEAD_RADIUS, Vec, body_rotation, solve, sub
from .spec import FigureSpec, Prop

FRAME_MS = 50
"""One frame's time: 20 frames a second, and every loop length a whole number of frames."""

CLEARANCE: dict[str, float] = {
    "pelvis": 0.06, "neck": 0.05, "head": HEAD_RADIUS,
    **{f"{joint}_{side}": r for side in "lr" for joint, r in (
        ("hip", 0.04), ("knee", 0.03), ("ankle", 0.025), ("heel", 0.012), ("toe", 0.012),
        ("shoulder", 0.035), ("elbow", 0.022), ("wrist", 0.02),
    )},
}
"""How far each point's surface reaches below it: the body rests on surfaces, not centres."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One moment of the move: every joint's world position and the angles that gave it."""

    joints: Mapping[str, Vec]
    angles: Mapping[str, float]
    placement: Mapping[str, float]


def ease(t: float) -> float:
    """Slow out of one pose, slow into the next (cosine ease in and out)."""
    return 0.5 - 0.5 * math.cos(math.pi * min(max(t, 0.0), 1.0))


def _blend(a: Mapping[str, float], b: Mapping[str, float], t: float) -> dict[str, float]:
    keys = set(a) | set(b)
    return {k: a.get(k, 0.0) + (b.get(k, 0.0) - a.get(k, 0.0)) * t for k in sorted(keys)}


def _spline(values: Sequence[Mapping[str, float]], t: float) -> dict[str, float]:
    """Catmull-Rom through four key values (before, from, to, after): a cycle that passes
    through its poses without stopping at them."""
    p0, p1, p2, p3 = values
    keys = set(p0) | set(p1) | set(p2) | set(p3)
    out = {}
    for k in sorted(keys):
        a, b, c, d = (p.get(k, 0.0) for p in values)
        out[k] = 0.5 * (2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t * t
                        + (3 * b - a - 3 * c + d) * t * t * t)
    return out


def timeline(spec: FigureSpec) -> list[tuple[int, float]]:
    """(key pose, share of the way to the next) for every frame of one side's loop. With the
    `ease` flow each key pose is held for its `hold` and the moves ease in and out; with
    `smooth` the loop flows through the poses at an even pace."""
    count = len(spec.poses)
    frames = max(count * 2, round(spec.seconds * 1000 / FRAME_MS))
    smooth = spec.flow == "smooth"
    holds = [0 if smooth else round(p.hold * 1000 / FRAME_MS) for p in spec.poses]
    moving = frames - sum(holds)
    if moving < count:  # holds leave too little to move in: shrink them
        holds, moving = [0] * count, frames
    moves = [moving // count + (1 if i < moving % count else 0) for i in range(count)]
    out: list[tuple[int, float]] = []
    for i in range(count):
        out.extend((i, 0.0) for _ in range(holds[i]))
        out.extend((i, step / moves[i] if smooth else ease(step / moves[i]))
                   for step in range(moves[i]))
    return out


def _pose_at(spec: FigureSpec, index: int, t: float) -> tuple[dict[str, float],
                                                                dict[str, float], float]:
    """Joint angles, placement and lift between key pose `index` and the next."""
    poses = spec.poses
    start, end = poses[index], poses[(index + 1) % len(poses)]
    if spec.flow != "smooth":
        return (_blend(start.angles, end.angles, t), _blend(start.placement, end.placement, t),
                start.lift + (end.lift - start.lift) * t)
    around = [poses[(index + k) % len(poses)] for k in (-1, 0, 1, 2)]
    angles = {k: min(max(v, ANGLES[k].low), ANGLES[k].high)  # a spline may overshoot
              for k, v in _spline([p.angles for p in around], t).items()}
    lift = _spline([{"lift": p.lift} for p in around], t)["lift"]
    return angles, _spline([p.placement for p in around], t), max(lift, 0.0)


def support(props: Iterable[Prop], x: float, z: float) -> float:
    """The height of whatever is under the point (x, z): the floor, or equipment on it."""
    height = 0.0
    for prop in props:
        dx, dz = x - prop.at[0], z - prop.at[1]
        if prop.kind == "box":
            w, h, d = prop.size
            if abs(dx) <= w / 2 and abs(dz) <= d / 2:
                height = max(height, h)
        elif prop.kind == "ball":
            r2 = prop.radius ** 2 - dx * dx - dz * dz
            if r2 > 0:
                height = max(height, prop.radius + math.sqrt(r2))
        elif prop.kind == "bosu":
            # A spherical cap of the given height over a circle of the given radius.
            sphere = (prop.radius ** 2 + prop.height ** 2) / (2 * prop.height)
            r2 = sphere ** 2 - dx * dx - dz * dz
            if dx * dx + dz * dz <= prop.radius ** 2 and r2 > 0:
                height = max(height, prop.height - sphere + math.sqrt(r2))
    return height


def frames(spec: FigureSpec) -> list[Frame]:
    """One side's loop, frame by frame, in world coordinates (y up, the floor at 0)."""
    out: list[Frame] = []
    anchor_at: Vec | None = None
    for index, t in timeline(spec):
        angles, placement, lift = _pose_at(spec, index, t)
        joints = solve(angles, body_rotation(placement))
        if spec.anchor is not None:
            if anchor_at is None:
                anchor_at = joints[spec.anchor]
            dx, _, dz = sub(anchor_at, joints[spec.anchor])
            joints = {k: (v[0] + dx, v[1], v[2] + dz) for k, v in joints.items()}
        drop = min(v[1] - CLEARANCE[k] - support(spec.equipment, v[0], v[2])
                   for k, v in joints.items())
        joints = {k: (v[0], v[1] - drop + lift, v[2]) for k, v in joints.items()}
        out.append(Frame(joints=joints, angles=angles, placement=placement))
    return out


def key_indices(spec: FigureSpec) -> list[int]:
    """The frame at which each key pose is reached (the first frame of its hold)."""
    out, last = [], None
    for i, (index, t) in enumerate(timeline(spec)):
        if t == 0.0 and index != last:
            out.append(i)
        last = index
    return out
