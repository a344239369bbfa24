//! Request and response bodies of the office login (`/api/v1/auth`), the security e-mail and
//! the password reset, and the typed inputs their `parse()` methods return. The server answers
//! with these parsers' field errors, and the browser shows the same ones.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::admin::LoginRequest;
use crate::code::SECURITY_CODE_DIGITS;
use crate::email::SECURITY_EMAIL;
use crate::error_code::{FieldError, FieldErrorCode};
use crate::password::check_new_password;
use crate::{EmailAddress, ParseInput, SecretText, VerificationCode};

/// `POST /auth/login`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OfficeLoginRequest {
    /// ユーザID (starts with KJ).
    #[cfg_attr(
        feature = "server",
        schema(
            example = "KJ12345678",
            required = true,
            min_length = 1,
            pattern = r"[^\s\u0085]"
        )
    )]
    pub user_id: String,
    /// パスワード, or the 仮パスワード from the notice.
    #[cfg_attr(
        feature = "server",
        schema(value_type = String, required = true, format = Password, min_length = 1)
    )]
    pub password: SecretText,
}

/// Answer of `POST /auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OfficeSession {
    /// Bearer JWT. While `password_change_required`, it opens only `POST /auth/password`.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub access_token: SecretText,
    /// The temporary password was used: a new password must be set now.
    pub password_change_required: bool,
    /// ユーザID.
    pub user_id: String,
    /// 事業所名 from the ledger.
    pub office_name: Option<String>,
    /// When the token stops working.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub expires_at: OffsetDateTime,
}

/// `POST /auth/password`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    /// 現在のパスワード (the temporary password right after the first login with it).
    #[cfg_attr(feature = "server", schema(value_type = String, required = true, format = Password))]
    pub current_password: SecretText,
    /// 新しいパスワード: at least 10 characters, not the user ID, not the temporary password.
    #[cfg_attr(feature = "server", schema(value_type = String, required = true, format = Password, min_length = 10, max_length = 128))]
    pub new_password: SecretText,
}

/// `PUT /account/security-email`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SecurityEmailRequest {
    /// セキュリティ用メールアドレス.
    #[cfg_attr(feature = "server", schema(required = true, format = Email, max_length = 254))]
    pub email: String,
    /// セキュリティ用メールアドレス（確認用）.
    #[cfg_attr(feature = "server", schema(required = true, format = Email, max_length = 254))]
    pub email_confirmation: String,
    /// 現在のパスワード: a token alone does not change where a password reset is sent. A wrong
    /// one counts as a failed login.
    #[cfg_attr(feature = "server", schema(value_type = String, required = true, format = Password, min_length = 1))]
    pub current_password: SecretText,
}

/// A 6-digit code was mailed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SecurityCodeSent {
    /// Where it went.
    pub email: String,
    /// When it stops working (10 minutes).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub code_expires_at: OffsetDateTime,
}

/// A 6-digit code entered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SecurityCodeRequest {
    /// The 6 digits from the mail.
    #[cfg_attr(feature = "server", schema(value_type = String, required = true, pattern = "^[0-9]{6}$"))]
    pub code: SecretText,
}

/// The registered security e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SecurityEmailRegistered {
    /// セキュリティ用メールアドレス.
    pub email: String,
}

/// `POST /password-resets`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PasswordResetRequest {
    /// ユーザID.
    #[cfg_attr(
        feature = "server",
        schema(required = true, min_length = 1, pattern = r"[^\s\u0085]")
    )]
    pub user_id: String,
    /// The registered セキュリティ用メールアドレス.
    #[cfg_attr(feature = "server", schema(required = true, format = Email))]
    pub security_email: String,
}

/// 202 answer of `POST /password-resets`, the same whether or not the pair matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PasswordResetStarted {
    /// The reset's id.
    pub id: String,
    /// Bearer token for this reset only.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub token: SecretText,
}

