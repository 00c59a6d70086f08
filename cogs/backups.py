"""Daily automatic backups of the database while the bot runs (BACKUP_DIR, BACKUP_KEEP)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord.ext import commands

from stride.backup_schedule import BackupService

if TYPE_CHECKING:
    from bot import StrideBot

log = logging.getLogger(__name__)


class BackupCog(commands.Cog, name="Backups"):
    """Owns the backup service: started with the bot when BACKUP_DIR is set (and the bot runs
    for real, not for a one-off command), stopped when the bot closes."""

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot
        self.service: BackupService | None = None

    async def cog_load(self) -> None:
        settings = self.bot.settings
        if self.bot.background and settings.backup_dir is not None and settings.database_url:
            log.warning("BACKUP_DIR is set, but the daily automatic backup copies a SQLite "
                        "file and Stride runs on PostgreSQL: back it up with pg_dump "
                        "(docs/postgresql.md). No automatic backups are made.")
        elif self.bot.background and settings.backup_dir is not None:
            self.service = BackupService(
                settings.database_path, settings.backup_dir, settings.backup_keep,
                busy_timeout_ms=settings.database_busy_timeout_ms,
            )
            self.service.start()

    async def cog_unload(self) -> None:
        if self.service is not None:
            await self.service.stop()


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(BackupCog(bot))
