//! Storage of reissue applications: rows in, rows out (the domain turns them into
//! `ReissueApplication`s).

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use reissue_shared::{ApplicationStatus, OfficeNumber, PrefectureCode};

use super::models::{to_db_time, ApplicationRow};
use super::schema::reissue_applications::dsl;
use super::RunOnBackend;
use super::{optional, DbConnection, StorageError};

/// Inserts a new application.
pub fn insert(conn: &mut DbConnection, row: &ApplicationRow) -> Result<(), StorageError> {
    diesel::insert_into(dsl::reissue_applications)
        .values(row)
        .execute_on(conn)?;
    Ok(())
}

changed_columns_update!(
    /// The UPDATE of an application's columns (all but its id).
    ApplicationChanges: ApplicationRow, table reissue_applications, key id,
    columns [
        token_hash, office_number, email, prefecture_code, office_name, status, closed_reason,
        reference_number, code_hash, code_expires_at, code_failed_attempts, codes_issued,
        last_code_sent_at, client_address, created_at, updated_at, expires_at, verified_at,
        submitted_at, decision_reason, decided_at, approved_by, approved_at, confirmed_by,
        confirmed_at, reprint_requested_by, reprint_requested_at, reprint_reason, envelope,
        envelope_requested_at, envelope_received_at,
    ]
);

/// Writes an existing application: the columns of `row` that differ from `stored` (the row as
/// read in this transaction), or every column when the stored row is not known.
pub fn update(
    conn: &mut DbConnection,
    stored: Option<&ApplicationRow>,
    row: &ApplicationRow,
) -> Result<(), StorageError> {
    let changes = match stored {
        Some(stored) => ApplicationChanges::changed(stored, row),
        None => ApplicationChanges::all(row),
    };
    if !changes.is_empty() {
        changes.execute_on(conn)?;
    }
    Ok(())
}

/// Reads one application.
pub fn find(conn: &mut DbConnection, id: Uuid) -> Result<Option<ApplicationRow>, StorageError> {
    optional(
        dsl::reissue_applications
            .find(id.to_string())
            .select(super::selection::<ApplicationRow>())
            .first_on(conn),
    )
}

/// Reads the application with this 受付番号 (unique; only submitted applications have one).
pub fn find_by_reference_number(
    conn: &mut DbConnection,
    reference_number: &str,
) -> Result<Option<ApplicationRow>, StorageError> {
    optional(
        dsl::reissue_applications
            .filter(dsl::reference_number.eq(reference_number))
            .select(super::selection::<ApplicationRow>())
            .first_on(conn),
    )
}

/// Reads one application and locks its row until the transaction ends, so that concurrent
/// code entries cannot both spend the same try.
pub fn find_for_update(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<ApplicationRow>, StorageError> {
    first_for_update!(
        conn,
        dsl::reissue_applications.find(id.to_string()),
        ApplicationRow
    )
}

/// Unsubmitted applications of one office (to be superseded by a new one).
pub fn find_unsubmitted_for_office(
    conn: &mut DbConnection,
    office_number: &OfficeNumber,
) -> Result<Vec<ApplicationRow>, StorageError> {
    Ok(dsl::reissue_applications
        .filter(dsl::office_number.eq(office_number.as_str()))
        .filter(is_unsubmitted())
        .select(super::selection::<ApplicationRow>())
        .load_on(conn)?)
}

/// Marks every unsubmitted application past its lifetime as expired; returns them.
pub fn expire_due(
    conn: &mut DbConnection,
    now: OffsetDateTime,
    batch: i64,
) -> Result<Vec<ApplicationRow>, StorageError> {
    let due: Vec<String> = dsl::reissue_applications
        .filter(is_unsubmitted())
        .filter(dsl::expires_at.le(to_db_time(now)))
        .select(dsl::id)
        .limit(batch)
        .load_on(conn)?;
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
        .execute_on(conn)?;
    Ok(dsl::reissue_applications
        .filter(dsl::id.eq_any(&due))
        .select(super::selection::<ApplicationRow>())
        .load_on(conn)?)
}

/// Ended applications whose personal data is still stored and whose end lies before
/// `cutoff`, least recently changed first, at most `limit`: rejected, withdrawn or expired and
/// last changed before it; approved, last changed before it, with no reprint waiting and every
/// notice posted before it (or voided). (A daily job: the `IN` list is not worth a cached
/// statement.)
pub fn erasable(
    conn: &mut DbConnection,
    cutoff: OffsetDateTime,
    limit: i64,
) -> Result<Vec<ApplicationRow>, StorageError> {
    use super::schema::notices;
    let cutoff = to_db_time(cutoff);
    let ended = [
        ApplicationStatus::Approved,
        ApplicationStatus::Rejected,
        ApplicationStatus::Withdrawn,
        ApplicationStatus::Expired,
    ]
    .map(ApplicationStatus::as_str);
    let notice_not_posted_before_cutoff = notices::table
        .filter(notices::application_id.eq(dsl::id))
        .filter(notices::voided_at.is_null())
        .filter(
            notices::mailed_at
                .is_null()
                .or(notices::mailed_at.ge(cutoff)),
        );
    Ok(dsl::reissue_applications
        .filter(dsl::email.ne(""))
        .filter(dsl::status.eq_any(ended))
        .filter(dsl::updated_at.lt(cutoff))
        .filter(dsl::reprint_requested_at.is_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            notice_not_posted_before_cutoff,
        )))
        .order((dsl::updated_at.asc(), dsl::id.asc()))
        .limit(limit)
        .select(super::selection::<ApplicationRow>())
        .load_on(conn)?)
}

