-- Members' check-ins and the running figures the boards read, kept up to date as check-ins
-- happen so that no board or streak query has to scan the check-ins.
-- Days and period keys are TEXT as in SQLite, in the "C" collation: compared byte by byte,
-- as SQLite compares them (ISO dates and keys then sort as dates do).

-- One row per member per server: their zone, and their figures as of their last check-in.
CREATE TABLE members (
    guild_id     bigint  NOT NULL,
    user_id      bigint  NOT NULL,
    timezone     text,                       -- own IANA zone; NULL = the club's default
    present      integer NOT NULL DEFAULT 1, -- 0 once they leave the server
    last_day     text COLLATE "C",           -- local date of the latest check-in (YYYY-MM-DD)
    last_at      text,                       -- when it happened (UTC, ISO 8601)
    last_what    text,                       -- routine or exercise id, if given
    run          integer NOT NULL DEFAULT 0, -- check-in days in the run ending at last_day
    best         integer NOT NULL DEFAULT 0,
    total        integer NOT NULL DEFAULT 0,
    week_key     text COLLATE "C",           -- ISO week of last_day, e.g. 2026-W48
    week_count   integer NOT NULL DEFAULT 0,
    month_key    text COLLATE "C",           -- month of last_day, e.g. 2026-11
    month_count  integer NOT NULL DEFAULT 0,
    breaks_at    bigint,                     -- unix time at which the current run lapses
    rest_days    integer,                    -- the rest-day rule the figures were computed with
    PRIMARY KEY (guild_id, user_id)
);

-- Every check-in: at most one per member per local day (the primary key guarantees it).
CREATE TABLE checkins (
    guild_id bigint NOT NULL,
    user_id  bigint NOT NULL,
    day      text COLLATE "C" NOT NULL,
    at       text NOT NULL,
    what     text,
    PRIMARY KEY (guild_id, user_id, day),
    FOREIGN KEY (guild_id, user_id) REFERENCES members (guild_id, user_id) ON DELETE CASCADE
);

-- A member's row is written in one statement; these keep the check-in log in step with it,
-- so recording or undoing a check-in is a single atomic statement.
CREATE FUNCTION members_log_checkin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO checkins (guild_id, user_id, day, at, what)
    VALUES (NEW.guild_id, NEW.user_id, NEW.last_day, NEW.last_at, NEW.last_what)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION members_log_undo() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM checkins
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id AND day = OLD.last_day;
    RETURN NULL;
END
$$;

CREATE TRIGGER members_log_insert AFTER INSERT ON members FOR EACH ROW
WHEN (NEW.last_day IS NOT NULL)
EXECUTE FUNCTION members_log_checkin();

CREATE TRIGGER members_log_checkin AFTER UPDATE OF last_day ON members FOR EACH ROW
WHEN (NEW.last_day IS NOT NULL AND (OLD.last_day IS NULL OR NEW.last_day > OLD.last_day))
EXECUTE FUNCTION members_log_checkin();

CREATE TRIGGER members_log_undo AFTER UPDATE OF last_day ON members FOR EACH ROW
WHEN (OLD.last_day IS NOT NULL AND (NEW.last_day IS NULL OR NEW.last_day < OLD.last_day))
EXECUTE FUNCTION members_log_undo();

-- Board indexes: one per board and period, in that board's order, holding every column the
-- board filters on. A page reads a few entries; a rank counts only the entries above it.
CREATE INDEX members_by_streak ON members (guild_id, present, run DESC, user_id, breaks_at);
CREATE INDEX members_by_best ON members (guild_id, present, best DESC, user_id);
CREATE INDEX members_by_total ON members (guild_id, present, total DESC, user_id);
CREATE INDEX members_by_week ON members (guild_id, present, week_key, week_count DESC, user_id);
CREATE INDEX members_by_month ON members
    (guild_id, present, month_key, month_count DESC, user_id);
CREATE INDEX members_by_week_streak ON members
    (guild_id, present, week_key, run DESC, user_id, breaks_at);
CREATE INDEX members_by_month_streak ON members
    (guild_id, present, month_key, run DESC, user_id, breaks_at);
CREATE INDEX members_by_week_best ON members (guild_id, present, week_key, best DESC, user_id);
CREATE INDEX members_by_month_best ON members
    (guild_id, present, month_key, best DESC, user_id);
