"""Constants, snowflakes and builders for Discord API objects.

Shapes follow Discord's v10 OpenAPI description (UserResponse, GuildResponse,
GuildRoleResponse, GuildMemberResponse, GuildChannelResponse, MessageResponse,
ApplicationCommandResponse, ...).  Everything is baked in here: nothing reads the
spec at run time.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import time
from collections.abc import Callable
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1420070400000
API_VERSION = 10

# --- permissions (bit positions as in Discord's docs) -------------------------
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
ADD_REACTIONS = 1 << 6
STREAM = 1 << 9
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
MUTE_MEMBERS = 1 << 22
MOVE_MEMBERS = 1 << 24
USE_VAD = 1 << 25
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_EVENTS = 1 << 33
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
USE_EXTERNAL_STICKERS = 1 << 37
SEND_MESSAGES_IN_THREADS = 1 << 38
CREATE_EVENTS = 1 << 44
SEND_VOICE_MESSAGES = 1 << 46
SEND_POLLS = 1 << 49
USE_EXTERNAL_APPS = 1 << 50

#: Every permission bit Discord currently defines (bits 0..52 except 47).
ALL_PERMISSIONS = 8866461766385663

#: What @everyone gets in a freshly created server.
DEFAULT_EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | STREAM
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | USE_VAD
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | USE_EXTERNAL_STICKERS
    | SEND_MESSAGES_IN_THREADS
    | SEND_VOICE_MESSAGES
    | SEND_POLLS
    | USE_EXTERNAL_APPS
)

#: Interaction context types (``context`` of an interaction, ``contexts`` of a command).
CONTEXT_GUILD, CONTEXT_BOT_DM, CONTEXT_PRIVATE_CHANNEL = 0, 1, 2
#: Application integration types (keys of ``authorizing_integration_owners``,
#: ``integration_types`` of a command).
GUILD_INSTALL, USER_INSTALL = 0, 1

#: Permissions of the bot's managed role (a typical invite link: no admin).
DEFAULT_BOT_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

# --- gateway intents ----------------------------------------------------------
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_GUILD_MESSAGE_TYPING = 1 << 11
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_DIRECT_MESSAGE_REACTIONS = 1 << 13
INTENT_DIRECT_MESSAGE_TYPING = 1 << 14
INTENT_MESSAGE_CONTENT = 1 << 15
INTENT_GUILD_SCHEDULED_EVENTS = 1 << 16
#: All intents Discord defines; anything else closes the gateway with 4013.
KNOWN_INTENTS = 53608447
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# --- application flags (GET /applications/@me) ---------------------------------
APP_FLAG_GATEWAY_PRESENCE_LIMITED = 1 << 13
APP_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED = 1 << 15
APP_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19
APP_FLAG_APPLICATION_COMMAND_BADGE = 1 << 23

# --- message flags / types ----------------------------------------------------
MESSAGE_FLAG_SUPPRESS_EMBEDS = 1 << 2
MESSAGE_FLAG_EPHEMERAL = 1 << 6
MESSAGE_FLAG_LOADING = 1 << 7
MESSAGE_FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
MESSAGE_FLAG_IS_COMPONENTS_V2 = 1 << 15

MESSAGE_TYPE_DEFAULT = 0
MESSAGE_TYPE_REPLY = 19
MESSAGE_TYPE_CHAT_INPUT_COMMAND = 20
MESSAGE_TYPE_CONTEXT_MENU_COMMAND = 23

CHANNEL_TYPE_GUILD_TEXT = 0
CHANNEL_TYPE_DM = 1
CHANNEL_TYPE_GUILD_VOICE = 2
CHANNEL_TYPE_GROUP_DM = 3
CHANNEL_TYPE_GUILD_STAGE_VOICE = 13
#: Guild channel types ``add_channel`` builds (text, voice, stage).
GUILD_CHANNEL_TYPES = (CHANNEL_TYPE_GUILD_TEXT, CHANNEL_TYPE_GUILD_VOICE,
                       CHANNEL_TYPE_GUILD_STAGE_VOICE)

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024  # 10 MiB for a guild without boosts


# --- snowflakes -----------------------------------------------------------------
class SnowflakeFactory:
    """Generates time-based snowflakes exactly laid out like Discord's.

    ``(ms since 2015-01-01) << 22 | worker << 17 | process << 12 | increment``.
    """

    def __init__(
        self, worker: int = 1, process: int = 0, clock: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock  # the emulator's (advanceable) wall clock
        self._worker = worker & 0x1F
        self._process = process & 0x1F
        self._last_ms = 0
        self._increment = 0

    def next(self, at: float | None = None) -> int:
        """Return a new unique snowflake for unix time ``at`` (default: now)."""
        ms = int((self._clock() if at is None else at) * 1000) - DISCORD_EPOCH_MS
        self._increment = (self._increment + 1) & 0xFFF
        if at is None:
            # stay monotonic; after 4096 ids in one millisecond borrow the next one
            if ms < self._last_ms or (ms == self._last_ms and self._increment == 0):
                ms = self._last_ms + (1 if self._increment == 0 else 0)
            self._last_ms = ms
        return (ms << 22) | (self._worker << 17) | (self._process << 12) | self._increment


def snowflake_time(snowflake: int) -> float:
    """Unix time (seconds) a snowflake was created at."""
    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000


def iso(ts: float | None = None) -> str:
    """ISO-8601 timestamp the way Discord renders them (``+00:00``, microseconds)."""
    when = dt.datetime.fromtimestamp(time.time() if ts is None else ts, dt.UTC)
    return when.isoformat(timespec="microseconds")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def make_bot_token(application_id: int) -> str:
    """A token shaped like Discord's: ``b64(app id).b64(timestamp).hmac``."""
    first = base64.b64encode(str(application_id).encode()).decode().rstrip("=")
    stamp = _b64(int(time.time() - 1293840000).to_bytes(4, "big"))
    return f"{first}.{stamp}.{_b64(secrets.token_bytes(28))}"


