"""Checks shared by the hostile-input and security tests: what the bot answered, and which
mentions its messages were allowed to make (what the database holds: TestDatabase)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from tests.emulator.emulator import DiscordEmulator
from tests.emulator.records import InteractionRecord, RequestRecord

JSON = dict[str, Any]

ERROR_TITLE = "Hmm, that didn't work"
UNEXPECTED = "Something went wrong on our side"
# A mention Discord would turn into a ping (or a clickable mention) if it were in content.
RAW_MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d+>")

# Routes whose body is a message the bot sends or edits (interaction callbacks are checked by
# their type: 4 = message, 7 = update message).
MESSAGE_ROUTES = (
    "POST /channels/{channel_id}/messages",
    "PATCH /channels/{channel_id}/messages/{message_id}",
    "POST /webhooks/{application_id}/{token}",
    "PATCH /webhooks/{application_id}/{token}/messages/@original",
    "PATCH /webhooks/{application_id}/{token}/messages/{message_id}",
)
CALLBACK_ROUTE = "POST /interactions/{interaction_id}/{token}/callback"


def answer_of(rec: InteractionRecord) -> JSON:
    """The message the member ended up seeing for an interaction (after a defer: the
    followup that replaced the loading message)."""
    if rec.message is not None:
        return rec.message
    return (rec.response or {}).get("data") or {}


def message_text(message: JSON) -> str:
    """Everything readable in a message: content and every embed's text."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [(embed.get("author") or {}).get("name") or ""]
        for f in embed.get("fields") or []:
            parts += [f.get("name") or "", f.get("value") or ""]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(parts)


def is_error(message: JSON) -> bool:
    embeds = message.get("embeds") or []
    return bool(embeds) and embeds[0].get("title") == ERROR_TITLE


def assert_clean_text(text: str) -> None:
    """No traceback, no 'unexpected error', no live mention, no control or direction-changing
    characters: what a member typed is never echoed raw."""
    assert "Traceback" not in text and UNEXPECTED not in text, text
    assert RAW_MENTION.search(text) is None, text
    bad = [c for c in text if c not in "\n" and unicodedata.category(c) in ("Cc", "Cf")
           and c not in ("\u200b", "\u200d", "\ufe0f")]  # escape_mentions' ZWSP; emoji joiners
    assert not bad, (bad, text)


def bot_message_requests(emu: DiscordEmulator) -> Iterator[tuple[RequestRecord, JSON]]:
    """Every message body the bot sent or edited (channel posts, DMs, interaction answers,
    followups, edits), with its request."""
    for record in emu.requests:
        body = record.json if isinstance(record.json, dict) else None
        if body is None:
            continue
        if record.route == CALLBACK_ROUTE:
            if body.get("type") in (4, 7):
                yield record, body.get("data") or {}
        elif record.route in MESSAGE_ROUTES:
            yield record, body


def assert_mentions_locked(emu: DiscordEmulator, role_pings: dict[int, int] | None = None
                           ) -> int:
    """Every message the bot sent says allowed_mentions with parse == [] (no @everyone, no
    roles, no users from the text), users never listed, and roles listed only for reminder
    posts, and then only the reminder's configured role. `role_pings`: channel id -> the one
    role a reminder there may ping. Returns how many bodies were checked."""
    role_pings = role_pings or {}
    checked = 0
    for record, body in bot_message_requests(emu):
        allowed = body.get("allowed_mentions")
        where = f"{record.method} {record.path}"
        assert isinstance(allowed, dict), f"{where} sent no allowed_mentions: {body}"
        assert allowed.get("parse") == [], (where, allowed)
        assert not allowed.get("users"), (where, allowed)
        assert not allowed.get("replied_user"), (where, allowed)
        roles = [int(r) for r in allowed.get("roles") or []]
        if roles:
            assert record.route == "POST /channels/{channel_id}/messages", (where, allowed)
            channel_id = int(record.path.split("/")[2])
            assert roles == [role_pings.get(channel_id)], (where, allowed, role_pings)
            assert body.get("content") == f"<@&{roles[0]}>", body.get("content")
        checked += 1
    return checked


def assert_nobody_pinged(emu: DiscordEmulator, role_pings: dict[int, int] | None = None
                         ) -> None:
    """What Discord made of it: no message by the bot mentions anyone, except a reminder's
    configured role."""
    role_pings = role_pings or {}
    bot_id = emu.world.bot_id
    for record in emu.world.messages.values():
        if int(record.message["author"]["id"]) != bot_id:
            continue
        message = record.message
        assert message["mentions"] == [], message
        assert message["mention_everyone"] is False, message
        allowed = [str(role_pings[record.channel_id])] if record.channel_id in role_pings else []
        assert set(message["mention_roles"]) <= set(allowed), (message, allowed)
