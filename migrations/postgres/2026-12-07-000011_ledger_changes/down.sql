DROP TABLE ledger_acknowledgements;
DROP TABLE ledger_entry_versions;
