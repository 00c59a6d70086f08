"""The Discord side of stride.membership: a server's members, looked up one by one."""

from __future__ import annotations

import discord

from stride.pacing import Pacer

UNKNOWN_MEMBER, UNKNOWN_USER = 10007, 10013  # Discord's codes for "not in this server"


class GuildMembers:
    """`MemberDirectory` of one server: `GET /guilds/{id}/members/{user}`, paced by the bot's
    shared request limit (Discord's 50 a second is per bot, reminders spend it too).

    Uses the public `Guild.fetch_member` on the partial Guild discord.py builds for every
    server interaction (no `guilds` intent, so none is cached): the same one request as
    `bot.http.get_member`, without reaching into discord.py's internal HTTP client."""

    def __init__(self, guild: discord.Guild, pacer: Pacer) -> None:
        self.guild = guild
        self.pacer = pacer

    async def is_member(self, user_id: int) -> bool:
        async with self.pacer.request:
            try:
                await self.guild.fetch_member(user_id)
            except discord.NotFound as exc:
                if exc.code in (UNKNOWN_MEMBER, UNKNOWN_USER):
                    return False
                raise
        return True
