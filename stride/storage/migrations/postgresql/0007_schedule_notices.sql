-- Several processes share the schedule: when reminders are added or moved, every process
-- hears of it (LISTEN stride_schedule) with the earliest next_due the statement set, and
-- looks again if that is sooner than it planned to. Statement-level: one notice per
-- statement, not per row. A process's own claims move reminders to later times, so their
-- notices are ignored by whoever already plans to look sooner.
CREATE FUNCTION stride_schedule_notice() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    earliest bigint;
BEGIN
    SELECT MIN(next_due) INTO earliest FROM changed WHERE next_due IS NOT NULL;
    IF earliest IS NOT NULL THEN
        PERFORM pg_notify('stride_schedule', earliest::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER reminders_added AFTER INSERT ON reminders
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION stride_schedule_notice();

CREATE TRIGGER reminders_moved AFTER UPDATE ON reminders
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION stride_schedule_notice();
