//! The security-e-mail path (the first choice of 【パスワード等を紛失した方】): a logged-in office
//! registers a セキュリティ用メールアドレス, proven by a code; an office that lost its password
//! enters user ID and that address, receives a code, and sets a new password.
//!
//! This path resets a credential, so its code follows the standards (DESIGN.md): 6 digits,
//! 10 minutes, single use, 5 wrong tries. A reset whose pair matches nothing is answered exactly
//! like one that matches (no account enumeration): it gets an id and a token, and its "code"
//! can never be right.

use std::time::Duration;

use time::OffsetDateTime;

use reissue_shared::account::{
    NewPasswordRequest, OfficeSession, PasswordResetRequest, PasswordResetStarted,
    SecurityCodeSent, SecurityEmailRegistered, SecurityEmailRequest,
};
use reissue_shared::code::SECURITY_CODE_DIGITS;
use reissue_shared::email::SECURITY_EMAIL;
use reissue_shared::password::check_new_password;
use reissue_shared::{EmailAddress, FieldError, VerificationCode};

use super::accounts::{audit, SESSION};
use super::audit::AuditAction;
use super::rate_limit::{self, Budget};
use super::reissue::Caller;
use super::reviewers::{hash_password, OfficeIdentity};
use super::secrets::{generate_code, generate_token};
use super::templates;
use super::{Context, DomainError};
use crate::db::accounts::OfficeAccount;
use crate::db::security_codes::{self, SecurityCode};
use crate::db::{self, DbConnection};

/// Lifetime of a security code.
pub const CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Wrong tries that kill a security code.
pub const MAX_ATTEMPTS: u32 = 5;
const REGISTER: &str = "register_email";
const RESET: &str = "password_reset";
const CODE_PURPOSE: &str = "security-code";
const TOKEN_PURPOSE: &str = "reset-token";

/// `PUT /account/security-email`: mails a code to the new address (the old code dies).
pub async fn request_registration(
    ctx: &Context,
    identity: OfficeIdentity,
    request: SecurityEmailRequest,
    caller: Caller,
) -> Result<SecurityCodeSent, DomainError> {
    if identity.password_change_only {
        return Err(DomainError::SessionInvalid);
    }
    let email =
        EmailAddress::parse_confirmed(&request.email, &request.email_confirmation, SECURITY_EMAIL)
            .map_err(DomainError::Validation)?;
    let ctx2 = ctx.clone();
    let sent = ctx
        .db
        .transaction(move |conn| {
            let now = ctx2.clock.now();
            let account = db::accounts::find(conn, &identity.account_id)?
                .ok_or(DomainError::SessionInvalid)?;
            rate_limit::spend(conn, &budgets(&ctx2, &account.user_id, &caller), now)?;
            if let Some(mut previous) =
                security_codes::latest_for_account(conn, &account.id, REGISTER)?
            {
                previous.consumed_at = Some(now);
                security_codes::update(conn, &previous)?;
            }
            let (code, _) = new_code(
                conn,
                &ctx2,
                REGISTER,
                Some(&account),
                email.as_str(),
                None,
                true,
                now,
            )?;
            audit(
                conn,
                &account,
                AuditAction::SecurityEmailCodeSent,
                email.as_str(),
                now,
            )?;
            Ok::<_, DomainError>(SecurityCodeSent {
                email: email.to_string(),
                code_expires_at: code.expires_at,
            })
        })
        .await?;
    ctx.mail_wakeup.notify_one();
    Ok(sent)
}

/// `POST /account/security-email/verification`: the code registers the address.
pub async fn confirm_registration(
    ctx: &Context,
    identity: OfficeIdentity,
    code: String,
) -> Result<SecurityEmailRegistered, DomainError> {
    if identity.password_change_only {
        return Err(DomainError::SessionInvalid);
    }
    let entered = parse_code(&code)?;
    let ctx2 = ctx.clone();
    ctx.db
        .transaction(move |conn| {
            let now = ctx2.clock.now();
            let mut account = db::accounts::find(conn, &identity.account_id)?
                .ok_or(DomainError::SessionInvalid)?;
            let Some(mut pending) =
                security_codes::latest_for_account(conn, &account.id, REGISTER)?
            else {
                return Ok(Err(DomainError::NoActiveCode));
            };
            if let Err(refused) = check_code(&ctx2, &mut pending, &entered, now) {
                security_codes::update(conn, &pending)?;
                audit(conn, &account, AuditAction::SecurityCodeWrong, "", now)?;
                return Ok(Err(refused));
            }
            pending.consumed_at = Some(now);
            security_codes::update(conn, &pending)?;
            account.security_email = Some(pending.email.clone());
            account.updated_at = now;
            db::accounts::update(conn, &account)?;
            audit(
                conn,
                &account,
                AuditAction::SecurityEmailRegistered,
                &pending.email,
                now,
            )?;
            Ok::<_, DomainError>(Ok(SecurityEmailRegistered {
                email: pending.email,
            }))
        })
        .await?
}

