//! Federation reviewers: accounts with argon2id passwords, login with lock-out, and the
//! short-lived JWT that carries the reviewer's role and prefecture.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use reissue_shared::admin::{AdminSession, LoginRequest, ReviewerRole, ReviewerView};
use reissue_shared::PrefectureCode;

use super::audit::{AuditAction, AuditEvent};
use super::{Context, DomainError};
use crate::config::Secret;
use crate::db::reviewers::{self, StoredReviewer};
use crate::db::{DbConnection, StorageError};

/// Shortest reviewer password.
pub const MIN_PASSWORD_LENGTH: usize = 12;
const AUDIENCE: &str = "reissue-admin";
const OFFICE_AUDIENCE: &str = "reissue-office";

/// A logged-in office, as its token proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeIdentity {
    /// Account id.
    pub account_id: String,
    /// ユーザID.
    pub user_id: String,
    /// Logged in with the temporary password: only a password change is allowed.
    pub password_change_only: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct OfficeClaims {
    sub: String,
    uid: String,
    scope: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// A logged-in reviewer, as the token proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewer {
    /// Account id.
    pub id: String,
    /// 氏名.
    pub name: String,
    /// Role.
    pub role: ReviewerRole,
    /// The only prefecture whose applications this reviewer sees.
    pub prefecture: PrefectureCode,
}

impl Reviewer {
    /// For the audit log.
    pub fn actor(&self) -> String {
        format!("reviewer:{}", self.id)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    name: String,
    role: ReviewerRole,
    pref: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// Signing keys of reviewer tokens (HS256 with the server secret).
#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SessionKeys {
    /// Keys from the server secret.
    pub fn new(secret: &Secret) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.expose()),
            decoding: DecodingKey::from_secret(secret.expose()),
        }
    }

    fn issue(
        &self,
        reviewer: &Reviewer,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<String, DomainError> {
        let claims = Claims {
            sub: reviewer.id.clone(),
            name: reviewer.name.clone(),
            role: reviewer.role,
            pref: reviewer.prefecture.as_str().to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| DomainError::Storage(StorageError::Task(format!("signing a token: {e}"))))
    }

    /// A token for an office; `password_change_only` limits it to `POST /auth/password`.
    pub fn issue_office(
        &self,
        identity: &OfficeIdentity,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<String, DomainError> {
        let claims = OfficeClaims {
            sub: identity.account_id.clone(),
            uid: identity.user_id.clone(),
            scope: if identity.password_change_only {
                "password_change"
            } else {
                "office"
            }
            .to_owned(),
            aud: OFFICE_AUDIENCE.to_owned(),
            iat: now.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| DomainError::Storage(StorageError::Task(format!("signing a token: {e}"))))
    }

    /// The office a token names (same checks as for reviewers, other audience).
    pub fn verify_office(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<OfficeIdentity, DomainError> {
        let data = jsonwebtoken::decode::<OfficeClaims>(
            token,
            &self.decoding,
            &validation(OFFICE_AUDIENCE),
        )
        .map_err(|_| DomainError::SessionInvalid)?;
        if data.claims.exp <= now.unix_timestamp() {
            return Err(DomainError::SessionInvalid);
        }
        Ok(OfficeIdentity {
            account_id: data.claims.sub,
            user_id: data.claims.uid,
            password_change_only: data.claims.scope == "password_change",
        })
    }

    /// The reviewer a token names, if it is genuine, unexpired, HS256 and ours. Any other
    /// token (forged, expired, `alg: none`, another audience) is refused alike.
    pub fn verify(&self, token: &str, now: OffsetDateTime) -> Result<Reviewer, DomainError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation(AUDIENCE))
            .map_err(|_| DomainError::SessionInvalid)?;
        if data.claims.exp <= now.unix_timestamp() {
            return Err(DomainError::SessionInvalid);
        }
        Ok(Reviewer {
            id: data.claims.sub,
            name: data.claims.name,
            role: data.claims.role,
            prefecture: PrefectureCode::parse(&data.claims.pref)
                .map_err(|_| DomainError::SessionInvalid)?,
        })
    }
}

