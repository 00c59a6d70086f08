"""Exercise figures through the real bot and the emulator: the GIF is sent with the card and
the card's image is that GIF, on /exercise, /form, every walk-through step and after a
restart; a club's own figure is drawn once at start and kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from stride.catalog import load_catalog
from stride.figures.library import SHIPPED

from .databases import TestDatabase
from .stride import BOT, Stride, button, buttons, embed_of, eventually, start_stride

pytestmark = pytest.mark.asyncio(loop_scope="module")
CATALOG = load_catalog(Path(BOT).parent / "data" / "exercises.toml")


@pytest.fixture
def stride(stride_module: Stride) -> Stride:
    return stride_module


def shown_figure(stride: Stride, message: dict) -> str | None:
    """The filename of the figure the card shows, checked end to end: the embed's image is
    the message's attachment of that name (Discord resolves attachment://), and the bytes
    uploaded for it are a GIF."""
    image = embed_of(message).get("image")
    if image is None:
        assert message["attachments"] == [], "an attachment the card does not show"
        return None
    [attachment] = message["attachments"]
    assert image["url"] == attachment["url"], "the image is not the attached file"
    assert (image["width"], image["height"]) == (400, 300)
    upload = next(f for f in reversed(stride.emu.message_record(message).files)
                  if f.filename == attachment["filename"])
    assert upload.data.startswith(b"GIF89a") and attachment["content_type"] == "image/gif"
    assert attachment["description"].startswith("Animated figure: ")
    return str(attachment["filename"])


async def test_the_exercise_card_plays_its_figure(stride: Stride) -> None:
    rec = await stride.run("exercise", {"name": "clams"})
    assert rec.message is not None
    assert rec.response["data"]["embeds"][0]["image"]["url"] == "attachment://clams.gif"
    assert shown_figure(stride, rec.message) == "clams.gif"
    upload = stride.emu.message_record(rec.message).files[0]
    assert upload.data == (SHIPPED / "clams.gif").read_bytes()


async def test_every_exercise_card_has_its_own_figure(stride: Stride) -> None:
    for exercise in CATALOG.exercises:
        rec = await stride.run("exercise", {"name": exercise.id})
        assert rec.message is not None
        assert shown_figure(stride, rec.message) == f"{exercise.id}.gif", exercise.id


async def test_a_did_you_mean_suggestion_opens_with_its_figure(stride: Stride) -> None:
    rec = await stride.run("exercise", {"name": "clamz shel"})
    assert rec.message is not None and rec.ephemeral
    assert rec.message["attachments"] == []  # the notice itself has no figure
    show = await stride.click(rec.message, button(rec.message, "Show Clams")["custom_id"])
    assert show.message is not None and show.ephemeral
    assert shown_figure(stride, show.message) == "clams.gif"


async def test_form_shows_the_running_posture(stride: Stride) -> None:
    rec = await stride.run("form")
    assert rec.message is not None
    assert shown_figure(stride, rec.message) == "running-form.gif"


async def test_each_walkthrough_step_shows_that_step_s_move(stride: Stride) -> None:
    routine = CATALOG.routine("myrtl")
    assert routine is not None
    listing = await stride.run("routine", {"name": "myrtl"})
    assert listing.message is not None
    start = await stride.click(listing.message, button(listing.message, "Start")["custom_id"])
    screen = start.message
    assert screen is not None and start.ephemeral
    seen = [shown_figure(stride, screen)]
    for _ in routine.steps:
        label = "Finish" if "Finish" in [b["label"] for b in buttons(screen)] else "Next"
        screen = (await stride.click(screen, button(screen, label)["custom_id"])).message
        assert screen is not None
        seen.append(shown_figure(stride, screen))
    # One figure per step, replaced at each step; the Done screen drops it.
    assert seen == [f"{s.exercise.id}.gif" for s in routine.steps] + [None]


async def test_figures_come_back_after_a_restart(stride: Stride) -> None:
    rec = await stride.run("routine", {"name": "quick"})
    assert rec.message is not None
    start = await stride.click(rec.message, button(rec.message, "Start")["custom_id"])
    assert start.message is not None
    await stride.restart()
    nxt = await stride.click(start.message, button(start.message, "Next")["custom_id"])
    quick = CATALOG.routine("quick")
    assert quick is not None and nxt.message is not None
    assert shown_figure(stride, nxt.message) == f"{quick.steps[1].exercise.id}.gif"


async def test_no_errors_were_logged(stride: Stride) -> None:
    output = stride.proc.output()
    assert "Traceback" not in output and "ERROR" not in output, output


CLUB = '''
[[exercises]]
id = "wall-sit"
name = "Wall sit"
category = "strength"
summary = "Sit against a wall with thighs level and hold."
steps = ["Slide down a wall until your knees are bent at a right angle.", "Hold."]
dose = "3 x 30 s"

[[figures]]
exercise = "wall-sit"
view = "side"
highlight = ["quad_l", "quad_r"]
anchor = "ankle_l"
planted = ["ankle_l", "ankle_r"]
[[figures.poses]]
hip_flex_l = 60
hip_flex_r = 60
knee_l = 60
knee_r = 60
[[figures.poses]]
hip_flex_l = 90
hip_flex_r = 90
knee_l = 90
knee_r = 90
'''


@pytest.mark.asyncio(loop_scope="function")
async def test_a_club_figure_is_drawn_once_at_start_and_kept(
    emulator: object, world: object, start_bot: object, database: TestDatabase, tmp_path: Path
) -> None:
    """The figure cache lives beside DATABASE_PATH, on either backend."""
    club = tmp_path / "club.toml"
    club.write_text(CLUB, encoding="utf-8")
    stride = await start_stride(emulator, world, start_bot, database,  # type: ignore[arg-type]
                                env={"CLUB_EXERCISES_PATH": str(club)})
    await eventually(lambda: "Drew 1 figure(s)" in stride.proc.output(), 20, "drawn at start")
    rec = await stride.run("exercise", {"name": "wall sit"})
    assert rec.message is not None and shown_figure(stride, rec.message) == "wall-sit.gif"
    cached = list((tmp_path / "figure-cache").glob("wall-sit-*.gif"))
    assert len(cached) == 1
    assert stride.emu.message_record(rec.message).files[0].data == cached[0].read_bytes()
    await stride.restart()
    rec = await stride.run("exercise", {"name": "wall sit"})  # at once: from the cache
    assert rec.message is not None and shown_figure(stride, rec.message) == "wall-sit.gif"
    assert stride.proc.output().count("Drew 1 figure(s)") == 0  # this process drew nothing
