//! 申請状況照会: an office asks where its submitted application stands with the 受付番号 of
//! 【終了】 and the 通知先メールアドレス it applied with (`POST /reissue-status`). Any pair that
//! does not name a submitted application gets one and the same "not found" answer.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::email::EmailAddress;
use crate::error_code::{FieldError, FieldErrorCode};
use crate::input::ParseInput;
use crate::normalize::compact;
use crate::status::ApplicationStatus;

/// The characters of a 受付番号: upper-case letters and digits that cannot be mistaken for one
/// another when read aloud or written by hand (no 0/O/Q/D, 1/I/L, 2/Z, 5/S, 8/B, U/V).
pub const REFERENCE_ALPHABET: &str = "ACEFGHJKMNPRTWXY34679";

/// Characters of a 受付番号 without its hyphen.
const REFERENCE_LENGTH: usize = 8;

/// The request member of the 受付番号.
pub const REFERENCE_FIELD: &str = "reference_number";
const REFERENCE_LABEL: &str = "受付番号";

/// The request member of the 通知先メールアドレス.
pub const EMAIL_FIELD: &str = "email";
const EMAIL_LABEL: &str = "通知先メールアドレス";

/// A well-formed 受付番号, `XXXX-XXXX` (whether an application has it is for the server).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReferenceNumber(String);

impl ReferenceNumber {
    /// Accepts the 8 characters in either case, full-width or half-width, with or without the
    /// hyphen or spaces, and answers them as 【終了】 shows them (`K7MX-3HPA`).
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let normalised = compact(input).to_ascii_uppercase();
        if normalised.is_empty() {
            return Err(FieldError::new(
                REFERENCE_FIELD,
                FieldErrorCode::Required,
                format!("{REFERENCE_LABEL}を入力してください。"),
            ));
        }
        let count = normalised.chars().count();
        if count != REFERENCE_LENGTH {
            return Err(FieldError::new(
                REFERENCE_FIELD,
                FieldErrorCode::InvalidLength,
                format!(
                    "{REFERENCE_LABEL}は「K7MX-3HPA」のように、英数字8文字（ハイフンを除く）で入力してください（入力された文字数: {count}文字）。"
                ),
            ));
        }
        if let Some(c) = normalised
            .chars()
            .find(|c| !REFERENCE_ALPHABET.contains(*c))
        {
            return Err(FieldError::new(
                REFERENCE_FIELD,
                FieldErrorCode::InvalidCharacter,
                format!(
                    "{REFERENCE_LABEL}に「{c}」は使われていません。申請完了画面（終了）に表示された{REFERENCE_LABEL}をご確認ください。"
                ),
            ));
        }
        Ok(Self(format!("{}-{}", &normalised[..4], &normalised[4..])))
    }

    /// `XXXX-XXXX`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReferenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `POST /reissue-status`: 受付番号 and 通知先メールアドレス.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StatusInquiryRequest {
    /// 受付番号 as 【終了】 showed it; case, full-width characters, spaces and the hyphen are
    /// forgiven. The pattern shows the normalised form.
    #[cfg_attr(
        feature = "server",
        schema(
            example = "K7MX-3HPA",
            required = true,
            pattern = "^[ACEFGHJKMNPRTWXY34679]{4}-[ACEFGHJKMNPRTWXY34679]{4}$"
        )
    )]
    pub reference_number: String,
    /// The 通知先メールアドレス the application was made with.
    #[cfg_attr(feature = "server", schema(example = "jimusho@example.jp", required = true, format = Email, max_length = 254))]
    pub email: String,
}

/// A well-formed inquiry.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusInquiryInput {
    /// 受付番号.
    pub reference_number: ReferenceNumber,
    /// 通知先メールアドレス.
    pub email: EmailAddress,
}

// The address is personal data: keep it out of `{:?}` in logs.
impl fmt::Debug for StatusInquiryInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusInquiryInput")
            .field("reference_number", &self.reference_number)
            .field("email", &"****")
            .finish()
    }
}

