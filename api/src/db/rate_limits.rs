//! Storage of rate limits and budgets: one `rate_limit_counters` row per bucket, shared by
//! every instance on the database (the domain's `rate_limit` reads and writes its slots).

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::models::RateLimitCounterRow;
use super::schema::rate_limit_counters::dsl;
use super::RunOnBackend;
use super::{optional, DbConnection, StorageError};

/// The row of `bucket`, if any. Read after [`super::lock_key`] of the same bucket, it stays as
/// read until the transaction ends.
pub fn find(
    conn: &mut DbConnection,
    bucket: &str,
) -> Result<Option<RateLimitCounterRow>, StorageError> {
    optional(
        dsl::rate_limit_counters
            .find(bucket)
            .select(super::selection::<RateLimitCounterRow>())
            .first_on(conn),
    )
}

changed_columns_update!(
    /// The UPDATE of a bucket's counts.
    CounterChanges: RateLimitCounterRow, table rate_limit_counters, key bucket,
    columns [slot_seconds, slots, expires_at]
);

/// Writes `row` over the bucket's row, or inserts it when the bucket has none.
pub fn save(
    conn: &mut DbConnection,
    row: &RateLimitCounterRow,
    exists: bool,
) -> Result<(), StorageError> {
    if exists {
        CounterChanges::all(row).execute_on(conn)?;
    } else {
        diesel::insert_into(dsl::rate_limit_counters)
            .values(row)
            .execute_on(conn)?;
    }
    Ok(())
}

/// Forgets the buckets whose every counted event has left its window by `now`.
pub fn delete_expired(
    conn: &mut DbConnection,
    now: PrimitiveDateTime,
) -> Result<usize, StorageError> {
    Ok(
        diesel::delete(dsl::rate_limit_counters.filter(dsl::expires_at.lt(now)))
            .execute_on(conn)?,
    )
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    use diesel_migrations::MigrationHarness;

    /// The migration to one row per bucket carries the events counted so far over, a count per
    /// second, so no budget starts afresh at the upgrade.
    #[test]
    fn the_migration_keeps_the_events_counted_so_far(
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let mut conn = SqliteConnection::establish(":memory:")?;
        let migrations = super::super::SQLITE_MIGRATIONS;
        let pending = conn.pending_migrations(migrations)?;
        let position = pending
            .iter()
            .position(|m| m.name().to_string().ends_with("_rate_limit_counters"))
            .ok_or("no rate_limit_counters migration")?;
        for migration in &pending[..position] {
            conn.run_migration(migration.as_ref())?;
        }
        conn.batch_execute(
            "INSERT INTO rate_limit_events (id, bucket, occurred_at) VALUES \
             ('1', 'code:office:1311111111', '2026-12-01 10:00:00.250000'), \
             ('2', 'code:office:1311111111', '2026-12-01 10:00:00.750000'), \
             ('3', 'code:office:1311111111', '2026-12-01 11:30:00'), \
             ('4', 'client:127.0.0.1', '2026-12-01 09:00:00');",
        )?;
        conn.run_migration(pending[position].as_ref())?;
        let rows: Vec<(String, i64, String, time::PrimitiveDateTime)> = diesel::sql_query(
            "SELECT bucket, slot_seconds, slots, expires_at FROM rate_limit_counters \
             ORDER BY bucket",
        )
        .load::<CounterByName>(&mut conn)?
        .into_iter()
        .map(|row| (row.bucket, row.slot_seconds, row.slots, row.expires_at))
        .collect();
        let ten = time::macros::datetime!(2026-12-01 10:00:00)
            .assume_utc()
            .unix_timestamp();
        assert_eq!(
            rows,
            vec![
                (
                    "client:127.0.0.1".to_owned(),
                    1,
                    format!("{}:1", ten - 3600),
                    time::macros::datetime!(2027-01-01 09:00:00)
                ),
                (
                    "code:office:1311111111".to_owned(),
                    1,
                    format!("{ten}:2,{}:1", ten + 5400),
                    time::macros::datetime!(2027-01-01 11:30:00)
                ),
            ]
        );
        Ok(())
    }

    #[derive(diesel::QueryableByName)]
    struct CounterByName {
        #[diesel(sql_type = diesel::sql_types::Text)]
        bucket: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        slot_seconds: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        slots: String,
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        expires_at: time::PrimitiveDateTime,
    }
}
