"""Who is still in the server, for boards shown without the Server Members intent.

Without that intent Discord sends no event when someone leaves, so before a board page is
shown its members are looked up (in parallel, within a time bound, so the answer stays well
inside Discord's 3 s). Those who left are taken off the boards in storage and the page is
fetched again, so it stays full. Answers "still here" are remembered for an hour, so a board
shown again costs no look-up. With the intent on, events do this work and nothing is looked
up. Discord-free: the look-up is a `MemberDirectory`; the SQL stays in storage.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

from .checkins import BoardPage
from .clock import Clock, SystemClock
from .storage import Storage

log = logging.getLogger(__name__)

Key = tuple[int, int]  # (guild id, user id)

PRESENT_TTL = 3600.0  # a member seen in the server is not looked up again for this long
REMEMBERED = 20_000  # members remembered at most (least recently used dropped), ~3 MB
BOARD_SECONDS = 1.0  # look-ups for one board shown, all rounds together
LOOKUP_SECONDS = 10.0  # one look-up outlasting its board goes on this long, in the background


class MemberDirectory(Protocol):
    """The members of one server, as Discord knows them now."""

    async def is_member(self, user_id: int) -> bool:
        """True: in the server; False: left (or no such user). Raises if Discord can't say."""
        ...


class Membership:
    """Checks the members a board is about to show; owned by the bot, shared by servers."""

    def __init__(
        self, storage: Storage, *, lookups: bool, clock: Clock | None = None,
        ttl: float = PRESENT_TTL, remembered: int = REMEMBERED,
        budget: float = BOARD_SECONDS, lookup_timeout: float = LOOKUP_SECONDS,
    ) -> None:
        self.storage = storage
        self.lookups = lookups  # False: the Server Members intent is on, events do the work
        self.clock = clock or SystemClock()
        self.ttl = ttl
        self.remembered = remembered
        self.budget = budget
        self.lookup_timeout = lookup_timeout
        self._seen: OrderedDict[Key, float] = OrderedDict()  # -> when last known present
        self._pending: dict[Key, asyncio.Task[bool | None]] = {}  # one look-up per member

    def seen(self, guild_id: int, user_id: int) -> None:
        """Remember that the member is in the server now (e.g. they are interacting)."""
        key = (guild_id, user_id)
        self._seen[key] = self.clock.now().timestamp()
        self._seen.move_to_end(key)
        while len(self._seen) > self.remembered:
            self._seen.popitem(last=False)

    def known(self, guild_id: int, user_id: int) -> bool:
        """Whether the member was seen in the server less than `ttl` ago."""
        key = (guild_id, user_id)
        at = self._seen.get(key)
        if at is None:
            return False
        if self.clock.now().timestamp() - at >= self.ttl:
            del self._seen[key]
            return False
        self._seen.move_to_end(key)
        return True

    async def board(
        self, fetch: Callable[[], Awaitable[BoardPage]], guild_id: int, caller_id: int,
        directory: MemberDirectory | None,
    ) -> BoardPage:
        """`fetch()`'s page, without the members found to have left: they are taken off the
        boards and the page is fetched again. The caller is interacting, so present; members
        not verified within `budget` are shown, and their look-up finishes for next time."""
        self.seen(guild_id, caller_id)
        if not self.lookups or directory is None:
            return await fetch()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget
        while True:
            page = await fetch()
            unknown = [row.user_id for row in page.slice.rows
                       if not self.known(guild_id, row.user_id)]
            remaining = deadline - loop.time()
            if not unknown or remaining <= 0:
                return page
            if not await self._left(guild_id, unknown, directory, remaining):
                return page

    async def _left(self, guild_id: int, user_ids: list[int], directory: MemberDirectory,
                    timeout: float) -> set[int]:
        """Look the members up in parallel; those found gone within `timeout`."""
        tasks = {uid: self._lookup((guild_id, uid), directory) for uid in user_ids}
        done, _ = await asyncio.wait(tasks.values(), timeout=timeout)
        return {uid for uid, task in tasks.items() if task in done and task.result() is False}

    def _lookup(self, key: Key, directory: MemberDirectory) -> asyncio.Task[bool | None]:
        task = self._pending.get(key)
        if task is None:
            task = asyncio.create_task(self._look_up(key, directory), name="stride-member")
            self._pending[key] = task
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        return task

    async def _look_up(self, key: Key, directory: MemberDirectory) -> bool | None:
        """True: present (remembered); False: left (off the boards); None: not known."""
        guild_id, user_id = key
        try:
            async with asyncio.timeout(self.lookup_timeout):
                present = await directory.is_member(user_id)
            if not present:
                await self.storage.set_present(guild_id, user_id, False)
                log.info("Member %s left server %s: off its boards", user_id, guild_id)
        except TimeoutError:
            log.debug("Looking up member %s of server %s timed out", user_id, guild_id)
            return None
        except Exception as exc:  # Discord or the database failed: shown, checked next time
            log.warning("Could not check whether member %s is still in server %s (%s: %s)",
                        user_id, guild_id, type(exc).__name__, exc)
            return None
        if present:
            self.seen(guild_id, user_id)
        return present

    async def close(self) -> None:
        """Cancel look-ups still running (the bot is stopping)."""
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
