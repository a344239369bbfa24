//! Office accounts (DESIGN.md "After submission"): the temporary password issued on approval
//! and its postal notice, the login with the real system's lock-out (by default 3 wrong
//! passwords lock the user ID for 30 minutes; `REISSUE_OFFICE_*`), and the manual's rule that
//! the current password keeps working until the first login with the temporary password, which
//! retires it and forces a new one.

use std::time::Duration;

use time::OffsetDateTime;

use reissue_shared::account::{ChangePasswordInput, OfficeLoginInput, OfficeSession};
use reissue_shared::{
    EmailAddress, FieldError, FieldErrorCode, OfficeNumber, PrefectureCode, SecretText,
};

use super::application::ReissueApplication;
use super::audit::{AuditAction, AuditEvent};
use super::caller::Caller;
use super::ledger::LedgerEntry;
use super::passwords::{
    self, check_new_office_password, hash_password, login_with_lockout, verify_password,
    LockoutPolicy, LoginAttempt, LoginStep, PasswordAccount,
};
use super::secrets::{generate_temporary_password, generate_user_id, Sealer};
use super::sessions::{self, Holder, OfficeIdentity, SessionEnd, SessionId, SessionScope};
use super::{Context, DomainError, Tx};
use crate::db::models::{from_db_time, to_db_time, NoticeRow, OfficeAccountRow};
use crate::db::{self, DbConnection, StorageError};

/// A temporary password works this long after approval (time for the post).
pub const TEMPORARY_PASSWORD_LIFETIME: Duration = Duration::from_secs(21 * 24 * 60 * 60);
/// How the office screens name the ID.
const ID_LABEL: &str = "ユーザID";

/// An office's login account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeAccount {
    /// Id.
    pub id: String,
    /// ユーザID (KJ and 8 digits).
    pub user_id: String,
    /// 事業所番号.
    pub office_number: OfficeNumber,
    /// The prefecture whose ledger lists the office.
    pub prefecture: PrefectureCode,
    /// argon2id PHC string of the current password, once there is one.
    pub password_hash: Option<String>,
    /// argon2id PHC string of the temporary password of the latest notice, until first used.
    pub temp_password_hash: Option<String>,
    /// When that temporary password stops working.
    pub temp_password_expires_at: Option<OffsetDateTime>,
    /// Logged in with the temporary password: a new password must be set.
    pub must_change_password: bool,
    /// The registered セキュリティ用メールアドレス.
    pub security_email: Option<EmailAddress>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last changed.
    pub updated_at: OffsetDateTime,
}

impl OfficeAccount {
    fn new(
        user_id: String,
        office_number: OfficeNumber,
        prefecture: PrefectureCode,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            user_id,
            office_number,
            prefecture,
            password_hash: None,
            temp_password_hash: None,
            temp_password_expires_at: None,
            must_change_password: false,
            security_email: None,
            created_at: now,
            updated_at: now,
        }
    }
}

impl TryFrom<OfficeAccountRow> for OfficeAccount {
    type Error = StorageError;

    fn try_from(row: OfficeAccountRow) -> Result<Self, StorageError> {
        let corrupt =
            |what: &str| StorageError::Corrupt(format!("office account {}: {what}", row.id));
        let office_number =
            OfficeNumber::parse(&row.office_number).map_err(|_| corrupt("office_number"))?;
        let prefecture =
            PrefectureCode::parse(&row.prefecture_code).map_err(|_| corrupt("prefecture_code"))?;
        let security_email = row
            .security_email
            .as_deref()
            .map(parse_security_email)
            .transpose()
            .map_err(|_| corrupt("security_email"))?;
        Ok(Self {
            id: row.id,
            user_id: row.user_id,
            office_number,
            prefecture,
            password_hash: row.password_hash,
            temp_password_hash: row.temp_password_hash,
            temp_password_expires_at: row.temp_password_expires_at.map(from_db_time),
            must_change_password: row.must_change_password,
            security_email,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
        })
    }
}

