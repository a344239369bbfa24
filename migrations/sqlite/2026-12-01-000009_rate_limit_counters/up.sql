-- Rate limits and budgets as one row per bucket instead of one row per counted event: each
-- check read every event of its window, so its cost grew with the traffic it limits. A row
-- keeps a count per slot of its window (`slots`: "slot:count" pairs, oldest first, slot =
-- unix seconds / `slot_seconds`); an event is counted until the end of its slot has left the
-- window, so the row never counts less than the events did. `expires_at`: when every counted
-- event has left its window (the sweeper forgets the row then).
CREATE TABLE rate_limit_counters (
    bucket TEXT PRIMARY KEY NOT NULL,
    slot_seconds BIGINT NOT NULL,
    slots TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX rate_limit_counters_expires ON rate_limit_counters (expires_at);
-- The events counted so far carry over at a slot of one second (the server re-slots a row
-- to its budget's slot size at the next check, rounding each event into the slot holding it).
-- They are kept for up to 31 days, longer than any window a setting is likely to give.
INSERT INTO rate_limit_counters (bucket, slot_seconds, slots, expires_at)
SELECT bucket, 1, group_concat(second || ':' || events, ','),
       datetime(max(second), 'unixepoch', '+31 days')
FROM (
    SELECT bucket, CAST(strftime('%s', occurred_at) AS INTEGER) AS second, COUNT(*) AS events
    FROM rate_limit_events
    GROUP BY bucket, second
    ORDER BY bucket, second
)
GROUP BY bucket;
DROP TABLE rate_limit_events;
