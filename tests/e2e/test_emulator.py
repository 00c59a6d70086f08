"""The e2e harness itself: emulator fidelity and the real subprocess launch path.

``TestMinimalBot`` shares one emulator + one ``minimal_bot.py`` process for the
module (they run in the module event loop, see conftest.py).  The other tests get
a fresh emulator each and talk to it the way discord.py would: plain REST calls,
raw gateway connections, or discord.py's own ``DiscordWebSocket`` in-process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
import time
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
import pytest_asyncio
import yarl

from tests.emulator import payloads as P
from tests.emulator.emulator import DiscordEmulator
from tests.emulator.harness import FEATURE_BOT, MINIMAL_BOT

from .testworld import TestWorld

JSON = dict[str, Any]


# --------------------------------------------------------------------------- helpers
class RawGateway:
    """A bare gateway client for protocol-level checks (zlib-stream or plain text)."""

    def __init__(self, http: aiohttp.ClientSession, emu: DiscordEmulator, compress: bool) -> None:
        self.http = http
        self.emu = emu
        self.compress = compress
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.inflator = zlib.decompressobj()
        self.buffer = bytearray()
        self.binary_frames = 0
        self.text_frames = 0

    async def connect(self) -> JSON:
        query = {"v": "10", "encoding": "json"}
        if self.compress:
            query["compress"] = "zlib-stream"
        self.ws = await self.http.ws_connect(str(yarl.URL(self.emu.gateway_url).with_query(query)))
        hello = await self.recv()
        assert hello["op"] == 10
        return hello

    async def send(self, payload: JSON) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(payload))

    async def recv(self, timeout: float = 5.0) -> JSON:
        assert self.ws is not None
        while True:
            msg = await self.ws.receive(timeout)
            if msg.type == aiohttp.WSMsgType.BINARY:
                self.binary_frames += 1
                self.buffer.extend(msg.data)
                if bytes(self.buffer[-4:]) != b"\x00\x00\xff\xff":
                    continue
                text = self.inflator.decompress(bytes(self.buffer)).decode()
                self.buffer.clear()
                return json.loads(text)
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.text_frames += 1
                return json.loads(msg.data)
            return {"closed": self.ws.close_code}

    async def identify(
        self, token: str, intents: int = 513, shard: list[int] | None = None
    ) -> JSON:
        data: JSON = {"token": token, "intents": intents, "properties": {"os": "linux"}}
        if shard is not None:
            data["shard"] = shard
        await self.send({"op": 2, "d": data})
        return await self.recv()

    async def until(self, event: str, timeout: float = 5.0) -> JSON:
        while True:
            frame = await self.recv(timeout)
            if frame.get("t") == event or "closed" in frame:
                return frame

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def api(
    emu: DiscordEmulator,
    method: str,
    path: str,
    *,
    token: str | None = None,
    **kwargs: Any,
) -> tuple[int, str, Any]:
    """One REST call as a bot would make it -> (status, content type header, body)."""
    headers = {"Authorization": f"Bot {token or emu.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, emu.api_base + path, headers=headers, **kwargs) as resp,
    ):
        text = await resp.text()
        body = json.loads(text) if text else None
        return resp.status, resp.headers.get("Content-Type", ""), body


async def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


# --------------------------------------------------------------------------- real bot process
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def minimal(module_emulator: DiscordEmulator, module_start_bot: Any) -> DiscordEmulator:
    """``minimal_bot.py`` launched through ``tests.emulator.launch`` against the module emulator."""
    await module_start_bot(module_emulator, MINIMAL_BOT)
    return module_emulator


@pytest.mark.asyncio(loop_scope="module")
class TestMinimalBot:
    async def test_connects_with_default_intents_and_compression(self, minimal: DiscordEmulator):
        identify = minimal.gateway.identifies[-1]
        assert identify.accepted
        assert identify.payload["intents"] == discord.Intents.default().value
        assert identify.payload["intents"] & P.PRIVILEGED_INTENTS == 0
        assert identify.payload["properties"]["browser"] == "discord.py"
        assert "shard" not in identify.payload
        # discord.py asks for zstd-stream only if it can import a zstd module
        expected = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
        assert identify.compress == expected
        conn = minimal.gateway.session_list[-1].connection
        assert conn is not None and conn.path == "/gateway" and conn.compress == expected
        assert {c["name"] for c in minimal.global_commands.values()} == {"ping", "echo"}
        echo = minimal.find_command("echo", None)
        assert echo is not None and echo["options"][0]["autocomplete"] is True

    async def test_ping_answers_pong_with_response(
        self, minimal: DiscordEmulator, module_world: TestWorld
    ):
        rec = await minimal.slash("ping")
        response = await rec.wait_response()
        assert response["type"] == 4
        assert response["data"]["content"] == "pong"
        assert rec.data["id"] == minimal.find_command("ping", None)["id"]  # type: ignore[index]
        callback = minimal.requests_to("POST", f"/interactions/{rec.id}/")[-1]
        assert callback.query == {"with_response": "1"}
        assert callback.status == 200
        assert callback.response["resource"]["message"]["id"] == rec.message["id"]  # type: ignore[index]
        assert rec.message is not None and rec.message["content"] == "pong"
        assert rec.message["type"] == P.MESSAGE_TYPE_CHAT_INPUT_COMMAND
        assert not rec.ephemeral
        assert rec.message in minimal.channel_messages(module_world.channel)
        assert rec.response_time is not None and 0 < rec.response_time < 1.0

    async def test_autocomplete_answered(self, minimal: DiscordEmulator):
        rec = await minimal.autocomplete("echo", {"text": "RUN"}, focused="text")
        response = await rec.wait_response()
        assert response["type"] == 8
        assert rec.choices == [
            {"name": w, "value": w} for w in ("easy run", "long run", "tempo run")
        ]

    async def test_echo_records_allowed_mentions(
        self, minimal: DiscordEmulator, module_world: TestWorld
    ):
        alice = module_world.member["user"]["id"]
        rec = await minimal.slash("echo", {"text": f"hi <@{alice}> @everyone"})
        message = await rec.wait_message()
        assert message["content"] == f"hi <@{alice}> @everyone"
        assert message["mentions"] == [] and message["mention_everyone"] is False
        assert minimal.message_record(message).allowed_mentions == {"parse": []}

    async def test_op7_reconnect_resumes_at_resume_url(
        self, minimal: DiscordEmulator, module_world: TestWorld
    ):
        session = minimal.gateway.session_list[-1]
        await minimal.gateway.send_reconnect()
        await wait_until(lambda: session.resumes == 1 and session.connection is not None)
        assert session.connection is not None
        assert session.connection.path == "/gateway/resume"
        rec = await minimal.slash("ping", member=module_world.member2)
        assert (await rec.wait_response())["data"]["content"] == "pong"
        assert len(minimal.identifies) == 1  # resumed, not re-identified

    async def test_nothing_unhandled(self, minimal: DiscordEmulator):
        assert minimal.unhandled == []
        assert minimal.limit_violations == []
        assert minimal.error_responses == []


# --------------------------------------------------------------------------- REST fidelity
async def test_rest_limits_are_enforced_and_recorded(emulator: DiscordEmulator, world: TestWorld):
    path = f"/channels/{world.channel['id']}/messages"
    status, ctype, body = await api(
        emulator, "POST", path, json={"embeds": [{"title": "t", "description": "x" * 4097}]}
    )
    assert status == 400
    assert ctype == "application/json"  # exactly: discord.py compares it verbatim
    assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
    assert body["errors"]["embeds"]["0"]["description"]["_errors"] == [
        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 4096 or fewer in length."}
    ]
    assert [(v.field, v.code) for v in emulator.limit_violations] == [
        ("embeds.0.description", "BASE_TYPE_MAX_LENGTH")
    ]
    big = [{"description": "y" * 4000} for _ in range(2)]
    status, _, body = await api(emulator, "POST", path, json={"content": "z" * 2001, "embeds": big})
    assert status == 400
    assert body["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert body["errors"]["embeds"]["_errors"][0]["code"] == "MAX_EMBED_SIZE_EXCEEDED"
    rows = [
        {"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": f"{r}-{i}"}]}
        for r in range(6)
        for i in range(1)
    ]
    status, _, body = await api(emulator, "POST", path, json={"content": "hi", "components": rows})
    assert status == 400 and "components" in body["errors"]
    status, _, body = await api(emulator, "POST", path, json={})
    assert (status, body["code"]) == (400, 50006)
    assert emulator.channel_messages(world.channel) == []


async def test_multipart_upload_like_discord_py(emulator: DiscordEmulator, world: TestWorld):
    form = aiohttp.FormData(quote_fields=False)
    payload = {"content": "route map", "attachments": [{"id": 0, "filename": "route.gpx"}]}
    form.add_field("payload_json", json.dumps(payload), content_type="application/json")
    form.add_field(
        "files[0]", b"<gpx/>", filename="route.gpx", content_type="application/octet-stream"
    )
    path = f"/channels/{world.runs_channel['id']}/messages"
    status, _, message = await api(emulator, "POST", path, data=form)
    assert status == 200
    assert message["content"] == "route map"
    assert message["attachments"][0]["filename"] == "route.gpx"
    assert message["attachments"][0]["size"] == len(b"<gpx/>")
    record = emulator.message_record(message)
    assert record.files[0].data == b"<gpx/>" and record.payloads == [payload]
    status, _, fetched = await api(emulator, "GET", f"{path}/{message['id']}")
    assert status == 200 and fetched == message


async def test_auth_and_unknown_routes(emulator: DiscordEmulator):
    status, ctype, body = await api(emulator, "GET", "/users/@me", token="not-the-token")
    assert (status, ctype, body) == (
        401,
        "application/json",
        {"message": "401: Unauthorized", "code": 0},
    )
    status, _, me = await api(emulator, "GET", "/users/@me")
    assert status == 200 and me["id"] == str(emulator.application_id) and me["bot"] is True
    assert P.application_id_from_token(emulator.token) == emulator.application_id
    status, _, body = await api(emulator, "GET", "/channels/1234567890123456789")
    assert (status, body) == (404, {"message": "Unknown Channel", "code": 10003})
    status, _, body = await api(emulator, "GET", "/no/such/route")
    assert (status, body) == (404, {"message": "404: Not Found", "code": 0})
    assert [r.path for r in emulator.unhandled] == ["/no/such/route"]


async def test_bot_with_bad_token_exits(emulator: DiscordEmulator, start_bot: Any):
    bot = await start_bot(emulator, MINIMAL_BOT, {"DISCORD_TOKEN": "bad.token.value"}, wait=False)
    assert await bot.wait_exit(15) != 0
    assert "LoginFailure" in bot.output()
    assert emulator.requests[-1].status == 401


# --------------------------------------------------------------------------- gateway fidelity
async def test_gateway_bad_token_closes_4004(emulator: DiscordEmulator):
    async with aiohttp.ClientSession() as http:
        gw = RawGateway(http, emulator, compress=False)
        hello = await gw.connect()
        assert hello["d"]["heartbeat_interval"] == 41250
        assert await gw.identify("wrong") == {"closed": 4004}
    assert emulator.gateway.identifies[-1].accepted is False


@pytest.mark.parametrize("compress", [True, False], ids=["compressed", "uncompressed"])
async def test_discord_py_websocket_in_process(
    emulator: DiscordEmulator, world: TestWorld, monkeypatch: pytest.MonkeyPatch, compress: bool
):
    """discord.py's own DiscordWebSocket, with and without transport compression.

    ``Client.connect`` always compresses; ``from_client(compress=False)`` is the only
    way discord.py connects without it, so this drives the websocket directly.
    """
    monkeypatch.setattr(discord.http.Route, "BASE", emulator.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(emulator.gateway_url)
    )
    client = discord.Client(intents=discord.Intents.default())
    await client.login(emulator.token)
    ws = await discord.gateway.DiscordWebSocket.from_client(client, initial=True, compress=compress)
    try:
        guild_id = int(world.guild["id"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while (client.get_guild(guild_id) is None or client.get_guild(guild_id).unavailable) and (
            loop.time() < deadline
        ):
            await ws.poll_event()
        guild = client.get_guild(guild_id)
        assert guild is not None and guild.name == "Test Running Club"
        assert {c.name for c in guild.text_channels} == {"general", "runs"}
        assert client.user is not None and client.user.id == emulator.application_id
        assert ws.session_id == emulator.gateway.session_list[-1].id
        conn = emulator.gateway.connections[-1]
        expected = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE  # zlib or zstd
        assert conn.compress == (expected if compress else None)
        assert conn.frames_sent >= 3  # HELLO, READY, GUILD_CREATE (+ heartbeat ACK)
    finally:
        await ws.close()
        await client.close()


async def test_sharding_splits_guilds(emulator: DiscordEmulator):
    emulator.gateway.shard_count = 2
    for i in range(5):
        emulator.add_guild(f"Club {i}")
    status, _, gw_bot = await api(emulator, "GET", "/gateway/bot")
    assert status == 200 and gw_bot["shards"] == 2 and gw_bot["url"] == emulator.gateway_url
    assert set(gw_bot["session_start_limit"]) == {
        "total",
        "remaining",
        "reset_after",
        "max_concurrency",
    }
    seen: dict[int, set[int]] = {}
    async with aiohttp.ClientSession() as http:
        for shard_id in (0, 1):
            gw = RawGateway(http, emulator, compress=True)
            await gw.connect()
            ready = await gw.identify(emulator.token, shard=[shard_id, 2])
            assert ready["t"] == "READY" and ready["d"]["shard"] == [shard_id, 2]
            assert all(g["unavailable"] for g in ready["d"]["guilds"])
            seen[shard_id] = set()
            for _ in ready["d"]["guilds"]:
                frame = await gw.until("GUILD_CREATE")
                seen[shard_id].add(int(frame["d"]["id"]))
            assert gw.binary_frames > 0 and gw.text_frames == 0
            await gw.close()
    all_ids = set(emulator.world.guilds)
    assert seen[0] | seen[1] == all_ids and not seen[0] & seen[1]
    for shard_id, ids in seen.items():
        assert all((gid >> 22) % 2 == shard_id for gid in ids)


# --------------------------------------------------------------------------- interaction rules
@pytest_asyncio.fixture
async def raw_bot(emulator: DiscordEmulator) -> Any:
    """A raw gateway session standing in for a bot, plus an HTTP session to answer."""
    async with aiohttp.ClientSession() as http:
        gw = RawGateway(http, emulator, compress=True)
        await gw.connect()
        assert (await gw.identify(emulator.token))["t"] == "READY"
        yield gw, http
        await gw.close()


async def callback(
    http: aiohttp.ClientSession, emu: DiscordEmulator, interaction: JSON, body: JSON
) -> tuple[int, Any]:
    url = f"{emu.api_base}/interactions/{interaction['id']}/{interaction['token']}/callback"
    async with http.post(url, json=body, params={"with_response": "1"}) as resp:
        text = await resp.text()
        return resp.status, json.loads(text) if text else None


async def test_interaction_payload_and_callback_rules(
    emulator: DiscordEmulator, world: TestWorld, raw_bot: Any
):
    gw, http = raw_bot
    rec = await emulator.slash("log", {"distance": 5.5, "note": "easy", "laps": 3, "race": False})
    frame = await gw.until("INTERACTION_CREATE")
    inter = frame["d"]
    assert inter == rec.payload
    assert inter["type"] == 2 and inter["version"] == 1 and inter["context"] == 0
    assert inter["member"]["user"]["username"] == "alice"
    assert isinstance(inter["member"]["permissions"], str) and isinstance(
        inter["app_permissions"], str
    )
    assert inter["channel"]["id"] == inter["channel_id"] == world.channel["id"]
    assert [(o["name"], o["type"]) for o in inter["data"]["options"]] == [
        ("distance", 10),
        ("note", 3),
        ("laps", 4),
        ("race", 5),
    ]
    status, body = await callback(http, emulator, inter, {"type": 4, "data": {"content": "logged"}})
    assert status == 200
    assert body["interaction"]["response_message_id"] == rec.message["id"]  # type: ignore[index]
    assert body["resource"]["type"] == 4 and body["resource"]["message"]["content"] == "logged"
    status, body = await callback(http, emulator, inter, {"type": 4, "data": {"content": "again"}})
    assert (status, body["code"]) == (400, 40060)
    bogus = {**inter, "token": "nope"}
    status, body = await callback(http, emulator, bogus, {"type": 4, "data": {"content": "x"}})
    assert (status, body["code"]) == (404, 10062)

    # deferred: the first followup replaces the "thinking" message (and keeps its flags)
    rec = await emulator.slash("log", {"note": "tempo"}, member=world.member2)
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    status, body = await callback(http, emulator, inter, {"type": 5})
    assert status == 200 and body["interaction"]["response_message_loading"] is True
    assert rec.message is None
    url = f"{emulator.api_base}/webhooks/{emulator.application_id}/{inter['token']}"
    async with http.post(url, params={"wait": "1"}, json={"content": "done", "flags": 64}) as resp:
        followup = await resp.json()
    assert followup["id"] == body["interaction"]["response_message_id"]
    assert (await rec.wait_message())["content"] == "done"
    assert rec.ephemeral is False and rec.followups == []

    # too late: past the 3 s deadline the interaction is gone
    emulator.interaction_deadline = 0.05
    rec = await emulator.slash("log", {"note": "slow"})
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    await asyncio.sleep(0.1)
    status, body = await callback(http, emulator, inter, {"type": 4, "data": {"content": "late"}})
    assert (status, body["code"]) == (404, 10062)
    assert rec.response is None and rec.rejected[0][0] == 404


async def test_autocomplete_limits_and_components(
    emulator: DiscordEmulator, world: TestWorld, raw_bot: Any
):
    gw, http = raw_bot
    await emulator.autocomplete("log", {"note": "ea"}, focused="note")
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    assert inter["type"] == 4 and inter["data"]["options"][0]["focused"] is True
    choices = [{"name": f"c{i}", "value": f"v{i}"} for i in range(26)]
    status, body = await callback(http, emulator, inter, {"type": 8, "data": {"choices": choices}})
    assert (status, body["code"]) == (400, 50035)
    assert body["errors"]["data"]["choices"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert emulator.limit_violations[-1].field == "data.choices"

    # an ephemeral message with a button, clicked, answered with UPDATE_MESSAGE
    await emulator.slash("menu")
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    row = {"type": 1, "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": "go"}]}
    data = {"content": "pick", "flags": 64, "components": [row]}
    status, body = await callback(http, emulator, inter, {"type": 4, "data": data})
    assert status == 200 and body["interaction"]["response_message_ephemeral"] is True
    menu = body["resource"]["message"]
    assert menu["flags"] & 64 and menu["components"][0]["components"][0]["custom_id"] == "go"
    assert emulator.channel_messages(world.channel) == []  # ephemeral: not in history
    click = await emulator.click(menu, "go")
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    assert inter["type"] == 3 and inter["data"] == {"custom_id": "go", "component_type": 2, "id": 2}
    assert inter["message"]["id"] == menu["id"] and inter["message"]["flags"] & 64
    status, body = await callback(
        http, emulator, inter, {"type": 7, "data": {"content": "gone", "components": []}}
    )
    assert status == 200 and body["resource"]["message"]["id"] == menu["id"]
    assert click.message is not None and click.message["content"] == "gone" and click.ephemeral
    assert emulator.unhandled == []


# --------------------------------------------------------------------------- discord.py flows
async def test_feature_bot_flows(emulator: DiscordEmulator, world: TestWorld, start_bot: Any):
    """Views, modals, deferrals, followups, DMs, files and REST round trips via discord.py."""
    emu = emulator
    await start_bot(emu, FEATURE_BOT, {"GUILD_ID": world.guild["id"]})
    assert {c["name"] for c in emu.guild_commands[int(world.guild["id"])].values()} == {
        "plan",
        "club",
    }

    menu = await emu.slash("menu")
    assert (await menu.wait_response())["data"]["flags"] == 64 and menu.ephemeral
    picked = await emu.select(menu.message, "pace", ["hard"])
    assert (await picked.wait_response())["data"]["content"] == "pace hard"
    went = await emu.click(menu.message, "go")
    assert (await went.wait_response())["type"] == 7
    assert went.message["content"] == "went" and went.message["components"] == []  # type: ignore[index]
    with pytest.raises(ValueError, match="no component"):
        await emu.click(went.message, "go")  # the view was removed

    slow = await emu.slash("slow")
    assert (await slow.wait_response())["type"] == 5
    second = await slow.wait_followup(1)
    # the first followup replaced the public "thinking" message, so it is NOT ephemeral
    assert slow.message["content"] == "edited" and not slow.ephemeral  # type: ignore[index]
    assert second["content"] == "second" and second["flags"] & 64

    form = await emu.slash("form")
    await form.wait_response()
    assert form.modal is not None and form.modal["title"] == "Log a run"
    submitted = await emu.submit_modal(form, {"distance": "10k"})
    assert (await submitted.wait_response())["data"]["content"] == "got 10k"

    dm = await emu.slash("dm")
    await dm.wait_response()
    dm_messages = emu.channel_messages(emu.dm_channel(world.member))
    assert [m["content"] for m in dm_messages] == ["hello in dm"]

    toolong = await emu.slash("toolong")
    await wait_until(lambda: emu.limit_violations)
    assert emu.limit_violations[0].field == "data.content" and toolong.response is None

    upload = await emu.slash("file")
    await upload.wait_response()
    assert upload.message["attachments"][0]["filename"] == "a.txt"  # type: ignore[index]
    assert emu.message_record(upload.message).files[0].data == b"hello"

    post = await emu.slash("post")
    assert (await post.wait_message())["content"] == "ok posted2 alice"
    assert emu.world.reactions[-1][2] == "\N{THUMBS UP SIGN}"
    posted = [r for r in emu.world.messages.values() if r.payloads[0].get("content") == "posted"]
    await wait_until(lambda: posted[0].deleted)  # the bot deletes it right after answering
    assert posted[0].payloads[1]["content"] == "posted2" and posted[0].allowed_mentions is None

    plan = await emu.slash("plan", {"laps": 3, "who": world.member2, "where": world.runs_channel})
    assert (await plan.wait_response())["data"]["content"] == "3 bob runs 1.0"
    assert plan.data["guild_id"] == world.guild["id"]

    with pytest.raises(PermissionError):
        await emu.slash("club", group="members", subcommand="count", member=world.member)
    count = await emu.slash("club", group="members", subcommand="count", member=world.admin)
    assert count.data["options"][0]["options"][0] == {"type": 1, "name": "count", "options": []}
    total = len(emu.world.guild(world.guild).members)  # owner, bot, coach, alice, bob
    assert (await count.wait_response())["data"]["content"] == f"{total} members"

    assert emu.unhandled == []
    assert [r.status for r in emu.error_responses] == [400]  # only /toolong


async def test_user_messages_and_deferred_update(
    emulator: DiscordEmulator, world: TestWorld, raw_bot: Any
):
    gw, http = raw_bot  # intents 513 = GUILDS | GUILD_MESSAGES, no MESSAGE_CONTENT
    await emulator.user_message("10k done!")
    frame = await gw.until("MESSAGE_CREATE")
    assert frame["d"]["author"]["username"] == "alice" and frame["d"]["content"] == ""
    await emulator.user_message(f"<@{emulator.application_id}> hi", member=world.member2)
    frame = await gw.until("MESSAGE_CREATE")
    assert frame["d"]["content"].endswith("hi")  # mentioning the bot reveals content
    assert frame["d"]["member"]["roles"] and frame["d"]["guild_id"] == world.guild["id"]

    # a button clicked, acknowledged with DEFERRED_UPDATE_MESSAGE, then @original edited
    path = f"/channels/{world.channel['id']}/messages"
    row = {"type": 1, "components": [{"type": 2, "style": 3, "label": "Join", "custom_id": "join"}]}
    status, _, message = await api(
        emulator, "POST", path, json={"content": "run?", "components": [row]}
    )
    assert status == 200
    rec = await emulator.click(message, "join", member=world.member2)
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    status, body = await callback(http, emulator, inter, {"type": 6})
    assert status == 200 and "resource" not in body
    waiter = asyncio.ensure_future(rec.wait_message(2))
    await asyncio.sleep(0.05)
    assert not waiter.done()  # deferred: nothing to show yet
    webhook = f"{emulator.api_base}/webhooks/{emulator.application_id}/{inter['token']}"
    url = f"{webhook}/messages/@original"
    async with http.patch(url, json={"content": "run? (1 going)"}) as resp:
        assert resp.status == 200
    edited = await waiter
    assert edited["id"] == message["id"] and edited["content"] == "run? (1 going)"
    assert edited["edited_timestamp"] is not None
    assert emulator.channel_messages(world.channel)[-1] == edited


# --------------------------------------------------------------------------- rate limits
async def _request(
    http: aiohttp.ClientSession,
    emu: DiscordEmulator,
    method: str,
    path: str,
    *,
    auth: bool = True,
    **kwargs: Any,
) -> tuple[int, dict[str, str], Any]:
    """(status, response headers, body: JSON, text or None) on a shared session."""
    headers = {"Authorization": f"Bot {emu.token}"} if auth else {}
    async with http.request(method, emu.api_base + path, headers=headers, **kwargs) as resp:
        text = await resp.text()
        if resp.content_type == "application/json":
            return resp.status, dict(resp.headers), json.loads(text)
        return resp.status, dict(resp.headers), text or None


def _messages_path(channel: Any) -> str:
    return f"/channels/{P.snowflake_of(channel)}/messages"


async def test_global_rate_limit_answers_like_discord(emulator: DiscordEmulator):
    emulator.global_rate_limit = 3
    async with aiohttp.ClientSession() as http:
        results = await asyncio.gather(
            *(_request(http, emulator, "GET", "/users/@me") for _ in range(5))
        )
        assert sorted(status for status, _, _ in results) == [200, 200, 200, 429, 429]
        _, headers, body = next(r for r in results if r[0] == 429)
        assert headers["X-RateLimit-Global"] == "true"
        assert headers["X-RateLimit-Scope"] == "global"
        assert headers["Content-Type"] == "application/json" and headers["Via"]
        assert body["message"] == "You are being rate limited." and body["global"] is True
        assert set(body) == {"message", "retry_after", "global"}
        assert 0 < body["retry_after"] <= 1.0
        assert headers["Retry-After"] == str(math.ceil(body["retry_after"]))
        assert "X-RateLimit-Bucket" not in headers
        # interaction callbacks and interaction webhooks are exempt (they reach their
        # handlers and fail for another reason), bot requests are still limited
        status, _, body = await _request(
            http, emulator, "POST", "/interactions/1/nope/callback", auth=False, json={"type": 1}
        )
        assert (status, body["code"]) == (404, 10062)
        webhook = f"/webhooks/{emulator.application_id}/nope"
        status, _, body = await _request(
            http, emulator, "POST", webhook, auth=False, json={"content": "x"}
        )
        assert (status, body["code"]) == (404, 10015)
        status, _, _ = await _request(http, emulator, "GET", "/users/@me")
        assert status == 429
        # limits change at run time
        emulator.global_rate_limit = None
        status, headers, _ = await _request(http, emulator, "GET", "/users/@me")
        assert status == 200 and "X-RateLimit-Global" not in headers
    assert [r.rate_limit_scope for r in emulator.rate_limited] == ["global"] * 3
    assert emulator.invalid_requests == 3


async def test_channel_message_bucket_headers(emulator: DiscordEmulator, world: TestWorld):
    emulator.channel_message_limit = (2, 1.0)
    general, runs = world.channel, world.runs_channel
    async with aiohttp.ClientSession() as http:

        async def post(channel: Any, content: str) -> tuple[int, dict[str, str], Any]:
            path = _messages_path(channel)
            return await _request(http, emulator, "POST", path, json={"content": content})

        status, h1, _ = await post(general, "a")
        assert status == 200
        assert (h1["X-RateLimit-Limit"], h1["X-RateLimit-Remaining"]) == ("2", "1")
        reset_after = float(h1["X-RateLimit-Reset-After"])
        assert 0.8 < reset_after <= 1.0
        assert abs(float(h1["X-RateLimit-Reset"]) - (time.time() + reset_after)) < 0.2
        assert re.fullmatch(r"[0-9a-f]{32}", h1["X-RateLimit-Bucket"])
        assert "X-RateLimit-Scope" not in h1 and "Retry-After" not in h1
        status, h2, _ = await post(general, "b")
        assert (status, h2["X-RateLimit-Remaining"]) == (200, "0")
        status, h3, body = await post(general, "c")
        assert status == 429
        assert h3["X-RateLimit-Scope"] == "user" and "X-RateLimit-Global" not in h3
        assert h3["X-RateLimit-Remaining"] == "0" and h3["Retry-After"] == "1"
        assert h3["X-RateLimit-Bucket"] == h1["X-RateLimit-Bucket"]
        assert body == {
            "message": "You are being rate limited.",
            "retry_after": float(h3["X-RateLimit-Reset-After"]),
            "global": False,
        }
        # the bucket is per channel (major parameter); the hash is per route
        status, h4, _ = await post(runs, "other channel")
        assert (status, h4["X-RateLimit-Remaining"]) == (200, "1")
        assert h4["X-RateLimit-Bucket"] == h1["X-RateLimit-Bucket"]
        # other routes carry no bucket headers
        status, h5, _ = await _request(http, emulator, "GET", "/users/@me")
        assert status == 200 and "X-RateLimit-Limit" not in h5
        await asyncio.sleep(body["retry_after"])
        status, h6, _ = await post(general, "d")
        assert (status, h6["X-RateLimit-Remaining"]) == (200, "1")  # a whole new window
        emulator.channel_message_limit = None  # run-time change
        status, h7, _ = await post(general, "e")
        assert status == 200 and "X-RateLimit-Limit" not in h7
    contents = [m["content"] for m in emulator.channel_messages(general)]
    assert contents == ["a", "b", "d", "e"]
    assert [r.rate_limit_scope for r in emulator.rate_limited] == ["user"]
    assert emulator.rate_limited[0].route == "POST /channels/{channel_id}/messages"
    assert emulator.invalid_requests == 1


async def test_paced_fan_out_under_discord_limits_earns_no_429(emulator: DiscordEmulator):
    """40 reminder DMs paced at 40/s under Discord's real limits: no 429; unpaced: 429s."""
    emulator.discord_rate_limits()
    assert (emulator.global_rate_limit, emulator.channel_message_limit) == (50, (5, 5.0))
    users = [emulator.add_user(f"runner{i}") for i in range(40)]
    channels = [emulator.dm_channel(u) for u in users]
    loop = asyncio.get_running_loop()
    due = time.time()
    async with aiohttp.ClientSession() as http:
        start = loop.time()

        async def send(i: int) -> int:
            await asyncio.sleep(max(0.0, start + i / 40 - loop.time()))
            body = {"content": f"reminder {i}", "nonce": f"rem-{i}", "enforce_nonce": True}
            status, _, _ = await _request(
                http, emulator, "POST", _messages_path(channels[i]), json=body
            )
            return status

        statuses = await asyncio.gather(*(send(i) for i in range(40)))
        assert statuses == [200] * 40 and emulator.rate_limited == []
        posts = emulator.channel_posts
        assert len(posts) == 40
        assert max(p.created_wall for p in posts) - due < 2.0
        for post in posts:
            request = next(r for r in emulator.requests if r.json == post.payloads[0])
            assert request.answered_at is not None
            assert request.time <= post.created_at <= request.answered_at
        assert emulator.channel_message_records(channels[0]) == [posts[0]]

        # the same fan-out without pacing: 50 accepted in the second, the rest refused
        emulator.reset_rate_limits()
        results = await asyncio.gather(
            *(_request(http, emulator, "GET", "/users/@me") for _ in range(60))
        )
        assert sorted(status for status, _, _ in results) == [200] * 50 + [429] * 10
    assert {r.rate_limit_scope for r in emulator.rate_limited} == {"global"}


