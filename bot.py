"""Stride: a Discord bot for running clubs. Start it with `python bot.py` (see README)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from logging.handlers import RotatingFileHandler

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands
from discord.http import HTTPClient
from dotenv import load_dotenv

from ops import check, invite
from ops.backup import backup_command
from stride.catalog import Catalog, CatalogError, load_catalog
from stride.checkins import Checkins
from stride.config import ROOT, TOKEN_HELP, ConfigError, Settings
from stride.errors import StorageError
from stride.figures import FigureLibrary, library_figures, shipped_folder
from stride.inflight import InFlight
from stride.membership import Membership
from stride.nudges import Nudges
from stride.pacing import Pacer
from stride.recaps import Recaps
from stride.records import ShardSet
from stride.reminders import Reminders
from stride.runs import Runs
from stride.storage import SchemaError, Storage, storage_for
from ui.command_tree import SERVER_CONTEXTS, SERVER_INSTALLS, Root, server_only
from ui.errors import NotInThisServer, Restarting, report_error
from ui.interaction import Interaction

log = logging.getLogger("stride")

EXTENSIONS = (
    "cogs.library", "cogs.routines", "cogs.streaks", "cogs.club", "cogs.reminders", "cogs.runs",
    "cogs.help", "cogs.backups",
)
STOP_SECONDS = 10.0  # from SIGTERM / Ctrl-C to the database closed, at most
CLOSE_RESERVE = 1.5  # of those, kept for cancelling what is stuck and closing connections


class StrideTree(app_commands.CommandTree["StrideBot"]):
    """Tracks every command while it runs (refusing new ones while the bot stops), refuses
    server-only commands outside servers that added Stride (DMs, group DMs, a server where a
    member only added Stride to their own account), and routes every command error to one
    handler."""

    async def interaction_check(self, interaction: Interaction) -> bool:
        # The first step of the task discord.py runs each command (and autocomplete) in.
        if not self.client.inflight.admit():
            raise Restarting()
        command = interaction.command
        root: Root | app_commands.ContextMenu | None = command
        if isinstance(command, app_commands.Command):
            root = command.root_parent or command  # a group's subcommand: the group says
        if root is not None and server_only(root, self):
            if interaction.guild_id is None:
                raise app_commands.NoPrivateMessage()
            if not interaction.is_guild_integration():  # only a member's own install here
                raise NotInThisServer()
        return True

    async def on_error(
        self, interaction: Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


class StrideBot(commands.AutoShardedBot):
    """The bot: owns the settings, the exercise catalog and the storage; loads the cogs.

    One process serves every shard Discord asks for (or SHARD_COUNT), each on its own
    gateway connection; or, with SHARD_IDS, some of them, other processes running the rest
    on one PostgreSQL database. Commands and check-ins do not depend on the shard; each
    process fires its own shards' reminders (and takes over a dead process's).
    """

    def __init__(
        self, settings: Settings, catalog: Catalog, storage: Storage, *, background: bool = True,
        members: bool = True, figures: FigureLibrary | None = None,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            tree_cls=StrideTree,
            allowed_contexts=SERVER_CONTEXTS,  # commands are server-only unless they opt in
            allowed_installs=SERVER_INSTALLS,
            intents=minimal_intents(members),
            allowed_mentions=discord.AllowedMentions.none(),
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            max_messages=None,
            # For on_socket_raw_receive: the scheduled-event payloads discord.py would drop
            # (cogs.runs). Every gateway message is offered to it; it looks only at those.
            enable_debug_events=True,
            shard_count=settings.shard_count,
            # None (every shard) is discord.py's own default, which its annotation omits.
            shard_ids=list(settings.shard_ids) if settings.shard_ids else None,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.catalog = catalog
        self.figures = figures if figures is not None else FigureLibrary({})
        self.storage = storage
        # The bot's own requests, below Discord's limits. Discord's 50 a second is per bot:
        # several processes split the configured rate evenly (no shared counter to ask).
        rate = settings.reminder_rate / settings.processes
        self.pacer = Pacer(rate)
        self.checkins = Checkins(storage)
        shards = (ShardSet(settings.shard_ids, settings.shard_count)
                  if settings.shard_ids is not None and settings.shard_count else None)
        self.reminders = Reminders(
            storage, catalog, grace=timedelta(minutes=settings.reminder_grace_minutes),
            lanes=max(4, math.ceil(rate / 10)),  # the pacer's burst
            lease=timedelta(seconds=settings.reminder_lease_seconds), shards=shards,
        )
        self.runs = Runs(storage, catalog, self.reminders)
        self.nudges = Nudges(storage, self.checkins)
        self.recaps = Recaps(storage, self.reminders)
        # Without the Server Members intent, boards look up the members they show.
        self.membership = Membership(storage, lookups=not members)
        self.background = background  # False for one-off CLI runs: no reminder scheduler
        self.closing = False
        self.inflight = InFlight()  # interactions being handled, for a graceful stop
        self._figures_drawn: asyncio.Task[None] | None = None
        amortize_bucket_cleanup(self.http)

    async def setup_hook(self) -> None:
        await self.storage.open()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.background and self.figures.missing():
            # A club's own figures: drawn once, in a thread, while the bot connects; their
            # cards show no figure until then. Later starts find them in the cache.
            self._figures_drawn = asyncio.create_task(self._draw_figures())

    async def _draw_figures(self) -> None:
        started = time.perf_counter()
        try:
            drawn = await asyncio.to_thread(self.figures.draw_missing)
        except Exception:
            log.exception("Could not draw the club's figures; their cards show none")
            return
        log.info("Drew %d figure(s) in %.1f s: %s", len(drawn), time.perf_counter() - started,
                 ", ".join(drawn))

    async def on_ready(self) -> None:
        log.info("Ready as %s (id %s) in %d servers", self.user, self.user and self.user.id,
                 len(self.guilds))

    async def close(self) -> None:
        """Stop within STOP_SECONDS: refuse new interactions ("try again in a minute"), let
        those in flight and reminder sends already started finish, cancel what outlasts the
        bound (a cancelled write is made whole or not at all), close the gateway, then the
        database once the write in progress, if any, is done."""
        if self.closing:
            return
        self.closing = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_SECONDS
        self.inflight.stop_accepting()
        await asyncio.sleep(0)  # handlers already scheduled take their first step
        if self.background:  # not for one-off CLI runs such as `sync`
            log.info("Stopping: waiting for %d interaction(s) in flight", len(self.inflight))
        background = asyncio.gather(*(
            cog.stop_background() for cog in self.cogs.values() if hasattr(cog, "stop_background")
        ), return_exceptions=True)  # the reminder scheduler: nothing new fires
        cancelled = await self.inflight.wait(deadline - CLOSE_RESERVE - loop.time())
        if cancelled:
            log.warning("Stopping: cancelled %d interaction(s) still running after %.1f s",
                        cancelled, STOP_SECONDS - CLOSE_RESERVE)
        try:
            await asyncio.wait_for(background, max(0.0, deadline - CLOSE_RESERVE - loop.time()))
        except TimeoutError:
            log.warning("Stopping: reminder sends cut short; each is looked for in its "
                        "channel on the next start and sent only if it is not there")
        if self.inflight.refused:
            log.info("Stopping: asked %d interaction(s) that came meanwhile to try again",
                     self.inflight.refused)
        try:
            closing = asyncio.ensure_future(self._close_connections())
            await asyncio.wait({closing}, timeout=max(0.5, deadline - 0.5 - loop.time()))
            if closing.done():
                closing.result()  # re-raises what went wrong, if anything
            else:
                log.warning("Stopping: the cogs or the gateway did not close in time")
        finally:
            await self.storage.close(timeout=max(0.1, deadline - loop.time()))

    async def _close_connections(self) -> None:
        for extension in list(self.extensions):
            await self.unload_extension(extension)
        await super().close()  # the gateway and HTTP sessions


def amortize_bucket_cleanup(http: HTTPClient, every: float = 60.0) -> None:
    """discord.py drops idle rate-limit buckets by scanning all of them each time it creates
    one, which is quadratic when reminders go to thousands of channels at once (one bucket
    per channel). Scan at most once a minute instead: idle buckets are dropped all the same.
    """
    scan = http._try_clear_expired_ratelimits
    last = [0.0]

    def throttled() -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            scan()

    # A method of discord.py's HTTPClient, replaced on this one instance (mypy forbids that).
    http._try_clear_expired_ratelimits = throttled  # type: ignore[method-assign]


def minimal_intents(members: bool = True) -> discord.Intents:
    """`members`, so someone who leaves drops off the boards (GUILD_MEMBER_REMOVE; left out
    when the portal has it off: boards then look their members up, stride.membership), and
    `guild_scheduled_events` (not privileged), so /runs hears of events as they change.

    Slash commands and buttons arrive whatever the intents, carrying the member, their
    permissions and the options' channels and roles. Without `guilds` Discord sends no
    GUILD_CREATE, so no server, channel or role is cached: memory stays flat however many
    servers Stride is in (a channel picked for a reminder is checked with one REST call)."""
    intents = discord.Intents.none()
    intents.members = members
    intents.guild_scheduled_events = True
    return intents


class RedactingFormatter(logging.Formatter):
    """Formats log lines, then replaces the token wherever it appears in the final text,
    tracebacks and stack traces included."""

    def __init__(self, token: str) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
        self.token = token

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace(self.token, "[token]") if self.token else text


class WithoutGuildsIntent(logging.Filter):
    """Drops discord.py's start-up warning that the `guilds` intent is off: Stride leaves it
    off on purpose (see minimal_intents) and relies on nothing it would cache."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "discord.state"
                    and record.getMessage().startswith("Guilds intent seems to be disabled"))


