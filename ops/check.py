"""`bot.py check`: is this installation ready to run? Offline, no token needed, changes nothing.

Checks the settings, the installed packages, the exercise data file and the database (on a
copy: integrity, and the migrations the next start would apply), then lists the slash
commands `bot.py sync` would register. Every problem is one line saying how to fix it; the
exit code is 0 only when there is none.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TextIO

import discord
from discord import app_commands
from discord.ext import commands

from stride.catalog import Catalog, CatalogError, load_catalog
from stride.config import ROOT, TOKEN_HELP, ConfigError, Settings
from stride.figures import FigureLibrary, library_figures, shipped_folder
from stride.storage import SchemaError, SqliteStorage
from stride.storage.inspection import integrity_problems, snapshot
from stride.storage.migrations import available
from stride.storage.sqlite import prepare
from ui.command_tree import Root, leaf_commands, slash_roots

from .invite import TokenError, application_id

BotFactory = Callable[..., commands.Bot | commands.AutoShardedBot]
"""Builds the bot without connecting: (settings, catalog, storage, *, background=False)."""

LOG_ROTATION = "rotated at 5 MB, 5 old files kept"
OPTION_TYPES = {
    discord.AppCommandOptionType.string: "text",
    discord.AppCommandOptionType.integer: "whole number",
    discord.AppCommandOptionType.number: "number",
    discord.AppCommandOptionType.boolean: "true/false",
    discord.AppCommandOptionType.user: "member",
    discord.AppCommandOptionType.channel: "channel",
    discord.AppCommandOptionType.role: "role",
    discord.AppCommandOptionType.mentionable: "member or role",
    discord.AppCommandOptionType.attachment: "file",
}
PERMISSION_NAMES = {"manage_guild": "Manage Server"}
RESTORE = ("stop the bot and restore the database from a backup"
           " (docs/operating.md: Backups and restore)")


@dataclass
class Report:
    """Prints each finding as it is made; remembers the problems."""

    out: TextIO
    problems: list[str] = field(default_factory=list)

    def section(self, title: str) -> None:
        print(f"\n{title}", file=self.out)

    def ok(self, text: str) -> None:
        print(f"  ok       {text}", file=self.out)

    def note(self, text: str) -> None:
        print(f"  note     {text}", file=self.out)

    def problem(self, text: str) -> None:
        self.problems.append(text)
        print(f"  PROBLEM  {text}", file=self.out)


def run(make_bot: BotFactory, extensions: Sequence[str], env: Mapping[str, str] | None = None,
        out: TextIO = sys.stdout) -> int:
    """Check everything, print the report; 0 if all is well, else 1."""
    env = os.environ if env is None else env
    report = Report(out)
    print(f"Checking Stride in {ROOT} (as user {current_user()})", file=out)
    settings = check_settings(env, report)
    check_packages(ROOT / "requirements.txt", report)
    catalog = check_catalog(settings, report) if settings else None
    if settings:
        if settings.database_url:
            from .check_postgres import check_postgres  # asyncpg only for those who use it

            asyncio.run(check_postgres(settings, report))
        else:
            check_database(settings.database_path, report)
        report.section("Logs")
        report.ok(f"to {settings.log_file} ({LOG_ROTATION})" if settings.log_file else
                  "to standard output (journald under systemd); set LOG_FILE for a file")
        asyncio.run(list_commands(make_bot, extensions, settings, catalog, report))
    count = len(report.problems)
    if count:
        print(f"\n{count} problem{'s' if count > 1 else ''} found: fix "
              f"{'them' if count > 1 else 'it'} and run `bot.py check` again.", file=out)
        return 1
    print("\nAll good: start Stride with `python bot.py` (or the systemd service).", file=out)
    return 0


# --- settings -------------------------------------------------------------------------------

def check_settings(env: Mapping[str, str], report: Report) -> Settings | None:
    """The settings; each bad variable is a problem, and its default is used to go on."""
    dotenv = ROOT / ".env"
    report.section("Settings")
    report.ok(f"read from the environment and {dotenv}" if dotenv.is_file() else
              f"read from the environment ({dotenv} does not exist; copy .env.example there)")
    try:
        settings = Settings.from_env(env, need_token=False)
    except ConfigError as first:
        bad = {}
        for name, value in env.items():  # each variable alone, to find every bad one
            try:
                Settings.from_env({name: value}, need_token=False)
            except ConfigError as exc:
                bad[name] = str(exc)
        for message in bad.values() or [str(first)]:
            report.problem(message)
        try:
            settings = Settings.from_env(
                {k: v for k, v in env.items() if k not in bad}, need_token=False
            )
        except ConfigError:
            return None
        report.ok(f"checking the rest with the default for {', '.join(sorted(bad))}")
    if not settings.token:
        report.problem(f"DISCORD_TOKEN is not set. {TOKEN_HELP}")
    else:
        try:
            report.ok(f"DISCORD_TOKEN is set (application {application_id(settings.token)}; "
                      "whether Discord accepts it shows on the first start)")
        except TokenError as exc:
            report.problem(str(exc))
    return settings


def check_packages(requirements: Path, report: Report) -> None:
    """The installed versions of the pinned packages."""
    report.section("Packages")
    if not requirements.is_file():
        report.problem(f"{requirements} is missing; restore it: git checkout {requirements.name}")
        return
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", requirements.read_text("utf-8"), re.M)
    wrong = []
    for name, wanted in pins:
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have != wanted:
            wrong.append(f"{name} {have or 'missing'} (needs {wanted})")
    if wrong:
        report.problem(f"not the versions in requirements.txt: {', '.join(wrong)}. Install "
                       f"them: {sys.executable} -m pip install -r {requirements}")
    else:
        report.ok(f"{len(pins)} pinned packages installed, Python {sys.version.split()[0]}")


# --- the exercise data file -----------------------------------------------------------------

def check_catalog(settings: Settings, report: Report) -> Catalog | None:
    report.section("Exercise data")
    club = settings.club_exercises_path
    try:
        catalog = load_catalog(settings.exercises_path, club)
    except CatalogError as exc:
        fix = ("set CLUB_EXERCISES_PATH to a good file" if str(exc).startswith(f"{club}:")
               else "set EXERCISES_PATH to a good file")
        report.problem(f"{exc}. Fix that entry (README: Editing the exercise library), or "
                       f"{fix}.")
        return None
    if club.is_file():
        report.ok(f"{settings.exercises_path} with the club's own {club} merged over it: "
                  f"{len(catalog.exercises)} exercises, {len(catalog.routines)} routines")
    else:
        report.ok(f"{settings.exercises_path}: {len(catalog.exercises)} exercises, "
                  f"{len(catalog.routines)} routines")
        report.ok(f"no club file at {club} (optional: the club's own entries, see "
                  "CLUB_EXERCISES_PATH)")
    check_figures(settings, catalog, report)
    return catalog


def check_figures(settings: Settings, catalog: Catalog, report: Report) -> None:
    """The poses validate; say which exercises have no figure and which the bot will draw."""
    try:
        specs = library_figures(catalog, settings.figures_path, settings.club_exercises_path)
    except CatalogError as exc:
        report.problem(f"{exc}. Fix that figure (docs/figures.md), or take it out.")
        return
    library = FigureLibrary(specs, cache=settings.figure_cache,
                            shipped=shipped_folder(settings.figures_path))
    without = [e.id for e in catalog.exercises if e.id not in specs]
    to_draw = library.missing()
    line = f"figures for {len(specs)} of {len(catalog.exercises)} exercises"
    if to_draw:
        line += (f"; {len(to_draw)} to draw at the next start, into {settings.figure_cache} "
                 f"({', '.join(to_draw[:5])}{', ...' if len(to_draw) > 5 else ''})")
    report.ok(line)
    if without:
        report.ok(f"no figure (their cards show none): {', '.join(without[:10])}"
                  f"{', ...' if len(without) > 10 else ''}")


# --- the database ---------------------------------------------------------------------------

def check_database(path: Path, report: Report) -> None:
    """Integrity and pending migrations, tried on a copy; the database itself is not touched."""
    report.section("Database")
    latest = available()[-1].version
    if path.is_dir():
        report.problem(f"DATABASE_PATH {path} is a folder; set it to a file, e.g. "
                       f"{path / 'stride.db'}.")
        return
    with tempfile.TemporaryDirectory(prefix="stride-check-") as tmp:
        copy = Path(tmp) / "copy.db"
        if not path.exists():
            folder = _nearest_folder(path.parent)
            if not os.access(folder, os.W_OK | os.X_OK):
                report.problem(_not_writable(folder, path))
                return
            try:
                prepare(copy)  # the shipped migrations build a new database cleanly
            except (SchemaError, sqlite3.Error) as exc:
                report.problem(f"the migrations shipped with Stride fail on a new database "
                               f"({exc}); reinstall Stride (`git status` shows changed files).")
                return
            report.ok(f"{path} does not exist yet; it will be created on first start "
                      f"(schema version {latest})")
            return
        if not (os.access(path, os.R_OK | os.W_OK) and os.access(path.parent, os.W_OK)):
            report.problem(_not_writable(path.parent, path))
        try:
            version = snapshot(path, copy)
            damage = integrity_problems(copy)
        except sqlite3.Error as exc:
            report.problem(_unreadable(path, exc))
            return
        if damage:
            report.problem(f"{path} is damaged (PRAGMA integrity_check: {'; '.join(damage)}). "
                           f"Stride must not run on it: {RESTORE}.")
            return
        try:
            applied = prepare(copy)
        except SchemaError as exc:
            fix = "" if version > latest else f" Report this; meanwhile {RESTORE}."
            report.problem(f"{path}: {exc}.{fix}")
            return
        except sqlite3.Error as exc:
            report.problem(_unreadable(path, exc))
            return
    if applied:
        many = len(applied) > 1
        report.ok(f"{path}: schema version {version}; the next start applies "
                  f"migration{'s' if many else ''} {', '.join(applied)} (tried on a copy: "
                  f"{'they apply' if many else 'it applies'} cleanly); integrity ok")
    else:
        report.ok(f"{path}: schema version {version}, up to date; integrity ok")


def current_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid without a name (containers)
        return str(os.geteuid())


def _nearest_folder(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def _not_writable(folder: Path, path: Path) -> str:
    user = current_user()
    return (f"user {user} cannot write {path} (Stride writes the file and {path.name}-wal and "
            f"-shm beside it). Run the check as the user the bot runs as (sudo -u stride ...), "
            f"or give that user the folder: chown -R {user}: {folder}")


def _unreadable(path: Path, exc: sqlite3.Error) -> str:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return (f"{path} is not a usable SQLite database ({exc}). Stride must not run on "
                f"it: {RESTORE}.")
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return f"{path} is locked by another program ({exc}); run the check again in a moment."
    return (f"cannot read {path} ({exc}). Check that the user running Stride can read and "
            "write it and its folder.")


# --- the slash commands ---------------------------------------------------------------------

async def list_commands(make_bot: BotFactory, extensions: Sequence[str], settings: Settings,
                        catalog: Catalog | None, report: Report) -> None:
    """Load the cogs into a bot that never connects, and print its command tree."""
    placeholder = Catalog(exercises=(), routines=(), safety="")  # commands don't depend on it
    storage = SqliteStorage(settings.database_path)  # never opened: no file is touched
    bot = make_bot(settings, catalog or placeholder, storage, background=False)
    try:
        for extension in extensions:
            await bot.load_extension(extension)
        for command in bot.tree.get_commands():
            command.to_dict(bot.tree)  # the payload `sync` sends; raises if it is malformed
        found = slash_roots(bot.tree)
    except Exception as exc:  # a broken cog: report it like any other problem
        report.section("Slash commands")
        report.problem(f"the commands could not be loaded ({type(exc).__name__}: {exc}). "
                       "Was the code changed here? `git status` shows what; undo it or "
                       "reinstall Stride.")
        return
    finally:
        for extension in list(bot.extensions):
            await bot.unload_extension(extension)
    total = sum(len(leaf_commands(c)) for c in found)
    report.section(f"Slash commands: {len(found)} ({total} with subcommands); `bot.py sync` "
                   "registers them with Discord")
    for line in command_lines(found):
        print(f"  {line}", file=report.out)


def command_lines(found: Iterable[Root]) -> list[str]:
    """Each command (each subcommand of a group) with its options, one option a line."""
    lines: list[str] = []
    for root in found:
        notes = []
        if root.default_permissions is not None:
            notes += [PERMISSION_NAMES.get(name, name.replace("_", " ").title())
                      for name, on in root.default_permissions if on]
        if root.guild_only:
            notes.append("servers only")
        for command in leaf_commands(root):
            usage = " ".join(p.name if p.required else f"[{p.name}]" for p in command.parameters)
            head = " ".join(x for x in (f"/{command.qualified_name}", usage) if x)
            suffix = f"  ({', '.join(notes)})" if notes else ""
            lines.append(f"{head} - {command.description}{suffix}")
            lines += [f"    {describe(p)}" for p in command.parameters]
    return lines




def describe(param: app_commands.Parameter) -> str:
    kind = OPTION_TYPES.get(param.type, param.type.name)
    if param.channel_types:
        kind += f" ({', '.join(t.name for t in param.channel_types)})"
    if param.min_value is not None:
        kind += f" from {param.min_value:g}"
    if param.max_value is not None:
        kind += f" to {param.max_value:g}"
    parts = [kind, "required" if param.required else "optional"]
    if param.choices:
        parts.append("choices: " + ", ".join(str(c.name) for c in param.choices))
    if param.autocomplete:
        parts.append("autocomplete")
    return f"{param.name}: {', '.join(parts)}"
