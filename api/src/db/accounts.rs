//! Storage of office login accounts and their postal notices.

use diesel::prelude::*;
use time::OffsetDateTime;

use super::models::{from_db_time, to_db_time, NoticeRow, OfficeAccountRow};
use super::schema::{notices, office_accounts};
use super::{optional, DbConnection, StorageError};

/// An office account as stored (times as instants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeAccount {
    pub id: String,
    pub user_id: String,
    pub office_number: String,
    pub prefecture_code: String,
    pub password_hash: Option<String>,
    pub temp_password_hash: Option<String>,
    pub temp_password_expires_at: Option<OffsetDateTime>,
    pub must_change_password: bool,
    pub failed_logins: u32,
    pub locked_until: Option<OffsetDateTime>,
    pub security_email: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A postal notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: String,
    pub application_id: String,
    pub account_id: String,
    pub sealed_password: Option<String>,
    pub issued_at: OffsetDateTime,
    pub mailed_at: Option<OffsetDateTime>,
    pub voided_at: Option<OffsetDateTime>,
}

/// The account of an office in a prefecture.
pub fn find_by_office(
    conn: &mut DbConnection,
    prefecture_code: &str,
    office_number: &str,
) -> Result<Option<OfficeAccount>, StorageError> {
    let row = optional(
        office_accounts::table
            .filter(office_accounts::prefecture_code.eq(prefecture_code))
            .filter(office_accounts::office_number.eq(office_number))
            .select(OfficeAccountRow::as_select())
            .first(conn),
    )?;
    Ok(row.map(account_from_row))
}

/// The account with this user ID.
pub fn find_by_user_id(
    conn: &mut DbConnection,
    user_id: &str,
) -> Result<Option<OfficeAccount>, StorageError> {
    let row = optional(
        office_accounts::table
            .filter(office_accounts::user_id.eq(user_id))
            .select(OfficeAccountRow::as_select())
            .first(conn),
    )?;
    Ok(row.map(account_from_row))
}

/// The account with this id.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<OfficeAccount>, StorageError> {
    let row = optional(
        office_accounts::table
            .find(id)
            .select(OfficeAccountRow::as_select())
            .first(conn),
    )?;
    Ok(row.map(account_from_row))
}

/// Inserts a new account.
pub fn insert(conn: &mut DbConnection, account: &OfficeAccount) -> Result<(), StorageError> {
    diesel::insert_into(office_accounts::table)
        .values(account_to_row(account))
        .execute(conn)?;
    Ok(())
}

/// Writes every field of an account.
pub fn update(conn: &mut DbConnection, account: &OfficeAccount) -> Result<(), StorageError> {
    let row = account_to_row(account);
    diesel::update(office_accounts::table.find(&row.id))
        .set(&row)
        .execute(conn)?;
    Ok(())
}

/// Inserts a notice.
pub fn insert_notice(conn: &mut DbConnection, notice: &Notice) -> Result<(), StorageError> {
    diesel::insert_into(notices::table)
        .values(notice_to_row(notice))
        .execute(conn)?;
    Ok(())
}

/// Writes every field of a notice.
pub fn update_notice(conn: &mut DbConnection, notice: &Notice) -> Result<(), StorageError> {
    let row = notice_to_row(notice);
    diesel::update(notices::table.find(&row.id))
        .set(&row)
        .execute(conn)?;
    Ok(())
}

/// The newest notice of an application that is not voided.
pub fn current_notice(
    conn: &mut DbConnection,
    application_id: &str,
) -> Result<Option<Notice>, StorageError> {
    let row = optional(
        notices::table
            .filter(notices::application_id.eq(application_id))
            .filter(notices::voided_at.is_null())
            .order((notices::issued_at.desc(), notices::id.desc()))
            .select(NoticeRow::as_select())
            .first(conn),
    )?;
    Ok(row.map(|row| Notice {
        id: row.id,
        application_id: row.application_id,
        account_id: row.account_id,
        sealed_password: row.sealed_password,
        issued_at: from_db_time(row.issued_at),
        mailed_at: row.mailed_at.map(from_db_time),
        voided_at: row.voided_at.map(from_db_time),
    }))
}

fn notice_to_row(notice: &Notice) -> NoticeRow {
    NoticeRow {
        id: notice.id.clone(),
        application_id: notice.application_id.clone(),
        account_id: notice.account_id.clone(),
        sealed_password: notice.sealed_password.clone(),
        issued_at: to_db_time(notice.issued_at),
        mailed_at: notice.mailed_at.map(to_db_time),
        voided_at: notice.voided_at.map(to_db_time),
    }
}

fn account_to_row(a: &OfficeAccount) -> OfficeAccountRow {
    OfficeAccountRow {
        id: a.id.clone(),
        user_id: a.user_id.clone(),
        office_number: a.office_number.clone(),
        prefecture_code: a.prefecture_code.clone(),
        password_hash: a.password_hash.clone(),
        temp_password_hash: a.temp_password_hash.clone(),
        temp_password_expires_at: a.temp_password_expires_at.map(to_db_time),
        must_change_password: a.must_change_password,
        failed_logins: i32::try_from(a.failed_logins).unwrap_or(i32::MAX),
        locked_until: a.locked_until.map(to_db_time),
        security_email: a.security_email.clone(),
        created_at: to_db_time(a.created_at),
        updated_at: to_db_time(a.updated_at),
    }
}

fn account_from_row(row: OfficeAccountRow) -> OfficeAccount {
    OfficeAccount {
        id: row.id,
        user_id: row.user_id,
        office_number: row.office_number,
        prefecture_code: row.prefecture_code,
        password_hash: row.password_hash,
        temp_password_hash: row.temp_password_hash,
        temp_password_expires_at: row.temp_password_expires_at.map(from_db_time),
        must_change_password: row.must_change_password,
        failed_logins: u32::try_from(row.failed_logins).unwrap_or(0),
        locked_until: row.locked_until.map(from_db_time),
        security_email: row.security_email,
        created_at: from_db_time(row.created_at),
        updated_at: from_db_time(row.updated_at),
    }
}
