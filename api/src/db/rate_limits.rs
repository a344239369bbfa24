//! Storage of rate limits and budgets: one `rate_limit_counters` row per bucket, shared by
//! every instance on the database (the domain's `rate_limit` reads and writes its slots).

use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, BigInt, Text, Timestamp};
use time::PrimitiveDateTime;

use super::models::RateLimitCounterRow;
use super::schema::rate_limit_counters::dsl;
use super::RunOnBackend;
use super::{optional, DbConnection, StorageError};

/// The row of `bucket`, if any, as it stands (no lock): a hint such as the `RateLimit` field.
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

/// The row of `bucket`, if any, locked until the transaction ends (PostgreSQL reads it `FOR
/// UPDATE`; SQLite's `BEGIN IMMEDIATE` already lets one writer in at a time), so that a
/// parallel transaction counting the same bucket waits and then reads this one's count. A
/// bucket with no row yet has nothing to lock: [`insert_firsts_or_lock`] settles who counts
/// first.
pub fn find_for_update(
    conn: &mut DbConnection,
    bucket: &str,
) -> Result<Option<RateLimitCounterRow>, StorageError> {
    first_for_update!(
        conn,
        dsl::rate_limit_counters.find(bucket),
        RateLimitCounterRow
    )
}

/// The rows of `buckets` that exist, locked until the transaction ends as by
/// [`find_for_update`]. PostgreSQL reads them in one statement (`= ANY($1)`, prepared once per
/// connection); SQLite, which would prepare an `IN` list anew each time, reads each by key.
pub fn find_all_for_update(
    conn: &mut DbConnection,
    buckets: &[&str],
) -> Result<Vec<RateLimitCounterRow>, StorageError> {
    match conn {
        DbConnection::Postgres(pg) => Ok(dsl::rate_limit_counters
            .filter(dsl::bucket.eq_any(buckets))
            .order(dsl::bucket)
            .select(RateLimitCounterRow::as_select())
            .for_update()
            .load(pg)?),
        DbConnection::Sqlite(_) => {
            let mut rows = Vec::with_capacity(buckets.len());
            for bucket in buckets {
                rows.extend(find_for_update(conn, bucket)?);
            }
            Ok(rows)
        }
    }
}

/// Either inserts `first`, a bucket's first row, and answers `None`, or, when the bucket has a
/// row, answers it locked until the transaction ends (as [`find_for_update`] does), unchanged.
///
/// PostgreSQL does either in one statement: `INSERT … ON CONFLICT (bucket) DO UPDATE` locks
/// the row it conflicts with (after waiting for a parallel transaction that inserted it to
/// end) and `RETURNING … xmax = 0` tells an inserted row from a locked one. The `DO UPDATE`
/// sets the key to itself: the row keeps its counts until the caller writes them. SQLite,
/// with one writer at a time, reads by key and inserts when there is nothing to read.
fn insert_first_or_lock(
    conn: &mut DbConnection,
    first: &RateLimitCounterRow,
) -> Result<Option<RateLimitCounterRow>, StorageError> {
    match conn {
        DbConnection::Postgres(pg) => {
            let (row, inserted) =
                InsertFirstOrLock(first).get_result::<(RateLimitCounterRow, bool)>(pg)?;
            Ok((!inserted).then_some(row))
        }
        DbConnection::Sqlite(_) => {
            if let Some(row) = find_for_update(conn, &first.bucket)? {
                return Ok(Some(row));
            }
            if insert_first(conn, first)? {
                Ok(None)
            } else {
                // Not with one writer at a time; were it so, the row is there to read.
                find_for_update(conn, &first.bucket)?
                    .map(Some)
                    .ok_or_else(|| {
                        StorageError::Corrupt(format!(
                            "rate limit {}: neither inserted nor found",
                            first.bucket
                        ))
                    })
            }
        }
    }
}