async def test_discord_py_retries_429s_and_honours_bucket_headers(
    emulator: DiscordEmulator, world: TestWorld, dpy: discord.Client
):
    emu = emulator
    channel = dpy.get_channel(int(world.channel["id"]))
    assert isinstance(channel, discord.TextChannel)
    loop = asyncio.get_running_loop()

    # someone else emptied the channel's bucket: discord.py's first send earns a 429,
    # sleeps retry_after and resends the same payload (same nonce) successfully
    emu.channel_message_limit = (3, 0.5)
    async with aiohttp.ClientSession() as http:
        for i in range(3):
            body = {"content": f"other {i}"}
            assert (await _request(http, emu, "POST", _messages_path(channel), json=body))[0] == 200
    start = loop.time()
    first = await channel.send("after a 429")
    assert loop.time() - start > 0.3
    assert [r.rate_limit_scope for r in emu.rate_limited] == ["user"]
    retried = [r for r in emu.requests_to("POST", _messages_path(channel)) if r.json]
    assert retried[-1].json["nonce"] == retried[-2].json["nonce"] == str(first.nonce)
    assert retried[-1].json["enforce_nonce"] is True  # discord.py always sends one

    # now discord.py knows the bucket (hash + Reset-After): a burst of 7 is paced by
    # the client itself, in windows of 3, without another 429
    start = loop.time()
    sent = await asyncio.gather(*(channel.send(f"burst {i}") for i in range(7)))
    assert len(emu.rate_limited) == 1
    assert loop.time() - start > 0.8  # 2 + 3 + 2: two client-side waits for the reset
    contents = [m["content"] for m in emu.channel_messages(channel)]
    assert contents[:4] == ["other 0", "other 1", "other 2", "after a 429"]
    assert sorted(contents[4:]) == sorted(m.content for m in sent)

    # global limit: discord.py stops, sleeps retry_after, and every call succeeds
    emu.channel_message_limit = None
    emu.global_rate_limit = 4
    uid = int(world.member["user"]["id"])
    users = await asyncio.gather(*(dpy.fetch_user(uid) for _ in range(6)))
    assert {u.name for u in users} == {"alice"}
    assert [r.rate_limit_scope for r in emu.rate_limited][1:2] == ["global"]
    assert emu.unhandled == [] and dpy.is_closed() is False


