//! The use cases of a reviewer's second factor (see [`super::mfa`]): the enrolment of an
//! authenticator app from the session of the first login, and the operator's reset.

use time::OffsetDateTime;

use reissue_shared::mfa::{MfaConfirmationInput, MfaEnrolled, MfaEnrolment};
use reissue_shared::SecretText;

use super::audit::AuditAction;
use super::mfa::{self, Holder};
use super::passwords::PasswordAccount;
use super::reviewers::{self, ReviewerAccount};
use super::sessions::{self, Reviewer, SessionEnd, SessionId, SessionScope};
use super::{Context, DomainError};
use crate::db::DbConnection;

fn holder(account: &ReviewerAccount) -> Holder<'_> {
    Holder {
        reviewer_id: &account.id,
        login_id: &account.login_id,
    }
}

/// `POST /admin/mfa/enrolment`: a new secret for a reviewer not enrolled yet (replacing one
/// that was shown and never confirmed). Audited.
pub async fn start_enrolment(
    ctx: &Context,
    reviewer: Reviewer,
) -> Result<MfaEnrolment, DomainError> {
    ctx.transaction(move |tx| {
        let mut account = reviewers::find_for_update(tx.conn, &reviewer.id)?
            .ok_or(DomainError::SessionInvalid)?;
        let mut state = account.mfa.clone();
        let enrolment = mfa::new_pending_secret(tx.ctx, holder(&account), &mut state)?;
        account.mfa = state;
        reviewers::store_mfa(tx.conn, &account)?;
        account
            .audit_event(
                AuditAction::ReviewerMfaEnrolmentStarted,
                String::new(),
                tx.now,
            )
            .record(tx.conn)?;
        Ok(enrolment)
    })
    .await
}

/// `POST /admin/mfa/enrolment/confirmation`: the app's first code confirms the secret. The
/// enrolment session ends, a console session opens, and ten recovery codes are made (shown
/// this once, stored hashed). Audited.
pub async fn confirm_enrolment(
    ctx: &Context,
    reviewer: Reviewer,
    session: SessionId,
    input: MfaConfirmationInput,
) -> Result<MfaEnrolled, DomainError> {
    ctx.transaction(move |tx| {
        let now = tx.now;
        let mut account = reviewers::find_for_update(tx.conn, &reviewer.id)?
            .ok_or(DomainError::SessionInvalid)?;
        let mut state = account.mfa.clone();
        mfa::confirm_pending_secret(tx.ctx, holder(&account), &mut state, &input.totp_code, now)?;
        account.mfa = state;
        reviewers::store_mfa(tx.conn, &account)?;
        let codes = mfa::replace_recovery_codes(tx.conn, tx.ctx, holder(&account), now)?;
        sessions::end(tx.conn, &session, SessionEnd::MfaEnrolled, now)?;
        account
            .audit_event(AuditAction::ReviewerMfaEnrolled, String::new(), now)
            .record(tx.conn)?;
        let opened =
            reviewers::start_session(tx.conn, tx.ctx, &account, SessionScope::Console, now)?;
        Ok(MfaEnrolled {
            access_token: opened.access_token,
            expires_at: opened.expires_at,
            reviewer: opened.reviewer,
            recovery_codes: codes
                .iter()
                .map(|c| SecretText::from(c.grouped()))
                .collect(),
        })
    })
    .await
}

/// `reissue reviewer reset-mfa LOGIN_ID`: the reviewer enrols again at the next login; the
/// secret and the recovery codes are forgotten and the reviewer's sessions end. Audited.
/// Whether there was such a reviewer.
pub fn reset_mfa(
    conn: &mut DbConnection,
    login_id: &str,
    now: OffsetDateTime,
) -> Result<bool, DomainError> {
    let Some(mut account) = reviewers::find_by_login_any(conn, login_id.trim())? else {
        return Ok(false);
    };
    let mut state = account.mfa.clone();
    mfa::forget(conn, holder(&account), &mut state)?;
    account.mfa = state;
    reviewers::store_mfa(conn, &account)?;
    let ended = sessions::end_all(
        conn,
        sessions::Holder::Reviewer,
        &account.id,
        SessionEnd::MfaReset,
        now,
    )?;
    let mut event = account.audit_event(
        AuditAction::ReviewerMfaReset,
        format!("{}; {ended} session(s) ended", account.login_id),
        now,
    );
    event.actor = "operator".into();
    event.record(conn)?;
    Ok(true)
}
