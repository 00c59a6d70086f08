"""Club runs through the real bot: /runs, the post before each of the server's Discord
scheduled events as they are created, moved, cancelled, deleted and repeated, members' DMs,
and exactly once across restarts, downtime and kill -9.

Runs start a few seconds after their post is due (the shortest lead is 5 minutes), so the
posts come in real time; longer waits are downtime: the emulator's clock is moved on and
the next bot process runs that far ahead (`clock_offset`), as in the reminders' tests.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.emulator.emulator import DiscordEmulator
from tests.emulator.records import InteractionRecord

from .databases import TestDatabase
from .stride import BOT, Stride, button, buttons, embed_of, eventually, text_of

LEAD = 5  # minutes before the run that its post goes out (the least /runs allows)


def at(seconds: float, offset: float = 0.0) -> datetime:
    """`seconds` from now (on a clock `offset` seconds ahead), as Discord's event times."""
    return datetime.fromtimestamp(time.time() + offset + seconds, UTC)


def soon(after: float = 4.0, offset: float = 0.0) -> datetime:
    """A run whose post (LEAD minutes before it) is due `after` seconds from now."""
    return at(LEAD * 60 + after, offset)


def run_posts(emu: DiscordEmulator, channel: dict) -> list[dict]:
    """The bot's run posts in a channel (its other messages left out)."""
    return [m for m in emu.channel_messages(channel)
            if m.get("embeds") and "/events/" in (m["embeds"][0].get("url") or "")]


async def followed(db: TestDatabase, count: int) -> None:
    """Wait until the bot has taken `count` events in (their gateway events are handled as
    they come, beside the commands)."""
    await eventually(lambda: len(db.rows("SELECT event_id FROM runs")) >= count, 10,
                     f"{count} event(s) followed")


def firings(db: TestDatabase) -> list[tuple[int, str]]:
    return db.rows("SELECT f.reminder_id, f.status FROM reminder_firings AS f "
                   "JOIN reminders AS r ON r.id = f.reminder_id WHERE r.event_id IS NOT NULL "
                   "ORDER BY f.due_at")


async def setup_runs(stride: Stride, **options: object) -> dict:
    world = stride.world
    rec = await stride.run("runs", {"channel": world.runs_channel, "minutes": LEAD, **options},
                           subcommand="setup", member=world.admin)
    assert rec.ephemeral, rec.response
    return embed_of(await answer(rec))


async def answer(rec: InteractionRecord) -> dict:
    """The command's answer: its response, or the message a deferred one became."""
    return await rec.wait_message(10) if rec.deferred else rec.message or rec.response["data"]


async def test_a_run_gets_one_post_before_it_starts_and_done_checks_in(
    stride: Stride, database: TestDatabase
) -> None:
    emu, world = stride.emu, stride.world
    setup = await setup_runs(stride, role=world.role, match="run")
    assert setup["title"] == "Runs set up" and f"<#{world.runs_channel['id']}>" in \
        setup["description"]
    start = soon()
    run = emu.add_scheduled_event(world.guild, "Tuesday @everyone **track** run", start,
                                  location="The track <@&1> gate")
    emu.add_scheduled_event(world.guild, "Club social", soon(), location="Pub")  # no match
    await followed(database, 1)
    listed = await stride.run("runs", subcommand="list")
    assert "Tuesday" in embed_of(listed)["description"] and "Club social" not in \
        embed_of(listed)["description"]
    await eventually(lambda: run_posts(emu, world.runs_channel), 20, "the run's post")
    [post] = run_posts(emu, world.runs_channel)
    embed = embed_of(post)
    text = text_of(embed)
    assert "@everyone" not in text.replace("@\u200beveryone", "") and "**track**" not in text
    assert f"<t:{int(start.timestamp())}:t>" in embed["description"]
    assert embed["url"] == f"https://discord.com/events/{world.guild['id']}/{run['id']}"
    assert "The track" in embed["description"] and "<@&1>" not in embed["description"]
    assert embed["footer"]["text"].startswith("⚠️")
    assert post["content"] == f"<@&{world.role['id']}>"  # the role, and nothing else pinged
    assert [b["label"] for b in buttons(post)] == ["Done", "Show me how"]
    done = await stride.click(post, button(post, "Done")["custom_id"])
    assert "Checked in" in embed_of(done)["title"]
    # Nothing more: not for the social, and not twice for the run.
    await stride.run("runs", subcommand="list")
    assert len(run_posts(emu, world.runs_channel)) == 1
    assert len(emu.channel_messages(world.runs_channel)) == 1