async def test_message_nonce_is_enforced(emulator: DiscordEmulator, world: TestWorld):
    general, runs = world.channel, world.runs_channel
    async with aiohttp.ClientSession() as http:

        async def post(channel: Any, body: JSON) -> tuple[int, dict[str, str], Any]:
            return await _request(http, emulator, "POST", _messages_path(channel), json=body)

        body = {"content": "run at 7", "nonce": "remind-42", "enforce_nonce": True}
        status, _, first = await post(general, body)
        assert status == 200 and first["nonce"] == "remind-42"
        status, _, again = await post(general, body)
        assert status == 200 and again == first
        assert [m["id"] for m in emulator.channel_messages(general)] == [first["id"]]
        assert len(emulator.nonce_hits) == 1
        # same nonce without enforce_nonce, or in another channel: a new message
        status, _, loose = await post(general, {**body, "enforce_nonce": False})
        assert status == 200 and loose["id"] != first["id"]
        status, _, elsewhere = await post(runs, body)
        assert status == 200 and elsewhere["id"] != first["id"]
        # integer nonces are fine; strings are at most 25 characters
        status, _, numeric = await post(general, {**body, "nonce": 2**62})
        assert status == 200 and numeric["nonce"] == 2**62
        status, _, error = await post(general, {**body, "nonce": "n" * 26})
        assert (status, error["code"]) == (400, 50035)
        assert error["errors"]["nonce"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
        # a deleted message's nonce: 404 Unknown Message (discord.py documents NotFound)
        status, _, _ = await _request(
            http, emulator, "DELETE", f"{_messages_path(runs)}/{elsewhere['id']}"
        )
        assert status == 204
        status, _, error = await post(runs, body)
        assert (status, error["code"]) == (404, 10008)
        # after nonce_ttl (Discord: a few minutes) the nonce may be used again
        emulator.nonce_ttl = 0.0
        status, _, later = await post(general, body)
        assert status == 200 and later["id"] != first["id"]
        # a lost answer: the message was created, the edge said 502; the retry with the
        # same nonce gets the message instead of a duplicate
        emulator.nonce_ttl = 300.0
        fault = emulator.fail_channel(runs, 502, times=1, after_create=True)
        lost = {"content": "lost", "nonce": "lost-1", "enforce_nonce": True}
        status, headers, text = await post(runs, lost)
        assert status == 502 and headers["Content-Type"].startswith("text/html")
        assert "502 Bad Gateway" in text and fault.hits == 1
        status, _, found = await post(runs, lost)
        assert status == 200 and found["content"] == "lost"
        assert [m["content"] for m in emulator.channel_messages(runs)] == ["lost"]
    assert len(emulator.nonce_hits) == 3


async def test_send_fault_switches(emulator: DiscordEmulator, world: TestWorld):
    general, runs = world.channel, world.runs_channel
    uid = int(world.member["user"]["id"])
    async with aiohttp.ClientSession() as http:

        async def post(channel: Any, content: str = "hi") -> tuple[int, dict[str, str], Any]:
            path = _messages_path(channel)
            return await _request(http, emulator, "POST", path, json={"content": content})

        cases: list[tuple[tuple[Any, ...], Any]] = [
            ((403,), {"message": "Missing Access", "code": 50001}),
            ((403, 50013), {"message": "Missing Permissions", "code": 50013}),
            ((404,), {"message": "Unknown Channel", "code": 10003}),
            ((500,), {"message": "500: Internal Server Error", "code": 0}),
            ((400, 50035, "Invalid Form Body"), {"message": "Invalid Form Body", "code": 50035}),
        ]
        for args, expected in cases:
            emulator.fail_channel(general, *args)
            status, headers, body = await post(general)
            assert (status, body) == (args[0], expected)
            assert headers["Content-Type"] == "application/json"
            emulator.clear_faults()
        emulator.fail_channel(general, 503)
        status, headers, text = await post(general)
        assert status == 503 and headers["Content-Type"].startswith("text/plain")
        assert text.startswith("upstream connect error")
        emulator.clear_faults(general)
        fault = emulator.fail_channel(general, 504, times=2)
        assert [(await post(general))[0] for _ in range(3)] == [504, 504, 200]
        assert fault.hits == 2 and fault.exhausted
        assert (await post(runs))[0] == 200  # other channels are unaffected
        assert len(emulator.channel_messages(general)) == 1

        # closed DMs: opening the DM channel works, sending does not
        emulator.close_dms(world.member)
        status, _, dm = await _request(
            http, emulator, "POST", "/users/@me/channels", json={"recipient_id": str(uid)}
        )
        assert status == 200 and dm["type"] == 1 and dm["recipients"][0]["id"] == str(uid)
        status, _, body = await post(dm)
        assert (status, body) == (
            403,
            {"message": "Cannot send messages to this user", "code": 50007},
        )
        emulator.open_dms(world.member)
        assert (await post(dm))[0] == 200
        assert emulator.dm_channel_creates == 1 and emulator.dm_channel_creates_by_user[uid] == 1

        # the bot loses SEND_MESSAGES in a channel
        emulator.remove_send_permission(runs)
        status, _, body = await post(runs)
        assert (status, body) == (403, {"message": "Missing Permissions", "code": 50013})
        emulator.restore_send_permission(runs)
        assert (await post(runs))[0] == 200

        # a deleted channel
        emulator.delete_channel(runs)
        status, _, body = await post(runs)
        assert (status, body) == (404, {"message": "Unknown Channel", "code": 10003})
        assert [m["content"] for m in emulator.channel_messages(runs)] == ["hi", "hi"]

        # slow answers (the request is handled on arrival, the answer is late)
        emulator.slow_responses(0.2)
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert (await post(general))[0] == 200
        assert loop.time() - start >= 0.2
        emulator.slow_responses(0)
    statuses = [r.status for r in emulator.invalid_request_records]
    assert statuses == [403, 403, 403, 403]  # 401/403/429 count, 404/5xx do not
    assert emulator.rate_limited == []


async def test_discord_py_sees_send_faults_and_channel_delete(
    emulator: DiscordEmulator, world: TestWorld, dpy: discord.Client
):
    emu = emulator
    general = dpy.get_channel(int(world.channel["id"]))
    runs = dpy.get_channel(int(world.runs_channel["id"]))
    assert isinstance(general, discord.TextChannel) and isinstance(runs, discord.TextChannel)

    # CHANNEL_UPDATE with the bot's overwrite reaches the cache; the send is refused
    emu.remove_send_permission(runs)
    await wait_until(lambda: not runs.permissions_for(runs.guild.me).send_messages)
    with pytest.raises(discord.Forbidden) as forbidden:
        await runs.send("nope")
    assert forbidden.value.code == 50013

    # DMs closed: discord.py opens the DM channel once, then gets 50007 every time
    emu.close_dms(world.member)
    user = await dpy.fetch_user(int(world.member["user"]["id"]))
    for _ in range(2):
        with pytest.raises(discord.Forbidden) as forbidden:
            await user.send("your run is due")
        assert forbidden.value.code == 50007
    assert emu.dm_channel_creates == 1

    # a 5xx after the message was created: discord.py retries (1 s later) with the same
    # nonce and gets the created message back: exactly one message
    emu.fail_channel(general, 500, times=1, after_create=True)
    message = await general.send("exactly once")
    assert [m["content"] for m in emu.channel_messages(general)] == ["exactly once"]
    assert emu.channel_messages(general)[0]["id"] == str(message.id)
    assert len(emu.nonce_hits) == 1

    # CHANNEL_DELETE reaches the bot; later sends raise NotFound 10003
    deleted: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def on_guild_channel_delete(channel: Any) -> None:
        deleted.set_result(channel)

    dpy.on_guild_channel_delete = on_guild_channel_delete  # type: ignore[attr-defined]
    emu.delete_channel(general)
    assert (await asyncio.wait_for(deleted, 5)).id == general.id
    assert dpy.get_channel(general.id) is None
    with pytest.raises(discord.NotFound) as not_found:
        await general.send("into the void")
    assert not_found.value.code == 10003
    assert emu.unhandled == []


# --------------------------------------------------------------------------- time on Discord's side
async def test_advance_is_time_that_passed_at_discord(
    emulator: DiscordEmulator, world: TestWorld, raw_bot: Any
):
    gw, http = raw_bot
    general, runs = world.channel, world.runs_channel

    async def post(channel: Any, body: JSON) -> tuple[int, dict[str, str], Any]:
        return await _request(http, emulator, "POST", _messages_path(channel), json=body)

    body = {"content": "long run sunday", "nonce": "sun-7", "enforce_nonce": True}
    status, _, first = await post(general, body)
    assert status == 200
    emulator.advance(120)
    status, _, again = await post(general, body)
    assert (status, again) == (200, first)  # 120 s: the nonce is still remembered
    emulator.advance(600)
    status, _, later = await post(general, body)
    assert status == 200 and later["id"] != first["id"]  # 720 s: forgotten, a new message
    assert [m["id"] for m in emulator.channel_messages(general)] == [first["id"], later["id"]]
    assert len(emulator.nonce_hits) == 1 and emulator.clock.offset == 720

    # what the emulator stamps follows its clock; perf_counter() latency fields stay real
    now = time.time()
    assert -5 < P.snowflake_time(first["id"]) - now <= 0
    assert 719 < P.snowflake_time(later["id"]) - now <= 720.01
    assert 719 < dt.datetime.fromisoformat(later["timestamp"]).timestamp() - now <= 720.01
    assert 719 < emulator.channel_posts[-1].created_wall - now <= 720.01
    request = emulator.requests[-1]
    assert 719 < request.wall_time - now <= 720.01
    assert request.answered_at is not None and 0 <= request.answered_at - request.time < 1.0

    # interactions: past the 3 s deadline, and past the token's 15 minutes
    await emulator.slash("log", {"note": "late"})
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    emulator.advance(5)
    status, error = await callback(http, emulator, inter, {"type": 5})
    assert (status, error["code"]) == (404, 10062)
    await emulator.slash("log", {"note": "slow"})
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    assert (await callback(http, emulator, inter, {"type": 5}))[0] == 200
    emulator.advance(emulator.interaction_token_ttl)
    original = f"/webhooks/{emulator.application_id}/{inter['token']}/messages/@original"
    status, _, error = await _request(
        http, emulator, "PATCH", original, auth=False, json={"content": "done"}
    )
    assert (status, error["code"]) == (401, 50027)

    # rate-limit windows run on the same clock
    emulator.channel_message_limit = (1, 60.0)
    assert (await post(runs, {"content": "a"}))[0] == 200
    assert (await post(runs, {"content": "b"}))[0] == 429
    emulator.advance(60)
    status, headers, _ = await post(runs, {"content": "c"})
    assert status == 200
    reset = time.time() + emulator.clock.offset + float(headers["X-RateLimit-Reset-After"])
    assert abs(float(headers["X-RateLimit-Reset"]) - reset) < 0.5
    assert emulator.invalid_requests == 2 and emulator.invalid_requests_within(60) == 0  # 401, 429
    with pytest.raises(ValueError):
        emulator.advance(-1)


CLOCK_PROBE = """\
import asyncio, datetime as dt, json, time

async def main():
    loop = asyncio.get_running_loop()
    start_loop, start_wall = loop.time(), time.time()
    await asyncio.sleep(0.3)
    print(json.dumps({
        "time": time.time(),
        "now": dt.datetime.now(dt.timezone.utc).timestamp(),
        "utcnow": dt.datetime.utcnow().replace(tzinfo=dt.timezone.utc).timestamp(),
        "today": dt.date.today().isoformat(),
        "monotonic": time.monotonic(),
        "slept_loop": loop.time() - start_loop,
        "slept_wall": time.time() - start_wall,
    }))

asyncio.run(main())
"""


async def test_launch_clock_offset_shifts_only_the_wall_clock(
    emulator: DiscordEmulator, start_bot: Any, tmp_path: Path
):
    script = tmp_path / "clock_probe.py"
    script.write_text(CLOCK_PROBE)
    before, mono_before = time.time(), time.monotonic()
    proc = await start_bot(emulator, script, clock_offset=600, wait=False)
    assert await proc.wait_exit(30) == 0, proc.output()
    after, mono_after = time.time(), time.monotonic()
    assert proc.popen.args[proc.popen.args.index("--clock-offset") + 1] == "600.0"  # type: ignore[union-attr]
    seen = json.loads(proc.output().strip().splitlines()[-1])
    for key in ("time", "now", "utcnow"):
        assert before + 599.5 < seen[key] < after + 600.5, (key, seen[key] - after)
    assert seen["today"] == dt.date.fromtimestamp(seen["time"]).isoformat()
    # monotonic time is the real one (same clock as this process), sleeps take real time
    assert mono_before < seen["monotonic"] < mono_after
    assert 0.3 <= seen["slept_loop"] < 5 and 0.29 < seen["slept_wall"] < 5


async def test_hang_after_create_creates_but_never_answers(
    emulator: DiscordEmulator, world: TestWorld, raw_bot: Any
):
    gw, http = raw_bot
    runs = world.runs_channel
    fault = emulator.hang_after_create(runs)
    body = {"content": "tempo tuesday", "nonce": "tue-1", "enforce_nonce": True}
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5)) as impatient:
        with pytest.raises(TimeoutError):
            await _request(impatient, emulator, "POST", _messages_path(runs), json=body)
    assert loop.time() - start >= 0.5 and fault.hits == 1
    hung = emulator.requests[-1]
    assert hung.status is None and hung.answered_at is None
    [message] = emulator.channel_messages(runs)
    assert emulator.channel_posts[-1].message is message
    assert (await gw.until("MESSAGE_CREATE"))["d"]["id"] == message["id"]

    # the send did happen: GET finds it, and the retry with the same nonce returns it
    path = f"{_messages_path(runs)}/{message['id']}"
    status, _, found = await _request(http, emulator, "GET", path)
    assert status == 200 and found["content"] == "tempo tuesday"
    status, _, again = await _request(http, emulator, "POST", _messages_path(runs), json=body)
    assert status == 200 and again["id"] == message["id"]
    assert len(emulator.nonce_hits) == 1 and len(emulator.channel_messages(runs)) == 1

    # a request held when the emulator stops is cut off, and stop() does not wait for it
    emulator.clear_faults()
    emulator.hang_after_create(runs, times=None)
    pending = asyncio.ensure_future(
        _request(http, emulator, "POST", _messages_path(runs), json={"content": "x"})
    )
    await wait_until(lambda: len(emulator.channel_messages(runs)) == 2)
    await asyncio.wait_for(emulator.stop(), 5)
    with pytest.raises(aiohttp.ClientConnectionError):
        await pending


