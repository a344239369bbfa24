//! [`SecretText`]: a password, code or token inside a request or response body. It travels as
//! a plain JSON string, but `Debug` never shows it, so a body logged by mistake (a panic
//! message, a `tracing` field, a test failure) leaks nothing.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Text that must not appear in logs: a password, a one-time code, a bearer token.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    /// Wraps `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text itself, for the one place that needs it (hashing, comparing, sending).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<&str> for SecretText {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The length is not secret enough to hide, and tells an empty field from a filled one.
        write!(
            f,
            "SecretText(<{} characters redacted>)",
            self.0.chars().count()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_text_but_json_carries_it() {
        let secret = SecretText::new("hunter2-password");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(
            serde_json::to_string(&secret).ok().as_deref(),
            Some("\"hunter2-password\"")
        );
        let back: Option<SecretText> = serde_json::from_str("\"1234\"").ok();
        assert_eq!(back.as_ref().map(SecretText::expose), Some("1234"));
    }
}
