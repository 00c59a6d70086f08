"""Check-ins, streaks, boards, settings and member data through the real bot."""

from __future__ import annotations

import copy

import pytest

from .stride import Stride, button, embed_of, eventually, field, text_of

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def stride(stride_module: Stride) -> Stride:
    return stride_module


async def test_checkin_once_a_day_with_undo(stride: Stride) -> None:
    rec = await stride.run("checkin", {"what": "quick"})
    assert not rec.ephemeral  # the club sees it
    embed = embed_of(rec)
    assert "Checked in (Quick" in embed["title"]
    assert field(embed, "Current streak").startswith("1")
    again = await stride.run("checkin")
    assert again.ephemeral and embed_of(again)["title"] == "Already checked in today"
    message = copy.deepcopy(rec.message)
    assert message is not None
    # Someone else cannot undo it.
    other = await stride.click(message, button(message, "Undo")["custom_id"],
                               member=stride.world.member2)
    assert other.ephemeral and "Only the member who checked in" in other.response["data"]["content"]
    undone = await stride.click(message, button(message, "Undo")["custom_id"])
    assert undone.ephemeral and field(embed_of(undone), "Total") == "0"
    nothing = await stride.run("checkin", {"undo": True})
    assert nothing.ephemeral and "nothing to undo" in embed_of(nothing)["description"]
    redo = await stride.run("checkin")
    assert field(embed_of(redo), "Total") == "1"


async def test_checkin_what_is_checked(stride: Stride) -> None:
    rec = await stride.run("checkin", {"what": "marathon"}, member=stride.world.member2)
    assert rec.ephemeral and "quick" in embed_of(rec)["description"]
    rec = await stride.emu.autocomplete("checkin", {"what": "qu"}, "what",
                                        member=stride.world.member, guild=stride.world.guild,
                                        channel=stride.world.channel)
    await rec.wait_response()
    assert rec.choices and rec.choices[0]["value"] == "quick"


async def test_done_screen_checks_in(stride: Stride) -> None:
    rec = await stride.run("routine", {"name": "quick"}, member=stride.world.member2)
    msg = rec.message
    assert msg is not None
    done_id = f"stride:walk:quick:{2}:n"  # the Finish button of the two-step quick routine
    start = await stride.click(msg, button(msg, "Start")["custom_id"], member=stride.world.member2)
    screen = start.message
    assert screen is not None
    screen = (await stride.click(screen, button(screen, "Next")["custom_id"],
                                 member=stride.world.member2)).message
    assert screen is not None and button(screen, "Finish")["custom_id"] == done_id
    done = (await stride.click(screen, done_id, member=stride.world.member2)).message
    assert done is not None
    checked = await stride.click(done, button(done, "Check in")["custom_id"],
                                 member=stride.world.member2)
    assert "Checked in (Quick" in embed_of(checked)["title"]


async def test_timezone(stride: Stride) -> None:
    bad = await stride.run("timezone", {"zone": "Europe/Berln"})
    assert bad.ephemeral and "Europe/Berlin" in embed_of(bad)["description"]
    good = await stride.run("timezone", {"zone": "europe/berlin"})
    assert "Europe/Berlin" in good.response["data"]["content"]
    rec = await stride.emu.autocomplete("timezone", {"zone": "berl"}, "zone",
                                        member=stride.world.member, guild=stride.world.guild,
                                        channel=stride.world.channel)
    await rec.wait_response()
    assert rec.choices and rec.choices[0]["value"] == "Europe/Berlin"


async def test_streak_with_heatmap_and_a_nudge(stride: Stride) -> None:
    rec = await stride.run("streak")
    first = rec.response["data"]  # the figures at once, the calendar as an edit right after
    assert field(first["embeds"][0], "Current streak") and "image" not in first["embeds"][0]
    await eventually(lambda: rec.message and rec.message["embeds"][0].get("image"), 5)
    message = rec.message
    assert message is not None
    image, attachment = message["embeds"][0]["image"], message["attachments"][-1]
    assert attachment["filename"] == "streak.png" and image["url"] == attachment["url"]
    files = stride.emu.message_record(message).files
    assert files and files[0].data.startswith(b"\x89PNG")
    assert "Europe/Berlin" in text_of(embed_of(message))
    newcomer = stride.emu.add_member(stride.world.guild, "carol")
    await stride.emu.settle()
    nudge = await stride.run("streak", member=newcomer)
    assert "No check-ins yet" in embed_of(nudge)["description"]


