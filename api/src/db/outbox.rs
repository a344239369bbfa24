//! Storage of the mail outbox. A message row is written in the same transaction as the change
//! that causes it; workers claim due rows with a lease, so two instances never send one message
//! at the same time (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one writer at a time).

use std::time::Duration;

use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Text, Timestamp};
use diesel::{Expression, QueryResult};
use time::{OffsetDateTime, PrimitiveDateTime};
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
/// claimed again when the lease runs out. Oldest first. One statement, whole by itself: on
/// PostgreSQL it needs no transaction around it.
pub fn claim_due(
    conn: &mut DbConnection,
    now: OffsetDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<OutboxRow>, StorageError> {
    let mut claimed: Vec<OutboxRow> = ClaimDue {
        now: to_db_time(now),
        locked_until: to_db_time(now + lease),
        limit,
    }
    .load_on(conn)?;
    // RETURNING gives the rows in no particular order.
    claimed.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(claimed)
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
    let updated = MarkSent {
        id: id.to_owned(),
        sent_at: to_db_time(now),
        scrub_body,
    }
    .execute_on(conn)?;
    Ok(updated == 1)
}

/// Records the delivery of every message of `ids` (as [`mark_sent`] does each); returns how
/// many were still pending. PostgreSQL: one statement for the lot (`id = ANY(…)`), which
/// diesel prepares once per connection, instead of one per message. SQLite: [`mark_sent`]
/// per message, its cached statement (a statement there is a function call, and diesel would
/// prepare a list of another length anew).
pub fn mark_all_sent(
    conn: &mut DbConnection,
    ids: &[String],
    now: OffsetDateTime,
    scrub_body: bool,
) -> Result<usize, StorageError> {
    match conn {
        DbConnection::Postgres(pg) => Ok(MarkAllSent {
            ids,
            sent_at: to_db_time(now),
            scrub_body,
        }
        .execute(pg)?),
        DbConnection::Sqlite(_) => {
            let mut updated = 0;
            for id in ids {
                updated += usize::from(mark_sent(conn, id, now, scrub_body)?);
            }
            Ok(updated)
        }
    }
}

/// The columns of [`OutboxRow`], in the order of its fields (it is read by position).
const OUTBOX_COLUMNS: &str = "id, recipient, subject, body, status, attempts, next_attempt_at, \
     locked_until, last_error, application_id, created_at, sent_at";

/// The claim as one statement that diesel prepares once per connection: `UPDATE … WHERE id IN
/// (the due ids) RETURNING …`. (Built with diesel's DSL it took three statements, two of them
/// prepared anew on every claim: diesel caches neither an UPDATE nor an `eq_any` over a list
/// of ids.) PostgreSQL skips the rows another instance's worker has locked.
struct ClaimDue {
    now: PrimitiveDateTime,
    locked_until: PrimitiveDateTime,
    limit: i64,
}

/// `UPDATE … SET status = 'sent' … WHERE id = ? AND status = 'pending'`, one statement whether
/// or not the body is erased, so that diesel prepares it once per connection.
struct MarkSent {
    id: String,
    sent_at: PrimitiveDateTime,
    scrub_body: bool,
}

/// [`MarkSent`] for several messages: `… WHERE id = ANY(?) AND status = 'pending'`
/// (PostgreSQL only; one SQL text whatever the number of ids).
struct MarkAllSent<'a> {
    ids: &'a [String],
    sent_at: PrimitiveDateTime,
    scrub_body: bool,
}

/// The `SET` part that [`MarkSent`] and [`MarkAllSent`] share, up to their `WHERE`.
fn push_mark_sent_set<'b, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    sent_at: &'b PrimitiveDateTime,
    scrub_body: &'b bool,
) -> QueryResult<()>
where
    PrimitiveDateTime: diesel::serialize::ToSql<Timestamp, DB>,
    bool: diesel::serialize::ToSql<Bool, DB>,
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<Timestamp>
        + diesel::sql_types::HasSqlType<Bool>,
{
    out.push_sql("UPDATE outbox_messages SET status = 'sent', sent_at = ");
    out.push_bind_param::<Timestamp, _>(sent_at)?;
    out.push_sql(", locked_until = NULL, body = CASE WHEN ");
    out.push_bind_param::<Bool, _>(scrub_body)?;
    out.push_sql(" THEN '' ELSE body END WHERE ");
    Ok(())
}