async def test_a_moved_run_posts_at_its_new_time_once(stride: Stride, database: TestDatabase
                                                      ) -> None:
    emu, world = stride.emu, stride.world
    await setup_runs(stride)
    run = emu.add_scheduled_event(world.guild, "Long run", at(3600), location="Park")
    await followed(database, 1)
    moved_to = soon()
    emu.update_scheduled_event(run, start=moved_to)
    await eventually(lambda: run_posts(emu, world.runs_channel), 20, "the moved run's post")
    [post] = run_posts(emu, world.runs_channel)
    assert f"<t:{int(moved_to.timestamp())}:t>" in embed_of(post)["description"]
    await stride.run("runs", subcommand="list")  # a round trip: anything pending has gone out
    assert len(run_posts(emu, world.runs_channel)) == 1


async def test_cancelled_and_deleted_runs_post_nothing(stride: Stride, database: TestDatabase
                                                       ) -> None:
    emu, world = stride.emu, stride.world
    await setup_runs(stride)
    cancelled = emu.add_scheduled_event(world.guild, "Hill repeats", soon(3), location="Hill")
    deleted = emu.add_scheduled_event(world.guild, "Tempo run", soon(3), location="Lake")
    kept = emu.add_scheduled_event(world.guild, "Easy run", soon(6), location="Canal")
    emu.cancel_scheduled_event(cancelled)
    emu.delete_scheduled_event(deleted)
    await eventually(lambda: run_posts(emu, world.runs_channel), 20, "the kept run's post")
    await stride.run("runs", subcommand="list")
    posts = run_posts(emu, world.runs_channel)
    assert [p["embeds"][0]["url"].rsplit("/", 1)[1] for p in posts] == [kept["id"]]


async def test_a_run_at_short_notice_posts_at_once(stride: Stride) -> None:
    emu, world = stride.emu, stride.world
    await setup_runs(stride, minutes=60)
    emu.add_scheduled_event(world.guild, "Pop-up run", at(120), location="Square")
    await eventually(lambda: run_posts(emu, world.runs_channel), 10, "an at-once post")


@pytest.mark.parametrize("kind", [2, 13])  # voice, stage
async def test_voice_and_stage_runs_name_their_channel(stride: Stride, kind: int) -> None:
    emu, world = stride.emu, stride.world
    await setup_runs(stride)
    voice = emu.add_channel(world.guild, "Treadmill call", type=kind)
    emu.add_scheduled_event(world.guild, "Treadmill intervals", soon(), channel=voice)
    await eventually(lambda: run_posts(emu, world.runs_channel), 20, "the voice run's post")
    assert f"<#{voice['id']}>" in embed_of(run_posts(emu, world.runs_channel)[0])["description"]


async def test_members_get_a_dm_for_runs_they_are_interested_in(stride: Stride) -> None:
    emu, world = stride.emu, stride.world
    alice, bob = world.member, world.member2
    await setup_runs(stride)
    on = await stride.run("runs", {"enabled": True}, subcommand="dm", member=alice)
    assert embed_of(await answer(on))["title"] == "Run DMs on"
    assert len(emu.channel_messages(emu.dm_channel(alice))) == 1  # the "Run DMs on" DM
    run = emu.add_scheduled_event(world.guild, "Track session", soon(), location="Track")
    emu.add_event_interest(run, alice)
    emu.add_event_interest(run, bob)  # interested, but wants no DMs
    await eventually(lambda: len(emu.channel_messages(emu.dm_channel(alice))) == 2, 25,
                     "alice's run DM")
    dm = emu.channel_messages(emu.dm_channel(alice))[-1]
    assert "Track session" in embed_of(dm)["title"]
    done = button(dm, "Done")["custom_id"]
    assert str(world.guild["id"]) in done  # checks her in in this server, from her DMs
    assert emu.channel_messages(emu.dm_channel(bob)) == []
    listed = await stride.run("runs", subcommand="list", member=alice)
    assert "Your run DMs: on" in embed_of(listed)["description"]
    assert len(run_posts(emu, world.runs_channel)) == 1


