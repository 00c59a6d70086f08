"""From key poses to frames: timing, easing, the floor and what rests on the equipment."""

from __future__ import annotations

import itertools
import tomllib

import pytest

from stride.catalog import Catalog
from stride.figures.scene import CLEARANCE, FRAME_MS, ease, frames, support, timeline
from stride.figures.spec import FigureSpec, Prop, parse_figures

SQUAT = """
[[figures]]
exercise = "squats"
anchor = "ankle_l"
highlight = ["quad_l"]
[[figures.poses]]
hold = 0.5
[[figures.poses]]
hold = 0.3
hip_flex_l = 100
hip_flex_r = 100
knee_l = 100
knee_r = 100
lean = 20
"""


def spec(catalog: Catalog, text: str = SQUAT, **extra: str) -> FigureSpec:
    for key, value in extra.items():
        text = text.replace("[[figures.poses]]", f"{key} = {value}\n[[figures.poses]]", 1)
    return parse_figures(tomllib.loads(text), "t.toml", catalog)["squats"]


def test_the_loop_lasts_its_seconds_with_each_pose_held(catalog: Catalog) -> None:
    plan = timeline(spec(catalog))
    assert len(plan) * FRAME_MS == 2400  # the default loop for a two-sided-alike move
    assert plan[:10] == [(0, 0.0)] * 10  # 0.5 s held at the first pose
    assert [t for i, t in plan if i == 1][:6] == [0.0] * 6  # 0.3 s at the second
    moving = [t for i, t in plan if i == 0][10:]
    assert moving == sorted(moving) and 0 < moving[1] < 0.05  # eased: slow out of a pose


def test_a_smooth_loop_does_not_stop(catalog: Catalog) -> None:
    plan = timeline(spec(catalog, flow='"smooth"'))
    assert all(t < 1 for _, t in plan) and [t for _, t in plan].count(0.0) == 2
    loop = frames(spec(catalog, flow='"smooth"'))
    heights = [f.joints["pelvis"][1] for f in loop]
    assert all(abs(a - b) > 1e-6 for a, b in itertools.pairwise(heights))


def test_ease_goes_from_zero_to_one_slowly_at_both_ends() -> None:
    assert ease(0) == 0 and ease(1) == 1 and ease(0.5) == pytest.approx(0.5)
    assert ease(0.1) < 0.1 and ease(0.9) > 0.9


def test_the_body_rests_on_the_floor_and_the_anchor_stays(catalog: Catalog) -> None:
    loop = frames(spec(catalog))
    for f in loop:
        lowest = min(v[1] - CLEARANCE[k] for k, v in f.joints.items())
        assert lowest == pytest.approx(0.0, abs=1e-9)
        assert f.joints["ankle_l"][0] == pytest.approx(loop[0].joints["ankle_l"][0])
        assert f.joints["ankle_l"][2] == pytest.approx(loop[0].joints["ankle_l"][2])
    assert loop[0].joints["pelvis"][0] == pytest.approx(0.0)  # props are placed from here


def test_what_the_props_hold_up() -> None:
    box = Prop("box", at=(0.5, 0.0), size=(0.4, 0.3, 0.4))
    ball = Prop("ball", at=(0.0, 0.0), radius=0.2)
    bosu = Prop("bosu", at=(-1.0, 0.0), radius=0.25, height=0.12)
    wall = Prop("wall", at=(0.0, 1.0), size=(1.0, 1.0, 0.05))
    props = (box, ball, bosu, wall)
    assert support(props, 0.5, 0.1) == pytest.approx(0.3)  # on the box
    assert support(props, 0.0, 0.0) == pytest.approx(0.4)  # the top of the ball
    assert support(props, 0.1, 0.0) == pytest.approx(0.2 + (0.04 - 0.01) ** 0.5)
    assert support(props, -1.0, 0.0) == pytest.approx(0.12)  # the top of the dome
    assert support(props, -1.26, 0.0) == 0.0  # beside it
    assert support(props, 0.0, 1.0) == 0.0  # a wall holds nothing up
