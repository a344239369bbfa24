ALTER TABLE reissue_applications DROP COLUMN decided_at;
ALTER TABLE reissue_applications DROP COLUMN decision_reason;
DROP INDEX reissue_applications_prefecture;
DROP TABLE application_notes;
DROP TABLE reviewers;
