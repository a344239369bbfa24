-- Server-side sessions: one row per login, named by the `sid` claim of its token. A token is
-- honoured only while its row is neither ended (logout, a new password, a disabled or changed
-- reviewer) nor past its lifetime or idle timeout, so a session ends at once on every
-- instance. `holder` is `reviewer` or `office`; `subject_id` the reviewer's or the office
-- account's id; `scope` what the token opens.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    end_reason TEXT
);
CREATE INDEX sessions_subject ON sessions (holder, subject_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
-- A disabled reviewer cannot log in; `reissue reviewer add` enables the login ID again.
ALTER TABLE reviewers ADD COLUMN disabled_at TIMESTAMP;