impl From<&OfficeAccount> for OfficeAccountRow {
    fn from(account: &OfficeAccount) -> Self {
        Self {
            id: account.id.clone(),
            user_id: account.user_id.clone(),
            office_number: account.office_number.as_str().to_owned(),
            prefecture_code: account.prefecture.as_str().to_owned(),
            password_hash: account.password_hash.clone(),
            temp_password_hash: account.temp_password_hash.clone(),
            temp_password_expires_at: account.temp_password_expires_at.map(to_db_time),
            must_change_password: account.must_change_password,
            // A lock resets the count long before it could leave i32.
            security_email: account.security_email.as_ref().map(ToString::to_string),
            created_at: to_db_time(account.created_at),
            updated_at: to_db_time(account.updated_at),
        }
    }
}

/// A stored security e-mail, parsed by the rule it was entered under.
pub(crate) fn parse_security_email(stored: &str) -> Result<EmailAddress, FieldError> {
    EmailAddress::parse(stored, "security_email", "セキュリティ用メールアドレス")
}

/// The postal notice (電子請求ログイン情報再発行通知書) of an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Id.
    pub id: String,
    /// The approved application.
    pub application_id: String,
    /// The office account it gives the temporary password of.
    pub account_id: String,
    /// The temporary password, sealed, until the notice is posted.
    pub sealed_password: Option<String>,
    /// Issued.
    pub issued_at: OffsetDateTime,
    /// Marked 郵送済.
    pub mailed_at: Option<OffsetDateTime>,
    /// Replaced by a newer notice.
    pub voided_at: Option<OffsetDateTime>,
    /// How it was posted, once marked 郵送済 (the 発送簿's line).
    pub posting: Option<Posting>,
}

/// A notice's line in the dispatch register (発送簿): when it left, by which registered post,
/// who marked it, and the address it went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// 発送日 (Japan's date).
    pub mailed_on: time::Date,
    /// 追跡番号 of the registered post, if recorded.
    pub tracking_number: Option<reissue_shared::federation::TrackingNumber>,
    /// The reviewer who marked it (`reviewers.id`).
    pub mailed_by: String,
    /// The ledger's postal code, address and office name of that day, one line.
    pub mailed_to: String,
}

impl TryFrom<NoticeRow> for Notice {
    type Error = StorageError;

    fn try_from(row: NoticeRow) -> Result<Self, StorageError> {
        Ok(Self {
            application_id: row.application_id,
            account_id: row.account_id,
            sealed_password: row.sealed_password,
            issued_at: from_db_time(row.issued_at),
            mailed_at: row.mailed_at.map(from_db_time),
            voided_at: row.voided_at.map(from_db_time),
            posting: match (row.mailed_on, row.mailed_by, row.mailed_to) {
                (Some(day), Some(mailed_by), Some(mailed_to)) => Some(Posting {
                    mailed_on: reissue_shared::federation::parse_date(&day).ok_or_else(|| {
                        StorageError::Corrupt(format!("notice {}: mailed_on {day:?}", row.id))
                    })?,
                    tracking_number: row
                        .tracking_number
                        .map(|n| reissue_shared::federation::TrackingNumber::parse(&n))
                        .transpose()
                        .map_err(|_| {
                            StorageError::Corrupt(format!("notice {}: tracking_number", row.id))
                        })?,
                    mailed_by,
                    mailed_to,
                }),
                // Posted before the register existed: no line of its own.
                _ => None,
            },
            id: row.id,
        })
    }
}

impl From<&Notice> for NoticeRow {
    fn from(notice: &Notice) -> Self {
        Self {
            id: notice.id.clone(),
            application_id: notice.application_id.clone(),
            account_id: notice.account_id.clone(),
            sealed_password: notice.sealed_password.clone(),
            issued_at: to_db_time(notice.issued_at),
            mailed_at: notice.mailed_at.map(to_db_time),
            voided_at: notice.voided_at.map(to_db_time),
            mailed_on: notice.posting.as_ref().map(|p| p.mailed_on.to_string()),
            tracking_number: notice
                .posting
                .as_ref()
                .and_then(|p| p.tracking_number.as_ref())
                .map(|n| n.as_str().to_owned()),
            mailed_by: notice.posting.as_ref().map(|p| p.mailed_by.clone()),
            mailed_to: notice.posting.as_ref().map(|p| p.mailed_to.clone()),
        }
    }
}

