//! Request and response bodies of the API (`/api/v1`), shared by the server and the browser.
//!
//! Requests carry raw text as typed by the user; `parse()` turns one into domain values or the
//! list of field errors (`ParseInput`); on the server the same parsers are its `validator` rules.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::code::VerificationCode;
use crate::email::{EmailAddress, NOTICE_EMAIL};
use crate::error_code::{ErrorCode, FieldError};
use crate::input::ParseInput;
use crate::office_number::OfficeNumber;
use crate::prefecture::PrefectureCode;
use crate::secret::SecretText;
use crate::status::ApplicationStatus;

/// One prefecture of `GET /prefectures`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Prefecture {
    /// JIS X 0401 code, "01"–"47".
    #[cfg_attr(feature = "server", schema(example = "13"))]
    pub code: String,
    /// Japanese name.
    #[cfg_attr(feature = "server", schema(example = "東京都"))]
    pub name: String,
}

impl From<PrefectureCode> for Prefecture {
    fn from(code: PrefectureCode) -> Self {
        Self {
            code: code.as_str().to_owned(),
            name: code.name().to_owned(),
        }
    }
}

/// `POST /reissue-applications` (manual step 6: 事業所番号 and 通知先メールアドレス twice).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreateApplicationRequest {
    /// 事業所番号: 10 characters. The server also accepts full-width characters, spaces and
    /// hyphens and normalises them; the pattern shows the normalised form.
    #[cfg_attr(
        feature = "server",
        schema(
            example = "1311111111",
            required = true,
            pattern = "^(0[1-9]|[1-3][0-9]|4[0-7])[0-9A-HJ-NPR-Z][0-9]{7}$"
        )
    )]
    pub office_number: String,
    /// 通知先メールアドレス.
    #[cfg_attr(feature = "server", schema(example = "jimusho@example.jp", required = true, format = Email, max_length = 254))]
    pub email: String,
    /// 通知先メールアドレス（確認用）: must equal `email`.
    #[cfg_attr(feature = "server", schema(example = "jimusho@example.jp", required = true, format = Email, max_length = 254))]
    pub email_confirmation: String,
}

/// A well-formed application request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplicationInput {
    /// The office.
    pub office_number: OfficeNumber,
    /// Where the code and the result go.
    pub email: EmailAddress,
}

impl ParseInput for CreateApplicationRequest {
    type Input = NewApplicationInput;

    fn parse(&self) -> Result<NewApplicationInput, Vec<FieldError>> {
        let office_number = OfficeNumber::parse(&self.office_number);
        let email =
            EmailAddress::parse_confirmed(&self.email, &self.email_confirmation, NOTICE_EMAIL);
        match (office_number, email) {
            (Ok(office_number), Ok(email)) => Ok(NewApplicationInput {
                office_number,
                email,
            }),
            (office_number, email) => {
                let mut errors: Vec<FieldError> = office_number.err().into_iter().collect();
                errors.extend(email.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

/// 201 answer of `POST /reissue-applications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreatedApplication {
    /// The application's id.
    pub id: Uuid,
    /// Bearer token for this application only. Returned once; keep it.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub token: SecretText,
    /// `awaiting_prefecture`.
    pub status: ApplicationStatus,
}

/// `PUT /reissue-applications/{id}/prefecture` (manual step 7: 請求先都道府県).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChoosePrefectureRequest {
    /// JIS X 0401 code of the billing prefecture, "01"–"47".
    #[cfg_attr(
        feature = "server",
        schema(
            example = "13",
            required = true,
            pattern = "^(0[1-9]|[1-3][0-9]|4[0-7])$"
        )
    )]
    pub prefecture_code: String,
}

impl ParseInput for ChoosePrefectureRequest {
    /// The chosen prefecture.
    type Input = PrefectureCode;

    fn parse(&self) -> Result<PrefectureCode, Vec<FieldError>> {
        PrefectureCode::parse(&self.prefecture_code).map_err(|e| vec![e])
    }
}

/// Answer when a code was mailed (prefecture chosen, or a code re-sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CodeSent {
    /// `code_sent`.
    pub status: ApplicationStatus,
    /// The address the code went to.
    pub email: String,
    /// When the code stops working (30 minutes after sending).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub code_expires_at: OffsetDateTime,
    /// How many more codes this application may ask for.
    pub codes_remaining: u32,
}

/// `POST /reissue-applications/{id}/verification` (manual step 9: 確認コード).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VerifyCodeRequest {
    /// The 4 digits from the mail; full-width digits are accepted.
    #[cfg_attr(
        feature = "server",
        schema(value_type = String, example = "0427", required = true, pattern = "^[0-9]{4}$")
    )]
    pub code: SecretText,
}