LOG_FILE_BYTES = 5 * 1024 * 1024  # LOG_FILE is rotated at this size ...
LOG_FILE_KEEP = 5  # ... keeping this many old files (stride.log.1 ... .5)


def setup_logging(settings: Settings) -> None:
    """Log to standard output, or to LOG_FILE (rotated); the token is never written."""
    handler: logging.Handler = logging.StreamHandler(sys.stdout)
    if settings.log_file is not None:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(settings.log_file, maxBytes=LOG_FILE_BYTES,
                                      backupCount=LOG_FILE_KEEP, encoding="utf-8")
    handler.setFormatter(RedactingFormatter(settings.token))
    handler.addFilter(WithoutGuildsIntent())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    if settings.log_level != "DEBUG":
        logging.getLogger("discord").setLevel(logging.WARNING if settings.log_level in (
            "WARNING", "ERROR", "CRITICAL") else logging.INFO)


def build_bot(settings: Settings, *, background: bool = True, members: bool = True
              ) -> StrideBot:
    """The bot with its services; raises CatalogError if the exercise file is malformed."""
    catalog = load_catalog(settings.exercises_path, settings.club_exercises_path)
    figures = FigureLibrary(
        library_figures(catalog, settings.figures_path, settings.club_exercises_path),
        cache=settings.figure_cache, shipped=shipped_folder(settings.figures_path),
    )
    storage = storage_for(settings)
    return StrideBot(settings, catalog, storage, background=background, members=members,
                     figures=figures)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
