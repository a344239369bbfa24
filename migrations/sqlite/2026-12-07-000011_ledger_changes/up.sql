-- Ledger changes (issue 14 item 6): the version of an entry that a newer import changed or
-- removed, kept so that a reviewer sees what the office's entry was when it applied; and when a
-- reviewer acknowledged the changes of an application's entry since its submission.
CREATE TABLE ledger_entry_versions (
    id TEXT PRIMARY KEY NOT NULL,
    prefecture_code TEXT NOT NULL,
    office_number TEXT NOT NULL,
    office_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT NOT NULL,
    -- When this version was imported, and when a newer import changed or removed it.
    imported_at TIMESTAMP NOT NULL,
    replaced_at TIMESTAMP NOT NULL
);
CREATE INDEX ledger_entry_versions_office
    ON ledger_entry_versions (prefecture_code, office_number, replaced_at);

-- A reviewer has seen the changes of an application's ledger entry up to this moment.
CREATE TABLE ledger_acknowledgements (
    application_id TEXT PRIMARY KEY NOT NULL REFERENCES reissue_applications (id),
    acknowledged_at TIMESTAMP NOT NULL,
    acknowledged_by TEXT NOT NULL
);
