//! Storage of idempotency keys (`domain::idempotency`).

use diesel::prelude::*;

use super::models::IdempotencyKeyRow;
use super::schema::idempotency_keys::dsl;
use super::RunOnBackend;
use super::{optional, DbConnection, StorageError};

/// The key's row, if any. In a transaction, call `db::lock_key` on the key first.
pub fn find(
    conn: &mut DbConnection,
    key_hash: &str,
) -> Result<Option<IdempotencyKeyRow>, StorageError> {
    optional(
        dsl::idempotency_keys
            .find(key_hash)
            .select(super::selection::<IdempotencyKeyRow>())
            .first_on(conn),
    )
}

/// Inserts a key's row.
pub fn insert(conn: &mut DbConnection, row: &IdempotencyKeyRow) -> Result<(), StorageError> {
    diesel::insert_into(dsl::idempotency_keys)
        .values(row)
        .execute_on(conn)?;
    Ok(())
}

/// Writes every field of a key's row.
pub fn update(conn: &mut DbConnection, row: &IdempotencyKeyRow) -> Result<(), StorageError> {
    diesel::update(dsl::idempotency_keys.find(&row.key_hash))
        .set(row)
        .execute_on(conn)?;
    Ok(())
}

/// Forgets a key (its request ended in a way a retry should repeat).
pub fn delete(conn: &mut DbConnection, key_hash: &str) -> Result<(), StorageError> {
    diesel::delete(dsl::idempotency_keys.find(key_hash)).execute_on(conn)?;
    Ok(())
}

/// Forgets the keys past their 24 hours.
pub fn delete_expired(
    conn: &mut DbConnection,
    now: time::PrimitiveDateTime,
) -> Result<usize, StorageError> {
    Ok(diesel::delete(dsl::idempotency_keys.filter(dsl::expires_at.le(now))).execute_on(conn)?)
}
