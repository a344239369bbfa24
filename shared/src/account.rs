//! Request and response bodies of the office login (`/api/v1/auth`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

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
