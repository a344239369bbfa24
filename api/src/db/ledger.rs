//! Storage of the ledger (事業所台帳): rows in, rows out.

use diesel::prelude::*;
use reissue_shared::{OfficeNumber, PrefectureCode};

use super::models::LedgerEntryRow;
use super::schema::ledger_entries::dsl;
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

/// Inserts or replaces entries (a re-import updates names and addresses). Run inside a
/// transaction so a file imports completely or not at all.
pub fn upsert_all(conn: &mut DbConnection, rows: &[LedgerEntryRow]) -> Result<usize, StorageError> {
    for row in rows {
        let key = (row.prefecture_code.as_str(), row.office_number.as_str());
        diesel::delete(dsl::ledger_entries.find(key)).execute_on(conn)?;
        diesel::insert_into(dsl::ledger_entries)
            .values(row)
            .execute_on(conn)?;
    }
    Ok(rows.len())
}
