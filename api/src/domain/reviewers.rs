//! Federation reviewers: their accounts (argon2id passwords, a role, one prefecture), saved
//! by the operator, and the login with lock-out that opens a session (see [`super::sessions`]).

use time::OffsetDateTime;

use reissue_shared::account::ReviewerLoginInput;
use reissue_shared::admin::{AdminSession, ReviewerRole, ReviewerView};
use reissue_shared::mfa::SecondFactor;
use reissue_shared::PrefectureCode;

use super::audit::{AuditAction, AuditEvent};
use super::caller::Caller;
use super::mfa::{self, ReviewerMfa, SecondFactorCheck};
use super::passwords::{
    check_reviewer_password, forget_failures, hash_password, login_with_lockout, Failure,
    LockoutPolicy, LoginAttempt, LoginStep, PasswordAccount,
};
use super::secrets::Hasher;
use super::sessions::{self, Holder, Reviewer, SessionEnd, SessionId, SessionScope};
use super::{Context, DomainError};
use crate::db::models::{from_db_time, to_db_time, ReviewerRow};
use crate::db::{self, DbConnection, StorageError};

/// A reviewer account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewerAccount {
    /// Id.
    pub id: String,
    /// ログインID.
    pub login_id: String,
    /// 氏名.
    pub name: String,
    /// Role.
    pub role: ReviewerRole,
    /// The federation's prefecture.
    pub prefecture: PrefectureCode,
    /// argon2id PHC string.
    pub password_hash: String,
    /// When the account was created.
    pub created_at: OffsetDateTime,
    /// When the operator disabled it (`reissue reviewer disable`): it cannot log in.
    pub disabled_at: Option<OffsetDateTime>,
    /// Its second factor (see [`super::mfa`]).
    pub mfa: ReviewerMfa,
}

impl ReviewerAccount {
    /// The reviewer a session of this account is for.
    pub fn reviewer(&self) -> Reviewer {
        Reviewer {
            id: self.id.clone(),
            name: self.name.clone(),
            role: self.role,
            prefecture: self.prefecture,
        }
    }
}

impl TryFrom<ReviewerRow> for ReviewerAccount {
    type Error = StorageError;

    fn try_from(row: ReviewerRow) -> Result<Self, StorageError> {
        let corrupt = |what: &str| StorageError::Corrupt(format!("reviewer {}: {what}", row.id));
        let role = ReviewerRole::parse(&row.role).ok_or_else(|| corrupt("role"))?;
        let prefecture =
            PrefectureCode::parse(&row.prefecture_code).map_err(|_| corrupt("prefecture_code"))?;
        Ok(Self {
            id: row.id,
            login_id: row.login_id,
            name: row.name,
            role,
            prefecture,
            password_hash: row.password_hash,
            created_at: from_db_time(row.created_at),
            disabled_at: row.disabled_at.map(from_db_time),
            mfa: ReviewerMfa {
                secret: row.mfa_secret,
                pending_secret: row.mfa_pending_secret,
                enrolled_at: row.mfa_enrolled_at.map(from_db_time),
                last_step: row.mfa_last_step,
            },
        })
    }
}

impl From<&ReviewerAccount> for ReviewerRow {
    fn from(account: &ReviewerAccount) -> Self {
        Self {
            id: account.id.clone(),
            login_id: account.login_id.clone(),
            name: account.name.clone(),
            role: account.role.as_str().to_owned(),
            prefecture_code: account.prefecture.as_str().to_owned(),
            password_hash: account.password_hash.clone(),
            created_at: to_db_time(account.created_at),
            disabled_at: account.disabled_at.map(to_db_time),
            mfa_secret: account.mfa.secret.clone(),
            mfa_pending_secret: account.mfa.pending_secret.clone(),
            mfa_enrolled_at: account.mfa.enrolled_at.map(to_db_time),
            mfa_last_step: account.mfa.last_step,
        }
    }
}

impl PasswordAccount for ReviewerAccount {
    type Matched = ();

    // A disabled account is not found: its login is answered (and counted) like an unknown
    // ID's, so that its password opens nothing and tells nothing.
    fn find(conn: &mut DbConnection, login_id: &str) -> Result<Option<Self>, DomainError> {
        Ok(db::reviewers::find_by_login(conn, login_id)?
            .map(Self::try_from)
            .transpose()?
            .filter(|account| account.disabled_at.is_none()))
    }

    fn find_for_update(
        conn: &mut DbConnection,
        login_id: &str,
    ) -> Result<Option<Self>, DomainError> {
        Ok(db::reviewers::find_by_login_for_update(conn, login_id)?
            .map(Self::try_from)
            .transpose()?
            .filter(|account| account.disabled_at.is_none()))
    }

    fn password_hashes(&self, _now: OffsetDateTime) -> Vec<((), String)> {
        vec![((), self.password_hash.clone())]
    }

    const KIND: &'static str = "reviewer";
    const SUSPENDED_REMEDY: &'static str = "運用担当者にパスワードの再設定を依頼してください。";
    const LOGIN_FAILED: AuditAction = AuditAction::ReviewerLoginFailed;
    const LOCKED: AuditAction = AuditAction::ReviewerLocked;

