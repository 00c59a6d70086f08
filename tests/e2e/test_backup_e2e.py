"""Backups of a running bot: `python bot.py backup` in the middle of a burst of check-ins, and
the daily automatic backup (BACKUP_DIR) made by the bot itself. Figures are printed (-s)."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stride.backup_schedule import backup_name, list_backups
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import REPO_ROOT
from tests.emulator.records import InteractionRecord

from .databases import TestDatabase
from .stride import BOT, bot_env, eventually, start_stride
from .testworld import TestWorld

JSON = dict[str, Any]
CHECKED_IN = "Checked in"




def title(rec: InteractionRecord) -> str:
    """The title of the answer the member saw ('' while there is none)."""
    message = rec.message or (rec.response or {}).get("data") or {}
    embeds = message.get("embeds") or []
    return str(embeds[0].get("title", "")) if embeds else ""


def seen_at(emu: DiscordEmulator, rec: InteractionRecord) -> float | None:
    """When the member saw the answer (perf_counter): the callback itself, or, when the bot
    said "thinking..." first (under load), the request that replaced it with the answer."""
    if not title(rec):
        return None
    if not rec.deferred:
        return rec.response_at
    return min((q.time for q in emu.requests if q.path.startswith("/webhooks/")
                and rec.token in q.path and q.status is not None and q.status < 300),
               default=None)


def user_id(rec: InteractionRecord) -> int:
    return int(rec.payload["member"]["user"]["id"])


@pytest.mark.sqlite_only
async def test_backup_during_a_checkin_burst_holds_every_acknowledged_checkin(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase, tmp_path: Path
) -> None:
    """300 members check in at once, and more keep coming (50 a second) until the backup is
    done. Once some have their answer, `python bot.py backup` runs as its own process (no
    Discord token). The backup opens, passes `PRAGMA integrity_check`, is consistent (each
    member's figures match their check-ins), and holds every check-in whose answer the member
    saw before the backup process was started. Meanwhile the bot answers every member in
    time: the copy never makes a writer wait. SQLite only: `bot.py backup` copies the SQLite
    file (PostgreSQL is backed up with pg_dump: the test after these)."""
    emu = emulator
    db = database
    dest = tmp_path / "backups" / "during-burst.db"
    runners = iter([emu.add_member(world.guild, f"runner{i}") for i in range(600)])
    await emu.settle()
    stride = await start_stride(emu, world, start_bot, db)
    env = {**os.environ, **bot_env(db), "DISCORD_TOKEN": "", "BACKUP_DIR": ""}

    def checkins(members: list[JSON]) -> asyncio.Future[list[InteractionRecord]]:
        return asyncio.ensure_future(asyncio.gather(*(
            emu.slash("checkin", member=m, guild=world.guild, channel=world.channel)
            for m in members)))

    def acked() -> list[InteractionRecord]:
        return [r for r in emu.interactions.values()
                if r.name == "checkin" and title(r).startswith(CHECKED_IN)]

    def acked_between(start: float, end: float) -> list[InteractionRecord]:
        return [r for r in acked() if start <= (seen_at(emu, r) or 0.0) < end]

    burst_start = time.perf_counter()
    sent = [checkins([next(runners) for _ in range(300)])]
    done = asyncio.Event()

    async def keep_coming() -> None:
        while not done.is_set() and (wave := list(itertools.islice(runners, 5))):
            sent.append(checkins(wave))
            await asyncio.sleep(0.1)

    feeder = asyncio.create_task(keep_coming())
    await eventually(lambda: len(acked()) >= 30, 10, "the first check-ins acknowledged")
    began = time.perf_counter()  # the backup begins: everything acknowledged so far must be in it
    backup = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), "backup", str(dest), cwd=REPO_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(backup.communicate(), 30)
    ended = time.perf_counter()
    done.set()
    await feeder
    recs = [r for wave in await asyncio.gather(*sent) for r in wave]
    for rec in recs:
        await rec.wait_message(timeout=5)
    assert backup.returncode == 0, err.decode()
    assert "Traceback" not in (out + err).decode()

    assert all(seen_at(emu, r) for r in acked())  # every answer's time is known
    before = acked_between(0.0, began)
    during = acked_between(began, ended)
    assert len(before) >= 30 and during  # the bot kept writing while the backup ran
    copy = TestDatabase("sqlite", dest)
    assert copy.integrity_ok()
    saved = {u for (u,) in copy.rows("SELECT user_id FROM checkins")}
    missing = sorted(user_id(r) for r in before if user_id(r) not in saved)
    assert missing == []
    # A consistent snapshot: no member's figures without their check-in, or the reverse.
    assert copy.rows("SELECT COUNT(*) FROM members AS m WHERE m.total != (SELECT COUNT(*) "
                     "FROM checkins AS c WHERE c.guild_id = m.guild_id AND c.user_id = m.user_id)"
                     ) == [(0,)]
    assert f"{len(saved)} check-ins, integrity check ok" in out.decode()
    # Every member was answered "Checked in" (or "thinking..." first) within Discord's 3 s,
    # none asked to try again.
    assert [title(r) for r in recs if not title(r).startswith(CHECKED_IN)] == []
    assert max(r.response_time or 99 for r in recs) < 3.0
    assert not any(r.rejected for r in recs)
    stored = {u for (u,) in db.rows("SELECT user_id FROM checkins")}
    assert {user_id(r) for r in recs} == stored and saved <= stored
    await stride.proc.stop()
    assert "Traceback" not in stride.proc.output()
    in_flight = sum(1 for r in recs if r.sent_at is not None and r.sent_at < began
                    and user_id(r) not in saved)
    last = max(r.response_at or 0 for r in recs)
    print(f"\n{len(recs)} check-ins over {last - burst_start:.2f} s; the backup process started "
          f"after {len(before)} answers and ran {ended - began:.2f} s while {len(during)} more "
          f"were answered; it holds {len(saved)} ({in_flight} sent before it started were "
          f"still in flight at its snapshot); slowest answer "
          f"{max(r.response_time or 0 for r in recs) * 1000:.0f} ms\n{out.decode().strip()}")


@pytest.mark.sqlite_only
async def test_bot_makes_a_backup_shortly_after_start_and_keeps_the_newest(
    emulator: DiscordEmulator, world: TestWorld, start_bot, database: TestDatabase, tmp_path: Path
) -> None:
    """BACKUP_DIR set and no recent backup: the running bot backs up within seconds of
    starting, logs it, and prunes its own older backups down to BACKUP_KEEP, leaving every
    other file in the folder alone. SQLite only: the daily backup copies the SQLite file
    (on PostgreSQL it does not run: the next test)."""
    emu = emulator
    db = database
    folder = tmp_path / "backups"
    folder.mkdir()
    old = [backup_name(datetime.now(UTC) - timedelta(days=d)) for d in (2, 3, 4)]
    for name in [*old, "notes.txt", "stride-before-upgrade.db"]:
        (folder / name).write_bytes(b"kept by hand")
    env = {**bot_env(db), "BACKUP_DIR": str(folder), "BACKUP_KEEP": "2"}
    proc = await start_bot(emu, BOT, env)
    rec = await emu.slash("checkin", member=world.member, guild=world.guild, channel=world.channel)
    await rec.wait_response()
    assert title(rec).startswith(CHECKED_IN)
    await eventually(lambda: len(list_backups(folder)) == 2 and "Deleted" in proc.output(), 10,
                     "a new backup saved and the old ones pruned")
    newest = list_backups(folder)[-1].path
    assert newest.name not in old
    assert TestDatabase("sqlite", newest).integrity_ok()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [newest.name, old[0], "notes.txt", "stride-before-upgrade.db"])
    await proc.stop()
    output = proc.output()
    saved = [line for line in output.splitlines() if "Backup saved" in line]
    assert len(saved) == 1 and str(newest) in saved[0] and "integrity check ok" in saved[0]
    assert "Traceback" not in output
    print(f"\n{saved[0]}")


async def test_on_postgresql_backups_are_left_to_pg_dump(
    emulator: DiscordEmulator, world: TestWorld, start_bot, postgres_url: str, tmp_path: Path
) -> None:
    """The PostgreSQL side of the two above: with BACKUP_DIR set the bot says the daily
    backup does not run on PostgreSQL and makes none (it answers as usual), and
    `bot.py backup` changes nothing and says how to use pg_dump, exit code 2."""
    db = TestDatabase("postgresql", tmp_path / "stride.db", postgres_url)
    folder = tmp_path / "backups"
    folder.mkdir()
    proc = await start_bot(emulator, BOT, {**bot_env(db), "BACKUP_DIR": str(folder)})
    rec = await emulator.slash("checkin", member=world.member, guild=world.guild,
                               channel=world.channel)
    await rec.wait_response()
    assert title(rec).startswith(CHECKED_IN)
    env = {**os.environ, **bot_env(db), "DISCORD_TOKEN": "", "BACKUP_DIR": ""}
    backup = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), "backup", str(folder / "by-hand.db"), cwd=REPO_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(backup.communicate(), 30)
    assert backup.returncode == 2, (out + err).decode()
    assert "pg_dump --format=custom" in err.decode()
    await proc.stop()
    assert "No automatic backups are made" in proc.output()
    assert list(folder.iterdir()) == []
    assert "Traceback" not in proc.output() + (out + err).decode()
