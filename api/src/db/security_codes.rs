//! Storage of the security-e-mail path's codes, as `security_codes` rows.

use diesel::prelude::*;

use super::models::SecurityCodeRow;
use super::schema::security_codes::dsl;
use super::RunOnBackend;
use super::{DbConnection, StorageError};

/// Inserts a code.
pub fn insert(conn: &mut DbConnection, row: &SecurityCodeRow) -> Result<(), StorageError> {
    diesel::insert_into(dsl::security_codes)
        .values(row)
        .execute_on(conn)?;
    Ok(())
}

/// Writes every field.
pub fn update(conn: &mut DbConnection, row: &SecurityCodeRow) -> Result<(), StorageError> {
    diesel::update(dsl::security_codes.find(&row.id))
        .set(row)
        .execute_on(conn)?;
    Ok(())
}

/// One code by id, locked until the transaction ends (an entry counts a wrong try on it).
pub fn find_for_update(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<SecurityCodeRow>, StorageError> {
    first_for_update!(conn, dsl::security_codes.find(id), SecurityCodeRow)
}

/// Marks every unconsumed code of an account for a purpose (its stored name) consumed at `at`.
pub fn consume_all(
    conn: &mut DbConnection,
    account_id: &str,
    purpose: &str,
    at: time::PrimitiveDateTime,
) -> Result<usize, StorageError> {
    Ok(diesel::update(
        dsl::security_codes
            .filter(dsl::account_id.eq(account_id))
            .filter(dsl::purpose.eq(purpose))
            .filter(dsl::consumed_at.is_null()),
    )
    .set(dsl::consumed_at.eq(Some(at)))
    .execute_on(conn)?)
}

/// The newest unconsumed code of an account for a purpose (its stored name), locked until the
/// transaction ends.
pub fn latest_for_account_for_update(
    conn: &mut DbConnection,
    account_id: &str,
    purpose: &str,
) -> Result<Option<SecurityCodeRow>, StorageError> {
    first_for_update!(
        conn,
        dsl::security_codes
            .filter(dsl::account_id.eq(account_id))
            .filter(dsl::purpose.eq(purpose))
            .filter(dsl::consumed_at.is_null())
            .order((dsl::created_at.desc(), dsl::id.desc())),
        SecurityCodeRow
    )
}

/// Deletes (or counts) the codes that expired before `cutoff`, with the address each was
/// mailed to: a dead code is of no use, its address is personal data.
pub fn purge_expired_before(
    conn: &mut DbConnection,
    cutoff: time::PrimitiveDateTime,
    purge: super::Purge,
) -> Result<usize, StorageError> {
    let dead = dsl::security_codes.filter(dsl::expires_at.lt(cutoff));
    Ok(match purge {
        super::Purge::Count => super::row_count(dead.count().get_result_on(conn)?),
        super::Purge::Remove => diesel::delete(dead).execute_on(conn)?,
    })
}
