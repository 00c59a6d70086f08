"""The mannequin: bone lengths, the joint angles that pose it, and forward kinematics.

Body frame: +X is the figure's left, +Y up the spine, +Z the way it faces. Angles are in
degrees and mean what a coach means: hip flexion brings the thigh forward, abduction takes it
out to the side, rotation turns it about its own length (positive: outwards). A right-side
angle means the same as its left twin; the right limbs are the left ones mirrored in X.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Vec = tuple[float, float, float]
Matrix = tuple[Vec, Vec, Vec]

# Lengths in body heights (a standing figure is about 1.0 tall).
SPINE = 0.29  # pelvis centre to the base of the neck
NECK = 0.125  # base of the neck to the centre of the head
HEAD_RADIUS = 0.062
HIP_HALF = 0.055
SHOULDER_HALF = 0.115
SHOULDER_DROP = 0.02
THIGH = 0.245
SHIN = 0.245
UPPER_ARM = 0.175
FOREARM = 0.16
FOOT_DROP = 0.045  # the sole below the ankle
TOE_REACH = 0.12  # the toe in front of the ankle
HEEL_REACH = 0.03  # the heel behind it

BONES: dict[tuple[str, str], float] = {
    ("pelvis", "neck"): SPINE,
    ("neck", "head"): NECK,
    **{pair: length for side in "lr" for pair, length in (
        ((f"hip_{side}", f"knee_{side}"), THIGH),
        ((f"knee_{side}", f"ankle_{side}"), SHIN),
        ((f"shoulder_{side}", f"elbow_{side}"), UPPER_ARM),
        ((f"elbow_{side}", f"wrist_{side}"), FOREARM),
    )},
}
"""Every bone and its length: the same in every frame (the tests measure them in 3-D)."""


@dataclass(frozen=True, slots=True)
class Angle:
    """One joint angle a pose may set, with its anatomical range."""

    low: float
    high: float
    meaning: str


_LIMB_ANGLES: dict[str, Angle] = {
    "hip_flex": Angle(-30, 140, "thigh forward (+) or back (-)"),
    "hip_abd": Angle(-30, 75, "thigh out to the side (+) or across (-)"),
    "hip_rot": Angle(-45, 60, "thigh turned outwards (+) or inwards (-)"),
    "knee": Angle(0, 155, "knee bend"),
    "ankle": Angle(-50, 30, "toes up (+) or pointed (-)"),
    "shoulder_flex": Angle(-60, 180, "arm forward and up (+) or back (-)"),
    "shoulder_abd": Angle(-20, 180, "arm out to the side (+)"),
    "shoulder_rot": Angle(-90, 90, "upper arm turned outwards (+) or inwards (-)"),
    "elbow": Angle(0, 150, "elbow bend"),
}
_BODY_ANGLES: dict[str, Angle] = {
    "spine_flex": Angle(-35, 90, "trunk bent forward (+) or arched back (-)"),
    "spine_bend": Angle(-40, 40, "trunk bent to its left (+) or right (-)"),
    "spine_twist": Angle(-50, 50, "shoulders turned to the left (+) or right (-)"),
    "neck": Angle(-60, 70, "chin down (+) or up (-)"),
}
ANGLES: dict[str, Angle] = {
    **_BODY_ANGLES,
    **{f"{name}_{side}": angle for name, angle in _LIMB_ANGLES.items() for side in "lr"},
}
"""Every joint angle by name; a pose leaves out the ones that stay at 0 (standing tall)."""

PLACEMENT: dict[str, Angle] = {
    "turn": Angle(-180, 180, "the whole body turned to its left (+)"),
    "lean": Angle(-180, 180, "the whole body tipped forward (+, 90: face down) or back (-)"),
    "roll": Angle(-180, 180, "the whole body rolled onto its left side (+, 90: lying on it)"),
}
"""How the pelvis sits in the world; the floor and the anchor place it (see scene.py)."""

JOINTS: tuple[str, ...] = (
    "pelvis", "neck", "head",
    *(f"{joint}_{side}" for side in "lr" for joint in (
        "hip", "knee", "ankle", "heel", "toe", "shoulder", "elbow", "wrist",
    )),
)
"""Every point the kinematics places (the names poses, anchors and equipment refer to)."""

MIRROR = {
    **{name: name for name in JOINTS if not name.endswith(("_l", "_r"))},
    **{name: name[:-1] + ("r" if name.endswith("l") else "l")
       for name in JOINTS if name.endswith(("_l", "_r"))},
}
"""Each point's twin on the other side (the figure seen in a mirror)."""


