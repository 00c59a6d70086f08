"""Pacing of the bot's own REST requests, below Discord's limits, so a burst never earns a 429.

One `Pacer` per bot is shared by everything that sends on the bot's behalf outside an
interaction answer (reminder posts, DM channel opens, post verification, member look-ups):
Discord's 50 requests a second is per bot, whichever feature spends them.

Globally at most `rate` requests a second (a leaky bucket of capacity rate/10 draining at
`rate` a second: never more than 1.1 x rate in any second; the default 40 keeps clear of
Discord's 50), and per channel at most 5 messages in any 5 seconds.
"""

from __future__ import annotations

from collections import OrderedDict

from aiolimiter import AsyncLimiter

CHANNEL_RATE = (5, 5.0)  # Discord: 5 messages per 5 seconds per channel
CHANNELS_KEPT = 10_000  # per-channel limiters remembered (least recently used dropped)


class Pacer:
    """`async with pacer.request:` before any request; `async with pacer.channel(id):` too
    before a message is created in a channel."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.request = AsyncLimiter(max(1.0, rate / 10), 0.1)
        self._channels: OrderedDict[int, AsyncLimiter] = OrderedDict()

    def channel(self, channel_id: int) -> AsyncLimiter:
        """The limiter for messages in one channel: capacity 1, one more every 1.25 s, so at
        most 1 + 4 = 5 in any 5-second window."""
        limiter = self._channels.pop(channel_id, None)
        if limiter is None:
            count, seconds = CHANNEL_RATE
            limiter = AsyncLimiter(1, seconds / (count - 1))
        self._channels[channel_id] = limiter
        while len(self._channels) > CHANNELS_KEPT:
            self._channels.popitem(last=False)
        return limiter
