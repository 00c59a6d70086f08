-- The club's week: the weekly recap, the nudge before a streak ends, and milestones.
--
-- The recap and the nudge are reminder rows with a purpose, so they go through the same
-- claims, leases and firings as every reminder (exactly once across restarts):
-- - 'recap': a server's weekly post in its recap channel (kind 'channel'), one per server;
-- - 'nudge': a member's DM on the last day their streak survives (kind 'dm'), one per member
--   per server. Its next_due is when that DM goes out; check-ins move it in the same
--   transaction, so it is NULL when there is nothing to nudge.
ALTER TABLE reminders ADD COLUMN purpose text CHECK (purpose IN ('recap', 'nudge'));

DROP INDEX reminders_one_dm;
CREATE UNIQUE INDEX reminders_one_dm ON reminders (guild_id, user_id)
    WHERE kind = 'dm' AND event_id IS NULL AND purpose IS NULL;
CREATE UNIQUE INDEX reminders_one_recap ON reminders (guild_id) WHERE purpose = 'recap';
CREATE UNIQUE INDEX reminders_one_nudge ON reminders (guild_id, user_id)
    WHERE purpose = 'nudge';

-- Moments of a check-in worth celebrating: a streak or total milestone, or coming back after
-- a broken streak ('back', value: days since the previous check-in). Written with the
-- check-in; an undone (or forgotten) check-in takes its moments with it (trigger below).
CREATE TABLE highlights (
    guild_id bigint  NOT NULL,
    user_id  bigint  NOT NULL,
    day      text COLLATE "C" NOT NULL,
    kind     text    NOT NULL CHECK (kind IN ('streak', 'total', 'back')),
    value    integer NOT NULL,
    PRIMARY KEY (guild_id, user_id, day, kind)
);

CREATE INDEX highlights_by_day ON highlights (guild_id, day);

-- Check-ins per server per local day, kept in step with the log: the recap's chart reads 56
-- rows instead of counting hundreds of thousands of check-ins.
CREATE TABLE club_days (
    guild_id bigint  NOT NULL,
    day      text COLLATE "C" NOT NULL,
    checkins integer NOT NULL,
    PRIMARY KEY (guild_id, day)
);

INSERT INTO club_days (guild_id, day, checkins)
SELECT guild_id, day, COUNT(*) FROM checkins GROUP BY guild_id, day;

-- Who checked in on which days of a server: the recap counts a week's members through it.
CREATE INDEX checkins_by_day ON checkins (guild_id, day, user_id);

CREATE FUNCTION checkins_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO club_days (guild_id, day, checkins) VALUES (NEW.guild_id, NEW.day, 1)
    ON CONFLICT (guild_id, day) DO UPDATE SET checkins = club_days.checkins + 1;
    RETURN NULL;
END
$$;

CREATE FUNCTION checkins_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE club_days SET checkins = checkins - 1
    WHERE guild_id = OLD.guild_id AND day = OLD.day;
    DELETE FROM highlights
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id AND day = OLD.day;
    RETURN NULL;
END
$$;

CREATE TRIGGER checkins_count_insert AFTER INSERT ON checkins FOR EACH ROW
EXECUTE FUNCTION checkins_count_insert();

CREATE TRIGGER checkins_count_delete AFTER DELETE ON checkins FOR EACH ROW
EXECUTE FUNCTION checkins_count_delete();