def _rx(deg: float) -> Matrix:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((1.0, 0.0, 0.0), (0.0, c, -s), (0.0, s, c))


def _ry(deg: float) -> Matrix:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((c, 0.0, s), (0.0, 1.0, 0.0), (-s, 0.0, c))


def _rz(deg: float) -> Matrix:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((c, -s, 0.0), (s, c, 0.0), (0.0, 0.0, 1.0))


def mul(a: Matrix, b: Matrix) -> Matrix:
    (a0, a1, a2), (b0, b1, b2) = a, b

    def row(r: Vec) -> Vec:
        return (r[0] * b0[0] + r[1] * b1[0] + r[2] * b2[0],
                r[0] * b0[1] + r[1] * b1[1] + r[2] * b2[1],
                r[0] * b0[2] + r[1] * b1[2] + r[2] * b2[2])

    return (row(a0), row(a1), row(a2))


def apply(m: Matrix, v: Vec) -> Vec:
    return (
        m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2],
        m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
        m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2],
    )


def add(a: Vec, b: Vec) -> Vec:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def sub(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def distance(a: Vec, b: Vec) -> float:
    return math.dist(a, b)


def dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def unit(v: Vec) -> Vec:
    n = math.sqrt(dot(v, v)) or 1.0
    return (v[0] / n, v[1] / n, v[2] / n)


def _chain(*ms: Matrix) -> Matrix:
    out = ms[0]
    for m in ms[1:]:
        out = mul(out, m)
    return out


_FLIP: Matrix = ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def _sided(local: Matrix, side: str) -> Matrix:
    """A left-limb rotation, or its mirror image for the right limb."""
    return local if side == "l" else _chain(_FLIP, local, _FLIP)


def _x(offset: float, side: str) -> float:
    return offset if side == "l" else -offset


def body_rotation(placement: Mapping[str, float]) -> Matrix:
    """The pelvis's orientation: turned, then tipped forward or back, then rolled."""
    return _chain(
        _ry(placement.get("turn", 0.0)),
        _rx(placement.get("lean", 0.0)),
        _rz(-placement.get("roll", 0.0)),
    )


def solve(angles: Mapping[str, float], rotation: Matrix,
          pelvis: Vec = (0.0, 0.0, 0.0)) -> dict[str, Vec]:
    """Every joint's position for a pose: the pelvis at `pelvis`, turned by `rotation`."""
    a = angles.get
    at: dict[str, Vec] = {"pelvis": pelvis}
    chest = _chain(rotation, _ry(a("spine_twist", 0.0)), _rx(a("spine_flex", 0.0)),
                   _rz(-a("spine_bend", 0.0)))
    at["neck"] = add(pelvis, apply(chest, (0.0, SPINE, 0.0)))
    head = mul(chest, _rx(a("neck", 0.0)))
    at["head"] = add(at["neck"], apply(head, (0.0, NECK, 0.0)))
    for side in "lr":
        def g(name: str) -> float:
            return a(f"{name}_{side}", 0.0)  # noqa: B023 - used at once, in this loop turn

        hip = add(pelvis, apply(rotation, (_x(HIP_HALF, side), 0.0, 0.0)))
        thigh = mul(rotation, _sided(
            _chain(_rx(-g("hip_flex")), _rz(g("hip_abd")), _ry(g("hip_rot"))), side))
        knee = add(hip, apply(thigh, (0.0, -THIGH, 0.0)))
        shin = mul(thigh, _rx(g("knee")))
        ankle = add(knee, apply(shin, (0.0, -SHIN, 0.0)))
        foot = mul(shin, _rx(-g("ankle")))
        shoulder = add(at["neck"], apply(chest, (_x(SHOULDER_HALF, side), -SHOULDER_DROP, 0.0)))
        upper = mul(chest, _sided(_chain(_rx(-g("shoulder_flex")), _rz(g("shoulder_abd")),
                                         _ry(g("shoulder_rot"))), side))
        elbow = add(shoulder, apply(upper, (0.0, -UPPER_ARM, 0.0)))
        fore = mul(upper, _rx(-g("elbow")))
        at.update({
            f"hip_{side}": hip, f"knee_{side}": knee, f"ankle_{side}": ankle,
            f"heel_{side}": add(ankle, apply(foot, (0.0, -FOOT_DROP, -HEEL_REACH))),
            f"toe_{side}": add(ankle, apply(foot, (0.0, -FOOT_DROP, TOE_REACH))),
            f"shoulder_{side}": shoulder, f"elbow_{side}": elbow,
            f"wrist_{side}": add(elbow, apply(fore, (0.0, -FOREARM, 0.0))),
        })
    return at
