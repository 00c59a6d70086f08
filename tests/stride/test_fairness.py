"""Fair turns across servers: round robin by group, rank within a group, busy items skipped."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from stride.fairness import FairQueue


def test_round_robin_by_group_and_rank_within_it() -> None:
    queue: FairQueue[str] = FairQueue()
    for n in range(4):
        queue.put(f"big-dm{n}", "big", 1)
    queue.put("big-post", "big", 0)
    queue.put("a-post", "a", 0)
    queue.put("b-dm", "b", 1)
    assert len(queue) == 7
    assert queue.drain() == ["big-post", "a-post", "b-dm", "big-dm0", "big-dm1", "big-dm2",
                             "big-dm3"]
    assert len(queue) == 0 and queue.take() is None


def test_a_busy_item_lets_its_group_and_the_others_go_on() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.put("busy-post", "a", 0)
    queue.put("a-dm", "a", 1)
    queue.put("b-post", "b", 0)
    ready = lambda item: item != "busy-post"  # noqa: E731
    assert queue.take(ready) == "a-dm"
    assert queue.take(ready) == "b-post"
    assert queue.take(ready) is None and len(queue) == 1  # kept for when its channel is free
    assert queue.take() == "busy-post"


def test_a_group_that_comes_later_gets_the_next_turn() -> None:
    queue: FairQueue[str] = FairQueue()
    for n in range(3):
        queue.put(f"a{n}", "a")
    assert queue.take() == "a0"
    queue.put("b0", "b")
    assert [queue.take(), queue.take(), queue.take()] == ["b0", "a1", "a2"]


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1)), max_size=200))
def test_every_item_comes_out_once_and_no_group_waits_more_than_a_round(
    items: list[tuple[int, int]]
) -> None:
    queue: FairQueue[int] = FairQueue()
    for index, (group, rank) in enumerate(items):
        queue.put(index, group, rank)
    order = queue.drain()
    assert sorted(order) == list(range(len(items)))
    groups = [items[i][0] for i in order]
    # While a group still has items, at most (groups - 1) others go between two of its turns.
    for group in set(groups):
        turns = [n for n, g in enumerate(groups) if g == group]
        active_others = len(set(groups)) - 1
        assert all(b - a <= active_others + 1 for a, b in pairwise(turns))
    # Within a group, rank 0 items all come before rank 1, each in order of arrival.
    for group in set(groups):
        mine = [i for i in order if items[i][0] == group]
        ranks = [items[i][1] for i in mine]
        assert ranks == sorted(ranks)
        for rank in (0, 1):
            same = [i for i in mine if items[i][1] == rank]
            assert same == sorted(same)
