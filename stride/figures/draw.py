"""Drawing the frames with Pillow, and packing them into a looping GIF.

A calm, consistent look: a neutral mannequin of rounded limbs on a light card with a floor,
the far limbs a lighter shade, the working muscles in the accent colour, a faint dotted trail
with arrowheads for the way the move goes, equipment in blue. Drawn at twice the size and
reduced, so edges are smooth; one palette for every frame, so the GIF stays small and the
same data always gives the same bytes.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .scene import FRAME_MS, Frame, frames, timeline
from .skeleton import HEAD_RADIUS, Vec, add, apply, body_rotation
from .spec import FigureSpec, Prop

WIDTH, HEIGHT = 400, 300
SUPERSAMPLE = 2
MARGIN = 16  # pixels of card around the drawing
MAX_SCALE = 280.0  # pixels per body height: a lying figure is not drawn bigger than a standing one
PALETTE_COLOURS = 64

Colour = tuple[int, int, int]
CARD: Colour = (244, 241, 235)
FLOOR: Colour = (228, 223, 213)
FLOOR_EDGE: Colour = (205, 198, 186)
SHADOW: Colour = (214, 208, 196)
NEAR: Colour = (72, 83, 102)
FAR: Colour = (146, 156, 173)
ACCENT: Colour = (230, 100, 40)
PROP: Colour = (66, 135, 190)
PROP_DARK: Colour = (44, 98, 146)
PROP_LIGHT: Colour = (150, 194, 228)
BAND: Colour = (64, 160, 100)
MAT: Colour = (198, 208, 218)
WALL: Colour = (176, 170, 160)
WALL_DARK: Colour = (150, 144, 134)
WALL_LIGHT: Colour = (204, 198, 188)


def mix(a: Colour, b: Colour, t: float) -> Colour:
    """`a` moved the share `t` of the way to `b`."""
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


ACCENT_FAR = mix(ACCENT, CARD, 0.35)
TRAIL = mix(ACCENT, CARD, 0.3)

# Thickness of each part, in body heights.
WIDTHS = {
    "torso": 0.125, "hips": 0.1, "shoulders": 0.065, "neck": 0.05,
    "thigh": 0.085, "shin": 0.064, "foot": 0.038, "upper_arm": 0.056, "forearm": 0.047,
}
BLOBS: dict[str, tuple[Vec, float]] = {
    "glute": ((0.01, 0.0, -0.05), 0.052),
    "outer_hip": ((0.035, 0.025, -0.01), 0.045),
    "hip_flexor": ((0.0, 0.015, 0.045), 0.04),
}
"""Muscles drawn as a patch over the hip: (offset from the hip joint, left side; radius)."""
SEGMENT_MUSCLES = {"quad": "thigh", "hamstring": "thigh", "calf": "shin"}
BODY_REACH = 0.12  # body heights the drawing reaches beyond the joints (limbs, kit)
TRAIL_SPACING = 7.0  # card pixels between the trail's dots
OUTLINE = 1.5  # card pixels of gap around each limb, so limbs read against the trunk
SIDE_BIAS = 0.04  # body heights of depth: near-side limbs over the trunk, far-side under it


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
        right = _unit((forward[1] * 0 - forward[2] * 1, forward[2] * 0 - forward[0] * 0,
                       forward[0] * 1 - forward[1] * 0))
        up = (right[1] * forward[2] - right[2] * forward[1],
              right[2] * forward[0] - right[0] * forward[2],
              right[0] * forward[1] - right[1] * forward[0])
        return cls(right=right, up=up, forward=forward)

    def flat(self, p: Vec) -> tuple[float, float]:
        return (_dot(p, self.right), _dot(p, self.up))

    def depth(self, p: Vec) -> float:
        return _dot(p, self.forward)


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _unit(v: Vec) -> Vec:
    n = math.sqrt(_dot(v, v)) or 1.0
    return (v[0] / n, v[1] / n, v[2] / n)


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


def _floor_corners(all_frames: Sequence[Frame], props: Sequence[Prop],
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


class _Canvas:
    """A supersampled card to draw on in card pixels."""

    def __init__(self, view: Layout, image: Image.Image | None = None,
                 origin: tuple[int, int] = (0, 0)) -> None:
        self.view = view
        self.k = SUPERSAMPLE
        self.image = image or Image.new("RGB", (WIDTH * self.k, HEIGHT * self.k), CARD)
        self.draw = ImageDraw.Draw(self.image)
        self.origin = origin  # where this image's corner is on the whole card

    def px(self, p: Vec) -> tuple[float, float]:
        x, y = self.view.pixel(p)
        return (x * self.k - self.origin[0], y * self.k - self.origin[1])

    def size(self, body: float) -> float:
        return body * self.view.scale * self.k

    def dot(self, at: tuple[float, float], radius: float, fill: Colour) -> None:
        x, y = at
        self.draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)

    def capsule(self, a: Vec, b: Vec, width: float, fill: Colour, outline: float = 0.0
                ) -> None:
        """A rounded limb; with `outline` (card pixels), ringed in the card's colour first,
        so that a limb in front of the body stands out from it."""
        pa, pb = self.px(a), self.px(b)
        w = self.size(width)
        if outline:
            ring = w + 2 * outline * self.k
            self.draw.line((pa, pb), fill=CARD, width=max(1, round(ring)))
            self.dot(pa, ring / 2, CARD)
            self.dot(pb, ring / 2, CARD)
        self.draw.line((pa, pb), fill=fill, width=max(1, round(w)))
        self.dot(pa, w / 2, fill)
        self.dot(pb, w / 2, fill)

    def polygon(self, points: Sequence[Vec], fill: Colour) -> None:
        self.draw.polygon([self.px(p) for p in points], fill=fill)

    def part(self, points: Sequence[Vec], reach: float) -> _Canvas:
        """A copy of the rectangle around `points` (plus `reach` body heights), to draw a
        frame's body on: only that much is copied and reduced for each frame."""
        xs, ys = zip(*(self.px(p) for p in points), strict=True)
        pad = self.size(reach) + 4 * self.k
        w, h = self.image.size
        box = (max(0, int(min(xs) - pad) // self.k * self.k),
               max(0, int(min(ys) - pad) // self.k * self.k),
               min(w, -(-int(max(xs) + pad) // self.k) * self.k),
               min(h, -(-int(max(ys) + pad) // self.k) * self.k))
        return _Canvas(self.view, self.image.crop(box), (box[0], box[1]))

    def finish(self) -> Image.Image:
        return self.image.reduce(self.k)


def _floor(canvas: _Canvas, spec: FigureSpec, all_frames: Sequence[Frame]) -> None:
    """Seen from low down, the floor is the card below a line just behind the figure; seen
    from above, it is the whole card."""
    if spec.camera[1] >= 35:
        canvas.draw.rectangle((0, 0, *canvas.image.size), fill=FLOOR)
    else:
        behind = max(_floor_corners(all_frames, spec.equipment, 0.3),
                     key=canvas.view.camera.depth)
        y = canvas.px(behind)[1]
        canvas.draw.rectangle((0, y, canvas.image.size[0], canvas.image.size[1]), fill=FLOOR)
        canvas.draw.line((0, y, canvas.image.size[0], y), fill=FLOOR_EDGE, width=canvas.k)
    for prop in spec.equipment:
        if prop.kind == "mat":
            canvas.polygon(_floor_corners(all_frames, (), 0.06), MAT)


def _shadow(canvas: _Canvas, all_frames: Sequence[Frame]) -> None:
    """A soft shadow under where the pelvis is on average: it stays on the floor while the
    body moves (and shows a hop for what it is)."""
    x = sum(f.joints["pelvis"][0] for f in all_frames) / len(all_frames)
    z = sum(f.joints["pelvis"][2] for f in all_frames) / len(all_frames)
    pts = [(x + 0.22 * math.cos(t), 0.0, z + 0.22 * math.sin(t))
           for t in (i * math.pi / 12 for i in range(24))]
    canvas.polygon(pts, SHADOW)


def _box(canvas: _Canvas, prop: Prop) -> None:
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
        if _dot(normal, cam.forward) < 0:
            canvas.polygon(pts, colour)


def _ball(canvas: _Canvas, prop: Prop) -> None:
    x, z = prop.at
    centre = canvas.px((x, prop.radius, z))
    r = canvas.size(prop.radius)
    canvas.dot(centre, r, PROP)
    canvas.dot((centre[0] - r * 0.3, centre[1] - r * 0.3), r * 0.45, PROP_LIGHT)


def _bosu(canvas: _Canvas, prop: Prop) -> None:
    x, z = prop.at
    cam = canvas.view.camera
    across = _unit((cam.right[0], 0.0, cam.right[2]))
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


LIMBS: dict[str, tuple[str, str]] = {
    "thigh": ("hip", "knee"), "shin": ("knee", "ankle"), "foot": ("heel", "toe"),
    "upper_arm": ("shoulder", "elbow"), "forearm": ("elbow", "wrist"),
}

Paint = Callable[[_Canvas], None]


class _Painter:
    """The parts of one frame, each with its depth, painted back to front."""

    def __init__(self, spec: FigureSpec, frame: Frame, camera: Camera) -> None:
        self.spec, self.j, self.cam = spec, frame.joints, camera
        self.items: list[tuple[float, int, Paint]] = []
        self.far_leg, self.far_arm = self._far_side("hip"), self._far_side("shoulder")

    def _far_side(self, joint: str) -> str | None:
        """The side whose hips (or shoulders) are clearly further from the camera: its limbs
        are drawn in the lighter shade."""
        gap = self.cam.depth(self.j[f"{joint}_l"]) - self.cam.depth(self.j[f"{joint}_r"])
        return None if abs(gap) < 0.03 else ("l" if gap > 0 else "r")

    @staticmethod
    def side_bias(far: str | None, side: str) -> float:
        """Limbs on the side nearer the camera are painted over the trunk, the far side's
        under it, whatever their average depths say (long limbs sort badly by those)."""
        if far is None:
            return 0.0
        return SIDE_BIAS if far == side else -SIDE_BIAS

    def add(self, depth: float, paint: Paint) -> None:
        self.items.append((depth, len(self.items), paint))

    def depth(self, *points: str) -> float:
        return sum(self.cam.depth(self.j[p]) for p in points) / len(points)

    def capsule(self, a: str, b: str, width: float, colour: Colour, bias: float = 0.0,
                outline: float = 0.0) -> None:
        pa, pb = self.j[a], self.j[b]
        self.add(self.depth(a, b) + bias,
                 lambda c: c.capsule(pa, pb, width, colour, outline))

    def disc(self, at: Vec, radius: float, colour: Colour, depth: float) -> None:
        self.add(depth, lambda c: c.dot(c.px(at), c.size(radius), colour))

    def paint(self, canvas: _Canvas) -> None:
        for _, _, paint in sorted(self.items, key=lambda item: (-item[0], item[1])):
            paint(canvas)


def _body(canvas: _Canvas, spec: FigureSpec, frame: Frame) -> None:
    """The mannequin, back to front, with its working muscles and the props it holds."""
    p = _Painter(spec, frame, canvas.view.camera)
    j, lit = frame.joints, set(spec.highlight)
    p.capsule("pelvis", "neck", WIDTHS["torso"], ACCENT if "core" in lit else NEAR)
    p.capsule("hip_l", "hip_r", WIDTHS["hips"], NEAR, bias=0.001)
    p.capsule("shoulder_l", "shoulder_r", WIDTHS["shoulders"], NEAR, bias=0.001)
    p.capsule("neck", "head", WIDTHS["neck"], NEAR, bias=0.002)
    p.disc(j["head"], HEAD_RADIUS, NEAR, p.depth("head"))
    rotation = body_rotation(frame.placement)
    for side in "lr":
        muscles = {r[:-2] for r in lit if r.endswith(f"_{side}")}
        for part, (a, b) in LIMBS.items():
            limb_far = p.far_arm if part in ("upper_arm", "forearm") else p.far_leg
            far = limb_far == side
            working = any(SEGMENT_MUSCLES.get(m) == part for m in muscles)
            colour = (ACCENT_FAR if far else ACCENT) if working else (FAR if far else NEAR)
            p.capsule(f"{a}_{side}", f"{b}_{side}", WIDTHS[part], colour,
                      bias=p.side_bias(limb_far, side), outline=OUTLINE)
        hand = FAR if p.far_arm == side else NEAR
        p.disc(j[f"wrist_{side}"], 0.026, hand,
               p.depth(f"wrist_{side}") - 0.0005 + p.side_bias(p.far_arm, side))
        for muscle, (offset, radius) in BLOBS.items():
            if muscle in muscles:
                o = offset if side == "l" else (-offset[0], offset[1], offset[2])
                centre = add(j[f"hip_{side}"], apply(rotation, o))
                # Lying on it, the muscle meets the floor: it is not drawn through it.
                centre = (centre[0], max(centre[1], radius * 0.7), centre[2])
                colour = ACCENT_FAR if p.far_leg == side else ACCENT
                # A patch on the body's surface: as near as its side faces the camera.
                depth = p.cam.depth(centre) - radius + p.side_bias(p.far_leg, side)
                p.disc(centre, radius, colour, depth)
    for prop in spec.equipment:
        if prop.kind == "band":
            a, b = prop.between
            p.capsule(a, b, 0.016, BAND, bias=-0.05)
        elif prop.kind == "dumbbell":
            across = apply(rotation, (0.06, 0.0, 0.0))
            for wrist in prop.between:
                w = j[wrist]
                ends = (add(w, across), add(w, (-across[0], -across[1], -across[2])))
                p.add(p.depth(wrist) - 0.01, functools.partial(_dumbbell, ends=ends))
    p.paint(canvas)


def _dumbbell(canvas: _Canvas, *, ends: tuple[Vec, Vec]) -> None:
    canvas.capsule(ends[0], ends[1], 0.018, PROP_DARK)
    for end in ends:
        canvas.dot(canvas.px(end), canvas.size(0.034), PROP)


def _arrowhead(canvas: _Canvas, tip: tuple[float, float], came_from: tuple[float, float],
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


def _trails(canvas: _Canvas, spec: FigureSpec, all_frames: Sequence[Frame]) -> None:
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


def key_indices(spec: FigureSpec) -> list[int]:
    """The frame at which each key pose is reached (the first frame of its hold)."""
    out, last = [], None
    for i, (index, t) in enumerate(timeline(spec)):
        if t == 0.0 and index != last:
            out.append(i)
        last = index
    return out


def render_frames(spec: FigureSpec) -> list[Image.Image]:
    """One side's loop as RGB frames of WIDTH x HEIGHT."""
    all_frames = frames(spec)
    view = layout(spec, all_frames)
    scenery = _Canvas(view)  # what does not move, drawn once: floor, props, the trail
    _floor(scenery, spec, all_frames)
    _shadow(scenery, all_frames)
    for prop in spec.equipment:
        if prop.kind in ("box", "wall"):
            _box(scenery, prop)
        elif prop.kind == "ball":
            _ball(scenery, prop)
        elif prop.kind == "bosu":
            _bosu(scenery, prop)
    _trails(scenery, spec, all_frames)
    card = scenery.finish()
    images = []
    for frame in all_frames:
        part = scenery.part(list(frame.joints.values()), BODY_REACH)
        _body(part, spec, frame)
        image = card.copy()
        image.paste(part.finish(), (part.origin[0] // part.k, part.origin[1] // part.k))
        images.append(image)
    return images


def key_frames(spec: FigureSpec) -> list[Image.Image]:
    """The frames at the key poses (for the contact sheet)."""
    images = render_frames(spec)
    return [images[i] for i in key_indices(spec)]


def _palette(images: Sequence[Image.Image]) -> Image.Image:
    """One palette for the whole loop, from a few of its frames."""
    sample = Image.new("RGB", (WIDTH, HEIGHT * min(len(images), 4)))
    for i, image in enumerate(images[:: max(1, len(images) // 4)][:4]):
        sample.paste(image, (0, HEIGHT * i))
    return sample.quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE)


def encode_gif(images: Sequence[Image.Image], frame_ms: int = FRAME_MS, *,
               mirrored: bool = False) -> bytes:
    """A looping GIF with one palette for all frames (same frames, same bytes); `mirrored`
    plays the frames again flipped left to right (the other side)."""
    palette = _palette(images)
    frames_p = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    if mirrored:
        frames_p += [ImageOps.mirror(im) for im in frames_p]
    out = io.BytesIO()
    frames_p[0].save(out, format="GIF", save_all=True, append_images=frames_p[1:],
                     duration=frame_ms, loop=0, optimize=False, disposal=1)
    return out.getvalue()


def render_gif(spec: FigureSpec) -> bytes:
    """The figure's GIF: the loop, then (for a one-sided move) the same mirrored."""
    return encode_gif(render_frames(spec), mirrored=spec.sides == "both")


def contact_sheet(figures: Mapping[str, tuple[str, FigureSpec]], columns: int = 2) -> bytes:
    """PNG of every figure's key poses, labelled, `columns` figures to a row."""
    thumb_w, thumb_h, label_h = WIDTH // 2, HEIGHT // 2, 18
    cell_w = thumb_w * 4 + 12
    rows = math.ceil(len(figures) / columns)
    sheet = Image.new("RGB", (cell_w * columns, rows * (thumb_h + label_h + 8)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=13)
    for n, (exercise_id, (name, spec)) in enumerate(figures.items()):
        x0 = (n % columns) * cell_w
        y0 = (n // columns) * (thumb_h + label_h + 8)
        draw.text((x0 + 4, y0 + 2), f"{name} ({exercise_id}, {spec.sides} side"
                  f"{'s' if spec.sides == 'both' else ''})", fill=(20, 20, 20), font=font)
        for i, image in enumerate(key_frames(spec)[:4]):
            sheet.paste(image.resize((thumb_w, thumb_h), Image.Resampling.LANCZOS),
                        (x0 + i * thumb_w, y0 + label_h))
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=True)
    return out.getvalue()
