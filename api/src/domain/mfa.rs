//! Reviewers' second factor (DESIGN.md "Sessions, MFA and four-eyes issuance"): TOTP
//! (RFC 6238 with SHA-1, 6 digits and 30-second steps: what every authenticator app reads from
//! an `otpauth://` URI) and ten single-use recovery codes. The secret is sealed with the
//! server's key and bound to the reviewer; the recovery codes are stored as keyed hashes. A
//! code is accepted once: the time step it matched is kept, and a later login needs a later
//! step. The use cases that enrol and reset it are in [`super::enrolment`]; the login that
//! checks it in [`super::reviewers`].

use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use totp_rs::{Algorithm, Secret, TOTP};

use reissue_shared::admin::AdminSession;
use reissue_shared::mfa::{
    MfaEnrolment, RecoveryCode, SecondFactor, TotpCode, RECOVERY_ALPHABET, RECOVERY_CODES,
    RECOVERY_CODE_LENGTH,
};
use reissue_shared::{FieldError, FieldErrorCode};

use super::error::InvalidStateReason;
use super::secrets::{Hasher, Sealer};
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

/// A reviewer's second factor as stored: secrets sealed (see [`sealer`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewerMfa {
    /// The confirmed TOTP secret.
    pub secret: Option<String>,
    /// A secret shown for enrolment and not confirmed yet.
    pub pending_secret: Option<String>,
    /// When a code confirmed the secret: from then on every login needs a code.
    pub enrolled_at: Option<OffsetDateTime>,
    /// The last time step a code was accepted for.
    pub last_step: Option<i64>,
}

/// Whose second factor: what the secret is bound to and what the app shows.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    /// The reviewer's id (the sealed secret and the recovery codes are bound to it).
    pub reviewer_id: &'a str,
    /// The login ID (the app's label).
    pub login_id: &'a str,
}

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

