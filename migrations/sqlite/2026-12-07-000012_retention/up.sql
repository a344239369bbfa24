-- Retention (domain::retention): the daily purge finds ended applications whose personal data
-- is still stored, and mails, codes and development mails past the period, by index.
CREATE INDEX reissue_applications_retention ON reissue_applications (updated_at) WHERE email <> '';
CREATE INDEX outbox_messages_created ON outbox_messages (created_at);
CREATE INDEX dev_messages_created ON dev_messages (created_at);
CREATE INDEX security_codes_expires ON security_codes (expires_at);
