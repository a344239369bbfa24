//! The office's login session, kept in `sessionStorage` (it dies with the tab) as the
//! [`OfficeSession`](reissue_shared::account::OfficeSession) the server answered.

use gloo_storage::{SessionStorage, Storage};

use crate::api::OfficeApi;

const STORAGE_KEY: &str = "reissue-office";

/// The saved session's client, if any.
pub fn load() -> Option<OfficeApi> {
    SessionStorage::get(STORAGE_KEY).ok()
}

/// Saves the session.
pub fn save(office: &OfficeApi) {
    // Without storage the person logs in again after a reload; nothing else is lost.
    let _ = SessionStorage::set(STORAGE_KEY, office);
}

/// Logs out.
pub fn clear() {
    SessionStorage::delete(STORAGE_KEY);
}
