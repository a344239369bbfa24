//! Reviewers' second factor: the 6-digit code of an authenticator app (TOTP, RFC 6238), the
//! single-use recovery codes, and the enrolment's requests and answers.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::admin::ReviewerView;
use crate::error_code::{FieldError, FieldErrorCode};
use crate::normalize::compact;
use crate::secret::SecretText;

/// Digits of an authenticator app's code.
pub const TOTP_DIGITS: usize = 6;

/// Characters of a recovery code: lower-case letters and digits without look-alikes (0/o,
/// 1/l/i), so that it can be typed from paper.
pub const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Characters of a recovery code (about 59 bits), shown in groups of four.
pub const RECOVERY_CODE_LENGTH: usize = 12;

/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;

/// The 6 digits an authenticator app shows, after full-width normalisation and removing
/// spaces.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpCode(String);

impl TotpCode {
    /// Exactly six digits, or a field error on `field`.
    pub fn parse(input: &str, field: &str) -> Result<Self, FieldError> {
        let digits = compact(input);
        if digits.is_empty() {
            return Err(FieldError::new(
                field,
                FieldErrorCode::Required,
                "確認コードを入力してください。",
            ));
        }
        if digits.chars().count() != TOTP_DIGITS || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                FieldErrorCode::InvalidFormat,
                "確認コードは、認証アプリに表示されている6桁の数字を半角で入力してください。",
            ));
        }
        Ok(Self(digits))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpCode(******)")
    }
}

/// A recovery code as typed: case, spaces, hyphens and full-width letters do not matter.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    /// Twelve characters of [`RECOVERY_ALPHABET`], or a field error on `recovery_code`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let code = compact(input).to_lowercase();
        if code.is_empty() {
            return Err(FieldError::new(
                "recovery_code",
                FieldErrorCode::Required,
                "リカバリーコードを入力してください。",
            ));
        }
        if code.chars().count() != RECOVERY_CODE_LENGTH
            || !code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))
        {
            return Err(FieldError::new(
                "recovery_code",
                FieldErrorCode::InvalidFormat,
                "リカバリーコードは、登録のときに保存した12文字（例: abcd-efgh-jkmn）を入力してください。",
            ));
        }
        Ok(Self(code))
    }

    /// The twelve characters, without separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As shown to the reviewer: groups of four joined by hyphens.
    pub fn grouped(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars
            .chunks(4)
            .map(|group| group.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(****)")
    }
}

/// The second factor of a login: an app's code or a recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    /// 確認コード of the authenticator app.
    Totp(TotpCode),
    /// A recovery code (single use).
    Recovery(RecoveryCode),
}

impl SecondFactor {
    /// At most one of the two members; empty ones count as absent.
    pub fn parse(
        totp_code: Option<&str>,
        recovery_code: Option<&str>,
    ) -> Result<Option<Self>, FieldError> {
        fn given(value: Option<&str>) -> Option<&str> {
            value.filter(|v| !v.trim().is_empty())
        }
        match (given(totp_code), given(recovery_code)) {
            (None, None) => Ok(None),
            (Some(code), None) => Ok(Some(Self::Totp(TotpCode::parse(code, "totp_code")?))),
            (None, Some(code)) => Ok(Some(Self::Recovery(RecoveryCode::parse(code)?))),
            (Some(_), Some(_)) => Err(FieldError::new(
                "recovery_code",
                FieldErrorCode::InvalidFormat,
                "確認コードとリカバリーコードは、どちらか一方だけを入力してください。",
            )),
        }
    }
}

/// Answer of `POST /admin/mfa/enrolment`: a new secret for the authenticator app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MfaEnrolment {
    /// The secret in base32, for typing into the app by hand.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub secret: SecretText,
    /// `otpauth://totp/...`: what the QR code holds.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub otpauth_uri: SecretText,
    /// The QR code of `otpauth_uri`, as an SVG document.
    pub qr_svg: String,
}

/// `POST /admin/mfa/enrolment/confirmation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MfaConfirmationRequest {
    /// The 6 digits the app shows for the new secret.
    #[cfg_attr(
        feature = "server",
        schema(example = "123456", required = true, pattern = r"^[0-9]{6}$")
    )]
    pub totp_code: String,
}

/// A parsed `POST /admin/mfa/enrolment/confirmation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaConfirmationInput {
    /// The app's code.
    pub totp_code: TotpCode,
}

impl crate::input::ParseInput for MfaConfirmationRequest {
    type Input = MfaConfirmationInput;

    /// Six digits.
    fn parse(&self) -> Result<MfaConfirmationInput, Vec<FieldError>> {
        let totp_code = TotpCode::parse(&self.totp_code, "totp_code").map_err(|e| vec![e])?;
        Ok(MfaConfirmationInput { totp_code })
    }
}

#[cfg(feature = "server")]
crate::input::validate_by_parsing!(MfaConfirmationRequest);

/// Answer of `POST /admin/mfa/enrolment/confirmation`: a full session, and the recovery codes,
/// shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MfaEnrolled {
    /// Bearer JWT for `/admin/...`.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub access_token: SecretText,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub expires_at: OffsetDateTime,
    /// Who logged in.
    pub reviewer: ReviewerView,
    /// Ten single-use codes for a login without the app (stored hashed: shown only now).
    #[cfg_attr(feature = "server", schema(value_type = Vec<String>))]
    pub recovery_codes: Vec<SecretText>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_code_is_six_half_width_digits() {
        assert_eq!(
            TotpCode::parse("１２３ ４５６", "totp_code")
                .ok()
                .map(|c| c.as_str().to_owned()),
            Some("123456".to_owned())
        );
        let code = |input: &str| TotpCode::parse(input, "totp_code").err().map(|e| e.code);
        assert_eq!(code(""), Some(FieldErrorCode::Required));
        assert_eq!(code("12345"), Some(FieldErrorCode::InvalidFormat));
        assert_eq!(code("12345a"), Some(FieldErrorCode::InvalidFormat));
    }

    #[test]
    fn a_recovery_code_ignores_case_and_separators_and_keeps_its_alphabet() {
        let parsed = RecoveryCode::parse("ABCD-efgh ＪＫＭＮ").ok();
        assert_eq!(parsed.as_ref().map(|c| c.as_str()), Some("abcdefghjkmn"));
        assert_eq!(
            parsed.map(|c| c.grouped()),
            Some("abcd-efgh-jkmn".to_owned())
        );
        // 0, 1, i, l and o are not in the alphabet.
        assert!(RecoveryCode::parse("abcd-efgh-jkm0").is_err());
        assert!(RecoveryCode::parse("abcd-efgh").is_err());
    }

    #[test]
    fn a_login_carries_at_most_one_second_factor() {
        assert_eq!(SecondFactor::parse(None, Some(" ")), Ok(None));
        assert!(matches!(
            SecondFactor::parse(Some("123456"), None),
            Ok(Some(SecondFactor::Totp(_)))
        ));
        assert!(matches!(
            SecondFactor::parse(None, Some("abcd-efgh-jkmn")),
            Ok(Some(SecondFactor::Recovery(_)))
        ));
        assert!(SecondFactor::parse(Some("123456"), Some("abcd-efgh-jkmn")).is_err());
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let code = TotpCode::parse("123456", "totp_code").ok();
        assert!(!format!("{code:?}").contains("123456"));
    }
}
