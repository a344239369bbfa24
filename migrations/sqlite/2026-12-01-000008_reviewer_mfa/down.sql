DROP TABLE reviewer_recovery_codes;
ALTER TABLE reviewers DROP COLUMN mfa_last_step;
ALTER TABLE reviewers DROP COLUMN mfa_enrolled_at;
ALTER TABLE reviewers DROP COLUMN mfa_pending_secret;
ALTER TABLE reviewers DROP COLUMN mfa_secret;
