//! Storage of rate-limit events: one row per counted action, so that every instance sharing
//! the database sees the same counts.

use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::models::{from_db_time, to_db_time, RateLimitEventRow};
use super::schema::rate_limit_events::dsl;
use super::{DbConnection, StorageError};

/// How many events `bucket` holds since `since`, and the oldest of them.
pub fn count_since(
    conn: &mut DbConnection,
    bucket: &str,
    since: OffsetDateTime,
) -> Result<(u32, Option<OffsetDateTime>), StorageError> {
    let (count, oldest): (i64, Option<time::PrimitiveDateTime>) = dsl::rate_limit_events
        .filter(dsl::bucket.eq(bucket))
        .filter(dsl::occurred_at.gt(to_db_time(since)))
        .select((count_star(), min(dsl::occurred_at)))
        .first(conn)?;
    Ok((
        u32::try_from(count).unwrap_or(u32::MAX),
        oldest.map(from_db_time),
    ))
}

/// Counts one event in each bucket.
pub fn record(
    conn: &mut DbConnection,
    buckets: &[String],
    now: OffsetDateTime,
) -> Result<(), StorageError> {
    // One statement per row: diesel's multi-backend connection has no batch insert.
    for bucket in buckets {
        diesel::insert_into(dsl::rate_limit_events)
            .values(RateLimitEventRow {
                id: Uuid::now_v7().to_string(),
                bucket: bucket.clone(),
                occurred_at: to_db_time(now),
            })
            .execute(conn)?;
    }
    Ok(())
}

/// Forgets events older than `before`.
pub fn delete_before(
    conn: &mut DbConnection,
    before: OffsetDateTime,
) -> Result<usize, StorageError> {
    Ok(
        diesel::delete(dsl::rate_limit_events.filter(dsl::occurred_at.lt(to_db_time(before))))
            .execute(conn)?,
    )
}
