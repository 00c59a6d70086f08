"""Fair turns: work from many servers handed out in turn, so one server's wave never holds
up the others.

Items are grouped (by server) and ranked within a group (club posts before DMs). `take`
goes round the groups in order, one item per group per round, and within a group hands out
the best-ranked item that is ready (a post to a channel that has just had five messages
waits; the group's next item goes instead). Pure: no clock, no asyncio, no Discord.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

RANKS = 2  # 0: club posts, 1: DMs
SCAN = 32  # items of one rank looked at for a ready one (a server has at most 25 club posts)


class FairQueue(Generic[T]):
    """Round robin across groups; within a group, rank 0 before rank 1, first in first out.
    A group new to the queue has its turn before those that had one already."""

    def __init__(self) -> None:
        self._lanes: dict[Hashable, list[deque[T]]] = {}
        self._turns: deque[Hashable] = deque()  # the groups, next turn first
        self._fresh = 0  # groups at the head of `_turns` that have not had a turn yet
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def put(self, item: T, group: Hashable, rank: int = 0) -> None:
        lanes = self._lanes.get(group)
        if lanes is None:
            lanes = self._lanes[group] = [deque() for _ in range(RANKS)]
            self._turns.insert(self._fresh, group)
            self._fresh += 1
        lanes[min(max(rank, 0), RANKS - 1)].append(item)
        self._size += 1

    def take(self, ready: Callable[[T], bool] = lambda _: True) -> T | None:
        """The next item whose turn it is and that is `ready`, or None if none is ready."""
        for _ in range(len(self._turns)):
            group = self._turns.popleft()
            self._fresh = max(self._fresh - 1, 0)
            lanes = self._lanes[group]
            item = _first_ready(lanes, ready)
            if any(lanes):
                self._turns.append(group)  # its turn is used, whatever it yielded
            else:
                del self._lanes[group]
            if item is not None:
                self._size -= 1
                return item
        return None

    def drain(self) -> list[T]:
        """Everything still queued (in turn order), leaving the queue empty."""
        taken = []
        while (item := self.take()) is not None:
            taken.append(item)
        return taken


def _first_ready(lanes: list[deque[T]], ready: Callable[[T], bool]) -> T | None:
    for lane in lanes:
        for index, item in enumerate(lane):
            if index >= SCAN:
                break
            if ready(item):
                del lane[index]
                return item
    return None