# --------------------------------------------------------------------------- message history
async def test_history_pages_like_discord_for_discord_py(
    emulator: DiscordEmulator, world: TestWorld, dpy: discord.Client
):
    emu = emulator
    old = discord.Object(emu.ids.next(time.time() - 3600))  # an id from an hour ago
    ids = [int((await emu.user_message(f"run {i}"))["id"]) for i in range(250)]
    channel = dpy.get_channel(int(world.channel["id"]))
    assert isinstance(channel, discord.TextChannel)

    oldest_first = [m async for m in channel.history(limit=None, after=old, oldest_first=True)]
    assert [m.id for m in oldest_first] == ids
    assert oldest_first[7].content == "run 7"  # Message Content is on in the portal
    pages = [r.query for r in emu.requests_to("GET", _messages_path(channel))]
    assert pages[:3] == [
        {"limit": "100", "after": str(old.id)},
        {"limit": "100", "after": str(ids[99])},
        {"limit": "100", "after": str(ids[199])},
    ]
    middle = [m.id async for m in channel.history(limit=120, after=discord.Object(ids[99]))]
    assert middle == ids[100:220]
    newest_first = [m.id async for m in channel.history(limit=None)]
    assert newest_first == ids[::-1]
    around = [m.id async for m in channel.history(limit=5, around=discord.Object(ids[30]))]
    assert around == ids[32:27:-1]
    assert emu.error_responses == [] and emu.limit_violations == []


