//! Sessions: a row per login (`sessions`), and the HS256 JWT that names it, what each proves
//! (a [`Reviewer`], an [`OfficeIdentity`]), and their checks. A token is honoured only while
//! its session row is open: not ended (logout, a new password, a disabled or changed
//! reviewer), not past its lifetime, not idle longer than the idle timeout. The row is read
//! on every request, so an ended session is refused at once on every instance; expiry is
//! checked against the injected clock.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use reissue_shared::admin::ReviewerRole;
use reissue_shared::PrefectureCode;

use super::secrets::KeyRing;
use super::{Context, DomainError};
use crate::db::models::{from_db_time, to_db_time, SessionRow};
use crate::db::{self, DbConnection, StorageError};

const REVIEWER_AUDIENCE: &str = "reissue-admin";
const OFFICE_AUDIENCE: &str = "reissue-office";
const OFFICE_SCOPE: &str = "office";
const PASSWORD_CHANGE_SCOPE: &str = "password_change";

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

impl OfficeIdentity {
    /// The same identity, if its token opens more than the password change.
    pub fn full_access(self) -> Result<FullOfficeAccess, DomainError> {
        if self.password_change_only {
            return Err(DomainError::SessionInvalid);
        }
        Ok(FullOfficeAccess(self))
    }
}

/// An office whose token is not limited to the password change (see
/// [`OfficeIdentity::full_access`]): what the security-e-mail registration needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullOfficeAccess(OfficeIdentity);

impl FullOfficeAccess {
    /// Who it is.
    pub fn identity(&self) -> &OfficeIdentity {
        &self.0
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ReviewerClaims {
    sub: String,
    sid: String,
    name: String,
    role: ReviewerRole,
    pref: String,
    aud: String,
    iat: i64,
    exp: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct OfficeClaims {
    sub: String,
    sid: String,
    uid: String,
    scope: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// Signing keys of session tokens: HS256 with the token subkey of the server secret, named in
/// the header by its key id (`kid`), so that during a rotation a token signed with a previous
/// secret is checked with that secret's key, and one with an unknown `kid` is refused unread.
#[derive(Clone)]
pub struct SessionKeys {
    key_id: String,
    encoding: EncodingKey,
    /// Every secret's key, current first.
    decoding: Vec<(String, DecodingKey)>,
}

impl SessionKeys {
    /// Keys from the server's key ring.
    pub fn new(keys: &KeyRing) -> Self {
        Self {
            key_id: keys.current_key_id().to_owned(),
            encoding: EncodingKey::from_secret(keys.current_token_key()),
            decoding: keys
                .token_keys()
                .map(|(id, key)| (id.to_owned(), DecodingKey::from_secret(key)))
                .collect(),
        }
    }

    /// A token for a reviewer's `session`, carrying role and prefecture.
    pub fn issue_reviewer(
        &self,
        reviewer: &Reviewer,
        session: &OpenedSession,
        now: OffsetDateTime,
    ) -> Result<String, DomainError> {
        self.sign(&ReviewerClaims {
            sub: reviewer.id.clone(),
            sid: session.id.0.clone(),
            name: reviewer.name.clone(),
            role: reviewer.role,
            pref: reviewer.prefecture.as_str().to_owned(),
            aud: REVIEWER_AUDIENCE.to_owned(),
            iat: now.unix_timestamp(),
            exp: session.expires_at.unix_timestamp(),
        })
    }

    /// The reviewer a token names and its session, if the token is genuine, unexpired, HS256
    /// and ours. Any other token (forged, expired, `alg: none`, another audience) is refused
    /// alike. Whether the session is still open is [`authenticate_reviewer`]'s question.
    pub fn verify_reviewer(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<(Reviewer, SessionId), DomainError> {
        let claims: ReviewerClaims = self.decode(token, REVIEWER_AUDIENCE, now)?;
        let reviewer = Reviewer {
            id: claims.sub,
            name: claims.name,
            role: claims.role,
            prefecture: PrefectureCode::parse(&claims.pref)
                .map_err(|_| DomainError::SessionInvalid)?,
        };
        Ok((reviewer, SessionId(claims.sid)))
    }

    /// A token for an office's `session`; `password_change_only` limits it to
    /// `POST /auth/password` (and the logout).
    pub fn issue_office(
        &self,
        identity: &OfficeIdentity,
        session: &OpenedSession,
        now: OffsetDateTime,
    ) -> Result<String, DomainError> {
        let scope = if identity.password_change_only {
            PASSWORD_CHANGE_SCOPE
        } else {
            OFFICE_SCOPE
        };
        self.sign(&OfficeClaims {
            sub: identity.account_id.clone(),
            sid: session.id.0.clone(),
            uid: identity.user_id.clone(),
            scope: scope.to_owned(),
            aud: OFFICE_AUDIENCE.to_owned(),
            iat: now.unix_timestamp(),
            exp: session.expires_at.unix_timestamp(),
        })
    }

    /// The office a token names and its session (same checks as for reviewers, other
    /// audience).
    pub fn verify_office(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<(OfficeIdentity, SessionId), DomainError> {
        let claims: OfficeClaims = self.decode(token, OFFICE_AUDIENCE, now)?;
        let identity = OfficeIdentity {
            account_id: claims.sub,
            user_id: claims.uid,
            password_change_only: claims.scope == PASSWORD_CHANGE_SCOPE,
        };
        Ok((identity, SessionId(claims.sid)))
    }

    fn sign(&self, claims: &impl Serialize) -> Result<String, DomainError> {
        let header = Header {
            kid: Some(self.key_id.clone()),
            ..Header::new(Algorithm::HS256)
        };
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| DomainError::Internal(format!("signing a token: {e}")))
    }

    fn decode<C: serde::de::DeserializeOwned + Expiring>(
        &self,
        token: &str,
        audience: &str,
        now: OffsetDateTime,
    ) -> Result<C, DomainError> {
        let key_id = jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|header| header.kid)
            .ok_or(DomainError::SessionInvalid)?;
        let (_, key) = self
            .decoding
            .iter()
            .find(|(id, _)| *id == key_id)
            .ok_or(DomainError::SessionInvalid)?;
        let claims = jsonwebtoken::decode::<C>(token, key, &validation(audience))
            .map_err(|_| DomainError::SessionInvalid)?
            .claims;
        if claims.exp() <= now.unix_timestamp() {
            return Err(DomainError::SessionInvalid);
        }
        Ok(claims)
    }
}

/// Claims with an expiry, checked against the injected clock.
trait Expiring {
    fn exp(&self) -> i64;
}

impl Expiring for ReviewerClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

impl Expiring for OfficeClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// What every token must be: HS256, for `audience`, with `exp`, `aud` and `sub`. Expiry is
/// checked by [`SessionKeys::decode`] against the injected clock, not the system clock.
fn validation(audience: &str) -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[audience]);
    validation.leeway = 0;
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    validation
}

/// A session's id: the `sid` claim of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId(pub String);

/// Who holds a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// A federation reviewer (the console).
    Reviewer,
    /// An office (its login).
    Office,
}

impl Holder {
    fn as_str(self) -> &'static str {
        match self {
            Self::Reviewer => "reviewer",
            Self::Office => "office",
        }
    }
}