/// The account with this id.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<OfficeAccount>, StorageError> {
    db::accounts::find(conn, id)?
        .map(OfficeAccount::try_from)
        .transpose()
}

/// The account with this id, locked until the transaction ends (for a transaction that
/// writes it back).
pub fn find_for_update(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<OfficeAccount>, StorageError> {
    db::accounts::find_for_update(conn, id)?
        .map(OfficeAccount::try_from)
        .transpose()
}

/// The account with this user ID.
pub fn find_by_user_id(
    conn: &mut DbConnection,
    user_id: &str,
) -> Result<Option<OfficeAccount>, StorageError> {
    db::accounts::find_by_user_id(conn, user_id)?
        .map(OfficeAccount::try_from)
        .transpose()
}

/// The account of an office in a prefecture.
fn find_by_office(
    conn: &mut DbConnection,
    prefecture_code: &str,
    office_number: &str,
) -> Result<Option<OfficeAccount>, StorageError> {
    db::accounts::find_by_office(conn, prefecture_code, office_number)?
        .map(OfficeAccount::try_from)
        .transpose()
}

/// Writes every field of an existing account.
pub fn store(conn: &mut DbConnection, account: &OfficeAccount) -> Result<(), StorageError> {
    db::accounts::update(conn, &OfficeAccountRow::from(account))
}

/// The newest notice of an application that is not voided.
pub fn current_notice(
    conn: &mut DbConnection,
    application_id: &str,
) -> Result<Option<Notice>, StorageError> {
    db::accounts::current_notice(conn, application_id)?
        .map(Notice::try_from)
        .transpose()
}

/// Writes every field of an existing notice.
pub fn update_notice(conn: &mut DbConnection, notice: &Notice) -> Result<(), StorageError> {
    db::accounts::update_notice(conn, &NoticeRow::from(notice))
}

/// Forgets the sealed copies of temporary passwords that have expired (the lifetime after their
/// notice was issued): nobody can log in with them any more, and a copy that is kept can only
/// leak. Printing such a notice issues a new temporary password, as after posting. Returns the
/// notices whose copy was forgotten (at most `limit`, oldest first).
pub fn purge_expired_sealed_passwords(
    conn: &mut DbConnection,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Notice>, StorageError> {
    let expired = db::accounts::sealed_issued_before(
        conn,
        to_db_time(now - TEMPORARY_PASSWORD_LIFETIME),
        limit,
    )?;
    let mut purged = Vec::with_capacity(expired.len());
    for row in expired {
        let mut notice = Notice::try_from(row)?;
        notice.sealed_password = None;
        update_notice(conn, &notice)?;
        purged.push(notice);
    }
    Ok(purged)
}

/// The sealer of temporary passwords waiting to be printed.
pub fn notice_sealer(ctx: &Context) -> Sealer {
    Sealer::new(&ctx.hasher, "notice-password")
}

/// A new temporary password and its argon2id hash.
pub struct FreshTemporaryPassword {
    plaintext: String,
    hash: String,
}

impl FreshTemporaryPassword {
    /// Generated here, hashed on the argon2 threads: before the transaction that issues it,
    /// which then does not hold the database (on SQLite, the writer) through argon2.
    pub async fn prepare(ctx: &Context) -> Result<Self, DomainError> {
        ctx.passwords.run(Self::generate).await?
    }

    /// The one prepared before the transaction, or, when a retried transaction already used
    /// it, one generated and hashed on the calling thread.
    pub fn prepared_or_generated(prepared: Option<Self>) -> Result<Self, DomainError> {
        prepared.map_or_else(Self::generate, Ok)
    }

    /// Generated and hashed on the calling thread (a reprint after posting, found inside its
    /// transaction).
    pub fn generate() -> Result<Self, DomainError> {
        let plaintext = generate_temporary_password();
        let hash = hash_password(&plaintext)?;
        Ok(Self { plaintext, hash })
    }
}

/// On approval: the office's account (created with a new user ID when it has none), a fresh
/// temporary password (only its hash kept on the account; the plaintext sealed on the notice
/// until posted), and the notice. Earlier unposted notices are voided.
pub fn issue_temporary_password(
    conn: &mut DbConnection,
    ctx: &Context,
    application: &ReissueApplication,
    fresh: FreshTemporaryPassword,
    now: OffsetDateTime,
) -> Result<(OfficeAccount, Notice), DomainError> {
    let prefecture = application.prefecture.ok_or(DomainError::NotFound)?;
    let found = find_by_office(
        conn,
        prefecture.as_str(),
        application.office_number.as_str(),
    )?;
    let mut account = match found {
        Some(account) => account,
        None => {
            let account = OfficeAccount::new(
                unused_user_id(conn)?,
                application.office_number.clone(),
                prefecture,
                now,
            );
            db::accounts::insert(conn, &OfficeAccountRow::from(&account))?;
            account
        }
    };
    if let Some(mut previous) = current_notice(conn, &application.id.to_string())? {
        previous.voided_at = Some(now);
        previous.sealed_password = None;
        update_notice(conn, &previous)?;
    }
    let FreshTemporaryPassword {
        plaintext: password,
        hash,
    } = fresh;
    account.temp_password_hash = Some(hash);
    // The new login information lets the ID in again, however often it failed.
    passwords::forget_failures::<OfficeAccount>(conn, &ctx.hasher, &account.user_id)?;
    account.temp_password_expires_at = Some(now + TEMPORARY_PASSWORD_LIFETIME);
    account.updated_at = now;
    store(conn, &account)?;
    let notice_id = uuid::Uuid::now_v7().to_string();
    let sealed = notice_sealer(ctx).seal(&password, &[&notice_id, &account.id])?;
    let notice = Notice {
        id: notice_id,
        application_id: application.id.to_string(),
        account_id: account.id.clone(),
        sealed_password: Some(sealed),
        issued_at: now,
        mailed_at: None,
        voided_at: None,
        posting: None,
    };
    db::accounts::insert_notice(conn, &NoticeRow::from(&notice))?;
    Ok((account, notice))
}

fn unused_user_id(conn: &mut DbConnection) -> Result<String, DomainError> {
    for _ in 0..10 {
        let candidate = generate_user_id();
        if db::accounts::find_by_user_id(conn, &candidate)?.is_none() {
            return Ok(candidate);
        }
    }
    Err(DomainError::Internal("no free user ID".into()))
}

/// Which of an office's passwords a login matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficePassword {
    /// The temporary password from the notice.
    Temporary,
    /// The current password.
    Current,
}

impl PasswordAccount for OfficeAccount {
    type Matched = OfficePassword;

    fn find(conn: &mut DbConnection, login_id: &str) -> Result<Option<Self>, DomainError> {
        Ok(find_by_user_id(conn, login_id)?)
    }

    fn find_for_update(
        conn: &mut DbConnection,
        login_id: &str,
    ) -> Result<Option<Self>, DomainError> {
        Ok(db::accounts::find_by_user_id_for_update(conn, login_id)?
            .map(OfficeAccount::try_from)
            .transpose()?)
    }

    /// The unexpired temporary password first, then the current one.
    fn password_hashes(&self, now: OffsetDateTime) -> Vec<(OfficePassword, String)> {
        let temporary = self
            .temp_password_hash
            .clone()
            .filter(|_| self.temp_password_expires_at.is_some_and(|end| end > now))
            .map(|hash| (OfficePassword::Temporary, hash));
        let current = self
            .password_hash
            .clone()
            .map(|hash| (OfficePassword::Current, hash));
        temporary.into_iter().chain(current).collect()
    }

    const KIND: &'static str = "office";
    const SUSPENDED_REMEDY: &'static str = "セキュリティ用メールアドレスでパスワードを再設定するか、ログイン情報の再発行を申請してください。";
    const LOGIN_FAILED: AuditAction = AuditAction::OfficeLoginFailed;
    const LOCKED: AuditAction = AuditAction::OfficeLocked;

    fn audit_event(&self, action: AuditAction, detail: String, at: OffsetDateTime) -> AuditEvent {
        AuditEvent {
            occurred_at: at,
            actor: format!("office:{}", self.user_id),
            action,
            application_id: None,
            office_number: Some(self.office_number.as_str().to_owned()),
            prefecture_code: Some(self.prefecture.as_str().to_owned()),
            detail,
        }
    }
}

/// When failed logins (and wrong current passwords) lock an office's user ID.
fn lockout_policy(ctx: &Context) -> LockoutPolicy {
    LockoutPolicy {
        max_failed: ctx.limits.office_max_failed_logins,
        lock: ctx.limits.office_lock,
    }
}

/// `POST /auth/login`.
pub async fn login(
    ctx: &Context,
    input: OfficeLoginInput,
    client: Caller,
) -> Result<OfficeSession, DomainError> {
    let attempt = LoginAttempt {
        login_id: input.user_id.as_str().to_owned(),
        password: input.password,
        policy: lockout_policy(ctx),
        id_label: ID_LABEL,
        client,
    };
    login_with_lockout(ctx, attempt, |conn, ctx, account, matched, now| {
        open_session(conn, ctx, account, matched, now).map(LoginStep::Granted)
    })
    .await
}

/// Opens a session; the first login with the temporary password retires the old one, and
/// ends the sessions it opened. Audited.
fn open_session(
    conn: &mut DbConnection,
    ctx: &Context,
    mut account: OfficeAccount,
    matched: OfficePassword,
    now: OffsetDateTime,
) -> Result<OfficeSession, DomainError> {
    if matched == OfficePassword::Temporary {
        // The first login with the temporary password retires the old password: the
        // temporary one becomes current and must be replaced now.
        account.password_hash = account.temp_password_hash.take();
        account.temp_password_expires_at = None;
        account.must_change_password = true;
        let ended = sessions::end_all(
            conn,
            Holder::Office,
            &account.id,
            SessionEnd::TemporaryPasswordUsed,
            now,
        )?;
        audit(
            conn,
            &account,
            AuditAction::TemporaryPasswordUsed,
            sessions_ended(ended),
            now,
        )?;
    }
    account.updated_at = now;
    store(conn, &account)?;
    audit(conn, &account, AuditAction::OfficeLoggedIn, "", now)?;
    start_session(conn, ctx, account, now)
}

/// Opens a session of `account` (limited to the password change while it must change its
/// password) and signs its token: the answer of a login, a password change and a reset.
pub(crate) fn start_session(
    conn: &mut DbConnection,
    ctx: &Context,
    account: OfficeAccount,
    now: OffsetDateTime,
) -> Result<OfficeSession, DomainError> {
    let identity = OfficeIdentity {
        account_id: account.id.clone(),
        user_id: account.user_id.clone(),
        password_change_only: account.must_change_password,
    };
    let session = sessions::open(
        conn,
        Holder::Office,
        &account.id,
        SessionScope::of_office(&identity),
        now,
        ctx.limits.office_session_ttl,
    )?;
    let access_token = ctx.sessions.issue_office(&identity, &session, now)?;
    Ok(OfficeSession {
        access_token: access_token.into(),
        password_change_required: account.must_change_password,
        office_name: office_name(conn, &account)?,
        user_id: account.user_id,
        expires_at: session.expires_at,
    })
}

/// The audit detail of a new password that ended `n` sessions.
pub(crate) fn sessions_ended(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("{n} session(s) ended")
    }
}