async def test_history_query_rules_and_permissions(emulator: DiscordEmulator, world: TestWorld):
    emu = emulator
    general = world.channel
    ids = [(await emu.user_message(f"m{i}"))["id"] for i in range(60)]
    async with aiohttp.ClientSession() as http:

        async def history(**query: str) -> tuple[int, Any]:
            status, _, body = await _request(
                http, emu, "GET", _messages_path(general), params=query
            )
            return status, [m["id"] for m in body] if status == 200 else body

        assert await history() == (200, ids[:-51:-1])  # default 50, newest first
        assert await history(limit="100", before=ids[10]) == (200, ids[9::-1])
        assert await history(limit="5", after=ids[10]) == (200, ids[15:10:-1])
        assert await history(limit="1", after=ids[-1]) == (200, [])
        assert await history(limit="5", around=ids[30]) == (200, ids[32:27:-1])
        for limit, code in (("0", "NUMBER_TYPE_MIN"), ("101", "NUMBER_TYPE_MAX"),
                            ("ten", "NUMBER_TYPE_COERCE")):
            status, error = await history(limit=limit)
            assert (status, error["code"], error["message"]) == (400, 50035, "Invalid Form Body")
            assert error["errors"]["limit"]["_errors"][0]["code"] == code
        status, error = await history(before=ids[5], after=ids[1])
        assert (status, error["code"]) == (400, 50035)
        assert set(error["errors"]) == {"before", "after"}
        status, error = await history(after="soon")
        assert error["errors"]["after"]["_errors"][0]["code"] == "NUMBER_TYPE_COERCE"
        assert [v.field for v in emu.limit_violations][:3] == ["limit"] * 3

        # Discord: VIEW_CHANNEL is required; without READ_MESSAGE_HISTORY the list is empty
        bot = emu.world.bot_id
        emu.set_permission_overwrite(general, bot, deny=P.READ_MESSAGE_HISTORY, kind=1)
        assert await history() == (200, [])
        emu.set_permission_overwrite(general, bot, deny=P.VIEW_CHANNEL, kind=1)
        assert await history() == (403, {"message": "Missing Access", "code": 50001})