/// What a session's token opens, kept in its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionScope {
    /// A reviewer's console.
    Console,
    /// An office with full access.
    Office,
    /// An office that logged in with the temporary password: only the password change.
    PasswordChange,
    /// A reviewer without an authenticator app yet: only the enrolment (and the logout).
    MfaEnrolment,
}

impl SessionScope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::Office => "office",
            Self::PasswordChange => "password_change",
            Self::MfaEnrolment => "mfa_enrolment",
        }
    }

    /// The scope of an office's session.
    pub fn of_office(identity: &OfficeIdentity) -> Self {
        if identity.password_change_only {
            Self::PasswordChange
        } else {
            Self::Office
        }
    }
}

/// Why a session ended before its time (kept in its row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// Its holder logged out.
    Logout,
    /// The office set a new password (the session that did so ends too: it gets a new one).
    PasswordChanged,
    /// The office's password was reset with its security e-mail.
    PasswordReset,
    /// The temporary password was used: the old password, and what it opened, are retired.
    TemporaryPasswordUsed,
    /// The operator disabled the reviewer.
    ReviewerDisabled,
    /// The operator changed the reviewer's role, prefecture, name or password.
    ReviewerChanged,
    /// The enrolment session ended when its code confirmed the app (a full session follows).
    MfaEnrolled,
    /// The operator reset the reviewer's second factor.
    MfaReset,
}

impl SessionEnd {
    fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::TemporaryPasswordUsed => "temporary_password_used",
            Self::ReviewerDisabled => "reviewer_disabled",
            Self::ReviewerChanged => "reviewer_changed",
            Self::MfaEnrolled => "mfa_enrolled",
            Self::MfaReset => "mfa_reset",
        }
    }
}

/// A session just opened: its id and when it ends at the latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedSession {
    /// Its id, for the token.
    pub id: SessionId,
    /// The end of its lifetime (the token's `exp`).
    pub expires_at: OffsetDateTime,
}

