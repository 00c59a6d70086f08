"""Where the world lands on the card: an orthographic camera per figure, and one scale and
place for the whole loop, so that nothing jumps and all of it fits."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .scene import Frame
from .skeleton import Vec, dot, unit
from .spec import FigureSpec, Prop
from .style import HEIGHT, MARGIN, MAX_SCALE, WIDTH


@dataclass(frozen=True, slots=True)
class Camera:
    """An orthographic view: screen right and up, and the depth axis (far is larger)."""

    right: Vec
    up: Vec
    forward: Vec

    @classmethod
    def at(cls, yaw: float, pitch: float) -> Camera:
        y, p = math.radians(yaw), math.radians(pitch)
        towards = (math.sin(y) * math.cos(p), math.sin(p), math.cos(y) * math.cos(p))
        forward = (-towards[0], -towards[1], -towards[2])
        right = unit((-forward[2], 0.0, forward[0]))  # forward x up: level, to the right
        up = (right[1] * forward[2] - right[2] * forward[1],
              right[2] * forward[0] - right[0] * forward[2],
              right[0] * forward[1] - right[1] * forward[0])
        return cls(right=right, up=up, forward=forward)

    def flat(self, p: Vec) -> tuple[float, float]:
        return (dot(p, self.right), dot(p, self.up))

    def depth(self, p: Vec) -> float:
        return dot(p, self.forward)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where world units land on the card: pixels = (x - x0) * scale + left."""

    camera: Camera
    scale: float
    x0: float
    y0: float
    left: float
    top: float

    def pixel(self, p: Vec) -> tuple[float, float]:
        x, y = self.camera.flat(p)
        return ((x - self.x0) * self.scale + self.left, (self.y0 - y) * self.scale + self.top)


def floor_corners(all_frames: Sequence[Frame], props: Sequence[Prop],
                   pad: float) -> list[Vec]:
    xs = [v[0] for f in all_frames for v in f.joints.values()] + [p.at[0] for p in props]
    zs = [v[2] for f in all_frames for v in f.joints.values()] + [p.at[1] for p in props]
    x1, x2, z1, z2 = min(xs) - pad, max(xs) + pad, min(zs) - pad, max(zs) + pad
    return [(x1, 0.0, z1), (x2, 0.0, z1), (x2, 0.0, z2), (x1, 0.0, z2)]


def _prop_points(prop: Prop) -> list[Vec]:
    x, z = prop.at
    if prop.kind in ("box", "wall"):
        w, h, d = prop.size
        return [(x + sx * w / 2, y, z + sz * d / 2)
                for sx in (-1, 1) for sz in (-1, 1) for y in (0.0, h)]
    if prop.kind == "ball":
        r = prop.radius
        return [(x + dx, r + dy, z + dz) for dx, dy, dz in
                ((r, 0, 0), (-r, 0, 0), (0, r, 0), (0, -r, 0), (0, 0, r), (0, 0, -r))]
    if prop.kind == "bosu":
        r = prop.radius
        return [(x + r, 0.0, z), (x - r, 0.0, z), (x, 0.0, z + r), (x, 0.0, z - r),
                (x, prop.height, z)]
    return []


def layout(spec: FigureSpec, all_frames: Sequence[Frame]) -> Layout:
    """One scale and place for the whole loop, so that nothing jumps and all of it fits."""
    camera = Camera.at(*spec.camera)
    reach = 0.07
    points = [v for f in all_frames for v in f.joints.values()]
    points += [p for prop in spec.equipment for p in _prop_points(prop)]
    flat = [camera.flat(p) for p in points]
    xs, ys = [p[0] for p in flat], [p[1] for p in flat]
    x1, x2 = min(xs) - reach, max(xs) + reach
    y1, y2 = min(ys) - reach, max(ys) + reach
    room_w, room_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    scale = min(room_w / (x2 - x1), room_h / (y2 - y1), MAX_SCALE)
    left = MARGIN + (room_w - (x2 - x1) * scale) / 2
    top = MARGIN + (room_h - (y2 - y1) * scale) / 2
    return Layout(camera, scale, x1, y2, left, top)
