//! Types and rules shared by the API server (`api`) and the browser app (`web`).
//!
//! Every input rule lives here once, as a parser that turns raw text into a value type that can
//! only hold a well-formed value (`OfficeNumber`, `EmailAddress`, `VerificationCode`,
//! `PrefectureCode`). The server and the browser call the same functions and therefore show the
//! same Japanese messages. This crate has no server dependency and builds for `wasm32`; the
//! `server` feature adds `validator` derives and OpenAPI schemas, which the browser never needs.

pub mod account;
pub mod admin;
pub mod code;
pub mod dto;
pub mod email;
pub mod error_code;
pub mod federation;
pub mod input;
pub mod japan_time;
pub mod mfa;
pub mod normalize;
pub mod office_number;
pub mod password;
pub mod prefecture;
pub mod secret;
pub mod status;
pub mod status_inquiry;

pub use code::VerificationCode;
pub use email::EmailAddress;
pub use error_code::{ErrorCode, FieldError, FieldErrorCode};
pub use input::ParseInput;
pub use office_number::OfficeNumber;
pub use prefecture::PrefectureCode;
pub use secret::SecretText;
pub use status::ApplicationStatus;
