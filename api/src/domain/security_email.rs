//! Registering a セキュリティ用メールアドレス (the address the first choice of
//! 【パスワード等を紛失した方】 relies on): a logged-in office enters it, and the code mailed to it
//! registers it. The password reset that uses it is in [`super::password_reset`].

use reissue_shared::account::{
    SecurityCodeInput, SecurityCodeSent, SecurityEmailInput, SecurityEmailRegistered,
};

use super::accounts::{self, audit};
use super::audit::AuditAction;
use super::caller::Caller;
use super::pseudonyms::{pseudonym, Personal};
use super::security_codes::{self, CodePurpose, NewCode};
use super::sessions::FullOfficeAccess;
use super::{Context, DomainError};

/// `PUT /account/security-email`: with the current password (a token alone does not choose
/// where a password reset goes), mails a code to the new address (the old code dies).
pub async fn request_registration(
    ctx: &Context,
    office: FullOfficeAccess,
    input: SecurityEmailInput,
    caller: Caller,
) -> Result<SecurityCodeSent, DomainError> {
    let account_id = office.identity().account_id.clone();
    let checked = ctx
        .db
        .run(move |conn| accounts::find(conn, &account_id))
        .await?
        .ok_or(DomainError::SessionInvalid)?;
    accounts::check_current_password(ctx, &checked, &input.current_password, caller.clone())
        .await?;
    let sent = ctx
        .transaction(move |tx| {
            let now = tx.now;
            let account = accounts::find_for_update(tx.conn, &office.identity().account_id)?
                .ok_or(DomainError::SessionInvalid)?;
            // A new password meanwhile ended this session too.
            if account.password_hash != checked.password_hash {
                return Err(DomainError::SessionInvalid);
            }
            caller.spend_request(tx, &[security_codes::user_budget(tx.ctx, &account.user_id)])?;
            if let Some(mut previous) = security_codes::latest_for_account_for_update(
                tx.conn,
                &account.id,
                CodePurpose::RegisterEmail,
            )? {
                previous.consumed_at = Some(now);
                security_codes::store(tx.conn, &previous)?;
            }
            let code = security_codes::issue(
                tx,
                NewCode {
                    purpose: CodePurpose::RegisterEmail,
                    account: Some(&account),
                    email: &input.email,
                    token: None,
                    mail: true,
                },
            )?;
            audit(
                tx.conn,
                &account,
                AuditAction::SecurityEmailCodeSent,
                pseudonym(&tx.ctx.hasher, Personal::Email(input.email.as_str())),
                now,
            )?;
            Ok::<_, DomainError>(SecurityCodeSent {
                email: input.email.to_string(),
                code_expires_at: code.expires_at,
            })
        })
        .await?;
    Ok(sent)
}

/// `POST /account/security-email/verification`: the code registers the address; an address it
/// replaces is told, so that a change by someone else is noticed.
pub async fn confirm_registration(
    ctx: &Context,
    office: FullOfficeAccess,
    input: SecurityCodeInput,
) -> Result<SecurityEmailRegistered, DomainError> {
    ctx.transaction(move |tx| {
        let now = tx.now;
        let mut account = accounts::find_for_update(tx.conn, &office.identity().account_id)?
            .ok_or(DomainError::SessionInvalid)?;
        let Some(mut pending) = security_codes::latest_for_account_for_update(
            tx.conn,
            &account.id,
            CodePurpose::RegisterEmail,
        )?
        else {
            return Ok(Err(DomainError::NoActiveCode));
        };
        if let Err(refused) = security_codes::check(tx.ctx, &mut pending, &input.code, now) {
            security_codes::store(tx.conn, &pending)?;
            audit(tx.conn, &account, AuditAction::SecurityCodeWrong, "", now)?;
            return Ok(Err(refused));
        }
        pending.consumed_at = Some(now);
        security_codes::store(tx.conn, &pending)?;
        if account
            .security_email
            .as_ref()
            .is_some_and(|old| *old != pending.email)
        {
            accounts::notify_security_email(
                tx,
                &account,
                "セキュリティ用メールアドレスが変更されました。今後のお知らせとパスワードの再設定は、変更後のアドレスを使います。",
            )?;
        }
        account.security_email = Some(pending.email.clone());
        account.updated_at = now;
        accounts::store(tx.conn, &account)?;
        audit(
            tx.conn,
            &account,
            AuditAction::SecurityEmailRegistered,
            pseudonym(&tx.ctx.hasher, Personal::Email(pending.email.as_str())),
            now,
        )?;
        Ok::<_, DomainError>(Ok(SecurityEmailRegistered {
            email: pending.email.to_string(),
        }))
    })
    .await?
}