/// `POST /password-resets/{id}/password`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NewPasswordRequest {
    /// 新しいパスワード.
    #[cfg_attr(feature = "server", schema(value_type = String, required = true, format = Password, min_length = 10, max_length = 128))]
    pub new_password: SecretText,
}

/// A ユーザID as entered: trimmed and in upper case (user IDs are `KJ…`), never empty. Whether
/// an account has it is for the server to say.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    /// The request member of a user ID.
    pub const FIELD: &'static str = "user_id";

    /// Trims and upper-cases `input`; empty is a `required` error on `user_id`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorCode::Required,
                "ユーザIDを入力してください。",
            ));
        }
        Ok(Self(trimmed.to_uppercase()))
    }

    /// The normalised user ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password that must be filled in (`required` on `field` otherwise). Its rules, if any, need
/// the account and are checked by the server after it.
fn entered_password(password: &SecretText, field: &str) -> Result<SecretText, FieldError> {
    if password.is_empty() {
        return Err(FieldError::new(
            field,
            FieldErrorCode::Required,
            "パスワードを入力してください。",
        ));
    }
    Ok(password.clone())
}

/// Both results, or every error of the two in field order.
fn both<A, B>(
    first: Result<A, FieldError>,
    second: Result<B, FieldError>,
) -> Result<(A, B), Vec<FieldError>> {
    match (first, second) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err([a.err(), b.err()].into_iter().flatten().collect()),
    }
}

/// A parsed `POST /auth/login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeLoginInput {
    /// ユーザID.
    pub user_id: UserId,
    /// パスワード or 仮パスワード, as typed.
    pub password: SecretText,
}

impl ParseInput for OfficeLoginRequest {
    type Input = OfficeLoginInput;

    /// Both fields filled in; the user ID normalised.
    fn parse(&self) -> Result<OfficeLoginInput, Vec<FieldError>> {
        let (user_id, password) = both(
            UserId::parse(&self.user_id),
            entered_password(&self.password, "password"),
        )?;
        Ok(OfficeLoginInput { user_id, password })
    }
}

/// A parsed `POST /auth/password`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePasswordInput {
    /// 現在のパスワード, as typed.
    pub current_password: SecretText,
    /// 新しいパスワード, as typed.
    pub new_password: SecretText,
}

impl ParseInput for ChangePasswordRequest {
    type Input = ChangePasswordInput;

    /// Always parses: the current password is checked against the account first, and the new
    /// password's rule ([`crate::password::check_new_password`]) needs the account's user ID
    /// and temporary password, so the server applies both after finding the account.
    fn parse(&self) -> Result<ChangePasswordInput, Vec<FieldError>> {
        Ok(ChangePasswordInput {
            current_password: self.current_password.clone(),
            new_password: self.new_password.clone(),
        })
    }
}

/// A parsed `PUT /account/security-email`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEmailInput {
    /// セキュリティ用メールアドレス, entered twice alike.
    pub email: EmailAddress,
    /// 現在のパスワード, as typed (checked against the account by the server).
    pub current_password: SecretText,
}

impl ParseInput for SecurityEmailRequest {
    type Input = SecurityEmailInput;

    /// A valid address, the confirmation equal to it, and the current password filled in.
    fn parse(&self) -> Result<SecurityEmailInput, Vec<FieldError>> {
        let email =
            EmailAddress::parse_confirmed(&self.email, &self.email_confirmation, SECURITY_EMAIL);
        let current_password = if self.current_password.is_empty() {
            Err(required(
                "current_password",
                "現在のパスワードを入力してください。",
            ))
        } else {
            Ok(self.current_password.clone())
        };
        match (email, current_password) {
            (Ok(email), Ok(current_password)) => Ok(SecurityEmailInput {
                email,
                current_password,
            }),
            (email, password) => Err(email
                .err()
                .unwrap_or_default()
                .into_iter()
                .chain(password.err())
                .collect()),
        }
    }
}

/// A parsed 6-digit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityCodeInput {
    /// The digits.
    pub code: VerificationCode,
}

impl ParseInput for SecurityCodeRequest {
    type Input = SecurityCodeInput;

