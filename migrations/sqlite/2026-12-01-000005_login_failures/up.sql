-- Failed logins, counted per login ID and client (the lock a client meets after a few wrong
-- passwords, longer each time) and per login ID alone (the cap on failures in a row, NIST SP
-- 800-63B section 5.2.2). Keyed by keyed hashes of the login ID (`subject`: the ID's own row
-- and every pair of it), so that an unknown ID is counted and locked exactly like a known
-- one, and no ID (nor a password typed in the ID field) is stored in clear. The accounts'
-- own counters are replaced by it.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    failures INTEGER NOT NULL,
    locks INTEGER NOT NULL,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (subject);
CREATE INDEX login_failures_updated ON login_failures (updated_at);
ALTER TABLE office_accounts DROP COLUMN failed_logins;
ALTER TABLE office_accounts DROP COLUMN locked_until;
ALTER TABLE reviewers DROP COLUMN failed_logins;
ALTER TABLE reviewers DROP COLUMN locked_until;