/// `POST /password-resets`: the same answer whether or not user ID and address match; a code
/// is mailed only when they do.
pub async fn start_reset(
    ctx: &Context,
    request: PasswordResetRequest,
    caller: Caller,
) -> Result<PasswordResetStarted, DomainError> {
    let mut missing = Vec::new();
    if request.user_id.trim().is_empty() {
        missing.push(FieldError::new(
            "user_id",
            reissue_shared::FieldErrorCode::Required,
            "ユーザIDを入力してください。",
        ));
    }
    let email = EmailAddress::parse(
        &request.security_email,
        "security_email",
        "セキュリティ用メールアドレス",
    );
    if let Err(error) = &email {
        missing.push(error.clone());
    }
    let (Ok(email), true) = (email, missing.is_empty()) else {
        return Err(DomainError::Validation(missing));
    };
    let token = generate_token();
    let token_for_row = token.clone();
    let ctx2 = ctx.clone();
    let id = ctx
        .db
        .transaction(move |conn| {
            let now = ctx2.clock.now();
            let user_id = request.user_id.trim().to_uppercase();
            rate_limit::spend(conn, &budgets(&ctx2, &user_id, &caller), now)?;
            let account = db::accounts::find_by_user_id(conn, &user_id)?.filter(|account| {
                account
                    .security_email
                    .as_deref()
                    .is_some_and(|registered| registered.eq_ignore_ascii_case(email.as_str()))
            });
            let (code, _) = new_code(
                conn,
                &ctx2,
                RESET,
                account.as_ref(),
                email.as_str(),
                Some(&token_for_row),
                account.is_some(),
                now,
            )?;
            if let Some(account) = &account {
                audit(conn, account, AuditAction::PasswordResetRequested, "", now)?;
            }
            Ok::<_, DomainError>(code.id)
        })
        .await?;
    ctx.mail_wakeup.notify_one();
    Ok(PasswordResetStarted { id, token })
}

/// `POST /password-resets/{id}/verification`.
pub async fn verify_reset(
    ctx: &Context,
    id: String,
    token: String,
    code: String,
) -> Result<(), DomainError> {
    let entered = parse_code(&code)?;
    let ctx2 = ctx.clone();
    ctx.db
        .transaction(move |conn| {
            let now = ctx2.clock.now();
            let mut reset = load_reset(conn, &ctx2, &id, &token)?;
            if reset.verified_at.is_some() {
                return Ok(Ok(()));
            }
            if let Err(refused) = check_code(&ctx2, &mut reset, &entered, now) {
                security_codes::update(conn, &reset)?;
                return Ok(Err(refused));
            }
            reset.verified_at = Some(now);
            security_codes::update(conn, &reset)?;
            Ok::<_, DomainError>(Ok(()))
        })
        .await?
}

/// `POST /password-resets/{id}/password`: after a verified code, the new password (same rule
/// as after the temporary password). Single use.
pub async fn finish_reset(
    ctx: &Context,
    id: String,
    token: String,
    request: NewPasswordRequest,
) -> Result<OfficeSession, DomainError> {
    let ctx2 = ctx.clone();
    let session = ctx
        .db
        .transaction(move |conn| {
            let now = ctx2.clock.now();
            let mut reset = load_reset(conn, &ctx2, &id, &token)?;
            if reset.consumed_at.is_some() {
                return Err(DomainError::NoActiveCode);
            }
            if reset.verified_at.is_none() {
                return Err(DomainError::InvalidState(
                    super::error::InvalidStateReason::NotVerified,
                ));
            }
            let account_id = reset.account_id.clone().ok_or(DomainError::NotFound)?;
            let mut account =
                db::accounts::find(conn, &account_id)?.ok_or(DomainError::NotFound)?;
            check_new_password(&request.new_password, &account.user_id, None)
                .map_err(|e| DomainError::Validation(vec![e]))?;
            account.password_hash = Some(hash_password(&request.new_password)?);
            account.temp_password_hash = None;
            account.temp_password_expires_at = None;
            account.must_change_password = false;
            account.failed_logins = 0;
            account.locked_until = None;
            account.updated_at = now;
            db::accounts::update(conn, &account)?;
            reset.consumed_at = Some(now);
            security_codes::update(conn, &reset)?;
            audit(
                conn,
                &account,
                AuditAction::PasswordChanged,
                "by security e-mail reset",
                now,
            )?;
            super::accounts::notify_security_email(
                conn,
                &account,
                "セキュリティ用メールアドレスによりパスワードが再設定されました。",
                now,
            )?;
            let expires_at = now + SESSION;
            let identity = OfficeIdentity {
                account_id: account.id.clone(),
                user_id: account.user_id.clone(),
                password_change_only: false,
            };
            Ok(OfficeSession {
                access_token: ctx2.sessions.issue_office(&identity, now, expires_at)?,
                password_change_required: false,
                user_id: account.user_id,
                office_name: None,
                expires_at,
            })
        })
        .await?;
    // A security-e-mail notice may be waiting in the outbox.
    ctx.mail_wakeup.notify_one();
    Ok(session)
}

