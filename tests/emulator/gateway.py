"""The emulated gateway: HELLO/IDENTIFY/READY/RESUME, heartbeats, sharding, compression.

One :class:`Connection` per websocket, one :class:`Session` per successful
IDENTIFY.  Sessions outlive their connection so a client can RESUME and get the
events it missed.  Fault switches (``send_reconnect``, ``invalidate_sessions``,
``disconnect``, ``ack_heartbeats``) are meant for reconnect tests.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import payloads as P

if TYPE_CHECKING:
    from .emulator import DiscordEmulator

JSON = dict[str, Any]

try:  # discord.py prefers zstd-stream whenever it can import a zstd module
    import zstandard as _zstandard
except ImportError:  # pragma: no cover - depends on the environment
    _zstandard = None
try:
    from compression import zstd as _stdlib_zstd  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python < 3.14
    _stdlib_zstd = None

ZSTD_AVAILABLE = _zstandard is not None or _stdlib_zstd is not None
TRACE = ['["gateway-emulator",{"micros":0}]']

# opcodes
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, VOICE_STATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11


class GatewayClose(Exception):
    """Raised inside a handler to close the connection with a Discord close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


class Compressor:
    """Transport compression for one connection (``zlib-stream``, ``zstd-stream`` or none).

    Both are one stream per connection: zlib ends every message with a
    ``Z_SYNC_FLUSH`` (``00 00 ff ff``), zstd flushes a block per message.
    """

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self._compress: Callable[[bytes], bytes] | None = None
        if kind == "zlib-stream":
            zobj = zlib.compressobj()
            self._compress = lambda data: zobj.compress(data) + zobj.flush(zlib.Z_SYNC_FLUSH)
        elif kind == "zstd-stream":
            if _zstandard is not None:
                cobj = _zstandard.ZstdCompressor().compressobj()
                block = _zstandard.COMPRESSOBJ_FLUSH_BLOCK
                self._compress = lambda data: cobj.compress(data) + cobj.flush(block)
            elif _stdlib_zstd is not None:
                comp = _stdlib_zstd.ZstdCompressor()
                self._compress = lambda data: comp.compress(data, mode=comp.FLUSH_BLOCK)
            else:
                raise GatewayClose(4000, "zstd-stream requested but no zstd module available")

    @property
    def active(self) -> bool:
        return self._compress is not None

    def compress(self, data: bytes) -> bytes:
        assert self._compress is not None
        return self._compress(data)


