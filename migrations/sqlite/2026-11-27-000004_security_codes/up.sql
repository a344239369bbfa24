-- 6-digit codes of the security-e-mail path: registering a security e-mail, and resetting a
-- lost password with it. A reset that matches no account still gets a row (without a code),
-- so that the answers do not tell whether the pair exists.
CREATE TABLE security_codes (
    id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('register_email', 'password_reset')),
    account_id TEXT REFERENCES office_accounts (id),
    token_hash TEXT,
    email TEXT NOT NULL,
    code_hash TEXT,
    expires_at TIMESTAMP NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    verified_at TIMESTAMP,
    consumed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX security_codes_account ON security_codes (account_id, purpose, created_at);
