//! The development mailbox: where mail goes when no SMTP server is configured.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use reissue_shared::dto::DevMessage;

use super::models::{from_db_time, to_db_time, DevMessageRow};
use super::schema::dev_messages::dsl;
use super::RunOnBackend;
use super::{DbConnection, StorageError};

/// Keeps one delivered message.
pub fn insert(
    conn: &mut DbConnection,
    recipient: &str,
    subject: &str,
    body: &str,
    now: OffsetDateTime,
) -> Result<(), StorageError> {
    diesel::insert_into(dsl::dev_messages)
        .values(DevMessageRow {
            id: Uuid::now_v7().to_string(),
            recipient: recipient.to_owned(),
            subject: subject.to_owned(),
            body: body.to_owned(),
            created_at: to_db_time(now),
        })
        .execute_on(conn)?;
    Ok(())
}

/// Messages, newest first, optionally only those to `recipient`.
pub fn list(
    conn: &mut DbConnection,
    recipient: Option<&str>,
    limit: i64,
) -> Result<Vec<DevMessage>, StorageError> {
    let rows: Vec<DevMessageRow> = on_backend!(conn, |c| {
        let mut query = dsl::dev_messages
            .select(DevMessageRow::as_select())
            .order((dsl::created_at.desc(), dsl::id.desc()))
            .limit(limit)
            .into_boxed();
        if let Some(recipient) = recipient {
            query = query.filter(dsl::recipient.eq(recipient.to_owned()));
        }
        query.load(c)?
    });
    Ok(rows
        .into_iter()
        .map(|row| DevMessage {
            to: row.recipient,
            subject: row.subject,
            body: row.body,
            created_at: from_db_time(row.created_at),
        })
        .collect())
}

/// Deletes (or counts) the development mailbox's messages kept since before `cutoff`.
pub fn purge_before(
    conn: &mut DbConnection,
    cutoff: OffsetDateTime,
    purge: super::Purge,
) -> Result<usize, StorageError> {
    let old = dsl::dev_messages.filter(dsl::created_at.lt(to_db_time(cutoff)));
    Ok(match purge {
        super::Purge::Count => super::row_count(old.count().get_result_on(conn)?),
        super::Purge::Remove => diesel::delete(old).execute_on(conn)?,
    })
}
