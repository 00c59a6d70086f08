"""Time as the services see it: one protocol, the system's clock, and a manual one.

Every service that reads the time or waits takes a `Clock`, so tests (and benchmarks) drive
day boundaries, grace windows and schedules with a `ManualClock` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` have passed."""
        ...

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        """Return when `event` is set or `seconds` have passed (None: only the event)."""
        ...


class SystemClock:
    """The real time, and real waits on the event loop."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


class ManualClock:
    """A clock that moves only when told to, or when something sleeps or waits on it (then at
    once, by that much): for tests and benchmarks."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float = 0.0, **units: float) -> None:
        """Move on by `seconds` and any timedelta units (`advance(days=1)`)."""
        self.current += timedelta(seconds=seconds, **units)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        if not event.is_set() and seconds:
            self.advance(seconds)
        await asyncio.sleep(0)
