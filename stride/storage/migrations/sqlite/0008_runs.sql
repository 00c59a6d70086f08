-- Club runs: posts timed to the server's Discord scheduled events (/runs).
--
-- A run post is a reminder row tied to an event (event_id): the club's post in its run
-- channel (kind 'channel'), or a member's DM (kind 'dm'). It fires once per start time
-- (starts_at), through the same claims, leases and firings as every reminder, so it is sent
-- exactly once across restarts. Its `at` and `days` are only what the CHECKs ask (the start's
-- UTC time, every day): the event's start times it, not a daily schedule.
ALTER TABLE reminders ADD COLUMN event_id INTEGER;
ALTER TABLE reminders ADD COLUMN starts_at INTEGER;

-- A member has one DM reminder of their own per server, and one run DM per event.
DROP INDEX reminders_one_dm;
CREATE UNIQUE INDEX reminders_one_dm ON reminders (guild_id, user_id)
    WHERE kind = 'dm' AND event_id IS NULL;
CREATE UNIQUE INDEX reminders_run_posts ON reminders (guild_id, event_id, kind, COALESCE(user_id, 0))
    WHERE event_id IS NOT NULL;

-- A server's /runs setup: where and how long before each run its post goes out.
CREATE TABLE run_settings (
    guild_id    INTEGER PRIMARY KEY,
    channel_id  INTEGER NOT NULL,
    minutes     INTEGER NOT NULL CHECK (minutes BETWEEN 5 AND 180),
    routine     TEXT,                       -- NULL: rotate through the pre-run routines
    role_id     INTEGER,                    -- the role to ping, if any
    match       TEXT,                       -- only events whose name contains this
    created_by  INTEGER NOT NULL,
    updated_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- The server's scheduled events that Stride posts for, as Discord last described them.
CREATE TABLE runs (
    guild_id    INTEGER NOT NULL,
    event_id    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    starts_at   INTEGER NOT NULL,           -- unix time of the next (or only) occurrence
    location    TEXT,                       -- an external event's place
    channel_id  INTEGER,                    -- a voice or stage event's channel
    recurring   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, event_id)
) STRICT;

-- Members who want each run they marked Interested by DM (/runs dm); `paused` says why it
-- switched itself off (their DMs closed).
CREATE TABLE run_dm_members (
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    paused      TEXT,
    PRIMARY KEY (guild_id, user_id)
) STRICT;
