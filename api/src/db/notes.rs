//! Storage of reviewers' call notes.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use reissue_shared::admin::NoteView;

use super::models::{from_db_time, to_db_time, NoteRow};
use super::schema::{application_notes, reviewers};
use super::RunOnBackend;
use super::{DbConnection, StorageError};

/// Adds a note.
pub fn insert(
    conn: &mut DbConnection,
    application_id: Uuid,
    reviewer_id: &str,
    text: &str,
    now: OffsetDateTime,
) -> Result<(), StorageError> {
    diesel::insert_into(application_notes::table)
        .values(NoteRow {
            id: Uuid::now_v7().to_string(),
            application_id: application_id.to_string(),
            reviewer_id: reviewer_id.to_owned(),
            text: text.to_owned(),
            created_at: to_db_time(now),
        })
        .execute_on(conn)?;
    Ok(())
}

/// The notes of an application with their authors, oldest first.
pub fn for_application(
    conn: &mut DbConnection,
    application_id: Uuid,
) -> Result<Vec<NoteView>, StorageError> {
    let rows: Vec<(String, String, time::PrimitiveDateTime)> = application_notes::table
        .inner_join(reviewers::table)
        .filter(application_notes::application_id.eq(application_id.to_string()))
        .order((
            application_notes::created_at.asc(),
            application_notes::id.asc(),
        ))
        .select((
            reviewers::name,
            application_notes::text,
            application_notes::created_at,
        ))
        .load_on(conn)?;
    Ok(rows
        .into_iter()
        .map(|(reviewer_name, text, created_at)| NoteView {
            reviewer_name,
            text,
            created_at: from_db_time(created_at),
        })
        .collect())
}

/// Deletes (or counts) the notes of an application whose personal data the retention period
/// erases.
pub fn purge_for_application(
    conn: &mut DbConnection,
    application_id: Uuid,
    purge: super::Purge,
) -> Result<usize, StorageError> {
    let of_application = application_notes::table
        .filter(application_notes::application_id.eq(application_id.to_string()));
    Ok(match purge {
        super::Purge::Count => super::row_count(of_application.count().get_result_on(conn)?),
        super::Purge::Remove => diesel::delete(of_application).execute_on(conn)?,
    })
}