/// `DELETE /auth/session`: ends the office's session; its token answers 401 afterwards.
pub async fn logout(
    ctx: &Context,
    identity: OfficeIdentity,
    session: SessionId,
) -> Result<(), DomainError> {
    ctx.transaction(move |tx| {
        if sessions::end(tx.conn, &session, SessionEnd::Logout, tx.now)? {
            let account =
                find(tx.conn, &identity.account_id)?.ok_or(DomainError::SessionInvalid)?;
            audit(tx.conn, &account, AuditAction::OfficeLoggedOut, "", tx.now)?;
        }
        Ok(())
    })
    .await
}

/// `POST /auth/password`: the current password, and a new one by the manual's rule.
///
/// Both argon2 steps (checking the current password, hashing the new one) run on the bounded
/// password threads before the transaction, so a password change never holds the database
/// (on SQLite, its one writer) while hashing. The transaction then applies the change only if
/// the account's password is still the one that was checked.
pub async fn change_password(
    ctx: &Context,
    identity: OfficeIdentity,
    input: ChangePasswordInput,
    client: Caller,
) -> Result<OfficeSession, DomainError> {
    let account_id = identity.account_id.clone();
    let checked = ctx
        .db
        .run(move |conn| find(conn, &account_id))
        .await?
        .ok_or(DomainError::SessionInvalid)?;
    // The new password's rule first: a request that breaks it is answered with its fields,
    // whatever the lock-out says.
    if input.current_password.expose().is_empty() {
        return Err(DomainError::Validation(vec![FieldError::new(
            "current_password",
            FieldErrorCode::Required,
            "現在のパスワードを入力してください。",
        )]));
    }
    let temporary = checked
        .must_change_password
        .then_some(input.current_password.expose());
    check_new_office_password(input.new_password.expose(), &checked.user_id, temporary)?;
    if input.new_password == input.current_password {
        return Err(DomainError::Validation(vec![FieldError::new(
            "new_password",
            FieldErrorCode::InvalidFormat,
            "現在のパスワードと異なるパスワードを設定してください。",
        )]));
    }
    check_current_password(ctx, &checked, &input.current_password, client).await?;
    let new_password = input.new_password.clone();
    let new_hash = ctx
        .passwords
        .run(move || hash_password(new_password.expose()))
        .await??;
    let session = ctx
        .transaction(move |tx| {
            let now = tx.now;
            let mut account =
                find(tx.conn, &identity.account_id)?.ok_or(DomainError::SessionInvalid)?;
            // Changed meanwhile (another session, a reset): what was checked no longer holds.
            if account.password_hash != checked.password_hash {
                return Err(wrong_current_password());
            }
            account.password_hash = Some(new_hash);
            account.must_change_password = false;
            account.updated_at = now;
            store(tx.conn, &account)?;
            // Every session of the account ends, this one too: the answer opens a new one.
            let ended = sessions::end_all(
                tx.conn,
                Holder::Office,
                &account.id,
                SessionEnd::PasswordChanged,
                now,
            )?;
            audit(
                tx.conn,
                &account,
                AuditAction::PasswordChanged,
                sessions_ended(ended),
                now,
            )?;
            notify_security_email(tx, &account, "パスワードが変更されました。")?;
            start_session(tx.conn, tx.ctx, account, now)
        })
        .await?;
    Ok(session)
}

