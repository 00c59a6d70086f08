"""What does not move in a figure, drawn once per loop: the floor, a shadow, the equipment
standing on the floor, and the dotted trail of the moving point."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from .camera import floor_corners
from .canvas import Canvas
from .scene import Frame, key_indices
from .skeleton import Vec, dot, unit
from .spec import FigureSpec, Prop
from .style import (
    FLOOR,
    FLOOR_EDGE,
    MAT,
    PROP,
    PROP_DARK,
    PROP_LIGHT,
    SHADOW,
    TRAIL,
    TRAIL_SPACING,
    WALL,
    WALL_DARK,
    WALL_LIGHT,
    Colour,
)


def floor(canvas: Canvas, spec: FigureSpec, all_frames: Sequence[Frame]) -> None:
    """Seen from low down, the floor is the card below a line just behind the figure; seen
    from above, it is the whole card."""
    if spec.camera[1] >= 35:
        canvas.draw.rectangle((0, 0, *canvas.image.size), fill=FLOOR)
    else:
        behind = max(floor_corners(all_frames, spec.equipment, 0.3),
                     key=canvas.view.camera.depth)
        y = canvas.px(behind)[1]
        canvas.draw.rectangle((0, y, canvas.image.size[0], canvas.image.size[1]), fill=FLOOR)
        canvas.draw.line((0, y, canvas.image.size[0], y), fill=FLOOR_EDGE, width=canvas.k)
    for prop in spec.equipment:
        if prop.kind == "mat":
            canvas.polygon(floor_corners(all_frames, (), 0.06), MAT)


def shadow(canvas: Canvas, all_frames: Sequence[Frame]) -> None:
    """A soft shadow under where the pelvis is on average: it stays on the floor while the
    body moves (and shows a hop for what it is)."""
    x = sum(f.joints["pelvis"][0] for f in all_frames) / len(all_frames)
    z = sum(f.joints["pelvis"][2] for f in all_frames) / len(all_frames)
    pts = [(x + 0.22 * math.cos(t), 0.0, z + 0.22 * math.sin(t))
           for t in (i * math.pi / 12 for i in range(24))]
    canvas.polygon(pts, SHADOW)


def box(canvas: Canvas, prop: Prop) -> None:
    """A box (blue, something to step or rest on) or a wall (grey, only to lean on)."""
    x, z = prop.at
    w, h, d = prop.size
    cam = canvas.view.camera
    top, side, front = ((WALL_LIGHT, WALL_DARK, WALL) if prop.kind == "wall"
                        else (PROP_LIGHT, PROP_DARK, PROP))
    faces: list[tuple[Vec, list[Vec], Colour]] = [
        ((0, 1, 0), [(x - w / 2, h, z - d / 2), (x + w / 2, h, z - d / 2),
                     (x + w / 2, h, z + d / 2), (x - w / 2, h, z + d / 2)], top),
    ]
    for sx in (-1, 1):
        xx = x + sx * w / 2
        faces.append(((sx, 0, 0), [(xx, 0, z - d / 2), (xx, 0, z + d / 2),
                                   (xx, h, z + d / 2), (xx, h, z - d / 2)], side))
    for sz in (-1, 1):
        zz = z + sz * d / 2
        faces.append(((0, 0, sz), [(x - w / 2, 0, zz), (x + w / 2, 0, zz),
                                   (x + w / 2, h, zz), (x - w / 2, h, zz)], front))
    for normal, pts, colour in faces:
        if dot(normal, cam.forward) < 0:
            canvas.polygon(pts, colour)


def ball(canvas: Canvas, prop: Prop) -> None:
    x, z = prop.at
    centre = canvas.px((x, prop.radius, z))
    r = canvas.size(prop.radius)
    canvas.dot(centre, r, PROP)
    canvas.dot((centre[0] - r * 0.3, centre[1] - r * 0.3), r * 0.45, PROP_LIGHT)


def bosu(canvas: Canvas, prop: Prop) -> None:
    x, z = prop.at
    cam = canvas.view.camera
    across = unit((cam.right[0], 0.0, cam.right[2]))
    rim = [(x + prop.radius * math.cos(t), 0.0, z + prop.radius * math.sin(t))
           for t in (i * math.pi / 16 for i in range(32))]
    canvas.polygon(rim, PROP_DARK)
    sphere = (prop.radius ** 2 + prop.height ** 2) / (2 * prop.height)
    dome = []
    for i in range(17):
        u = -prop.radius + 2 * prop.radius * i / 16
        y = prop.height - sphere + math.sqrt(max(sphere ** 2 - u * u, 0.0))
        dome.append((x + across[0] * u, max(y, 0.0), z + across[2] * u))
    canvas.polygon(dome, PROP)


def _arrowhead(canvas: Canvas, tip: tuple[float, float], came_from: tuple[float, float],
               colour: Colour) -> None:
    dx, dy = tip[0] - came_from[0], tip[1] - came_from[1]
    n = math.hypot(dx, dy)
    if n < 1e-6:
        return
    ux, uy = dx / n, dy / n
    size = 7.0 * canvas.k
    back = (tip[0] - ux * size, tip[1] - uy * size)
    canvas.draw.polygon([
        (tip[0] + ux * size * 0.3, tip[1] + uy * size * 0.3),
        (back[0] - uy * size * 0.6, back[1] + ux * size * 0.6),
        (back[0] + uy * size * 0.6, back[1] - ux * size * 0.6),
    ], fill=colour)


def trails(canvas: Canvas, spec: FigureSpec, all_frames: Sequence[Frame]) -> None:
    """A dotted path for each trail point, with an arrowhead where the first move ends (and
    one where it starts, for a move that goes there and back)."""
    keys = key_indices(spec)
    for point in spec.trail:
        path = [canvas.px(f.joints[point]) for f in all_frames]
        for at in _evenly(path, TRAIL_SPACING * canvas.k):
            canvas.dot(at, 2.4 * canvas.k, TRAIL)
        first, second = keys[0], keys[1]
        _arrowhead(canvas, path[second], path[max(second - 3, first)], TRAIL)
        if len(spec.poses) == 2:  # there and back: the return ends at the first pose
            _arrowhead(canvas, path[first], path[-3] if len(path) > 3 else path[second], TRAIL)


def _evenly(path: Sequence[tuple[float, float]], spacing: float) -> list[tuple[float, float]]:
    """Points every `spacing` pixels along the path, however fast or slow it is walked."""
    out = [path[0]]
    left = spacing
    for (x1, y1), (x2, y2) in itertools.pairwise(path):
        length = math.hypot(x2 - x1, y2 - y1)
        walked = 0.0
        while length - walked >= left:
            walked += left
            out.append((x1 + (x2 - x1) * walked / length, y1 + (y2 - y1) * walked / length))
            left = spacing
        left -= length - walked
    return out


def draw_scenery(canvas: Canvas, spec: FigureSpec, all_frames: Sequence[Frame]) -> None:
    """Everything that stays still through the loop, back to front."""
    floor(canvas, spec, all_frames)
    shadow(canvas, all_frames)
    for prop in spec.equipment:
        if prop.kind in ("box", "wall"):
            box(canvas, prop)
        elif prop.kind == "ball":
            ball(canvas, prop)
        elif prop.kind == "bosu":
            bosu(canvas, prop)
    trails(canvas, spec, all_frames)
