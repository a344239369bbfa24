ALTER TABLE reissue_applications DROP COLUMN reprint_reason;
ALTER TABLE reissue_applications DROP COLUMN reprint_requested_at;
ALTER TABLE reissue_applications DROP COLUMN reprint_requested_by;
ALTER TABLE reissue_applications DROP COLUMN confirmed_at;
ALTER TABLE reissue_applications DROP COLUMN confirmed_by;
ALTER TABLE reissue_applications DROP COLUMN approved_at;
ALTER TABLE reissue_applications DROP COLUMN approved_by;
