"""Stopping the real bot with SIGTERM: what was acknowledged is kept, interactions in flight
finish, new ones are asked to try again, and the stop is bounded (10 s) and exits 0. The
shutdown times are printed (run with -s to see them)."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from tests.emulator.emulator import DiscordEmulator
from tests.emulator.records import InteractionRecord

from .databases import TestDatabase
from .stride import BOT, Stride, bot_env, button, embed_of, eventually, start_stride
from .test_faults_e2e import CHECKED_IN, checkin, title
from .testworld import TestWorld

STOP_BOUND = 10.0  # bot.STOP_SECONDS
RESTARTING = "Stride is restarting"
STOPPING_WITH_ONE = "Stopping: waiting for 1 interaction(s) in flight"


async def stop(stride: Stride, signum: int = signal.SIGTERM, timeout: float = STOP_BOUND + 2
               ) -> tuple[int, float]:
    """Signal the bot to stop; (exit code, seconds until the process was gone)."""
    started = time.monotonic()
    stride.proc.popen.send_signal(signum)
    code = await stride.proc.wait_exit(timeout)
    return code, time.monotonic() - started


def user_id(member: dict) -> int:
    return int(member["user"]["id"])


def checkins_of(db: TestDatabase, member: dict) -> int:
    return db.rows("SELECT COUNT(*) FROM checkins WHERE user_id = ?", (user_id(member),))[0][0]


def assert_refused(rec: InteractionRecord) -> None:
    assert rec.ephemeral and not rec.deferred, rec
    assert RESTARTING in embed_of(rec)["description"], embed_of(rec)


async def test_an_acknowledged_checkin_survives_sigterm_and_restart(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    emu = emulator
    db = database
    stride = await start_stride(emu, world, start_bot, db)
    rec = await checkin(emu, world.member)
    assert title(rec).startswith(CHECKED_IN)
    code, took = await stop(stride)  # right after the answer
    output = stride.proc.output()
    assert code == 0, output
    assert "Stopping: waiting for 0 interaction(s) in flight" in output
    assert "Stopped in" in output and "Traceback" not in output

    stride.proc = await start_bot(emu, BOT, bot_env(db))
    again = await checkin(emu, world.member)
    assert title(again) == "Already checked in today"
    code, _ = await stop(stride, signal.SIGINT)  # Ctrl-C stops the same way
    assert code == 0, stride.proc.output()
    assert "Stopped in" in stride.proc.output() and "Traceback" not in stride.proc.output()
    assert checkins_of(db, world.member) == 1
    assert db.integrity_ok()
    print(f"\nidle: SIGTERM to exit {took:.2f} s")


async def test_interactions_in_flight_finish_and_new_ones_are_asked_to_retry(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    """Another process holds the write lock; Bob's check-in waits on it. SIGTERM arrives
    meanwhile: /checkin and a button pressed during the stop are answered "try again", the
    lock goes, Bob is answered and his check-in is stored; then the bot exits 0."""
    emu = emulator
    db = database
    carl = emu.add_member(world.guild, "carl")
    await emu.settle()
    stride = await start_stride(emu, world, start_bot, db)
    first = await checkin(emu, world.member)  # Alice's answer carries an Undo button
    assert first.message is not None
    async with db.write_lock():  # the other process lets go after about a second
        bob = await emu.slash("checkin", member=world.member2, guild=world.guild,
                              channel=world.channel)
        await asyncio.sleep(0.3)
        assert bob.response is None  # waiting for the lock
        started = time.monotonic()
        stride.proc.popen.send_signal(signal.SIGTERM)
        await eventually(lambda: STOPPING_WITH_ONE in stride.proc.output(), 2,
                         "the bot stopping, with Bob's check-in in flight")
        late = await checkin(emu, carl)
        undo = await stride.click(first.message, button(first.message, "Undo")["custom_id"])
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        assert bob.response is None and stride.proc.returncode is None
    await bob.wait_response(3)
    code = await stride.proc.wait_exit(STOP_BOUND + 2)
    took = time.monotonic() - started
    output = stride.proc.output()
    assert code == 0, output
    assert title(bob).startswith(CHECKED_IN) and not bob.rejected
    assert_refused(late)
    assert_refused(undo)
    assert "asked 2 interaction(s) that came meanwhile to try again" in output
    assert "Traceback" not in output
    assert (checkins_of(db, world.member2), checkins_of(db, carl)) == (1, 0)
    assert checkins_of(db, world.member) == 1  # the refused Undo did nothing
    assert db.integrity_ok()
    print(f"\nin flight: SIGTERM to exit {took:.2f} s (the lock held 1.0 s from SIGTERM)")


async def start_patient_bot(emu: DiscordEmulator, world: TestWorld, start_bot,
                            db: TestDatabase) -> Stride:
    """Stride with its commands synced, set to wait up to 30 s for a locked database."""
    sync = await start_bot(emu, BOT, bot_env(db),
                           args=["sync", "--guild", str(world.guild["id"])], wait=False)
    assert await sync.wait_exit(60) == 0
    proc = await start_bot(emu, BOT, {**bot_env(db), "DATABASE_BUSY_TIMEOUT_MS": "30000"})
    return Stride(emu, world, proc, db, start_bot)


async def test_stopping_is_bounded_when_a_write_is_stuck(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase
) -> None:
    """A write waits on another process's lock for far longer than the stop may take (the
    bot set to wait 30 s for it): the bot gives up on it at the bound and exits 0; nothing
    is half-written."""
    emu = emulator
    db = database
    stride = await start_patient_bot(emu, world, start_bot, db)
    async with db.write_lock():
        stuck = await emu.slash("checkin", member=world.member, guild=world.guild,
                                channel=world.channel)
        await stuck.wait_response(3)
        assert stuck.deferred  # "thinking...", still waiting for the lock
        code, took = await stop(stride, timeout=STOP_BOUND + 5)
    output = stride.proc.output()
    assert code == 0, output
    assert STOP_BOUND - 2 < took < STOP_BOUND + 1, took
    assert "cancelled 1 interaction(s) still running" in output
    assert "Traceback" not in output
    assert checkins_of(db, world.member) == 0
    assert db.rows("SELECT COUNT(*) FROM members") == [(0,)]
    assert db.integrity_ok()
    print(f"\nstuck write: SIGTERM to exit {took:.2f} s")


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
async def test_a_second_signal_during_the_stop_exits_at_once(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase, signum: int,
    exit_code: int
) -> None:
    """The stop waits on a check-in held up by another process's lock (for up to 10 s); a
    second SIGTERM / Ctrl-C ends it at once, saying so, and the database is whole."""
    emu = emulator
    db = database
    stride = await start_patient_bot(emu, world, start_bot, db)
    async with db.write_lock():
        await emu.slash("checkin", member=world.member, guild=world.guild, channel=world.channel)
        await asyncio.sleep(0.3)
        stride.proc.popen.send_signal(signum)
        await eventually(lambda: STOPPING_WITH_ONE in stride.proc.output(), 2,
                         "the clean stop, waiting on the check-in")
        await asyncio.sleep(0.2)
        assert stride.proc.returncode is None  # still stopping cleanly
        code, took = await stop(stride, signum, timeout=3)
    output = stride.proc.output()
    assert code == exit_code, output
    assert took < 1.0, took
    name = signal.Signals(signum).name
    assert output.count(f"Second {name} while stopping: exiting now (exit code {exit_code})") == 1
    assert output.rstrip().endswith("without waiting"), output  # the last line, flushed
    assert "Traceback" not in output and "Stopped in" not in output
    assert checkins_of(db, world.member) == 0
    assert db.integrity_ok()
    print(f"\nsecond {name}: exit {code} in {took * 1000:.0f} ms")