/// What every token must be: HS256, for `audience`, with `exp`, `aud` and `sub`. Expiry is
/// checked by the callers against the injected clock, not the system clock.
fn validation(audience: &str) -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[audience]);
    validation.leeway = 0;
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    validation
}

/// argon2id with the crate's default (OWASP-recommended) parameters.
pub fn hash_password(password: &str) -> Result<String, DomainError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| DomainError::Storage(StorageError::Task(format!("hashing a password: {e}"))))
}

/// Whether `password` matches the stored PHC string.
pub fn verify_password(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
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
    reviewer: &NewReviewer,
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    if reviewer.password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(DomainError::Validation(vec![
            reissue_shared::FieldError::new(
                "password",
                reissue_shared::FieldErrorCode::InvalidLength,
                format!("パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください。"),
            ),
        ]));
    }
    let stored = StoredReviewer {
        id: uuid::Uuid::new_v4().to_string(),
        login_id: reviewer.login_id.trim().to_owned(),
        name: reviewer.name.clone(),
        role: reviewer.role.as_str().to_owned(),
        prefecture_code: reviewer.prefecture.as_str().to_owned(),
        password_hash: hash_password(&reviewer.password)?,
        failed_logins: 0,
        locked_until: None,
    };
    reviewers::upsert(conn, &stored, now)?;
    AuditEvent {
        occurred_at: now,
        actor: "operator".into(),
        action: AuditAction::ReviewerSaved,
        application_id: None,
        office_number: None,
        prefecture_code: Some(stored.prefecture_code.clone()),
        detail: format!("{} ({})", stored.login_id, stored.role),
    }
    .record(conn)?;
    Ok(())
}

/// `POST /admin/sessions`: checks the password, counts failures, locks after too many, and
/// answers alike for an unknown login ID and a wrong password.
pub async fn login(ctx: &Context, request: LoginRequest) -> Result<AdminSession, DomainError> {
    request.check().map_err(DomainError::Validation)?;
    let login_id = request.login_id.trim().to_owned();
    // argon2 takes tens of milliseconds: the hash is checked outside any transaction, so a
    // login never holds a database connection or (on SQLite) the write lock meanwhile. The
    // transaction then applies the outcome to the account as it is by then, unless its
    // password changed in between, in which case the check is made again.
    for _ in 0..3 {
        let id = login_id.clone();
        let snapshot = ctx
            .db
            .run(move |conn| reviewers::find_by_login(conn, &id))
            .await?;
        let now = ctx.clock.now();
        if let Some(until) = snapshot
            .as_ref()
            .and_then(|account| account.locked_until)
            .filter(|until| *until > now)
        {
            return Err(DomainError::AccountLocked { until });
        }
        let checked_hash = snapshot
            .as_ref()
            .map(|account| account.password_hash.clone());
        let matches = password_matches(checked_hash.clone(), request.password.clone()).await?;
        if snapshot.is_none() {
            return Err(DomainError::InvalidCredentials {
                id_label: "ログインID",
            });
        }
        let ctx2 = ctx.clone();
        let id = login_id.clone();
        let outcome = ctx
            .db
            .transaction(move |conn| {
                let Some(account) = reviewers::find_by_login(conn, &id)? else {
                    return Ok(None);
                };
                if Some(&account.password_hash) != checked_hash.as_ref() {
                    return Ok(None);
                }
                record_login_outcome(conn, &ctx2, account, matches).map(Some)
            })
            .await?;
        // Failures are committed (counted and audited) before they are answered.
        if let Some(outcome) = outcome {
            return outcome;
        }
    }
    Err(DomainError::InvalidCredentials {
        id_label: "ログインID",
    })
}

/// Whether `password` matches `hash` (or, with no account, the same work against a dummy
/// hash, so timing does not tell which IDs exist), on the blocking pool.
pub(crate) async fn password_matches(
    hash: Option<String>,
    password: String,
) -> Result<bool, DomainError> {
    tokio::task::spawn_blocking(move || {
        verify_password(hash.as_deref().unwrap_or(dummy_hash()), &password) && hash.is_some()
    })
    .await
    .map_err(|e| DomainError::Storage(StorageError::Task(e.to_string())))
}

