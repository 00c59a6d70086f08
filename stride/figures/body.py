"""The mannequin in one frame, painted back to front, with its working muscles and the
equipment it holds."""

from __future__ import annotations

import functools
from collections.abc import Callable

from .camera import Camera
from .canvas import Canvas
from .scene import Frame
from .skeleton import HEAD_RADIUS, Vec, add, apply, body_rotation
from .spec import FigureSpec
from .style import (
    ACCENT,
    ACCENT_FAR,
    BAND,
    BLOBS,
    FAR,
    NEAR,
    OUTLINE,
    PROP,
    PROP_DARK,
    SEGMENT_MUSCLES,
    SIDE_BIAS,
    WIDTHS,
    Colour,
)

LIMBS: dict[str, tuple[str, str]] = {
    "thigh": ("hip", "knee"), "shin": ("knee", "ankle"), "foot": ("heel", "toe"),
    "upper_arm": ("shoulder", "elbow"), "forearm": ("elbow", "wrist"),
}

Paint = Callable[[Canvas], None]


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

    def paint(self, canvas: Canvas) -> None:
        for _, _, paint in sorted(self.items, key=lambda item: (-item[0], item[1])):
            paint(canvas)


def paint_body(canvas: Canvas, spec: FigureSpec, frame: Frame) -> None:
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


def _dumbbell(canvas: Canvas, *, ends: tuple[Vec, Vec]) -> None:
    canvas.capsule(ends[0], ends[1], 0.018, PROP_DARK)
    for end in ends:
        canvas.dot(canvas.px(end), canvas.size(0.034), PROP)