/// Checks `current` against `account`'s password as a login would, under the same counts:
/// refused while the user ID is locked for this client (423), and a wrong one counted as a
/// failed login and answered 422 on `current_password` (423 if it locks). argon2 runs on the
/// password threads, outside any transaction.
pub(crate) async fn check_current_password(
    ctx: &Context,
    account: &OfficeAccount,
    current: &SecretText,
    client: Caller,
) -> Result<(), DomainError> {
    let attempt = LoginAttempt {
        login_id: account.user_id.clone(),
        password: current.clone(),
        policy: lockout_policy(ctx),
        id_label: ID_LABEL,
        client,
    };
    if let Some(refusal) = passwords::refusal::<OfficeAccount>(ctx, &attempt).await? {
        return Err(refusal);
    }
    let (hash, typed) = (account.password_hash.clone(), current.clone());
    let current_ok = ctx
        .passwords
        .run(move || {
            hash.as_deref()
                .is_some_and(|hash| verify_password(hash, typed.expose()))
        })
        .await?;
    if current_ok {
        return Ok(());
    }
    let account = account.clone();
    let answer = ctx
        .transaction(move |tx| {
            passwords::count_wrong_password(
                tx.conn,
                tx.ctx,
                &account,
                &attempt,
                tx.now,
                wrong_current_password(),
            )
        })
        .await?;
    Err(answer)
}

