//! The codes of the security-e-mail path (registering an address, resetting a password).
//!
//! This path resets a credential, so its code follows the standards (DESIGN.md): 6 digits,
//! 10 minutes, single use, 5 wrong tries. Only its keyed hash is stored, bound to the code's id.

use std::time::Duration;

use time::OffsetDateTime;

use reissue_shared::code::SECURITY_CODE_DIGITS;
use reissue_shared::{EmailAddress, VerificationCode};

use super::accounts::{parse_security_email, OfficeAccount};
use super::rate_limit::Budget;
use super::secrets::generate_code;
use super::templates;
use super::{Context, DomainError, Tx};
use crate::db::models::{from_db_time, to_db_time, SecurityCodeRow};
use crate::db::{self, DbConnection, StorageError};

/// Lifetime of a security code.
pub const CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Wrong tries that kill a security code.
pub const MAX_ATTEMPTS: u32 = 5;
const CODE_PURPOSE: &str = "security-code";
const TOKEN_PURPOSE: &str = "reset-token";

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// Proves a new security e-mail of a logged-in office.
    RegisterEmail,
    /// Opens a password reset.
    PasswordReset,
}

impl CodePurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegisterEmail => "register_email",
            Self::PasswordReset => "password_reset",
        }
    }

    /// From the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "register_email" => Some(Self::RegisterEmail),
            "password_reset" => Some(Self::PasswordReset),
            _ => None,
        }
    }
}

/// A security code as stored (only its hash), with the address it was mailed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityCode {
    /// Id (for a reset, the reset's id).
    pub id: String,
    /// What it is for.
    pub purpose: CodePurpose,
    /// The account it belongs to; none for a reset whose user ID and address matched nothing.
    pub account_id: Option<String>,
    /// Keyed hash of a reset's bearer token.
    pub token_hash: Option<String>,
    /// Where it was mailed (or, for a reset that matched nothing, the address entered).
    pub email: EmailAddress,
    /// Keyed hash of the code; none when no code was mailed, so nothing is ever right.
    pub code_hash: Option<String>,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// Wrong tries so far.
    pub failed_attempts: u32,
    /// When the right code was entered (resets).
    pub verified_at: Option<OffsetDateTime>,
    /// When it was used up or replaced.
    pub consumed_at: Option<OffsetDateTime>,
    /// Created.
    pub created_at: OffsetDateTime,
}

impl TryFrom<SecurityCodeRow> for SecurityCode {
    type Error = StorageError;

    fn try_from(row: SecurityCodeRow) -> Result<Self, StorageError> {
        let corrupt =
            |what: &str| StorageError::Corrupt(format!("security code {}: {what}", row.id));
        let purpose = CodePurpose::parse(&row.purpose).ok_or_else(|| corrupt("purpose"))?;
        let email = parse_security_email(&row.email).map_err(|_| corrupt("email"))?;
        let failed_attempts =
            u32::try_from(row.failed_attempts).map_err(|_| corrupt("failed_attempts"))?;
        Ok(Self {
            id: row.id,
            purpose,
            account_id: row.account_id,
            token_hash: row.token_hash,
            email,
            code_hash: row.code_hash,
            expires_at: from_db_time(row.expires_at),
            failed_attempts,
            verified_at: row.verified_at.map(from_db_time),
            consumed_at: row.consumed_at.map(from_db_time),
            created_at: from_db_time(row.created_at),
        })
    }
}

impl From<&SecurityCode> for SecurityCodeRow {
    fn from(code: &SecurityCode) -> Self {
        Self {
            id: code.id.clone(),
            purpose: code.purpose.as_str().to_owned(),
            account_id: code.account_id.clone(),
            token_hash: code.token_hash.clone(),
            email: code.email.to_string(),
            code_hash: code.code_hash.clone(),
            expires_at: to_db_time(code.expires_at),
            // At most MAX_ATTEMPTS.
            failed_attempts: i32::try_from(code.failed_attempts).unwrap_or(i32::MAX),
            verified_at: code.verified_at.map(to_db_time),
            consumed_at: code.consumed_at.map(to_db_time),
            created_at: to_db_time(code.created_at),
        }
    }
}

/// One code by id, locked until the transaction ends (an entry counts a wrong try on it).
pub fn find_for_update(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<SecurityCode>, StorageError> {
    db::security_codes::find_for_update(conn, id)?
        .map(SecurityCode::try_from)
        .transpose()
}

/// The newest unconsumed code of an account for a purpose, locked until the transaction ends.
pub fn latest_for_account_for_update(
    conn: &mut DbConnection,
    account_id: &str,
    purpose: CodePurpose,
) -> Result<Option<SecurityCode>, StorageError> {
    db::security_codes::latest_for_account_for_update(conn, account_id, purpose.as_str())?
        .map(SecurityCode::try_from)
        .transpose()
}

/// Consumes every open code of the account for `purpose` (after a reset succeeded, no other
/// reset of the account may still be finished).
pub fn consume_all(
    conn: &mut DbConnection,
    account_id: &str,
    purpose: CodePurpose,
    now: OffsetDateTime,
) -> Result<usize, StorageError> {
    db::security_codes::consume_all(conn, account_id, purpose.as_str(), to_db_time(now))
}

/// Writes every field of an existing code.
pub fn store(conn: &mut DbConnection, code: &SecurityCode) -> Result<(), StorageError> {
    db::security_codes::update(conn, &SecurityCodeRow::from(code))
}

/// A code to create.
pub struct NewCode<'a> {
    /// What it is for.
    pub purpose: CodePurpose,
    /// Whose it is, if anyone's.
    pub account: Option<&'a OfficeAccount>,
    /// The address (mailed to when `mail`).
    pub email: &'a EmailAddress,
    /// A reset's bearer token, stored as its keyed hash.
    pub token: Option<&'a str>,
    /// Whether to generate a code and mail it; without, no code can ever be right.
    pub mail: bool,
}

