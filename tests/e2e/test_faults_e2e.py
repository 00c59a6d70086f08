"""Faults through the real bot: kill -9 in the middle of a check-in burst while reminders fire,
Discord refusing posts and answers, the gateway dropping, and the database locked by another
process. Numbers worth knowing are printed (run with -s to see them)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from stride.records import Reminder
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.records import InteractionRecord

from .databases import TestDatabase
from .stride import BOT, Stride, bot_env, embed_of, eventually, field, start_stride
from .testworld import TestWorld

JSON = dict[str, Any]
CHECKED_IN = "Checked in"


# --- helpers ------------------------------------------------------------------------------

async def seed_reminders(db: TestDatabase, guild: JSON, channels: list[JSON], due: list[int],
                         created_by: JSON, kind: str = "channel") -> dict[int, tuple[int, int]]:
    """Reminders straight into the database (one per channel, or DM user, and due time), as
    if made earlier; returns {reminder id: (channel or user id, due)}."""
    made = {}
    async with db.opened() as storage:
        for at in due:
            for target in channels:
                tid = int(target["user"]["id"] if kind == "dm" else target["id"])
                reminder = await storage.add_reminder(Reminder(
                    id=0, guild_id=int(guild["id"]), kind=kind,
                    channel_id=tid if kind == "channel" else None,
                    user_id=tid if kind == "dm" else None, at="06:30", days=127,
                    timezone="UTC", role_id=None, routine="quick", next_due=at, paused=None,
                    fired=0, created_by=int(created_by["user"]["id"]),
                ))
                made[reminder.id] = (tid, at)
    return made


def nonce_of(emu: DiscordEmulator, message: JSON) -> str | None:
    payloads = emu.message_record(message).payloads
    return payloads[0].get("nonce") if payloads else None


def reminder_posts(emu: DiscordEmulator) -> Counter[str]:
    """How often each reminder firing (nonce r<id>-<due>) was posted, over every channel."""
    return Counter(
        str(r.payloads[0].get("nonce")) for r in emu.channel_posts
        if r.payloads and str(r.payloads[0].get("nonce", "")).startswith("r")
    )


def expected_nonces(made: dict[int, tuple[int, int]]) -> Counter[str]:
    return Counter(f"r{rid}-{due}" for rid, (_, due) in made.items())


def title(rec: InteractionRecord) -> str:
    """The title of the answer the member saw; '' while there is none (e.g. only a deferred
    "thinking..." that the killed bot never completed: that is no acknowledgement)."""
    message = rec.message or (rec.response or {}).get("data") or {}
    embeds = message.get("embeds") or []
    return str(embeds[0].get("title", "")) if embeds else ""


async def private_answer(rec: InteractionRecord) -> JSON:
    """The answer only the member sees: the reply itself, or, when the bot deferred publicly
    ("thinking...") and then had to refuse, an ephemeral followup after deleting the
    public placeholder."""
    if not rec.deferred:
        assert rec.ephemeral, rec
        return rec.message or (rec.response or {})["data"]
    await rec.wait_followup()
    last = rec.followup_records[-1]
    assert last.ephemeral, rec
    assert rec.message is None  # the public "thinking..." is gone
    return last.message


def log_lines(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


async def checkin(emu: DiscordEmulator, member: JSON, guild: JSON | None = None,
                  channel: JSON | None = None) -> InteractionRecord:
    """`member` checks in (by default in the test world's club, in #general: emu.defaults)."""
    rec = await emu.slash("checkin", member=member, guild=guild, channel=channel)
    await rec.wait_response()
    return rec


# --- kill -9 mid-burst ----------------------------------------------------------------------

async def test_kill_9_mid_burst_keeps_every_acknowledged_checkin_and_reminder(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    """1,000 members check in at once while 40 reminders fall due; the bot is SIGKILLed once
    300 check-ins are acknowledged and reminders are posting. After a restart on the same
    file: every acknowledged check-in is stored, the file is sound, every reminder is posted
    exactly once (those cut short are looked for and found, those due while the bot was
    down are posted late, within the grace window)."""
    emu = emulator
    db = database
    runners = [emu.add_member(world.guild, f"runner{i}") for i in range(1000)]
    rooms = [emu.add_channel(world.guild, f"meet-{i}") for i in range(10)]
    await emu.settle()
    base = int(time.time()) + 4  # the bot is up in about 2 s
    made = await seed_reminders(db, world.guild, rooms, [base + i for i in range(4)], world.admin)
    # In three rooms the first two answers are lost after the message was made (502): the
    # send is retried for 4 s, so the kill cuts it short.
    cut = [emu.fail_channel(room, 502, times=2, after_create=True) for room in rooms[:3]]
    stride = await start_stride(emu, world, start_bot, db)
    await eventually(lambda: time.time() >= base + 0.2, 10, "the first reminders fall due")

    burst = asyncio.ensure_future(asyncio.gather(*(
        emu.slash("checkin", member=m, guild=world.guild, channel=world.channel) for m in runners
    )))

    def acks() -> int:
        return sum(1 for r in emu.interactions.values() if r.name == "checkin" and title(r))

    await eventually(lambda: acks() >= 300 and all(f.hits >= 1 for f in cut), 20,
                     "300 check-ins acknowledged and reminders posting")
    stride.proc.kill()  # kill -9
    await stride.proc.wait_exit()
    recs: list[InteractionRecord] = await burst
    # Answered = the member saw an answer; a "thinking..." the killed bot never completed
    # acknowledged nothing.
    answered = [r for r in recs if title(r)]
    acked = [r for r in answered if title(r).startswith(CHECKED_IN)]
    told_to_retry = [r for r in answered if "try again" in embed_of(r)["description"]]
    assert len(acked) + len(told_to_retry) == len(answered), {title(r) for r in answered}
    posted_before = sum(reminder_posts(emu).values())
    hits_before = len(emu.nonce_hits)

    restarted = await start_bot(emu, BOT, bot_env(db))
    started = time.monotonic()
    await eventually(
        lambda: db.rows("SELECT COUNT(*) FROM reminder_firings WHERE status = 'sent'")[0][0]
        == len(made), 20, "every firing recorded as sent")
    caught_up = time.monotonic() - started
    # The bot answers again: those acknowledged are already checked in, the rest can.
    again = [await checkin(emu, r.payload["member"]) for r in acked[:10]]
    assert all(title(r) == "Already checked in today" for r in again)
    await restarted.stop()

    assert db.integrity_ok()
    stored = {u for (u,) in db.rows("SELECT user_id FROM checkins")}
    lost = [r.id for r in acked if int(r.payload["member"]["user"]["id"]) not in stored]
    assert lost == []
    assert not {int(r.payload["member"]["user"]["id"]) for r in told_to_retry} & stored
    # Each member's running figures agree with the check-in log (nothing half-written).
    assert db.rows("SELECT COUNT(*) FROM members AS m WHERE m.total != "
                 "(SELECT COUNT(*) FROM checkins AS c WHERE c.guild_id = m.guild_id "
                 "AND c.user_id = m.user_id)") == [(0,)]
    assert reminder_posts(emu) == expected_nonces(made)  # every reminder exactly once
    assert db.rows("SELECT status, COUNT(*) FROM reminder_firings GROUP BY status") == [
        ("sent", len(made))]
    # The sends cut short (their message made, the answer lost) were looked for and found,
    # not posted again; any resent meanwhile was kept once by its nonce.
    found = len(log_lines(restarted.output(), "already posted before the restart"))
    resent = len(emu.nonce_hits) - hits_before
    assert found + resent >= len(cut)
    unfinished = len(log_lines(restarted.output(), "checking, then sending"))
    assert unfinished >= len(cut)
    print(f"\nburst: {len(acked)} check-ins acknowledged before kill -9 ({len(told_to_retry)} "
          f"told to try again), {len(stored)} stored after the restart; reminders: "
          f"{posted_before} posted before the kill, {len(made)} in all, each once "
          f"({unfinished} claimed but unfinished at the kill were resent, {resent} of them "
          f"answered from the nonce); all sent {caught_up:.2f} s after the restart")
    assert "Traceback" not in restarted.output()


# --- Discord refusing posts and answers --------------------------------------------------

async def test_discord_errors_pause_retry_or_log_once_and_other_guilds_go_on(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    """Posts answered 403 / 403 50013 / 404 pause that reminder with the reason shown; 429
    (retry_after), 500 and 502 (answer lost after the message was made) are retried and post
    once. An answer to a member refused with 500 once is retried; refused for good, it is
    logged once with its context and the bot carries on, in this server and others."""
    emu = emulator
    db = database
    other = emu.add_guild("Other Club", channels=["track"], owner="other-owner")
    track = emu.world.channel_by_name(int(other["id"]), "track")
    olga = emu.add_member(other, "olga")
    names = ["no-access", "no-send", "gone", "busy", "err500", "err502"]
    rooms = {name: emu.add_channel(world.guild, name) for name in names}
    await emu.settle()
    due = int(time.time()) - 5  # due now: fires as the bot starts
    made = await seed_reminders(db, world.guild, list(rooms.values()), [due], world.admin)
    made |= await seed_reminders(db, other, [track], [due], world.admin)
    made |= await seed_reminders(db, world.guild, [world.member2], [due], world.admin, kind="dm")
    rid = {emu.world.channels[tid]["name"] if tid in emu.world.channels else "dm": r
           for r, (tid, _) in made.items()}
    emu.fail_channel(rooms["no-access"], 403)
    emu.fail_channel(rooms["no-send"], 403, 50013)
    emu.fail_channel(rooms["gone"], 404)
    busy = emu.fail_channel(rooms["busy"], 429, times=1)
    err500 = emu.fail_channel(rooms["err500"], 500, times=1)
    err502 = emu.fail_channel(rooms["err502"], 502, times=1, after_create=True)
    emu.close_dms(world.member2)
    stride = await start_stride(emu, world, start_bot, db)

    retried = ["busy", "err500", "err502", "track"]
    await eventually(lambda: all(len(emu.channel_messages(rooms.get(n, track))) == 1
                                 for n in retried), 15, "retried reminders posted")
    await eventually(lambda: len(emu.nonce_hits) == 1, 5, "the 502 retried with its nonce")
    paused = {"no-access": "Stride can no longer see that channel",
              "no-send": "Stride lost permission to post in that channel",
              "gone": "the channel no longer exists",
              "dm": "DMs from this server are closed"}
    await eventually(lambda: len(db.rows("SELECT id FROM reminders WHERE paused IS NOT NULL"))
                     == len(paused), 10, "failed reminders paused")
    assert (busy.hits, err500.hits, err502.hits) == (1, 1, 1)
    assert len(emu.nonce_hits) == 1  # the 502 whose message was made: resent, kept once
    listing = await stride.run("reminder", subcommand="list", member=world.admin)
    for name, reason in paused.items():
        if name != "dm":
            assert f"paused: {reason}" in field(embed_of(listing), f"#{rid[name]}")
    for name in ("busy", "err500", "err502"):
        assert "paused" not in field(embed_of(listing), f"#{rid[name]}")
    shown = await stride.run("remindme", subcommand="show", member=world.member2)
    assert paused["dm"] in embed_of(shown)["description"]
    for name in names:
        assert len(emu.channel_messages(rooms[name])) == (1 if name in retried else 0)

    # An answer refused once with 500: discord.py retries it and the member gets it.
    glitch = emu.fail_interactions(500, times=1, guild=world.guild)
    rec = await emu.slash("checkin", member=world.member, guild=world.guild, channel=world.channel)
    await rec.wait_response(timeout=3)
    assert glitch.hits == 1 and title(rec).startswith(CHECKED_IN)
    # Refused for good (the token expired): logged once, with who, what and where.
    emu.fail_interactions(404, 10062, guild=world.guild)
    lost = await emu.slash("checkin", member=world.admin, guild=world.guild, channel=world.channel)
    meanwhile = await checkin(emu, olga, other, track)  # another server: unaffected
    assert title(meanwhile).startswith(CHECKED_IN)
    await eventually(lambda: log_lines(stride.proc.output(), f"interaction={lost.id}") != [],
                     10, "the failed answer logged")
    await eventually(lambda: len(lost.rejected) >= 1, 5, "the answer refused")
    emu.clear_faults()
    later = await checkin(emu, world.admin)  # the check-in itself was kept: no silent loss
    assert later.response is not None and title(later) == "Already checked in today"
    logged = log_lines(stride.proc.output(), f"interaction={lost.id}")
    assert len(logged) == 1, logged
    assert all(f"{k}=" in logged[0] for k in ("guild", "channel", "user", "what"))
    assert "10062" in logged[0]
    assert stride.proc.returncode is None
    assert "Traceback" not in stride.proc.output()
    print(f"\nrefused posts: {len(paused)} paused with the reason, {len(retried)} posted once; "
          f"refused answer logged once: {logged[0].split(': ', 1)[-1][:160]}")


# --- the gateway going away -------------------------------------------------------------------

async def test_gateway_reconnect_invalid_session_and_drop(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    """op 7 RECONNECT, op 9 INVALID_SESSION (not resumable, then resumable) and a dropped
    connection (4000), each just as reminders fall due: the bot is back within a few seconds
    and answers, interactions sent during a resumable gap are answered, and every reminder is
    posted exactly once."""
    emu = emulator
    db = database
    rooms = [emu.add_channel(world.guild, f"meet-{i}") for i in range(3)]
    runners = [emu.add_member(world.guild, f"runner{i}") for i in range(8)]
    await emu.settle()
    first = int(time.time()) + 4
    faults = ["op 7 reconnect", "op 9 invalid session", "op 9 resumable", "dropped (4000)"]
    dues = [first + 2 * i for i in range(len(faults))]
    made = await seed_reminders(db, world.guild, rooms, dues, world.admin)
    stride = await start_stride(emu, world, start_bot, db)
    gw = emu.gateway
    timings: dict[str, tuple[float, float]] = {}
    for i, (fault, due) in enumerate(zip(faults, dues, strict=True)):
        await eventually(lambda d=due: time.time() >= d - 0.05, 10, "the next due time")
        sessions, resumes = len(gw.session_list), sum(s.resumes for s in gw.session_list)
        started = time.perf_counter()
        if fault.startswith("op 7"):
            await gw.send_reconnect()
        elif fault == "op 9 invalid session":
            await gw.invalidate_sessions(resumable=False)
        elif fault == "op 9 resumable":
            await gw.invalidate_sessions(resumable=True)
        else:
            await gw.disconnect(4000)
        resumable = fault != "op 9 invalid session"
        gap = None
        if resumable:  # sent while the bot is away: replayed on RESUME
            gap = await emu.slash("checkin", member=runners[2 * i], guild=world.guild,
                                  channel=world.channel)

        def back(s: int = sessions, r: int = resumes, resume: bool = resumable) -> bool:
            live = [x for x in gw.session_list if x.connection is not None and x.ready.is_set()]
            if resume:
                return sum(x.resumes for x in gw.session_list) > r and bool(live)
            return len(gw.session_list) > s and any(x in live for x in gw.session_list[s:])

        await eventually(back, 15, f"back after {fault}")
        reconnected = time.perf_counter() - started
        rec = await checkin(emu, runners[2 * i + 1])
        answered = time.perf_counter() - started
        assert title(rec).startswith(CHECKED_IN), fault
        if gap is not None:
            await gap.wait_response()
            assert title(gap).startswith(CHECKED_IN), fault
        timings[fault] = (reconnected, answered)

    await eventually(lambda: sum(reminder_posts(emu).values()) >= len(made), 10,
                     "every reminder posted")
    await eventually(
        lambda: db.rows("SELECT COUNT(*) FROM reminder_firings WHERE status = 'sent'")[0][0]
        == len(made), 5, "every firing recorded")
    await stride.proc.stop()
    assert reminder_posts(emu) == expected_nonces(made)
    assert len(emu.identifies) == 2  # the first start and the op 9 that was not resumable
    assert "Traceback" not in stride.proc.output()
    print("\nback / answering after: " + "; ".join(
        f"{f} {a:.2f} s / {b:.2f} s" for f, (a, b) in timings.items()))


# --- the database locked by another process -----------------------------------------------

async def test_locked_database_waits_then_says_try_again(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    """Another process holds the write lock. For 1 s: the check-in waits and succeeds. For
    longer than the bot waits: members get an ephemeral "try again" in time (Discord allows
    3 s), nothing is half-written, reading commands keep answering meanwhile, a reminder due
    meanwhile is posted once the lock goes, and checking in again then works. A reminder whose
    outcome cannot be recorded while the lock is held is recorded once it goes (not left
    'claimed', to be sent again after a restart)."""
    emu = emulator
    db = database
    alice, others = world.member, [world.member2, *(emu.add_member(world.guild, f"r{i}")
                                               for i in range(3))]
    await emu.settle()
    due = int(time.time()) + 6
    made = await seed_reminders(db, world.guild, [world.runs_channel], [due], world.admin)
    later = await seed_reminders(db, world.guild, [world.channel], [due + 5], world.admin)
    # Its first answer is lost after the message was made: the send takes 1 s more.
    emu.fail_channel(world.channel, 502, times=1, after_create=True)
    stride: Stride = await start_stride(emu, world, start_bot, db)
    async with db.write_lock():
        rec = await emu.slash("checkin", member=alice, guild=world.guild, channel=world.channel)
        await asyncio.sleep(1.0)  # the other process holds the lock for a second
        assert rec.response is None  # still waiting, not failed
    await rec.wait_response()
    assert title(rec).startswith(CHECKED_IN) and not rec.rejected
    short_wait = rec.response_time

    await eventually(lambda: time.time() >= due - 0.3, 10, "just before the reminder")
    async with db.write_lock():
        locked = time.perf_counter()
        recs = list(await asyncio.gather(*(
            emu.slash("checkin", member=m, guild=world.guild, channel=world.channel)
            for m in others)))
        streak = await emu.slash("streak", member=alice, guild=world.guild, channel=world.channel)
        await streak.wait_response()
        read_time = streak.response_time
        for r in recs:
            await r.wait_response(timeout=3.5)
        await eventually(lambda: "Reminders: the database is locked" in stride.proc.output(),
                         5, "the scheduler gave up waiting, to look again later")
        held = time.perf_counter() - locked
    for r in recs:
        answer = await private_answer(r)
        assert not r.rejected, r
        assert "try again" in embed_of(answer)["description"].lower(), embed_of(answer)
        assert r.response_time is not None and r.response_time < 3.0
    assert read_time is not None and read_time < 1.0  # reading carried on
    ids = tuple(int(m["user"]["id"]) for m in others)
    marks = ",".join("?" * len(ids))
    assert db.rows(f"SELECT COUNT(*) FROM checkins WHERE user_id IN ({marks})", ids) == [(0,)]
    assert db.rows(f"SELECT COUNT(*) FROM members WHERE user_id IN ({marks})", ids) == [(0,)]
    again = [await checkin(emu, m) for m in others]
    assert all(title(r).startswith(CHECKED_IN) for r in again)
    await eventually(lambda: sum(reminder_posts(emu).values()) == 1, 3, "the reminder posted")
    await eventually(lambda: db.rows("SELECT status FROM reminder_firings") == [("sent",)],
                     3, "the firing recorded")

    [(later_id, _)] = later.items()
    firing = "SELECT status FROM reminder_firings WHERE reminder_id = ?"
    attempt = "SELECT status, attempted_at IS NOT NULL FROM reminder_firings WHERE reminder_id = ?"
    await eventually(lambda: db.rows(attempt, (later_id,)) == [("claimed", 1)], 10,
                     "the later reminder's request on its way")
    async with db.write_lock():  # after it was marked attempted, before it finishes
        await eventually(lambda: "finished reminder firing(s) yet" in stride.proc.output(), 5,
                         "recording the outcome refused")
    await eventually(lambda: db.rows(firing, (later_id,)) == [("sent",)], 3,
                     "the outcome recorded once the lock went")
    await stride.proc.stop()
    assert reminder_posts(emu) == expected_nonces(made | later)
    output = stride.proc.output()
    assert "Traceback" not in output
    for r in recs:  # each failure logged once, with its context
        assert len(log_lines(output, f"interaction={r.id}")) == 1
    assert db.integrity_ok()
    print(f"\nlock held 1 s: answered after {short_wait:.2f} s; held {held:.2f} s: "
          f"'try again' after {max(r.response_time or 0 for r in recs):.2f} s, /streak "
          f"answered in {read_time:.3f} s meanwhile")