/// Opens a session of `subject_id` for `lifetime`, in the transaction of the login.
pub fn open(
    conn: &mut DbConnection,
    holder: Holder,
    subject_id: &str,
    scope: SessionScope,
    now: OffsetDateTime,
    lifetime: Duration,
) -> Result<OpenedSession, StorageError> {
    let session = OpenedSession {
        id: SessionId(uuid::Uuid::new_v4().to_string()),
        expires_at: now + lifetime,
    };
    db::sessions::insert(
        conn,
        &SessionRow {
            id: session.id.0.clone(),
            holder: holder.as_str().to_owned(),
            subject_id: subject_id.to_owned(),
            scope: scope.as_str().to_owned(),
            created_at: to_db_time(now),
            last_seen_at: to_db_time(now),
            expires_at: to_db_time(session.expires_at),
            ended_at: None,
            end_reason: None,
        },
    )?;
    Ok(session)
}

/// Ends one session (a logout); whether it was still open.
pub fn end(
    conn: &mut DbConnection,
    session: &SessionId,
    why: SessionEnd,
    now: OffsetDateTime,
) -> Result<bool, StorageError> {
    db::sessions::end(conn, &session.0, to_db_time(now), why.as_str())
}

/// Ends every open session of `subject_id`; how many there were.
pub fn end_all(
    conn: &mut DbConnection,
    holder: Holder,
    subject_id: &str,
    why: SessionEnd,
    now: OffsetDateTime,
) -> Result<usize, StorageError> {
    db::sessions::end_all_of(
        conn,
        holder.as_str(),
        subject_id,
        to_db_time(now),
        why.as_str(),
    )
}

/// The reviewer a bearer token names and its session, if the token is genuine and its session
/// open with one of `scopes` (see [`check_open`]).
pub async fn authenticate_reviewer(
    ctx: &Context,
    token: &str,
    scopes: &[SessionScope],
) -> Result<(Reviewer, SessionId), DomainError> {
    let (reviewer, session) = ctx.sessions.verify_reviewer(token, ctx.clock.now())?;
    check_open(ctx, Holder::Reviewer, &session, &reviewer.id, scopes).await?;
    Ok((reviewer, session))
}

/// The office a bearer token names and its session, if the token is genuine and its session
/// open (see [`check_open`]).
pub async fn authenticate_office(
    ctx: &Context,
    token: &str,
) -> Result<(OfficeIdentity, SessionId), DomainError> {
    let (identity, session) = ctx.sessions.verify_office(token, ctx.clock.now())?;
    let scope = SessionScope::of_office(&identity);
    check_open(
        ctx,
        Holder::Office,
        &session,
        &identity.account_id,
        &[scope],
    )
    .await?;
    Ok((identity, session))
}

/// Refuses (401 `unauthorized`) a session that is not open: unknown, of another holder than
/// its token says or of a scope the route does not take, ended, past its lifetime, or idle for `REISSUE_SESSION_IDLE_SECONDS`.
/// An open session is marked as used, at most once per [`touch_interval`], so that the check
/// costs one read by primary key on nearly every request.
async fn check_open(
    ctx: &Context,
    holder: Holder,
    session: &SessionId,
    subject_id: &str,
    scopes: &[SessionScope],
) -> Result<(), DomainError> {
    let id = session.0.clone();
    let row = ctx
        .db
        .run(move |conn| db::sessions::find(conn, &id))
        .await?
        .ok_or(DomainError::SessionInvalid)?;
    let now = ctx.clock.now();
    let idle = ctx.limits.session_idle;
    let last_seen = from_db_time(row.last_seen_at);
    let open = row.holder == holder.as_str()
        && row.subject_id == subject_id
        && scopes.iter().any(|scope| row.scope == scope.as_str())
        && row.ended_at.is_none()
        && from_db_time(row.expires_at) > now
        && last_seen + idle > now;
    if !open {
        return Err(DomainError::SessionInvalid);
    }
    if now - last_seen >= touch_interval(idle) {
        let id = session.0.clone();
        ctx.db
            .transaction(move |conn| db::sessions::touch(conn, &id, to_db_time(now)))
            .await?;
    }
    Ok(())
}

/// How stale a session's `last_seen_at` may be before a request writes it anew: a tenth of the
/// idle timeout (so a session in use never looks idle), at most a minute (so a busy console
/// writes about once a minute, not on every click).
fn touch_interval(idle: Duration) -> Duration {
    (idle / 10).min(Duration::from_secs(60))
}

