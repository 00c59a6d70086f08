"""Run a discord.py bot script against the emulator, exactly as production would run it.

    python -m tests.emulator.launch --api http://127.0.0.1:PORT/api/v10 \\
        --gateway ws://127.0.0.1:PORT/gateway -- path/to/bot.py [args...]

Only two class attributes of discord.py are redirected before the script runs:

* ``discord.http.Route.BASE`` - every REST call, including interaction callbacks
  and webhooks (they build their URLs from ``Route`` too);
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` - a non-sharded client
  never asks ``GET /gateway``, it connects to this URL directly.
  (``AutoShardedClient`` asks ``GET /gateway/bot``, which the emulator answers.)

``--clock-offset SECONDS`` shifts the process's wall clock (``time.time``,
``datetime.now`` / ``utcnow``, ``date.today``) with ``time-machine`` so the bot lives
as far ahead as an ``advance``d emulator; monotonic clocks (asyncio's loop, so sleeps
and timeouts) stay real.

The script then runs through ``runpy.run_path(..., run_name="__main__")`` with
``sys.argv == [script, *args]`` and ``sys.path[0]`` set to the script's directory,
as ``python script.py`` would do.  The bot's code needs no test hooks.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import time

import yarl


def redirect(api: str, gateway: str) -> None:
    """Point discord.py at the emulator."""
    import discord.gateway
    import discord.http

    discord.http.Route.BASE = api.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


def shift_clock(seconds: float) -> None:
    """Run the wall clock ``seconds`` ahead from now on, ticking in real time."""
    import time_machine

    time_machine.travel(time.time() + seconds, tick=True).start()
    time.time()  # time-machine starts ticking at the first reading: take it right away


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulator.launch", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--api", required=True, help="emulator REST base, e.g. http://127.0.0.1:PORT/api/v10"
    )
    parser.add_argument(
        "--gateway", required=True, help="emulator gateway, e.g. ws://127.0.0.1:PORT/gateway"
    )
    parser.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="shift the wall clock (not monotonic time) by SECONDS",
    )
    parser.add_argument("script", help="bot script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    raw = list(sys.argv[1:] if argv is None else argv)
    if "--" in raw:  # everything after "--" belongs to the script
        split = raw.index("--")
        opts = parser.parse_args([*raw[:split], *raw[split + 1 : split + 2]])
        opts.args = raw[split + 2 :]
    else:
        opts = parser.parse_args(raw)

    redirect(opts.api, opts.gateway)
    if opts.clock_offset:
        shift_clock(opts.clock_offset)
    script = os.path.abspath(opts.script)
    sys.argv = [opts.script, *opts.args]
    sys.path[0] = os.path.dirname(script)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
