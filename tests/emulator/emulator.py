"""A small, faithful Discord emulator for end-to-end tests of discord.py bots.

It serves Discord's REST API under ``/api/v10`` and the gateway under
``/gateway`` on 127.0.0.1, inside the running asyncio loop::

    emu = DiscordEmulator()
    await emu.start()
    guild = emu.add_guild(name="Test Running Club", channels=["general"])
    member = emu.add_member(guild, username="runner")
    ... start a bot with Route.BASE = emu.api_base, DEFAULT_GATEWAY = emu.gateway_url ...
    rec = await emu.slash("ping", guild=guild, member=member)
    assert (await rec.wait_response())["data"]["content"] == "pong"
    await emu.stop()

Module map: ``payloads`` (object builders, constants), ``clock`` (Discord's
advanceable clock), ``world`` (state and permission/mention/content rules),
``events`` / ``recurrence`` / ``event_routes`` (guild scheduled events: model and member
actions, recurrence rules, REST routes),
``limits`` (Discord's size limits), ``gateway`` (websocket protocol), ``rest`` (HTTP
routes), ``ratelimits`` (global limit and per-route buckets), ``faults`` (error
answers for the send fault switches), ``actions`` (what users do:
slash/autocomplete/click/select/modal), ``records`` (what tests inspect), ``harness``
(bot subprocesses), ``launch`` (``python -m tests.emulator.launch``: runs a bot script
pointed at the emulator), ``minimal_bot`` / ``feature_bot`` (bots that exercise it).
See README.md next to this file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from . import payloads as P
from .actions import ActionDefaults, Option, UserActions
from .clock import EmulatorClock
from .event_routes import EventRoutes
from .events import EventActions
from .faults import ChannelFault, HangFault, InteractionFault, error_for
from .gateway import TRACE, Gateway, Session
from .ratelimits import RateLimiter
from .records import InteractionRecord, LimitViolation, MessageRecord, RequestRecord, UploadedFile
from .rest import ApiError, RestApi
from .world import Guild, World

JSON = dict[str, Any]

#: Route key of message create (the route ``channel_message_limit`` and faults apply to).
MESSAGE_CREATE = "POST /channels/{channel_id}/messages"
#: Route key of the initial interaction answer (the route ``fail_interactions`` applies to).
INTERACTION_CALLBACK = "POST /interactions/{interaction_id}/{token}/callback"
#: Paths that are not subject to the global rate limit (interaction tokens).
GLOBAL_EXEMPT = ("/interactions/", "/webhooks/")


class DiscordEmulator(UserActions, EventActions):
    """Discord REST + gateway on 127.0.0.1 with a scriptable world and full recording."""

    def __init__(
        self,
        *,
        bot_name: str = "Stride",
        heartbeat_interval: int = 41250,
        shard_count: int = 1,
        interaction_deadline: float = 3.0,
        interaction_token_ttl: float = 15 * 60.0,
        privileged_intents: int = P.PRIVILEGED_INTENTS,
        global_rate_limit: int | None = None,
        channel_message_limit: tuple[int, float] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        #: Discord's clock (``advance`` moves it; see clock.py).
        self.clock = EmulatorClock()
        self.ids = P.SnowflakeFactory(clock=self.clock.time)
        self.host = host
        self.port = port
        self.application_id = self.ids.next(self.clock.time() - 400 * 86400)
        self.bot_user = P.user_payload(
            self.application_id,
            bot_name,
            bot=True,
            discriminator=f"{secrets.randbelow(9000) + 1000}",
        )
        self.token = P.make_bot_token(self.application_id)
        self.world = World(self.ids, self.bot_user, self.clock)
        self.app_owner = self.world.add_user(f"{bot_name.lower()}-dev")
        #: Privileged intents enabled in the (emulated) developer portal.
        self.privileged_intents = privileged_intents
        #: Seconds the bot has to send the initial interaction response.
        self.interaction_deadline = interaction_deadline
        #: Seconds interaction tokens stay valid for webhooks (followups, @original).
        self.interaction_token_ttl = interaction_token_ttl
        #: Guild, channel and member of actions that name none (see ActionDefaults).
        self.defaults = ActionDefaults()
        #: slash()/autocomplete() refuse commands that were never synced.
        self.strict_commands = False
        #: slash() refuses members lacking a command's default_member_permissions.
        self.enforce_command_permissions = True
        #: slash() refuses a command where its synced ``contexts`` / ``integration_types``
        #: do not reach (False: send it anyway, as a stale client might).
        self.enforce_command_contexts = True
        self.gateway = Gateway(self)
        self.gateway.heartbeat_interval = heartbeat_interval
        self.gateway.shard_count = shard_count
        self.rest = RestApi(self)
        self.rest.add_routes(EventRoutes(self).table())

        # rate limits (see ratelimits.py); all may be changed while running
        #: Bot-token requests allowed in any ``global_rate_window`` seconds (Discord: 50/1 s).
        self.global_rate_limit: int | None = global_rate_limit
        self.global_rate_window = 1.0
        #: Per-route buckets: ``{"POST /channels/{channel_id}/messages": (5, 5.0)}``.
        self.route_limits: dict[str, tuple[int, float]] = {}
        self.channel_message_limit = channel_message_limit
        self.rate_limiter = RateLimiter(self.clock)
        #: Seconds a message nonce stays unique for ``enforce_nonce`` (Discord: minutes).
        self.nonce_ttl = 300.0
        #: Seconds every REST answer is held back (``slow_responses``).
        self.response_delay = 0.0
        self.faults: list[ChannelFault | HangFault] = []
        self.interaction_faults: list[InteractionFault] = []

        # recordings
        self.requests: list[RequestRecord] = []
        self.unhandled: list[RequestRecord] = []
        self.limit_violations: list[LimitViolation] = []
        self.interactions: dict[int, InteractionRecord] = {}
        self.interactions_by_token: dict[str, InteractionRecord] = {}
        self.global_commands: dict[int, JSON] = {}
        self.guild_commands: dict[int, dict[int, JSON]] = {}
        self.command_syncs: list[RequestRecord] = []
        self.rate_limited: list[RequestRecord] = []  # every 429 answered
        self.invalid_request_records: list[RequestRecord] = []  # 401, 403, non-shared 429
        self.nonce_hits: list[RequestRecord] = []  # creates answered with an earlier message
        self.nonces: dict[tuple[int, str], MessageRecord] = {}
        self.channel_posts: list[MessageRecord] = []  # POST /channels/{id}/messages, in order
        self.dm_channel_creates = 0  # answered POST /users/@me/channels
        self.dm_channel_creates_by_user: Counter[int] = Counter()
        self._fallback_command_ids: dict[str, int] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()  # releases answers held by hang_after_create

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start listening (port 0 picks a free port)."""
        self._stopping.clear()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
        app.router.add_get("/gateway/resume", self.gateway.handle)
        app.router.add_route("*", "/api/v{version:\\d+}/{tail:.*}", self._handle_api)
        app.router.add_route("*", "/{tail:.*}", self._handle_api)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Close every gateway connection and the HTTP server."""
        self._stopping.set()
        for conn in self.gateway.active_connections:
            await conn.close(1001, "Going away.")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f"{self.base_url}/api/v{P.API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """Value for ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway/resume"

    @property
    def application_flags(self) -> int:
        """Flags an unverified app with the enabled privileged intents would have."""
        flags = P.APP_FLAG_APPLICATION_COMMAND_BADGE
        if self.privileged_intents & P.INTENT_GUILD_PRESENCES:
            flags |= P.APP_FLAG_GATEWAY_PRESENCE_LIMITED
        if self.privileged_intents & P.INTENT_GUILD_MEMBERS:
            flags |= P.APP_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED
        if self.privileged_intents & P.INTENT_MESSAGE_CONTENT:
            flags |= P.APP_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED
        return flags

    # ------------------------------------------------------------------ recordings
    @property
    def identifies(self) -> list[JSON]:
        """Payloads (``d``) of every accepted IDENTIFY, oldest first."""
        return [r.payload for r in self.gateway.identifies if r.accepted]

    @property
    def error_responses(self) -> list[RequestRecord]:
        """Requests the emulator answered with 4xx/5xx."""
        return [r for r in self.requests if r.status is not None and r.status >= 400]

    def requests_to(self, method: str, path_prefix: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def channel_messages(self, channel: Any, *, include_ephemeral: bool = False) -> list[JSON]:
        """Messages in a channel, oldest first (deleted ones excluded)."""
        return self.world.channel_messages(
            P.snowflake_of(channel), include_ephemeral=include_ephemeral
        )

    def message_record(self, message: Any) -> MessageRecord:
        """The record (raw payloads, files, flags) behind a message dict or id."""
        return self.world.messages[P.snowflake_of(message)]

    def channel_message_records(self, channel: Any) -> list[MessageRecord]:
        """Records (with ``created_at`` / ``created_wall``) of a channel's live messages."""
        cid = P.snowflake_of(channel)
        records = (self.world.messages[i] for i in self.world.channel_index.get(cid, []))
        return [r for r in records if not r.deleted]

    @property
    def invalid_requests(self) -> int:
        """Requests answered 401, 403 or 429 (except ``shared`` scope), as Discord counts
        them for its 10,000-per-10-minutes IP ban."""
        return len(self.invalid_request_records)

    def invalid_requests_within(self, seconds: float = 600.0) -> int:
        """Invalid requests that arrived in the last ``seconds``."""
        return sum(1 for r in self.invalid_request_records if self.clock.elapsed(r.time) <= seconds)

    def record_violations(self, method: str, path: str, errors: Any, prefix: tuple = ()) -> None:
        for fld, code, message in errors.flat(prefix):
            self.limit_violations.append(LimitViolation(method, path, fld, code, message))

    # ------------------------------------------------------------------ time
    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass on Discord's side at once (e.g. while a bot is down).

        Everything decided by elapsed time sees them (``nonce_ttl``, interaction deadline
        and token lifetime, rate-limit windows, ``invalid_requests_within``); new
        snowflakes and timestamps come from the advanced clock, so a bot launched with
        ``clock_offset=emu.clock.offset`` agrees with them.  ``perf_counter()`` fields
        of the records stay real (latency).
        """
        self.clock.advance(seconds)

    # ------------------------------------------------------------------ rate limits
    @property
    def channel_message_limit(self) -> tuple[int, float] | None:
        """``(count, seconds)`` per channel for message create, e.g. ``(5, 5.0)``; None: off."""
        return self.route_limits.get(MESSAGE_CREATE)

    @channel_message_limit.setter
    def channel_message_limit(self, value: tuple[int, float] | None) -> None:
        if value is None:
            self.route_limits.pop(MESSAGE_CREATE, None)
        else:
            count, period = value
            self.route_limits[MESSAGE_CREATE] = (int(count), float(period))

    def discord_rate_limits(self) -> None:
        """Discord's production numbers: 50 requests/s globally, 5 messages/5 s per channel."""
        self.global_rate_limit = 50
        self.channel_message_limit = (5, 5.0)

    def reset_rate_limits(self) -> None:
        """Forget every window and bucket (the configured limits stay)."""
        self.rate_limiter.reset()

    # ------------------------------------------------------------------ fault switches
    def fail_channel(
        self,
        channel: Any,
        status: int,
        code: int | None = None,
        message: str | None = None,
        times: int | None = None,
        *,
        after_create: bool = False,
    ) -> ChannelFault:
        """Answer ``POST /channels/{id}/messages`` to ``channel`` with an error.

        Bodies are Discord's (see faults.py): 403 -> 50001 Missing Access, 404 -> 10003
        Unknown Channel, 500 JSON, 502/504 Cloudflare HTML, 503 text.  ``times``: only
        that many requests (None: until ``clear_faults``).  ``after_create``: the
        message is created and dispatched but the answer is the error (a lost
        response; a retry with the same nonce then gets the message back).
        Rate limits are applied first, as on Discord.  Returns the switch (``.hits``).
        """
        fault = ChannelFault(
            P.snowflake_of(channel), status, code, message, times, after_create=after_create
        )
        self.faults.append(fault)
        return fault

    def hang_after_create(self, channel: Any, times: int | None = 1) -> HangFault:
        """``POST /channels/{id}/messages`` to ``channel`` creates the message as usual
        (stored, nonce remembered, MESSAGE_CREATE sent) but never answers: the request
        waits until the client gives up and disconnects (or the emulator stops).  A
        client's timeout then leaves it unsure whether the send happened.  ``times``:
        that many requests (None: until ``clear_faults``).  Returns the switch (``.hits``).
        """
        fault = HangFault(P.snowflake_of(channel), times)
        self.faults.append(fault)
        return fault

    def fail_interactions(
        self,
        status: int,
        code: int | None = None,
        message: str | None = None,
        times: int | None = None,
        *,
        guild: Any = None,
    ) -> InteractionFault:
        """Answer the bot's interaction callbacks with an error (bodies as ``fail_channel``;
        e.g. ``fail_interactions(404, 10062)`` for Unknown interaction, ``500`` for an
        outage).  ``guild``: only interactions from that guild.  The interaction stays
        unanswered (the refused callback is in ``InteractionRecord.rejected``).  Cleared by
        ``clear_faults()``.  Returns the switch (``.hits``)."""
        fault = InteractionFault(
            status, code, message, times, None if guild is None else P.snowflake_of(guild)
        )
        self.interaction_faults.append(fault)
        return fault

    def clear_faults(self, channel: Any = None) -> None:
        """Remove every ``fail_channel`` / ``fail_interactions`` switch (or only the
        ``fail_channel`` ones of ``channel``)."""
        if channel is None:
            self.faults.clear()
            self.interaction_faults.clear()
        else:
            cid = P.snowflake_of(channel)
            self.faults = [f for f in self.faults if f.channel_id != cid]

    def _fault_for(
        self, route: str, params: dict[str, str]
    ) -> ChannelFault | HangFault | InteractionFault | None:
        if route == INTERACTION_CALLBACK:
            rec = self.interactions.get(int(params.get("interaction_id", "0") or 0))
            guild_id = rec.payload.get("guild_id") if rec is not None else None
            for ifault in self.interaction_faults:
                if not ifault.exhausted and ifault.guild_id in (None, _int_or_none(guild_id)):
                    if rec is not None:
                        error = error_for(ifault.status, ifault.code, ifault.message)
                        rec.rejected.append((ifault.status, error.body()))
                    return ifault
            return None
        if route != MESSAGE_CREATE:
            return None
        for fault in self.faults:
            if str(fault.channel_id) == params.get("channel_id") and not fault.exhausted:
                return fault
        return None

    def close_dms(self, user: Any) -> None:
        """The user blocks DMs from the bot: opening the DM channel still works, sending
        answers 403 50007 "Cannot send messages to this user"."""
        self.world.dm_closed.add(P.snowflake_of(user))

    def open_dms(self, user: Any) -> None:
        self.world.dm_closed.discard(P.snowflake_of(user))

    def delete_channel(self, channel: Any) -> JSON:
        """Delete a guild channel: CHANNEL_DELETE to GUILDS sessions, then 404 10003.

        Messages already posted stay readable through ``channel_messages``.
        """
        cid = P.snowflake_of(channel)
        gid = self.world.channel_guild.get(cid)
        data = self.world.delete_channel(cid)
        self.clear_faults(cid)
        self._emit("CHANNEL_DELETE", data, guild_id=gid, intent=P.INTENT_GUILDS)
        return data

    def set_permission_overwrite(
        self, channel: Any, target: Any, *, allow: int = 0, deny: int = 0, kind: int | None = None
    ) -> JSON:
        """Set a channel overwrite for a role or member (``allow == deny == 0`` removes it).

        ``kind`` 0 = role, 1 = member (default: role if ``target`` is a role id of the
        channel's guild).  Dispatches CHANNEL_UPDATE like Discord.
        """
        cid = P.snowflake_of(channel)
        gid = self.world.channel_guild.get(cid)
        if gid is None:
            raise ValueError("permission overwrites exist only on guild channels")
        target_id = P.snowflake_of(target)
        if kind is None:
            kind = 0 if target_id in self.world.guilds[gid].roles else 1
        self.world.set_overwrite(cid, target_id, kind, allow, deny)
        data = self.world.channels[cid]
        self._emit("CHANNEL_UPDATE", data, guild_id=gid, intent=P.INTENT_GUILDS)
        return data

    def remove_send_permission(self, channel: Any) -> JSON:
        """Deny SEND_MESSAGES to the bot in ``channel`` (member overwrite) -> 403 50013."""
        return self.set_permission_overwrite(
            channel, self.world.bot_id, deny=P.SEND_MESSAGES, kind=1
        )

    def restore_send_permission(self, channel: Any) -> JSON:
        """Drop the bot's member overwrite again."""
        return self.set_permission_overwrite(channel, self.world.bot_id, kind=1)

    def slow_responses(self, seconds: float) -> None:
        """Hold every REST answer back ``seconds`` (0 turns it off).  The request is
        handled (and rate-limited) on arrival; only the answer is late."""
        self.response_delay = max(0.0, float(seconds))

    # ------------------------------------------------------------------ world building
    def add_user(self, username: str, *, global_name: str | None = None, bot: bool = False,
                 user_id: int | None = None) -> JSON:
        return self.world.add_user(username, global_name=global_name, bot=bot, user_id=user_id)

    def add_guild(
        self,
        name: str,
        *,
        channels: Sequence[str] = ("general",),
        roles: Sequence[str | JSON] = (),
        owner: JSON | str | None = None,
        bot_permissions: int = P.DEFAULT_BOT_PERMISSIONS,
        everyone_permissions: int = P.DEFAULT_EVERYONE_PERMISSIONS,
        guild_id: int | None = None,
        with_bot: bool = True,
        external_apps: bool = True,
    ) -> JSON:
        """Create a guild the bot is in; returns its core dict (``id``, ``name``, ``owner_id``).

        ``roles`` are names or ``{"name", "permissions", "mentionable", ...}`` dicts;
        ``guild_id`` fixes the id (e.g. to match a prepared database), else a new snowflake.
        If the bot is connected the guild arrives as GUILD_CREATE right away.
        ``with_bot=False``: a server that never added the app (no GUILD_CREATE, its REST
        routes answer 403 50001); members who added the app to their own account
        (``install_for_user``) still use its user-installable commands there.
        ``external_apps=False``: the server blocks external apps (@everyone lacks
        USE_EXTERNAL_APPS), so Discord forces such a member's answers to be ephemeral.
        """
        if owner is None:
            owner = self.add_user(f"{name.split()[0].lower()}-owner")
        elif isinstance(owner, str):
            owner = self.add_user(owner)
        elif "user" in owner:
            owner = owner["user"]
        guild = self.world.add_guild(
            name,
            owner,
            channels=channels,
            roles=roles,
            bot_permissions=bot_permissions,
            everyone_permissions=everyone_permissions,
            guild_id=guild_id,
            with_bot=with_bot,
        )
        guild.external_apps = external_apps
        if not external_apps:
            everyone = guild.roles[guild.id]
            everyone["permissions"] = str(int(everyone["permissions"]) & ~P.USE_EXTERNAL_APPS)
        if with_bot:
            self._emit_guild_create(guild)
        return guild.core

    def add_channel(
        self, guild: Any, name: str, *, topic: str | None = None,
        type: int = P.CHANNEL_TYPE_GUILD_TEXT,
    ) -> JSON:
        """A text (0), voice (``type=2``) or stage (``type=13``) channel; CHANNEL_CREATE."""
        gid = P.snowflake_of(guild)
        channel = self.world.add_channel(gid, name, topic=topic, kind=type)
        self._emit("CHANNEL_CREATE", channel, guild_id=gid, intent=P.INTENT_GUILDS)
        return channel

    def add_role(self, guild: Any, name: str, permissions: int = 0, **kwargs: Any) -> JSON:
        gid = P.snowflake_of(guild)
        role = self.world.add_role(gid, name, permissions, **kwargs)
        self._emit(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(gid), "role": role},
            guild_id=gid,
            intent=P.INTENT_GUILDS,
        )
        return role

    def add_member(
        self,
        guild: Any,
        username: str | None = None,
        *,
        user: JSON | None = None,
        roles: Sequence[str | int | JSON] = (),
        permissions: int | None = None,
        admin: bool = False,
        nick: str | None = None,
        global_name: str | None = None,
    ) -> JSON:
        """Add a member (new user unless ``user`` is given) and return the member dict.

        ``roles``: role names, ids or dicts.  ``admin=True`` grants an ``Admin`` role
        with ADMINISTRATOR; ``permissions`` grants a personal role with those bits.
        """
        gid = P.snowflake_of(guild)
        if user is None:
            if username is None:
                raise ValueError("add_member needs username or user")
            user = self.add_user(username, global_name=global_name)
        role_ids = [self._role_id(gid, r) for r in roles]
        if admin:
            try:
                admin_role = self.world.role_by_name(gid, "Admin")
            except KeyError:
                admin_role = self.add_role(gid, "Admin", P.ADMINISTRATOR, hoist=True)
            role_ids.append(int(admin_role["id"]))
        if permissions is not None:
            personal = self.add_role(gid, f"{user['username']} permissions", permissions)
            role_ids.append(int(personal["id"]))
        member = self.world.add_member(gid, user, role_ids=role_ids, nick=nick)
        self._emit(
            "GUILD_MEMBER_ADD",
            {**member, "guild_id": str(gid)},
            guild_id=gid,
            intent=P.INTENT_GUILD_MEMBERS,
        )
        return member

    def remove_member(self, guild: Any, member: Any) -> None:
        """The member leaves the server (GUILD_MEMBER_REMOVE, for GUILD_MEMBERS sessions)."""
        gid = P.snowflake_of(guild)
        user = member.get("user", member) if isinstance(member, dict) else None
        uid = P.snowflake_of(user if user is not None else member)
        removed = self.world.guilds[gid].members.pop(uid)
        self._emit(
            "GUILD_MEMBER_REMOVE",
            {"guild_id": str(gid), "user": removed["user"]},
            guild_id=gid,
            intent=P.INTENT_GUILD_MEMBERS,
        )

    def _role_id(self, guild_id: int, role: str | int | JSON) -> int:
        if isinstance(role, str) and not role.isdigit():
            return int(self.world.role_by_name(guild_id, role)["id"])
        return P.snowflake_of(role)

    def dm_channel(self, user: Any) -> JSON:
        """The DM channel between the bot and ``user`` (member dicts accepted)."""
        return self.world.dm_channel(P.snowflake_of(user))

    def add_group_dm(self, owner: Any, *others: Any) -> JSON:
        """A group DM (channel type 3) between users; the bot is not in it, so it can only
        answer interactions there (its posts get 403 50001).  Member dicts accepted."""
        users = [self._user_of(u) for u in (owner, *others)]
        return self.world.add_group_dm(users[0], users[1:])

    def install_for_user(self, user: Any) -> None:
        """``user`` adds the app to their own account (a user install, integration type 1):
        its commands with ``integration_types`` containing 1 reach them in every context
        the command's ``contexts`` allow; ``authorizing_integration_owners`` gets ``"1"``."""
        self.world.user_installs.add(P.snowflake_of(self._user_of(user)))

    def uninstall_for_user(self, user: Any) -> None:
        self.world.user_installs.discard(P.snowflake_of(self._user_of(user)))

    def _emit(self, event: str, data: JSON, *, guild_id: int | None, intent: int | None) -> None:
        """Fire-and-forget gateway event from synchronous world-building calls."""
        if guild_id is not None and not self.world.bot_in_guild(guild_id):
            return  # a server the app is not in sends it nothing
        if self.gateway.live_sessions:
            self._spawn(self.gateway.dispatch(event, data, guild_id=guild_id, intent=intent))

    def _emit_guild_create(self, guild: Guild) -> None:
        async def send() -> None:
            for session in self.gateway.live_sessions:
                if session.covers(guild.id) and guild.id not in session.guilds_sent:
                    session.guilds_sent.add(guild.id)
                    if session.wants(P.INTENT_GUILDS):
                        await session.dispatch(
                            "GUILD_CREATE", self.guild_create_payload(guild, session)
                        )

        if self.gateway.live_sessions:
            self._spawn(send())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait until events queued by world-building calls have been sent."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    # ------------------------------------------------------------------ gateway payloads
    def ready_payload(self, session: Session, guilds: list[Guild]) -> JSON:
        data: JSON = {
            "v": P.API_VERSION,
            "user_settings": {},
            "user": P.private_user_payload(self.bot_user),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["us-east", "us-central", "atlanta", "us-south", "newark"],
            "auth": {},
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "_trace": TRACE,
        }
        if session.shard is not None:
            data["shard"] = list(session.shard)
        return data

    def guild_create_payload(self, guild: Guild, session: Session) -> JSON:
        """Full guild object with the GUILD_CREATE-only fields."""
        large_threshold = int(session.identify.get("large_threshold") or 50)
        bot_member = guild.members.get(self.world.bot_id)
        members = [bot_member] if bot_member else []
        large = len(guild.members) > large_threshold
        if session.wants(P.INTENT_GUILD_PRESENCES) and not large:
            members = list(guild.members.values())
        channels = [
            {k: v for k, v in c.items() if k != "guild_id"} for c in guild.channels.values()
        ]
        data = P.guild_payload(guild.core, list(guild.roles.values()))
        data.update(
            joined_at=bot_member["joined_at"] if bot_member else P.iso(self.clock.time()),
            large=large,
            unavailable=False,
            member_count=len(guild.members),
            voice_states=[],
            members=members,
            channels=channels,
            threads=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[e.payload() for e in guild.scheduled_events.values()
                                    if e.listed],
            soundboard_sounds=[],
            embedded_activities=[],
            activity_instances=[],
            application_command_counts={},
            lazy=True,
            hub_type=None,
            latest_onboarding_question_id=None,
            version=int(self.clock.time() * 1000),
        )
        return data

    async def dispatch_message_create(self, record: MessageRecord) -> None:
        """MESSAGE_CREATE for a stored (non-ephemeral) message, honouring intents."""
        await self._dispatch_message_event("MESSAGE_CREATE", record)

    async def _dispatch_message_event(self, event: str, record: MessageRecord) -> None:
        if record.ephemeral or not self.world.bot_sees_channel(record.channel_id):
            return
        guild_id = record.guild_id
        intent = P.INTENT_DIRECT_MESSAGES if guild_id is None else P.INTENT_GUILD_MESSAGES
        data = dict(record.message)
        author_id = int(data["author"]["id"])
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
            member = self.world.member(guild_id, author_id)
            if member is not None and "webhook_id" not in data:
                data["member"] = {k: v for k, v in member.items() if k != "user"}

        def for_session(session: Session) -> JSON:
            content_intent = bool(session.intents & P.INTENT_MESSAGE_CONTENT)
            return self.world.content_view(data, guild_id, content_intent=content_intent)

        await self.gateway.dispatch(event, for_session, guild_id=guild_id, intent=intent)

    async def dispatch_message_update(self, record: MessageRecord) -> None:
        await self._dispatch_message_event("MESSAGE_UPDATE", record)

    async def dispatch_message_delete(self, record: MessageRecord) -> None:
        if record.ephemeral or not self.world.bot_sees_channel(record.channel_id):
            return
        data: JSON = {"id": record.message["id"], "channel_id": str(record.channel_id)}
        intent = P.INTENT_DIRECT_MESSAGES
        if record.guild_id is not None:
            data["guild_id"] = str(record.guild_id)
            intent = P.INTENT_GUILD_MESSAGES
        await self.gateway.dispatch("MESSAGE_DELETE", data, guild_id=record.guild_id, intent=intent)

    # ------------------------------------------------------------------ HTTP plumbing
    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        version = request.match_info.get("version")
        path = "/" + request.match_info.get("tail", "") if version else request.path
        record = RequestRecord(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=None,
            time=arrived,
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            wall_time=self.clock.time(),
        )
        self.requests.append(record)
        # Discord's answers come through Google's front end; discord.py treats a 429
        # without a Via header as a Cloudflare ban instead of a rate limit.
        headers = {"Via": "1.1 google"}
        text: str | None = None
        content_type = "application/json"
        try:
            if version != str(P.API_VERSION):
                raise ApiError(404, 0, "404: Not Found", unhandled=True)
            record.json, record.files = await self.rest.read_body(request)
            self.rest.check_auth(request, path)
            if request.headers.get("Authorization") == f"Bot {self.token}" and (
                not path.startswith(GLOBAL_EXEMPT)
            ):
                self.rate_limiter.check_global(self.global_rate_limit, self.global_rate_window)
            route, handler, params = self.rest.resolve(record)
            record.route = route
            headers.update(
                self.rate_limiter.check_route(route, params, self.route_limits.get(route))
            )
            fault = self._fault_for(route, params)
            if isinstance(fault, InteractionFault) or (
                isinstance(fault, ChannelFault) and not fault.after_create
            ):
                raise fault.fire()
            status, body = await handler(record, params)
            if isinstance(fault, HangFault) and status < 300:
                fault.hits += 1
                await self._hold_until_disconnect(request)
                return web.Response(status=status, headers=headers)  # nobody reads it
            if isinstance(fault, ChannelFault) and status < 300:
                raise fault.fire()
        except ApiError as exc:
            status, body = exc.status, exc.body()
            headers.update(exc.headers)
            if exc.text is not None:
                body, text, content_type = exc.text, exc.text, exc.content_type
            if exc.unhandled:
                self.unhandled.append(record)
        record.status = status
        record.response = body
        record.response_headers = headers
        if status == 429:
            self.rate_limited.append(record)
        if status in (401, 403) or (status == 429 and record.rate_limit_scope != "shared"):
            self.invalid_request_records.append(record)
        if self.response_delay > 0:
            await asyncio.sleep(self.response_delay)
        record.answered_at = time.perf_counter()
        if body is None:
            return web.Response(status=status, headers=headers)
        if text is not None:
            return web.Response(
                status=status, text=text, content_type=content_type, headers=headers
            )
        # Exactly "application/json": discord.py compares the header verbatim.
        headers["Content-Type"] = "application/json"
        return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)

    async def _hold_until_disconnect(self, request: web.Request) -> None:
        """Never answer: wait for the client to hang up, or close the socket on stop."""
        while not self._stopping.is_set():
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 0.05)
        if request.transport is not None:
            request.transport.close()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


__all__ = [
    "MESSAGE_CREATE",
    "ActionDefaults",
    "ApiError",
    "ChannelFault",
    "DiscordEmulator",
    "InteractionFault",
    "InteractionRecord",
    "MessageRecord",
    "Option",
    "RequestRecord",
    "UploadedFile",
    "error_for",
]
