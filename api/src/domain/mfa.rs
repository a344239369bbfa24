//! Reviewers' second factor (DESIGN.md "Sessions, MFA and four-eyes issuance"): TOTP
//! (RFC 6238 with SHA-1, 6 digits and 30-second steps: what every authenticator app reads from
//! an `otpauth://` URI), enrolled from the console at the first login and confirmed by a code,
//! and ten single-use recovery codes. The secret is sealed with the server's key and bound to
//! the reviewer; the recovery codes are stored as keyed hashes. A code is accepted once: the
//! time step it matched is kept, and a later login needs a later step.

use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use totp_rs::{Algorithm, Secret, TOTP};

use reissue_shared::admin::AdminSession;
use reissue_shared::mfa::{
    MfaConfirmationInput, MfaEnrolled, MfaEnrolment, RecoveryCode, SecondFactor, TotpCode,
    RECOVERY_ALPHABET, RECOVERY_CODES, RECOVERY_CODE_LENGTH,
};
use reissue_shared::{FieldError, FieldErrorCode, SecretText};

use super::audit::AuditAction;
use super::error::InvalidStateReason;
use super::passwords::PasswordAccount;
use super::reviewers::{self, ReviewerAccount};
use super::secrets::{Hasher, Sealer};
use super::sessions::{self, Reviewer, SessionEnd, SessionId, SessionScope};
use super::{Context, DomainError};
use crate::db::models::{to_db_time, RecoveryCodeRow};
use crate::db::{self, DbConnection};

/// The issuer the authenticator app shows beside the login ID.
const ISSUER: &str = "介護電子請求 再発行審査";
/// Seconds of a time step (RFC 6238's default, and what the apps assume).
const STEP_SECONDS: i64 = 30;
/// Bytes of a new secret (RFC 4226 section 4: at least 128 bits, 160 recommended).
const SECRET_BYTES: usize = 20;
/// What the keyed hashes of recovery codes are made for.
const RECOVERY_PURPOSE: &str = "reviewer-recovery-code";

/// The sealer of TOTP secrets.
fn sealer(ctx: &Context) -> Sealer {
    Sealer::new(&ctx.hasher, "reviewer-totp")
}

/// The TOTP of `secret` (raw bytes) for the reviewer `login_id`.
fn totp(secret: Vec<u8>, login_id: &str) -> Result<TOTP, DomainError> {
    // The label may not contain ':' (it separates issuer and account in the URI).
    let label = login_id.replace(':', "_");
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECONDS as u64,
        secret,
        Some(ISSUER.to_owned()),
        label,
    )
    .map_err(|e| DomainError::Internal(format!("a TOTP secret: {e}")))
}

/// The stored secret of `sealed`, opened.
fn open_secret(
    ctx: &Context,
    sealed: &str,
    account: &ReviewerAccount,
) -> Result<Vec<u8>, DomainError> {
    let base32 = sealer(ctx).open(sealed, &[&account.id]).ok_or_else(|| {
        DomainError::Internal(format!("the TOTP secret of reviewer {}", account.id))
    })?;
    Secret::Encoded(base32)
        .to_bytes()
        .map_err(|e| DomainError::Internal(format!("a stored TOTP secret: {e:?}")))
}

/// The time step `code` is right for: the current one or one either side (a clock a little
/// off, a code typed as it changed), and later than `last_step` (a code is accepted once).
fn matching_step(
    totp: &TOTP,
    code: &TotpCode,
    now: OffsetDateTime,
    last_step: Option<i64>,
) -> Option<i64> {
    let current = now.unix_timestamp().div_euclid(STEP_SECONDS);
    ((current - 1)..=(current + 1))
        .filter(|step| last_step.is_none_or(|last| *step > last))
        .find(|step| {
            let expected = totp.generate((step * STEP_SECONDS).max(0) as u64);
            bool::from(expected.as_bytes().ct_eq(code.as_str().as_bytes()))
        })
}

/// `POST /admin/mfa/enrolment`: a new secret for a reviewer not enrolled yet (replacing one
/// that was shown and never confirmed). Audited.
pub async fn start_enrolment(
    ctx: &Context,
    reviewer: Reviewer,
) -> Result<MfaEnrolment, DomainError> {
    let mut raw = vec![0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut raw);
    ctx.transaction(move |tx| {
        let mut account = reviewers::find_for_update(tx.conn, &reviewer.id)?
            .ok_or(DomainError::SessionInvalid)?;
        if account.mfa.enrolled_at.is_some() {
            return Err(DomainError::InvalidState(InvalidStateReason::MfaEnrolled));
        }
        let totp = totp(raw, &account.login_id)?;
        let base32 = totp.get_secret_base32();
        account.mfa.pending_secret = Some(sealer(tx.ctx).seal(&base32, &[&account.id])?);
        reviewers::store_mfa(tx.conn, &account)?;
        account
            .audit_event(
                AuditAction::ReviewerMfaEnrolmentStarted,
                String::new(),
                tx.now,
            )
            .record(tx.conn)?;
        let uri = totp.get_url();
        Ok(MfaEnrolment {
            secret: base32.into(),
            qr_svg: qr_svg(&uri)?,
            otpauth_uri: uri.into(),
        })
    })
    .await
}

