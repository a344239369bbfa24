//! Building blocks shared by the screens.

pub mod clock;
pub mod error_summary;
pub mod field;
pub mod layout;
pub mod login_form;
pub mod steps;
pub mod submit_button;