async def test_closed_dms_switch_run_dms_off_and_say_why(stride: Stride, database: TestDatabase
                                                         ) -> None:
    emu, world = stride.emu, stride.world
    bob = world.member2
    await setup_runs(stride)
    await answer(await stride.run("runs", {"enabled": True}, subcommand="dm", member=bob))
    emu.close_dms(bob)
    run = emu.add_scheduled_event(world.guild, "Track session", soon(), location="Track")
    emu.add_event_interest(run, bob)
    await eventually(lambda: run_posts(emu, world.runs_channel), 20, "the club post")
    await eventually(lambda: database.rows("SELECT paused FROM run_dm_members "
                                           "WHERE paused IS NOT NULL"), 20, "switched off")
    listed = await stride.run("runs", subcommand="list", member=bob)
    assert "Your run DMs: stopped, Stride can" in embed_of(listed)["description"]


async def test_only_admins_set_runs_up_and_bad_input_changes_nothing(
    stride: Stride, database: TestDatabase
) -> None:
    world = stride.world
    refused = await stride.run("runs", {"channel": world.runs_channel, "minutes": 30},
                               subcommand="setup", member=world.member)
    said = await answer(refused)
    assert refused.ephemeral and "Manage Server" in (said.get("content") or text_of(
        embed_of(said)))
    listed = await stride.run("runs", subcommand="list")
    assert "not set up" in text_of(embed_of(listed))
    assert database.rows("SELECT * FROM run_settings") == []


async def test_runs_list_pages_stay_within_discords_limits(stride: Stride,
                                                         database: TestDatabase) -> None:
    emu, world = stride.emu, stride.world
    await setup_runs(stride, minutes=180)
    for n in range(100):  # Discord's most per server
        emu.add_scheduled_event(world.guild, f"Run {n:02d} " + "x" * 80, at(86400 + n * 600),
                                location="L" * 90)
    await followed(database, 100)
    pages = [embed_of(await stride.run("runs", {"page": page}, subcommand="list"))["description"]
             for page in range(1, 8)]
    assert all(len(p) <= 4096 for p in pages)
    assert sum(p.count("Run ") for p in pages) == 100  # 15 a page, each run once


async def test_off_stops_the_posts(stride: Stride, database: TestDatabase) -> None:
    emu, world = stride.emu, stride.world
    await setup_runs(stride)
    emu.add_scheduled_event(world.guild, "Long run", soon(5), location="Park")
    await followed(database, 1)
    off = await stride.run("runs", subcommand="off", member=world.admin)
    assert embed_of(off)["title"] == "Runs off"
    # Its post was due in 5 s: the scheduler sends only what the database holds, and it
    # holds no run post any more.
    assert database.rows("SELECT * FROM reminders WHERE event_id IS NOT NULL") == []
    listed = await stride.run("runs", subcommand="list")
    assert "not set up" in text_of(embed_of(listed))


# --- across restarts ---------------------------------------------------------------------------

async def test_a_recurring_run_posts_before_each_occurrence_across_a_restart(
    stride: Stride, start_bot, database: TestDatabase
) -> None:
    emu, world = stride.emu, stride.world
    await setup_runs(stride)
    weekly = emu.add_scheduled_event(
        world.guild, "Tuesday track", soon(), location="Track",
        recurrence={"start": soon().isoformat(), "end": None, "frequency": 2, "interval": 1,
                    "by_weekday": [soon().weekday()], "by_n_weekday": None, "by_month": None,
                    "by_month_day": None, "by_year_day": None, "count": None})
    await eventually(lambda: run_posts(emu, world.runs_channel), 20, "the first post")
    emu.start_scheduled_event(weekly)
    emu.complete_scheduled_event(weekly)  # Discord moves it to next week's occurrence
    [nxt] = [e for e in emu.scheduled_events(world.guild) if e["id"] == weekly["id"]]
    next_start = datetime.fromisoformat(nxt["scheduled_start_time"])
    await eventually(lambda: database.rows("SELECT starts_at FROM runs") == [
        (int(next_start.timestamp()),)], 10, "next week's run followed")
    await stride.proc.stop()
    downtime = next_start.timestamp() - time.time() - LEAD * 60 - 4
    assert downtime > 6 * 86400
    emu.advance(downtime)
    stride.proc = await start_bot(emu, BOT, stride.env(), clock_offset=downtime)
    await eventually(lambda: len(run_posts(emu, world.runs_channel)) == 2, 25, "the second")
    second = run_posts(emu, world.runs_channel)[1]
    assert f"<t:{int(next_start.timestamp())}:t>" in embed_of(second)["description"]


