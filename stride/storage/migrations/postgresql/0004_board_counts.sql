-- How many members hold each value on each board, kept in step with `members` by triggers.
-- A member's rank is 1 + the members above them: summing the few distinct values above theirs
-- here instead of counting every member above them in a board index (which, far down a big
-- club's board, meant tens of thousands of index entries per /leaderboard).
-- The streak boards are not counted here: who is on them changes with the clock (breaks_at).
CREATE TABLE board_counts (
    guild_id bigint  NOT NULL,
    board    text COLLATE "C" NOT NULL,  -- best, total, week_best, week_count, month_best, ...
    period   text COLLATE "C" NOT NULL,  -- week_key / month_key of the members counted; '' = all
    value    integer NOT NULL,
    members  integer NOT NULL,  -- present members with this value (0 once all have moved on)
    PRIMARY KEY (guild_id, board, period, value)
);

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

-- The six counts one present member is in.
CREATE FUNCTION board_count_keys(best integer, total integer, week_key text,
                                 week_count integer, month_key text, month_count integer)
RETURNS TABLE (board text, period text, value integer)
LANGUAGE sql IMMUTABLE AS $$
    VALUES ('best', '', best), ('total', '', total),
           ('week_best', COALESCE(week_key, ''), best),
           ('week_count', COALESCE(week_key, ''), week_count),
           ('month_best', COALESCE(month_key, ''), best),
           ('month_count', COALESCE(month_key, ''), month_count)
$$;

-- Unlike SQLite's row triggers, these run once per statement, over the rows it changed (the
-- transition tables), and apply the net change in one ordered upsert: writers in the same
-- club then lock the counts they share in the same order, so concurrent check-ins queue
-- instead of deadlocking; counts a statement leaves as they were are not written at all.
CREATE FUNCTION members_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO board_counts AS c (guild_id, board, period, value, members)
    SELECT m.guild_id, k.board, k.period, k.value, COUNT(*)
    FROM added AS m, board_count_keys(m.best, m.total, m.week_key, m.week_count,
                                      m.month_key, m.month_count) AS k
    WHERE m.present = 1
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (guild_id, board, period, value)
    DO UPDATE SET members = c.members + excluded.members;
    RETURN NULL;
END
$$;

CREATE FUNCTION members_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO board_counts AS c (guild_id, board, period, value, members)
    SELECT m.guild_id, k.board, k.period, k.value, -COUNT(*)
    FROM removed AS m, board_count_keys(m.best, m.total, m.week_key, m.week_count,
                                        m.month_key, m.month_count) AS k
    WHERE m.present = 1
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (guild_id, board, period, value)
    DO UPDATE SET members = c.members + excluded.members;
    RETURN NULL;
END
$$;

-- An update is counted as the old rows leaving and the new ones arriving (both, when present).
CREATE FUNCTION members_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO board_counts AS c (guild_id, board, period, value, members)
    SELECT d.guild_id, d.board, d.period, d.value, SUM(d.n)
    FROM (
        SELECT m.guild_id, k.board, k.period, k.value, -1 AS n
        FROM before AS m, board_count_keys(m.best, m.total, m.week_key, m.week_count,
                                           m.month_key, m.month_count) AS k
        WHERE m.present = 1
        UNION ALL
        SELECT m.guild_id, k.board, k.period, k.value, 1
        FROM after AS m, board_count_keys(m.best, m.total, m.week_key, m.week_count,
                                          m.month_key, m.month_count) AS k
        WHERE m.present = 1
    ) AS d
    GROUP BY 1, 2, 3, 4 HAVING SUM(d.n) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (guild_id, board, period, value)
    DO UPDATE SET members = c.members + excluded.members;
    RETURN NULL;
END
$$;

CREATE TRIGGER members_count_insert AFTER INSERT ON members
REFERENCING NEW TABLE AS added FOR EACH STATEMENT
EXECUTE FUNCTION members_count_insert();

CREATE TRIGGER members_count_delete AFTER DELETE ON members
REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
EXECUTE FUNCTION members_count_delete();

CREATE TRIGGER members_count_update AFTER UPDATE ON members
REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT
EXECUTE FUNCTION members_count_update();
