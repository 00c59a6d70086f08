"""The look of the figures: one card, one mannequin, one accent, the same for every move.

A neutral mannequin of rounded limbs on a light card with a floor (legible on Discord's dark
and light themes), the far limbs a lighter shade, the working muscles in the accent colour,
a dotted trail for the way the move goes, equipment in blue, walls in grey.
"""

from __future__ import annotations

from .skeleton import Vec

WIDTH, HEIGHT = 400, 300

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