/// Counts a failure (locking after too many) or opens a session; audited either way.
fn record_login_outcome(
    conn: &mut DbConnection,
    ctx: &Context,
    account: StoredReviewer,
    matches: bool,
) -> Result<Result<AdminSession, DomainError>, DomainError> {
    let now = ctx.clock.now();
    if let Some(until) = account.locked_until.filter(|until| *until > now) {
        return Ok(Err(DomainError::AccountLocked { until }));
    }
    let event = |action: AuditAction, detail: String| AuditEvent {
        occurred_at: now,
        actor: format!("reviewer:{}", account.id),
        action,
        application_id: None,
        office_number: None,
        prefecture_code: Some(account.prefecture_code.clone()),
        detail,
    };
    if !matches {
        let failed = account.failed_logins + 1;
        let locked_until = (failed >= ctx.limits.reviewer_max_failed_logins)
            .then(|| now + ctx.limits.reviewer_lock);
        reviewers::record_login(
            conn,
            &account.id,
            if locked_until.is_some() { 0 } else { failed },
            locked_until,
        )?;
        event(
            AuditAction::ReviewerLoginFailed,
            format!("{failed} in a row"),
        )
        .record(conn)?;
        if let Some(until) = locked_until {
            event(AuditAction::ReviewerLocked, format!("until {until}")).record(conn)?;
            return Ok(Err(DomainError::AccountLocked { until }));
        }
        return Ok(Err(DomainError::InvalidCredentials {
            id_label: "ログインID",
        }));
    }
    reviewers::record_login(conn, &account.id, 0, None)?;
    event(AuditAction::ReviewerLoggedIn, String::new()).record(conn)?;
    let reviewer = Reviewer {
        id: account.id.clone(),
        name: account.name.clone(),
        role: ReviewerRole::parse(&account.role).unwrap_or(ReviewerRole::Reviewer),
        prefecture: PrefectureCode::parse(&account.prefecture_code)
            .map_err(|_| StorageError::Corrupt(format!("reviewer {}: prefecture", account.id)))?,
    };
    let expires_at = now + ctx.limits.reviewer_session_ttl;
    let access_token = ctx.sessions.issue(&reviewer, now, expires_at)?;
    Ok(Ok(AdminSession {
        access_token,
        expires_at,
        reviewer: ReviewerView {
            name: reviewer.name,
            role: reviewer.role,
            prefecture_code: reviewer.prefecture.as_str().to_owned(),
        },
    }))
}

/// A valid argon2id hash of a random password, computed once.
pub(crate) fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&uuid::Uuid::new_v4().to_string()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> SessionKeys {
        SessionKeys::new(&Secret::new(b"0123456789abcdef0123456789abcdef".to_vec()))
    }

    fn reviewer() -> Reviewer {
        Reviewer {
            id: "r1".into(),
            name: "審査 太郎".into(),
            role: ReviewerRole::Reviewer,
            prefecture: PrefectureCode::TOTTORI,
        }
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn a_token_carries_role_and_prefecture_and_expires() {
        let now = OffsetDateTime::now_utc();
        let token = keys()
            .issue(&reviewer(), now, now + std::time::Duration::from_secs(60))
            .unwrap_or_default();
        assert_eq!(keys().verify(&token, now).ok(), Some(reviewer()));
        assert!(keys()
            .verify(&token, now + std::time::Duration::from_secs(60))
            .is_err());
    }

    #[test]
    fn forged_and_unsigned_tokens_are_refused() {
        let now = OffsetDateTime::now_utc();
        let other = SessionKeys::new(&Secret::new(b"another-secret-another-secret-xx".to_vec()));
        let forged = other
            .issue(&reviewer(), now, now + std::time::Duration::from_secs(60))
            .unwrap_or_default();
        assert!(keys().verify(&forged, now).is_err());
        // alg: none, with the same claims.
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let payload = forged.split('.').nth(1).unwrap_or_default();
        assert!(keys().verify(&format!("{header}.{payload}."), now).is_err());
        assert!(keys().verify("garbage", now).is_err());
    }
}
