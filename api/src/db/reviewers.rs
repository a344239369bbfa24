//! Storage of reviewer accounts.

use diesel::prelude::*;
use time::OffsetDateTime;

use super::models::{from_db_time, to_db_time, ReviewerRow};
use super::schema::reviewers::dsl;
use super::{optional, DbConnection, StorageError};

/// A reviewer account as stored.
#[derive(Debug, Clone)]
pub struct StoredReviewer {
    /// Id.
    pub id: String,
    /// ログインID.
    pub login_id: String,
    /// 氏名.
    pub name: String,
    /// `reviewer` or `supervisor`.
    pub role: String,
    /// The federation's prefecture.
    pub prefecture_code: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Failed logins in a row.
    pub failed_logins: u32,
    /// Locked until then.
    pub locked_until: Option<OffsetDateTime>,
}

/// Creates an account, or replaces name, role, prefecture and password of an existing login ID.
pub fn upsert(
    conn: &mut DbConnection,
    reviewer: &StoredReviewer,
    now: OffsetDateTime,
) -> Result<(), StorageError> {
    let existing = find_by_login(conn, &reviewer.login_id)?;
    match existing {
        Some(found) => {
            diesel::update(dsl::reviewers.find(&found.id))
                .set((
                    dsl::name.eq(&reviewer.name),
                    dsl::role.eq(&reviewer.role),
                    dsl::prefecture_code.eq(&reviewer.prefecture_code),
                    dsl::password_hash.eq(&reviewer.password_hash),
                    dsl::failed_logins.eq(0),
                    dsl::locked_until.eq(None::<time::PrimitiveDateTime>),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(dsl::reviewers)
                .values(ReviewerRow {
                    id: reviewer.id.clone(),
                    login_id: reviewer.login_id.clone(),
                    name: reviewer.name.clone(),
                    role: reviewer.role.clone(),
                    prefecture_code: reviewer.prefecture_code.clone(),
                    password_hash: reviewer.password_hash.clone(),
                    failed_logins: 0,
                    locked_until: None,
                    created_at: to_db_time(now),
                })
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The account with this login ID.
pub fn find_by_login(
    conn: &mut DbConnection,
    login_id: &str,
) -> Result<Option<StoredReviewer>, StorageError> {
    let row = optional(
        dsl::reviewers
            .filter(dsl::login_id.eq(login_id))
            .select(ReviewerRow::as_select())
            .first(conn),
    )?;
    Ok(row.map(from_row))
}

/// The account with this id.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<StoredReviewer>, StorageError> {
    let row = optional(
        dsl::reviewers
            .find(id)
            .select(ReviewerRow::as_select())
            .first(conn),
    )?;
    Ok(row.map(from_row))
}

/// Records the outcome of a login try.
pub fn record_login(
    conn: &mut DbConnection,
    id: &str,
    failed_logins: u32,
    locked_until: Option<OffsetDateTime>,
) -> Result<(), StorageError> {
    diesel::update(dsl::reviewers.find(id))
        .set((
            dsl::failed_logins.eq(i32::try_from(failed_logins).unwrap_or(i32::MAX)),
            dsl::locked_until.eq(locked_until.map(to_db_time)),
        ))
        .execute(conn)?;
    Ok(())
}

fn from_row(row: ReviewerRow) -> StoredReviewer {
    StoredReviewer {
        id: row.id,
        login_id: row.login_id,
        name: row.name,
        role: row.role,
        prefecture_code: row.prefecture_code,
        password_hash: row.password_hash,
        failed_logins: u32::try_from(row.failed_logins).unwrap_or(0),
        locked_until: row.locked_until.map(from_db_time),
    }
}
