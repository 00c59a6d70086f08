"""What emulated users do: slash commands, autocomplete, buttons, selects, modals.

:class:`UserActions` is mixed into :class:`~tests.emulator.emulator.DiscordEmulator`;
each action builds a real-shaped INTERACTION_CREATE (or MESSAGE_CREATE), sends it
through the gateway and returns an :class:`InteractionRecord` to await on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import payloads as P
from .records import InteractionRecord, MessageRecord

if TYPE_CHECKING:
    from .gateway import Gateway
    from .world import World

JSON = dict[str, Any]

# application command option types
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 6, 7, 8, 9, 10, 11

# interaction types
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5


class Option:
    """Explicitly typed slash-command option value, e.g. ``Option(NUMBER, 5)``."""

    def __init__(self, type: int, value: Any) -> None:
        self.type = type
        self.value = value


@dataclass
class ActionDefaults:
    """Where and as whom an action happens when it names no ``guild``/``channel``/``member``.

    ``None`` (the emulator's default): the first guild, its first channel, and no member
    (an action must then name one).  A test world sets them once (``emu.defaults = ...``).
    """

    guild: JSON | None = None
    channel: JSON | None = None
    member: JSON | None = None


class UserActions:
    """Interaction and message helpers (needs ``world``, ``gateway``, command stores)."""

    #: Who acts, and where, when an action does not say (see :class:`ActionDefaults`).
    defaults: ActionDefaults

    if TYPE_CHECKING:
        world: World
        gateway: Gateway
        ids: P.SnowflakeFactory
        application_id: int
        strict_commands: bool
        enforce_command_permissions: bool
        enforce_command_contexts: bool
        interactions: dict[int, InteractionRecord]
        interactions_by_token: dict[str, InteractionRecord]
        global_commands: dict[int, JSON]
        guild_commands: dict[int, dict[int, JSON]]
        _fallback_command_ids: dict[str, int]

        async def dispatch_message_create(self, record: MessageRecord) -> None: ...

    # ------------------------------------------------------------------ users acting
    async def user_message(self, content: str, *, member: Any = None, channel: Any = None) -> JSON:
        """A user posts a plain message (MESSAGE_CREATE to the bot, subject to intents)."""
        channel_id = P.snowflake_of(channel if channel is not None else self.defaults.channel)
        guild_id = self.world.channel_guild.get(channel_id)
        user = self._user_of(member if member is not None else self.defaults.member)
        message_id = self.world.next_message_id()
        message = self.world.build_message(
            message_id, channel_id, {"content": content}, author=user
        )
        record = MessageRecord(
            message,
            channel_id,
            guild_id,
            "user",
            payloads=[{"content": content}],
            created_wall=self.world.clock.time(),
        )
        self.world.store_message(record)
        await self.dispatch_message_create(record)
        return message

    def _user_of(self, who: Any) -> JSON:
        if isinstance(who, dict) and "user" in who:
            return who["user"]
        return self.world.users[P.snowflake_of(who)]

    # ------------------------------------------------------------------ interactions
    def find_command(self, name: str, guild_id: int | None, kind: int = 1) -> JSON | None:
        """The synced command ``name`` visible in ``guild_id`` (guild commands win)."""
        pools = []
        if guild_id is not None:
            pools.append(self.guild_commands.get(guild_id, {}))
        pools.append(self.global_commands)
        for pool in pools:
            for command in pool.values():
                if command["name"] == name and command.get("type", 1) == kind:
                    return command
        return None

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        guild: Any = None,
        channel: Any = None,
        member: Any = None,
        subcommand: str | None = None,
        group: str | None = None,
        dm: bool = False,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """A user runs ``/name [group] [subcommand] options...`` (interaction type 2)."""
        return await self._command_interaction(
            APPLICATION_COMMAND,
            name,
            options or {},
            None,
            guild,
            channel,
            member,
            subcommand,
            group,
            dm,
            locale,
        )

    async def autocomplete(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        focused: str | None = None,
        *,
        guild: Any = None,
        channel: Any = None,
        member: Any = None,
        subcommand: str | None = None,
        group: str | None = None,
        dm: bool = False,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """A user types into option ``focused`` of ``/name`` (interaction type 4)."""
        options = dict(options or {})
        if focused is None:
            if len(options) != 1:
                raise ValueError("say which option is focused")
            focused = next(iter(options))
        options.setdefault(focused, "")
        return await self._command_interaction(
            AUTOCOMPLETE,
            name,
            options,
            focused,
            guild,
            channel,
            member,
            subcommand,
            group,
            dm,
            locale,
        )

    async def _command_interaction(
        self,
        itype: int,
        name: str,
        values: dict[str, Any],
        focused: str | None,
        guild: Any,
        channel: Any,
        member: Any,
        subcommand: str | None,
        group: str | None,
        dm: bool,
        locale: str,
    ) -> InteractionRecord:
        guild_id, channel_id, user = self._context(guild, channel, member, dm)
        command = self.find_command(name, guild_id)
        if command is None and self.strict_commands:
            raise ValueError(f"/{name} was never synced; Discord would not offer it")
        context = self.world.context_of(channel_id)
        owners = self._authorizing_owners(command, context, guild_id, user)
        if command is not None:
            self._check_command_usable(command, context, owners, guild_id, channel_id, user)
        resolved: JSON = {}
        schema = None if command is None else command.get("options") or []
        path = [p for p in (group, subcommand) if p]
        for part in path:
            if schema is not None:
                found = next((o for o in schema if o["name"] == part), None)
                if found is None:
                    raise ValueError(f"/{name} has no subcommand or group {part!r}")
                schema = found.get("options") or []
        leaf = self._build_options(values, schema, focused, resolved, guild_id, channel_id, itype)
        options = leaf
        if subcommand:
            options = [{"type": SUB_COMMAND, "name": subcommand, "options": options}]
        if group:
            options = [{"type": SUB_COMMAND_GROUP, "name": group, "options": options}]
        data: JSON = {"id": str(self._command_id(name, command)), "name": name, "type": 1}
        if options:
            data["options"] = options
        if resolved:
            data["resolved"] = resolved
        if command is not None and command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._send_interaction(
            itype, data, guild_id, channel_id, user, locale=locale, context=context,
            owners=owners,
        )

    def _authorizing_owners(
        self, command: JSON | None, context: int, guild_id: int | None, user: JSON
    ) -> JSON:
        """``authorizing_integration_owners`` of a command used here: ``"0"`` (guild install)
        the guild's id where the app is in the server, ``"0"`` in the bot's DM; ``"1"``
        (user install) the user's id if they added the app to their account.  Only the
        install types the command's ``integration_types`` allow (default: guild install)."""
        types = [P.GUILD_INSTALL, P.USER_INSTALL] if command is None else (
            command.get("integration_types") or [P.GUILD_INSTALL]
        )
        owners: JSON = {}
        if P.GUILD_INSTALL in types:
            if context == P.CONTEXT_GUILD and self.world.bot_in_guild(guild_id):
                owners[str(P.GUILD_INSTALL)] = str(guild_id)
            elif context == P.CONTEXT_BOT_DM:
                owners[str(P.GUILD_INSTALL)] = "0"
        if P.USER_INSTALL in types and int(user["id"]) in self.world.user_installs:
            owners[str(P.USER_INSTALL)] = str(user["id"])
        if not owners and command is None:  # never synced (strict_commands off): as before
            owners[str(P.GUILD_INSTALL)] = str(guild_id) if guild_id is not None else "0"
        return owners

    def _check_command_usable(
        self, command: JSON, context: int, owners: JSON, guild_id: int | None,
        channel_id: int, user: JSON,
    ) -> None:
        """Refuse what the Discord client would not let a user run: a command whose
        ``contexts`` leave this context out, or that no installation reaches here (a
        guild-install-only command in a group DM or a server that never added the app)."""
        name = command["name"]
        if not self.enforce_command_contexts:
            return self._check_member_permissions(command, guild_id, channel_id, user)
        contexts = command.get("contexts")
        if contexts is not None and context not in contexts:
            raise ValueError(f"/{name} is not available in context {context} "
                             f"(its contexts: {contexts})")
        if guild_id is None and command.get("dm_permission") is False:
            raise ValueError(f"/{name} is guild-only")
        if not owners:
            raise ValueError(
                f"/{name} is not installed here: integration_types "
                f"{command.get('integration_types')}, context {context} (the app is not in "
                "this server, or the user has not added it to their account)"
            )
        self._check_member_permissions(command, guild_id, channel_id, user)

    def _check_member_permissions(
        self, command: JSON, guild_id: int | None, channel_id: int, user: JSON
    ) -> None:
        required = command.get("default_member_permissions")
        if guild_id is not None and required is not None and self.enforce_command_permissions:
            have = self.world.channel_permissions(channel_id, int(user["id"]))
            if have & int(required) != int(required):
                raise PermissionError(
                    f"{user['username']} lacks permissions {required} for /{command['name']}; "
                    "Discord hides the command (set enforce_command_permissions=False to "
                    "send it anyway)"
                )

    def _command_id(self, name: str, command: JSON | None) -> int:
        if command is not None:
            return int(command["id"])
        if name not in self._fallback_command_ids:
            self._fallback_command_ids[name] = self.ids.next()
        return self._fallback_command_ids[name]

    def _build_options(
        self,
        values: dict[str, Any],
        schema: list[JSON] | None,
        focused: str | None,
        resolved: JSON,
        guild_id: int | None,
        channel_id: int,
        itype: int,
    ) -> list[JSON]:
        out = []
        by_name = {o["name"]: o for o in schema or []}
        if schema is not None and itype == APPLICATION_COMMAND:
            missing = [o["name"] for o in schema if o.get("required") and o["name"] not in values]
            if missing:
                raise ValueError(f"required options missing: {missing}")
        for opt_name, raw in values.items():
            spec = by_name.get(opt_name)
            if schema is not None and spec is None:
                raise ValueError(f"unknown option {opt_name!r}; synced options: {sorted(by_name)}")
            value = raw.value if isinstance(raw, Option) else raw
            if isinstance(raw, Option):
                otype = raw.type
            elif spec is not None:
                otype = spec["type"]
            else:
                otype = _infer_option_type(value)
            entry: JSON = {"name": opt_name, "type": otype}
            if opt_name == focused:
                # Discord sends what the user has typed so far, always as a string
                entry["value"] = "" if value is None else str(value)
                entry["focused"] = True
            else:
                entry["value"] = self._option_value(otype, value, resolved, guild_id, channel_id)
                if spec is not None and spec.get("choices"):
                    allowed = [c["value"] for c in spec["choices"]]
                    if entry["value"] not in allowed:
                        raise ValueError(f"{opt_name}={entry['value']!r} is not one of {allowed}")
            out.append(entry)
        return out

    def _option_value(
        self, otype: int, value: Any, resolved: JSON, guild_id: int | None, channel_id: int
    ) -> Any:
        if otype == STRING:
            return str(value)
        if otype == INTEGER:
            return int(value)
        if otype == NUMBER:
            return value
        if otype == BOOLEAN:
            return bool(value)
        if otype in (USER, MENTIONABLE) and not (
            isinstance(value, dict) and "permissions" in value
        ):
            user = self._user_of(value)
            resolved.setdefault("users", {})[user["id"]] = user
            member = self.world.member(guild_id, int(user["id"])) if guild_id else None
            if member is not None:
                perms = self.world.channel_permissions(channel_id, int(user["id"]))
                partial = {k: v for k, v in member.items() if k != "user"}
                resolved.setdefault("members", {})[user["id"]] = {
                    **partial,
                    "permissions": str(perms),
                }
            return user["id"]
        if otype in (ROLE, MENTIONABLE):
            role_id = P.snowflake_of(value)
            assert guild_id is not None, "role options need a guild"
            resolved.setdefault("roles", {})[str(role_id)] = self.world.guilds[guild_id].roles[
                role_id
            ]
            return str(role_id)
        if otype == CHANNEL:
            ch = self.world.channels[P.snowflake_of(value)]
            perms = self.world.channel_permissions(int(ch["id"]), 0)
            resolved.setdefault("channels", {})[ch["id"]] = {**ch, "permissions": str(perms)}
            return ch["id"]
        if otype == ATTACHMENT:
            filename, data = value
            att_id = str(self.ids.next())
            url = (
                f"https://cdn.discordapp.com/ephemeral-attachments/{channel_id}/{att_id}/{filename}"
            )
            resolved.setdefault("attachments", {})[att_id] = {
                "id": att_id,
                "filename": filename,
                "size": len(data),
                "url": url,
                "proxy_url": url,
                "ephemeral": True,
            }
            return att_id
        return value

    async def click(
        self,
        message: Any,
        custom_id: str,
        *,
        member: Any = None,
        guild: Any = None,
        channel: Any = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """A user presses the button ``custom_id`` on ``message`` (interaction type 3)."""
        return await self._component(message, custom_id, None, member, guild, channel, locale)

    async def select(
        self,
        message: Any,
        custom_id: str,
        values: Sequence[str],
        *,
        member: Any = None,
        guild: Any = None,
        channel: Any = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """A user picks ``values`` in the select menu ``custom_id`` (interaction type 3)."""
        return await self._component(
            message, custom_id, list(values), member, guild, channel, locale
        )

    async def _component(
        self,
        message: Any,
        custom_id: str,
        values: list[str] | None,
        member: Any,
        guild: Any,
        channel: Any,
        locale: str,
    ) -> InteractionRecord:
        record = self.world.messages.get(P.snowflake_of(message))
        if record is None or record.deleted:
            raise ValueError("the message is unknown to the emulator or deleted")
        current = record.message
        component = _find_component(current.get("components") or [], custom_id)
        if component is None:
            raise ValueError(f"no component with custom_id {custom_id!r} on the message")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; users cannot use it")
        data: JSON = {"custom_id": custom_id, "component_type": component["type"]}
        if "id" in component:
            data["id"] = component["id"]
        if values is not None:
            if component["type"] == 2:
                raise ValueError(f"{custom_id!r} is a button; use click()")
            if component["type"] == 3:
                options = [o["value"] for o in component.get("options") or []]
                bad = [v for v in values if v not in options]
                if bad:
                    raise ValueError(f"{bad} are not options of {custom_id!r}: {options}")
            low, high = component.get("min_values", 1), component.get("max_values", 1)
            if not low <= len(values) <= high:
                raise ValueError(f"select {custom_id!r} takes {low}..{high} values")
            data["values"] = values
        elif component["type"] != 2:
            raise ValueError(f"{custom_id!r} is a select menu; use select()")
        ch = channel if channel is not None else record.channel_id
        gd = guild if guild is not None else record.guild_id
        guild_id, channel_id, user = self._context(gd, ch, member, False)
        # A component carries the owners of the interaction whose answer holds it; the
        # bot's own posts are its guild install's (or its DM's).
        metadata = current.get("interaction_metadata") or {}
        owners = metadata.get("authorizing_integration_owners") or {
            str(P.GUILD_INSTALL): str(guild_id) if guild_id is not None else "0"
        }
        rec = await self._send_interaction(
            MESSAGE_COMPONENT,
            data,
            guild_id,
            channel_id,
            user,
            message=current,
            locale=locale,
            source_message_id=record.id,
            owners=dict(owners),
        )
        return rec

    async def submit_modal(
        self,
        shown: InteractionRecord,
        values: dict[str, str],
        *,
        member: Any = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """A user submits the modal the bot showed in answer to ``shown`` (type 5)."""
        modal = shown.modal
        if modal is None:
            raise ValueError("that interaction was not answered with a modal")
        components = []
        for top in modal.get("components") or []:
            if top.get("type") == 1:
                row = [_submitted_input(c, values) for c in top.get("components") or []]
                components.append({"type": 1, "id": top.get("id", 0), "components": row})
            elif top.get("type") == 18:
                inner = _submitted_input(top["component"], values)
                components.append({"type": 18, "id": top.get("id", 0), "component": inner})
            elif top.get("type") == 10:
                components.append(
                    {"type": 10, "id": top.get("id", 0), "content": top.get("content", "")}
                )
        data = {"custom_id": modal["custom_id"], "components": components}
        payload = shown.payload
        who = member if member is not None else (payload.get("member") or payload.get("user"))
        source_message = payload.get("message")
        return await self._send_interaction(
            MODAL_SUBMIT,
            data,
            int(payload["guild_id"]) if payload.get("guild_id") else None,
            int(payload["channel_id"]),
            self._user_of(who),
            message=source_message,
            locale=locale,
            source_message_id=shown.source_message_id,
            owners=dict(payload["authorizing_integration_owners"]),
        )

    def _context(
        self, guild: Any, channel: Any, member: Any, dm: bool
    ) -> tuple[int | None, int, JSON]:
        """Resolve (guild_id, channel_id, user), falling back to ``self.defaults``."""
        defaults = self.defaults
        user = self._user_of(member if member is not None else defaults.member)
        if dm:
            return None, int(self.world.dm_channel(int(user["id"]))["id"]), user
        if guild is None and channel is not None:  # a DM, a group DM, or a guild's channel
            guild_id = self.world.channel_guild.get(P.snowflake_of(channel))
            if guild_id is None:
                return None, P.snowflake_of(channel), user
        elif guild is None:
            guild_id = (
                P.snowflake_of(defaults.guild) if defaults.guild else next(iter(self.world.guilds))
            )
        else:
            guild_id = P.snowflake_of(guild)
        g = self.world.guilds[guild_id]
        if channel is None:
            default = (
                defaults.channel
                if defaults.channel and int(defaults.channel["id"]) in g.channels
                else None
            )
            channel = default or next(iter(g.channels.values()))
        channel_id = P.snowflake_of(channel)
        if int(user["id"]) not in g.members:
            raise ValueError(f"{user['username']} is not a member of {g.core['name']}")
        return guild_id, channel_id, user

    async def _send_interaction(
        self,
        itype: int,
        data: JSON,
        guild_id: int | None,
        channel_id: int,
        user: JSON,
        *,
        message: JSON | None = None,
        locale: str = "en-US",
        source_message_id: int | None = None,
        context: int | None = None,
        owners: JSON | None = None,
    ) -> InteractionRecord:
        interaction_id = self.ids.next()
        token = P.make_interaction_token(interaction_id)
        user_id = int(user["id"])
        world = self.world
        if context is None:
            context = world.context_of(channel_id)
        if owners is None:
            owners = {str(P.GUILD_INSTALL): str(guild_id) if guild_id is not None else "0"}
        guild_installed = str(P.GUILD_INSTALL) in owners and world.bot_sees_channel(channel_id)
        channel = dict(world.channels[channel_id])
        user_perms = world.channel_permissions(channel_id, user_id)
        channel["permissions"] = str(user_perms)
        # The app's permissions where it answers: the bot's where it is; a user install's
        # elsewhere (in a server that never added it, as @everyone's; in group DMs, a DM's).
        app_permissions = world.channel_permissions(
            channel_id, world.bot_id if world.bot_sees_channel(channel_id) else 0
        )
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "channel": channel,
            "channel_id": str(channel_id),
            "token": token,
            "version": 1,
            "app_permissions": str(app_permissions),
            "context": context,
            "authorizing_integration_owners": owners,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": P.ATTACHMENT_SIZE_LIMIT,
        }
        if guild_id is not None:
            guild = self.world.guilds[guild_id]
            member = dict(guild.members[user_id])
            member["permissions"] = channel["permissions"]
            member["unusual_dm_activity_until"] = None
            payload.update(
                guild_id=str(guild_id),
                guild={
                    "id": str(guild_id),
                    "locale": guild.core.get("preferred_locale", "en-US"),
                    "features": [],
                },
                guild_locale=guild.core.get("preferred_locale", "en-US"),
                member=member,
            )
        else:
            payload["user"] = user
        if message is not None:
            payload["message"] = message
        rec = InteractionRecord(interaction_id, token, payload)
        rec.source_message_id = source_message_id
        # A server that blocks external apps (the member lacks USE_EXTERNAL_APPS): Discord
        # makes the answers of an app only the member installed ephemeral.
        rec.force_ephemeral = (
            guild_id is not None and not guild_installed
            and not user_perms & P.USE_EXTERNAL_APPS
        )
        self.interactions[interaction_id] = rec
        self.interactions_by_token[token] = rec
        rec.sent_at = time.perf_counter()
        delivered = await self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=guild_id)
        if not delivered:
            raise RuntimeError(
                "no gateway session receives this interaction (is the bot connected?)"
            )
        return rec


def _infer_option_type(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, dict):
        if "username" in value or "user" in value:
            return USER
        if "permissions" in value and "color" in value:
            return ROLE
        if "type" in value and "name" in value:
            return CHANNEL
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], bytes):
        return ATTACHMENT
    return STRING


def _find_component(components: list[JSON], custom_id: str) -> JSON | None:
    for comp in components:
        if comp.get("custom_id") == custom_id:
            return comp
        for key in ("components",):
            found = _find_component(comp.get(key) or [], custom_id)
            if found is not None:
                return found
        for key in ("component", "accessory"):
            if isinstance(comp.get(key), dict):
                found = _find_component([comp[key]], custom_id)
                if found is not None:
                    return found
    return None


def _submitted_input(component: JSON, values: dict[str, str]) -> JSON:
    custom_id = component["custom_id"]
    out: JSON = {"type": component["type"], "id": component.get("id", 0), "custom_id": custom_id}
    value = values.get(custom_id, component.get("value") or "")
    if component["type"] == 4:
        out["value"] = value
    else:
        out["values"] = list(value) if isinstance(value, list | tuple) else [value]
    return out