/// Forgets sessions that ended or expired before `before` (the sweeper).
pub fn purge_finished(
    conn: &mut DbConnection,
    before: OffsetDateTime,
) -> Result<usize, StorageError> {
    db::sessions::delete_finished(conn, to_db_time(before))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::Secret;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NEXT: &[u8] = b"the-next-secret-the-next-secret!";

    fn ring(current: &[u8], previous: &[&[u8]]) -> KeyRing {
        let previous: Vec<Secret> = previous.iter().map(|p| Secret::new(p.to_vec())).collect();
        KeyRing::new(&Secret::new(current.to_vec()), &previous)
    }

    fn keys() -> SessionKeys {
        SessionKeys::new(&ring(SECRET, &[]))
    }

    fn reviewer() -> Reviewer {
        Reviewer {
            id: "r1".into(),
            name: "審査 太郎".into(),
            role: ReviewerRole::Reviewer,
            prefecture: PrefectureCode::TOTTORI,
        }
    }

    fn session(expires_at: OffsetDateTime) -> OpenedSession {
        OpenedSession {
            id: SessionId("s1".into()),
            expires_at,
        }
    }

    fn office(password_change_only: bool) -> OfficeIdentity {
        OfficeIdentity {
            account_id: "a1".into(),
            user_id: "KJ12345678".into(),
            password_change_only,
        }
    }

    #[test]
    fn a_token_carries_role_and_prefecture_and_expires() {
        let now = OffsetDateTime::now_utc();
        let token = keys()
            .issue_reviewer(
                &reviewer(),
                &session(now + std::time::Duration::from_secs(60)),
                now,
            )
            .unwrap_or_default();
        assert_eq!(
            keys().verify_reviewer(&token, now).ok().map(|v| v.0),
            Some(reviewer())
        );
        assert!(keys()
            .verify_reviewer(&token, now + std::time::Duration::from_secs(60))
            .is_err());
    }

    #[test]
    fn forged_and_unsigned_tokens_are_refused() {
        let now = OffsetDateTime::now_utc();
        let other = SessionKeys::new(&ring(b"another-secret-another-secret-xx", &[]));
        let forged = other
            .issue_reviewer(
                &reviewer(),
                &session(now + std::time::Duration::from_secs(60)),
                now,
            )
            .unwrap_or_default();
        assert!(keys().verify_reviewer(&forged, now).is_err());
        // alg: none, with the same claims.
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let payload = forged.split('.').nth(1).unwrap_or_default();
        assert!(keys()
            .verify_reviewer(&format!("{header}.{payload}."), now)
            .is_err());
        assert!(keys().verify_reviewer("garbage", now).is_err());
    }

    #[test]
    fn a_token_names_its_key_and_outlives_a_rotation_only_while_its_secret_is_previous() {
        let now = OffsetDateTime::now_utc();
        let later = now + std::time::Duration::from_secs(60);
        let token = keys()
            .issue_reviewer(&reviewer(), &session(later), now)
            .unwrap_or_default();
        let kid = jsonwebtoken::decode_header(&token).ok().and_then(|h| h.kid);
        assert_eq!(kid.as_deref(), Some(ring(SECRET, &[]).current_key_id()));
        let rotated = SessionKeys::new(&ring(NEXT, &[SECRET]));
        assert_eq!(
            rotated.verify_reviewer(&token, now).ok().map(|v| v.0),
            Some(reviewer())
        );
        let after = SessionKeys::new(&ring(NEXT, &[]));
        assert!(after.verify_reviewer(&token, now).is_err());
        // New tokens carry the new key's id and are refused by a server that lacks it.
        let new_token = rotated
            .issue_reviewer(&reviewer(), &session(later), now)
            .unwrap_or_default();
        assert!(after.verify_reviewer(&new_token, now).is_ok());
        assert!(keys().verify_reviewer(&new_token, now).is_err());
        // A token without a key id (as releases before key ids signed them) is refused.
        let unnamed = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "r1", "aud": REVIEWER_AUDIENCE, "exp": later.unix_timestamp()}),
            &EncodingKey::from_secret(ring(SECRET, &[]).current_token_key()),
        )
        .unwrap_or_default();
        assert!(keys().verify_reviewer(&unnamed, now).is_err());
    }

    #[test]
    fn office_and_reviewer_tokens_do_not_open_each_other() {
        let now = OffsetDateTime::now_utc();
        let later = now + std::time::Duration::from_secs(60);
        let office_token = keys()
            .issue_office(&office(false), &session(later), now)
            .unwrap_or_default();
        let reviewer_token = keys()
            .issue_reviewer(&reviewer(), &session(later), now)
            .unwrap_or_default();
        assert_eq!(
            keys().verify_office(&office_token, now).ok(),
            Some((office(false), SessionId("s1".into())))
        );
        assert!(keys().verify_reviewer(&office_token, now).is_err());
        assert!(keys().verify_office(&reviewer_token, now).is_err());
    }

    #[test]
    fn a_password_change_token_has_no_full_access() {
        let now = OffsetDateTime::now_utc();
        let token = keys()
            .issue_office(
                &office(true),
                &session(now + std::time::Duration::from_secs(60)),
                now,
            )
            .unwrap_or_default();
        let identity = keys().verify_office(&token, now).ok().map(|v| v.0);
        assert_eq!(identity.clone(), Some(office(true)));
        assert!(identity
            .map(OfficeIdentity::full_access)
            .is_some_and(|a| a.is_err()));
        assert!(office(false).full_access().is_ok());
    }
}
