-- The counts do not go back into events: the budgets start afresh after a downgrade.
CREATE TABLE rate_limit_events (
    id TEXT PRIMARY KEY NOT NULL,
    bucket TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX rate_limit_events_bucket ON rate_limit_events (bucket, occurred_at);
DROP TABLE rate_limit_counters;
