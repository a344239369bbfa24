//! Storage of server-side sessions, as `sessions` rows (see the domain's `sessions`).

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::models::SessionRow;
use super::schema::sessions::dsl;
use super::RunOnBackend;
use super::{optional, DbConnection, StorageError};

/// Stores a new session.
pub fn insert(conn: &mut DbConnection, row: &SessionRow) -> Result<(), StorageError> {
    diesel::insert_into(dsl::sessions)
        .values(row)
        .execute_on(conn)?;
    Ok(())
}

/// The session with this id.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<SessionRow>, StorageError> {
    optional(
        dsl::sessions
            .find(id)
            .select(super::selection::<SessionRow>())
            .first_on(conn),
    )
}

/// Records that the session was used at `at` (while it has not ended).
pub fn touch(conn: &mut DbConnection, id: &str, at: PrimitiveDateTime) -> Result<(), StorageError> {
    diesel::update(dsl::sessions.find(id).filter(dsl::ended_at.is_null()))
        .set(dsl::last_seen_at.eq(at))
        .execute_on(conn)?;
    Ok(())
}

/// Ends one session, if it has not ended; whether it had not.
pub fn end(
    conn: &mut DbConnection,
    id: &str,
    at: PrimitiveDateTime,
    reason: &str,
) -> Result<bool, StorageError> {
    let ended = diesel::update(dsl::sessions.find(id).filter(dsl::ended_at.is_null()))
        .set((dsl::ended_at.eq(at), dsl::end_reason.eq(reason)))
        .execute_on(conn)?;
    Ok(ended > 0)
}

/// Ends every open session of `subject_id` held as `holder`; how many there were.
pub fn end_all_of(
    conn: &mut DbConnection,
    holder: &str,
    subject_id: &str,
    at: PrimitiveDateTime,
    reason: &str,
) -> Result<usize, StorageError> {
    Ok(diesel::update(
        dsl::sessions
            .filter(dsl::holder.eq(holder))
            .filter(dsl::subject_id.eq(subject_id))
            .filter(dsl::ended_at.is_null())
            .filter(dsl::expires_at.gt(at)),
    )
    .set((dsl::ended_at.eq(at), dsl::end_reason.eq(reason)))
    .execute_on(conn)?)
}

/// Forgets sessions that expired or ended before `before`.
pub fn delete_finished(
    conn: &mut DbConnection,
    before: PrimitiveDateTime,
) -> Result<usize, StorageError> {
    Ok(diesel::delete(
        dsl::sessions.filter(dsl::expires_at.lt(before).or(dsl::ended_at.lt(before))),
    )
    .execute_on(conn)?)
}
