-- Per-server settings, one row per Discord server (guild) that changed a default.
-- Timestamps are TEXT in the ISO form SQLite writes (2026-11-23T06:00:00.000Z), so a SQLite
-- database copies into PostgreSQL column for column.
CREATE TABLE guild_settings (
    guild_id   bigint  PRIMARY KEY,
    timezone   text,                                  -- IANA name, NULL = UTC
    rest_days  integer NOT NULL DEFAULT 2 CHECK (rest_days BETWEEN 0 AND 6),
    updated_at text    NOT NULL
        DEFAULT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
);
