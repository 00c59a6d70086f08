"""Tracking interaction work for a graceful stop."""

from __future__ import annotations

import asyncio
import time

from stride.inflight import InFlight


async def test_wait_lets_admitted_work_finish_and_refuses_new_work() -> None:
    work = InFlight()
    finished: list[str] = []

    async def handler(name: str, seconds: float) -> None:
        if not work.admit():
            finished.append(f"{name} refused")
            return
        await asyncio.sleep(seconds)
        finished.append(name)

    tasks = [asyncio.create_task(handler(f"h{i}", 0.05 * i)) for i in range(1, 4)]
    await asyncio.sleep(0)
    assert len(work) == 3
    late = asyncio.create_task(handler("late", 0))  # scheduled, not yet started
    work.stop_accepting()
    started = time.monotonic()
    assert await work.wait(5) == 0
    assert time.monotonic() - started < 1
    assert finished == ["late refused", "h1", "h2", "h3"]
    assert len(work) == 0 and work.refused == 1
    await asyncio.gather(*tasks, late)


async def test_wait_is_bounded_and_cancels_what_is_stuck() -> None:
    work = InFlight()
    unwound = asyncio.Event()

    async def stuck() -> None:
        work.admit()
        try:
            await asyncio.sleep(60)
        finally:
            unwound.set()

    task = asyncio.create_task(stuck())
    await asyncio.sleep(0)
    work.stop_accepting()
    started = time.monotonic()
    assert await work.wait(0.2) == 1
    assert 0.2 <= time.monotonic() - started < 1
    assert task.cancelled() and unwound.is_set() and len(work) == 0
