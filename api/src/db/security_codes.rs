//! Storage of the security-e-mail path's codes.

use diesel::prelude::*;

use super::models::{from_db_time, to_db_time, SecurityCodeRow};
use super::schema::security_codes::dsl;
use super::{optional, DbConnection, StorageError};

/// A code row with times as instants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityCode {
    pub id: String,
    pub purpose: String,
    pub account_id: Option<String>,
    pub token_hash: Option<String>,
    pub email: String,
    pub code_hash: Option<String>,
    pub expires_at: time::OffsetDateTime,
    pub failed_attempts: u32,
    pub verified_at: Option<time::OffsetDateTime>,
    pub consumed_at: Option<time::OffsetDateTime>,
    pub created_at: time::OffsetDateTime,
}

fn to_row(c: &SecurityCode) -> SecurityCodeRow {
    SecurityCodeRow {
        id: c.id.clone(),
        purpose: c.purpose.clone(),
        account_id: c.account_id.clone(),
        token_hash: c.token_hash.clone(),
        email: c.email.clone(),
        code_hash: c.code_hash.clone(),
        expires_at: to_db_time(c.expires_at),
        failed_attempts: i32::try_from(c.failed_attempts).unwrap_or(i32::MAX),
        verified_at: c.verified_at.map(to_db_time),
        consumed_at: c.consumed_at.map(to_db_time),
        created_at: to_db_time(c.created_at),
    }
}

fn from_row(r: SecurityCodeRow) -> SecurityCode {
    SecurityCode {
        id: r.id,
        purpose: r.purpose,
        account_id: r.account_id,
        token_hash: r.token_hash,
        email: r.email,
        code_hash: r.code_hash,
        expires_at: from_db_time(r.expires_at),
        failed_attempts: u32::try_from(r.failed_attempts).unwrap_or(0),
        verified_at: r.verified_at.map(from_db_time),
        consumed_at: r.consumed_at.map(from_db_time),
        created_at: from_db_time(r.created_at),
    }
}

/// Inserts a code.
pub fn insert(conn: &mut DbConnection, code: &SecurityCode) -> Result<(), StorageError> {
    diesel::insert_into(dsl::security_codes)
        .values(to_row(code))
        .execute(conn)?;
    Ok(())
}

/// Writes every field.
pub fn update(conn: &mut DbConnection, code: &SecurityCode) -> Result<(), StorageError> {
    let row = to_row(code);
    diesel::update(dsl::security_codes.find(&row.id))
        .set(&row)
        .execute(conn)?;
    Ok(())
}

/// One code by id.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<SecurityCode>, StorageError> {
    Ok(optional(
        dsl::security_codes
            .find(id)
            .select(SecurityCodeRow::as_select())
            .first(conn),
    )?
    .map(from_row))
}

/// The newest unconsumed code of an account for a purpose.
pub fn latest_for_account(
    conn: &mut DbConnection,
    account_id: &str,
    purpose: &str,
) -> Result<Option<SecurityCode>, StorageError> {
    Ok(optional(
        dsl::security_codes
            .filter(dsl::account_id.eq(account_id))
            .filter(dsl::purpose.eq(purpose))
            .filter(dsl::consumed_at.is_null())
            .order((dsl::created_at.desc(), dsl::id.desc()))
            .select(SecurityCodeRow::as_select())
            .first(conn),
    )?
    .map(from_row))
}