/// Inserts each bucket's first row of `firsts`, or locks the row the bucket has: answers, for
/// each of `firsts` in its order, `None` when it was inserted or the bucket's row as found,
/// locked until the transaction ends, unchanged (see `insert_first_or_lock` for one bucket).
///
/// PostgreSQL takes two or more distinct buckets in one statement (`INSERT … SELECT * FROM
/// unnest(…) ON CONFLICT (bucket) DO UPDATE …`): one SQL text whatever their number, so diesel
/// prepares it once per connection. The rows are inserted or locked in the order of `firsts`
/// (the locking order), as one by one. A single bucket, or a bucket named twice (one statement
/// may not touch a row twice), goes one by one, as on SQLite.
pub fn insert_firsts_or_lock(
    conn: &mut DbConnection,
    firsts: &[RateLimitCounterRow],
) -> Result<Vec<Option<RateLimitCounterRow>>, StorageError> {
    let distinct = firsts
        .iter()
        .enumerate()
        .all(|(at, row)| firsts[..at].iter().all(|other| other.bucket != row.bucket));
    match conn {
        DbConnection::Postgres(pg) if firsts.len() > 1 && distinct => {
            let mut answered: Vec<(RateLimitCounterRow, bool)> =
                InsertFirstsOrLock::of(firsts).load(pg)?;
            // RETURNING gives the rows in no promised order.
            firsts
                .iter()
                .map(|first| {
                    let at = answered
                        .iter()
                        .position(|(row, _)| row.bucket == first.bucket)
                        .ok_or_else(|| {
                            StorageError::Corrupt(format!(
                                "rate limit {}: neither inserted nor found",
                                first.bucket
                            ))
                        })?;
                    let (row, inserted) = answered.swap_remove(at);
                    Ok((!inserted).then_some(row))
                })
                .collect()
        }
        _ => firsts
            .iter()
            .map(|first| insert_first_or_lock(conn, first))
            .collect(),
    }
}

/// The statement of [`insert_firsts_or_lock`] on PostgreSQL: the rows as four arrays, one per
/// column.
struct InsertFirstsOrLock {
    buckets: Vec<String>,
    slot_seconds: Vec<i64>,
    slots: Vec<String>,
    expires_at: Vec<PrimitiveDateTime>,
}

impl InsertFirstsOrLock {
    fn of(rows: &[RateLimitCounterRow]) -> Self {
        Self {
            buckets: rows.iter().map(|row| row.bucket.clone()).collect(),
            slot_seconds: rows.iter().map(|row| row.slot_seconds).collect(),
            slots: rows.iter().map(|row| row.slots.clone()).collect(),
            expires_at: rows.iter().map(|row| row.expires_at).collect(),
        }
    }
}

impl QueryFragment<diesel::pg::Pg> for InsertFirstsOrLock {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO rate_limit_counters (bucket, slot_seconds, slots, expires_at) \
             SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.buckets)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.slot_seconds)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.slots)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.expires_at)?;
        out.push_sql(")");
        out.push_sql(ON_CONFLICT_LOCK);
        Ok(())
    }
}

impl Query for InsertFirstsOrLock {
    type SqlType = ((Text, BigInt, Text, Timestamp), diesel::sql_types::Bool);
}

impl<Conn> RunQueryDsl<Conn> for InsertFirstsOrLock {}

// One SQL text whatever the rows: diesel may cache it by type.
impl QueryId for InsertFirstsOrLock {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// What the first-row inserts of PostgreSQL add: a conflict locks the row that is there and
/// returns it unchanged; `xmax = 0` tells an inserted row from a locked one.
const ON_CONFLICT_LOCK: &str = " ON CONFLICT (bucket) DO UPDATE SET bucket = EXCLUDED.bucket \
     RETURNING bucket, slot_seconds, slots, expires_at, xmax = 0";

/// The statement of [`insert_first_or_lock`] on PostgreSQL, prepared once per connection.
struct InsertFirstOrLock<'a>(&'a RateLimitCounterRow);

impl QueryFragment<diesel::pg::Pg> for InsertFirstOrLock<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        push_insert(self.0, &mut out)?;
        out.push_sql(ON_CONFLICT_LOCK);
        Ok(())
    }
}

impl Query for InsertFirstOrLock<'_> {
    type SqlType = ((Text, BigInt, Text, Timestamp), diesel::sql_types::Bool);
}

impl<Conn> RunQueryDsl<Conn> for InsertFirstOrLock<'_> {}

// One SQL text whatever the row: diesel may cache it by type.
impl QueryId for InsertFirstOrLock<'_> {
    type QueryId = InsertFirstOrLock<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// Inserts a bucket's first row (SQLite's half of [`insert_first_or_lock`]). `false`, and
/// nothing written, when the bucket has a row after all.
fn insert_first(conn: &mut DbConnection, row: &RateLimitCounterRow) -> Result<bool, StorageError> {
    Ok(InsertFirst(row).execute_on(conn)? == 1)
}

