//! Storage of reissue applications.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use reissue_shared::email::NOTICE_EMAIL;
use reissue_shared::{ApplicationStatus, EmailAddress, OfficeNumber, PrefectureCode};

use super::models::{from_db_time, to_db_time, ApplicationRow};
use super::schema::reissue_applications::dsl;
use super::{optional, DbConnection, StorageError};
use crate::domain::application::{ActiveCode, ReissueApplication};

/// Inserts a new application.
pub fn insert(
    conn: &mut DbConnection,
    application: &ReissueApplication,
) -> Result<(), StorageError> {
    diesel::insert_into(dsl::reissue_applications)
        .values(to_row(application))
        .execute(conn)?;
    Ok(())
}

/// Writes every field of an existing application.
pub fn update(
    conn: &mut DbConnection,
    application: &ReissueApplication,
) -> Result<(), StorageError> {
    let row = to_row(application);
    diesel::update(dsl::reissue_applications.find(&row.id))
        .set(&row)
        .execute(conn)?;
    Ok(())
}

/// Reads one application.
pub fn find(conn: &mut DbConnection, id: Uuid) -> Result<Option<ReissueApplication>, StorageError> {
    let row = optional(
        dsl::reissue_applications
            .find(id.to_string())
            .select(ApplicationRow::as_select())
            .first(conn),
    )?;
    row.map(from_row).transpose()
}

