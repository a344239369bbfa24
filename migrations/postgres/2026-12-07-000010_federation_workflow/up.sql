-- The federation's workflow (issue 14): each prefecture's settings, the return envelope beside
-- an application's status, calls to the ledger's telephone number, and the registered post's
-- number and day in the dispatch register (発送簿).

CREATE TABLE prefecture_settings (
    prefecture_code TEXT PRIMARY KEY NOT NULL,
    federation_name TEXT NOT NULL,
    federation_address TEXT NOT NULL,
    federation_phone TEXT NOT NULL,
    helpdesk_phone TEXT NOT NULL,
    return_envelope_required BOOLEAN NOT NULL,
    envelope_instructions TEXT NOT NULL,
    callback_required BOOLEAN NOT NULL,
    review_target_business_days INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- The supervisor's reviewers.id.
    updated_by TEXT NOT NULL
);

ALTER TABLE reissue_applications ADD COLUMN envelope TEXT NOT NULL DEFAULT 'none'
    CHECK (envelope IN ('none', 'requested', 'received'));
ALTER TABLE reissue_applications ADD COLUMN envelope_requested_at TIMESTAMP;
ALTER TABLE reissue_applications ADD COLUMN envelope_received_at TIMESTAMP;

CREATE TABLE callbacks (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES reissue_applications (id),
    reviewer_id TEXT NOT NULL,
    -- The ledger's number as it was when called.
    phone TEXT NOT NULL,
    reached BOOLEAN NOT NULL,
    note TEXT NOT NULL,
    called_at TIMESTAMP NOT NULL
);
CREATE INDEX callbacks_application ON callbacks (application_id, called_at);

-- 郵送済: the day (Japan's, YYYY-MM-DD), the registered post's number, who marked it, and the
-- address the letter went to (the ledger's of that day), so the register answers "where, when,
-- which number" after the ledger changed.
ALTER TABLE notices ADD COLUMN mailed_on TEXT;
ALTER TABLE notices ADD COLUMN tracking_number TEXT;
ALTER TABLE notices ADD COLUMN mailed_by TEXT;
ALTER TABLE notices ADD COLUMN mailed_to TEXT;
CREATE INDEX notices_mailed_on ON notices (mailed_on);