impl ParseInput for VerifyCodeRequest {
    /// The code.
    type Input = VerificationCode;

    fn parse(&self) -> Result<VerificationCode, Vec<FieldError>> {
        VerificationCode::parse_application_code(self.code.expose()).map_err(|e| vec![e])
    }
}

/// Answer of a right code: what 【送信確認】 shows (manual step 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Verified {
    /// `verified`.
    pub status: ApplicationStatus,
    /// 事業所番号.
    pub office_number: String,
    /// 事業所名 from the ledger.
    pub office_name: String,
    /// 通知先メールアドレス.
    pub email: String,
    /// 請求先都道府県 code.
    pub prefecture_code: String,
    /// 請求先都道府県 name.
    pub prefecture_name: String,
}

/// Answer of `POST /reissue-applications/{id}/submission` (manual step 11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Submitted {
    /// `submitted`.
    pub status: ApplicationStatus,
    /// 受付番号: short, unambiguous, to read aloud on the phone.
    #[cfg_attr(feature = "server", schema(example = "K7MX-3HPA"))]
    pub reference_number: String,
    /// When it was sent to the federation.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub submitted_at: OffsetDateTime,
}

/// `GET /reissue-applications/{id}`: the application as its applicant may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApplicationView {
    /// The id.
    pub id: Uuid,
    /// Where it stands.
    pub status: ApplicationStatus,
    /// The status in Japanese.
    pub status_label: String,
    /// 事業所番号.
    pub office_number: String,
    /// 通知先メールアドレス.
    pub email: String,
    /// 請求先都道府県 code, once chosen.
    pub prefecture_code: Option<String>,
    /// 請求先都道府県 name, once chosen.
    pub prefecture_name: Option<String>,
    /// 事業所名, once the code was verified.
    pub office_name: Option<String>,
    /// When the current code stops working, while one is active.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    pub code_expires_at: Option<OffsetDateTime>,
    /// Wrong tries left on the current code, while one is active.
    pub attempts_left: Option<u32>,
    /// How many more codes may be requested.
    pub codes_remaining: u32,
    /// 受付番号, once submitted.
    pub reference_number: Option<String>,
    /// When it was submitted.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    pub submitted_at: Option<OffsetDateTime>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    /// When an unsubmitted application expires.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub expires_at: OffsetDateTime,
}

/// Every error answer: RFC 9457 problem details with our extensions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short English summary.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// What happened and what to do, in Japanese.
    pub detail: String,
    /// Field errors of a `validation_failed` answer (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Wrong tries left on the code (`wrong_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// Seconds to wait (`rate_limited`; also in the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The request's id, to quote to the help desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One message of the development mailbox (`GET /api/dev/messages`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DevMessage {
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// When it was handed to the mailbox.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

// The server's `validator` rules are these parsers (see `input`).
#[cfg(feature = "server")]
crate::input::validate_by_parsing!(
    CreateApplicationRequest,
    ChoosePrefectureRequest,
    VerifyCodeRequest
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_code::FieldErrorCode;

    #[test]
    fn create_request_reports_every_field_in_screen_order() {
        let request = CreateApplicationRequest {
            office_number: "12".into(),
            email: "a@example.jp".into(),
            email_confirmation: "b@example.jp".into(),
        };
        let errors = request.parse().err().unwrap_or_default();
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [
                ("office_number", FieldErrorCode::InvalidLength),
                ("email_confirmation", FieldErrorCode::Mismatch)
            ]
        );
    }

    #[test]
    fn create_request_with_full_width_input_parses() {
        let request = CreateApplicationRequest {
            office_number: "１３１１１１１１１１".into(),
            email: "jimusho@example.jp".into(),
            email_confirmation: "jimusho@example.jp".into(),
        };
        let input = request.parse().ok();
        assert_eq!(
            input.map(|i| i.office_number.to_string()).as_deref(),
            Some("1311111111")
        );
    }

    #[test]
    fn problem_serialises_type_and_omits_empty_extensions() {
        let problem = Problem {
            problem_type: "about:blank".into(),
            title: "Not Found".into(),
            status: 404,
            code: ErrorCode::ApplicationNotFound,
            detail: "x".into(),
            errors: vec![],
            attempts_left: None,
            retry_after: None,
            request_id: None,
        };
        let json = serde_json::to_value(&problem).unwrap_or_default();
        assert_eq!(json["type"], "about:blank");
        assert_eq!(json["code"], "application_not_found");
        assert!(json.get("errors").is_none());
    }
}