async def test_an_event_moved_while_stride_was_down_is_seen_at_the_start(
    stride: Stride, start_bot, database: TestDatabase
) -> None:
    """No gateway session, no event: the look at the server's list at the start finds it."""
    emu, world = stride.emu, stride.world
    await setup_runs(stride)
    run = emu.add_scheduled_event(world.guild, "Long run", at(3 * 3600), location="Park")
    await followed(database, 1)
    await stride.proc.stop()
    emu.update_scheduled_event(run, start=soon(8))
    stride.proc = await start_bot(emu, BOT, stride.env())
    await eventually(lambda: run_posts(emu, world.runs_channel), 25, "the moved run's post")


@pytest.mark.parametrize(("late", "posted"), [(10, True), (40, False)])
async def test_a_post_missed_in_downtime_goes_out_late_within_the_grace_window(
    stride: Stride, start_bot, database: TestDatabase, late: int, posted: bool
) -> None:
    emu, world = stride.emu, stride.world
    await setup_runs(stride, minutes=120)
    emu.add_scheduled_event(world.guild, "Long run", at(125 * 60), location="Park")
    await followed(database, 1)
    await stride.proc.stop()
    downtime = (5 + late) * 60
    emu.advance(downtime)
    stride.proc = await start_bot(emu, BOT, stride.env(), clock_offset=downtime)
    if posted:
        await eventually(lambda: run_posts(emu, world.runs_channel), 20, "the late post")
    else:
        await eventually(lambda: firings(database), 20, "the skipped post")
        assert [s for _, s in firings(database)] == ["skipped"]
    await stride.run("runs", subcommand="list")
    assert len(run_posts(emu, world.runs_channel)) == int(posted)


async def test_killed_while_discord_answers_the_post_goes_out_once(
    stride: Stride, start_bot, database: TestDatabase
) -> None:
    """kill -9 while the post's answer is in flight: after the restart the bot finds its post
    and does not post again, also once Discord has forgotten the nonce."""
    emu, world = stride.emu, stride.world
    await setup_runs(stride, minutes=60)
    emu.add_scheduled_event(world.guild, "Long run", at(60 * 60 + 3), location="Park")
    hang = emu.hang_after_create(world.runs_channel)
    await eventually(lambda: hang.hits == 1, 20, "the post sent")
    stride.proc.kill()
    await stride.proc.wait_exit()
    assert [s for _, s in firings(database)] == ["claimed"]
    emu.clear_faults()
    downtime = 600  # past Discord's nonce memory
    emu.advance(downtime)
    stride.proc = await start_bot(emu, BOT, stride.env(), clock_offset=downtime)
    await eventually(lambda: [s for _, s in firings(database)] == ["sent"], 25, "recorded")
    assert len(run_posts(emu, world.runs_channel)) == 1


async def test_killed_just_before_the_post_it_goes_out_once_after_the_restart(
    stride: Stride, start_bot, database: TestDatabase
) -> None:
    emu, world = stride.emu, stride.world
    await setup_runs(stride, minutes=60)
    emu.add_scheduled_event(world.guild, "Long run", at(60 * 60 + 2), location="Park")
    await followed(database, 1)
    stride.proc.kill()  # before the post was due
    await stride.proc.wait_exit()
    emu.advance(60)
    stride.proc = await start_bot(emu, BOT, stride.env(), clock_offset=60)
    await eventually(lambda: run_posts(emu, world.runs_channel), 20, "the post")
    await stride.run("runs", subcommand="list")
    assert len(run_posts(emu, world.runs_channel)) == 1
