"""Discord's REST rate limits: the global limit and per-route buckets.

Both are off unless the emulator is configured (``emu.global_rate_limit``,
``emu.channel_message_limit`` / ``emu.route_limits``); both can be changed at any time
and take effect on the next request.

* **Global** (:class:`SlidingWindow`): at most ``N`` requests authenticated with the bot
  token in *any* 1-second window (a sliding-window log of accepted requests, the
  strictest reading of Discord's "50 requests per second").  Interaction callbacks and
  interaction webhooks (``/interactions/...``, ``/webhooks/{app}/{token}...``) are not
  subject to it, as on Discord.  Refused requests do not count.  Over the limit::

      429  X-RateLimit-Global: true  X-RateLimit-Scope: global  Retry-After: <int s>
      {"message": "You are being rate limited.", "retry_after": 0.123, "global": true}

* **Per route** (:class:`FixedWindow`): Discord's buckets are fixed windows per
  (route, major parameters) - ``channel_id``, ``guild_id``, webhook token.  The window
  opens with its first request and every token comes back at its end; this is what
  discord.py's ``Ratelimit`` models (after sleeping ``Reset-After`` it assumes a full
  bucket), so a client that honours the headers never earns a 429.  Every answer on
  a limited route carries ``X-RateLimit-Limit / -Remaining / -Reset / -Reset-After /
  -Bucket``; over the limit it is a 429 with ``X-RateLimit-Scope: user`` and
  ``"global": false``.

Durations are rounded *up* to the millisecond, so a client that waits what it is told
is never early.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from dataclasses import dataclass

from .clock import EmulatorClock
from .rest import ApiError

RATE_LIMITED = "You are being rate limited."
#: Path parameters that split a route into separate buckets (Discord's major parameters).
MAJOR_PARAMETERS = ("channel_id", "guild_id", "token")


def ceil_ms(seconds: float) -> float:
    return math.ceil(max(0.0, seconds) * 1000 - 1e-6) / 1000


def bucket_hash(route_key: str) -> str:
    """A stable, opaque 32-hex-digit ``X-RateLimit-Bucket`` value for a route."""
    return hashlib.sha1(route_key.encode()).hexdigest()[:32]


class SlidingWindow:
    """Sliding-window log: at most ``limit`` accepted hits in any ``window`` seconds."""

    def __init__(self) -> None:
        self.accepted: deque[float] = deque()

    def hit(self, limit: int, window: float, now: float) -> float | None:
        """Count a request at ``now``; None if allowed, else seconds until it would be."""
        while self.accepted and self.accepted[0] <= now - window:
            self.accepted.popleft()
        if len(self.accepted) >= limit:
            # the (len - limit)-th oldest must leave the window before one more fits
            return self.accepted[len(self.accepted) - max(limit, 1)] + window - now
        self.accepted.append(now)
        return None


@dataclass
class FixedWindow:
    """One per-route bucket: ``limit`` requests per ``period`` seconds, fixed windows."""

    started: float | None = None
    count: int = 0

    def hit(self, limit: int, period: float, now: float) -> tuple[bool, int, float]:
        """Count a request; returns ``(allowed, remaining, reset_after)``."""
        if self.started is None or now >= self.started + period:
            self.started, self.count = now, 0
        reset_after = self.started + period - now
        if self.count >= limit:
            return False, 0, reset_after
        self.count += 1
        return True, max(0, limit - self.count), reset_after


class RateLimiter:
    """State of the global window and of every route bucket (timed by the emulator's
    clock, so ``emu.advance`` empties windows as real waiting would)."""

    def __init__(self, clock: EmulatorClock) -> None:
        self.clock = clock
        self.global_window = SlidingWindow()
        self.buckets: dict[tuple[str, tuple[str, ...]], FixedWindow] = {}

    def reset(self) -> None:
        self.global_window = SlidingWindow()
        self.buckets.clear()

    def check_global(self, limit: int | None, window: float = 1.0) -> None:
        """Raise the global 429 if ``limit`` requests were accepted in the last window."""
        if limit is None:
            return
        retry_after = self.global_window.hit(limit, window, self.clock.monotonic())
        if retry_after is None:
            return
        retry_after = ceil_ms(retry_after)
        raise ApiError(
            429,
            0,
            RATE_LIMITED,
            headers={
                "Retry-After": str(math.ceil(retry_after)),
                "X-RateLimit-Global": "true",
                "X-RateLimit-Scope": "global",
            },
            body={"message": RATE_LIMITED, "retry_after": retry_after, "global": True},
        )

    def check_route(
        self, route_key: str, params: dict[str, str], limit: tuple[int, float] | None
    ) -> dict[str, str]:
        """Count a request on a limited route; returns the ``X-RateLimit-*`` headers.

        Raises the per-route 429 (scope ``user``) when the bucket is empty.
        """
        if limit is None:
            return {}
        count, period = limit
        major = tuple(params[k] for k in MAJOR_PARAMETERS if k in params)
        bucket = self.buckets.setdefault((route_key, major), FixedWindow())
        now = self.clock.monotonic()
        allowed, remaining, reset_after = bucket.hit(int(count), float(period), now)
        reset_after = ceil_ms(reset_after)
        headers = {
            "X-RateLimit-Bucket": bucket_hash(route_key),
            "X-RateLimit-Limit": str(int(count)),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{ceil_ms(self.clock.time() + reset_after):.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        }
        if allowed:
            return headers
        headers["Retry-After"] = str(math.ceil(reset_after))
        headers["X-RateLimit-Scope"] = "user"
        raise ApiError(
            429,
            0,
            RATE_LIMITED,
            headers=headers,
            body={"message": RATE_LIMITED, "retry_after": reset_after, "global": False},
        )