async def test_leaderboard_pages_and_own_rank(stride: Stride) -> None:
    runners = [stride.emu.add_member(stride.world.guild, f"runner{i}") for i in range(12)]
    await stride.emu.settle()
    for runner in runners:
        await stride.run("checkin", member=runner)
    rec = await stride.run("leaderboard", {"board": "checkins", "period": "week"},
                           member=stride.world.admin)
    message = copy.deepcopy(rec.message)
    assert message is not None
    embed = embed_of(message)
    assert embed["title"] == "Check-ins · this week"
    assert embed["footer"]["text"] == "Page 1"
    assert embed["description"].count("🥇") == 10  # everyone ties on one check-in
    assert "Not on this board" in field(embed, "You")
    nxt = await stride.click(message, button(message, "Next")["custom_id"])
    page2 = nxt.message
    assert page2 is not None and embed_of(page2)["footer"]["text"] == "Page 2 (last)"
    assert field(embed_of(page2), "You") == "#1 with 1 check-ins"
    assert button(page2, "Next")["disabled"] is True
    # A member who leaves drops off the board.
    stride.emu.remove_member(stride.world.guild, runners[0])
    await stride.emu.settle()
    for _ in range(50):
        rec = await stride.run("leaderboard", {"board": "checkins", "period": "all"})
        if f"<@{runners[0]['user']['id']}>" not in embed_of(rec)["description"]:
            break
    assert f"<@{runners[0]['user']['id']}>" not in embed_of(rec)["description"]
    assert embed_of(rec)["description"].count("🥇") == 10  # the 13 who stayed


async def test_club_settings_need_manage_server(stride: Stride) -> None:
    stride.emu.enforce_command_permissions = False  # a server that overrode the default
    try:
        rec = await stride.run("club", {"rest_days": 0}, subcommand="settings")
    finally:
        stride.emu.enforce_command_permissions = True
    assert rec.ephemeral and "Manage Server" in embed_of(rec)["description"]
    shown = await stride.run("club", subcommand="settings", member=stride.world.admin)
    assert field(embed_of(shown), "Rest days") == "2"
    changed = await stride.run("club", {"rest_days": 0, "timezone": "Europe/London"},
                               subcommand="settings", member=stride.world.admin)
    assert changed.deferred
    message = await changed.wait_message()
    assert field(embed_of(message), "Rest days") == "0"
    assert field(embed_of(message), "Time zone") == "Europe/London"
    bad = await stride.run("club", {"timezone": "Mars/Olympus"}, subcommand="settings",
                           member=stride.world.admin)
    assert "like Europe/Berlin" in text_of(embed_of(await bad.wait_message()))
    kept = await stride.run("club", subcommand="settings", member=stride.world.admin)
    assert field(embed_of(kept), "Time zone") == "Europe/London"


async def test_mydata_export_and_delete(stride: Stride) -> None:
    rec = await stride.run("mydata", subcommand="export")
    assert rec.ephemeral
    files = stride.emu.message_record(rec.message).files
    csv_text = files[0].data.decode()
    assert csv_text.splitlines()[0] == "day,checked_in_at_utc,what"
    assert len(csv_text.splitlines()) == 2
    ask = await stride.run("mydata", subcommand="delete")
    message = ask.message
    assert message is not None
    stranger = await stride.click(message, button(message, "Yes, delete my data")["custom_id"],
                                  member=stride.world.member2)
    assert "isn't yours" in stranger.response["data"]["content"]
    done = await stride.click(message, button(message, "Yes, delete my data")["custom_id"])
    assert "deleted" in embed_of(done)["title"]
    after = await stride.run("streak")
    assert "No check-ins yet" in embed_of(after)["description"]


async def test_no_errors_were_logged(stride: Stride) -> None:
    output = stride.proc.output()
    assert "Traceback" not in output and "ERROR" not in output, output
