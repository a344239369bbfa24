//! Storage of failed-login counts, as `login_failures` rows (see the domain's
//! `passwords::LoginFailures`).

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::models::LoginFailureRow;
use super::schema::login_failures::dsl;
use super::RunOnBackend;
use super::{optional, DbConnection, StorageError};

/// The row of `key`, if any. Read after [`super::lock_key`] of the same key, it stays as read
/// until the transaction ends.
pub fn find(conn: &mut DbConnection, key: &str) -> Result<Option<LoginFailureRow>, StorageError> {
    optional(
        dsl::login_failures
            .find(key)
            .select(super::selection::<LoginFailureRow>())
            .first_on(conn),
    )
}

/// Writes `row`, inserting it when it is new.
pub fn save(conn: &mut DbConnection, row: &LoginFailureRow) -> Result<(), StorageError> {
    let updated = diesel::update(dsl::login_failures.find(&row.key))
        .set(row)
        .execute_on(conn)?;
    if updated == 0 {
        diesel::insert_into(dsl::login_failures)
            .values(row)
            .execute_on(conn)?;
    }
    Ok(())
}

/// Forgets the rows of `keys` (after a success, or a new password).
pub fn delete(conn: &mut DbConnection, keys: &[String]) -> Result<usize, StorageError> {
    Ok(diesel::delete(dsl::login_failures.filter(dsl::key.eq_any(keys))).execute_on(conn)?)
}

/// Forgets rows untouched since `before` and not locked beyond it.
pub fn delete_stale(
    conn: &mut DbConnection,
    before: PrimitiveDateTime,
) -> Result<usize, StorageError> {
    Ok(diesel::delete(
        dsl::login_failures
            .filter(dsl::updated_at.lt(before))
            .filter(dsl::locked_until.is_null().or(dsl::locked_until.lt(before))),
    )
    .execute_on(conn)?)
}

/// Forgets every row of the login ID `subject` (its own count and every client's).
pub fn delete_subject(conn: &mut DbConnection, subject: &str) -> Result<usize, StorageError> {
    Ok(diesel::delete(dsl::login_failures.filter(dsl::subject.eq(subject))).execute_on(conn)?)
}
