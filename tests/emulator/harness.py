"""Start bot scripts as real subprocesses against a :class:`DiscordEmulator`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .emulator import DiscordEmulator
from .gateway import Session

#: Repository root (the bot is started from here, as in production).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: Bots that exercise the emulator: ``/ping`` + ``/echo`` (also the benchmarks' floor), and
#: one touching every flow the emulator supports (its self-test).
MINIMAL_BOT = Path(__file__).resolve().with_name("minimal_bot.py")
FEATURE_BOT = Path(__file__).resolve().with_name("feature_bot.py")


class BotProcess:
    """A bot script running in a subprocess; output goes to ``log_path``."""

    def __init__(
        self, popen: subprocess.Popen[bytes], log_path: Path, emu: DiscordEmulator
    ) -> None:
        self.popen = popen
        self.log_path = log_path
        self.emu = emu
        self.sessions: list[Session] = []

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        """Exit status (``None`` while running; negative signal number if killed)."""
        return self.popen.poll()

    def output(self) -> str:
        """Everything the bot wrote to stdout/stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    async def wait_exit(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while self.popen.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"bot pid {self.pid} still running after {timeout}s")
            await asyncio.sleep(0.02)
        return self.popen.returncode

    async def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL if it is still alive after ``timeout`` seconds."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                return await self.wait_exit(timeout)
            except TimeoutError:
                self.kill()
        return await self.wait_exit(timeout)

    def kill(self) -> None:
        """SIGKILL right away."""
        if self.popen.poll() is None:
            self.popen.kill()

    def stop_sync(self, timeout: float = 10.0) -> None:
        """Blocking variant for fixture finalizers."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def socket_ports(pid: int) -> set[int] | None:
    """Local TCP ports of the sockets ``pid`` and its children hold, from /proc (Linux);
    None where that cannot be read (then every session passes ``owns_session``)."""
    pids = [pid]
    inodes: set[str] = set()
    try:
        while pids:
            current = pids.pop()
            for fd in os.scandir(f"/proc/{current}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(fd.path)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
            for task in os.scandir(f"/proc/{current}/task"):
                with contextlib.suppress(OSError):
                    pids += [int(c) for c in Path(task.path, "children").read_text().split()]
    except OSError:
        return None
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            next(f)  # header: sl local_address rem_address st ... uid timeout inode
            for line in f:
                fields = line.split()
                if len(fields) > 9 and fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def owns_session(proc: BotProcess, session: Session) -> bool:
    """Whether ``proc`` holds the client end of ``session``'s connection.

    Sessions carry nothing of the process that opened them (Discord neither knows nor
    cares), so this goes by the connection's TCP port.  Without /proc, or for a session
    without a connection, it cannot tell and says yes; two processes started at once then
    need different ``shards`` to be told apart.
    """
    conn = session.connection
    if conn is None or conn.peer is None:
        return True
    ports = socket_ports(proc.pid)
    return ports is None or conn.peer[1] in ports


async def launch_bot(
    emu: DiscordEmulator,
    script: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    *,
    log_path: Path,
    wait: bool = True,
    timeout: float = 20.0,
    clock_offset: float = 0.0,
    shards: Sequence[int] | None = None,
) -> BotProcess:
    """Spawn ``python -m tests.emulator.launch ... -- script args`` from the repo root.

    The environment is ``os.environ`` + ``DISCORD_TOKEN=emu.token`` + ``env``
    (``PYTHONUNBUFFERED=1`` too, so the log is complete even after SIGKILL).
    With ``wait`` this returns once the emulator has sent READY and GUILD_CREATE for
    every guild to the new connection(s) (all shards for sharded bots; with ``shards``,
    just those ids: a process running some of the shards, e.g. ``SHARD_IDS=1``) and before
    any interaction was dispatched; it raises if the process exits first.  Only sessions
    whose connection this process holds count (see ``owns_session``), so processes
    launched at the same time are told apart.
    ``clock_offset``: the bot's wall clock runs that many seconds ahead (``--clock-offset``;
    pass ``emu.clock.offset`` for a bot that starts after ``emu.advance``).
    """
    first_session = len(emu.gateway.session_list)
    full_env = {**os.environ, "DISCORD_TOKEN": emu.token, "PYTHONUNBUFFERED": "1", **(env or {})}
    cmd = [
        sys.executable,
        "-m",
        "tests.emulator.launch",
        "--api",
        emu.api_base,
        "--gateway",
        emu.gateway_url,
        *(["--clock-offset", repr(float(clock_offset))] if clock_offset else []),
        "--",
        os.fspath(script),
        *args,
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    proc = BotProcess(popen, log_path, emu)
    if not wait:
        return proc
    owned: dict[str, bool] = {}  # decided while the session's connection is still open

    def mine(session: Session) -> bool:
        if session.id not in owned:
            owned[session.id] = owns_session(proc, session)
        return owned[session.id]

    ready = asyncio.ensure_future(
        emu.gateway.wait_sessions_ready(first_session, timeout, shard_ids=shards, accept=mine)
    )
    try:
        while not ready.done():
            if popen.poll() is not None:
                raise RuntimeError(
                    f"bot exited with {popen.returncode} before it was ready:\n{proc.output()}"
                )
            await asyncio.wait({ready}, timeout=0.02)
        try:
            proc.sessions = ready.result()
        except TimeoutError:
            proc.kill()
            raise TimeoutError(f"bot not ready after {timeout}s:\n{proc.output()}") from None
    finally:
        ready.cancel()
    return proc
