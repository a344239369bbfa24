//! Office accounts (DESIGN.md "After submission"): the temporary password issued on approval,
//! the login with the real system's lock-out (3 wrong passwords lock the user ID for 30
//! minutes), and the manual's rule that the current password keeps working until the first
//! login with the temporary password, which retires it and forces a new one.

use std::time::Duration;

use time::OffsetDateTime;

use reissue_shared::account::{ChangePasswordRequest, OfficeLoginRequest, OfficeSession};
use reissue_shared::password::check_new_password;
use reissue_shared::{FieldError, FieldErrorCode};

use super::application::ReissueApplication;
use super::audit::{AuditAction, AuditEvent};
use super::ledger::LedgerEntry;
use super::reviewers::{hash_password, password_matches, verify_password, OfficeIdentity};
use super::secrets::{generate_temporary_password, generate_user_id, Sealer};
use super::{Context, DomainError};
use crate::db::accounts::{self, Notice, OfficeAccount};
use crate::db::{self, DbConnection, StorageError};

/// Wrong passwords in a row that lock a user ID.
pub const MAX_FAILED_LOGINS: u32 = 3;
/// How long a locked user ID stays locked.
pub const LOCK: Duration = Duration::from_secs(30 * 60);
/// A temporary password works this long after approval (time for the post).
pub const TEMPORARY_PASSWORD_LIFETIME: Duration = Duration::from_secs(21 * 24 * 60 * 60);
/// Lifetime of an office session token.
pub const SESSION: Duration = Duration::from_secs(30 * 60);

/// The sealer of temporary passwords waiting to be printed.
pub fn notice_sealer(ctx: &Context) -> Sealer {
    Sealer::new(&ctx.hasher, "notice-password")
}

/// On approval: the office's account (created with a new user ID when it has none), a fresh
/// temporary password (only its hash kept on the account; the plaintext sealed on the notice
/// until posted), and the notice. Earlier unposted notices are voided.
pub fn issue_temporary_password(
    conn: &mut DbConnection,
    ctx: &Context,
    application: &ReissueApplication,
    now: OffsetDateTime,
) -> Result<(OfficeAccount, Notice), DomainError> {
    let prefecture = application.prefecture.ok_or(DomainError::NotFound)?;
    let mut account = match accounts::find_by_office(
        conn,
        prefecture.as_str(),
        application.office_number.as_str(),
    )? {
        Some(account) => account,
        None => {
            let account = OfficeAccount {
                id: uuid::Uuid::new_v4().to_string(),
                user_id: unused_user_id(conn)?,
                office_number: application.office_number.to_string(),
                prefecture_code: prefecture.as_str().to_owned(),
                password_hash: None,
                temp_password_hash: None,
                temp_password_expires_at: None,
                must_change_password: false,
                failed_logins: 0,
                locked_until: None,
                security_email: None,
                created_at: now,
                updated_at: now,
            };
            accounts::insert(conn, &account)?;
            account
        }
    };
    if let Some(mut previous) = accounts::current_notice(conn, &application.id.to_string())? {
        previous.voided_at = Some(now);
        previous.sealed_password = None;
        accounts::update_notice(conn, &previous)?;
    }
    let password = generate_temporary_password();
    account.temp_password_hash = Some(hash_password(&password)?);
    account.temp_password_expires_at = Some(now + TEMPORARY_PASSWORD_LIFETIME);
    account.updated_at = now;
    accounts::update(conn, &account)?;
    let notice = Notice {
        id: uuid::Uuid::now_v7().to_string(),
        application_id: application.id.to_string(),
        account_id: account.id.clone(),
        sealed_password: notice_sealer(ctx).seal(&password),
        issued_at: now,
        mailed_at: None,
        voided_at: None,
    };
    accounts::insert_notice(conn, &notice)?;
    Ok((account, notice))
}

fn unused_user_id(conn: &mut DbConnection) -> Result<String, DomainError> {
    for _ in 0..10 {
        let candidate = generate_user_id();
        if accounts::find_by_user_id(conn, &candidate)?.is_none() {
            return Ok(candidate);
        }
    }
    Err(DomainError::Storage(StorageError::Task(
        "no free user ID".into(),
    )))
}

