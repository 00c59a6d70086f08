-- Per-server settings, one row per Discord server (guild) that changed a default.
CREATE TABLE guild_settings (
    guild_id   INTEGER PRIMARY KEY,
    timezone   TEXT,                                  -- IANA name, NULL = UTC
    rest_days  INTEGER NOT NULL DEFAULT 2 CHECK (rest_days BETWEEN 0 AND 6),
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
