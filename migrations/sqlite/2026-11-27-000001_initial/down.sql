DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP TABLE audit_log;
DROP TABLE rate_limit_events;
DROP TABLE dev_messages;
DROP TABLE outbox_messages;
DROP TABLE reissue_applications;
DROP TABLE ledger_entries;
