DROP INDEX security_codes_expires;
DROP INDEX dev_messages_created;
DROP INDEX outbox_messages_created;
DROP INDEX reissue_applications_retention;
