"""The emulator's clock: real time plus the seconds ``emu.advance`` skipped.

Tests cannot wait out Discord's minutes-long windows (nonce memory, interaction
tokens), so ``advance`` jumps Discord's clock forward as if a bot had been down that
long.  Recording fields keep raw ``time.perf_counter()`` stamps (they measure
latency); decisions by elapsed time ask :meth:`EmulatorClock.elapsed`, which adds the
jumps that happened in between.  Wall-clock values (snowflakes, ``timestamp``
fields, ``X-RateLimit-Reset``) come from :meth:`EmulatorClock.time`.
"""

from __future__ import annotations

import time


class EmulatorClock:
    """Wall and monotonic time as Discord sees it, shifted by every ``advance``."""

    def __init__(self) -> None:
        #: Seconds advanced so far.
        self.offset = 0.0
        self._jumps: list[tuple[float, float]] = []  # (perf_counter() at the jump, seconds)

    def advance(self, seconds: float) -> None:
        """Move Discord's clock ``seconds`` forward (it never goes back)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._jumps.append((time.perf_counter(), float(seconds)))
        self.offset += float(seconds)

    def time(self) -> float:
        """Unix time on Discord's side."""
        return time.time() + self.offset

    def monotonic(self) -> float:
        """A monotonic reading that includes the jumps (for rate-limit windows)."""
        return time.perf_counter() + self.offset

    def elapsed(self, since: float, until: float | None = None) -> float:
        """Seconds between two ``perf_counter()`` stamps (``until``: now), jumps included."""
        end = time.perf_counter() if until is None else until
        return end - since + sum(s for at, s in self._jumps if since < at <= end)
