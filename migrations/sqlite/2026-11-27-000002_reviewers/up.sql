-- Federation reviewers and their call notes on applications.

CREATE TABLE reviewers (
    id TEXT PRIMARY KEY NOT NULL,
    login_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'supervisor')),
    prefecture_code TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE application_notes (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES reissue_applications (id),
    reviewer_id TEXT NOT NULL REFERENCES reviewers (id),
    text TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX application_notes_application ON application_notes (application_id, created_at);

CREATE INDEX reissue_applications_prefecture ON reissue_applications (prefecture_code, status, created_at);

-- Why a reviewer rejected or withdrew an application (shown to the office).
ALTER TABLE reissue_applications ADD COLUMN decision_reason TEXT;
ALTER TABLE reissue_applications ADD COLUMN decided_at TIMESTAMP;