    /// Exactly 6 digits after full-width normalisation.
    fn parse(&self) -> Result<SecurityCodeInput, Vec<FieldError>> {
        let code = VerificationCode::parse(self.code.expose(), SECURITY_CODE_DIGITS)
            .map_err(|e| vec![e])?;
        Ok(SecurityCodeInput { code })
    }
}

/// A parsed `POST /password-resets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordResetInput {
    /// ユーザID.
    pub user_id: UserId,
    /// The address the office says it registered.
    pub security_email: EmailAddress,
}

impl ParseInput for PasswordResetRequest {
    type Input = PasswordResetInput;

    /// A user ID and a valid address (both errors reported).
    fn parse(&self) -> Result<PasswordResetInput, Vec<FieldError>> {
        let (user_id, security_email) = both(
            UserId::parse(&self.user_id),
            EmailAddress::parse(
                &self.security_email,
                "security_email",
                "セキュリティ用メールアドレス",
            ),
        )?;
        Ok(PasswordResetInput {
            user_id,
            security_email,
        })
    }
}

/// A parsed `POST /password-resets/{id}/password`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasswordInput {
    /// 新しいパスワード, as typed.
    pub new_password: SecretText,
}

impl ParseInput for NewPasswordRequest {
    type Input = NewPasswordInput;

    /// Always parses: the rule ([`crate::password::check_new_password`]) needs the account's
    /// user ID, which only a genuine, verified reset leads to, so the server applies it then.
    fn parse(&self) -> Result<NewPasswordInput, Vec<FieldError>> {
        Ok(NewPasswordInput {
            new_password: self.new_password.clone(),
        })
    }
}

/// A parsed `POST /admin/sessions` (the reviewer's login; its request lives in
/// [`crate::admin`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewerLoginInput {
    /// ログインID, trimmed.
    pub login_id: String,
    /// パスワード, as typed.
    pub password: SecretText,
    /// The app's code or a recovery code, if given.
    pub second_factor: Option<crate::mfa::SecondFactor>,
}

impl ParseInput for LoginRequest {
    type Input = ReviewerLoginInput;

    /// Both fields filled in ([`LoginRequest::check`]); the login ID trimmed; at most one
    /// well-formed second factor.
    fn parse(&self) -> Result<ReviewerLoginInput, Vec<FieldError>> {
        let second_factor = crate::mfa::SecondFactor::parse(
            self.totp_code.as_deref(),
            self.recovery_code.as_deref(),
        );
        match (self.check(), second_factor) {
            (Ok(()), Ok(second_factor)) => Ok(ReviewerLoginInput {
                login_id: self.login_id.trim().to_owned(),
                password: self.password.clone(),
                second_factor,
            }),
            (checked, second) => Err(checked
                .err()
                .unwrap_or_default()
                .into_iter()
                .chain(second.err())
                .collect()),
        }
    }
}

// The form rules below run in the browser before a request is sent; the server applies the
// same rules to the same request (and, for a new password, checks it against the account too).

impl OfficeLoginRequest {
    /// Both fields must be filled in.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        self.parse().map(drop)
    }
}

/// The field of 新しいパスワード（確認用）, which only the form has.
pub const NEW_PASSWORD_CONFIRMATION: &str = "new_password_confirmation";

impl ChangePasswordRequest {
    /// The current password must be given, and the new one must follow [`check_new_password`]
    /// for `user_id` and be typed the same again in `confirmation`.
    pub fn check(&self, user_id: &str, confirmation: &str) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.current_password.is_empty() {
            errors.push(required(
                "current_password",
                "現在のパスワード（仮パスワード）を入力してください。",
            ));
        }
        if let Err(error) = check_new_password(self.new_password.expose(), user_id, None) {
            errors.push(error);
        } else if self.new_password.expose() != confirmation {
            errors.push(FieldError::new(
                NEW_PASSWORD_CONFIRMATION,
                FieldErrorCode::Mismatch,
                "新しいパスワード（確認用）が新しいパスワードと一致しません。",
            ));
        }
        into_result(errors)
    }
}

