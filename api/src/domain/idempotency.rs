//! Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field"): a billing program on
//! an office PC whose request timed out sends it again with the same `Idempotency-Key`, and gets
//! the first answer again instead of a second application, a second code mail or a second spent
//! budget.
//!
//! A key is scoped to what the request carries: the application's (or reset's) token, or the
//! client address before one exists; only an HMAC of scope and key is stored. The first request
//! holds the key while it runs (a lease, so that a crashed instance does not hold it for ever);
//! its answer is kept, sealed (it may hold the application's token), for 24 hours.

use time::{Duration, OffsetDateTime};

use super::secrets::{Hasher, Sealer};
use super::{Context, DomainError};
use crate::db::models::{from_db_time, to_db_time, IdempotencyKeyRow};
use crate::db::{self, DbConnection};

/// How long a key's first answer is replayed (the draft's suggestion, and the issue's).
pub const KEY_LIFETIME: Duration = Duration::hours(24);

/// How long a running first request holds its key: longer than any request may take (the
/// database's and SMTP's time-outs are seconds), so only a crashed instance's key is taken
/// over.
const RUNNING_LEASE: Duration = Duration::seconds(60);

/// The longest key accepted (the draft leaves it to the server; a UUID is 36).
pub const MAX_KEY_LENGTH: usize = 255;

const KEY_PURPOSE: &str = "idempotency-key";
const SEALING_PURPOSE: &str = "idempotency-answer";

/// An answer as it is kept and replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Location`.
    pub location: Option<String>,
    /// The body (JSON).
    pub body: String,
}

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The first request with this key (or the first since its answer was forgotten): do the
    /// work, then [`finish`] or [`release`].
    First,
    /// The same request was answered already: replay this.
    Replay(StoredAnswer),
    /// The first request with this key is still running (409 `idempotency_key_in_use`).
    InUse,
    /// The key was used for another request (422 `idempotency_key_reused`).
    Reused,
}

/// A key as the client sent it: 1 to 255 visible ASCII characters, as a plain token or a
/// structured-field string (`"…"`, as the draft writes it).
pub fn parse_key(header: &str) -> Option<String> {
    let trimmed = header.trim();
    let key = trimmed
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(trimmed);
    let visible = |c: char| c.is_ascii_graphic();
    (!key.is_empty() && key.len() <= MAX_KEY_LENGTH && key.chars().all(visible))
        .then(|| key.to_owned())
}

/// The stored name of `key` within `scope` (never the key itself).
pub fn key_hash(hasher: &Hasher, scope: &str, key: &str) -> String {
    hasher.digest(KEY_PURPOSE, &[scope, key])
}

/// What makes two requests the same: method, path and body.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), path.as_bytes(), body] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hex::encode(hash.finalize())
}

/// Claims `key_hash` for a request of `request_hash`, under a lock of the key, so that two
/// instances receiving the same retry at once cannot both do the work.
pub async fn claim(
    ctx: &Context,
    key_hash: String,
    request_hash: String,
) -> Result<Claim, DomainError> {
    let sealer = Sealer::new(&ctx.hasher, SEALING_PURPOSE);
    ctx.transaction(move |tx| claim_in(tx.conn, &sealer, tx.now, &key_hash, &request_hash))
        .await
}

fn claim_in(
    conn: &mut DbConnection,
    sealer: &Sealer,
    now: OffsetDateTime,
    key_hash: &str,
    request_hash: &str,
) -> Result<Claim, DomainError> {
    db::lock_key(conn, &format!("idempotency:{key_hash}"))?;
    let running = IdempotencyKeyRow {
        key_hash: key_hash.to_owned(),
        request_hash: request_hash.to_owned(),
        response_status: None,
        response_content_type: None,
        response_location: None,
        response_body: None,
        locked_until: to_db_time(now + RUNNING_LEASE),
        created_at: to_db_time(now),
        expires_at: to_db_time(now + KEY_LIFETIME),
    };
    let Some(stored) = db::idempotency_keys::find(conn, key_hash)? else {
        db::idempotency_keys::insert(conn, &running)?;
        return Ok(Claim::First);
    };
    if from_db_time(stored.expires_at) <= now {
        db::idempotency_keys::update(conn, &running)?;
        return Ok(Claim::First);
    }
    if stored.request_hash != request_hash {
        return Ok(Claim::Reused);
    }
    match (stored.response_status, stored.response_body.as_deref()) {
        (Some(status), Some(sealed)) => {
            let body = sealer
                .open(sealed, &[key_hash])
                .ok_or(DomainError::Internal(
                    "an idempotent answer does not open".into(),
                ))?;
            Ok(Claim::Replay(StoredAnswer {
                status: u16::try_from(status).unwrap_or(500),
                content_type: stored.response_content_type,
                location: stored.response_location,
                body,
            }))
        }
        _ if from_db_time(stored.locked_until) > now => Ok(Claim::InUse),
        // The first request's instance died while it ran: this one takes the key over.
        _ => {
            db::idempotency_keys::update(
                conn,
                &IdempotencyKeyRow {
                    created_at: stored.created_at,
                    ..running
                },
            )?;
            Ok(Claim::First)
        }
    }
}

/// Keeps the first request's answer for the key's lifetime.
pub async fn finish(
    ctx: &Context,
    key_hash: String,
    answer: StoredAnswer,
) -> Result<(), DomainError> {
    let sealed = Sealer::new(&ctx.hasher, SEALING_PURPOSE).seal(&answer.body, &[&key_hash])?;
    ctx.transaction(move |tx| {
        let conn = &mut *tx.conn;
        let Some(mut row) = db::idempotency_keys::find(conn, &key_hash)? else {
            return Ok(());
        };
        row.response_status = Some(i32::from(answer.status));
        row.response_content_type = answer.content_type;
        row.response_location = answer.location;
        row.response_body = Some(sealed);
        db::idempotency_keys::update(conn, &row)?;
        Ok::<_, DomainError>(())
    })
    .await
}

/// Frees the key without an answer: the request failed in a way a retry should repeat (the
/// database was unavailable, a limit said "later").
pub async fn release(ctx: &Context, key_hash: String) -> Result<(), DomainError> {
    ctx.transaction(move |tx| {
        db::idempotency_keys::delete(tx.conn, &key_hash)?;
        Ok::<_, DomainError>(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_visible_ascii_of_at_most_255_characters_quoted_or_not() {
        assert_eq!(
            parse_key("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"").as_deref(),
            Some("8e03978e-40d5-43e8-bc93-6894a57f9324")
        );
        assert_eq!(parse_key(" retry-1 ").as_deref(), Some("retry-1"));
        assert_eq!(parse_key(&"k".repeat(255)).map(|k| k.len()), Some(255));
        for refused in ["", "\"\"", "two words", "鍵", &"k".repeat(256)] {
            assert_eq!(parse_key(refused), None, "{refused}");
        }
    }

    #[test]
    fn requests_are_the_same_only_with_the_same_method_path_and_body() {
        let first = request_hash("POST", "/a", b"{\"x\":1}");
        assert_eq!(first, request_hash("POST", "/a", b"{\"x\":1}"));
        assert_ne!(first, request_hash("POST", "/a", b"{\"x\":2}"));
        assert_ne!(first, request_hash("PUT", "/a", b"{\"x\":1}"));
        assert_ne!(first, request_hash("POST", "/b", b"{\"x\":1}"));
        assert_ne!(
            request_hash("POST", "/a", b"b"),
            request_hash("POST", "/ab", b"")
        );
    }
}