impl ParseInput for StatusInquiryRequest {
    type Input = StatusInquiryInput;

    /// Both fields, both errors reported, in screen order.
    fn parse(&self) -> Result<StatusInquiryInput, Vec<FieldError>> {
        let reference_number = ReferenceNumber::parse(&self.reference_number);
        let email = EmailAddress::parse(&self.email, EMAIL_FIELD, EMAIL_LABEL);
        match (reference_number, email) {
            (Ok(reference_number), Ok(email)) => Ok(StatusInquiryInput {
                reference_number,
                email,
            }),
            (reference_number, email) => Err([reference_number.err(), email.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }
}

impl StatusInquiryRequest {
    /// The form's check before sending: the server's rules.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        self.parse().map(drop)
    }
}

/// 200 answer of `POST /reissue-status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApplicationStatusAnswer {
    /// Where it stands.
    pub status: ApplicationStatus,
    /// The status in Japanese (審査待ち, 審査中, 承認 …).
    #[cfg_attr(feature = "server", schema(example = "審査待ち"))]
    pub status_label: String,
    /// When it was sent to the federation.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub submitted_at: OffsetDateTime,
    /// When it was approved, rejected or withdrawn.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    pub decided_at: Option<OffsetDateTime>,
    /// The day (Japan time, `YYYY-MM-DD`) the 電子請求ログイン情報再発行通知書 was posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(example = "2026-12-07", format = Date))]
    pub notice_mailed_on: Option<String>,
    /// Why it was rejected (only for `rejected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
}

// The server's `validator` rules are these parsers (see `input`).
#[cfg(feature = "server")]
crate::input::validate_by_parsing!(StatusInquiryRequest);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_reference_number_is_forgiven_its_case_width_and_hyphen() {
        for typed in [
            "K7MX-3HPA",
            "k7mx3hpa",
            "Ｋ７ＭＸ－３ＨＰＡ",
            " K7MX 3HPA ",
            "K7MXー3HPA",
        ] {
            let parsed = ReferenceNumber::parse(typed).map(|r| r.as_str().to_owned());
            assert_eq!(parsed.as_deref(), Ok("K7MX-3HPA"), "{typed}");
        }
    }

    #[test]
    fn wrong_reference_numbers_are_refused_with_a_japanese_message() {
        let code = |typed: &str| ReferenceNumber::parse(typed).err().map(|e| e.code);
        assert_eq!(code(""), Some(FieldErrorCode::Required));
        assert_eq!(code("K7MX-3HP"), Some(FieldErrorCode::InvalidLength));
        assert_eq!(code("K7MX-3HPO"), Some(FieldErrorCode::InvalidCharacter));
        let message = ReferenceNumber::parse("K0MX-3HPA")
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(message.contains("受付番号に「0」"), "{message}");
    }

    #[test]
    fn an_inquiry_reports_both_fields_in_screen_order() {
        let request = StatusInquiryRequest {
            reference_number: "x".into(),
            email: "not-an-address".into(),
        };
        let fields: Vec<_> = request
            .parse()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, [REFERENCE_FIELD, EMAIL_FIELD]);
    }

    #[test]
    fn the_input_never_shows_the_address_in_debug() {
        let request = StatusInquiryRequest {
            reference_number: "K7MX-3HPA".into(),
            email: "secret@example.jp".into(),
        };
        let shown = format!("{:?}", request.parse());
        assert!(!shown.contains("secret@"), "{shown}");
    }

    proptest! {
        #[test]
        fn any_reference_number_parses_or_is_refused_without_panic(typed in "\\PC{0,20}") {
            if let Ok(reference) = ReferenceNumber::parse(&typed) {
                prop_assert_eq!(reference.as_str().len(), 9);
                prop_assert!(reference.as_str().chars().all(|c| c == '-' || REFERENCE_ALPHABET.contains(c)));
            }
        }
    }
}