fn parse_code(code: &str) -> Result<VerificationCode, DomainError> {
    VerificationCode::parse(code, SECURITY_CODE_DIGITS)
        .map_err(|e| DomainError::Validation(vec![e]))
}

/// Per user ID and per client address, like the application's codes.
fn budgets(ctx: &Context, user_id: &str, caller: &Caller) -> Vec<Budget> {
    vec![
        Budget::new(
            "security:user",
            user_id,
            ctx.limits.codes_per_office,
            ctx.limits.budget_window,
        ),
        Budget::new(
            "client",
            &caller.address,
            ctx.limits.requests_per_client,
            ctx.limits.client_window,
        ),
    ]
}

/// Inserts a code row; with `mail`, generates the code and queues the manual's code mail with
/// the 10-minute lifetime.
#[expect(
    clippy::too_many_arguments,
    reason = "one row's fields, named at the call sites"
)]
fn new_code(
    conn: &mut DbConnection,
    ctx: &Context,
    purpose: &str,
    account: Option<&OfficeAccount>,
    email: &str,
    token: Option<&str>,
    mail: bool,
    now: OffsetDateTime,
) -> Result<(SecurityCode, Option<String>), DomainError> {
    let id = uuid::Uuid::new_v4().to_string();
    let code = mail.then(|| generate_code(SECURITY_CODE_DIGITS as u32));
    let row = SecurityCode {
        id: id.clone(),
        purpose: purpose.to_owned(),
        account_id: account.map(|a| a.id.clone()),
        token_hash: token.map(|t| ctx.hasher.digest(TOKEN_PURPOSE, &[&id, t])),
        email: email.to_owned(),
        code_hash: code
            .as_deref()
            .map(|c| ctx.hasher.digest(CODE_PURPOSE, &[&id, c])),
        expires_at: now + CODE_LIFETIME,
        failed_attempts: 0,
        verified_at: None,
        consumed_at: None,
        created_at: now,
    };
    security_codes::insert(conn, &row)?;
    if let Some(code) = &code {
        let content = templates::code_notice(code, CODE_LIFETIME);
        db::outbox::enqueue(
            conn,
            &db::outbox::NewMail {
                recipient: email.to_owned(),
                subject: content.subject,
                body: content.body,
                application_id: None,
            },
            now,
        )?;
    }
    Ok((row, code))
}

/// Checks an entered code against a row, counting a wrong try; the caller stores the row.
fn check_code(
    ctx: &Context,
    row: &mut SecurityCode,
    entered: &VerificationCode,
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    if row.consumed_at.is_some() {
        return Err(DomainError::NoActiveCode);
    }
    if row.failed_attempts >= MAX_ATTEMPTS {
        return Err(DomainError::CodeLocked {
            max_attempts: MAX_ATTEMPTS,
        });
    }
    if now >= row.expires_at {
        return Err(DomainError::CodeExpired {
            lifetime_minutes: CODE_LIFETIME.as_secs() / 60,
        });
    }
    let right = row.code_hash.as_deref().is_some_and(|hash| {
        ctx.hasher
            .verify(hash, CODE_PURPOSE, &[&row.id, entered.as_str()])
    });
    if right {
        return Ok(());
    }
    row.failed_attempts += 1;
    let attempts_left = MAX_ATTEMPTS.saturating_sub(row.failed_attempts);
    if attempts_left == 0 {
        Err(DomainError::CodeLocked {
            max_attempts: MAX_ATTEMPTS,
        })
    } else {
        Err(DomainError::WrongCode { attempts_left })
    }
}

fn load_reset(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &str,
    token: &str,
) -> Result<SecurityCode, DomainError> {
    let reset = security_codes::find(conn, id)?
        .filter(|row| row.purpose == RESET)
        .ok_or(DomainError::NotFound)?;
    let genuine = reset
        .token_hash
        .as_deref()
        .is_some_and(|hash| ctx.hasher.verify(hash, TOKEN_PURPOSE, &[id, token]));
    if genuine {
        Ok(reset)
    } else {
        Err(DomainError::NotFound)
    }
}
