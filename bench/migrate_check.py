"""Whether a database reads the same on SQLite and, after `bot.py migrate`, on PostgreSQL:
members' figures and calendars, and every board and period at several depths, as the
bot's own services (`Checkins` on each storage) answer them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from stride.checkins import Checkins
from stride.clock import ManualClock
from stride.records import BOARDS, PERIODS
from stride.storage import SqliteStorage
from stride.storage.postgres import PostgresStorage


@dataclass
class Alike:
    members: int = 0  # member views compared
    boards: int = 0  # board pages compared (rows, ranks, the caller's rank)
    differences: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.differences


async def reads_alike(sqlite_path: Path, url: str, guild: int, users: list[int], now: datetime,
                      *, members: int = 500, pages: int = 4, seed: int = 3) -> Alike:
    """`members` random members' views and, for each board and period, `pages` pages at
    random depths seen by random members, read from both databases."""
    rng = random.Random(seed)
    clock = ManualClock(now)
    lite, pg = SqliteStorage(sqlite_path), PostgresStorage(url)
    await lite.open()
    await pg.open()
    found = Alike()
    try:
        a, b = Checkins(lite, clock), Checkins(pg, clock)
        for user in rng.sample(users, min(members, len(users))):
            left, right = await a.member_view(guild, user), await b.member_view(guild, user)
            found.members += 1
            if left != right:
                found.differences.append(f"member {user}: {left} != {right}")
        for board in BOARDS:
            for period in PERIODS:
                for _ in range(pages):
                    user, page = rng.choice(users), rng.randrange(0, max(1, len(users) // 10))
                    left = await a.board(guild, user, board, period, page)
                    right = await b.board(guild, user, board, period, page)
                    found.boards += 1
                    if left != right:
                        found.differences.append(f"{board} {period} page {page}: differ")
    finally:
        await lite.close()
        await pg.close()
    return found