impl QueryFragment<diesel::pg::Pg> for MarkAllSent<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        push_mark_sent_set(&mut out, &self.sent_at, &self.scrub_body)?;
        out.push_sql("id = ANY(");
        out.push_bind_param::<Array<Text>, _>(self.ids)?;
        out.push_sql(") AND status = 'pending'");
        Ok(())
    }
}

macro_rules! outbox_statements_for {
    ($backend:ty, skip_locked: $skip_locked:literal) => {
        impl QueryFragment<$backend> for ClaimDue {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                out.push_sql("UPDATE outbox_messages SET locked_until = ");
                out.push_bind_param::<Timestamp, _>(&self.locked_until)?;
                out.push_sql(
                    ", attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox_messages \
                     WHERE status = 'pending' AND next_attempt_at <= ",
                );
                out.push_bind_param::<Timestamp, _>(&self.now)?;
                out.push_sql(" AND (locked_until IS NULL OR locked_until < ");
                out.push_bind_param::<Timestamp, _>(&self.now)?;
                out.push_sql(") ORDER BY created_at LIMIT ");
                out.push_bind_param::<BigInt, _>(&self.limit)?;
                out.push_sql($skip_locked);
                out.push_sql(") RETURNING ");
                out.push_sql(OUTBOX_COLUMNS);
                Ok(())
            }
        }

        impl QueryFragment<$backend> for MarkSent {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                push_mark_sent_set(&mut out, &self.sent_at, &self.scrub_body)?;
                out.push_sql("id = ");
                out.push_bind_param::<Text, _>(&self.id)?;
                out.push_sql(" AND status = 'pending'");
                Ok(())
            }
        }
    };
}

outbox_statements_for!(diesel::sqlite::Sqlite, skip_locked: "");
outbox_statements_for!(diesel::pg::Pg, skip_locked: " FOR UPDATE SKIP LOCKED");

impl Query for ClaimDue {
    type SqlType = <<OutboxRow as Selectable<diesel::sqlite::Sqlite>>::SelectExpression as Expression>::SqlType;
}

impl<Conn> RunQueryDsl<Conn> for ClaimDue {}