    fn failure_detail(failure: &Failure) -> String {
        format!("{} in a row", failure.in_a_row)
    }

    fn audit_event(&self, action: AuditAction, detail: String, at: OffsetDateTime) -> AuditEvent {
        AuditEvent {
            occurred_at: at,
            actor: format!("reviewer:{}", self.id),
            action,
            application_id: None,
            office_number: None,
            prefecture_code: Some(self.prefecture.as_str().to_owned()),
            detail,
        }
    }
}

/// A new or changed reviewer account.
#[derive(Debug, Clone)]
pub struct NewReviewer {
    /// ログインID.
    pub login_id: String,
    /// 氏名.
    pub name: String,
    /// Role.
    pub role: ReviewerRole,
    /// Prefecture.
    pub prefecture: PrefectureCode,
    /// The password (hashed before storing).
    pub password: String,
}

/// Creates or updates a reviewer account (CLI and demo data), audited.
pub fn save_reviewer(
    conn: &mut DbConnection,
    hasher: &Hasher,
    reviewer: &NewReviewer,
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    check_reviewer_password(&reviewer.password)?;
    let account = ReviewerAccount {
        id: uuid::Uuid::new_v4().to_string(),
        login_id: reviewer.login_id.trim().to_owned(),
        name: reviewer.name.clone(),
        role: reviewer.role,
        prefecture: reviewer.prefecture,
        password_hash: hash_password(&reviewer.password)?,
        created_at: now,
        disabled_at: None,
        mfa: ReviewerMfa::default(),
    };
    let before = db::reviewers::upsert(conn, &ReviewerRow::from(&account))?;
    // A changed account (its role, prefecture, name or password) ends its sessions at once:
    // their tokens carry the old role and prefecture.
    if let Some(before) = before {
        sessions::end_all(
            conn,
            Holder::Reviewer,
            &before.id,
            SessionEnd::ReviewerChanged,
            now,
        )?;
    }
    // A new password lets the ID in again, however often it failed.
    forget_failures::<ReviewerAccount>(conn, hasher, &account.login_id)?;
    AuditEvent {
        occurred_at: now,
        actor: "operator".into(),
        action: AuditAction::ReviewerSaved,
        application_id: None,
        office_number: None,
        prefecture_code: Some(account.prefecture.as_str().to_owned()),
        detail: format!("{} ({})", account.login_id, account.role.as_str()),
    }
    .record(conn)?;
    Ok(())
}

/// `POST /admin/sessions`: checks the password, counts failures, locks after too many
/// (`REISSUE_REVIEWER_*`), and answers alike for an unknown login ID and a wrong password.
/// Then the second factor: a reviewer not enrolled yet gets a session that only enrols; an
/// enrolled one needs the app's code or a recovery code (a wrong one counts as a failed login).
pub async fn login(
    ctx: &Context,
    input: ReviewerLoginInput,
    client: Caller,
) -> Result<AdminSession, DomainError> {
    let attempt = LoginAttempt {
        login_id: input.login_id,
        password: input.password,
        policy: LockoutPolicy {
            max_failed: ctx.limits.reviewer_max_failed_logins,
            lock: ctx.limits.reviewer_lock,
        },
        id_label: "ログインID",
        client,
    };
    let second_factor = input.second_factor;
    login_with_lockout(ctx, attempt, move |conn, ctx, account, (), now| {
        open_session(conn, ctx, account, second_factor.as_ref(), now)
    })
    .await
}

/// After the right password: the second factor decides, and a session opens, audited.
fn open_session(
    conn: &mut DbConnection,
    ctx: &Context,
    mut account: ReviewerAccount,
    second_factor: Option<&SecondFactor>,
    now: OffsetDateTime,
) -> Result<LoginStep<AdminSession>, DomainError> {
    if account.mfa.enrolled_at.is_none() {
        account
            .audit_event(
                AuditAction::ReviewerLoggedIn,
                "not enrolled: enrolment only".into(),
                now,
            )
            .record(conn)?;
        let session = start_session(conn, ctx, &account, SessionScope::MfaEnrolment, now)?;
        return Ok(LoginStep::Granted(mfa::enrolment_required(session)));
    }
    let holder = mfa::Holder {
        reviewer_id: &account.id,
        login_id: &account.login_id,
    };
    let mut state = account.mfa.clone();
    let checked = mfa::check_second_factor(conn, ctx, holder, &mut state, second_factor, now)?;
    account.mfa = state;
    match checked {
        SecondFactorCheck::Missing => Ok(LoginStep::SecondFactorMissing(DomainError::MfaRequired)),
        SecondFactorCheck::Wrong => Ok(LoginStep::SecondFactorWrong(DomainError::MfaInvalid)),
        SecondFactorCheck::Passed(how) => {
            store_mfa(conn, &account)?;
            account
                .audit_event(AuditAction::ReviewerLoggedIn, format!("with {how}"), now)
                .record(conn)?;
            Ok(LoginStep::Granted(start_session(
                conn,
                ctx,
                &account,
                SessionScope::Console,
                now,
            )?))
        }
    }
}