/// `POST /auth/login`.
pub async fn login(
    ctx: &Context,
    request: OfficeLoginRequest,
) -> Result<OfficeSession, DomainError> {
    let mut missing = Vec::new();
    if request.user_id.trim().is_empty() {
        missing.push(FieldError::new(
            "user_id",
            FieldErrorCode::Required,
            "ユーザIDを入力してください。",
        ));
    }
    if request.password.is_empty() {
        missing.push(FieldError::new(
            "password",
            FieldErrorCode::Required,
            "パスワードを入力してください。",
        ));
    }
    if !missing.is_empty() {
        return Err(DomainError::Validation(missing));
    }
    let user_id = request.user_id.trim().to_uppercase();
    // The argon2 checks run outside any transaction (see `reviewers::login`); the transaction
    // applies the outcome unless the account's passwords changed meanwhile.
    for _ in 0..3 {
        let id = user_id.clone();
        let snapshot = ctx
            .db
            .run(move |conn| accounts::find_by_user_id(conn, &id))
            .await?;
        let now = ctx.clock.now();
        if let Some(until) = snapshot
            .as_ref()
            .and_then(|account| account.locked_until)
            .filter(|until| *until > now)
        {
            return Err(DomainError::AccountLocked { until });
        }
        let temporary = snapshot.as_ref().and_then(|account| {
            account
                .temp_password_hash
                .clone()
                .filter(|_| account.temp_password_expires_at.is_some_and(|e| e > now))
        });
        let current = snapshot.as_ref().and_then(|a| a.password_hash.clone());
        let with_temporary = temporary.is_some()
            && password_matches(temporary.clone(), request.password.clone()).await?;
        let with_current =
            !with_temporary && password_matches(current.clone(), request.password.clone()).await?;
        let Some(snapshot) = snapshot else {
            return Err(DomainError::InvalidCredentials {
                id_label: "ユーザID",
            });
        };
        let ctx2 = ctx.clone();
        let outcome = ctx
            .db
            .transaction(move |conn| {
                let Some(account) = accounts::find(conn, &snapshot.id)? else {
                    return Ok(None);
                };
                if account.password_hash != snapshot.password_hash
                    || account.temp_password_hash != snapshot.temp_password_hash
                {
                    return Ok(None);
                }
                record_login_outcome(conn, &ctx2, account, with_temporary, with_current).map(Some)
            })
            .await?;
        if let Some(outcome) = outcome {
            return outcome;
        }
    }
    Err(DomainError::InvalidCredentials {
        id_label: "ユーザID",
    })
}

/// Counts a failure (locking after too many) or opens a session; the first login with the
/// temporary password retires the old one. Audited either way.
fn record_login_outcome(
    conn: &mut DbConnection,
    ctx: &Context,
    mut account: OfficeAccount,
    with_temporary: bool,
    with_current: bool,
) -> Result<Result<OfficeSession, DomainError>, DomainError> {
    let now = ctx.clock.now();
    if let Some(until) = account.locked_until.filter(|until| *until > now) {
        return Ok(Err(DomainError::AccountLocked { until }));
    }
    if !with_temporary && !with_current {
        account.failed_logins += 1;
        let locked = account.failed_logins >= MAX_FAILED_LOGINS;
        if locked {
            account.failed_logins = 0;
            account.locked_until = Some(now + LOCK);
        }
        account.updated_at = now;
        accounts::update(conn, &account)?;
        audit(conn, &account, AuditAction::OfficeLoginFailed, "", now)?;
        if let Some(until) = account.locked_until.filter(|_| locked) {
            audit(
                conn,
                &account,
                AuditAction::OfficeLocked,
                format!("until {until}"),
                now,
            )?;
            return Ok(Err(DomainError::AccountLocked { until }));
        }
        return Ok(Err(DomainError::InvalidCredentials {
            id_label: "ユーザID",
        }));
    }
    if with_temporary {
        // The first login with the temporary password retires the old password: the
        // temporary one becomes current and must be replaced now.
        account.password_hash = account.temp_password_hash.take();
        account.temp_password_expires_at = None;
        account.must_change_password = true;
        audit(conn, &account, AuditAction::TemporaryPasswordUsed, "", now)?;
    }
    account.failed_logins = 0;
    account.locked_until = None;
    account.updated_at = now;
    accounts::update(conn, &account)?;
    audit(conn, &account, AuditAction::OfficeLoggedIn, "", now)?;
    let expires_at = now + SESSION;
    let identity = OfficeIdentity {
        account_id: account.id.clone(),
        user_id: account.user_id.clone(),
        password_change_only: account.must_change_password,
    };
    let access_token = ctx.sessions.issue_office(&identity, now, expires_at)?;
    Ok(Ok(OfficeSession {
        access_token,
        password_change_required: account.must_change_password,
        office_name: office_name(conn, &account)?,
        user_id: account.user_id,
        expires_at,
    }))
}

