//! Storage of the federation's workflow: each prefecture's settings, calls to the ledger's
//! telephone number, and the dispatch register (発送簿) read from posted notices.

use diesel::prelude::*;

use super::models::{CallbackRow, NoticeRow, PrefectureSettingsRow};
use super::schema::{callbacks, notices, prefecture_settings, reissue_applications};
use super::RunOnBackend;
use super::{optional, DbConnection, StorageError};

/// A prefecture's settings, if a supervisor saved them.
pub fn find_settings(
    conn: &mut DbConnection,
    prefecture_code: &str,
) -> Result<Option<PrefectureSettingsRow>, StorageError> {
    optional(
        prefecture_settings::table
            .find(prefecture_code)
            .select(super::selection::<PrefectureSettingsRow>())
            .first_on(conn),
    )
}

/// Stores a prefecture's settings, replacing what was there.
pub fn save_settings(
    conn: &mut DbConnection,
    row: &PrefectureSettingsRow,
) -> Result<(), StorageError> {
    diesel::insert_into(prefecture_settings::table)
        .values(row)
        .on_conflict(prefecture_settings::prefecture_code)
        .do_update()
        .set(row)
        .execute_on(conn)?;
    Ok(())
}

/// Records a call.
pub fn insert_callback(conn: &mut DbConnection, row: &CallbackRow) -> Result<(), StorageError> {
    diesel::insert_into(callbacks::table)
        .values(row)
        .execute_on(conn)?;
    Ok(())
}

/// Erases (or counts) the notes of the calls about an application, whose personal data the
/// retention period erases; who called, when, and whether the office was reached stay.
pub fn purge_callback_notes(
    conn: &mut DbConnection,
    application_id: &str,
    purge: super::Purge,
) -> Result<usize, StorageError> {
    let with_note = callbacks::table
        .filter(callbacks::application_id.eq(application_id))
        .filter(callbacks::note.ne(""));
    Ok(match purge {
        super::Purge::Count => super::row_count(with_note.count().get_result_on(conn)?),
        super::Purge::Remove => diesel::update(with_note)
            .set(callbacks::note.eq(""))
            .execute_on(conn)?,
    })
}

/// The calls about an application, oldest first.
pub fn callbacks_of(
    conn: &mut DbConnection,
    application_id: &str,
) -> Result<Vec<CallbackRow>, StorageError> {
    Ok(callbacks::table
        .filter(callbacks::application_id.eq(application_id))
        .order((callbacks::called_at.asc(), callbacks::id.asc()))
        .select(super::selection::<CallbackRow>())
        .load_on(conn)?)
}

/// The notices of a prefecture posted from `from` to `to` (Japan's dates, `YYYY-MM-DD`, both
/// included), with their applications' reference numbers and office numbers, by day and
/// reference number.
pub fn posted_between(
    conn: &mut DbConnection,
    prefecture_code: &str,
    from: &str,
    to: &str,
    limit: i64,
) -> Result<Vec<(NoticeRow, Option<String>, String)>, StorageError> {
    Ok(notices::table
        .inner_join(reissue_applications::table)
        .filter(reissue_applications::prefecture_code.eq(prefecture_code))
        .filter(notices::mailed_on.ge(from))
        .filter(notices::mailed_on.le(to))
        .order((
            notices::mailed_on.asc(),
            reissue_applications::reference_number.asc(),
            notices::id.asc(),
        ))
        .limit(limit)
        .select((
            super::selection::<NoticeRow>(),
            reissue_applications::reference_number,
            reissue_applications::office_number,
        ))
        .load_on(conn)?)
}
