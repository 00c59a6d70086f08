"""`bot.py invite`: the link that adds Stride to a server, with exactly the permissions needed."""

from __future__ import annotations

import argparse
import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from ops import invite
from ops.invite import (
    NEEDED,
    PERMISSIONS,
    TokenError,
    application_id,
    invite_url,
    snowflake,
    user_install_url,
)

ROOT = Path(__file__).resolve().parents[2]


def token_for(app_id: int, altchars: bool = False) -> str:
    first = base64.b64encode(str(app_id).encode()).decode().rstrip("=")
    if altchars:
        first = first.replace("+", "-").replace("/", "_")
    return f"{first}.GhIjKl.s3cr3tP4rtOfTheT0ken_abcdefghijklmnop"


def run_invite(*args: str, token: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DISCORD_TOKEN": token}
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), "invite", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_permissions_are_exactly_what_stride_needs() -> None:
    # View Channels 1024 + Send Messages 2048 + Embed Links 16384 + Attach Files 32768
    # + Read Message History 65536
    assert PERMISSIONS.value == 117760
    needed = discord.Permissions(view_channel=True, send_messages=True, embed_links=True,
                                 attach_files=True, read_message_history=True)
    assert needed == PERMISSIONS
    assert len([flag for flag, on in PERMISSIONS if on]) == len(NEEDED) == 5
    not_needed = discord.Permissions(mention_everyone=True,
                                     send_messages_in_threads=True, manage_messages=True)
    assert not PERMISSIONS & not_needed


def test_the_url() -> None:
    assert invite_url(123) == ("https://discord.com/oauth2/authorize?client_id=123"
                               "&scope=bot+applications.commands&permissions=117760")


def test_the_user_install_url() -> None:
    assert user_install_url(123) == ("https://discord.com/oauth2/authorize?client_id=123"
                                     "&integration_type=1&scope=applications.commands")


@pytest.mark.parametrize("app_id", [1, 80351110224678912, 123456789012345678,
                                    1234567890123456789, 2**64 - 1])
def test_the_application_id_is_read_from_the_token(app_id: int) -> None:
    assert application_id(token_for(app_id)) == app_id
    assert application_id(token_for(app_id, altchars=True)) == app_id


@pytest.mark.parametrize("token", [
    "garbage", "x.y.z", "Bot " + token_for(5), "MTIz", "....", "aGVsbG8.x.y",  # 'hello'
    base64.b64encode(str(2**64).encode()).decode() + ".x.y",  # not a 64-bit id
    "\u00e9\u00e9\u00e9.x.y",
])
def test_a_garbage_token_is_refused_without_echoing_it(token: str) -> None:
    with pytest.raises(TokenError, match="does not look like a bot token") as caught:
        application_id(token)
    assert token not in str(caught.value)


@pytest.mark.parametrize("text", ["abc", "-5", "0", "1.5", str(2**64), ""])
def test_app_id_option_rejects_what_is_not_an_id(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="is not a Discord id"):
        snowflake(text)


def test_invite_with_app_id_needs_no_token() -> None:
    result = run_invite("--app-id", "123")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert ("https://discord.com/oauth2/authorize?client_id=123&scope=bot+applications.commands"
            "&permissions=117760") in lines
    for _, name, _ in NEEDED:
        assert any(line.strip().startswith(name) for line in lines), name
    assert "integer 117760" in result.stdout
    assert ("https://discord.com/oauth2/authorize?client_id=123&integration_type=1"
            "&scope=applications.commands") in lines
    assert "blocks external apps" in result.stdout


def test_invite_reads_the_application_from_the_token() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert invite.run(None, {"DISCORD_TOKEN": token_for(987654321098765432)}, out, err) == 0
    assert "client_id=987654321098765432&" in out.getvalue()
    assert "from DISCORD_TOKEN" in out.getvalue()
    assert "s3cr3t" not in out.getvalue() + err.getvalue()


def test_invite_without_token_or_app_id_says_where_to_find_either() -> None:
    err = io.StringIO()
    assert invite.run(None, {}, io.StringIO(), err) == 2
    assert "DISCORD_TOKEN is not set" in err.getvalue() and "--app-id" in err.getvalue()


def test_invite_with_a_garbage_token_says_what_to_do() -> None:
    result = run_invite(token="not-a-token-s3cr3t")
    assert result.returncode == 2
    assert "DISCORD_TOKEN does not look like a bot token" in result.stderr
    assert "--app-id" in result.stderr
    assert "s3cr3t" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_the_readme_states_the_same_permissions() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert f"permissions={PERMISSIONS.value}" in readme
    assert f"`{PERMISSIONS.value}`" in readme
    assert "52224" not in readme and "84992" not in readme  # earlier integers
    for _, name, _ in NEEDED:
        assert name in readme


def test_the_readme_gives_the_user_install_link() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "integration_type=1&scope=applications.commands" in readme
    assert "external apps" in readme and "ephemeral" in readme
