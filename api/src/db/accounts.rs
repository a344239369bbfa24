//! Storage of office login accounts and their postal notices, as `office_accounts` and
//! `notices` rows.

use diesel::prelude::*;

use super::models::{NoticeRow, OfficeAccountRow};
use super::schema::{notices, office_accounts};
use super::RunOnBackend;
use super::{optional, DbConnection, StorageError};

/// The account of an office in a prefecture.
pub fn find_by_office(
    conn: &mut DbConnection,
    prefecture_code: &str,
    office_number: &str,
) -> Result<Option<OfficeAccountRow>, StorageError> {
    optional(
        office_accounts::table
            .filter(office_accounts::prefecture_code.eq(prefecture_code))
            .filter(office_accounts::office_number.eq(office_number))
            .select(super::selection::<OfficeAccountRow>())
            .first_on(conn),
    )
}

/// The account with this user ID.
pub fn find_by_user_id(
    conn: &mut DbConnection,
    user_id: &str,
) -> Result<Option<OfficeAccountRow>, StorageError> {
    optional(
        office_accounts::table
            .filter(office_accounts::user_id.eq(user_id))
            .select(super::selection::<OfficeAccountRow>())
            .first_on(conn),
    )
}

/// The account with this user ID, locked until the transaction ends (a login applies its
/// outcome to the failure count it read).
pub fn find_by_user_id_for_update(
    conn: &mut DbConnection,
    user_id: &str,
) -> Result<Option<OfficeAccountRow>, StorageError> {
    first_for_update!(
        conn,
        office_accounts::table.filter(office_accounts::user_id.eq(user_id)),
        OfficeAccountRow
    )
}

/// The account with this id, locked until the transaction ends (for a transaction that
/// writes the account back whole).
pub fn find_for_update(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<OfficeAccountRow>, StorageError> {
    first_for_update!(conn, office_accounts::table.find(id), OfficeAccountRow)
}

/// The account with this id.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<OfficeAccountRow>, StorageError> {
    optional(
        office_accounts::table
            .find(id)
            .select(super::selection::<OfficeAccountRow>())
            .first_on(conn),
    )
}

/// Inserts a new account.
pub fn insert(conn: &mut DbConnection, row: &OfficeAccountRow) -> Result<(), StorageError> {
    diesel::insert_into(office_accounts::table)
        .values(row)
        .execute_on(conn)?;
    Ok(())
}

/// Writes every field of an account.
pub fn update(conn: &mut DbConnection, row: &OfficeAccountRow) -> Result<(), StorageError> {
    diesel::update(office_accounts::table.find(&row.id))
        .set(row)
        .execute_on(conn)?;
    Ok(())
}

/// Inserts a notice.
pub fn insert_notice(conn: &mut DbConnection, row: &NoticeRow) -> Result<(), StorageError> {
    diesel::insert_into(notices::table)
        .values(row)
        .execute_on(conn)?;
    Ok(())
}

/// Notices still holding a sealed temporary password that was issued before `before`, oldest
/// first, at most `limit`.
pub fn sealed_issued_before(
    conn: &mut DbConnection,
    before: time::PrimitiveDateTime,
    limit: i64,
) -> Result<Vec<NoticeRow>, StorageError> {
    Ok(notices::table
        .filter(notices::sealed_password.is_not_null())
        .filter(notices::issued_at.lt(before))
        .order(notices::issued_at.asc())
        .limit(limit)
        .select(super::selection::<NoticeRow>())
        .load_on(conn)?)
}

/// Writes every field of a notice.
pub fn update_notice(conn: &mut DbConnection, row: &NoticeRow) -> Result<(), StorageError> {
    diesel::update(notices::table.find(&row.id))
        .set(row)
        .execute_on(conn)?;
    Ok(())
}

/// The newest notice of an application that is not voided.
pub fn current_notice(
    conn: &mut DbConnection,
    application_id: &str,
) -> Result<Option<NoticeRow>, StorageError> {
    optional(
        notices::table
            .filter(notices::application_id.eq(application_id))
            .filter(notices::voided_at.is_null())
            .order((notices::issued_at.desc(), notices::id.desc()))
            .select(super::selection::<NoticeRow>())
            .first_on(conn),
    )
}