/// `status = ?`.
type StatusIs = diesel::dsl::Eq<dsl::status, &'static str>;

/// `status` is one an applicant is still filling in. Three comparisons, not `eq_any` over a
/// list: diesel never caches an `IN` of a list on SQLite (its length could vary), while this
/// has one shape, prepared once per connection; the array's length makes a fourth unsubmitted
/// status a compile error here.
fn is_unsubmitted() -> diesel::dsl::Or<diesel::dsl::Or<StatusIs, StatusIs>, StatusIs> {
    let [first, second, third] = ApplicationStatus::UNSUBMITTED.map(ApplicationStatus::as_str);
    dsl::status
        .eq(first)
        .or(dsl::status.eq(second))
        .or(dsl::status.eq(third))
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
) -> Result<(Vec<ApplicationRow>, i64), StorageError> {
    // Boxed, so the filters can be chosen at run time; a boxed query names its backend.
    let (rows, total): (Vec<ApplicationRow>, i64) = on_backend!(conn, |c| {
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
        let total: i64 = filtered().count().get_result(c)?;
        let rows = filtered()
            .order((dsl::created_at.asc(), dsl::id.asc()))
            .offset(filter.offset)
            .limit(filter.limit)
            .select(ApplicationRow::as_select())
            .load(c)?;
        (rows, total)
    });
    Ok((rows, total))
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
        .load_on(conn)?)
}

/// When each application of the prefecture that waits for the federation (審査待ち, 審査中,
/// 二次承認待ち) was submitted.
pub fn waiting_since(
    conn: &mut DbConnection,
    prefecture: PrefectureCode,
) -> Result<Vec<time::PrimitiveDateTime>, StorageError> {
    let rows: Vec<Option<time::PrimitiveDateTime>> = dsl::reissue_applications
        .filter(dsl::prefecture_code.eq(prefecture.as_str()))
        .filter(
            dsl::status
                .eq(ApplicationStatus::Submitted.as_str())
                .or(dsl::status.eq(ApplicationStatus::InReview.as_str()))
                .or(dsl::status.eq(ApplicationStatus::AwaitingConfirmation.as_str())),
        )
        .select(dsl::submitted_at)
        .load_on(conn)?;
    Ok(rows.into_iter().flatten().collect())
}

/// All applications of one office in one prefecture, oldest first.
pub fn for_office(
    conn: &mut DbConnection,
    prefecture: PrefectureCode,
    office_number: &OfficeNumber,
) -> Result<Vec<ApplicationRow>, StorageError> {
    Ok(dsl::reissue_applications
        .filter(dsl::prefecture_code.eq(prefecture.as_str()))
        .filter(dsl::office_number.eq(office_number.as_str()))
        .order((dsl::created_at.asc(), dsl::id.asc()))
        .select(super::selection::<ApplicationRow>())
        .load_on(conn)?)
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
        .load_on(conn)?)
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
/// on the one-open-application index.
pub fn lock_office(
    conn: &mut DbConnection,
    office_number: &OfficeNumber,
) -> Result<(), StorageError> {
    super::lock_key(conn, &format!("office:{}", office_number.as_str()))
}
