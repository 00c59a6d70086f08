-- When the send of a claimed firing was first attempted (unix time). A firing still 'claimed'
-- with this set may or may not have been posted (the process stopped while Discord was
-- answering): it is looked for in the channel before it is sent again. NULL: never attempted,
-- so it is simply sent.
ALTER TABLE reminder_firings ADD COLUMN attempted_at bigint;
