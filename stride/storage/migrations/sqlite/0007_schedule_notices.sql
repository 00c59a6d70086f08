-- On PostgreSQL, the processes sharing the schedule are told when reminders are added or
-- moved. A SQLite file belongs to one process, which knows what it changed: nothing to do
-- here (the number is kept so both databases count their schema versions alike).
SELECT 1;