/// `POST /auth/password`: the current password, and a new one by the manual's rule.
pub async fn change_password(
    ctx: &Context,
    identity: OfficeIdentity,
    request: ChangePasswordRequest,
) -> Result<OfficeSession, DomainError> {
    let ctx2 = ctx.clone();
    let session = ctx
        .db
        .transaction(move |conn| {
            let now = ctx2.clock.now();
            let mut account =
                accounts::find(conn, &identity.account_id)?.ok_or(DomainError::SessionInvalid)?;
            let current_ok = account
                .password_hash
                .as_deref()
                .is_some_and(|hash| verify_password(hash, &request.current_password));
            if !current_ok {
                return Err(DomainError::Validation(vec![FieldError::new(
                    "current_password",
                    FieldErrorCode::UnknownValue,
                    "現在のパスワードが正しくありません。",
                )]));
            }
            let temporary = account
                .must_change_password
                .then_some(request.current_password.as_str());
            check_new_password(&request.new_password, &account.user_id, temporary)
                .map_err(|e| DomainError::Validation(vec![e]))?;
            if request.new_password == request.current_password {
                return Err(DomainError::Validation(vec![FieldError::new(
                    "new_password",
                    FieldErrorCode::InvalidFormat,
                    "現在のパスワードと異なるパスワードを設定してください。",
                )]));
            }
            account.password_hash = Some(hash_password(&request.new_password)?);
            account.must_change_password = false;
            account.updated_at = now;
            accounts::update(conn, &account)?;
            audit(conn, &account, AuditAction::PasswordChanged, "", now)?;
            notify_security_email(conn, &account, "パスワードが変更されました。", now)?;
            let expires_at = now + SESSION;
            let identity = OfficeIdentity {
                password_change_only: false,
                ..identity
            };
            Ok(OfficeSession {
                access_token: ctx2.sessions.issue_office(&identity, now, expires_at)?,
                password_change_required: false,
                office_name: office_name(conn, &account)?,
                user_id: account.user_id,
                expires_at,
            })
        })
        .await?;
    // A security-e-mail notice may be waiting in the outbox.
    ctx.mail_wakeup.notify_one();
    Ok(session)
}

/// Mails the account's registered security e-mail, if any, that `what` happened.
pub fn notify_security_email(
    conn: &mut DbConnection,
    account: &OfficeAccount,
    what: &str,
    now: OffsetDateTime,
) -> Result<bool, StorageError> {
    let Some(address) = &account.security_email else {
        return Ok(false);
    };
    let content = super::templates::security_alert(&account.user_id, what);
    db::outbox::enqueue(
        conn,
        &db::outbox::NewMail {
            recipient: address.clone(),
            subject: content.subject,
            body: content.body,
            application_id: None,
        },
        now,
    )?;
    Ok(true)
}

/// The same for the account of an office, found by prefecture and office number.
pub fn notify_office(
    conn: &mut DbConnection,
    prefecture_code: &str,
    office_number: &str,
    what: &str,
    now: OffsetDateTime,
) -> Result<bool, StorageError> {
    match accounts::find_by_office(conn, prefecture_code, office_number)? {
        Some(account) => notify_security_email(conn, &account, what, now),
        None => Ok(false),
    }
}

/// The office's name in its prefecture's ledger.
fn office_name(
    conn: &mut DbConnection,
    account: &OfficeAccount,
) -> Result<Option<String>, DomainError> {
    let (Ok(prefecture), Ok(office)) = (
        reissue_shared::PrefectureCode::parse(&account.prefecture_code),
        reissue_shared::OfficeNumber::parse(&account.office_number),
    ) else {
        return Ok(None);
    };
    Ok(LedgerEntry::find(conn, prefecture, &office)?.map(|entry| entry.office_name))
}

/// Records an event of an office account in the audit log.
pub(crate) fn audit(
    conn: &mut DbConnection,
    account: &OfficeAccount,
    action: AuditAction,
    detail: impl Into<String>,
    now: OffsetDateTime,
) -> Result<(), StorageError> {
    AuditEvent {
        occurred_at: now,
        actor: format!("office:{}", account.user_id),
        action,
        application_id: None,
        office_number: Some(account.office_number.clone()),
        prefecture_code: Some(account.prefecture_code.clone()),
        detail: detail.into(),
    }
    .record(conn)
}

/// Creates (or resets) an office account with a known password hash: the demo offices of
/// `serve --demo` (which share one hash of the demo password, so start-up stays quick).
pub fn save_account_with_password(
    conn: &mut DbConnection,
    prefecture_code: &str,
    office_number: &str,
    user_id: &str,
    password_hash: &str,
    now: OffsetDateTime,
) -> Result<OfficeAccount, DomainError> {
    let mut account = match accounts::find_by_office(conn, prefecture_code, office_number)? {
        Some(account) => account,
        None => {
            let account = OfficeAccount {
                id: uuid::Uuid::new_v4().to_string(),
                user_id: user_id.to_owned(),
                office_number: office_number.to_owned(),
                prefecture_code: prefecture_code.to_owned(),
                password_hash: None,
                temp_password_hash: None,
                temp_password_expires_at: None,
                must_change_password: false,
                failed_logins: 0,
                locked_until: None,
                security_email: None,
                created_at: now,
                updated_at: now,
            };
            accounts::insert(conn, &account)?;
            account
        }
    };
    account.password_hash = Some(password_hash.to_owned());
    account.must_change_password = false;
    account.failed_logins = 0;
    account.locked_until = None;
    account.updated_at = now;
    accounts::update(conn, &account)?;
    Ok(account)
}

/// The demo user ID of an office: KJ and its office number.
pub fn demo_user_id(office_number: &str) -> String {
    format!("KJ{office_number}")
}