/// Opens a session of `account` with `scope` and signs its token.
pub fn start_session(
    conn: &mut DbConnection,
    ctx: &Context,
    account: &ReviewerAccount,
    scope: SessionScope,
    now: OffsetDateTime,
) -> Result<AdminSession, DomainError> {
    let reviewer = account.reviewer();
    let session = sessions::open(
        conn,
        Holder::Reviewer,
        &reviewer.id,
        scope,
        now,
        ctx.limits.reviewer_session_ttl,
    )?;
    let access_token = ctx.sessions.issue_reviewer(&reviewer, &session, now)?;
    Ok(AdminSession {
        access_token: access_token.into(),
        expires_at: session.expires_at,
        reviewer: ReviewerView {
            name: reviewer.name,
            role: reviewer.role,
            prefecture_code: reviewer.prefecture.as_str().to_owned(),
        },
        mfa_enrolment_required: false,
    })
}

/// The account with this id, locked until the transaction ends.
pub fn find_for_update(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<ReviewerAccount>, DomainError> {
    Ok(db::reviewers::find_for_update(conn, id)?
        .map(ReviewerAccount::try_from)
        .transpose()?)
}

/// The account with this login ID, disabled or not (for the operator's commands).
pub fn find_by_login_any(
    conn: &mut DbConnection,
    login_id: &str,
) -> Result<Option<ReviewerAccount>, DomainError> {
    Ok(db::reviewers::find_by_login(conn, login_id)?
        .map(ReviewerAccount::try_from)
        .transpose()?)
}

/// Writes the account's second factor.
pub fn store_mfa(conn: &mut DbConnection, account: &ReviewerAccount) -> Result<(), StorageError> {
    db::reviewers::set_mfa(
        conn,
        &account.id,
        &db::reviewers::MfaColumns {
            secret: account.mfa.secret.clone(),
            pending_secret: account.mfa.pending_secret.clone(),
            enrolled_at: account.mfa.enrolled_at.map(to_db_time),
            last_step: account.mfa.last_step,
        },
    )
}

/// `reissue reviewer disable LOGIN_ID`: the account can no longer log in, and its sessions end
/// at once. Audited. Whether there was such an account.
pub fn disable_reviewer(
    conn: &mut DbConnection,
    login_id: &str,
    now: OffsetDateTime,
) -> Result<bool, DomainError> {
    let Some(row) = db::reviewers::disable(conn, login_id.trim(), to_db_time(now))? else {
        return Ok(false);
    };
    let account = ReviewerAccount::try_from(row)?;
    let ended = sessions::end_all(
        conn,
        Holder::Reviewer,
        &account.id,
        SessionEnd::ReviewerDisabled,
        now,
    )?;
    AuditEvent {
        occurred_at: now,
        actor: "operator".into(),
        action: AuditAction::ReviewerDisabled,
        application_id: None,
        office_number: None,
        prefecture_code: Some(account.prefecture.as_str().to_owned()),
        detail: format!("{}; {ended} session(s) ended", account.login_id),
    }
    .record(conn)?;
    Ok(true)
}

/// `DELETE /admin/sessions/current`: ends the reviewer's session; its token answers 401
/// afterwards. Audited.
pub async fn logout(
    ctx: &Context,
    reviewer: Reviewer,
    session: SessionId,
) -> Result<(), DomainError> {
    ctx.transaction(move |tx| {
        if sessions::end(tx.conn, &session, SessionEnd::Logout, tx.now)? {
            AuditEvent {
                occurred_at: tx.now,
                actor: reviewer.actor(),
                action: AuditAction::ReviewerLoggedOut,
                application_id: None,
                office_number: None,
                prefecture_code: Some(reviewer.prefecture.as_str().to_owned()),
                detail: String::new(),
            }
            .record(tx.conn)?;
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(role: &str) -> ReviewerRow {
        ReviewerRow {
            id: "r1".into(),
            login_id: "demo-tottori".into(),
            name: "審査 太郎".into(),
            role: role.into(),
            prefecture_code: "31".into(),
            password_hash: "$argon2id$...".into(),
            created_at: to_db_time(OffsetDateTime::UNIX_EPOCH),
            disabled_at: None,
            mfa_secret: None,
            mfa_pending_secret: None,
            mfa_enrolled_at: None,
            mfa_last_step: None,
        }
    }

    #[test]
    fn a_row_reads_back_as_the_account_it_was_written_from() {
        let account = ReviewerAccount::try_from(row("supervisor")).ok();
        assert_eq!(
            account.as_ref().map(|a| (a.role, a.prefecture)),
            Some((ReviewerRole::Supervisor, PrefectureCode::TOTTORI))
        );
        let again = account
            .as_ref()
            .map(ReviewerRow::from)
            .and_then(|row| ReviewerAccount::try_from(row).ok());
        assert_eq!(again, account);
    }

    #[test]
    fn a_corrupt_role_is_an_error_not_a_reviewer() {
        let error = ReviewerAccount::try_from(row("admin")).err();
        assert!(matches!(error, Some(StorageError::Corrupt(what)) if what.contains("role")));
    }
}
