//! Storage of reviewer accounts, as `reviewers` rows.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::models::ReviewerRow;
use super::schema::reviewers::dsl;
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
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(dsl::reviewers)
                .values(row)
                .execute(conn)?;
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
    .execute(conn)?;
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
            .select(ReviewerRow::as_select())
            .first(conn),
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
            .select(ReviewerRow::as_select())
            .first(conn),
    )
}
