-- Scheduled reminders: club reminders posted in a channel, and members' own DM reminders.
CREATE TABLE reminders (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('channel', 'dm')),
    channel_id  INTEGER,                    -- club reminders: where to post
    user_id     INTEGER,                    -- DM reminders: whom to message
    at          TEXT    NOT NULL,           -- local time of day, HH:MM
    days        INTEGER NOT NULL CHECK (days BETWEEN 1 AND 127),  -- weekdays, Monday = 1
    timezone    TEXT,                       -- NULL: the club's zone / the member's zone
    role_id     INTEGER,                    -- club reminders: the role to ping, if any
    routine     TEXT,                       -- NULL: rotate through the pre-run routines
    next_due    INTEGER,                    -- unix time of the next firing; NULL when paused
    paused      TEXT,                       -- why it is paused; NULL while active
    fired       INTEGER NOT NULL DEFAULT 0, -- firings so far (turns the routine rotation)
    created_by  INTEGER NOT NULL,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK ((kind = 'channel' AND channel_id IS NOT NULL)
        OR (kind = 'dm' AND user_id IS NOT NULL))
) STRICT;

CREATE INDEX reminders_due ON reminders (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX reminders_by_guild ON reminders (guild_id, kind);
CREATE UNIQUE INDEX reminders_one_dm ON reminders (guild_id, user_id) WHERE kind = 'dm';

-- Every firing, recorded before its message is sent (keyed by reminder and due time), so a
-- restart can neither post a reminder twice nor forget one that was due.
CREATE TABLE reminder_firings (
    reminder_id INTEGER NOT NULL REFERENCES reminders (id) ON DELETE CASCADE,
    due_at      INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('claimed', 'sent', 'skipped', 'failed')),
    message_id  INTEGER,
    detail      TEXT,
    updated_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (reminder_id, due_at)
) STRICT, WITHOUT ROWID;

CREATE INDEX reminder_firings_open ON reminder_firings (status) WHERE status = 'claimed';

-- DM channels are created once per member and remembered.
CREATE TABLE dm_channels (
    user_id    INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL
) STRICT;