/// The QR code of `uri` as an SVG element (without the XML declaration, so that it can be
/// placed in a page as it is).
fn qr_svg(uri: &str) -> Result<String, DomainError> {
    let code = qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::M)
        .map_err(|e| DomainError::Internal(format!("a QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    })
}

/// `POST /admin/mfa/enrolment/confirmation`: the app's first code confirms the secret. The
/// enrolment session ends, a full one opens, and ten recovery codes are made (shown this
/// once, stored hashed). Audited.
pub async fn confirm_enrolment(
    ctx: &Context,
    reviewer: Reviewer,
    session: SessionId,
    input: MfaConfirmationInput,
) -> Result<MfaEnrolled, DomainError> {
    let codes = (0..RECOVERY_CODES)
        .map(|_| generate_recovery_code())
        .collect::<Result<Vec<_>, _>>()?;
    ctx.transaction(move |tx| {
        let now = tx.now;
        let mut account = reviewers::find_for_update(tx.conn, &reviewer.id)?
            .ok_or(DomainError::SessionInvalid)?;
        if account.mfa.enrolled_at.is_some() {
            return Err(DomainError::InvalidState(InvalidStateReason::MfaEnrolled));
        }
        let Some(pending) = account.mfa.pending_secret.clone() else {
            return Err(DomainError::InvalidState(InvalidStateReason::MfaNotStarted));
        };
        let raw = open_secret(tx.ctx, &pending, &account)?;
        let totp = totp(raw, &account.login_id)?;
        let Some(step) = matching_step(&totp, &input.totp_code, now, None) else {
            return Err(DomainError::Validation(vec![FieldError::new(
                "totp_code",
                FieldErrorCode::UnknownValue,
                "確認コードが正しくありません。認証アプリに表示されている最新の6桁を入力してください。",
            )]));
        };
        account.mfa.secret = Some(pending);
        account.mfa.pending_secret = None;
        account.mfa.enrolled_at = Some(now);
        account.mfa.last_step = Some(step);
        reviewers::store_mfa(tx.conn, &account)?;
        let rows: Vec<RecoveryCodeRow> = codes
            .iter()
            .map(|code| RecoveryCodeRow {
                id: uuid::Uuid::new_v4().to_string(),
                reviewer_id: account.id.clone(),
                code_hash: recovery_hash(&tx.ctx.hasher, &account.id, code),
                created_at: to_db_time(now),
                used_at: None,
            })
            .collect();
        db::reviewers::replace_recovery_codes(tx.conn, &account.id, &rows)?;
        sessions::end(tx.conn, &session, SessionEnd::MfaEnrolled, now)?;
        account
            .audit_event(AuditAction::ReviewerMfaEnrolled, String::new(), now)
            .record(tx.conn)?;
        let opened = reviewers::start_session(tx.conn, tx.ctx, &account, SessionScope::Console, now)?;
        Ok(MfaEnrolled {
            access_token: opened.access_token,
            expires_at: opened.expires_at,
            reviewer: opened.reviewer,
            recovery_codes: codes.iter().map(|c| SecretText::from(c.grouped())).collect(),
        })
    })
    .await
}

/// How a login's second factor went (see `passwords::LoginStep`).
pub enum SecondFactorCheck {
    /// Right: what to audit.
    Passed(&'static str),
    /// None was given.
    Missing,
    /// Wrong, used already, or a recovery code that is not one of the reviewer's.
    Wrong,
}

/// Checks a login's second factor against an enrolled `account`, and spends it when right: the
/// time step of an app's code is kept (it is not accepted again), a recovery code is marked
/// used.
pub fn check_second_factor(
    conn: &mut DbConnection,
    ctx: &Context,
    account: &mut ReviewerAccount,
    given: Option<&SecondFactor>,
    now: OffsetDateTime,
) -> Result<SecondFactorCheck, DomainError> {
    let Some(sealed) = account.mfa.secret.clone() else {
        return Err(DomainError::Internal(format!(
            "reviewer {} is enrolled without a secret",
            account.id
        )));
    };
    match given {
        None => Ok(SecondFactorCheck::Missing),
        Some(SecondFactor::Totp(code)) => {
            let totp = totp(open_secret(ctx, &sealed, account)?, &account.login_id)?;
            match matching_step(&totp, code, now, account.mfa.last_step) {
                Some(step) => {
                    account.mfa.last_step = Some(step);
                    reviewers::store_mfa(conn, account)?;
                    Ok(SecondFactorCheck::Passed("authenticator app"))
                }
                None => Ok(SecondFactorCheck::Wrong),
            }
        }
        Some(SecondFactor::Recovery(code)) => {
            let unused = db::reviewers::unused_recovery_codes(conn, &account.id)?;
            let Some(row) = unused.iter().find(|row| {
                ctx.hasher.verify(
                    &row.code_hash,
                    RECOVERY_PURPOSE,
                    &[&account.id, code.as_str()],
                )
            }) else {
                return Ok(SecondFactorCheck::Wrong);
            };
            if !db::reviewers::use_recovery_code(conn, &row.id, to_db_time(now))? {
                return Ok(SecondFactorCheck::Wrong);
            }
            Ok(SecondFactorCheck::Passed("recovery code"))
        }
    }
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
    account.mfa = Default::default();
    reviewers::store_mfa(conn, &account)?;
    db::reviewers::replace_recovery_codes(conn, &account.id, &[])?;
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

/// A new recovery code from the CSPRNG.
fn generate_recovery_code() -> Result<RecoveryCode, DomainError> {
    let text: String = (0..RECOVERY_CODE_LENGTH)
        .map(|_| char::from(RECOVERY_ALPHABET[OsRng.gen_range(0..RECOVERY_ALPHABET.len())]))
        .collect();
    RecoveryCode::parse(&text)
        .map_err(|e| DomainError::Internal(format!("a generated recovery code: {}", e.message)))
}

/// The stored form of a recovery code: a keyed hash bound to its reviewer.
fn recovery_hash(hasher: &Hasher, reviewer_id: &str, code: &RecoveryCode) -> String {
    hasher.digest(RECOVERY_PURPOSE, &[reviewer_id, code.as_str()])
}

/// The answer of a login that passed the password and needs an enrolment first.
pub fn enrolment_required(session: AdminSession) -> AdminSession {
    AdminSession {
        mfa_enrolment_required: true,
        ..session
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totp_of(seed: u8) -> TOTP {
        totp(vec![seed; SECRET_BYTES], "demo-tokyo").unwrap_or_else(|_| unreachable!())
    }

    fn code_at(totp: &TOTP, unix: i64) -> TotpCode {
        TotpCode::parse(&totp.generate(unix as u64), "totp_code").unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_once() {
        let totp = totp_of(7);
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_010)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let step = now.unix_timestamp() / STEP_SECONDS;
        let current = code_at(&totp, now.unix_timestamp());
        assert_eq!(matching_step(&totp, &current, now, None), Some(step));
        // Used once, it is not accepted again.
        assert_eq!(matching_step(&totp, &current, now, Some(step)), None);
        // The previous and next steps' codes pass; two steps away does not.
        let previous = code_at(&totp, now.unix_timestamp() - 30);
        assert_eq!(matching_step(&totp, &previous, now, None), Some(step - 1));
        let next = code_at(&totp, now.unix_timestamp() + 30);
        assert_eq!(matching_step(&totp, &next, now, Some(step)), Some(step + 1));
        let stale = code_at(&totp, now.unix_timestamp() - 60);
        assert_eq!(matching_step(&totp, &stale, now, None), None);
        // Another secret's code does not.
        let other = code_at(&totp_of(8), now.unix_timestamp());
        assert_ne!(other.as_str(), current.as_str());
        assert_eq!(matching_step(&totp, &other, now, None), None);
    }

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the 6-digit code is its
        // last six digits.
        let totp = totp(b"12345678901234567890".to_vec(), "rfc").unwrap_or_else(|_| unreachable!());
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(totp.generate(1_111_111_109), "081804");
    }

    #[test]
    fn the_uri_names_the_issuer_and_the_qr_code_is_svg() {
        let uri = totp_of(1).get_url();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains("issuer="), "{uri}");
        let svg = qr_svg(&uri).unwrap_or_default();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("</svg>"));
    }

    #[test]
    fn recovery_codes_are_well_formed_and_differ() {
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .filter_map(|_| generate_recovery_code().ok())
            .map(|code| code.grouped())
            .collect();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(codes
            .iter()
            .all(|c| c.len() == 14 && RecoveryCode::parse(c).is_ok()));
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }
}
