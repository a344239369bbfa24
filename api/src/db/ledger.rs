//! Storage of the ledger (事業所台帳).

use diesel::prelude::*;
use time::OffsetDateTime;

use reissue_shared::{OfficeNumber, PrefectureCode};

use super::models::{to_db_time, LedgerEntryRow};
use super::schema::ledger_entries::dsl;
use super::{optional, DbConnection, StorageError};
use crate::domain::ledger::{LedgerEntry, OfficeKind};

/// The entry of `office_number` in `prefecture`'s ledger.
pub fn find(
    conn: &mut DbConnection,
    prefecture: PrefectureCode,
    office_number: &OfficeNumber,
) -> Result<Option<LedgerEntry>, StorageError> {
    let row = optional(
        dsl::ledger_entries
            .find((prefecture.as_str(), office_number.as_str()))
            .select(LedgerEntryRow::as_select())
            .first(conn),
    )?;
    row.map(from_row).transpose()
}

/// Inserts or replaces entries (a re-import updates names and addresses). Run inside a
/// transaction so a file imports completely or not at all.
pub fn upsert_all(
    conn: &mut DbConnection,
    entries: &[LedgerEntry],
    now: OffsetDateTime,
) -> Result<usize, StorageError> {
    for entry in entries {
        let key = (entry.prefecture_code.as_str(), entry.office_number.as_str());
        diesel::delete(dsl::ledger_entries.find(key)).execute(conn)?;
        diesel::insert_into(dsl::ledger_entries)
            .values(LedgerEntryRow {
                prefecture_code: entry.prefecture_code.as_str().to_owned(),
                office_number: entry.office_number.as_str().to_owned(),
                office_name: entry.office_name.clone(),
                kind: entry.kind.as_str().to_owned(),
                postal_code: entry.postal_code.clone(),
                address: entry.address.clone(),
                phone: entry.phone.clone(),
                imported_at: to_db_time(now),
            })
            .execute(conn)?;
    }
    Ok(entries.len())
}

fn from_row(row: LedgerEntryRow) -> Result<LedgerEntry, StorageError> {
    let corrupt =
        |what: &str| StorageError::Corrupt(format!("ledger {}: {what}", row.office_number));
    Ok(LedgerEntry {
        office_number: OfficeNumber::parse(&row.office_number)
            .map_err(|_| corrupt("office_number"))?,
        office_name: row.office_name.clone(),
        kind: row
            .kind
            .parse::<OfficeKind>()
            .map_err(|_| corrupt("kind"))?,
        prefecture_code: PrefectureCode::parse(&row.prefecture_code)
            .map_err(|_| corrupt("prefecture_code"))?,
        postal_code: row.postal_code.clone(),
        address: row.address.clone(),
        phone: row.phone.clone(),
    })
}
