"""Checks for embeds built by ui/, against Discord's rules rather than the code's own numbers:
the size limits are the emulator's (tests/emulator/limits.py, the same rules that answer the
real bot with 400 50035 in the end-to-end tests), and text is checked as the e2e tests do."""

from __future__ import annotations

import re
from typing import Any

import discord

from tests.e2e.guards import assert_clean_text
from tests.emulator.limits import FormErrors, check_message, embed_length

JSON = dict[str, Any]
# A mention Discord would render: a member, role or channel ("<@1>", "<@!1>", "<@&1>",
# "<#1>"), a command ("</name:1>"), or everyone.
LIVE_MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#)\d+>|</[^>\s]+:\d+>")


def assert_fits(embed: discord.Embed) -> JSON:
    """The embed as sent (``to_dict``), after checking that Discord would take it: every
    length limit, at most 25 fields, each with a name and a value, 6000 characters in all."""
    data = embed.to_dict()
    errors = FormErrors()
    check_message({"embeds": [data]}, errors)
    assert not errors, list(errors.flat())
    assert embed_length(data) <= 6000
    for field in data.get("fields", []):
        assert field["name"].strip() and field["value"].strip(), field  # Discord: 1+ characters
    return data


def text_of(data: JSON) -> str:
    """Everything a reader sees in an embed (as sent), one part a line."""
    parts = [data.get("title", ""), data.get("description", ""),
             (data.get("author") or {}).get("name", "")]
    parts += [f"{f['name']}\n{f['value']}" for f in data.get("fields", [])]
    parts.append((data.get("footer") or {}).get("text", ""))
    return "\n".join(p for p in parts if p)


def assert_safe(text: str) -> None:
    """Nothing a member typed can mention anyone or reorder the text around it."""
    assert LIVE_MENTION.search(text) is None, text
    assert_clean_text(text)
