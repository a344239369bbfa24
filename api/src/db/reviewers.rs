//! Storage of reviewer accounts, as `reviewers` rows.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::models::{RecoveryCodeRow, ReviewerRow};
use super::schema::reviewers::dsl;
use super::RunOnBackend;
use super::{optional, DbConnection, StorageError};

/// Inserts `row`, or, when its login ID exists, replaces that account's name, role, prefecture
/// and password and enables it (the id and creation time stay). The account as it was before,
/// if it existed.
pub fn upsert(
    conn: &mut DbConnection,
    row: &ReviewerRow,
) -> Result<Option<ReviewerRow>, StorageError> {
    let found = find_by_login(conn, &row.login_id)?;
    match &found {
        Some(found) => {
            diesel::update(dsl::reviewers.find(&found.id))
                .set((
                    dsl::name.eq(&row.name),
                    dsl::role.eq(&row.role),
                    dsl::prefecture_code.eq(&row.prefecture_code),
                    dsl::password_hash.eq(&row.password_hash),
                    dsl::disabled_at.eq(None::<PrimitiveDateTime>),
                ))
                .execute_on(conn)?;
        }
        None => {
            diesel::insert_into(dsl::reviewers)
                .values(row)
                .execute_on(conn)?;
        }
    }
    Ok(found)
}

/// Disables the account with this login ID at `at` (if it is not already); the account, if
/// there is one.
pub fn disable(
    conn: &mut DbConnection,
    login_id: &str,
    at: PrimitiveDateTime,
) -> Result<Option<ReviewerRow>, StorageError> {
    diesel::update(
        dsl::reviewers
            .filter(dsl::login_id.eq(login_id))
            .filter(dsl::disabled_at.is_null()),
    )
    .set(dsl::disabled_at.eq(at))
    .execute_on(conn)?;
    find_by_login(conn, login_id)
}

/// The account with this login ID.
pub fn find_by_login(
    conn: &mut DbConnection,
    login_id: &str,
) -> Result<Option<ReviewerRow>, StorageError> {
    optional(
        dsl::reviewers
            .filter(dsl::login_id.eq(login_id))
            .select(super::selection::<ReviewerRow>())
            .first_on(conn),
    )
}

/// The account with this login ID, locked until the transaction ends (a login applies its
/// outcome to the failure count it read).
pub fn find_by_login_for_update(
    conn: &mut DbConnection,
    login_id: &str,
) -> Result<Option<ReviewerRow>, StorageError> {
    first_for_update!(
        conn,
        dsl::reviewers.filter(dsl::login_id.eq(login_id)),
        ReviewerRow
    )
}

/// The account with this id.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<ReviewerRow>, StorageError> {
    optional(
        dsl::reviewers
            .find(id)
            .select(super::selection::<ReviewerRow>())
            .first_on(conn),
    )
}

/// The second factor of a reviewer as stored: the sealed secret, the one being enrolled, when
/// it was enrolled, and the last time step a code was accepted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaColumns {
    pub secret: Option<String>,
    pub pending_secret: Option<String>,
    pub enrolled_at: Option<PrimitiveDateTime>,
    pub last_step: Option<i64>,
}

/// Writes the second factor of the reviewer `id`.
pub fn set_mfa(conn: &mut DbConnection, id: &str, mfa: &MfaColumns) -> Result<(), StorageError> {
    diesel::update(dsl::reviewers.find(id))
        .set((
            dsl::mfa_secret.eq(&mfa.secret),
            dsl::mfa_pending_secret.eq(&mfa.pending_secret),
            dsl::mfa_enrolled_at.eq(mfa.enrolled_at),
            dsl::mfa_last_step.eq(mfa.last_step),
        ))
        .execute_on(conn)?;
    Ok(())
}

/// The account with this id, locked until the transaction ends.
pub fn find_for_update(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<ReviewerRow>, StorageError> {
    first_for_update!(conn, dsl::reviewers.filter(dsl::id.eq(id)), ReviewerRow)
}

/// Replaces the reviewer's recovery codes with `rows`.
pub fn replace_recovery_codes(
    conn: &mut DbConnection,
    reviewer_id: &str,
    rows: &[RecoveryCodeRow],
) -> Result<(), StorageError> {
    use super::schema::reviewer_recovery_codes::dsl as codes;
    diesel::delete(codes::reviewer_recovery_codes.filter(codes::reviewer_id.eq(reviewer_id)))
        .execute_on(conn)?;
    // One by one: the connection over both backends has no batch insert.
    for row in rows {
        diesel::insert_into(codes::reviewer_recovery_codes)
            .values(row)
            .execute_on(conn)?;
    }
    Ok(())
}

/// The reviewer's recovery codes not used yet.
pub fn unused_recovery_codes(
    conn: &mut DbConnection,
    reviewer_id: &str,
) -> Result<Vec<RecoveryCodeRow>, StorageError> {
    use super::schema::reviewer_recovery_codes::dsl as codes;
    Ok(codes::reviewer_recovery_codes
        .filter(codes::reviewer_id.eq(reviewer_id))
        .filter(codes::used_at.is_null())
        .select(super::selection::<RecoveryCodeRow>())
        .load_on(conn)?)
}

/// Marks a recovery code used, if it was not; whether it was not.
pub fn use_recovery_code(
    conn: &mut DbConnection,
    id: &str,
    at: PrimitiveDateTime,
) -> Result<bool, StorageError> {
    use super::schema::reviewer_recovery_codes::dsl as codes;
    let used = diesel::update(
        codes::reviewer_recovery_codes
            .find(id)
            .filter(codes::used_at.is_null()),
    )
    .set(codes::used_at.eq(at))
    .execute_on(conn)?;
    Ok(used > 0)
}
