//! Sessions: the short-lived HS256 JWTs that a reviewer's and an office's login return, what
//! each proves (a [`Reviewer`], an [`OfficeIdentity`]), and their checks. Expiry is checked
//! against the injected clock.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use reissue_shared::admin::ReviewerRole;
use reissue_shared::PrefectureCode;

use super::secrets::KeyRing;
use super::DomainError;

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

    /// A token for a reviewer, carrying role and prefecture.
    pub fn issue_reviewer(
        &self,
        reviewer: &Reviewer,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<String, DomainError> {
        self.sign(&ReviewerClaims {
            sub: reviewer.id.clone(),
            name: reviewer.name.clone(),
            role: reviewer.role,
            pref: reviewer.prefecture.as_str().to_owned(),
            aud: REVIEWER_AUDIENCE.to_owned(),
            iat: now.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
        })
    }

    /// The reviewer a token names, if it is genuine, unexpired, HS256 and ours. Any other
    /// token (forged, expired, `alg: none`, another audience) is refused alike.
    pub fn verify_reviewer(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<Reviewer, DomainError> {
        let claims: ReviewerClaims = self.decode(token, REVIEWER_AUDIENCE, now)?;
        Ok(Reviewer {
            id: claims.sub,
            name: claims.name,
            role: claims.role,
            prefecture: PrefectureCode::parse(&claims.pref)
                .map_err(|_| DomainError::SessionInvalid)?,
        })
    }

    /// A token for an office; `password_change_only` limits it to `POST /auth/password`.
    pub fn issue_office(
        &self,
        identity: &OfficeIdentity,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<String, DomainError> {
        let scope = if identity.password_change_only {
            PASSWORD_CHANGE_SCOPE
        } else {
            OFFICE_SCOPE
        };
        self.sign(&OfficeClaims {
            sub: identity.account_id.clone(),
            uid: identity.user_id.clone(),
            scope: scope.to_owned(),
            aud: OFFICE_AUDIENCE.to_owned(),
            iat: now.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
        })
    }

    /// The office a token names (same checks as for reviewers, other audience).
    pub fn verify_office(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<OfficeIdentity, DomainError> {
        let claims: OfficeClaims = self.decode(token, OFFICE_AUDIENCE, now)?;
        Ok(OfficeIdentity {
            account_id: claims.sub,
            user_id: claims.uid,
            password_change_only: claims.scope == PASSWORD_CHANGE_SCOPE,
        })
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
            .issue_reviewer(&reviewer(), now, now + std::time::Duration::from_secs(60))
            .unwrap_or_default();
        assert_eq!(keys().verify_reviewer(&token, now).ok(), Some(reviewer()));
        assert!(keys()
            .verify_reviewer(&token, now + std::time::Duration::from_secs(60))
            .is_err());
    }

    #[test]
    fn forged_and_unsigned_tokens_are_refused() {
        let now = OffsetDateTime::now_utc();
        let other = SessionKeys::new(&ring(b"another-secret-another-secret-xx", &[]));
        let forged = other
            .issue_reviewer(&reviewer(), now, now + std::time::Duration::from_secs(60))
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
            .issue_reviewer(&reviewer(), now, later)
            .unwrap_or_default();
        let kid = jsonwebtoken::decode_header(&token).ok().and_then(|h| h.kid);
        assert_eq!(kid.as_deref(), Some(ring(SECRET, &[]).current_key_id()));
        let rotated = SessionKeys::new(&ring(NEXT, &[SECRET]));
        assert_eq!(rotated.verify_reviewer(&token, now).ok(), Some(reviewer()));
        let after = SessionKeys::new(&ring(NEXT, &[]));
        assert!(after.verify_reviewer(&token, now).is_err());
        // New tokens carry the new key's id and are refused by a server that lacks it.
        let new_token = rotated
            .issue_reviewer(&reviewer(), now, later)
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
            .issue_office(&office(false), now, later)
            .unwrap_or_default();
        let reviewer_token = keys()
            .issue_reviewer(&reviewer(), now, later)
            .unwrap_or_default();
        assert_eq!(
            keys().verify_office(&office_token, now).ok(),
            Some(office(false))
        );
        assert!(keys().verify_reviewer(&office_token, now).is_err());
        assert!(keys().verify_office(&reviewer_token, now).is_err());
    }

    #[test]
    fn a_password_change_token_has_no_full_access() {
        let now = OffsetDateTime::now_utc();
        let token = keys()
            .issue_office(&office(true), now, now + std::time::Duration::from_secs(60))
            .unwrap_or_default();
        let identity = keys().verify_office(&token, now).ok();
        assert_eq!(identity.clone(), Some(office(true)));
        assert!(identity
            .map(OfficeIdentity::full_access)
            .is_some_and(|a| a.is_err()));
        assert!(office(false).full_access().is_ok());
    }
}
