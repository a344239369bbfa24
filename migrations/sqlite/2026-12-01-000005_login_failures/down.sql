ALTER TABLE reviewers ADD COLUMN locked_until TIMESTAMP;
ALTER TABLE reviewers ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE office_accounts ADD COLUMN locked_until TIMESTAMP;
ALTER TABLE office_accounts ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
DROP TABLE login_failures;