impl PasswordResetRequest {
    /// The user ID must be given and the security e-mail must be an address.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        self.parse().map(drop)
    }
}

fn required(field: &str, message: &str) -> FieldError {
    FieldError::new(field, FieldErrorCode::Required, message)
}

fn into_result(errors: Vec<FieldError>) -> Result<(), Vec<FieldError>> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(feature = "server")]
crate::input::validate_by_parsing!(
    OfficeLoginRequest,
    ChangePasswordRequest,
    SecurityEmailRequest,
    SecurityCodeRequest,
    PasswordResetRequest,
    NewPasswordRequest,
    LoginRequest,
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(errors: &[FieldError]) -> Vec<(&str, FieldErrorCode)> {
        errors.iter().map(|e| (e.field.as_str(), e.code)).collect()
    }

    #[test]
    fn an_empty_login_names_both_fields_with_the_screens_messages() {
        let errors = OfficeLoginRequest {
            user_id: "  ".into(),
            password: SecretText::default(),
        }
        .parse()
        .err()
        .unwrap_or_default();
        assert_eq!(
            fields(&errors),
            [
                ("user_id", FieldErrorCode::Required),
                ("password", FieldErrorCode::Required)
            ]
        );
        assert_eq!(errors[0].message, "ユーザIDを入力してください。");
        assert_eq!(errors[1].message, "パスワードを入力してください。");
    }

    #[test]
    fn a_login_normalises_the_user_id_and_keeps_the_password_as_typed() {
        let input = OfficeLoginRequest {
            user_id: " kj12345678 ".into(),
            password: " secret ".into(),
        }
        .parse()
        .ok();
        assert_eq!(
            input.as_ref().map(|i| i.user_id.as_str()),
            Some("KJ12345678")
        );
        assert_eq!(input.map(|i| i.password), Some(SecretText::new(" secret ")));
    }

    #[test]
    fn a_reset_reports_the_user_id_and_the_address() {
        let errors = PasswordResetRequest {
            user_id: String::new(),
            security_email: "not-an-address".into(),
        }
        .parse()
        .err()
        .unwrap_or_default();
        assert_eq!(
            fields(&errors),
            [
                ("user_id", FieldErrorCode::Required),
                ("security_email", FieldErrorCode::InvalidFormat)
            ]
        );
    }

    #[test]
    fn a_security_email_needs_an_equal_confirmation() {
        let errors = SecurityEmailRequest {
            email: "sec@example.jp".into(),
            email_confirmation: "other@example.jp".into(),
            current_password: "secret".into(),
        }
        .parse()
        .err()
        .unwrap_or_default();
        assert_eq!(
            fields(&errors),
            [("email_confirmation", FieldErrorCode::Mismatch)]
        );
    }

    #[test]
    fn a_security_email_change_needs_the_current_password() {
        let errors = SecurityEmailRequest {
            email: "bad".into(),
            email_confirmation: "bad".into(),
            current_password: SecretText::default(),
        }
        .parse()
        .err()
        .unwrap_or_default();
        // Every field's error at once, in the form's order.
        assert_eq!(
            fields(&errors),
            [
                ("email", FieldErrorCode::InvalidFormat),
                ("email_confirmation", FieldErrorCode::InvalidFormat),
                ("current_password", FieldErrorCode::Required)
            ]
        );
        let only_password = SecurityEmailRequest {
            email: "sec@example.jp".into(),
            email_confirmation: "sec@example.jp".into(),
            current_password: SecretText::default(),
        }
        .parse()
        .err()
        .unwrap_or_default();
        assert_eq!(
            fields(&only_password),
            [("current_password", FieldErrorCode::Required)]
        );
    }

    #[test]
    fn a_security_code_has_six_digits() {
        let parse = |code: &str| {
            SecurityCodeRequest { code: code.into() }
                .parse()
                .map(|input| input.code.as_str().to_owned())
        };
        assert_eq!(parse("１２３４５６").ok().as_deref(), Some("123456"));
        assert!(parse("1234").is_err());
    }

    #[test]
    fn a_reviewer_login_is_trimmed_and_both_fields_are_required() {
        let empty = LoginRequest::default().parse().err().unwrap_or_default();
        assert_eq!(
            fields(&empty),
            [
                ("login_id", FieldErrorCode::Required),
                ("password", FieldErrorCode::Required)
            ]
        );
        let input = LoginRequest {
            login_id: " demo-tokyo ".into(),
            password: "x".into(),
            ..LoginRequest::default()
        }
        .parse()
        .ok();
        assert_eq!(input.map(|i| i.login_id), Some("demo-tokyo".to_owned()));
    }

    #[test]
    fn requests_and_parsed_inputs_keep_secrets_out_of_debug() {
        let session = OfficeSession {
            access_token: "eyJ.secret-token".into(),
            password_change_required: false,
            user_id: "KJ12345678".into(),
            office_name: None,
            expires_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert!(!format!("{session:?}").contains("secret-token"));
        let change = ChangePasswordRequest {
            current_password: "old-hunter2".into(),
            new_password: "new-hunter2".into(),
        };
        assert!(!format!("{change:?} {:?}", change.parse()).contains("hunter2"));
        let code = SecurityCodeRequest {
            code: "123456".into(),
        };
        assert!(!format!("{code:?}").contains("123456"));
    }

    #[test]
    fn parsed_passwords_stay_out_of_debug() {
        let input = OfficeLoginRequest {
            user_id: "KJ1".into(),
            password: "hunter2-hunter2".into(),
        }
        .parse();
        assert!(!format!("{input:?}").contains("hunter2"));
    }

    proptest! {
        #[test]
        fn any_login_parses_or_names_its_fields(user_id in "\\PC{0,20}", password in "\\PC{0,20}") {
            if let Err(errors) = (OfficeLoginRequest { user_id, password: password.into() }).parse() {
                for error in errors {
                    prop_assert!(error.field == "user_id" || error.field == "password");
                }
            }
        }
    }
}

#[cfg(test)]
mod form_check_tests {
    use super::*;

    fn fields(result: Result<(), Vec<FieldError>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn an_empty_login_or_reset_names_each_missing_field() {
        assert_eq!(
            fields(OfficeLoginRequest::default().check()),
            ["user_id", "password"]
        );
        assert_eq!(
            fields(PasswordResetRequest::default().check()),
            ["user_id", "security_email"]
        );
    }

    #[test]
    fn a_filled_in_login_or_reset_passes() {
        let login = OfficeLoginRequest {
            user_id: " KJ12345678 ".into(),
            password: "x".into(),
        };
        let reset = PasswordResetRequest {
            user_id: "KJ12345678".into(),
            security_email: "clerk@example.jp".into(),
        };
        assert_eq!((login.check(), reset.check()), (Ok(()), Ok(())));
    }

    #[test]
    fn a_password_change_needs_the_current_password_and_the_new_one_twice() {
        let request = ChangePasswordRequest {
            current_password: SecretText::default(),
            new_password: "shinjuku-kaigo-2026".into(),
        };
        assert_eq!(
            fields(request.check("KJ12345678", "shinjuku-kaigo-2027")),
            ["current_password", NEW_PASSWORD_CONFIRMATION]
        );
        let request = ChangePasswordRequest {
            current_password: "Tmp7kQ9xWp3A".into(),
            new_password: "short".into(),
        };
        // A new password that breaks the rule is reported alone, not also as a mismatch.
        assert_eq!(fields(request.check("KJ12345678", "")), ["new_password"]);
        let request = ChangePasswordRequest {
            current_password: "Tmp7kQ9xWp3A".into(),
            new_password: "shinjuku-kaigo-2026".into(),
        };
        assert_eq!(request.check("KJ12345678", "shinjuku-kaigo-2026"), Ok(()));
    }
}
