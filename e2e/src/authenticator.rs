//! An authenticator app for the tests: the 6-digit TOTP codes (RFC 6238: SHA-1, 30-second
//! steps) of a reviewer's base32 secret, as a phone would show them.

use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds of a time step.
pub const TOTP_STEP_SECONDS: i64 = 30;

/// The code of `secret_base32` for the time step `step` (unix time / 30).
pub fn totp_code_at_step(secret_base32: &str, step: i64) -> anyhow::Result<String> {
    let secret = Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("not a base32 secret: {e:?}"))?;
    let totp = TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        1,
        TOTP_STEP_SECONDS as u64,
        secret,
        None,
        String::new(),
    );
    Ok(totp.generate((step.max(0) * TOTP_STEP_SECONDS) as u64))
}

/// The time step of a unix time.
pub fn totp_step(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(TOTP_STEP_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 s: 94287082.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(
            totp_code_at_step(secret, totp_step(59)).ok().as_deref(),
            Some("287082")
        );
    }
}