def make_interaction_token(interaction_id: int) -> str:
    """Interaction tokens are long opaque base64 strings prefixed like Discord's."""
    return _b64(f"interaction:{interaction_id}:{secrets.token_hex(48)}".encode())


def application_id_from_token(token: str) -> int | None:
    """Decode the first token segment (base64 of the application id)."""
    first = token.split(".", 1)[0]
    try:
        return int(base64.b64decode(first + "=" * (-len(first) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def snowflake_of(obj: Any) -> int:
    """A payload dict with ``id``, a member dict (``user.id``), an object with an ``id``
    attribute (discord.py models) or a raw id."""
    if isinstance(obj, dict):
        if "id" in obj:
            return int(obj["id"])
        if "user" in obj:
            return int(obj["user"]["id"])
        raise ValueError(f"object without an id: {obj!r}")
    if not isinstance(obj, int | str) and hasattr(obj, "id"):  # discord.py models
        return int(obj.id)
    return int(obj)


def strip_none(data: Any) -> Any:
    """Recursively drop ``None`` values from dicts (Discord omits unset fields)."""
    if isinstance(data, dict):
        return {k: strip_none(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [strip_none(v) for v in data]
    return data


# --- object builders --------------------------------------------------------------
def user_payload(
    user_id: int,
    username: str,
    *,
    bot: bool = False,
    discriminator: str = "0",
    global_name: str | None = None,
) -> JSON:
    """UserResponse."""
    data: JSON = {
        "id": str(user_id),
        "username": username,
        "avatar": None,
        "discriminator": discriminator,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "global_name": global_name,
        "avatar_decoration_data": None,
        "collectibles": None,
        "primary_guild": None,
    }
    if bot:
        data["bot"] = True
    return data


def private_user_payload(user: JSON) -> JSON:
    """UserPIIResponse for GET /users/@me and READY."""
    return {
        **user,
        "mfa_enabled": False,
        "locale": "en-US",
        "premium_type": 0,
        "email": None,
        "verified": True,
        "bio": "",
    }


def role_payload(
    role_id: int,
    name: str,
    permissions: int,
    position: int,
    *,
    color: int = 0,
    hoist: bool = False,
    mentionable: bool = False,
    managed: bool = False,
    tags: JSON | None = None,
) -> JSON:
    """GuildRoleResponse."""
    data: JSON = {
        "id": str(role_id),
        "name": name,
        "description": None,
        "permissions": str(permissions),
        "position": position,
        "color": color,
        "colors": {"primary_color": color, "secondary_color": None, "tertiary_color": None},
        "hoist": hoist,
        "managed": managed,
        "mentionable": mentionable,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }
    if tags is not None:
        data["tags"] = tags
    return data


def text_channel_payload(
    channel_id: int,
    guild_id: int,
    name: str,
    position: int,
    *,
    topic: str | None = None,
    parent_id: int | None = None,
) -> JSON:
    """GuildChannelResponse for a GUILD_TEXT channel."""
    return {
        "id": str(channel_id),
        "type": CHANNEL_TYPE_GUILD_TEXT,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "flags": 0,
        "parent_id": None if parent_id is None else str(parent_id),
        "topic": topic,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "last_pin_timestamp": None,
        "permission_overwrites": [],
        "icon_emoji": None,
        "theme_color": None,
    }


def voice_channel_payload(
    channel_id: int, guild_id: int, name: str, position: int, *, kind: int
) -> JSON:
    """GuildChannelResponse for a GUILD_VOICE (2) or GUILD_STAGE_VOICE (13) channel: no
    ``topic`` on voice (stage channels have one), ``bitrate`` / ``user_limit`` /
    ``rtc_region`` as a new channel has them (automatic region: null)."""
    data: JSON = {
        "id": str(channel_id),
        "type": kind,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "flags": 0,
        "parent_id": None,
        "bitrate": 64000,
        "user_limit": 0,
        "rtc_region": None,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "permission_overwrites": [],
    }
    if kind == CHANNEL_TYPE_GUILD_STAGE_VOICE:
        data["topic"] = None
    return data


def dm_channel_payload(channel_id: int, recipient: JSON) -> JSON:
    """PrivateChannelResponse (type 1)."""
    return {
        "id": str(channel_id),
        "type": CHANNEL_TYPE_DM,
        "last_message_id": None,
        "flags": 0,
        "recipients": [recipient],
    }


def group_dm_channel_payload(channel_id: int, owner: JSON, recipients: list[JSON]) -> JSON:
    """PrivateGroupChannelResponse (type 3): a group DM between users (the bot is never one
    of its ``recipients``)."""
    return {
        "id": str(channel_id),
        "type": CHANNEL_TYPE_GROUP_DM,
        "last_message_id": None,
        "flags": 0,
        "recipients": recipients,
        "name": None,
        "icon": None,
        "owner_id": owner["id"],
        "managed": False,
    }


def member_payload(user: JSON, role_ids: list[int], joined_at: str, *, nick: str | None) -> JSON:
    """GuildMemberResponse."""
    return {
        "user": user,
        "nick": nick,
        "avatar": None,
        "banner": None,
        "roles": [str(r) for r in role_ids],
        "joined_at": joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
        "avatar_decoration_data": None,
        "collectibles": None,
    }


def guild_payload(core: JSON, roles: list[JSON]) -> JSON:
    """GuildResponse (REST) from the emulator's guild core record."""
    return {
        "id": core["id"],
        "name": core["name"],
        "icon": None,
        "description": None,
        "home_header": None,
        "splash": None,
        "discovery_splash": None,
        "features": [],
        "banner": None,
        "owner_id": core["owner_id"],
        "application_id": None,
        "region": "deprecated",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "system_channel_id": core.get("system_channel_id"),
        "system_channel_flags": 0,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": 0,
        "roles": roles,
        "default_message_notifications": 0,
        "mfa_level": 0,
        "explicit_content_filter": 0,
        "max_presences": None,
        "max_members": 500000,
        "max_stage_video_channel_users": 50,
        "max_video_channel_users": 25,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": core.get("preferred_locale", "en-US"),
        "rules_channel_id": None,
        "safety_alerts_channel_id": None,
        "public_updates_channel_id": None,
        "premium_progress_bar_enabled": False,
        "nsfw": False,
        "nsfw_level": 0,
        "emojis": [],
        "stickers": [],
        "incidents_data": None,
    }


def application_payload(app_id: int, bot_user: JSON, owner: JSON, *, name: str, flags: int) -> JSON:
    """PrivateApplicationResponse (GET /applications/@me, /oauth2/applications/@me)."""
    return {
        "id": str(app_id),
        "name": name,
        "icon": None,
        "description": "",
        "type": None,
        "bot": bot_user,
        "summary": "",
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": secrets.token_hex(32),
        "flags": flags,
        "flags_new": str(flags),
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "owner": owner,
        "approximate_guild_count": 0,
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "team": None,
        "eligible_oauth2_scopes": ["applications.commands", "bot"],
        "integration_types_config": {"0": {}},
        "hook": True,
        "is_monetized": False,
        "storefront_available": False,
        "is_verified": False,
        "is_discoverable": False,
        "tags": [],
    }
