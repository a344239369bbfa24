ALTER TABLE reviewers DROP COLUMN disabled_at;
DROP TABLE sessions;
