-- Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field"): the first answer to a
-- key, kept 24 hours so that a retried request replays it instead of doing the work again.
-- key_hash is an HMAC of the key and its scope (the application's token, or the client
-- address); the answer's body is sealed (it may hold the application's token).
CREATE TABLE idempotency_keys (
    key_hash TEXT PRIMARY KEY NOT NULL,
    request_hash TEXT NOT NULL,
    -- NULL while the first request runs.
    response_status INTEGER,
    response_content_type TEXT,
    response_location TEXT,
    response_body TEXT,
    -- A running request's lease: after it, an instance that died mid-request no longer
    -- holds the key.
    locked_until TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