/// Reads one application and locks its row until the transaction ends, so that concurrent
/// code entries cannot both spend the same try. (SQLite's `BEGIN IMMEDIATE` already serialises
/// writers.)
pub fn find_for_update(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<ReissueApplication>, StorageError> {
    let query = || dsl::reissue_applications.find(id.to_string());
    let row = match conn {
        DbConnection::Postgres(pg) => optional(
            query()
                .select(ApplicationRow::as_select())
                .for_update()
                .first(pg),
        )?,
        DbConnection::Sqlite(sqlite) => {
            optional(query().select(ApplicationRow::as_select()).first(sqlite))?
        }
    };
    row.map(from_row).transpose()
}

/// Unsubmitted applications of one office (to be superseded by a new one).
pub fn find_unsubmitted_for_office(
    conn: &mut DbConnection,
    office_number: &OfficeNumber,
) -> Result<Vec<ReissueApplication>, StorageError> {
    let unsubmitted = unsubmitted_statuses();
    let rows = dsl::reissue_applications
        .filter(dsl::office_number.eq(office_number.as_str()))
        .filter(dsl::status.eq_any(unsubmitted))
        .select(ApplicationRow::as_select())
        .load(conn)?;
    rows.into_iter().map(from_row).collect()
}

/// Marks every unsubmitted application past its lifetime as expired; returns them.
pub fn expire_due(
    conn: &mut DbConnection,
    now: OffsetDateTime,
    batch: i64,
) -> Result<Vec<ReissueApplication>, StorageError> {
    let unsubmitted = unsubmitted_statuses();
    let due: Vec<String> = dsl::reissue_applications
        .filter(dsl::status.eq_any(unsubmitted))
        .filter(dsl::expires_at.le(to_db_time(now)))
        .select(dsl::id)
        .limit(batch)
        .load(conn)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(dsl::reissue_applications.filter(dsl::id.eq_any(&due)))
        .set((
            dsl::status.eq(ApplicationStatus::Expired.as_str()),
            dsl::code_hash.eq(None::<String>),
            dsl::code_expires_at.eq(None::<time::PrimitiveDateTime>),
            dsl::updated_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    let rows = dsl::reissue_applications
        .filter(dsl::id.eq_any(&due))
        .select(ApplicationRow::as_select())
        .load(conn)?;
    rows.into_iter().map(from_row).collect()
}

/// The stored names of the statuses an applicant is still filling in.
fn unsubmitted_statuses() -> Vec<&'static str> {
    ApplicationStatus::ALL
        .into_iter()
        .filter(|s| s.is_unsubmitted())
        .map(ApplicationStatus::as_str)
        .collect()
}

fn to_row(a: &ReissueApplication) -> ApplicationRow {
    ApplicationRow {
        id: a.id.to_string(),
        token_hash: a.token_hash.clone(),
        office_number: a.office_number.as_str().to_owned(),
        email: a.email.as_str().to_owned(),
        prefecture_code: a.prefecture.map(|p| p.as_str().to_owned()),
        office_name: a.office_name.clone(),
        status: a.status.as_str().to_owned(),
        closed_reason: a.closed_reason.clone(),
        reference_number: a.reference_number.clone(),
        code_hash: a.code.as_ref().map(|c| c.hash.clone()),
        code_expires_at: a.code.as_ref().map(|c| to_db_time(c.expires_at)),
        code_failed_attempts: a
            .code
            .as_ref()
            .map_or(0, |c| i32::try_from(c.failed_attempts).unwrap_or(i32::MAX)),
        codes_issued: i32::try_from(a.codes_issued).unwrap_or(i32::MAX),
        last_code_sent_at: a.last_code_sent_at.map(to_db_time),
        client_address: a.client_address.clone(),
        created_at: to_db_time(a.created_at),
        updated_at: to_db_time(a.updated_at),
        expires_at: to_db_time(a.expires_at),
        verified_at: a.verified_at.map(to_db_time),
        submitted_at: a.submitted_at.map(to_db_time),
        decision_reason: a.decision_reason.clone(),
        decided_at: a.decided_at.map(to_db_time),
    }
}

fn from_row(row: ApplicationRow) -> Result<ReissueApplication, StorageError> {
    let corrupt = |what: &str| StorageError::Corrupt(format!("application {}: {what}", row.id));
    let code = match (&row.code_hash, row.code_expires_at) {
        (Some(hash), Some(expires_at)) => Some(ActiveCode {
            hash: hash.clone(),
            expires_at: from_db_time(expires_at),
            failed_attempts: u32::try_from(row.code_failed_attempts).unwrap_or(0),
        }),
        _ => None,
    };
    Ok(ReissueApplication {
        id: Uuid::parse_str(&row.id).map_err(|_| corrupt("id"))?,
        token_hash: row.token_hash.clone(),
        office_number: OfficeNumber::parse(&row.office_number)
            .map_err(|_| corrupt("office_number"))?,
        email: EmailAddress::parse(&row.email, NOTICE_EMAIL.field, NOTICE_EMAIL.label)
            .map_err(|_| corrupt("email"))?,
        prefecture: row
            .prefecture_code
            .as_deref()
            .map(PrefectureCode::parse)
            .transpose()
            .map_err(|_| corrupt("prefecture_code"))?,
        office_name: row.office_name.clone(),
        status: row.status.parse().map_err(|_| corrupt("status"))?,
        closed_reason: row.closed_reason.clone(),
        reference_number: row.reference_number.clone(),
        code,
        codes_issued: u32::try_from(row.codes_issued).unwrap_or(0),
        last_code_sent_at: row.last_code_sent_at.map(from_db_time),
        client_address: row.client_address.clone(),
        created_at: from_db_time(row.created_at),
        updated_at: from_db_time(row.updated_at),
        expires_at: from_db_time(row.expires_at),
        verified_at: row.verified_at.map(from_db_time),
        submitted_at: row.submitted_at.map(from_db_time),
        decision_reason: row.decision_reason.clone(),
        decided_at: row.decided_at.map(from_db_time),
    })
}

/// What a reviewer's queue asks for.
#[derive(Debug, Clone)]
pub struct QueueFilter {
    /// The reviewer's prefecture: nothing else is ever returned.
    pub prefecture: PrefectureCode,
    /// Only this status.
    pub status: Option<ApplicationStatus>,
    /// Part of the reference number, office number, office name or e-mail.
    pub search: Option<String>,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}

/// One page of a prefecture's applications, oldest first, and how many match in all.
pub fn queue(
    conn: &mut DbConnection,
    filter: &QueueFilter,
) -> Result<(Vec<ReissueApplication>, i64), StorageError> {
    let filtered = || {
        let mut query = dsl::reissue_applications
            .filter(dsl::prefecture_code.eq(filter.prefecture.as_str()))
            .into_boxed();
        if let Some(status) = filter.status {
            query = query.filter(dsl::status.eq(status.as_str()));
        }
        if let Some(search) = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let pattern = format!("%{}%", escape_like(search));
            query = query.filter(
                dsl::reference_number
                    .like(pattern.clone())
                    .escape('\\')
                    .or(dsl::office_number.like(pattern.clone()).escape('\\'))
                    .or(dsl::office_name.like(pattern.clone()).escape('\\'))
                    .or(dsl::email.like(pattern).escape('\\')),
            );
        }
        query
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((dsl::created_at.asc(), dsl::id.asc()))
        .offset(filter.offset)
        .limit(filter.limit)
        .select(ApplicationRow::as_select())
        .load(conn)?;
    let applications = rows.into_iter().map(from_row).collect::<Result<_, _>>()?;
    Ok((applications, total))
}

/// A prefecture's applications by status.
pub fn counts_by_status(
    conn: &mut DbConnection,
    prefecture: PrefectureCode,
) -> Result<Vec<(String, i64)>, StorageError> {
    Ok(dsl::reissue_applications
        .filter(dsl::prefecture_code.eq(prefecture.as_str()))
        .group_by(dsl::status)
        .select((dsl::status, diesel::dsl::count_star()))
        .load(conn)?)
}

/// All applications of one office in one prefecture, oldest first.
pub fn for_office(
    conn: &mut DbConnection,
    prefecture: PrefectureCode,
    office_number: &OfficeNumber,
) -> Result<Vec<ReissueApplication>, StorageError> {
    let rows = dsl::reissue_applications
        .filter(dsl::prefecture_code.eq(prefecture.as_str()))
        .filter(dsl::office_number.eq(office_number.as_str()))
        .order((dsl::created_at.asc(), dsl::id.asc()))
        .select(ApplicationRow::as_select())
        .load(conn)?;
    rows.into_iter().map(from_row).collect()
}

/// How many applications each of these offices has in the prefecture.
pub fn count_per_office(
    conn: &mut DbConnection,
    prefecture: PrefectureCode,
    office_numbers: &[String],
) -> Result<Vec<(String, i64)>, StorageError> {
    Ok(dsl::reissue_applications
        .filter(dsl::prefecture_code.eq(prefecture.as_str()))
        .filter(dsl::office_number.eq_any(office_numbers))
        .group_by(dsl::office_number)
        .select((dsl::office_number, diesel::dsl::count_star()))
        .load(conn)?)
}

/// `%`, `_` and `\` match themselves in a LIKE pattern built from a search text.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Serialises the creation of applications for one office until the transaction ends, so
/// that simultaneous applications take turns superseding each other instead of deadlocking
/// on the one-open-application index. PostgreSQL: a transaction-scoped advisory lock; SQLite's
/// `BEGIN IMMEDIATE` already lets one writer in at a time.
pub fn lock_office(
    conn: &mut DbConnection,
    office_number: &OfficeNumber,
) -> Result<(), StorageError> {
    match conn {
        DbConnection::Postgres(pg) => {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(office_number.as_str())
                .execute(pg)?;
        }
        DbConnection::Sqlite(_) => {}
    }
    Ok(())
}