NO_MEMBERS_INTENT = (
    "Discord refused the Server Members intent (it is off for this application), so Stride "
    "runs without it. Lost: members who leave the server no longer drop off the boards at "
    "once, only when a board that shows them is next viewed (each board checks the members "
    "it shows). Everything else works. To switch it on: Developer Portal -> your app -> Bot "
    "-> Privileged Gateway Intents -> Server Members Intent, then restart Stride."
)


def handle_stop_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """The first SIGTERM or Ctrl-C sets `stop` (a clean stop); a second one, of either kind,
    ends the process at once with 128 + the signal number (143, 130). The second is handled
    at the signal itself, not on the event loop, so it works even if the loop is busy."""
    def first() -> None:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
            signal.signal(signum, exit_now)
        stop.set()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, first)


def exit_now(signum: int, frame: object) -> None:
    """Exit without finishing the clean stop. Nothing is lost that was acknowledged: SQLite
    in WAL mode rolls back an unfinished write on the next open."""
    code = 128 + signum
    log.warning("Second %s while stopping: exiting now (exit code %d), without waiting",
                signal.Signals(signum).name, code)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(code)


async def run_bot(settings: Settings) -> None:
    """Run until Discord closes the connection for good, or SIGTERM / Ctrl-C asks to stop;
    then stop cleanly: the scheduler stops, sends in flight finish, the database closes.
    If Discord refuses the Server Members intent, start again without it."""
    stop = asyncio.Event()
    handle_stop_signals(asyncio.get_running_loop(), stop)
    try:
        await run_until_stopped(build_bot(settings), settings, stop)
    except discord.PrivilegedIntentsRequired:
        if stop.is_set():
            return
        log.warning(NO_MEMBERS_INTENT)
        await run_until_stopped(build_bot(settings, members=False), settings, stop)


