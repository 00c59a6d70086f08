"""REST routes of the emulator (paths, payloads and errors as Discord's API v10)."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import limits
from . import payloads as P
from .records import InteractionRecord, MessageRecord, RequestRecord, UploadedFile

if TYPE_CHECKING:
    from .emulator import DiscordEmulator

JSON = dict[str, Any]
Reply = tuple[int, Any]
Handler = Callable[[RequestRecord, dict[str, str]], Awaitable[Reply]]


class ApiError(Exception):
    """An error answer: ``{"message", "code"[, "errors"]}`` with an HTTP status.

    ``headers`` are added to the response; ``body`` replaces the JSON body (rate
    limits); ``text`` + ``content_type`` answer with a non-JSON body (edge errors).
    """

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: JSON | None = None,
        *,
        unhandled: bool = False,
        headers: dict[str, str] | None = None,
        body: JSON | None = None,
        text: str | None = None,
        content_type: str = "application/json",
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.unhandled = unhandled
        self.headers = dict(headers or {})
        self._body = body
        self.text = text
        self.content_type = content_type

    def body(self) -> JSON:
        if self._body is not None:
            return dict(self._body)
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def unknown(kind: str) -> ApiError:
    code = {
        "Channel": 10003,
        "Guild": 10004,
        "Member": 10007,
        "Message": 10008,
        "User": 10013,
        "Webhook": 10015,
        "application command": 10063,
    }[kind]
    return ApiError(404, code, f"Unknown {kind}")


MISSING_ACCESS = (403, 50001, "Missing Access")
MISSING_PERMISSIONS = (403, 50013, "Missing Permissions")
UNKNOWN_INTERACTION = (404, 10062, "Unknown interaction")
ALREADY_ACKNOWLEDGED = (400, 40060, "Interaction has already been acknowledged.")
EMPTY_MESSAGE = (400, 50006, "Cannot send an empty message")
CANNOT_DM = (403, 50007, "Cannot send messages to this user")
NONCE_MAX = 25
HISTORY_LIMIT_DEFAULT = 50
HISTORY_LIMIT_MAX = 100
#: Discord's SnowflakeType pattern.
SNOWFLAKE_RE = re.compile(r"0|[1-9][0-9]*")

# which callback types each interaction type accepts
CALLBACKS_ALLOWED = {
    1: {1},
    2: {4, 5, 9},
    3: {4, 5, 6, 7, 9},
    4: {8},
    5: {4, 5, 6, 7},
}


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true")


class RestApi:
    """Routing table plus handlers; state lives on the emulator."""

    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.world = emu.world
        a = "/applications/{application_id}"
        w = "/webhooks/{application_id}/{token}"
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/users/@me", self.get_me),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", a + "/commands", self.list_commands),
            ("PUT", a + "/commands", self.overwrite_commands),
            ("POST", a + "/commands", self.create_command),
            ("GET", a + "/commands/{command_id}", self.get_command),
            ("PATCH", a + "/commands/{command_id}", self.edit_command),
            ("DELETE", a + "/commands/{command_id}", self.delete_command),
            ("GET", a + "/guilds/{guild_id}/commands", self.list_commands),
            ("PUT", a + "/guilds/{guild_id}/commands", self.overwrite_commands),
            ("POST", a + "/guilds/{guild_id}/commands", self.create_command),
            ("GET", a + "/guilds/{guild_id}/commands/{command_id}", self.get_command),
            ("PATCH", a + "/guilds/{guild_id}/commands/{command_id}", self.edit_command),
            ("DELETE", a + "/guilds/{guild_id}/commands/{command_id}", self.delete_command),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.interaction_callback),
            ("GET", w + "/messages/@original", self.get_original),
            ("PATCH", w + "/messages/@original", self.edit_original),
            ("DELETE", w + "/messages/@original", self.delete_original),
            ("GET", w + "/messages/{message_id}", self.get_webhook_message),
            ("PATCH", w + "/messages/{message_id}", self.edit_webhook_message),
            ("DELETE", w + "/messages/{message_id}", self.delete_webhook_message),
            ("POST", w, self.create_followup),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("GET", "/channels/{channel_id}/messages", self.list_messages),
            ("POST", "/channels/{channel_id}/messages", self.create_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self.add_reaction,
            ),
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            ("GET", "/guilds/{guild_id}/roles", self.get_guild_roles),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
        ]
        self.routes: list[tuple[str, str, re.Pattern[str], Handler]] = []
        self.add_routes(table)

    def add_routes(self, table: list[tuple[str, str, Handler]]) -> None:
        """Register more ``(method, template, handler)`` routes (event_routes.py)."""
        self.routes.extend(
            (method, path, _route_pattern(path), handler) for method, path, handler in table
        )

    # ------------------------------------------------------------------ plumbing
    async def read_body(self, request: web.Request) -> tuple[Any, list[UploadedFile]]:
        """JSON bodies, or multipart with ``payload_json`` + ``files[n]`` like discord.py."""
        ctype = request.content_type
        if ctype == "multipart/form-data":
            body: Any = {}
            files: list[UploadedFile] = []
            reader = await request.multipart()
            async for part in reader:
                if part is None or not hasattr(part, "read"):
                    continue
                name = part.name or ""
                data = await part.read()  # type: ignore[union-attr]
                if part.filename:
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    files.append(UploadedFile(name, part.filename, content_type, bytes(data)))
                elif name == "payload_json":
                    body = self._parse_json(bytes(data).decode())
                else:
                    body[name] = bytes(data).decode()
            return body, files
        raw = await request.text()
        if not raw:
            return None, []
        return self._parse_json(raw), []

    @staticmethod
    def _parse_json(raw: str) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None

    def check_auth(self, request: web.Request, path: str) -> None:
        auth = request.headers.get("Authorization")
        tokenless = path == "/gateway" or path.startswith(("/interactions/", "/webhooks/"))
        if auth is None and tokenless:
            return
        if auth != f"Bot {self.emu.token}":
            raise ApiError(401, 0, "401: Unauthorized")

    def resolve(self, record: RequestRecord) -> tuple[str, Handler, dict[str, str]]:
        """``("POST /channels/{channel_id}/messages", handler, path params)`` or 404/405."""
        methods = set()
        for method, template, pattern, handler in self.routes:
            match = pattern.match(record.path)
            if match is None:
                continue
            if method == record.method:
                return f"{method} {template}", handler, match.groupdict()
            methods.add(method)
        if methods:
            raise ApiError(405, 0, "405: Method Not Allowed", unhandled=True)
        raise ApiError(404, 0, "404: Not Found", unhandled=True)

    async def dispatch(self, record: RequestRecord) -> Reply:
        _, handler, params = self.resolve(record)
        return await handler(record, params)

    def _form_error(
        self, record: RequestRecord, errors: limits.FormErrors, prefix: tuple = ()
    ) -> ApiError:
        self.emu.record_violations(record.method, record.path, errors, prefix)
        return ApiError(400, 50035, "Invalid Form Body", errors.to_dict(prefix))

    def _check_message(self, record: RequestRecord, payload: JSON, prefix: tuple = ()) -> None:
        errors = limits.FormErrors()
        limits.check_message(payload, errors)
        if errors:
            raise self._form_error(record, errors, prefix)
        for upload in record.files:
            if len(upload.data) > P.ATTACHMENT_SIZE_LIMIT:
                raise ApiError(413, 40005, "Request entity too large")

    @staticmethod
    def _is_empty(payload: JSON, files: list[UploadedFile]) -> bool:
        keys = ("content", "embeds", "components", "sticker_ids", "poll", "attachments")
        return not files and not any(payload.get(k) for k in keys)

    def _body(self, record: RequestRecord) -> JSON:
        body = record.json
        if body is None:
            return {}
        if not isinstance(body, dict):
            errors = limits.FormErrors()
            errors.add(("_",), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            raise self._form_error(record, errors)
        return body

    # ------------------------------------------------------------------ gateway / users / app
    async def get_gateway(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        return 200, {"url": self.emu.gateway_url}

    async def get_gateway_bot(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        gw = self.emu.gateway
        return 200, {
            "url": self.emu.gateway_url,
            "shards": gw.shard_count,
            "session_start_limit": {
                "total": gw.session_start_total,
                "remaining": gw.session_start_remaining,
                "reset_after": 14400000,
                "max_concurrency": gw.max_concurrency,
            },
        }

    async def get_me(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        return 200, P.private_user_payload(self.emu.bot_user)

    async def get_user(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        user = self.world.users.get(_int(p["user_id"]))
        if user is None:
            raise unknown("User")
        return 200, user

    async def create_dm(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        body = self._body(record)
        if "recipient_id" not in body:
            errors = limits.FormErrors()
            errors.required(("recipient_id",))
            raise self._form_error(record, errors)
        uid = _int(body["recipient_id"])
        if uid not in self.world.users:
            raise unknown("User")
        self.emu.dm_channel_creates += 1
        self.emu.dm_channel_creates_by_user[uid] += 1
        return 200, self.world.dm_channel(uid)

    async def get_application(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        emu = self.emu
        return 200, P.application_payload(
            emu.application_id,
            emu.bot_user,
            emu.app_owner,
            name=emu.bot_user["username"],
            flags=emu.application_flags,
        )

    # ------------------------------------------------------------------ application commands
    def _command_pool(self, p: dict[str, str]) -> tuple[dict[int, JSON], int | None]:
        if _int(p["application_id"]) != self.emu.application_id:
            raise ApiError(*MISSING_ACCESS)
        if "guild_id" not in p:
            return self.emu.global_commands, None
        gid = _int(p["guild_id"])
        if not self.world.bot_in_guild(gid):
            raise ApiError(*MISSING_ACCESS)
        return self.emu.guild_commands.setdefault(gid, {}), gid

    def _command_response(self, body: JSON, command_id: int, guild_id: int | None) -> JSON:
        perms = body.get("default_member_permissions")
        out: JSON = {
            "id": str(command_id),
            "application_id": str(self.emu.application_id),
            "version": str(self.emu.ids.next()),
            "default_member_permissions": None if perms is None else str(perms),
            "type": body.get("type") or 1,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description") or "",
            "description_localizations": body.get("description_localizations"),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "nsfw": bool(body.get("nsfw")),
        }
        if body.get("options"):
            out["options"] = P.strip_none(body["options"])
        if guild_id is None:
            out["dm_permission"] = body.get("dm_permission", True)
        else:
            out["guild_id"] = str(guild_id)
        return out

    def _validate_commands(self, record: RequestRecord, commands: list[JSON]) -> None:
        errors = limits.FormErrors()
        seen: set[tuple[str, int]] = set()
        for i, command in enumerate(commands):
            limits.check_command(command, errors, (i,))
            key = (command.get("name") or "", command.get("type") or 1)
            if key in seen:
                errors.add(
                    (i, "name"),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            seen.add(key)
        for kind, cap in ((1, limits.COMMANDS_MAX), (2, 5), (3, 5)):
            if sum(1 for c in commands if (c.get("type") or 1) == kind) > cap:
                errors.max_length((), commands, cap)
        if errors:
            raise self._form_error(record, errors)

    async def list_commands(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        pool, _ = self._command_pool(p)
        return 200, list(pool.values())

    async def overwrite_commands(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        pool, gid = self._command_pool(p)
        body = record.json or []
        if not isinstance(body, list):
            raise ApiError(
                400, 50035, "Invalid Form Body", {"_errors": [{"code": "LIST_TYPE_CONVERT"}]}
            )
        self._validate_commands(record, body)
        old = {(c["name"], c["type"]): int(c["id"]) for c in pool.values()}
        new: dict[int, JSON] = {}
        for command in body:
            key = (command["name"], command.get("type") or 1)
            command_id = old.get(key) or self.emu.ids.next()
            new[command_id] = self._command_response(command, command_id, gid)
        pool.clear()
        pool.update(new)
        self.emu.command_syncs.append(record)
        return 200, list(new.values())

    async def create_command(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        pool, gid = self._command_pool(p)
        body = self._body(record)
        self._validate_commands(record, [body])
        key = (body["name"], body.get("type") or 1)
        existing = next(
            (int(c["id"]) for c in pool.values() if (c["name"], c["type"]) == key), None
        )
        command_id = existing or self.emu.ids.next()
        pool[command_id] = self._command_response(body, command_id, gid)
        return (200 if existing else 201), pool[command_id]

    async def get_command(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        pool, _ = self._command_pool(p)
        command = pool.get(_int(p["command_id"]))
        if command is None:
            raise unknown("application command")
        return 200, command

    async def edit_command(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        pool, gid = self._command_pool(p)
        command_id = _int(p["command_id"])
        if command_id not in pool:
            raise unknown("application command")
        merged = {**pool[command_id], **self._body(record)}
        self._validate_commands(record, [merged])
        pool[command_id] = self._command_response(merged, command_id, gid)
        return 200, pool[command_id]

    async def delete_command(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        pool, _ = self._command_pool(p)
        if pool.pop(_int(p["command_id"]), None) is None:
            raise unknown("application command")
        return 204, None

    # ------------------------------------------------------------------ interactions
    def _interaction_message(
        self,
        rec: InteractionRecord,
        payload: JSON,
        files: list[UploadedFile],
        *,
        followup: bool,
        ephemeral: bool,
    ) -> MessageRecord:
        """Create the message an interaction response/followup posts."""
        app_id = str(self.emu.application_id)
        channel_id = int(rec.payload["channel_id"])
        guild_id = _int(rec.payload["guild_id"]) if rec.payload.get("guild_id") else None
        user = (rec.payload.get("member") or {}).get("user") or rec.payload.get("user")
        metadata: JSON = {
            "id": str(rec.id),
            "type": rec.type,
            "user": user,
            "authorizing_integration_owners": rec.payload["authorizing_integration_owners"],
        }
        message_type = P.MESSAGE_TYPE_DEFAULT
        if rec.type == 2 and not followup:
            command_type = rec.data.get("type", 1)
            message_type = (
                P.MESSAGE_TYPE_CHAT_INPUT_COMMAND
                if command_type == 1
                else P.MESSAGE_TYPE_CONTEXT_MENU_COMMAND
            )
        if followup and rec.original is not None:
            metadata["original_response_message_id"] = rec.original.message["id"]
        if rec.type == 3 and rec.source_message_id is not None:
            metadata["interacted_message_id"] = str(rec.source_message_id)
        extra: JSON = {
            "webhook_id": app_id,
            "application_id": app_id,
            "interaction_metadata": metadata,
        }
        if rec.type == 2:
            extra["interaction"] = {
                "id": str(rec.id),
                "type": rec.type,
                "name": rec.name,
                "user": user,
            }
        message_id = self.world.next_message_id()
        message = self.world.build_message(
            message_id,
            channel_id,
            payload,
            author=self.emu.bot_user,
            files=files,
            message_type=message_type,
            extra=extra,
        )
        ephemeral = ephemeral or rec.force_ephemeral  # a server that blocks external apps
        if ephemeral:
            message["flags"] |= P.MESSAGE_FLAG_EPHEMERAL
        msg = MessageRecord(
            message,
            channel_id,
            guild_id,
            "followup" if followup else "interaction",
            ephemeral=ephemeral,
            interaction_id=rec.id,
            payloads=[payload],
            files=list(files),
            created_wall=self.emu.clock.time(),
        )
        self.world.store_message(msg)
        return msg

    async def interaction_callback(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        rec = self.emu.interactions.get(_int(p["interaction_id"]))
        if rec is None or rec.token != p["token"]:
            raise ApiError(*UNKNOWN_INTERACTION)
        try:
            return await self._interaction_callback(record, rec)
        except ApiError as exc:
            rec.rejected.append((exc.status, exc.body()))
            raise

    async def _interaction_callback(self, record: RequestRecord, rec: InteractionRecord) -> Reply:
        assert rec.sent_at is not None
        elapsed = self.emu.clock.elapsed(rec.sent_at, record.time)
        if elapsed > self.emu.interaction_deadline:
            if rec.response is None and rec.late_by is None:
                rec.late_by = elapsed
            raise ApiError(*UNKNOWN_INTERACTION)
        if rec.response is not None:
            raise ApiError(*ALREADY_ACKNOWLEDGED)
        body = self._body(record)
        ctype = body.get("type")
        if ctype not in CALLBACKS_ALLOWED.get(rec.type, set()) or (
            rec.type == 5 and ctype in (6, 7) and rec.source_message_id is None
        ):
            errors = limits.FormErrors()
            errors.add(
                ("type",), "INTERACTION_CALLBACK_TYPE_INVALID", "Invalid interaction callback type"
            )
            raise self._form_error(record, errors)
        data = body.get("data") or {}
        files = record.files
        errors = limits.FormErrors()
        if ctype in (4, 7):
            limits.check_message(data, errors)
        elif ctype == 8:
            limits.check_autocomplete(data, errors)
        elif ctype == 9:
            limits.check_modal(data, errors)
        if errors:
            raise self._form_error(record, errors, ("data",))
        if ctype == 4 and self._is_empty(data, files):
            raise ApiError(*EMPTY_MESSAGE)
        for upload in files:
            if len(upload.data) > P.ATTACHMENT_SIZE_LIMIT:
                raise ApiError(413, 40005, "Request entity too large")

        resource_message: JSON | None = None
        if ctype in (4, 5):
            flags = int(data.get("flags") or 0)
            payload = data if ctype == 4 else {"content": "", "flags": flags}
            msg = self._interaction_message(
                rec,
                payload,
                files if ctype == 4 else [],
                followup=False,
                ephemeral=bool(flags & 64),
            )
            if ctype == 5:
                msg.message["flags"] |= P.MESSAGE_FLAG_LOADING
                rec.original_loading = True
            rec.original = msg
            resource_message = msg.message
            await self.emu.dispatch_message_create(msg)
        elif ctype in (6, 7):
            source = self._source_message(rec)
            rec.original = source
            if ctype == 7:
                self.world.apply_edit(source, data, files, edited=True)
                resource_message = source.message
                await self.emu.dispatch_message_update(source)
        rec._set_response(body, record.time)
        if ctype in (4, 7):  # 5 and 6 produce their message with the first @original edit
            rec._message_changed()
        if not _truthy(record.query.get("with_response")):
            return 204, None
        response: JSON = {"interaction": {"id": str(rec.id), "type": rec.type}}
        if rec.original is not None and ctype in (4, 5, 6, 7):
            response["interaction"].update(
                response_message_id=rec.original.message["id"],
                response_message_loading=ctype == 5,
                response_message_ephemeral=rec.original.ephemeral,
            )
        if resource_message is not None:
            response["resource"] = {"type": ctype, "message": resource_message}
        return 200, response

    def _source_message(self, rec: InteractionRecord) -> MessageRecord:
        source = self.world.messages.get(rec.source_message_id or 0)
        if source is None or source.deleted:
            raise unknown("Message")
        return source

    def _webhook_interaction(self, p: dict[str, str]) -> InteractionRecord:
        if _int(p["application_id"]) != self.emu.application_id:
            raise unknown("Webhook")
        rec = self.emu.interactions_by_token.get(p["token"])
        if rec is None:
            raise unknown("Webhook")
        assert rec.sent_at is not None
        if self.emu.clock.elapsed(rec.sent_at) > self.emu.interaction_token_ttl:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return rec

    def _original(self, rec: InteractionRecord) -> MessageRecord:
        if rec.original is None or rec.original.deleted:
            raise unknown("Message")
        return rec.original

    async def get_original(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        return 200, self._original(self._webhook_interaction(p)).message

    async def edit_original(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        rec = self._webhook_interaction(p)
        msg = self._original(rec)
        return 200, await self._edit_interaction_message(record, rec, msg)

    async def _edit_interaction_message(
        self, record: RequestRecord, rec: InteractionRecord, msg: MessageRecord
    ) -> JSON:
        payload = self._body(record)
        self._check_message(record, payload)
        if msg is rec.original and rec.original_loading:
            # first edit of a deferred response turns the "thinking" message into the reply
            self.world.apply_edit(msg, payload, record.files, edited=False)
            msg.message["flags"] &= ~P.MESSAGE_FLAG_LOADING
            rec.original_loading = False
        else:
            self.world.apply_edit(msg, payload, record.files, edited=True)
        if msg is rec.original:
            rec._message_changed()
        await self.emu.dispatch_message_update(msg)
        return msg.message

    async def delete_original(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        rec = self._webhook_interaction(p)
        msg = self._original(rec)
        msg.deleted = True
        rec.deleted_original = True
        await self.emu.dispatch_message_delete(msg)
        return 204, None

    def _webhook_message(self, rec: InteractionRecord, message_id: str) -> MessageRecord:
        candidates = [rec.original, *rec.followup_records]
        for msg in candidates:
            if msg is not None and not msg.deleted and msg.message["id"] == message_id:
                return msg
        raise unknown("Message")

    async def get_webhook_message(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        rec = self._webhook_interaction(p)
        return 200, self._webhook_message(rec, p["message_id"]).message

    async def edit_webhook_message(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        rec = self._webhook_interaction(p)
        msg = self._webhook_message(rec, p["message_id"])
        return 200, await self._edit_interaction_message(record, rec, msg)

    async def delete_webhook_message(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        rec = self._webhook_interaction(p)
        msg = self._webhook_message(rec, p["message_id"])
        msg.deleted = True
        await self.emu.dispatch_message_delete(msg)
        return 204, None

    async def create_followup(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        rec = self._webhook_interaction(p)
        if rec.response is None or rec.response_type in (1, 8):
            raise unknown("Webhook")
        payload = self._body(record)
        self._check_message(record, payload)
        if self._is_empty(payload, record.files):
            raise ApiError(*EMPTY_MESSAGE)
        if (rec.response_type == 5 and rec.original_loading and rec.original is not None
                and not rec.original.deleted):
            # Discord: the first followup after a deferred reply *edits* the loading
            # message; its ephemerality comes from the defer, not from these flags. (Once the
            # loading message is deleted, a followup is a new message with its own flags.)
            msg = rec.original
            self.world.apply_edit(
                msg, {k: v for k, v in payload.items() if k != "flags"}, record.files, edited=False
            )
            msg.message["flags"] &= ~P.MESSAGE_FLAG_LOADING
            rec.original_loading = False
            rec._message_changed()
            await self.emu.dispatch_message_update(msg)
        else:
            flags = int(payload.get("flags") or 0)
            msg = self._interaction_message(
                rec, payload, record.files, followup=True, ephemeral=bool(flags & 64)
            )
            rec._add_followup(msg)
            await self.emu.dispatch_message_create(msg)
        if not _truthy(record.query.get("wait")):
            return 204, None
        return 200, msg.message

    # ------------------------------------------------------------------ channels & messages
    def _channel(self, channel_id: str) -> JSON:
        channel = self.world.channels.get(_int(channel_id))
        if channel is None:
            raise unknown("Channel")
        return channel

    def _require(self, channel: JSON, perms: int) -> None:
        cid = int(channel["id"])
        if not self.world.bot_sees_channel(cid):  # a group DM, a server that never added it
            raise ApiError(*MISSING_ACCESS)
        if self.world.channel_guild.get(cid) is None:
            return
        have = self.world.channel_permissions(cid, self.world.bot_id)
        if not have & P.VIEW_CHANNEL:
            raise ApiError(*MISSING_ACCESS)
        if have & perms != perms:
            raise ApiError(*MISSING_PERMISSIONS)

    def _message(self, channel: JSON, message_id: str) -> MessageRecord:
        msg = self.world.messages.get(_int(message_id))
        if msg is None or msg.deleted or msg.ephemeral or msg.channel_id != int(channel["id"]):
            raise unknown("Message")
        return msg

    async def get_channel(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        channel = self._channel(p["channel_id"])
        self._require(channel, 0)
        return 200, channel

    def _history_query(self, record: RequestRecord) -> tuple[int, str | None, int]:
        """``(limit, "before" | "after" | "around" | None, anchor id)`` or 400 50035."""
        q = record.query
        errors = limits.FormErrors()
        limit = HISTORY_LIMIT_DEFAULT
        if "limit" in q:
            limit = errors.query_int(("limit",), q["limit"], 1, HISTORY_LIMIT_MAX)
        anchors = [k for k in ("around", "before", "after") if k in q]
        for key in anchors:
            if not SNOWFLAKE_RE.fullmatch(q[key]):
                errors.add((key,), "NUMBER_TYPE_COERCE", f'Value "{q[key]}" is not snowflake.')
        if len(anchors) > 1:
            # Discord documents them as mutually exclusive but not its answer; refusing
            # makes a bot that relies on one of them winning fail loudly.
            for key in anchors:
                errors.add(
                    (key,),
                    "QUERY_PARAMS_MUTUALLY_EXCLUSIVE",
                    "Only one of around, before and after may be passed.",
                )
        if errors:
            raise self._form_error(record, errors)
        if not anchors:
            return limit, None, 0
        return limit, anchors[0], int(q[anchors[0]])

    async def list_messages(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        """Discord's Get Channel Messages: newest first; ``after`` gives the ``limit``
        messages right after the anchor (what ``history(after=...)`` pages with)."""
        limit, anchor, at = self._history_query(record)
        channel = self._channel(p["channel_id"])
        self._require(channel, 0)  # VIEW_CHANNEL, else 403 50001
        cid = int(channel["id"])
        guild_id = self.world.channel_guild.get(cid)
        if guild_id is not None and not (
            self.world.channel_permissions(cid, self.world.bot_id) & P.READ_MESSAGE_HISTORY
        ):
            return 200, []  # documented: "no messages will be returned"
        messages = self.world.channel_messages(cid)  # oldest first, ids ascending
        ids = [int(m["id"]) for m in messages]
        if anchor == "before":
            end = bisect.bisect_left(ids, at)
            page = messages[max(0, end - limit) : end]
        elif anchor == "after":
            start = bisect.bisect_right(ids, at)
            page = messages[start : start + limit]
        elif anchor == "around":
            # the anchor and older ones fill what the limit // 2 newer ones leave
            split = bisect.bisect_right(ids, at)
            newer = limit // 2
            page = messages[max(0, split - (limit - newer)) : split + newer]
        else:
            page = messages[-limit:]
        return 200, [self._visible(m, guild_id) for m in reversed(page)]

    def _visible(self, message: JSON, guild_id: int | None) -> JSON:
        """A message as REST shows it (Message Content intent: the portal setting)."""
        content_intent = bool(self.emu.privileged_intents & P.INTENT_MESSAGE_CONTENT)
        return self.world.content_view(message, guild_id, content_intent=content_intent)

    async def create_message(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        channel = self._channel(p["channel_id"])
        cid = int(channel["id"])
        guild_id = self.world.channel_guild.get(cid)
        if guild_id is None and channel["type"] == P.CHANNEL_TYPE_DM:
            recipient = int(channel["recipients"][0]["id"])
            if recipient in self.world.dm_closed:
                raise ApiError(*CANNOT_DM)
        self._require(channel, P.SEND_MESSAGES | (P.ATTACH_FILES if record.files else 0))
        payload = self._body(record)
        self._check_message(record, payload)
        nonce = payload.get("nonce")
        if isinstance(nonce, str) and len(nonce) > NONCE_MAX:
            errors = limits.FormErrors()
            errors.max_length(("nonce",), nonce, NONCE_MAX)
            raise self._form_error(record, errors)
        if self._is_empty(payload, record.files):
            raise ApiError(*EMPTY_MESSAGE)
        if nonce is not None and payload.get("enforce_nonce"):
            earlier = self._nonce_message(cid, nonce)
            if earlier is not None:
                self.emu.nonce_hits.append(record)
                if earlier.deleted:
                    raise unknown("Message")
                return 200, earlier.message
        message = self.world.build_message(
            self.world.next_message_id(), cid, payload, author=self.emu.bot_user, files=record.files
        )
        msg = MessageRecord(
            message,
            cid,
            guild_id,
            "channel",
            payloads=[payload],
            files=list(record.files),
            created_wall=self.emu.clock.time(),
        )
        self.world.store_message(msg)
        if nonce is not None:
            self.emu.nonces[(cid, str(nonce))] = msg
        self.emu.channel_posts.append(msg)
        await self.emu.dispatch_message_create(msg)
        return 200, message

    def _nonce_message(self, channel_id: int, nonce: Any) -> MessageRecord | None:
        """A message the bot created in this channel with this nonce, within ``nonce_ttl``."""
        earlier = self.emu.nonces.get((channel_id, str(nonce)))
        if earlier is None:
            return None
        if self.emu.clock.elapsed(earlier.created_at) > self.emu.nonce_ttl:
            del self.emu.nonces[(channel_id, str(nonce))]
            return None
        return earlier

    async def get_message(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        channel = self._channel(p["channel_id"])
        self._require(channel, P.READ_MESSAGE_HISTORY)
        msg = self._message(channel, p["message_id"])
        return 200, self._visible(msg.message, msg.guild_id)

    async def edit_message(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        channel = self._channel(p["channel_id"])
        msg = self._message(channel, p["message_id"])
        if int(msg.message["author"]["id"]) != self.world.bot_id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        payload = self._body(record)
        self._check_message(record, payload)
        self.world.apply_edit(msg, payload, record.files, edited=True)
        await self.emu.dispatch_message_update(msg)
        return 200, msg.message

    async def delete_message(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        channel = self._channel(p["channel_id"])
        msg = self._message(channel, p["message_id"])
        if int(msg.message["author"]["id"]) != self.world.bot_id:
            self._require(channel, 1 << 13)  # MANAGE_MESSAGES
        msg.deleted = True
        await self.emu.dispatch_message_delete(msg)
        return 204, None

    async def typing(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        channel = self._channel(p["channel_id"])
        self._require(channel, P.SEND_MESSAGES)
        return 204, None

    async def add_reaction(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        channel = self._channel(p["channel_id"])
        msg = self._message(channel, p["message_id"])
        self._require(channel, P.ADD_REACTIONS | P.READ_MESSAGE_HISTORY)
        self.world.reactions.append((int(channel["id"]), msg.id, p["emoji"]))
        return 204, None

    # ------------------------------------------------------------------ guilds
    def _guild(self, guild_id: str) -> Any:
        guild = self.world.guilds.get(_int(guild_id))
        if guild is None:
            raise unknown("Guild")
        if not guild.has_member(self.world.bot_id):
            raise ApiError(*MISSING_ACCESS)
        return guild

    async def get_guild(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        guild = self._guild(p["guild_id"])
        data = P.guild_payload(guild.core, list(guild.roles.values()))
        if _truthy(record.query.get("with_counts")):
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return 200, data

    async def get_guild_channels(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        return 200, list(self._guild(p["guild_id"]).channels.values())

    async def get_guild_roles(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        return 200, list(self._guild(p["guild_id"]).roles.values())

    async def get_member(self, record: RequestRecord, p: dict[str, str]) -> Reply:
        guild = self._guild(p["guild_id"])
        uid = _int(p["user_id"])
        if uid not in self.world.users:
            raise unknown("User")
        member = guild.members.get(uid)
        if member is None:
            raise unknown("Member")
        return 200, member


def _route_pattern(template: str) -> re.Pattern[str]:
    """``/guilds/{guild_id}`` -> a regex with one named group per path parameter."""
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


def _int(value: Any) -> int:
    """Snowflake path/query parameter; malformed ones are a form error like Discord's."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(
            400,
            50035,
            "Invalid Form Body",
            {
                "id": {
                    "_errors": [
                        {
                            "code": "NUMBER_TYPE_COERCE",
                            "message": f'Value "{value}" is not snowflake.',
                        }
                    ]
                }
            },
        ) from None
