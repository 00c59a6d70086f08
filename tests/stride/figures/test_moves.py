"""The moves the figures must get right, measured on the frames in 3-D and on the card."""

from __future__ import annotations

import math

from stride.figures.camera import layout
from stride.figures.checks import pixel_drift
from stride.figures.scene import CLEARANCE, Frame, frames
from stride.figures.style import WIDTHS

from .test_shipped import SPECS


def loop(exercise_id: str) -> tuple[list[Frame], object]:
    spec = SPECS[exercise_id]
    all_frames = frames(spec)
    return all_frames, layout(spec, all_frames)


def working_side(exercise_id: str) -> str:
    sides = {r[-1] for r in SPECS[exercise_id].highlight if r[-2] == "_"}
    assert len(sides) == 1, "one working side"
    return sides.pop()


def on_floor(frame: Frame, point: str) -> bool:
    """The point rests on the floor: its surface touches it (within a centimetre or so)."""
    return frame.joints[point][1] - CLEARANCE[point] <= 0.01


def shoulders_down(frame: Frame) -> bool:
    """Lying on the back, the shoulders' centres are within the trunk's half-thickness of the
    floor: the drawn trunk rests on it."""
    return all(frame.joints[s][1] <= WIDTHS["torso"] / 2 + 0.01 for s in ("shoulder_l",
                                                                        "shoulder_r"))


def mid(joints: dict, name: str) -> tuple[float, float, float]:
    a, b = joints[f"{name}_l"], joints[f"{name}_r"]
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2)


def test_squat_feet_stay_planted_while_the_hips_sink() -> None:
    all_frames, view = loop("squats")
    for side in "lr":
        for point in ("ankle", "heel", "toe"):
            assert pixel_drift(view, all_frames, f"{point}_{side}") <= 3.0  # type: ignore[arg-type]
            assert all(on_floor(f, f"{point}_{side}") for f in all_frames if point != "ankle")
    heights = [f.joints["pelvis"][1] for f in all_frames]
    assert max(heights) - min(heights) >= 0.15


def test_clams_keep_the_feet_together_and_open_the_knees() -> None:
    all_frames, _ = loop("clams")
    feet = [math.dist(f.joints["ankle_l"], f.joints["ankle_r"]) for f in all_frames]
    knees = [math.dist(f.joints["knee_l"], f.joints["knee_r"]) for f in all_frames]
    assert max(feet) <= 0.06  # together, as the hinge
    assert min(knees) <= 0.13 < 0.2 <= max(knees)  # closed, then apart at the peak
    peak = max(range(len(knees)), key=knees.__getitem__)
    assert feet[peak] <= 0.06


def test_bridge_lifts_the_hips_with_shoulders_and_feet_down() -> None:
    all_frames, _ = loop("glute-bridge")
    for f in all_frames:
        assert shoulders_down(f)
        for point in ("heel_l", "heel_r", "toe_l", "toe_r"):
            assert on_floor(f, point), point
    hips = [f.joints["pelvis"][1] for f in all_frames]
    assert max(hips) - min(hips) >= 0.1  # clearly up at the peak (about 18 cm on 1.75 m)
    top = all_frames[max(range(len(hips)), key=hips.__getitem__)].joints
    # At the top, shoulders, hips and knees make one line: the hips do not sag below it.
    shoulders, knees = mid(top, "shoulder"), mid(top, "knee")
    along = math.dist(top["pelvis"][::2], shoulders[::2]) / math.dist(knees[::2], shoulders[::2])
    line = shoulders[1] + along * (knees[1] - shoulders[1])
    assert top["pelvis"][1] >= line - 0.03


def test_donkey_kick_keeps_hands_and_the_other_knee_down_and_the_heel_rises() -> None:
    all_frames, view = loop("donkey-kicks")
    side = working_side("donkey-kicks")
    other = "l" if side == "r" else "r"
    for point in ("wrist_l", "wrist_r", f"knee_{other}"):
        assert pixel_drift(view, all_frames, point) <= 3.0  # type: ignore[arg-type]
        assert all(on_floor(f, point) for f in all_frames), point
    heel = [f.joints[f"heel_{side}"][1] for f in all_frames]
    assert max(heel) - heel[0] >= 0.15  # the working heel rises toward the ceiling
