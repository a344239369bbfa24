DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE rate_limit_events;
DROP TABLE dev_messages;
DROP TABLE outbox_messages;
DROP TABLE reissue_applications;
DROP TABLE ledger_entries;
