//! The append-only audit log (the database refuses UPDATE and DELETE on it).

use diesel::prelude::*;
use uuid::Uuid;

use super::models::AuditRow;
use super::schema::audit_log::dsl;
use super::RunOnBackend;
use super::{DbConnection, StorageError};

/// Appends one entry.
pub fn append(conn: &mut DbConnection, row: &AuditRow) -> Result<(), StorageError> {
    diesel::insert_into(dsl::audit_log)
        .values(row)
        .execute_on(conn)?;
    Ok(())
}

/// One page of a prefecture's audit log, newest first, and the total.
pub fn for_prefecture(
    conn: &mut DbConnection,
    prefecture_code: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<reissue_shared::admin::AuditEntryView>, i64), StorageError> {
    let total: i64 = dsl::audit_log
        .filter(dsl::prefecture_code.eq(prefecture_code))
        .count()
        .get_result_on(conn)?;
    let rows: Vec<AuditRow> = dsl::audit_log
        .filter(dsl::prefecture_code.eq(prefecture_code))
        .order((dsl::occurred_at.desc(), dsl::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(super::selection::<AuditRow>())
        .load_on(conn)?;
    let items = rows
        .into_iter()
        .map(|row| reissue_shared::admin::AuditEntryView {
            occurred_at: super::models::from_db_time(row.occurred_at),
            actor: row.actor,
            action: row.action,
            application_id: row.application_id,
            office_number: row.office_number,
            detail: row.detail,
        })
        .collect();
    Ok((items, total))
}

/// The history of one application, oldest first.
pub fn history(
    conn: &mut DbConnection,
    application_id: Uuid,
) -> Result<Vec<reissue_shared::admin::HistoryEntry>, StorageError> {
    let rows: Vec<AuditRow> = dsl::audit_log
        .filter(dsl::application_id.eq(application_id.to_string()))
        .order((dsl::occurred_at.asc(), dsl::id.asc()))
        .select(super::selection::<AuditRow>())
        .load_on(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| reissue_shared::admin::HistoryEntry {
            occurred_at: super::models::from_db_time(row.occurred_at),
            actor: row.actor,
            action: row.action,
            detail: row.detail,
            action_label: String::new(),
            actor_name: String::new(),
        })
        .collect())
}

/// The actions recorded for one application, oldest first.
pub fn actions_for_application(
    conn: &mut DbConnection,
    application_id: Uuid,
) -> Result<Vec<String>, StorageError> {
    Ok(dsl::audit_log
        .filter(dsl::application_id.eq(application_id.to_string()))
        .order((dsl::occurred_at.asc(), dsl::id.asc()))
        .select(dsl::action)
        .load_on(conn)?)
}
