"""The exercise library through the real bot and the emulator, as members use it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from stride.catalog import load_catalog

from .stride import BOT, Stride, button, buttons, embed_of, field, text_of

pytestmark = pytest.mark.asyncio(loop_scope="module")
CATALOG = load_catalog(Path(BOT).parent / "data" / "exercises.toml")


@pytest.fixture
def stride(stride_module: Stride) -> Stride:
    return stride_module


async def test_commands_are_registered_by_the_sync_command(stride: Stride) -> None:
    synced = stride.emu.guild_commands[int(stride.world.guild["id"])].values()
    assert {"exercise", "exercises", "routine", "form", "help"} <= {c["name"] for c in synced}
    assert stride.emu.global_commands == {}  # nothing global unless asked for


async def test_the_bot_asks_for_minimal_intents(stride: Stride) -> None:
    intents = stride.emu.identifies[-1]["intents"]
    # GUILD_MEMBERS and GUILD_SCHEDULED_EVENTS (/runs) only: no GUILDS, so no server cache.
    assert intents == 1 << 1 | 1 << 16
    assert not intents & (1 << 15)  # no message content
    # discord.py warns at start that `guilds` is off; deliberate, so not shown to operators.
    assert "Guilds intent" not in stride.proc.output()


async def test_exercise_clams(stride: Stride) -> None:
    rec = await stride.run("exercise", {"name": "clams"})
    assert not rec.ephemeral
    embed = embed_of(rec)
    assert embed["title"] == "Clams"
    steps = field(embed, "How to do it")
    assert steps.startswith("**1.** ")
    for name in ("Key cues", "Common mistakes", "Dose", "Category"):
        assert field(embed, name)
    assert "Myrtl" in text_of(embed)
    assert "physio" in embed["footer"]["text"]


async def test_aliases_and_forgiving_names(stride: Stride) -> None:
    for typed, title in [("clamshell", "Clams"), ("LUNGE MATRIX", "Lunge matrix"),
                         ("rdl", "Romanian deadlifts"), ("side lunge", "Lunge matrix")]:
        rec = await stride.run("exercise", {"name": typed})
        assert embed_of(rec)["title"].lower() == title.lower(), typed


async def test_lunge_matrix_warns_about_the_hip_labrum(stride: Stride) -> None:
    rec = await stride.run("exercise", {"name": "lunge-matrix"})
    assert "labrum" in field(embed_of(rec), "Cautions").lower()


async def test_every_exercise_renders_within_limits(stride: Stride) -> None:
    for exercise in CATALOG.exercises:
        rec = await stride.run("exercise", {"name": exercise.id})
        assert embed_of(rec)["title"] == exercise.name
    assert stride.emu.limit_violations == []


async def test_autocomplete(stride: Stride) -> None:
    rec = await stride.emu.autocomplete("exercise", {"name": "clamsh"}, "name",
                                        member=stride.world.member, guild=stride.world.guild,
                                        channel=stride.world.channel)
    await rec.wait_response()
    assert rec.choices is not None
    assert rec.choices[0] == {"name": "Clams", "value": "clams"}
    rec = await stride.emu.autocomplete("exercise", {"name": ""}, "name",
                                        member=stride.world.member, guild=stride.world.guild,
                                        channel=stride.world.channel)
    await rec.wait_response()
    assert 1 <= len(rec.choices or []) <= 25


async def test_unknown_name_suggests_and_the_suggestion_opens(stride: Stride) -> None:
    rec = await stride.run("exercise", {"name": "clmas"})
    assert rec.ephemeral
    message = rec.message
    assert message is not None
    assert "Did you mean: Clams, Reverse clams" in embed_of(message)["description"]
    shown = await stride.click(message, button(message, "Show Clams")["custom_id"])
    assert shown.ephemeral and embed_of(shown)["title"] == "Clams"


async def test_browse_by_category_with_pages(stride: Stride) -> None:
    overview = await stride.run("exercises")
    assert "Pre-run activation" in text_of(embed_of(overview))
    rec = await stride.run("exercises", {"category": "activation"})
    page = copy.deepcopy(rec.message)  # the emulator's copy is edited in place
    assert page is not None
    pages = -(-len(CATALOG.in_category("activation")) // 6)  # six a page
    names: set[str] = set()
    for number in range(1, pages + 1):
        embed = page["embeds"][0]
        assert embed["author"]["name"] == f"Page {number} of {pages}"
        names |= {f["name"].split(" · ")[0] for f in embed["fields"]}
        if number < pages:
            turned = await stride.click(page, button(page, "Next")["custom_id"])
            assert turned.response_type == 7  # the listing is edited in place
            assert turned.message is not None
            page = copy.deepcopy(turned.message)
    assert names == {e.name for e in CATALOG.in_category("activation")}
    assert button(page, "Next").get("disabled") is True


async def test_form_checklist(stride: Stride) -> None:
    rec = await stride.run("form")
    embed = embed_of(rec)
    checklist = field(embed, "Checklist")
    assert "knee" in checklist.lower() and checklist.count("☐") >= 8


async def test_help_lists_commands_and_the_safety_note(stride: Stride) -> None:
    rec = await stride.run("help")
    embed = embed_of(rec)
    assert rec.ephemeral
    commands = field(embed, "Commands")
    for name in ("/exercise", "/exercises", "/routine", "/form", "/help"):
        assert f"`{name}`" in commands
    assert "physio" in field(embed, "Stay safe")


async def test_routine_walkthrough_start_next_back_done(stride: Stride) -> None:
    listing = await stride.run("routine")
    assert "Quick" in text_of(embed_of(listing))
    rec = await stride.run("routine", {"name": "quick"})
    message = rec.message
    assert message is not None and not rec.ephemeral
    quick = CATALOG.routine("quick")
    assert quick is not None
    start = await stride.click(message, button(message, "Start")["custom_id"])
    assert start.ephemeral
    screen = start.message
    assert screen is not None
    assert embed_of(screen)["title"] == f"1/{len(quick.steps)} · {quick.steps[0].name}"
    assert field(embed_of(screen), "Dose") == quick.steps[0].dose
    assert button(screen, "Back")["disabled"] is True
    nxt = await stride.click(screen, button(screen, "Next")["custom_id"])
    screen = nxt.message
    assert screen is not None and embed_of(screen)["title"].startswith("2/")
    back = await stride.click(screen, button(screen, "Back")["custom_id"])
    assert back.message is not None and embed_of(back.message)["title"].startswith("1/")
    # Walk to the end: the last step's button finishes.
    screen = back.message
    for _ in quick.steps:
        label = "Finish" if "Finish" in [b["label"] for b in buttons(screen)] else "Next"
        screen = (await stride.click(screen, button(screen, label)["custom_id"])).message
        assert screen is not None
    assert embed_of(screen)["title"].startswith("Done")
    assert {"Back", "Start over", "Check in"} <= {b["label"] for b in buttons(screen)}


async def test_routine_unknown_name(stride: Stride) -> None:
    rec = await stride.run("routine", {"name": "marathon"})
    assert rec.ephemeral
    assert "`quick`" in embed_of(rec)["description"]


async def test_buttons_keep_working_after_a_restart(stride: Stride) -> None:
    rec = await stride.run("routine", {"name": "full"})
    message = rec.message
    assert message is not None
    await stride.restart()
    start = await stride.click(message, button(message, "Start")["custom_id"])
    assert embed_of(start)["title"].startswith("1/")


async def test_no_errors_were_logged(stride: Stride) -> None:
    output = stride.proc.output()
    assert "Traceback" not in output and "ERROR" not in output, output
    assert stride.emu.token not in output
