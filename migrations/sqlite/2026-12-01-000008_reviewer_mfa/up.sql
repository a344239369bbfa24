-- Reviewers' second factor: a TOTP secret (RFC 6238), sealed with the server's key and bound
-- to the reviewer; the one being enrolled until a code confirms it; the last time step a code
-- was accepted for (a code is accepted once); and single-use recovery codes, stored hashed.
ALTER TABLE reviewers ADD COLUMN mfa_secret TEXT;
ALTER TABLE reviewers ADD COLUMN mfa_pending_secret TEXT;
ALTER TABLE reviewers ADD COLUMN mfa_enrolled_at TIMESTAMP;
ALTER TABLE reviewers ADD COLUMN mfa_last_step INTEGER;
CREATE TABLE reviewer_recovery_codes (
    id TEXT PRIMARY KEY NOT NULL,
    reviewer_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX reviewer_recovery_codes_reviewer ON reviewer_recovery_codes (reviewer_id);
