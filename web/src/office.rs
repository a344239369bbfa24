//! The office's login session, kept in `sessionStorage` (it dies with the tab).

use gloo_storage::{SessionStorage, Storage};
use reissue_shared::account::OfficeSession;

const STORAGE_KEY: &str = "reissue-office";

/// The saved session, if any.
pub fn load() -> Option<OfficeSession> {
    SessionStorage::get(STORAGE_KEY).ok()
}

/// Saves the session.
pub fn save(session: &OfficeSession) {
    // Without storage the person logs in again after a reload; nothing else is lost.
    let _ = SessionStorage::set(STORAGE_KEY, session);
}

/// Logs out.
pub fn clear() {
    SessionStorage::delete(STORAGE_KEY);
}
