"""deploy/stride.service and deploy/stride@.service: the systemd units that run Stride on a
server, as one process or as one instance per group of shards."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

import bot
from stride.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SINGLE = ROOT / "deploy" / "stride.service"
TEMPLATE = ROOT / "deploy" / "stride@.service"


@pytest.fixture(params=[SINGLE, TEMPLATE], ids=["stride", "stride@"])
def path(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


def parsed(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text("utf-8"))
    return parser


def test_the_unit_runs_bot_py_from_its_folder_as_a_dedicated_user(path: Path) -> None:
    service = parsed(path)["Service"]
    home = Path(service["WorkingDirectory"])
    assert home.is_absolute()
    assert service["User"] == service["Group"] == "stride"
    command = shlex.split(service["ExecStart"])
    if path == TEMPLATE:  # the instance's shards first, over whatever .env says
        assert command[:2] == ["/usr/bin/env", "SHARD_IDS=%i"]
        command = command[2:]
    assert command == [str(home / ".venv/bin/python"), str(home / "bot.py")]
    assert service["EnvironmentFile"] == str(home / ".env")
    assert str(home / "data") in service["ReadWritePaths"].split()
    assert parsed(path)["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in parsed(path)["Unit"]["After"]


def test_restarts_on_failure_but_not_for_a_problem_only_a_person_can_fix(path: Path) -> None:
    service = parsed(path)["Service"]
    assert service["Restart"] == "on-failure"
    assert int(service["RestartSec"]) >= 5
    # bot.py exits with 2 when a setting, the data file, the database or the token is wrong.
    assert service["RestartPreventExitStatus"] == "2"


def test_stops_with_sigterm_and_waits_longer_than_the_bot_s_own_bound(path: Path) -> None:
    service = parsed(path)["Service"]
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) == 15
    assert int(service["TimeoutStopSec"]) > getattr(bot, "STOP_SECONDS", 10)


def test_is_hardened(path: Path) -> None:
    service = parsed(path)["Service"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict",
                       "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
                       "CapabilityBoundingSet": "", "UMask": "0077"}.items():
        assert service[key] == value, key


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_unit(path: Path, tmp_path: Path) -> None:
    """`systemd-analyze verify` on the unit, its paths moved into a stand-in install."""
    home = tmp_path / "stride"
    (home / ".venv" / "bin").mkdir(parents=True)
    (home / "data").mkdir()
    python = home / ".venv" / "bin" / "python"
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    (home / "bot.py").touch()
    (home / ".env").touch()
    installed = tmp_path / path.name
    installed.write_text(path.read_text("utf-8").replace("/opt/stride", str(home)), "utf-8")
    if path == TEMPLATE:  # a template is verified as one of its instances
        installed = installed.with_name("stride@0-1.service")
        installed.symlink_to(tmp_path / path.name)
    result = subprocess.run(["systemd-analyze", "verify", str(installed)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # no unknown key, no warning


def test_each_instance_runs_the_shards_its_name_gives() -> None:
    """stride@4-7 runs shards 4 to 7: the instance name is SHARD_IDS, as Settings reads it."""
    service = parsed(TEMPLATE)["Service"]
    assert "SHARD_IDS=%i" in shlex.split(service["ExecStart"])
    settings = Settings.from_env({"DISCORD_TOKEN": "t", "SHARD_COUNT": "8", "SHARD_IDS": "4-7",
                                  "DATABASE_URL": "postgresql://stride@db/stride"})
    assert settings.shard_ids == (4, 5, 6, 7) and settings.processes == 2
