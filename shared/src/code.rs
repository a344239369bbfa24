//! 確認コード: the numeric code mailed to prove an e-mail address.
//!
//! The reissue application uses 4 digits (manual step 8: "4桁の数字を半角で"); the
//! security-e-mail password reset, which resets a credential, uses 6.

use std::fmt;

use serde::Serialize;

use crate::error_code::{FieldError, FieldErrorCode};
use crate::normalize::compact;

/// The request member that carries a code.
pub const FIELD: &str = "code";

/// Digits of the reissue application's code (manual step 8).
pub const APPLICATION_CODE_DIGITS: usize = 4;

/// Digits of the security-e-mail path's code, which resets a credential (NIST 800-63B: ≥ 20 bits).
pub const SECURITY_CODE_DIGITS: usize = 6;

/// A code of the expected number of half-width digits.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct VerificationCode(String);

impl VerificationCode {
    /// Accepts exactly `digits` digits after full-width normalisation and removing spaces.
    pub fn parse(input: &str, digits: usize) -> Result<Self, FieldError> {
        let normalised = compact(input);
        if normalised.is_empty() {
            return Err(FieldError::new(
                FIELD,
                FieldErrorCode::Required,
                "確認コードを入力してください。",
            ));
        }
        if normalised.chars().count() != digits || !normalised.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                FIELD,
                FieldErrorCode::InvalidFormat,
                format!("確認コードは、メール本文に記載された{digits}桁の数字を半角で入力してください。"),
            ));
        }
        Ok(Self(normalised))
    }

    /// The 4-digit code of the reissue application.
    pub fn parse_application_code(input: &str) -> Result<Self, FieldError> {
        Self::parse(input, APPLICATION_CODE_DIGITS)
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// A code is a secret: keep it out of `{:?}` in logs and panics.
impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationCode(****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn four_half_or_full_width_digits_parse() {
        let half = VerificationCode::parse_application_code("0427").map(|c| c.as_str().to_owned());
        assert_eq!(half.as_deref(), Ok("0427"));
        let full =
            VerificationCode::parse_application_code("０４２７").map(|c| c.as_str().to_owned());
        assert_eq!(full.as_deref(), Ok("0427"));
    }

    #[test]
    fn wrong_shapes_are_refused_with_a_japanese_message() {
        for bad in ["123", "12345", "12a4", "١٢٣٤"] {
            let err = VerificationCode::parse_application_code(bad).err();
            assert_eq!(
                err.as_ref().map(|e| e.code),
                Some(FieldErrorCode::InvalidFormat),
                "{bad}"
            );
            assert!(err.map(|e| e.message).unwrap_or_default().contains("4桁"));
        }
        let empty = VerificationCode::parse_application_code("")
            .err()
            .map(|e| e.code);
        assert_eq!(empty, Some(FieldErrorCode::Required));
    }

    #[test]
    fn debug_does_not_show_the_code() {
        let code = VerificationCode::parse_application_code("1234").ok();
        assert!(!format!("{code:?}").contains("1234"));
    }

    proptest! {
        #[test]
        fn any_input_parses_or_names_the_field(input in "\\PC{0,12}", digits in 4usize..=6) {
            match VerificationCode::parse(&input, digits) {
                Ok(code) => prop_assert_eq!(code.as_str().len(), digits),
                Err(e) => prop_assert_eq!(e.field.as_str(), FIELD),
            }
        }
    }
}