/// The answer to a wrong current password.
fn wrong_current_password() -> DomainError {
    DomainError::Validation(vec![FieldError::new(
        "current_password",
        FieldErrorCode::UnknownValue,
        "現在のパスワードが正しくありません。",
    )])
}

/// Mails the account's registered security e-mail, if any, that `what` happened.
pub fn notify_security_email(
    tx: &mut Tx<'_>,
    account: &OfficeAccount,
    what: &str,
) -> Result<bool, StorageError> {
    let Some(address) = &account.security_email else {
        return Ok(false);
    };
    let contact = super::federation::contact(tx.conn, Some(account.prefecture))?;
    let content = super::templates::security_alert(&account.user_id, what, &contact);
    tx.queue_mail(address.as_str(), content, None)?;
    Ok(true)
}

/// The same for the account of an office, found by prefecture and office number.
pub fn notify_office(
    tx: &mut Tx<'_>,
    prefecture_code: &str,
    office_number: &str,
    what: &str,
) -> Result<bool, StorageError> {
    match find_by_office(tx.conn, prefecture_code, office_number)? {
        Some(account) => notify_security_email(tx, &account, what),
        None => Ok(false),
    }
}

/// The office's name in its prefecture's ledger.
fn office_name(
    conn: &mut DbConnection,
    account: &OfficeAccount,
) -> Result<Option<String>, DomainError> {
    Ok(
        LedgerEntry::find(conn, account.prefecture, &account.office_number)?
            .map(|entry| entry.office_name),
    )
}

