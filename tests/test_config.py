"""Settings from the environment."""

from __future__ import annotations

import pytest

from stride.config import DEFAULT_DATABASE, ROOT, ConfigError, Settings


def test_defaults() -> None:
    s = Settings.from_env({"DISCORD_TOKEN": "abc"})
    assert s.database_path == DEFAULT_DATABASE
    assert s.log_level == "INFO"
    assert s.dev_guild_id is None


def test_token_is_required_and_the_message_says_where_to_get_one() -> None:
    with pytest.raises(ConfigError, match=r"discord\.com/developers/applications"):
        Settings.from_env({})
    assert Settings.from_env({}, need_token=False).token == ""


def test_token_is_not_in_repr() -> None:
    assert "sekrit" not in repr(Settings.from_env({"DISCORD_TOKEN": "sekrit"}))


def test_relative_paths_are_taken_from_the_project_folder() -> None:
    s = Settings.from_env({"DISCORD_TOKEN": "t", "DATABASE_PATH": "data/other.db"})
    assert s.database_path == ROOT / "data" / "other.db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD' is not a log level"),
        ({"DEV_GUILD_ID": "my server"}, "DEV_GUILD_ID='my server' is not a server id"),
    ],
)
def test_bad_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"DISCORD_TOKEN": "t", **env})
