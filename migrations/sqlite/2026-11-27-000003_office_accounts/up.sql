-- Office login accounts of the e-billing reception system, and the postal notices
-- (電子請求ログイン情報再発行通知書) that carry temporary passwords.

CREATE TABLE office_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL UNIQUE,
    office_number TEXT NOT NULL,
    prefecture_code TEXT NOT NULL,
    -- The current password; the old one keeps working until the first login with the
    -- temporary password.
    password_hash TEXT,
    temp_password_hash TEXT,
    temp_password_expires_at TIMESTAMP,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    security_email TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (prefecture_code, office_number)
);

CREATE TABLE notices (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES reissue_applications (id),
    account_id TEXT NOT NULL REFERENCES office_accounts (id),
    -- The temporary password, encrypted with a key derived from the server secret, kept only
    -- until the notice is posted (then erased: a reprint issues a new password).
    sealed_password TEXT,
    issued_at TIMESTAMP NOT NULL,
    mailed_at TIMESTAMP,
    voided_at TIMESTAMP
);
CREATE INDEX notices_application ON notices (application_id, issued_at);
