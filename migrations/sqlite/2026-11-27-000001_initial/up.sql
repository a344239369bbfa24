-- The reissue application, its ledger, the mail outbox and the audit log (SQLite).
-- Timestamps are UTC.

CREATE TABLE ledger_entries (
    prefecture_code TEXT NOT NULL,
    office_number TEXT NOT NULL,
    office_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('care', 'disability', 'agent')),
    postal_code TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    PRIMARY KEY (prefecture_code, office_number)
);

CREATE TABLE reissue_applications (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL,
    office_number TEXT NOT NULL,
    email TEXT NOT NULL,
    prefecture_code TEXT,
    office_name TEXT,
    status TEXT NOT NULL,
    closed_reason TEXT,
    reference_number TEXT UNIQUE,
    code_hash TEXT,
    code_expires_at TIMESTAMP,
    code_failed_attempts INTEGER NOT NULL DEFAULT 0,
    codes_issued INTEGER NOT NULL DEFAULT 0,
    last_code_sent_at TIMESTAMP,
    client_address TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    verified_at TIMESTAMP,
    submitted_at TIMESTAMP
);
CREATE INDEX reissue_applications_office ON reissue_applications (office_number, status);
-- One unsubmitted application per office at a time (a new one supersedes the old).
CREATE UNIQUE INDEX reissue_applications_one_open_per_office ON reissue_applications (office_number)
    WHERE status IN ('awaiting_prefecture', 'code_sent', 'verified');
CREATE INDEX reissue_applications_expiry ON reissue_applications (status, expires_at);

CREATE TABLE outbox_messages (
    id TEXT PRIMARY KEY NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    application_id TEXT REFERENCES reissue_applications (id),
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_messages_due ON outbox_messages (status, next_attempt_at);

CREATE TABLE dev_messages (
    id TEXT PRIMARY KEY NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX dev_messages_recipient ON dev_messages (recipient, created_at);

CREATE TABLE rate_limit_events (
    id TEXT PRIMARY KEY NOT NULL,
    bucket TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX rate_limit_events_bucket ON rate_limit_events (bucket, occurred_at);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    application_id TEXT,
    office_number TEXT,
    prefecture_code TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_application ON audit_log (application_id, occurred_at);

-- The audit log is append-only: the database itself refuses to change or remove a row.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