async def test_history_hides_content_without_the_intent(
    emulator: DiscordEmulator, world: TestWorld
):
    emu = emulator
    emu.privileged_intents = P.INTENT_GUILD_MEMBERS  # Message Content off in the portal
    general, bot = world.channel, emu.world.bot_id
    row = {"type": 1, "components": [{"type": 2, "style": 1, "label": "Going", "custom_id": "go"}]}
    plan = {"content": "run at 7", "embeds": [{"title": "Plan"}], "components": [row]}
    async with aiohttp.ClientSession() as http:
        status, _, own = await _request(http, emu, "POST", _messages_path(general), json=plan)
        assert status == 200
        other = await emu.user_message("I'll be late")
        mention = await emu.user_message(f"<@{bot}> count me in")
        dm = emu.dm_channel(world.member)
        await emu.user_message("secret pace", channel=dm)

        async def fetch(path: str) -> Any:
            status, _, body = await _request(http, emu, "GET", path)
            assert status == 200
            return body

        page = {m["id"]: m for m in await fetch(_messages_path(general))}
        assert page[own["id"]]["components"][0]["components"][0]["custom_id"] == "go"
        assert page[own["id"]]["content"] == "run at 7" and page[own["id"]]["embeds"]
        hidden = page[other["id"]]
        assert [hidden[k] for k in ("content", "embeds", "attachments", "components")] == [
            "", [], [], []
        ]
        assert hidden["author"]["id"] == other["author"]["id"]  # only the content goes
        assert page[mention["id"]]["content"] == f"<@{bot}> count me in"
        assert [m["content"] for m in await fetch(_messages_path(dm))] == ["secret pace"]
        single = await fetch(f"{_messages_path(general)}/{other['id']}")
        assert single["content"] == ""
        emu.privileged_intents = P.PRIVILEGED_INTENTS
        page = {m["id"]: m for m in await fetch(_messages_path(general))}
        assert page[other["id"]]["content"] == "I'll be late"
    # the rule shared with the gateway also drops polls
    poll = {**other, "poll": {"question": {"text": "pace?"}}}
    assert "poll" not in emu.world.content_view(poll, int(world.guild["id"]), content_intent=False)