/// Records an event of an office account in the audit log.
pub(crate) fn audit(
    conn: &mut DbConnection,
    account: &OfficeAccount,
    action: AuditAction,
    detail: impl Into<String>,
    now: OffsetDateTime,
) -> Result<(), StorageError> {
    account.audit_event(action, detail.into(), now).record(conn)
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
    let prefecture =
        PrefectureCode::parse(prefecture_code).map_err(|e| DomainError::Validation(vec![e]))?;
    let office =
        OfficeNumber::parse(office_number).map_err(|e| DomainError::Validation(vec![e]))?;
    let mut account = match find_by_office(conn, prefecture.as_str(), office.as_str())? {
        Some(account) => account,
        None => {
            let account = OfficeAccount::new(user_id.to_owned(), office, prefecture, now);
            db::accounts::insert(conn, &OfficeAccountRow::from(&account))?;
            account
        }
    };
    account.password_hash = Some(password_hash.to_owned());
    account.must_change_password = false;
    account.updated_at = now;
    store(conn, &account)?;
    Ok(account)
}

/// The demo user ID of an office: KJ and its office number.
pub fn demo_user_id(office_number: &str) -> String {
    format!("KJ{office_number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> OfficeAccountRow {
        let at = to_db_time(OffsetDateTime::UNIX_EPOCH);
        OfficeAccountRow {
            id: "a1".into(),
            user_id: "KJ12345678".into(),
            office_number: "1311111111".into(),
            prefecture_code: "13".into(),
            password_hash: Some("$argon2id$current".into()),
            temp_password_hash: Some("$argon2id$temporary".into()),
            temp_password_expires_at: Some(at),
            must_change_password: false,
            security_email: Some("sec@example.jp".into()),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_row_reads_back_as_the_account_it_was_written_from() {
        let account = OfficeAccount::try_from(row()).ok();
        assert_eq!(
            account
                .as_ref()
                .map(|a| (a.prefecture, a.must_change_password)),
            Some((PrefectureCode::TOKYO, false))
        );
        let again = account
            .as_ref()
            .map(OfficeAccountRow::from)
            .and_then(|row| OfficeAccount::try_from(row).ok());
        assert_eq!(again, account);
    }

    #[test]
    fn a_row_that_does_not_parse_is_corrupt() {
        let bad_office = OfficeAccountRow {
            office_number: "not a number".into(),
            ..row()
        };
        let bad_email = OfficeAccountRow {
            security_email: Some("not an address".into()),
            ..row()
        };
        for bad in [bad_office, bad_email] {
            assert!(matches!(
                OfficeAccount::try_from(bad),
                Err(StorageError::Corrupt(_))
            ));
        }
    }

    #[test]
    fn the_temporary_password_is_tried_first_until_it_expires() {
        let Ok(account) = OfficeAccount::try_from(row()) else {
            panic!("fixture must parse");
        };
        let kinds = |now| {
            account
                .password_hashes(now)
                .into_iter()
                .map(|(kind, _)| kind)
                .collect::<Vec<_>>()
        };
        let before = OffsetDateTime::UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(
            kinds(before),
            [OfficePassword::Temporary, OfficePassword::Current]
        );
        assert_eq!(kinds(OffsetDateTime::UNIX_EPOCH), [OfficePassword::Current]);
    }
}
