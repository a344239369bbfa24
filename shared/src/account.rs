//! Request and response bodies of the office login (`/api/v1/auth`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::email::EmailAddress;
use crate::error_code::{FieldError, FieldErrorCode};
use crate::password::check_new_password;

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
            pattern = r"\S"
        )
    )]
    pub user_id: String,
    /// パスワード, or the 仮パスワード from the notice.
    #[cfg_attr(
        feature = "server",
        schema(required = true, format = Password, min_length = 1)
    )]
    pub password: String,
}

/// Answer of `POST /auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OfficeSession {
    /// Bearer JWT. While `password_change_required`, it opens only `POST /auth/password`.
    pub access_token: String,
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
    #[cfg_attr(feature = "server", schema(required = true, format = Password))]
    pub current_password: String,
    /// 新しいパスワード: at least 10 characters, not the user ID, not the temporary password.
    #[cfg_attr(feature = "server", schema(required = true, format = Password, min_length = 10, max_length = 128))]
    pub new_password: String,
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
    #[cfg_attr(feature = "server", schema(required = true, pattern = "^[0-9]{6}$"))]
    pub code: String,
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
        schema(required = true, min_length = 1, pattern = r"\S")
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
    pub token: String,
}

/// `POST /password-resets/{id}/password`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NewPasswordRequest {
    /// 新しいパスワード.
    #[cfg_attr(feature = "server", schema(required = true, format = Password, min_length = 10, max_length = 128))]
    pub new_password: String,
}

// The form rules below run in the browser before a request is sent; the server applies the
// same rules to the same request (and, for a new password, checks it against the account too).

impl OfficeLoginRequest {
    /// Both fields must be filled in.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.user_id.trim().is_empty() {
            errors.push(required("user_id", "ユーザIDを入力してください。"));
        }
        if self.password.is_empty() {
            errors.push(required("password", "パスワードを入力してください。"));
        }
        into_result(errors)
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
        if let Err(error) = check_new_password(&self.new_password, user_id, None) {
            errors.push(error);
        } else if self.new_password != confirmation {
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
        let mut errors = Vec::new();
        if self.user_id.trim().is_empty() {
            errors.push(required("user_id", "ユーザIDを入力してください。"));
        }
        if let Err(error) = EmailAddress::parse(
            &self.security_email,
            "security_email",
            "セキュリティ用メールアドレス",
        ) {
            errors.push(error);
        }
        into_result(errors)
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

#[cfg(test)]
mod tests {
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
            current_password: String::new(),
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
