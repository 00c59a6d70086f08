-- How many members hold each value on each board, kept in step with `members` by triggers.
-- A member's rank is 1 + the members above them: summing the few distinct values above theirs
-- here instead of counting every member above them in a board index (which, far down a big
-- club's board, meant tens of thousands of index entries per /leaderboard).
-- The streak boards are not counted here: who is on them changes with the clock (breaks_at).
CREATE TABLE board_counts (
    guild_id INTEGER NOT NULL,
    board    TEXT    NOT NULL,  -- best, total, week_best, week_count, month_best, month_count
    period   TEXT    NOT NULL,  -- week_key / month_key of the members counted; '' = all time
    value    INTEGER NOT NULL,
    members  INTEGER NOT NULL,  -- present members with this value (0 once all have moved on)
    PRIMARY KEY (guild_id, board, period, value)
) STRICT, WITHOUT ROWID;

INSERT INTO board_counts (guild_id, board, period, value, members)
SELECT guild_id, 'best', '', best, COUNT(*) FROM members WHERE present = 1
GROUP BY guild_id, best
UNION ALL
SELECT guild_id, 'total', '', total, COUNT(*) FROM members WHERE present = 1
GROUP BY guild_id, total
UNION ALL
SELECT guild_id, 'week_best', COALESCE(week_key, ''), best, COUNT(*) FROM members
WHERE present = 1 GROUP BY guild_id, COALESCE(week_key, ''), best
UNION ALL
SELECT guild_id, 'week_count', COALESCE(week_key, ''), week_count, COUNT(*) FROM members
WHERE present = 1 GROUP BY guild_id, COALESCE(week_key, ''), week_count
UNION ALL
SELECT guild_id, 'month_best', COALESCE(month_key, ''), best, COUNT(*) FROM members
WHERE present = 1 GROUP BY guild_id, COALESCE(month_key, ''), best
UNION ALL
SELECT guild_id, 'month_count', COALESCE(month_key, ''), month_count, COUNT(*) FROM members
WHERE present = 1 GROUP BY guild_id, COALESCE(month_key, ''), month_count;

CREATE TRIGGER members_count_insert AFTER INSERT ON members
WHEN NEW.present = 1
BEGIN
    INSERT INTO board_counts (guild_id, board, period, value, members) VALUES
        (NEW.guild_id, 'best', '', NEW.best, 1),
        (NEW.guild_id, 'total', '', NEW.total, 1),
        (NEW.guild_id, 'week_best', COALESCE(NEW.week_key, ''), NEW.best, 1),
        (NEW.guild_id, 'week_count', COALESCE(NEW.week_key, ''), NEW.week_count, 1),
        (NEW.guild_id, 'month_best', COALESCE(NEW.month_key, ''), NEW.best, 1),
        (NEW.guild_id, 'month_count', COALESCE(NEW.month_key, ''), NEW.month_count, 1)
    ON CONFLICT DO UPDATE SET members = members + 1;
END;

CREATE TRIGGER members_count_delete AFTER DELETE ON members
WHEN OLD.present = 1
BEGIN
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'best' AND period = '' AND value = OLD.best;
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'total' AND period = '' AND value = OLD.total;
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'week_best' AND period = COALESCE(OLD.week_key, '') AND value = OLD.best;
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'week_count' AND period = COALESCE(OLD.week_key, '') AND value = OLD.week_count;
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'month_best' AND period = COALESCE(OLD.month_key, '') AND value = OLD.best;
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'month_count' AND period = COALESCE(OLD.month_key, '') AND value = OLD.month_count;
END;

-- An update is counted as the old row leaving and the new one arriving (both, when present).
CREATE TRIGGER members_count_update_old AFTER UPDATE OF
    present, best, total, week_key, week_count, month_key, month_count ON members
WHEN OLD.present = 1
BEGIN
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'best' AND period = '' AND value = OLD.best;
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'total' AND period = '' AND value = OLD.total;
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'week_best' AND period = COALESCE(OLD.week_key, '') AND value = OLD.best;
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'week_count' AND period = COALESCE(OLD.week_key, '') AND value = OLD.week_count;
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'month_best' AND period = COALESCE(OLD.month_key, '') AND value = OLD.best;
    UPDATE board_counts SET members = members - 1 WHERE guild_id = OLD.guild_id
        AND board = 'month_count' AND period = COALESCE(OLD.month_key, '') AND value = OLD.month_count;
END;

CREATE TRIGGER members_count_update_new AFTER UPDATE OF
    present, best, total, week_key, week_count, month_key, month_count ON members
WHEN NEW.present = 1
BEGIN
    INSERT INTO board_counts (guild_id, board, period, value, members) VALUES
        (NEW.guild_id, 'best', '', NEW.best, 1),
        (NEW.guild_id, 'total', '', NEW.total, 1),
        (NEW.guild_id, 'week_best', COALESCE(NEW.week_key, ''), NEW.best, 1),
        (NEW.guild_id, 'week_count', COALESCE(NEW.week_key, ''), NEW.week_count, 1),
        (NEW.guild_id, 'month_best', COALESCE(NEW.month_key, ''), NEW.best, 1),
        (NEW.guild_id, 'month_count', COALESCE(NEW.month_key, ''), NEW.month_count, 1)
    ON CONFLICT DO UPDATE SET members = members + 1;
END;
