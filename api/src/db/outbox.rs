//! Storage of the mail outbox. A message row is written in the same transaction as the change
//! that causes it; workers claim due rows with a lease, so two instances never send one message
//! at the same time (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one writer at a time).

use std::time::Duration;

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::models::{from_db_time, to_db_time, OutboxRow};
use super::schema::outbox_messages::dsl;
use super::RunOnBackend;
use super::{DbConnection, StorageError};

/// A message waiting to be written.
#[derive(Debug, Clone)]
pub struct NewMail {
    /// Recipient address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The application it belongs to, if any.
    pub application_id: Option<Uuid>,
}

/// Queues a message for delivery.
pub fn enqueue(
    conn: &mut DbConnection,
    mail: &NewMail,
    now: OffsetDateTime,
) -> Result<(), StorageError> {
    diesel::insert_into(dsl::outbox_messages)
        .values(OutboxRow {
            id: Uuid::now_v7().to_string(),
            recipient: mail.recipient.clone(),
            subject: mail.subject.clone(),
            body: mail.body.clone(),
            status: "pending".to_owned(),
            attempts: 0,
            next_attempt_at: to_db_time(now),
            locked_until: None,
            last_error: None,
            application_id: mail.application_id.map(|id| id.to_string()),
            created_at: to_db_time(now),
            sent_at: None,
        })
        .execute_on(conn)?;
    Ok(())
}

/// Claims up to `limit` due messages for `lease`; a worker that dies leaves them to be
/// claimed again when the lease runs out. Run inside a transaction.
pub fn claim_due(
    conn: &mut DbConnection,
    now: OffsetDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<OutboxRow>, StorageError> {
    let now_db = to_db_time(now);
    let due = || {
        dsl::outbox_messages
            .filter(dsl::status.eq("pending"))
            .filter(dsl::next_attempt_at.le(now_db))
            .filter(dsl::locked_until.is_null().or(dsl::locked_until.lt(now_db)))
            .order(dsl::created_at.asc())
            .limit(limit)
            .select(dsl::id)
    };
    let ids: Vec<String> = match conn {
        DbConnection::Postgres(pg) => due().for_update().skip_locked().load(pg)?,
        DbConnection::Sqlite(sqlite) => due().load(sqlite)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(dsl::outbox_messages.filter(dsl::id.eq_any(&ids)))
        .set((
            dsl::locked_until.eq(Some(to_db_time(now + lease))),
            dsl::attempts.eq(dsl::attempts + 1),
        ))
        .execute_on(conn)?;
    Ok(dsl::outbox_messages
        .filter(dsl::id.eq_any(&ids))
        .order(dsl::created_at.asc())
        .select(super::selection::<OutboxRow>())
        .load_on(conn)?)
}

/// Records a delivery; `false` when the message was no longer pending (another worker whose
/// lease ran out got there first). With `scrub_body` the body (which may hold a code) is
/// erased, since the recipient's mailbox now has it.
pub fn mark_sent(
    conn: &mut DbConnection,
    id: &str,
    now: OffsetDateTime,
    scrub_body: bool,
) -> Result<bool, StorageError> {
    let target = dsl::outbox_messages
        .filter(dsl::id.eq(id))
        .filter(dsl::status.eq("pending"));
    let updated = if scrub_body {
        diesel::update(target)
            .set((
                dsl::status.eq("sent"),
                dsl::sent_at.eq(Some(to_db_time(now))),
                dsl::locked_until.eq(None::<time::PrimitiveDateTime>),
                dsl::body.eq(""),
            ))
            .execute_on(conn)?
    } else {
        diesel::update(target)
            .set((
                dsl::status.eq("sent"),
                dsl::sent_at.eq(Some(to_db_time(now))),
                dsl::locked_until.eq(None::<time::PrimitiveDateTime>),
            ))
            .execute_on(conn)?
    };
    Ok(updated == 1)
}

/// Records a failed try: retried at `retry_at`, or, with `None`, given up (status `failed`,
/// visible to an operator).
pub fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    error: &str,
    retry_at: Option<OffsetDateTime>,
) -> Result<(), StorageError> {
    let target = dsl::outbox_messages.find(id);
    let error: String = error.chars().take(1000).collect();
    match retry_at {
        Some(at) => diesel::update(target)
            .set((
                dsl::next_attempt_at.eq(to_db_time(at)),
                dsl::locked_until.eq(None::<time::PrimitiveDateTime>),
                dsl::last_error.eq(Some(error)),
            ))
            .execute_on(conn)?,
        None => diesel::update(target)
            .set((
                dsl::status.eq("failed"),
                dsl::locked_until.eq(None::<time::PrimitiveDateTime>),
                dsl::last_error.eq(Some(error)),
            ))
            .execute_on(conn)?,
    };
    Ok(())
}

/// Message counts by status (for operators and tests).
pub fn count_by_status(conn: &mut DbConnection, status: &str) -> Result<i64, StorageError> {
    Ok(dsl::outbox_messages
        .filter(dsl::status.eq(status))
        .count()
        .get_result_on(conn)?)
}

/// What an operator watches of the outbox: messages waiting and the age of the oldest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backlog {
    /// Messages not yet delivered (including ones waiting for a retry).
    pub pending: i64,
    /// When the oldest waiting message was queued.
    pub oldest_queued_at: Option<OffsetDateTime>,
    /// Messages given up after the last try.
    pub failed: i64,
}

/// The outbox backlog, for `/metrics`.
pub fn backlog(conn: &mut DbConnection) -> Result<Backlog, StorageError> {
    let oldest: Option<time::PrimitiveDateTime> = dsl::outbox_messages
        .filter(dsl::status.eq("pending"))
        .select(diesel::dsl::min(dsl::created_at))
        .first_on(conn)?;
    Ok(Backlog {
        pending: count_by_status(conn, "pending")?,
        oldest_queued_at: oldest.map(from_db_time),
        failed: count_by_status(conn, "failed")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseUrl;
    use crate::db::Database;

    fn database() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let url = DatabaseUrl::new(dir.path().join("t.sqlite3").to_string_lossy());
        let db = Database::new(&url, 2);
        db.run_migrations().unwrap_or_else(|e| panic!("{e}"));
        (dir, db)
    }

    #[test]
    fn a_claimed_message_is_sent_once() {
        let (_dir, db) = database();
        let now = OffsetDateTime::now_utc();
        let mail = NewMail {
            recipient: "a@example.jp".into(),
            subject: "s".into(),
            body: "b".into(),
            application_id: None,
        };
        let result = db.transaction_blocking(|conn| {
            enqueue(conn, &mail, now)?;
            let claimed = claim_due(conn, now, Duration::from_secs(60), 10)?;
            assert_eq!(claimed.len(), 1);
            let first = mark_sent(conn, &claimed[0].id, now, false)?;
            let second = mark_sent(conn, &claimed[0].id, now, false)?;
            let sent = count_by_status(conn, "sent")?;
            let again = claim_due(
                conn,
                now + Duration::from_secs(120),
                Duration::from_secs(60),
                10,
            )?;
            Ok::<_, StorageError>((first, second, sent, again.len()))
        });
        assert_eq!(result.ok(), Some((true, false, 1, 0)));
    }
}