/// Inserts a code row; with `mail`, generates the code and queues the manual's code mail with
/// the 10-minute lifetime.
pub fn issue(tx: &mut Tx<'_>, new: NewCode<'_>) -> Result<SecurityCode, DomainError> {
    let (ctx, now) = (tx.ctx, tx.now);
    let id = uuid::Uuid::new_v4().to_string();
    let code = new.mail.then(|| generate_code(SECURITY_CODE_DIGITS as u32));
    let row = SecurityCode {
        purpose: new.purpose,
        account_id: new.account.map(|a| a.id.clone()),
        token_hash: new
            .token
            .map(|t| ctx.hasher.digest(TOKEN_PURPOSE, &[&id, t])),
        email: new.email.clone(),
        code_hash: code
            .as_deref()
            .map(|c| ctx.hasher.digest(CODE_PURPOSE, &[&id, c])),
        expires_at: now + CODE_LIFETIME,
        failed_attempts: 0,
        verified_at: None,
        consumed_at: None,
        created_at: now,
        id,
    };
    db::security_codes::insert(tx.conn, &SecurityCodeRow::from(&row))?;
    if let Some(code) = &code {
        let contact = super::federation::contact(tx.conn, new.account.map(|a| a.prefecture))?;
        tx.queue_mail(
            new.email.as_str(),
            templates::code_notice(code, CODE_LIFETIME, &contact),
            None,
        )?;
    }
    Ok(row)
}

/// Checks an entered code, counting a wrong try; the caller stores the code.
pub fn check(
    ctx: &Context,
    code: &mut SecurityCode,
    entered: &VerificationCode,
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    if code.consumed_at.is_some() {
        return Err(DomainError::NoActiveCode);
    }
    if code.failed_attempts >= MAX_ATTEMPTS {
        return Err(DomainError::CodeLocked {
            max_attempts: MAX_ATTEMPTS,
        });
    }
    if now >= code.expires_at {
        return Err(DomainError::CodeExpired {
            lifetime_minutes: CODE_LIFETIME.as_secs() / 60,
        });
    }
    let right = code.code_hash.as_deref().is_some_and(|hash| {
        ctx.hasher
            .verify(hash, CODE_PURPOSE, &[&code.id, entered.as_str()])
    });
    if right {
        return Ok(());
    }
    code.failed_attempts += 1;
    let attempts_left = MAX_ATTEMPTS.saturating_sub(code.failed_attempts);
    if attempts_left == 0 {
        Err(DomainError::CodeLocked {
            max_attempts: MAX_ATTEMPTS,
        })
    } else {
        Err(DomainError::WrongCode { attempts_left })
    }
}

/// Whether `token` is the bearer token of the reset `code`.
pub fn opens(ctx: &Context, code: &SecurityCode, token: &str) -> bool {
    code.token_hash
        .as_deref()
        .is_some_and(|hash| ctx.hasher.verify(hash, TOKEN_PURPOSE, &[&code.id, token]))
}

/// Codes per user ID, like the application's codes; spent with the client's request budget
/// (`Caller::spend_request`).
pub fn user_budget(ctx: &Context, user_id: &str) -> Budget {
    Budget::new(
        "security:user",
        user_id,
        ctx.limits.codes_per_office,
        ctx.limits.budget_window,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(purpose: &str) -> SecurityCodeRow {
        let at = to_db_time(OffsetDateTime::UNIX_EPOCH);
        SecurityCodeRow {
            id: "c1".into(),
            purpose: purpose.into(),
            account_id: Some("a1".into()),
            token_hash: None,
            email: "sec@example.jp".into(),
            code_hash: Some("00".into()),
            expires_at: at,
            failed_attempts: 2,
            verified_at: None,
            consumed_at: Some(at),
            created_at: at,
        }
    }

    #[test]
    fn a_row_reads_back_as_the_code_it_was_written_from() {
        let code = SecurityCode::try_from(row("password_reset")).ok();
        assert_eq!(
            code.as_ref().map(|c| (c.purpose, c.failed_attempts)),
            Some((CodePurpose::PasswordReset, 2))
        );
        let again = code
            .as_ref()
            .map(SecurityCodeRow::from)
            .and_then(|row| SecurityCode::try_from(row).ok());
        assert_eq!(again, code);
    }

    #[test]
    fn an_unknown_purpose_is_corrupt() {
        assert!(matches!(
            SecurityCode::try_from(row("login")),
            Err(StorageError::Corrupt(_))
        ));
    }
}