@dataclass
class Session:
    """A gateway session (created by IDENTIFY, continued by RESUME)."""

    id: str
    identify: JSON
    intents: int
    shard: tuple[int, int] | None
    seq: int = 0
    buffer: deque[tuple[int, JSON]] = field(default_factory=lambda: deque(maxlen=5000))
    connection: Connection | None = None
    guilds_sent: set[int] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    invalid: bool = False
    resumes: int = 0

    def covers(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives events of ``guild_id`` (None: DMs)."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % count == shard_id

    def wants(self, intent: int | None) -> bool:
        return intent is None or bool(self.intents & intent)

    async def dispatch(self, event: str, data: JSON) -> None:
        self.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.buffer.append((self.seq, frame))
        if self.connection is not None:
            await self.connection.send(frame)


class Connection:
    """One websocket; serialises, compresses and sends frames in order."""

    def __init__(
        self, ws: web.WebSocketResponse, path: str, query: dict[str, str], opened_at: float
    ) -> None:
        self.ws = ws
        self.path = path
        self.query = query
        #: The client's (host, port): which process holds the other end (harness.py).
        self.peer: tuple[str, int] | None = None
        self.compress: str | None = query.get("compress")
        self.compressor = Compressor(self.compress)
        self.lock = asyncio.Lock()
        self.session: Session | None = None
        self.opened_at = opened_at  # unix time on the emulator's clock
        self.closed_at: float | None = None
        self.close_code: int | None = None
        self.frames_sent = 0
        self.bytes_sent = 0
        self.heartbeats = 0
        self.received: list[JSON] = []  # every payload the client sent (tokens included)

    @property
    def open(self) -> bool:
        return not self.ws.closed

    async def send(self, frame: JSON) -> None:
        async with self.lock:
            await self._send_locked(frame)

    async def _send_locked(self, frame: JSON) -> None:
        if self.ws.closed:
            return
        raw = json.dumps(frame, separators=(",", ":"))
        try:
            if self.compressor.active:
                data = self.compressor.compress(raw.encode())
                await self.ws.send_bytes(data)
                self.bytes_sent += len(data)
            else:
                await self.ws.send_str(raw)
                self.bytes_sent += len(raw)
        except (ConnectionError, RuntimeError):
            return
        self.frames_sent += 1

    async def close(self, code: int, reason: str = "") -> None:
        self.close_code = code
        await self.ws.close(code=code, message=reason.encode())


@dataclass
class IdentifyRecord:
    """An IDENTIFY the gateway accepted or refused."""

    payload: JSON
    path: str
    compress: str | None
    time: float
    accepted: bool = False


class Gateway:
    """Websocket endpoint at ``/gateway`` (and ``/gateway/resume`` for RESUMEs)."""

    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.heartbeat_interval = 41250
        self.ack_heartbeats = True  # fault switch: stop ACKing to provoke zombie detection
        self.shard_count = 1  # what GET /gateway/bot recommends
        self.max_concurrency = 1
        self.session_start_total = 1000
        self.session_start_remaining = 1000
        self.sessions: dict[str, Session] = {}
        self.session_list: list[Session] = []
        self.connections: list[Connection] = []
        self.identifies: list[IdentifyRecord] = []
        self.presence_updates: list[JSON] = []
        self.member_requests: list[JSON] = []
        self._session_added = asyncio.Condition()

    # -- helpers for tests -------------------------------------------------------
    @property
    def active_connections(self) -> list[Connection]:
        return [c for c in self.connections if c.open]

    @property
    def live_sessions(self) -> list[Session]:
        return [s for s in self.session_list if not s.invalid]

    async def wait_sessions_ready(
        self,
        start: int = 0,
        timeout: float = 10.0,
        *,
        shard_ids: Collection[int] | None = None,
        accept: Callable[[Session], bool] | None = None,
    ) -> list[Session]:
        """Wait until sessions created after index ``start`` are READY with all guilds.

        For sharded clients this waits for every shard ``0..count-1`` (the count from the
        sessions' IDENTIFY), or with ``shard_ids`` for exactly those: a bot process may run
        any subset of the shards (``SHARD_IDS``), the others being another process's.  An
        unsharded session counts as shard 0 of 1.  ``accept`` leaves out sessions that are
        not the caller's (``launch_bot``: those of other processes).  The newest session
        of each shard wins (a client that re-identified).
        """

        def complete() -> list[Session] | None:
            fresh = [
                s for s in self.session_list[start:]
                if not s.invalid and s.ready.is_set() and (accept is None or accept(s))
            ]
            if not fresh:
                return None
            if shard_ids is not None:
                by_shard = {(s.shard or (0, 1))[0]: s for s in fresh}
                wanted = set(shard_ids)
                return [by_shard[i] for i in sorted(wanted)] if wanted <= set(by_shard) else None
            sharded = [s for s in fresh if s.shard is not None]
            if sharded:
                count = sharded[0].shard[1]  # type: ignore[index]
                by_id = {s.shard[0]: s for s in sharded}  # type: ignore[index]
                return list(by_id.values()) if len(by_id) >= count else None
            return fresh[:1]

        async with self._session_added:
            done = await asyncio.wait_for(self._session_added.wait_for(complete), timeout)
        assert done is not None
        return done

    # -- dispatch ---------------------------------------------------------------------
    async def dispatch(
        self,
        event: str,
        data: JSON | Callable[[Session], JSON | None],
        *,
        guild_id: int | None = None,
        intent: int | None = None,
    ) -> list[Session]:
        """Send an event to every live session whose shard covers ``guild_id``.

        ``intent``: bits of which at least one must be set (None = passthrough).
        ``data`` may be a callable producing a per-session payload (or None to skip).
        """
        delivered = []
        for session in self.live_sessions:
            if not session.covers(guild_id) or not session.wants(intent):
                continue
            payload = data(session) if callable(data) else data
            if payload is None:
                continue
            await session.dispatch(event, payload)
            delivered.append(session)
        return delivered

    async def send_reconnect(self) -> None:
        """Fault: op 7 RECONNECT on every open connection."""
        for conn in self.active_connections:
            await conn.send({"op": RECONNECT, "d": None})

    async def invalidate_sessions(self, resumable: bool = False) -> None:
        """Fault: op 9 INVALID_SESSION; non-resumable ones are forgotten."""
        for conn in self.active_connections:
            if conn.session is None:
                continue
            if not resumable:
                conn.session.invalid = True
                self.sessions.pop(conn.session.id, None)
            await conn.send({"op": INVALID_SESSION, "d": resumable})

    async def disconnect(self, code: int = 4000, reason: str = "Unknown error.") -> None:
        """Fault: close every connection (4000 is resumable for discord.py)."""
        for conn in self.active_connections:
            await conn.close(code, reason)

    # -- websocket handler ---------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        try:
            conn = Connection(ws, request.path, dict(request.query), self.emu.clock.time())
        except GatewayClose as exc:
            await ws.close(code=exc.code, message=exc.reason.encode())
            return ws
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if isinstance(peer, tuple) and len(peer) >= 2:
            conn.peer = (str(peer[0]), int(peer[1]))
        self.connections.append(conn)
        try:
            await self._serve(conn)
        except GatewayClose as exc:
            await conn.close(exc.code, exc.reason)
        finally:
            conn.closed_at = self.emu.clock.time()
            if conn.close_code is None:
                conn.close_code = ws.close_code
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
        return ws

    async def _serve(self, conn: Connection) -> None:
        if conn.query.get("encoding", "json") != "json":
            raise GatewayClose(4002, "Error while decoding payload.")
        if conn.query.get("v", "10") != str(P.API_VERSION):
            raise GatewayClose(4012, "Invalid API version.")
        await conn.send(
            {
                "op": HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval, "_trace": TRACE},
                "s": None,
                "t": None,
            }
        )
        async for msg in conn.ws:
            if msg.type != WSMsgType.TEXT:
                if msg.type == WSMsgType.BINARY:
                    raise GatewayClose(4002, "Error while decoding payload.")
                break
            try:
                payload = json.loads(msg.data)
                op = payload["op"]
            except (ValueError, KeyError, TypeError):
                raise GatewayClose(4002, "Error while decoding payload.") from None
            conn.received.append(payload)
            await self._on_payload(conn, op, payload.get("d"))

    async def _on_payload(self, conn: Connection, op: int, data: Any) -> None:
        if op == HEARTBEAT:
            conn.heartbeats += 1
            if self.ack_heartbeats:
                await conn.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif conn.session is None:
            raise GatewayClose(4003, "Not authenticated.")
        elif op == PRESENCE_UPDATE:
            self.presence_updates.append(data)
        elif op == REQUEST_MEMBERS:
            await self._request_members(conn.session, data or {})
        elif op == VOICE_STATE:
            pass
        else:
            raise GatewayClose(4001, "Unknown opcode.")

    async def _identify(self, conn: Connection, data: JSON) -> None:
        record = IdentifyRecord(dict(data), conn.path, conn.compress, self.emu.clock.time())
        self.identifies.append(record)
        if conn.session is not None:
            raise GatewayClose(4005, "Already authenticated.")
        if data.get("token") != self.emu.token:
            raise GatewayClose(4004, "Authentication failed.")
        intents = data.get("intents")
        if not isinstance(intents, int) or intents & ~P.KNOWN_INTENTS:
            raise GatewayClose(4013, "Invalid intent(s).")
        if intents & P.PRIVILEGED_INTENTS & ~self.emu.privileged_intents:
            raise GatewayClose(4014, "Disallowed intent(s).")
        shard = data.get("shard")
        if shard is not None:
            if (
                not isinstance(shard, list)
                or len(shard) != 2
                or not all(isinstance(x, int) for x in shard)
                or not 0 <= shard[0] < shard[1]
            ):
                raise GatewayClose(4010, "Invalid shard.")
            shard = (shard[0], shard[1])
        self.session_start_remaining = max(0, self.session_start_remaining - 1)
        record.accepted = True
        session = Session(
            id=secrets.token_hex(16), identify=dict(data), intents=intents, shard=shard
        )
        self.sessions[session.id] = session
        self.session_list.append(session)
        conn.session = session
        session.connection = conn
        guilds = [
            g for g in self.emu.world.guilds.values()
            if session.covers(g.id) and g.has_member(self.emu.world.bot_id)
        ]
        await session.dispatch("READY", self.emu.ready_payload(session, guilds))
        for guild in guilds:
            if session.wants(P.INTENT_GUILDS):
                await session.dispatch(
                    "GUILD_CREATE", self.emu.guild_create_payload(guild, session)
                )
            session.guilds_sent.add(guild.id)
        session.ready.set()
        async with self._session_added:
            self._session_added.notify_all()

    async def _resume(self, conn: Connection, data: JSON) -> None:
        if conn.session is not None:
            raise GatewayClose(4005, "Already authenticated.")
        if data.get("token") != self.emu.token:
            raise GatewayClose(4004, "Authentication failed.")
        session = self.sessions.get(data.get("session_id") or "")
        if session is None or session.invalid:
            await conn.send({"op": INVALID_SESSION, "d": False})
            return
        old = session.connection
        try:
            last_seq = int(data.get("seq") or 0)
        except (TypeError, ValueError):
            raise GatewayClose(4007, "Invalid seq.") from None
        async with conn.lock:
            conn.session = session
            session.connection = conn
            missed = [frame for seq, frame in session.buffer if seq > last_seq]
            for frame in missed:
                await conn._send_locked(frame)
        session.resumes += 1
        await session.dispatch("RESUMED", {"_trace": TRACE})
        if old is not None and old is not conn and old.open:
            await old.close(4009, "Session timed out.")

    async def _request_members(self, session: Session, data: JSON) -> None:
        self.member_requests.append(data)
        guild_ids = data.get("guild_id")
        for gid in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
            guild = self.emu.world.guilds.get(int(gid))
            if guild is None:
                continue
            members = list(guild.members.values())
            wanted = data.get("user_ids")
            not_found: list[str] = []
            if wanted:
                wanted_ids = [int(u) for u in (wanted if isinstance(wanted, list) else [wanted])]
                not_found = [str(u) for u in wanted_ids if u not in guild.members]
                members = [guild.members[u] for u in wanted_ids if u in guild.members]
            else:
                query = (data.get("query") or "").lower()
                members = [m for m in members if m["user"]["username"].lower().startswith(query)]
                if data.get("limit"):
                    members = members[: int(data["limit"])]
            chunk: JSON = {
                "guild_id": str(guild.id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
            }
            if not_found:
                chunk["not_found"] = not_found
            if data.get("presences"):
                chunk["presences"] = []
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
