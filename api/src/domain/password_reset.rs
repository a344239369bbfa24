//! The password reset by security e-mail (the first choice of 【パスワード等を紛失した方】): an
//! office that lost its password enters its user ID and registered セキュリティ用メールアドレス,
//! receives a code, and sets a new password.
//!
//! A reset whose pair matches nothing is answered exactly like one that matches (no account
//! enumeration): it gets an id and a token, and its "code" can never be right.

use reissue_shared::account::{
    NewPasswordInput, OfficeSession, PasswordResetInput, PasswordResetStarted, SecurityCodeInput,
};

use super::accounts::{self, audit};
use super::audit::AuditAction;
use super::caller::Caller;
use super::error::InvalidStateReason;
use super::passwords::{self, check_new_office_password, hash_password};
use super::secrets::generate_token;
use super::security_codes::{self, CodePurpose, NewCode, SecurityCode};
use super::sessions::{self, Holder, SessionEnd};
use super::{Context, DomainError};
use crate::db::DbConnection;
use time::OffsetDateTime;

/// `POST /password-resets`: the same answer whether or not user ID and address match; a code
/// is mailed only when they do.
pub async fn start(
    ctx: &Context,
    input: PasswordResetInput,
    caller: Caller,
) -> Result<PasswordResetStarted, DomainError> {
    let token = generate_token();
    let token_for_row = token.clone();
    let id = ctx
        .transaction(move |tx| {
            let now = tx.now;
            let user_id = input.user_id.as_str();
            caller.spend_request(tx, &[security_codes::user_budget(tx.ctx, user_id)])?;
            let account = accounts::find_by_user_id(tx.conn, user_id)?.filter(|account| {
                account.security_email.as_ref().is_some_and(|registered| {
                    registered
                        .as_str()
                        .eq_ignore_ascii_case(input.security_email.as_str())
                })
            });
            let code = security_codes::issue(
                tx,
                NewCode {
                    purpose: CodePurpose::PasswordReset,
                    account: account.as_ref(),
                    email: &input.security_email,
                    token: Some(&token_for_row),
                    mail: account.is_some(),
                },
            )?;
            if let Some(account) = &account {
                audit(
                    tx.conn,
                    account,
                    AuditAction::PasswordResetRequested,
                    "",
                    now,
                )?;
            }
            Ok::<_, DomainError>(code.id)
        })
        .await?;
    Ok(PasswordResetStarted {
        id,
        token: token.into(),
    })
}

/// `POST /password-resets/{id}/verification`.
pub async fn verify(
    ctx: &Context,
    id: String,
    token: String,
    input: SecurityCodeInput,
) -> Result<(), DomainError> {
    ctx.transaction(move |tx| {
        let now = tx.now;
        let mut reset = load(tx.conn, tx.ctx, &id, &token)?;
        if reset.verified_at.is_some() {
            return Ok(Ok(()));
        }
        if let Err(refused) = security_codes::check(tx.ctx, &mut reset, &input.code, now) {
            security_codes::store(tx.conn, &reset)?;
            return Ok(Err(refused));
        }
        reset.verified_at = Some(now);
        security_codes::store(tx.conn, &reset)?;
        Ok::<_, DomainError>(Ok(()))
    })
    .await?
}

/// `POST /password-resets/{id}/password`: after a verified code, the new password (same rule
/// as after the temporary password). Single use.
pub async fn finish(
    ctx: &Context,
    id: String,
    token: String,
    input: NewPasswordInput,
) -> Result<OfficeSession, DomainError> {
    // The reset and the new password are checked first, and the password hashed on the argon2
    // threads, outside the transaction (which holds SQLite's writer); the transaction checks
    // the reset again, as it is by then.
    let (first_id, first_token, ctx2) = (id.clone(), token.clone(), ctx.clone());
    let checked = ctx
        .db
        .run(move |conn| {
            let now = ctx2.clock.now();
            verified_reset(conn, &ctx2, &first_id, &first_token, now)
        })
        .await?;
    check_new_office_password(input.new_password.expose(), &checked.1.user_id, None)?;
    let new_password = input.new_password.clone();
    let new_hash = ctx
        .passwords
        .run(move || hash_password(new_password.expose()))
        .await??;
    let session = ctx
        .transaction(move |tx| {
            let now = tx.now;
            let (mut reset, mut account) = verified_reset(tx.conn, tx.ctx, &id, &token, now)?;
            if account.id != checked.1.id {
                return Err(DomainError::NotFound);
            }
            account.password_hash = Some(new_hash);
            account.temp_password_hash = None;
            account.temp_password_expires_at = None;
            account.must_change_password = false;
            account.updated_at = now;
            accounts::store(tx.conn, &account)?;
            // The new password lets the ID in again, from every client.
            passwords::forget_failures::<accounts::OfficeAccount>(
                tx.conn,
                &tx.ctx.hasher,
                &account.user_id,
            )?;
            reset.consumed_at = Some(now);
            security_codes::store(tx.conn, &reset)?;
            // Every other reset of the account ends with this one.
            security_codes::consume_all(tx.conn, &account.id, CodePurpose::PasswordReset, now)?;
            // Whoever held a session of the account (perhaps the one who made the reset
            // necessary) is logged out.
            let ended = sessions::end_all(
                tx.conn,
                Holder::Office,
                &account.id,
                SessionEnd::PasswordReset,
                now,
            )?;
            let detail = match ended {
                0 => "by security e-mail reset".to_owned(),
                n => format!("by security e-mail reset; {}", accounts::sessions_ended(n)),
            };
            audit(tx.conn, &account, AuditAction::PasswordChanged, detail, now)?;
            accounts::notify_security_email(
                tx,
                &account,
                "セキュリティ用メールアドレスによりパスワードが再設定されました。",
            )?;
            accounts::start_session(tx.conn, tx.ctx, account, now)
        })
        .await?;
    Ok(session)
}

/// The reset `id` that `token` opens, verified, unused and within its time, and its account
/// (read locked).
fn verified_reset(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &str,
    token: &str,
    now: OffsetDateTime,
) -> Result<(SecurityCode, accounts::OfficeAccount), DomainError> {
    let reset = load(conn, ctx, id, token)?;
    if reset.consumed_at.is_some() {
        return Err(DomainError::NoActiveCode);
    }
    let Some(verified_at) = reset.verified_at else {
        return Err(DomainError::InvalidState(InvalidStateReason::NotVerified));
    };
    // A verified reset is a key to the account: it does not wait for ever.
    if now >= verified_at + security_codes::CODE_LIFETIME {
        return Err(DomainError::CodeExpired {
            lifetime_minutes: security_codes::CODE_LIFETIME.as_secs() / 60,
        });
    }
    let account_id = reset.account_id.clone().ok_or(DomainError::NotFound)?;
    let account = accounts::find_for_update(conn, &account_id)?.ok_or(DomainError::NotFound)?;
    Ok((reset, account))
}

/// The reset `id` if `token` opens it; any other case is "not found" alike.
fn load(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &str,
    token: &str,
) -> Result<SecurityCode, DomainError> {
    security_codes::find_for_update(conn, id)?
        .filter(|code| code.purpose == CodePurpose::PasswordReset)
        .filter(|code| security_codes::opens(ctx, code, token))
        .ok_or(DomainError::NotFound)
}
