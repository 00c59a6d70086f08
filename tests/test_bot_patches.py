"""Guards for the one place Stride leans on discord.py internals: amortized bucket cleanup.

discord.py (2.7) drops idle rate-limit buckets by scanning all of them whenever it creates one
(`HTTPClient.get_ratelimit` calls `_try_clear_expired_ratelimits`). Reminders to thousands of
channels create one bucket each, so a wave pays a scan per new channel: measured on the dev VM
0.96 ms a scan with 5,000 buckets, 3.8 ms with 20,000 (at 40 new channels a second: 4-15 % of a
core, and each scan blocks the event loop). `bot.amortize_bucket_cleanup` scans at most once a
minute instead. If a discord.py upgrade changes any of this, these tests fail: then re-measure
and adapt or drop the patch.
"""

from __future__ import annotations

import asyncio
import inspect
import time

import pytest
from discord.http import HTTPClient

from bot import amortize_bucket_cleanup


def test_discord_py_still_scans_on_every_new_bucket() -> None:
    assert callable(getattr(HTTPClient, "_try_clear_expired_ratelimits", None))
    source = inspect.getsource(HTTPClient.get_ratelimit)
    assert "self._try_clear_expired_ratelimits()" in source
    assert "_buckets" in inspect.getsource(HTTPClient._try_clear_expired_ratelimits)


async def test_idle_buckets_are_still_dropped_at_most_once_a_minute(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    http = HTTPClient(loop)
    scan = http._try_clear_expired_ratelimits
    scans = 0

    def counted() -> None:
        nonlocal scans
        scans += 1
        scan()

    http._try_clear_expired_ratelimits = counted  # type: ignore[method-assign]
    amortize_bucket_cleanup(http, every=60.0)  # wraps the counted scan
    http.get_ratelimit("POST /channels/0/messages")  # the first new bucket scans
    assert scans == 1
    for n in range(1, 300):
        http.get_ratelimit(f"POST /channels/{n}/messages")
    assert scans == 1 and len(http._buckets) == 300  # not again within the minute
    for bucket in http._buckets.values():  # idle for over 5 minutes: expired
        bucket._last_request = loop.time() - 301
    later = time.monotonic() + 61
    monkeypatch.setattr(time, "monotonic", lambda: later)  # a minute later
    http.get_ratelimit("POST /channels/new/messages")
    monkeypatch.undo()
    assert scans == 2 and list(http._buckets) == ["POST /channels/new/messages"]
