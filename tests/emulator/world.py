"""The emulated Discord world: users, guilds, roles, channels, members, messages."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import payloads as P
from .clock import EmulatorClock
from .events import ScheduledEvent
from .records import MessageRecord, UploadedFile

JSON = dict[str, Any]

USER_MENTION_RE = re.compile(r"<@!?(\d{15,20})>")
ROLE_MENTION_RE = re.compile(r"<@&(\d{15,20})>")
EVERYONE_RE = re.compile(r"@(everyone|here)\b")


@dataclass
class Guild:
    """A guild and everything in it.  ``core`` is the dict handed to tests."""

    core: JSON
    roles: dict[int, JSON] = field(default_factory=dict)
    channels: dict[int, JSON] = field(default_factory=dict)
    members: dict[int, JSON] = field(default_factory=dict)
    #: Scheduled events by id, in creation order (events.py).
    scheduled_events: dict[int, ScheduledEvent] = field(default_factory=dict)
    created_at: float = 0.0  # unix time on the emulator's clock
    #: False: the server blocks external apps (@everyone lacks USE_EXTERNAL_APPS), so the
    #: answers of an app a member added to their own account are forced ephemeral there.
    external_apps: bool = True

    @property
    def id(self) -> int:
        return int(self.core["id"])

    @property
    def owner_id(self) -> int:
        return int(self.core["owner_id"])

    def has_member(self, user_id: int) -> bool:
        return user_id in self.members


class World:
    """State shared by the REST API, the gateway and the test-facing helpers."""

    def __init__(
        self, snowflakes: P.SnowflakeFactory, bot_user: JSON, clock: EmulatorClock
    ) -> None:
        self.ids = snowflakes
        self.clock = clock
        self.bot_user = bot_user
        self.bot_id = int(bot_user["id"])
        self.users: dict[int, JSON] = {self.bot_id: bot_user}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, JSON] = {}  # guild and DM channels by id
        self.channel_guild: dict[int, int | None] = {}
        self.dm_by_user: dict[int, int] = {}
        self.dm_closed: set[int] = set()  # users that refuse DMs from the bot (50007)
        self.user_installs: set[int] = set()  # users who added the app to their account
        self.messages: dict[int, MessageRecord] = {}
        self.channel_index: dict[int, list[int]] = {}
        self.reactions: list[tuple[int, int, str]] = []  # (channel, message, emoji)

    # -- users ---------------------------------------------------------------
    def add_user(self, username: str, *, bot: bool = False, global_name: str | None = None,
                 user_id: int | None = None) -> JSON:
        user = P.user_payload(user_id or self.ids.next(), username, bot=bot,
                              global_name=global_name)
        self.users[int(user["id"])] = user
        return user

    # -- guilds ----------------------------------------------------------------
    def add_guild(
        self,
        name: str,
        owner: JSON,
        *,
        channels: Sequence[str],
        roles: Sequence[str | JSON],
        bot_permissions: int,
        everyone_permissions: int,
        guild_id: int | None = None,
        with_bot: bool = True,
    ) -> Guild:
        guild_id = guild_id or self.ids.next()
        core = {
            "id": str(guild_id),
            "name": name,
            "owner_id": owner["id"],
            "system_channel_id": None,
        }
        guild = Guild(core=core, created_at=self.clock.time())
        self.guilds[guild_id] = guild
        # @everyone has the guild's id, position 0
        guild.roles[guild_id] = P.role_payload(guild_id, "@everyone", everyone_permissions, 0)
        for spec in roles:
            spec = {"name": spec} if isinstance(spec, str) else dict(spec)
            self.add_role(guild_id, **spec)
        for channel_name in channels:
            self.add_channel(guild_id, channel_name)
        if guild.channels:
            core["system_channel_id"] = next(iter(guild.channels.values()))["id"]
        self.add_member(guild_id, owner, joined_at=guild.created_at)
        if not with_bot:  # a server that never added the app (members may have, to themselves)
            return guild
        bot_role = self.add_role(
            guild_id,
            name=self.bot_user["username"],
            permissions=bot_permissions,
            managed=True,
            tags={"bot_id": self.bot_user["id"]},
        )
        self.add_member(guild_id, self.bot_user, role_ids=[int(bot_role["id"])])
        return guild

    def bot_in_guild(self, guild_id: int | None) -> bool:
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        return guild is not None and guild.has_member(self.bot_id)

    def bot_sees_channel(self, channel_id: int) -> bool:
        """The bot is in the channel: a channel of a guild it is in, or its own DM (never a
        group DM, nor a channel of a server only a member's own install reaches)."""
        guild_id = self.channel_guild.get(channel_id)
        if guild_id is not None:
            return self.bot_in_guild(guild_id)
        channel = self.channels.get(channel_id)
        return channel is not None and channel["type"] == P.CHANNEL_TYPE_DM

    def guild(self, guild: Any) -> Guild:
        return self.guilds[P.snowflake_of(guild)]

    def add_role(
        self,
        guild_id: int,
        name: str,
        permissions: int = 0,
        *,
        color: int = 0,
        mentionable: bool = False,
        hoist: bool = False,
        managed: bool = False,
        tags: JSON | None = None,
    ) -> JSON:
        guild = self.guilds[guild_id]
        role = P.role_payload(
            self.ids.next(),
            name,
            permissions,
            len(guild.roles),
            color=color,
            mentionable=mentionable,
            hoist=hoist,
            managed=managed,
            tags=tags,
        )
        guild.roles[int(role["id"])] = role
        return role

    def role_by_name(self, guild_id: int, name: str) -> JSON:
        for role in self.guilds[guild_id].roles.values():
            if role["name"] == name:
                return role
        raise KeyError(f"no role named {name!r} in guild {guild_id}")

    def add_channel(
        self, guild_id: int, name: str, *, topic: str | None = None,
        kind: int = P.CHANNEL_TYPE_GUILD_TEXT,
    ) -> JSON:
        """A text (0), voice (2) or stage (13) channel; voice channels have no topic."""
        guild = self.guilds[guild_id]
        position = len(guild.channels)
        if kind == P.CHANNEL_TYPE_GUILD_TEXT:
            channel = P.text_channel_payload(self.ids.next(), guild_id, name, position, topic=topic)
        elif kind in P.GUILD_CHANNEL_TYPES:
            if topic is not None and kind == P.CHANNEL_TYPE_GUILD_VOICE:
                raise ValueError("voice channels have no topic")
            channel = P.voice_channel_payload(self.ids.next(), guild_id, name, position, kind=kind)
            if topic is not None:
                channel["topic"] = topic
        else:
            raise ValueError(f"channel type {kind} is not modelled (text 0, voice 2, stage 13)")
        cid = int(channel["id"])
        guild.channels[cid] = channel
        self.channels[cid] = channel
        self.channel_guild[cid] = guild_id
        return channel

    def delete_channel(self, channel_id: int) -> JSON:
        """Forget a guild channel (its recorded messages stay in ``messages``)."""
        guild_id = self.channel_guild.get(channel_id)
        if channel_id not in self.channels:
            raise KeyError(f"no channel {channel_id}")
        if guild_id is None:
            raise ValueError("DM channels cannot be deleted (use close_dms)")
        channel = self.channels.pop(channel_id)
        guild = self.guilds[guild_id]
        guild.channels.pop(channel_id, None)
        if guild.core.get("system_channel_id") == channel["id"]:
            guild.core["system_channel_id"] = None
        return channel

    def set_overwrite(
        self, channel_id: int, target_id: int, kind: int, allow: int, deny: int
    ) -> None:
        """Set (or, with allow == deny == 0, remove) a permission overwrite on a channel."""
        channel = self.channels[channel_id]
        rest = [o for o in channel["permission_overwrites"] if int(o["id"]) != target_id]
        if allow or deny:
            rest.append(
                {"id": str(target_id), "type": kind, "allow": str(allow), "deny": str(deny)}
            )
        channel["permission_overwrites"] = rest

    def channel_by_name(self, guild_id: int, name: str) -> JSON:
        for channel in self.guilds[guild_id].channels.values():
            if channel["name"] == name:
                return channel
        raise KeyError(f"no channel named {name!r} in guild {guild_id}")

    def add_member(
        self,
        guild_id: int,
        user: JSON,
        *,
        role_ids: Iterable[int] = (),
        nick: str | None = None,
        joined_at: float | None = None,
    ) -> JSON:
        joined = self.clock.time() if joined_at is None else joined_at
        member = P.member_payload(user, list(role_ids), P.iso(joined), nick=nick)
        self.guilds[guild_id].members[int(user["id"])] = member
        return member

    def member(self, guild_id: int, user_id: int) -> JSON | None:
        guild = self.guilds.get(guild_id)
        return None if guild is None else guild.members.get(user_id)

    # -- DMs -----------------------------------------------------------------------
    def dm_channel(self, user_id: int) -> JSON:
        """The bot's DM channel with a user (created on first use, then reused)."""
        if user_id in self.dm_by_user:
            return self.channels[self.dm_by_user[user_id]]
        channel = P.dm_channel_payload(self.ids.next(), self.users[user_id])
        cid = int(channel["id"])
        self.channels[cid] = channel
        self.channel_guild[cid] = None
        self.dm_by_user[user_id] = cid
        return channel

    def add_group_dm(self, owner: JSON, others: Sequence[JSON]) -> JSON:
        """A group DM between users (the bot is not in it)."""
        channel = P.group_dm_channel_payload(self.ids.next(), owner, [owner, *others])
        cid = int(channel["id"])
        self.channels[cid] = channel
        self.channel_guild[cid] = None
        return channel

    def context_of(self, channel_id: int) -> int:
        """The interaction context type of a channel: 0 guild, 1 bot DM, 2 private channel."""
        if self.channel_guild.get(channel_id) is not None:
            return P.CONTEXT_GUILD
        if self.channels[channel_id]["type"] == P.CHANNEL_TYPE_DM:
            return P.CONTEXT_BOT_DM
        return P.CONTEXT_PRIVATE_CHANNEL

    # -- permissions ---------------------------------------------------------------
    def base_permissions(self, guild_id: int, user_id: int) -> int:
        guild = self.guilds[guild_id]
        if user_id == guild.owner_id:
            return P.ALL_PERMISSIONS
        member = guild.members.get(user_id)
        perms = int(guild.roles[guild_id]["permissions"])
        for rid in (member or {}).get("roles", []):
            role = guild.roles.get(int(rid))
            if role is not None:
                perms |= int(role["permissions"])
        return P.ALL_PERMISSIONS if perms & P.ADMINISTRATOR else perms

    def channel_permissions(self, channel_id: int, user_id: int) -> int:
        """Permissions in a channel, applying overwrites like Discord does."""
        guild_id = self.channel_guild.get(channel_id)
        if guild_id is None:  # DM: everything text related
            return P.DEFAULT_EVERYONE_PERMISSIONS
        perms = self.base_permissions(guild_id, user_id)
        if perms & P.ADMINISTRATOR:
            return P.ALL_PERMISSIONS
        overwrites = {int(o["id"]): o for o in self.channels[channel_id]["permission_overwrites"]}
        member = self.guilds[guild_id].members.get(user_id) or {"roles": []}

        def apply(ow: JSON | None, value: int) -> int:
            if ow is None:
                return value
            return (value & ~int(ow["deny"])) | int(ow["allow"])

        perms = apply(overwrites.get(guild_id), perms)
        allow = deny = 0
        for rid in member["roles"]:
            ow = overwrites.get(int(rid))
            if ow is not None:
                allow |= int(ow["allow"])
                deny |= int(ow["deny"])
        perms = (perms & ~deny) | allow
        return apply(overwrites.get(user_id), perms)

    # -- messages --------------------------------------------------------------------
    def next_message_id(self) -> int:
        return self.ids.next()

    def resolve_mentions(
        self, content: str, allowed: JSON | None, channel_id: int, author_id: int
    ) -> tuple[list[JSON], list[str], bool]:
        """Who a message pings, honouring ``allowed_mentions`` like Discord."""
        parse = (
            {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
        )
        allowed_users = {int(u) for u in (allowed or {}).get("users") or []}
        allowed_roles = {int(r) for r in (allowed or {}).get("roles") or []}
        guild_id = self.channel_guild.get(channel_id)
        users: list[JSON] = []
        for uid in dict.fromkeys(int(x) for x in USER_MENTION_RE.findall(content)):
            if uid in self.users and ("users" in parse or uid in allowed_users):
                users.append(self.users[uid])
        roles: list[str] = []
        everyone = False
        if guild_id is not None:
            guild = self.guilds[guild_id]
            perms = self.channel_permissions(channel_id, author_id)
            for rid in dict.fromkeys(int(x) for x in ROLE_MENTION_RE.findall(content)):
                role = guild.roles.get(rid)
                if role is None or not ("roles" in parse or rid in allowed_roles):
                    continue
                if role["mentionable"] or perms & P.MENTION_EVERYONE:
                    roles.append(str(rid))
            everyone = bool(
                EVERYONE_RE.search(content) and "everyone" in parse and perms & P.MENTION_EVERYONE
            )
        return users, roles, everyone

    def build_message(
        self,
        message_id: int,
        channel_id: int,
        payload: JSON,
        *,
        author: JSON,
        files: Sequence[UploadedFile] = (),
        message_type: int = P.MESSAGE_TYPE_DEFAULT,
        extra: JSON | None = None,
    ) -> JSON:
        """A MessageResponse for a create payload (content, embeds, components, files)."""
        content = payload.get("content") or ""
        mentions, mention_roles, everyone = self.resolve_mentions(
            content, payload.get("allowed_mentions"), channel_id, int(author["id"])
        )
        message: JSON = {
            "type": message_type,
            "content": content,
            "mentions": mentions,
            "mention_roles": mention_roles,
            "attachments": self.build_attachments(
                channel_id, payload.get("attachments"), files, []
            ),
            "embeds": [_normalise_embed(e) for e in payload.get("embeds") or []],
            "timestamp": P.iso(P.snowflake_time(message_id)),
            "edited_timestamp": None,
            "flags": int(payload.get("flags") or 0),
            "components": number_components(payload.get("components") or []),
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": author,
            "pinned": False,
            "mention_everyone": everyone,
            "tts": bool(payload.get("tts")),
        }
        if payload.get("nonce") is not None:
            message["nonce"] = payload["nonce"]
        if payload.get("message_reference"):
            ref = payload["message_reference"]
            ref_id = int(ref["message_id"])
            message["message_reference"] = {
                "type": 0,
                "channel_id": str(ref.get("channel_id") or channel_id),
                "message_id": str(ref_id),
            }
            if ref_id in self.messages:
                message["type"] = P.MESSAGE_TYPE_REPLY
                message["referenced_message"] = self.messages[ref_id].message
        if payload.get("poll"):
            message["poll"] = payload["poll"]
        if extra:
            message.update(extra)
        resolve_attachment_urls(message)
        return message

    def build_attachments(
        self,
        channel_id: int,
        specs: list[JSON] | None,
        files: Sequence[UploadedFile],
        existing: list[JSON],
    ) -> list[JSON]:
        """Attachment objects: kept ones (``{"id": existing}``) and uploaded ``files[n]``."""
        by_index = {}
        for upload in files:
            match = re.fullmatch(r"files\[(\d+)\]", upload.field)
            by_index[int(match.group(1)) if match else len(by_index)] = upload
        old = {a["id"]: a for a in existing}
        out: list[JSON] = []
        if specs is None:
            specs = [{"id": i} for i in sorted(by_index)]
            out.extend(existing)
        for spec in specs:
            key = str(spec.get("id"))
            if key in old:
                out.append(old[key])
                continue
            upload = by_index.get(int(spec["id"])) if str(spec.get("id")).isdigit() else None
            if upload is None:
                continue
            att_id = self.ids.next()
            filename = spec.get("filename") or upload.filename
            url = f"https://cdn.discordapp.com/attachments/{channel_id}/{att_id}/{filename}"
            attachment = {
                "id": str(att_id),
                "filename": filename,
                "size": len(upload.data),
                "url": url,
                "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
                "content_type": _content_type(upload),
            }
            size = _image_size(upload.data)
            if size is not None:  # Discord measures the images it stores
                attachment["width"], attachment["height"] = size
            if spec.get("description"):
                attachment["description"] = spec["description"]
            if spec.get("title"):
                attachment["title"] = spec["title"]
            out.append(attachment)
        return out

    def apply_edit(
        self, record: MessageRecord, payload: JSON, files: Sequence[UploadedFile], *, edited: bool
    ) -> None:
        """PATCH semantics: only the keys present change."""
        message = record.message
        if "content" in payload:
            message["content"] = payload["content"] or ""
        if "content" in payload or "allowed_mentions" in payload:
            allowed = payload.get("allowed_mentions", record.allowed_mentions)
            users, roles, everyone = self.resolve_mentions(
                message["content"], allowed, record.channel_id, int(message["author"]["id"])
            )
            message.update(mentions=users, mention_roles=roles, mention_everyone=everyone)
        if "embeds" in payload:
            message["embeds"] = [_normalise_embed(e) for e in payload["embeds"] or []]
        if "components" in payload:
            message["components"] = number_components(payload["components"] or [])
        if "flags" in payload and payload["flags"] is not None:
            keep = message["flags"] & ~P.MESSAGE_FLAG_SUPPRESS_EMBEDS
            message["flags"] = keep | (int(payload["flags"]) & P.MESSAGE_FLAG_SUPPRESS_EMBEDS)
        if "attachments" in payload or files:
            message["attachments"] = self.build_attachments(
                record.channel_id, payload.get("attachments"), files, message["attachments"]
            )
        if "poll" in payload:
            message["poll"] = payload["poll"]
        if "embeds" in payload or "attachments" in payload or files:
            resolve_attachment_urls(message)
        if edited:
            message["edited_timestamp"] = P.iso(self.clock.time())
        record.payloads.append(payload)
        record.files.extend(files)

    def store_message(self, record: MessageRecord) -> None:
        self.messages[record.id] = record
        if not record.ephemeral:
            self.channel_index.setdefault(record.channel_id, []).append(record.id)
            channel = self.channels.get(record.channel_id)
            if channel is not None:
                channel["last_message_id"] = record.message["id"]

    def content_view(self, message: JSON, guild_id: int | None, *, content_intent: bool) -> JSON:
        """``message`` as the app receives it, over the gateway and REST alike.

        Without the Message Content intent Discord empties ``content``, ``embeds``,
        ``attachments`` and ``components`` and omits ``poll``, except in the app's own
        messages, DMs and messages that mention the app.
        """
        if (
            content_intent
            or guild_id is None
            or int(message["author"]["id"]) == self.bot_id
            or any(int(u["id"]) == self.bot_id for u in message.get("mentions") or [])
        ):
            return message
        hidden = {k: v for k, v in message.items() if k != "poll"}
        hidden.update(content="", embeds=[], attachments=[], components=[])
        return hidden

    def channel_messages(self, channel_id: int, *, include_ephemeral: bool = False) -> list[JSON]:
        """Messages of a channel, oldest first (ephemeral ones only on request)."""
        ids = list(self.channel_index.get(channel_id, []))
        if include_ephemeral:
            ids = sorted(
                {
                    *ids,
                    *(
                        m.id
                        for m in self.messages.values()
                        if m.ephemeral and m.channel_id == channel_id
                    ),
                }
            )
        return [self.messages[i].message for i in ids if not self.messages[i].deleted]


def _normalise_embed(embed: JSON) -> JSON:
    out = P.strip_none(dict(embed))
    out.setdefault("type", "rich")
    return out


def _content_type(upload: UploadedFile) -> str:
    """The type Discord reports: it looks at the file (discord.py sends every file as
    application/octet-stream), then at its name."""
    if upload.data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if upload.data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    guessed, _ = mimetypes.guess_type(upload.filename)
    if guessed is not None:
        return guessed + ("; charset=utf-8" if guessed.startswith("text/") else "")
    return upload.content_type


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or GIF, from its header."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    return None


def resolve_attachment_urls(message: JSON) -> None:
    """Embed images given as ``attachment://name`` point, as Discord returns them, at the
    message's attachment of that name (its CDN url, proxy url and size)."""
    files = {a["filename"]: a for a in message.get("attachments") or []}
    for embed in message.get("embeds") or []:
        for key in ("image", "thumbnail"):
            media = embed.get(key)
            url = media.get("url", "") if isinstance(media, dict) else ""
            if not url.startswith("attachment://"):
                continue
            found = files.get(url.removeprefix("attachment://"))
            if found is None:
                continue  # nothing of that name was sent: the url stays as it came
            media.update(url=found["url"], proxy_url=found["proxy_url"])
            if "width" in found:
                media.update(width=found["width"], height=found["height"])
            media["content_type"] = found["content_type"]


def number_components(components: list[JSON]) -> list[JSON]:
    """Return components as Discord echoes them: unset fields dropped, numeric ``id``s added."""
    counter = 0

    def walk(items: list[JSON]) -> list[JSON]:
        nonlocal counter
        out = []
        for item in items:
            copy = P.strip_none(dict(item))
            counter += 1
            copy.setdefault("id", counter)
            if "components" in copy:
                copy["components"] = walk(copy["components"])
            for key in ("component", "accessory"):
                if isinstance(copy.get(key), dict):
                    copy[key] = walk([copy[key]])[0]
            out.append(copy)
        return out

    return walk(components)
