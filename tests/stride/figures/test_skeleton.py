"""The mannequin's kinematics: every angle means what docs/figures.md says it means."""

from __future__ import annotations

import math

import pytest

from stride.figures.skeleton import (
    ANGLES,
    BONES,
    JOINTS,
    MIRROR,
    body_rotation,
    distance,
    solve,
)


def standing(**angles: float) -> dict[str, tuple[float, float, float]]:
    return solve(angles, body_rotation({}))


def test_standing_tall_is_about_one_body_height_with_the_feet_level() -> None:
    j = standing()
    assert j["head"][1] - j["toe_l"][1] == pytest.approx(0.955, abs=0.01)
    assert j["heel_l"][1] == pytest.approx(j["toe_l"][1])
    assert j["toe_l"][2] > j["heel_l"][2]  # the feet point the way the figure faces
    assert j["hip_l"][0] > 0 > j["hip_r"][0]  # +X is the figure's left


def test_hip_flexion_brings_the_knee_forward_and_knee_bend_takes_the_foot_back() -> None:
    j = standing(hip_flex_l=90, knee_l=90)
    assert j["knee_l"][2] == pytest.approx(0.245, abs=1e-9)
    assert j["knee_l"][1] == pytest.approx(j["hip_l"][1], abs=1e-9)
    assert j["ankle_l"][2] == pytest.approx(j["knee_l"][2], abs=1e-9)  # shin hangs down
    extended = standing(hip_flex_l=-20)
    assert extended["knee_l"][2] < 0


def test_abduction_and_rotation_on_each_side_mirror_each_other() -> None:
    left = standing(hip_abd_l=30, hip_rot_l=20, hip_flex_l=40, knee_l=60, shoulder_abd_l=90,
                    elbow_l=45)
    right = standing(hip_abd_r=30, hip_rot_r=20, hip_flex_r=40, knee_r=60, shoulder_abd_r=90,
                     elbow_r=45)
    for name in JOINTS:
        x, y, z = left[name]
        assert right[MIRROR[name]] == pytest.approx((-x, y, z), abs=1e-9), name
    assert left["knee_l"][0] > left["hip_l"][0]  # out to the side is away from the midline
    assert left["wrist_l"][1] > left["elbow_l"][1] - 0.2  # an arm raised sideways


def test_with_the_hip_flexed_abduction_swings_the_knee_out_sideways() -> None:
    """Fire hydrant: on hands and knees, abduction lifts the knee out to the side."""
    on_all_fours = body_rotation({"lean": 90})
    down = solve({"hip_flex_l": 90, "knee_l": 90}, on_all_fours)
    out = solve({"hip_flex_l": 90, "knee_l": 90, "hip_abd_l": 45}, on_all_fours)
    assert down["knee_l"][1] < down["hip_l"][1] - 0.2  # the thigh hangs under the hip
    assert out["knee_l"][0] > down["knee_l"][0] + 0.1  # the knee goes out ...
    assert out["knee_l"][1] > down["knee_l"][1] + 0.05  # ... and up


def test_hip_rotation_keeps_the_knee_and_swings_the_foot() -> None:
    base = standing(hip_flex_l=90, knee_l=90)
    turned = standing(hip_flex_l=90, knee_l=90, hip_rot_l=30)
    assert turned["knee_l"] == pytest.approx(base["knee_l"], abs=1e-9)
    assert distance(turned["ankle_l"], base["ankle_l"]) > 0.1


def test_placement_lies_the_body_down() -> None:
    supine = solve({}, body_rotation({"lean": -90}))
    assert supine["head"][1] == pytest.approx(0.0, abs=1e-9)  # level with the pelvis
    assert supine["head"][2] < 0  # head away from the way the figure faced
    on_left_side = solve({}, body_rotation({"roll": 90}))
    assert on_left_side["hip_l"][1] < on_left_side["hip_r"][1]  # left side down


@pytest.mark.parametrize("seed", range(20))
def test_bones_keep_their_length_in_any_pose(seed: int) -> None:
    rng = __import__("random").Random(seed)
    angles = {n: rng.uniform(a.low, a.high) for n, a in ANGLES.items()}
    placement = {k: rng.uniform(-180, 180) for k in ("turn", "lean", "roll")}
    j = solve(angles, body_rotation(placement), (rng.random(), rng.random(), rng.random()))
    for (a, b), length in BONES.items():
        assert distance(j[a], j[b]) == pytest.approx(length, abs=1e-9)
    assert math.isclose(distance(j["hip_l"], j["hip_r"]), 0.11, abs_tol=1e-9)