# --------------------------------------------------------------------------- user installs
async def test_user_install_contexts_like_discord(
    emulator: DiscordEmulator, world: TestWorld, raw_bot: Any
):
    """Commands keep `contexts` / `integration_types` from the sync; interactions carry
    `context`, `authorizing_integration_owners`, `app_permissions`, `user` outside servers;
    a user install in a server that never added the app (and blocks external apps) gets
    `guild_id` and `member`, but the bot is not there and its answers are made ephemeral."""
    gw, http = raw_bot
    commands = [
        {"name": "lib", "description": "anywhere", "type": 1,
         "contexts": [0, 1, 2], "integration_types": [0, 1]},
        {"name": "club", "description": "servers only", "type": 1,
         "contexts": [0], "integration_types": [0]},
    ]
    status, _, body = await api(emulator, "PUT", f"/applications/{emulator.application_id}"
                                "/commands", json=commands)
    assert status == 200
    assert [(c["contexts"], c["integration_types"]) for c in body] == [
        ([0, 1, 2], [0, 1]), ([0], [0])
    ]
    alice, bob = world.member, world.member2
    alice_id = alice["user"]["id"]
    group = emulator.add_group_dm(alice, bob)
    assert group["type"] == P.CHANNEL_TYPE_GROUP_DM
    other = emulator.add_guild("Other Server", with_bot=False, external_apps=False)
    emulator.add_member(other, user=alice["user"])
    await emulator.settle()

    # not installed yet: a group DM and a server without the app offer neither command
    with pytest.raises(ValueError, match="not installed"):
        await emulator.slash("lib", channel=group)
    with pytest.raises(ValueError, match="not installed"):
        await emulator.slash("lib", guild=other)
    emulator.install_for_user(alice)

    # the club server (guild install) with alice's own install too
    rec = await emulator.slash("lib")
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    assert inter["context"] == 0 and inter["authorizing_integration_owners"] == {
        "0": world.guild["id"], "1": alice_id
    }
    await callback(http, emulator, inter, {"type": 4, "data": {"content": "hi"}})
    assert rec.ephemeral is False

    # the bot's DM: `user`, no guild, context 1
    rec = await emulator.slash("lib", dm=True)
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    assert inter["context"] == 1 and "member" not in inter and "guild_id" not in inter
    assert inter["user"]["id"] == alice_id
    assert inter["authorizing_integration_owners"] == {"0": "0", "1": alice_id}
    with pytest.raises(ValueError, match="context 1"):
        await emulator.slash("club", dm=True)

    # a group DM: context 2, only the user install; the bot cannot post there
    rec = await emulator.slash("lib", channel=group)
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    assert inter["context"] == 2 and inter["channel"]["type"] == 3
    assert inter["authorizing_integration_owners"] == {"1": alice_id}
    assert "member" not in inter and inter["user"]["id"] == alice_id
    assert int(inter["app_permissions"]) & P.SEND_MESSAGES
    status, body = await callback(http, emulator, inter, {"type": 4, "data": {"content": "ok"}})
    assert status == 200 and rec.message is not None and rec.message["content"] == "ok"
    assert rec.ephemeral is False
    status, _, body = await api(emulator, "POST", f"/channels/{group['id']}/messages",
                                json={"content": "hello"})
    assert (status, body["code"]) == (403, 50001)
    with pytest.raises(ValueError, match="context 2"):
        await emulator.slash("club", channel=group)
    with pytest.raises(ValueError, match="not installed"):
        await emulator.slash("lib", channel=group, member=bob)  # bob has no install

    # another server, Stride only in alice's account, external apps blocked
    rec = await emulator.slash("lib", guild=other)
    inter = (await gw.until("INTERACTION_CREATE"))["d"]
    assert inter["context"] == 0 and inter["guild_id"] == other["id"]
    assert inter["member"]["user"]["id"] == alice_id
    assert inter["authorizing_integration_owners"] == {"1": alice_id}
    assert rec.force_ephemeral
    await callback(http, emulator, inter, {"type": 4, "data": {"content": "public?"}})
    assert rec.ephemeral is True and rec.message is not None
    assert rec.message["flags"] & P.MESSAGE_FLAG_EPHEMERAL
    with pytest.raises(ValueError, match="not installed"):
        await emulator.slash("club", guild=other)
    channel = next(iter(emulator.world.guilds[int(other["id"])].channels.values()))
    status, _, body = await api(emulator, "POST", f"/channels/{channel['id']}/messages",
                                json={"content": "hello"})
    assert (status, body["code"]) == (403, 50001)
    status, _, body = await api(emulator, "GET", f"/guilds/{other['id']}")
    assert (status, body["code"]) == (403, 50001)
    assert [g.core["name"] for g in emulator.world.guilds.values()
            if emulator.world.bot_in_guild(g.id)] == ["Test Running Club"]