/// `INSERT … ON CONFLICT (bucket) DO NOTHING` as one statement that diesel prepares once per
/// connection (diesel caches no `ON CONFLICT` statement it builds itself).
struct InsertFirst<'a>(&'a RateLimitCounterRow);

impl<DB> QueryFragment<DB> for InsertFirst<'_>
where
    DB: Backend,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    PrimitiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        push_insert(self.0, &mut out)?;
        out.push_sql(" ON CONFLICT (bucket) DO NOTHING");
        Ok(())
    }
}

/// `INSERT INTO rate_limit_counters (…) VALUES (…)` of `row`.
fn push_insert<'b, DB>(
    row: &'b RateLimitCounterRow,
    out: &mut AstPass<'_, 'b, DB>,
) -> QueryResult<()>
where
    DB: Backend,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    PrimitiveDateTime: ToSql<Timestamp, DB>,
{
    out.push_sql(
        "INSERT INTO rate_limit_counters (bucket, slot_seconds, slots, expires_at) VALUES (",
    );
    out.push_bind_param::<Text, _>(&row.bucket)?;
    out.push_sql(", ");
    out.push_bind_param::<BigInt, _>(&row.slot_seconds)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&row.slots)?;
    out.push_sql(", ");
    out.push_bind_param::<Timestamp, _>(&row.expires_at)?;
    out.push_sql(")");
    Ok(())
}

// One SQL text whatever the row: diesel may cache it by type.
impl QueryId for InsertFirst<'_> {
    type QueryId = InsertFirst<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

changed_columns_update!(
    /// The UPDATE of a bucket's counts.
    CounterChanges: RateLimitCounterRow, table rate_limit_counters, key bucket,
    columns [slot_seconds, slots, expires_at]
);