async def run_until_stopped(bot: StrideBot, settings: Settings, stop: asyncio.Event) -> None:
    """Run one bot until `stop` is set (then stop it cleanly) or Discord ends it."""
    loop = asyncio.get_running_loop()
    async with bot:
        running = asyncio.create_task(bot.start(settings.token, reconnect=True))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not running.done():
            asked = loop.time()
            await bot.close()
            await asyncio.wait({running}, timeout=0.5)  # returns once the gateway is closed
            if not running.done():
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
            log.info("Stopped in %.2f s", loop.time() - asked)
            return
        await running  # re-raises a failed login, or refused intents
    log.info("Stopped")


async def sync_commands(settings: Settings, guild_id: int | None) -> int:
    """Register the slash commands with Discord (one server, or globally); returns how many."""
    async with build_bot(settings, background=False) as bot:
        await bot.login(settings.token)
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            bot.tree.copy_global_to(guild=guild)
        synced = await bot.tree.sync(guild=guild)
        where = f"server {guild_id}" if guild_id else "all servers (may take up to an hour)"
        print(f"Synced {len(synced)} commands to {where}: "
              + ", ".join(f"/{c.name}" for c in synced))
        return len(synced)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bot.py", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sync = sub.add_parser(
        "sync", help="register the slash commands with Discord, then exit (after adding or "
        "changing commands; not needed on every start)"
    )
    where = sync.add_mutually_exclusive_group()
    where.add_argument("--guild", type=int, metavar="ID",
                       help="only this server: instant, for development (default: DEV_GUILD_ID)")
    where.add_argument("--global", dest="globally", action="store_true",
                       help="every server the bot is in (Discord may take up to an hour)")
    backup = sub.add_parser(
        "backup", help="copy the database to a checked backup file, also while the bot runs "
        "(needs no Discord token)"
    )
    backup.add_argument("path", nargs="?", metavar="PATH",
                        help="file, or folder for a dated stride-YYYYMMDD-HHMMSS.db (default: "
                        "BACKUP_DIR, else backups/ beside the database)")
    backup.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
    migrate = sub.add_parser(
        "migrate", help="copy the SQLite database into an empty PostgreSQL database, "
        "verified (the bot stopped; needs no Discord token)"
    )
    migrate.add_argument("--to", required=True, metavar="URL",
                         help="the PostgreSQL database, postgresql://user:password@host/db")
    sub.add_parser("check", help="check the settings, the exercise data and the database "
                   "(on a copy) and list the commands; offline, needs no token, changes nothing")
    invite_cmd = sub.add_parser(
        "invite", help="print the link that adds Stride to a server, with the permissions it needs"
    )
    invite_cmd.add_argument("--app-id", type=invite.snowflake, metavar="ID",
                            help="the Application ID (default: read from DISCORD_TOKEN)")
    return parser.parse_args(argv)


def fail(message: str, code: int = 1) -> int:
    print(f"Stride cannot start: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    args = parse_args(argv)
    load_dotenv(ROOT / ".env")
    if args.command == "check":
        return check.run(StrideBot, EXTENSIONS)
    if args.command == "invite":
        return invite.run(args.app_id)
    try:
        settings = Settings.from_env(need_token=args.command not in ("backup", "migrate"))
    except ConfigError as exc:
        return fail(str(exc), 2)
    try:
        setup_logging(settings)
    except OSError as exc:
        return fail(f"cannot write the log file {settings.log_file}: {exc}", 2)
    if args.command == "backup":
        return backup_command(settings, args.path, overwrite=args.overwrite)
    if args.command == "migrate":
        from ops.migrate import migrate_command  # asyncpg only for those who use it

        return migrate_command(settings, args.to)
    try:
        if args.command == "sync":
            guild = None if args.globally else (args.guild or settings.dev_guild_id)
            asyncio.run(sync_commands(settings, guild))
        else:
            asyncio.run(run_bot(settings))
    except CatalogError as exc:
        return fail(f"the exercise data file has a problem.\n  {exc}", 2)
    except SchemaError as exc:
        return fail(f"database {settings.database_path}: {exc}", 2)
    except discord.LoginFailure:
        return fail(f"Discord rejected DISCORD_TOKEN (it is wrong or was reset). {TOKEN_HELP}", 2)
    except discord.PrivilegedIntentsRequired:
        return fail("Discord refused the gateway intents Stride asked for.", 2)
    except StorageError as exc:
        return fail(f"cannot open the database {settings.database_path}: {exc}", 2)
    except (aiohttp.ClientConnectionError, discord.GatewayNotFound) as exc:
        return fail(f"could not reach Discord ({exc.__class__.__name__}: {exc}). "
                    "Check the network connection and try again.")
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