# ------------------------------------------------------------------ shards across processes
# A bot may run any subset of its shards per process, each identified as [shard_id, num_shards];
# Discord sends a server's events to shard (guild_id >> 22) % num_shards and DMs to shard 0.
# minimal_bot.py is a plain (unsharded) Client, so this AutoShardedClient stands in for a bot
# started with SHARD_IDS / SHARD_COUNT.
SHARD_BOT = '''
import os

import discord
from discord import app_commands

intents = discord.Intents.default()
intents.members = True  # GUILD_MEMBER_ADD / _REMOVE
bot = discord.AutoShardedClient(
    intents=intents,
    shard_ids=[int(i) for i in os.environ["SHARD_IDS"].split(",")],
    shard_count=int(os.environ["SHARD_COUNT"]),
)
tree = app_commands.CommandTree(bot)


@tree.command(description="Which process answers.")
async def where(interaction: discord.Interaction) -> None:
    shard = interaction.guild.shard_id if interaction.guild else None
    await interaction.response.send_message(f"pid {os.getpid()} shard {shard}")


@bot.event
async def setup_hook() -> None:
    await tree.sync()


bot.run(os.environ["DISCORD_TOKEN"])
'''


def _events(session: Any) -> list[tuple[str, JSON]]:
    """The dispatches the emulator sent to one session, in order."""
    return [(frame["t"], frame["d"]) for _, frame in session.buffer]


def _guild_of(event: str, data: JSON) -> int | None:
    raw = data.get("id") if event == "GUILD_CREATE" else data.get("guild_id")
    return int(raw) if raw else None


async def test_two_processes_one_shard_each(
    emulator: DiscordEmulator, world: TestWorld, tmp_path: Path
):
    """SHARD_IDS=0 and SHARD_IDS=1 (SHARD_COUNT=2) in two processes started at once: each
    is ready once its own shard is, and gets only its own servers' events."""
    from tests.emulator.harness import launch_bot, socket_ports

    first_id = int(world.guild["id"])
    other = emulator.add_guild("Second Club", guild_id=first_id + (1 << 22))  # the next shard
    carol = emulator.add_member(other, "carol")
    clubs = {(first_id >> 22) % 2: (world.guild, world.member),
             (int(other["id"]) >> 22) % 2: (other, carol)}
    assert set(clubs) == {0, 1}
    script = tmp_path / "shard_bot.py"
    script.write_text(SHARD_BOT)
    procs = []
    try:
        procs = list(await asyncio.gather(*(
            launch_bot(emulator, script, {"SHARD_IDS": str(i), "SHARD_COUNT": "2"},
                       log_path=tmp_path / f"shard-{i}.log", shards=[i])
            for i in (0, 1)
        )))
        for shard_id, proc in enumerate(procs):
            assert [s.shard for s in proc.sessions] == [(shard_id, 2)]
            session = proc.sessions[0]
            assert session.connection is not None and session.connection.peer is not None
            assert session.connection.peer[1] in (socket_ports(proc.pid) or set())
        assert len(emulator.gateway.session_list) == 2  # one IDENTIFY per process

        for shard_id, (guild, member) in clubs.items():
            rec = await emulator.slash("where", guild=guild, member=member)
            message = await rec.wait_message()
            assert message["content"] == f"pid {procs[shard_id].pid} shard {shard_id}"
            leaver = emulator.add_member(guild, f"leaver-{shard_id}")
            emulator.remove_member(guild, leaver)
        dm = await emulator.slash("where", dm=True, member=world.member)
        assert (await dm.wait_message())["content"] == f"pid {procs[0].pid} shard None"
        await emulator.settle()

        for shard_id, proc in enumerate(procs):
            events = _events(proc.sessions[0])
            guilds = {_guild_of(e, d) for e, d in events} - {None}
            assert guilds == {int(clubs[shard_id][0]["id"])}, events
            kinds = [e for e, d in events if _guild_of(e, d) is not None]
            for kind in ("GUILD_CREATE", "INTERACTION_CREATE", "GUILD_MEMBER_ADD",
                         "GUILD_MEMBER_REMOVE"):
                assert kinds.count(kind) == 1, (kind, kinds)
            dms = [d for e, d in events if e == "INTERACTION_CREATE" and "guild_id" not in d]
            assert len(dms) == (1 if shard_id == 0 else 0)  # DMs: shard 0 only
    finally:
        for proc in procs:
            await proc.stop()


async def test_bots_started_together_get_their_own_sessions(
    emulator: DiscordEmulator, tmp_path: Path
):
    """Two unsharded processes launched at once: each ``launch_bot`` returns the session
    its own process opened, told apart by the connection's client port."""
    from tests.emulator.harness import launch_bot, socket_ports

    procs = []
    try:
        procs = list(await asyncio.gather(*(
            launch_bot(emulator, MINIMAL_BOT, log_path=tmp_path / f"minimal-{i}.log")
            for i in (0, 1)
        )))
        sessions = [proc.sessions for proc in procs]
        assert all(len(s) == 1 for s in sessions) and sessions[0][0] is not sessions[1][0]
        for proc, (session,) in zip(procs, sessions, strict=True):
            assert session.connection is not None and session.connection.peer is not None
            assert session.connection.peer[1] in (socket_ports(proc.pid) or set())
    finally:
        for proc in procs:
            await proc.stop()
