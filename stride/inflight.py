"""Work in progress (interaction handlers), so that stopping can let it finish first."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


class InFlight:
    """The tasks handling interactions right now, and whether new ones are still taken.

    Each handler calls `admit()` first thing, from its own task: the task is tracked until it
    ends. Once `stop_accepting()` was called, `admit()` answers False and the handler only
    tells the member to try again (that answer is tracked too, so it is sent before the
    connection closes).
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self.accepting = True
        self.refused = 0  # interactions turned away while stopping

    def __len__(self) -> int:
        return len(self._tasks)

    def admit(self) -> bool:
        """Track the current task until it ends; False once stopping (refuse the work)."""
        task = asyncio.current_task()
        if task is not None and task not in self._tasks:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if not self.accepting:
            self.refused += 1
        return self.accepting

    def stop_accepting(self) -> None:
        self.accepting = False

    async def wait(self, timeout: float, unwind: float = 0.5) -> int:
        """Wait until no tracked work is left, for at most `timeout` seconds; then cancel what
        is still running (a cancelled write is rolled back or not begun) and give it `unwind`
        seconds more to wind down. Returns how many tasks were cancelled."""
        await asyncio.sleep(0)  # handlers already scheduled take their first step: admit()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks and (left := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._tasks), timeout=left)
        stuck = set(self._tasks)
        for task in stuck:
            task.cancel()
        if stuck:
            await asyncio.wait(stuck, timeout=unwind)
        return len(stuck)