// One SQL text each, whatever the values: diesel may cache them by type.
impl QueryId for ClaimDue {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryId for MarkSent {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Conn> RunQueryDsl<Conn> for MarkAllSent<'_> {}

impl QueryId for MarkAllSent<'_> {
    type QueryId = MarkAllSent<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
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

/// Deletes (or counts) the delivered or given-up messages of an application whose personal
/// data the retention period erases (a message still pending is left to be sent).
pub fn purge_finished_of_application(
    conn: &mut DbConnection,
    application_id: Uuid,
    purge: super::Purge,
) -> Result<usize, StorageError> {
    let finished = dsl::outbox_messages
        .filter(dsl::application_id.eq(application_id.to_string()))
        .filter(dsl::status.ne("pending"));
    Ok(match purge {
        super::Purge::Count => super::row_count(finished.count().get_result_on(conn)?),
        super::Purge::Remove => diesel::delete(finished).execute_on(conn)?,
    })
}

/// Deletes (or counts) the delivered or given-up messages queued before `cutoff`, of any
/// application or none (security mails to offices, reset codes).
pub fn purge_finished_before(
    conn: &mut DbConnection,
    cutoff: OffsetDateTime,
    purge: super::Purge,
) -> Result<usize, StorageError> {
    let finished = dsl::outbox_messages
        .filter(dsl::created_at.lt(to_db_time(cutoff)))
        .filter(dsl::status.ne("pending"));
    Ok(match purge {
        super::Purge::Count => super::row_count(finished.count().get_result_on(conn)?),
        super::Purge::Remove => diesel::delete(finished).execute_on(conn)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Database;

    fn database() -> (tempfile::TempDir, Database) {
        crate::db::temporary_sqlite(2)
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

    #[test]
    fn a_claim_takes_the_oldest_due_rows_whole_and_leases_them() {
        let (_dir, db) = database();
        let start = OffsetDateTime::now_utc();
        let second = Duration::from_secs(1);
        let lease = Duration::from_secs(60);
        let result = db.transaction_blocking(|conn| {
            for n in 0..3u64 {
                let mail = NewMail {
                    recipient: format!("r{n}@example.jp"),
                    subject: format!("subject {n}"),
                    body: format!("body {n}"),
                    application_id: None,
                };
                enqueue(conn, &mail, start + second * n as u32)?;
            }
            let now = start + second * 10;
            let first = claim_due(conn, now, lease, 2)?;
            let rest = claim_due(conn, now, lease, 10)?;
            let while_leased = claim_due(conn, now + second, lease, 10)?;
            mark_sent(conn, &first[0].id, now, true)?;
            mark_sent(conn, &first[1].id, now, false)?;
            let after_lease = claim_due(conn, now + lease + second, lease, 10)?;
            let bodies: Vec<String> = dsl::outbox_messages
                .filter(dsl::status.eq("sent"))
                .order(dsl::created_at.asc())
                .select(dsl::body)
                .load_on(conn)?;
            Ok::<_, StorageError>((first, rest, while_leased.len(), after_lease, bodies))
        });
        let Ok((first, rest, while_leased, after_lease, bodies)) = result else {
            panic!("{result:?}", result = result.err());
        };
        let recipients = |rows: &[OutboxRow]| -> Vec<String> {
            rows.iter().map(|r| r.recipient.clone()).collect()
        };
        assert_eq!(recipients(&first), ["r0@example.jp", "r1@example.jp"]);
        assert_eq!(recipients(&rest), ["r2@example.jp"]);
        assert_eq!(while_leased, 0);
        assert_eq!(recipients(&after_lease), ["r2@example.jp"]);
        assert_eq!(after_lease[0].attempts, 2);
        let row = &first[0];
        assert_eq!(
            (row.subject.as_str(), row.body.as_str(), row.status.as_str()),
            ("subject 0", "body 0", "pending")
        );
        assert_eq!(row.attempts, 1);
        assert_eq!(row.next_attempt_at, to_db_time(start));
        assert_eq!(
            row.locked_until,
            Some(to_db_time(start + second * 10 + lease))
        );
        // The scrubbed body is erased, the other kept.
        assert_eq!(bodies, ["", "body 1"]);
    }

    /// On PostgreSQL a round's deliveries are recorded in one statement, prepared once per
    /// connection whatever their number; on SQLite each by id. Either way only messages still
    /// pending count, and their bodies are erased.
    #[test]
    fn a_rounds_deliveries_are_recorded_together() -> Result<(), StorageError> {
        use diesel::query_builder::QueryFragment;
        let ids = ["a".to_owned(), "b".to_owned()];
        let statement = MarkAllSent {
            ids: &ids,
            sent_at: to_db_time(OffsetDateTime::UNIX_EPOCH),
            scrub_body: true,
        };
        assert_eq!(
            crate::db::pg_text(&statement),
            "UPDATE outbox_messages SET status = 'sent', sent_at = $1, locked_until = NULL, \
             body = CASE WHEN $2 THEN '' ELSE body END WHERE id = ANY($3) AND status = 'pending'"
        );
        assert!(statement.is_safe_to_cache_prepared(&diesel::pg::Pg)?);
        assert!(MarkAllSent::query_id().is_some());

        let (_dir, db) = database();
        let now = OffsetDateTime::now_utc();
        let (first, again, bodies) = db.transaction_blocking(|conn| {
            for n in 0..3 {
                let mail = NewMail {
                    recipient: format!("r{n}@example.jp"),
                    subject: "s".into(),
                    body: format!("code {n}"),
                    application_id: None,
                };
                enqueue(conn, &mail, now)?;
            }
            let claimed = claim_due(conn, now, Duration::from_secs(60), 2)?;
            let ids: Vec<String> = claimed.into_iter().map(|row| row.id).collect();
            let first = mark_all_sent(conn, &ids, now, true)?;
            let again = mark_all_sent(conn, &ids, now, true)?;
            let bodies: Vec<(String, String)> = dsl::outbox_messages
                .order(dsl::recipient.asc())
                .select((dsl::status, dsl::body))
                .load_on(conn)?;
            Ok::<_, StorageError>((first, again, bodies))
        })?;
        assert_eq!((first, again), (2, 0));
        let pair = |status: &str, body: &str| (status.to_owned(), body.to_owned());
        assert_eq!(
            bodies,
            [
                pair("sent", ""),
                pair("sent", ""),
                pair("pending", "code 2")
            ]
        );
        Ok(())
    }
}
