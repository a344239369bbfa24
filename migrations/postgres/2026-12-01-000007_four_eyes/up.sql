-- Four-eyes issuance: who approved an application and who confirmed the approval (a second
-- reviewer of the prefecture; none when REISSUE_FOUR_EYES is off), and a pending request to
-- print a posted notice again (which mints a new temporary password), waiting for a second
-- reviewer's confirmation. Reviewers are named by their `reviewers.id`.
ALTER TABLE reissue_applications ADD COLUMN approved_by TEXT;
ALTER TABLE reissue_applications ADD COLUMN approved_at TIMESTAMP;
ALTER TABLE reissue_applications ADD COLUMN confirmed_by TEXT;
ALTER TABLE reissue_applications ADD COLUMN confirmed_at TIMESTAMP;
ALTER TABLE reissue_applications ADD COLUMN reprint_requested_by TEXT;
ALTER TABLE reissue_applications ADD COLUMN reprint_requested_at TIMESTAMP;
ALTER TABLE reissue_applications ADD COLUMN reprint_reason TEXT;