/// The TOTP of a sealed secret.
fn open_totp(ctx: &Context, sealed: &str, holder: Holder<'_>) -> Result<TOTP, DomainError> {
    let base32 = sealer(ctx)
        .open(sealed, &[holder.reviewer_id])
        .ok_or_else(|| {
            DomainError::Internal(format!(
                "the TOTP secret of reviewer {}",
                holder.reviewer_id
            ))
        })?;
    let raw = Secret::Encoded(base32)
        .to_bytes()
        .map_err(|e| DomainError::Internal(format!("a stored TOTP secret: {e:?}")))?;
    totp(raw, holder.login_id)
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

/// A new secret from the CSPRNG, kept in `mfa` as the pending one (replacing one shown and
/// never confirmed): what the enrolment page shows.
pub fn new_pending_secret(
    ctx: &Context,
    holder: Holder<'_>,
    mfa: &mut ReviewerMfa,
) -> Result<MfaEnrolment, DomainError> {
    if mfa.enrolled_at.is_some() {
        return Err(DomainError::InvalidState(InvalidStateReason::MfaEnrolled));
    }
    let mut raw = vec![0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut raw);
    let totp = totp(raw, holder.login_id)?;
    let base32 = totp.get_secret_base32();
    mfa.pending_secret = Some(sealer(ctx).seal(&base32, &[holder.reviewer_id])?);
    let uri = totp.get_url();
    Ok(MfaEnrolment {
        secret: base32.into(),
        qr_svg: qr_svg(&uri)?,
        otpauth_uri: uri.into(),
    })
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

/// The app's first code confirms the pending secret: `mfa` becomes enrolled at `now`, its
/// code's step spent.
pub fn confirm_pending_secret(
    ctx: &Context,
    holder: Holder<'_>,
    mfa: &mut ReviewerMfa,
    code: &TotpCode,
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    if mfa.enrolled_at.is_some() {
        return Err(DomainError::InvalidState(InvalidStateReason::MfaEnrolled));
    }
    let Some(pending) = mfa.pending_secret.clone() else {
        return Err(DomainError::InvalidState(InvalidStateReason::MfaNotStarted));
    };
    let totp = open_totp(ctx, &pending, holder)?;
    let Some(step) = matching_step(&totp, code, now, None) else {
        return Err(DomainError::Validation(vec![FieldError::new(
            "totp_code",
            FieldErrorCode::UnknownValue,
            "確認コードが正しくありません。認証アプリに表示されている最新の6桁を入力してください。",
        )]));
    };
    *mfa = ReviewerMfa {
        secret: Some(pending),
        pending_secret: None,
        enrolled_at: Some(now),
        last_step: Some(step),
    };
    Ok(())
}

/// Ten new recovery codes of `holder` (replacing any before): the codes, to show once.
pub fn replace_recovery_codes(
    conn: &mut DbConnection,
    ctx: &Context,
    holder: Holder<'_>,
    now: OffsetDateTime,
) -> Result<Vec<RecoveryCode>, DomainError> {
    let codes = (0..RECOVERY_CODES)
        .map(|_| generate_recovery_code())
        .collect::<Result<Vec<_>, _>>()?;
    let rows: Vec<RecoveryCodeRow> = codes
        .iter()
        .map(|code| RecoveryCodeRow {
            id: uuid::Uuid::new_v4().to_string(),
            reviewer_id: holder.reviewer_id.to_owned(),
            code_hash: recovery_hash(&ctx.hasher, holder.reviewer_id, code),
            created_at: to_db_time(now),
            used_at: None,
        })
        .collect();
    db::reviewers::replace_recovery_codes(conn, holder.reviewer_id, &rows)?;
    Ok(codes)
}

/// Forgets the second factor of `holder`: the secrets and the recovery codes.
pub fn forget(
    conn: &mut DbConnection,
    holder: Holder<'_>,
    mfa: &mut ReviewerMfa,
) -> Result<(), DomainError> {
    *mfa = ReviewerMfa::default();
    db::reviewers::replace_recovery_codes(conn, holder.reviewer_id, &[])?;
    Ok(())
}

/// How a login's second factor went (see `passwords::LoginStep`).
pub enum SecondFactorCheck {
    /// Right: what to audit. `mfa` changed (an app's code spends its step): store it.
    Passed(&'static str),
    /// None was given.
    Missing,
    /// Wrong, used already, or a recovery code that is not one of the reviewer's.
    Wrong,
}

/// Checks a login's second factor against an enrolled reviewer's `mfa`, and spends it when
/// right: the time step of an app's code is kept in `mfa` (not accepted again; the caller
/// stores it), a recovery code is marked used.
pub fn check_second_factor(
    conn: &mut DbConnection,
    ctx: &Context,
    holder: Holder<'_>,
    mfa: &mut ReviewerMfa,
    given: Option<&SecondFactor>,
    now: OffsetDateTime,
) -> Result<SecondFactorCheck, DomainError> {
    let Some(sealed) = mfa.secret.clone() else {
        return Err(DomainError::Internal(format!(
            "reviewer {} is enrolled without a secret",
            holder.reviewer_id
        )));
    };
    match given {
        None => Ok(SecondFactorCheck::Missing),
        Some(SecondFactor::Totp(code)) => {
            let totp = open_totp(ctx, &sealed, holder)?;
            match matching_step(&totp, code, now, mfa.last_step) {
                Some(step) => {
                    mfa.last_step = Some(step);
                    Ok(SecondFactorCheck::Passed("authenticator app"))
                }
                None => Ok(SecondFactorCheck::Wrong),
            }
        }
        Some(SecondFactor::Recovery(code)) => {
            let unused = db::reviewers::unused_recovery_codes(conn, holder.reviewer_id)?;
            let Some(row) = unused.iter().find(|row| {
                ctx.hasher.verify(
                    &row.code_hash,
                    RECOVERY_PURPOSE,
                    &[holder.reviewer_id, code.as_str()],
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
