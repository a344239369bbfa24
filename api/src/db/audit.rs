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

/// Appends two entries, in one statement on PostgreSQL: a batch of a fixed size is a
/// statement it prepares once per connection, as the single insert is. SQLite runs in the
/// process, where a statement costs no round trip: it appends them one by one with the cached
/// single insert (diesel would prepare its batch form anew each time).
pub fn append_pair(conn: &mut DbConnection, rows: [AuditRow; 2]) -> Result<(), StorageError> {
    match conn {
        DbConnection::Postgres(pg) => {
            diesel::insert_into(dsl::audit_log)
                .values(&rows)
                .execute(pg)?;
        }
        DbConnection::Sqlite(_) => {
            for row in &rows {
                append(conn, row)?;
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::query_builder::{QueryFragment, QueryId};

    use super::{dsl, AuditRow};
    use crate::db::RunOnBackend;

    fn entry(id: &str, action: &str) -> AuditRow {
        AuditRow {
            id: id.to_owned(),
            occurred_at: time::macros::datetime!(2026-12-07 10:00:00),
            actor: "system".to_owned(),
            action: action.to_owned(),
            application_id: Some("0193a0b4-0000-7000-8000-000000000001".to_owned()),
            office_number: None,
            prefecture_code: Some("13".to_owned()),
            detail: String::new(),
        }
    }

    fn has_static_id<T: QueryId>(_: &T) -> bool {
        T::query_id().is_some()
    }

    /// The pair is one statement that PostgreSQL prepares once per connection, and it stores
    /// both entries as given (here on SQLite, which appends them one by one).
    #[test]
    fn a_pair_of_entries_is_one_cached_statement(
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let rows = [entry("a1", "prefecture_chosen"), entry("a2", "code_sent")];
        let statement = diesel::insert_into(dsl::audit_log).values(&rows);
        assert!(statement.is_safe_to_cache_prepared(&diesel::pg::Pg)?);
        assert!(
            has_static_id(&statement),
            "cached by its type, not its SQL text"
        );
        assert!(
            diesel::debug_query::<diesel::pg::Pg, _>(&statement)
                .to_string()
                .contains("), ($9, "),
            "one statement with two rows of values"
        );
        let (_dir, db) = crate::db::temporary_sqlite(1);
        let mut pooled = db.connection()?;
        super::append_pair(&mut pooled.conn, rows)?;
        let stored: Vec<(String, String)> = dsl::audit_log
            .select((dsl::id, dsl::action))
            .order(dsl::id)
            .load_on(&mut pooled.conn)?;
        assert_eq!(
            stored,
            [
                ("a1".to_owned(), "prefecture_chosen".to_owned()),
                ("a2".to_owned(), "code_sent".to_owned())
            ]
        );
        Ok(())
    }
}
