//! Keyed pseudonyms of the personal addresses the audit log would otherwise keep for ever.
//!
//! The audit log is append-only (the database refuses UPDATE and DELETE on it), so what it
//! records must be fit to keep after the retention period has erased the application's
//! personal data (`domain::retention`). Client addresses and e-mail addresses therefore go in
//! as an HMAC under a subkey of the server secret: the same address always gives the same
//! pseudonym, so a reviewer still sees that two steps came from one client, and an operator
//! who holds the key can find an address's entries (`reissue pseudonym ADDRESS`); anyone
//! without the key learns nothing from them (an IPv4 address cannot be found by trying all
//! 2^32 of them without the key).

use super::secrets::Hasher;

/// A personal address that the audit log names only by its pseudonym.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Personal<'a> {
    /// The client's IP address (the TCP peer or the trusted proxy's `X-Forwarded-For`).
    ClientAddress(&'a str),
    /// An e-mail address (a notification address, a security e-mail).
    Email(&'a str),
}

/// Hex digits kept of the HMAC: 64 bits, so that two addresses of one federation's log
/// practically never share a pseudonym, while the entry stays readable.
const PSEUDONYM_HEX_DIGITS: usize = 16;

impl Personal<'_> {
    /// The prefix that says what kind of address a pseudonym stands for.
    fn prefix(self) -> &'static str {
        match self {
            Self::ClientAddress(_) => "ip",
            Self::Email(_) => "mail",
        }
    }

    /// The address as it is compared: an IP address in its canonical text (so `::ffff:1.2.3.4`
    /// and `1.2.3.4` stay apart but `2001:DB8::1` and `2001:db8::1` do not), an e-mail address
    /// in lower case.
    fn normalised(self) -> String {
        match self {
            Self::ClientAddress(address) => address
                .trim()
                .parse::<std::net::IpAddr>()
                .map_or_else(|_| address.trim().to_owned(), |ip| ip.to_string()),
            Self::Email(address) => address.trim().to_lowercase(),
        }
    }

    /// The HMAC purpose: one per kind, so an address and an e-mail never share a pseudonym.
    fn purpose(self) -> &'static str {
        match self {
            Self::ClientAddress(_) => "audit-pseudonym:client-address",
            Self::Email(_) => "audit-pseudonym:email",
        }
    }
}

/// The pseudonym written to the audit log: `ip:` or `mail:` and 16 hex digits.
pub fn pseudonym(hasher: &Hasher, personal: Personal<'_>) -> String {
    let digest = hasher.digest(personal.purpose(), &[&personal.normalised()]);
    format!("{}:{}", personal.prefix(), &digest[..PSEUDONYM_HEX_DIGITS])
}

/// The pseudonyms of `personal` under the current secret and each previous one, newest first:
/// entries written before a key rotation carry the pseudonym of the key of their day.
pub fn pseudonyms_under_every_key(hasher: &Hasher, personal: Personal<'_>) -> Vec<String> {
    hasher
        .digests_under_every_key(personal.purpose(), &[&personal.normalised()])
        .into_iter()
        .map(|digest| format!("{}:{}", personal.prefix(), &digest[..PSEUDONYM_HEX_DIGITS]))
        .collect()
}

/// Which kind of address `text` is, for an operator's look-up: an e-mail address has an `@`.
pub fn classify(text: &str) -> Personal<'_> {
    if text.contains('@') {
        Personal::Email(text)
    } else {
        Personal::ClientAddress(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::domain::secrets::KeyRing;

    fn hasher(secret: &str, previous: &[&str]) -> Hasher {
        let previous: Vec<Secret> = previous
            .iter()
            .map(|s| Secret::new(s.as_bytes().to_vec()))
            .collect();
        Hasher::new(KeyRing::new(
            &Secret::new(secret.as_bytes().to_vec()),
            &previous,
        ))
    }

    const KEY: &str = "test-secret-key-0123456789abcdef0123456789";
    const OTHER_KEY: &str = "another-secret-key-0123456789abcdef01234567";

    #[test]
    fn an_address_gives_the_same_pseudonym_each_time_and_never_itself() {
        let hasher = hasher(KEY, &[]);
        let once = pseudonym(&hasher, Personal::ClientAddress("203.0.113.7"));
        assert_eq!(
            once,
            pseudonym(&hasher, Personal::ClientAddress(" 203.0.113.7 "))
        );
        assert!(once.starts_with("ip:"), "{once}");
        assert_eq!(once.len(), "ip:".len() + PSEUDONYM_HEX_DIGITS);
        assert!(!once.contains("203.0.113"));
        assert_ne!(
            once,
            pseudonym(&hasher, Personal::ClientAddress("203.0.113.8"))
        );
    }

    #[test]
    fn spellings_of_one_address_share_a_pseudonym() {
        let hasher = hasher(KEY, &[]);
        assert_eq!(
            pseudonym(&hasher, Personal::ClientAddress("2001:DB8:0::1")),
            pseudonym(&hasher, Personal::ClientAddress("2001:db8::1"))
        );
        assert_eq!(
            pseudonym(&hasher, Personal::Email("Taro@Example.JP")),
            pseudonym(&hasher, Personal::Email("taro@example.jp"))
        );
    }

    #[test]
    fn kinds_and_keys_keep_pseudonyms_apart() {
        let hasher = hasher(KEY, &[]);
        let as_email = pseudonym(&hasher, Personal::Email("a@b"));
        let as_address = pseudonym(&hasher, Personal::ClientAddress("a@b"));
        assert!(as_email.starts_with("mail:"));
        assert_ne!(as_email[5..], as_address[3..]);
        let rotated = self::hasher(OTHER_KEY, &[KEY]);
        let both = pseudonyms_under_every_key(&rotated, Personal::Email("a@b"));
        assert_eq!(both.len(), 2);
        assert_eq!(both[0], pseudonym(&rotated, Personal::Email("a@b")));
        assert_eq!(
            both[1], as_email,
            "the previous key's pseudonym is found too"
        );
    }

    #[test]
    fn an_operator_look_up_tells_an_email_from_a_client_address() {
        assert_eq!(classify("a@example.jp"), Personal::Email("a@example.jp"));
        assert_eq!(
            classify("203.0.113.7"),
            Personal::ClientAddress("203.0.113.7")
        );
    }
}