/// Writes `row` over the bucket's row (read with [`find_for_update`]).
pub fn update(conn: &mut DbConnection, row: &RateLimitCounterRow) -> Result<(), StorageError> {
    CounterChanges::all(row).execute_on(conn)?;
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

    /// A counter of the bucket `client:192.0.2.1` with these slots.
    fn counter(slots: &str) -> super::RateLimitCounterRow {
        super::RateLimitCounterRow {
            bucket: "client:192.0.2.1".to_owned(),
            slot_seconds: 60,
            slots: slots.to_owned(),
            expires_at: time::macros::datetime!(2026-12-07 10:00:00),
        }
    }

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

    /// A bucket's first row is one statement that diesel caches on both backends, and it
    /// writes nothing over a row that is there.
    #[test]
    fn the_first_row_of_a_bucket_is_a_cached_statement_that_never_overwrites(
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        use diesel::query_builder::{QueryFragment, QueryId};
        let first = counter("29466000:1");
        let statement = super::InsertFirst(&first);
        assert_eq!(
            crate::db::pg_text(&statement),
            "INSERT INTO rate_limit_counters (bucket, slot_seconds, slots, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (bucket) DO NOTHING"
        );
        assert!(statement.is_safe_to_cache_prepared(&diesel::pg::Pg)?);
        assert!(statement.is_safe_to_cache_prepared(&diesel::sqlite::Sqlite)?);
        assert!(super::InsertFirst::query_id().is_some());

        let (_dir, db) = crate::db::temporary_sqlite(1);
        let mut pooled = db.connection()?;
        assert!(super::insert_first(&mut pooled.conn, &first)?);
        assert!(!super::insert_first(
            &mut pooled.conn,
            &counter("29466000:7")
        )?);
        let stored = super::find_for_update(&mut pooled.conn, &first.bucket)?.map(|r| r.slots);
        assert_eq!(stored.as_deref(), Some("29466000:1"));
        Ok(())
    }

    /// A bucket's first event on PostgreSQL: one cached statement that inserts the row or
    /// locks the one there and says which.
    #[test]
    fn the_first_event_of_a_bucket_is_one_cached_statement_on_postgres(
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        use diesel::query_builder::{QueryFragment, QueryId};
        let first = counter("29466000:1");
        let statement = super::InsertFirstOrLock(&first);
        assert_eq!(
            crate::db::pg_text(&statement),
            "INSERT INTO rate_limit_counters (bucket, slot_seconds, slots, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (bucket) DO UPDATE SET bucket = \
             EXCLUDED.bucket RETURNING bucket, slot_seconds, slots, expires_at, xmax = 0"
        );
        assert!(statement.is_safe_to_cache_prepared(&diesel::pg::Pg)?);
        assert!(super::InsertFirstOrLock::query_id().is_some());

        // SQLite: the first call inserts, the second finds the row as the first left it.
        let (_dir, db) = crate::db::temporary_sqlite(1);
        let mut pooled = db.connection()?;
        assert!(super::insert_first_or_lock(&mut pooled.conn, &first)?.is_none());
        let found = super::insert_first_or_lock(&mut pooled.conn, &counter("29466000:2"))?
            .map(|row| row.slots);
        assert_eq!(found.as_deref(), Some("29466000:1"));
        Ok(())
    }

    /// Several buckets' first rows on PostgreSQL: one statement, prepared once per connection
    /// whatever their number. SQLite (and a bucket named twice) goes one by one, and each
    /// answer is of its own bucket.
    #[test]
    fn the_first_rows_of_several_buckets_are_one_cached_statement_on_postgres(
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        use diesel::query_builder::{QueryFragment, QueryId};
        let other = |bucket: &str, slots: &str| super::RateLimitCounterRow {
            bucket: bucket.to_owned(),
            ..counter(slots)
        };
        let rows = [counter("29466000:1"), other("code:office:1", "29466000:1")];
        let statement = super::InsertFirstsOrLock::of(&rows);
        assert_eq!(
            crate::db::pg_text(&statement),
            "INSERT INTO rate_limit_counters (bucket, slot_seconds, slots, expires_at) SELECT * \
             FROM unnest($1, $2, $3, $4) ON CONFLICT (bucket) DO UPDATE SET bucket = \
             EXCLUDED.bucket RETURNING bucket, slot_seconds, slots, expires_at, xmax = 0"
        );
        assert!(statement.is_safe_to_cache_prepared(&diesel::pg::Pg)?);
        assert!(super::InsertFirstsOrLock::query_id().is_some());

        let (_dir, db) = crate::db::temporary_sqlite(1);
        let mut pooled = db.connection()?;
        let first = super::insert_firsts_or_lock(&mut pooled.conn, &rows[..1])?;
        assert!(first[0].is_none());
        let both = super::insert_firsts_or_lock(
            &mut pooled.conn,
            &[counter("29466000:5"), other("code:office:1", "29466000:5")],
        )?;
        let found: Vec<Option<(String, String)>> = both
            .into_iter()
            .map(|row| row.map(|row| (row.bucket, row.slots)))
            .collect();
        assert_eq!(
            found,
            [
                Some((rows[0].bucket.clone(), "29466000:1".to_owned())),
                None
            ]
        );
        Ok(())
    }

    /// On PostgreSQL the buckets of a check are read in one statement, prepared once per
    /// connection whatever their number; SQLite reads each by key and finds the rows that
    /// exist.
    #[test]
    fn the_buckets_of_a_check_are_read_together(
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        use diesel::query_builder::QueryFragment;
        use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
        let buckets = ["wrong:office:1311111111", "wrong:email:a@example.jp"];
        let read = super::dsl::rate_limit_counters
            .filter(super::dsl::bucket.eq_any(buckets))
            .order(super::dsl::bucket)
            .select(super::RateLimitCounterRow::as_select())
            .for_update();
        assert!(diesel::debug_query::<diesel::pg::Pg, _>(&read)
            .to_string()
            .contains("\"rate_limit_counters\".\"bucket\" = ANY($1)"));
        assert!(QueryFragment::<diesel::pg::Pg>::is_safe_to_cache_prepared(
            &read,
            &diesel::pg::Pg
        )?);

        let (_dir, db) = crate::db::temporary_sqlite(1);
        let mut pooled = db.connection()?;
        let first = super::RateLimitCounterRow {
            bucket: buckets[1].to_owned(),
            slot_seconds: 60,
            slots: "29466000:1".to_owned(),
            expires_at: time::macros::datetime!(2026-12-07 10:00:00),
        };
        assert!(super::insert_first(&mut pooled.conn, &first)?);
        let found: Vec<String> = super::find_all_for_update(&mut pooled.conn, &buckets)?
            .into_iter()
            .map(|row| row.bucket)
            .collect();
        assert_eq!(found, [buckets[1]]);
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
