//! Storage of the ledger (事業所台帳): rows in, rows out.

use diesel::prelude::*;
use reissue_shared::{OfficeNumber, PrefectureCode};

use super::models::{LedgerEntryRow, LedgerEntryVersionRow};
use super::schema::ledger_entries::dsl;
use super::schema::{ledger_acknowledgements, ledger_entry_versions};
use super::RunOnBackend;
use super::{optional, DbConnection, StorageError};

/// The entry of `office_number` in `prefecture`'s ledger.
pub fn find(
    conn: &mut DbConnection,
    prefecture: PrefectureCode,
    office_number: &OfficeNumber,
) -> Result<Option<LedgerEntryRow>, StorageError> {
    optional(
        dsl::ledger_entries
            .find((prefecture.as_str(), office_number.as_str()))
            .select(super::selection::<LedgerEntryRow>())
            .first_on(conn),
    )
}

/// Every entry of these prefectures' ledgers.
pub fn all_in(
    conn: &mut DbConnection,
    prefectures: &[String],
) -> Result<Vec<LedgerEntryRow>, StorageError> {
    Ok(dsl::ledger_entries
        .filter(dsl::prefecture_code.eq_any(prefectures))
        .select(super::selection::<LedgerEntryRow>())
        .load_on(conn)?)
}

/// Inserts new entries, at most a thousand to a statement (SQLite's 32,766 parameters).
pub fn insert_all(conn: &mut DbConnection, rows: &[LedgerEntryRow]) -> Result<(), StorageError> {
    for chunk in rows.chunks(1000) {
        diesel::insert_into(dsl::ledger_entries)
            .values(chunk)
            .execute_on(conn)?;
    }
    Ok(())
}

/// Removes entries.
pub fn delete(conn: &mut DbConnection, rows: &[LedgerEntryRow]) -> Result<(), StorageError> {
    for row in rows {
        let key = (row.prefecture_code.as_str(), row.office_number.as_str());
        diesel::delete(dsl::ledger_entries.find(key)).execute_on(conn)?;
    }
    Ok(())
}

/// Keeps versions that an import changed or removed, a thousand to a statement.
pub fn insert_versions(
    conn: &mut DbConnection,
    rows: &[LedgerEntryVersionRow],
) -> Result<(), StorageError> {
    for chunk in rows.chunks(1000) {
        diesel::insert_into(ledger_entry_versions::table)
            .values(chunk)
            .execute_on(conn)?;
    }
    Ok(())
}

/// The versions of one office's entry replaced after `after`, oldest first.
pub fn versions_replaced_after(
    conn: &mut DbConnection,
    prefecture: PrefectureCode,
    office_number: &OfficeNumber,
    after: time::PrimitiveDateTime,
) -> Result<Vec<LedgerEntryVersionRow>, StorageError> {
    Ok(ledger_entry_versions::table
        .filter(ledger_entry_versions::prefecture_code.eq(prefecture.as_str()))
        .filter(ledger_entry_versions::office_number.eq(office_number.as_str()))
        .filter(ledger_entry_versions::replaced_at.gt(after))
        .order((
            ledger_entry_versions::replaced_at.asc(),
            ledger_entry_versions::id.asc(),
        ))
        .select(super::selection::<LedgerEntryVersionRow>())
        .load_on(conn)?)
}

/// When a reviewer last acknowledged the ledger changes of an application.
pub fn acknowledged_at(
    conn: &mut DbConnection,
    application_id: &str,
) -> Result<Option<time::PrimitiveDateTime>, StorageError> {
    optional(
        ledger_acknowledgements::table
            .find(application_id)
            .select(ledger_acknowledgements::acknowledged_at)
            .first_on(conn),
    )
}

/// Records that a reviewer has seen the application's ledger changes up to `at`.
pub fn acknowledge(
    conn: &mut DbConnection,
    application_id: &str,
    reviewer_id: &str,
    at: time::PrimitiveDateTime,
) -> Result<(), StorageError> {
    diesel::delete(ledger_acknowledgements::table.find(application_id)).execute_on(conn)?;
    diesel::insert_into(ledger_acknowledgements::table)
        .values((
            ledger_acknowledgements::application_id.eq(application_id),
            ledger_acknowledgements::acknowledged_at.eq(at),
            ledger_acknowledgements::acknowledged_by.eq(reviewer_id),
        ))
        .execute_on(conn)?;
    Ok(())
}
