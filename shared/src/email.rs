//! E-mail addresses entered twice (通知先メールアドレス and its confirmation).
//!
//! The rule is the HTML5 `type=email` rule that browsers apply (it accepts the manual's own
//! example `mailforsecurity-001@jp`, whose domain has no dot), plus RFC 5321's limits: at most
//! 254 characters in all and 64 before the `@`.

use std::fmt;

use serde::Serialize;

use crate::error_code::{FieldError, FieldErrorCode};
use crate::normalize::to_half_width;

/// At most this many characters (RFC 5321 path limit minus the angle brackets).
pub const MAX_LENGTH: usize = 254;
const MAX_LOCAL_LENGTH: usize = 64;

/// Which pair of fields an address came from, with the labels the screen shows.
#[derive(Debug, Clone, Copy)]
pub struct EmailFields {
    /// Request member of the first entry.
    pub field: &'static str,
    /// Request member of the confirmation entry.
    pub confirmation_field: &'static str,
    /// Screen label of the first entry.
    pub label: &'static str,
    /// Screen label of the confirmation entry.
    pub confirmation_label: &'static str,
}

/// 通知先メールアドレス of the reissue application (manual step 6).
pub const NOTICE_EMAIL: EmailFields = EmailFields {
    field: "email",
    confirmation_field: "email_confirmation",
    label: "通知先メールアドレス",
    confirmation_label: "通知先メールアドレス（確認用）",
};

/// セキュリティ用メールアドレス of an office account.
pub const SECURITY_EMAIL: EmailFields = EmailFields {
    field: "email",
    confirmation_field: "email_confirmation",
    label: "セキュリティ用メールアドレス",
    confirmation_label: "セキュリティ用メールアドレス（確認用）",
};

/// A syntactically valid address of at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Trims, turns full-width ASCII (＠, ａ) into half-width and checks the shape; `field` and
    /// `label` name the field in the error.
    pub fn parse(input: &str, field: &str, label: &str) -> Result<Self, FieldError> {
        let normalised: String = input.trim().chars().map(to_half_width).collect();
        let normalised = normalised.trim().to_owned();
        if normalised.is_empty() {
            return Err(FieldError::new(
                field,
                FieldErrorCode::Required,
                format!("{label}を入力してください。"),
            ));
        }
        if normalised.chars().count() > MAX_LENGTH {
            return Err(FieldError::new(
                field,
                FieldErrorCode::TooLong,
                format!("{label}は{MAX_LENGTH}文字以内で入力してください。"),
            ));
        }
        if !is_valid_address(&normalised) {
            return Err(FieldError::new(
                field,
                FieldErrorCode::InvalidFormat,
                format!(
                    "{label}の形式が正しくありません。「例: jimusho@example.jp」のように半角で入力してください。"
                ),
            ));
        }
        Ok(Self(normalised))
    }

    /// Parses both entries; the confirmation must equal the first entry. Every problem is
    /// reported, each on its own field.
    pub fn parse_confirmed(
        email: &str,
        confirmation: &str,
        fields: EmailFields,
    ) -> Result<Self, Vec<FieldError>> {
        let first = Self::parse(email, fields.field, fields.label);
        let second = Self::parse(
            confirmation,
            fields.confirmation_field,
            fields.confirmation_label,
        );
        match (first, second) {
            (Ok(a), Ok(b)) if a == b => Ok(a),
            (Ok(_), Ok(_)) => Err(vec![FieldError::new(
                fields.confirmation_field,
                FieldErrorCode::Mismatch,
                format!(
                    "{}が{}と一致しません。同じメールアドレスを入力してください。",
                    fields.confirmation_label, fields.label
                ),
            )]),
            (a, b) => Err([a.err(), b.err()].into_iter().flatten().collect()),
        }
    }

    /// The address as entered (normalised).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// HTML5 "valid e-mail address": local part of atext and dots, domain of LDH labels.
fn is_valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= MAX_LOCAL_LENGTH
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    let domain_ok = !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pair(a: &str, b: &str) -> Result<EmailAddress, Vec<FieldError>> {
        EmailAddress::parse_confirmed(a, b, NOTICE_EMAIL)
    }

    #[test]
    fn the_manuals_example_is_valid() {
        let address = pair("mailforsecurity-001@jp", "mailforsecurity-001@jp");
        assert_eq!(
            address.map(|a| a.to_string()).ok().as_deref(),
            Some("mailforsecurity-001@jp")
        );
    }

    #[test]
    fn full_width_input_is_normalised() {
        let address = pair("ｊｉｍｕｓｈｏ＠ｅｘａｍｐｌｅ．ｊｐ", "jimusho@example.jp");
        assert_eq!(
            address.map(|a| a.to_string()).ok().as_deref(),
            Some("jimusho@example.jp")
        );
    }

    #[test]
    fn a_different_confirmation_is_reported_on_the_confirmation_field() {
        let errors = pair("a@example.jp", "b@example.jp")
            .err()
            .unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "email_confirmation");
        assert_eq!(errors[0].code, FieldErrorCode::Mismatch);
        assert!(errors[0].message.contains("通知先メールアドレス（確認用）"));
    }

    #[test]
    fn both_fields_report_their_own_errors() {
        let errors = pair("", "not-an-address").err().unwrap_or_default();
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [
                ("email", FieldErrorCode::Required),
                ("email_confirmation", FieldErrorCode::InvalidFormat)
            ]
        );
    }

    #[test]
    fn invalid_shapes_are_refused() {
        for bad in [
            "a",
            "a@",
            "@b",
            "a@b@c",
            "a b@c.jp",
            "a@-b.jp",
            "a@b..jp",
            "あ@example.jp",
        ] {
            let code = EmailAddress::parse(bad, "email", "通知先メールアドレス")
                .err()
                .map(|e| e.code);
            assert_eq!(code, Some(FieldErrorCode::InvalidFormat), "{bad}");
        }
    }

    #[test]
    fn at_most_254_characters() {
        let local = "a".repeat(64);
        let domain = format!("{}.jp", "b".repeat(60));
        let ok = format!("{local}@{domain}.{}.{}", "c".repeat(60), "d".repeat(60));
        assert!(ok.len() <= 254);
        assert!(EmailAddress::parse(&ok, "email", "x").is_ok());
        let too_long = format!("{ok}{}", ".e".repeat((255 - ok.len()).div_ceil(2)));
        let code = EmailAddress::parse(&too_long, "email", "x")
            .err()
            .map(|e| e.code);
        assert_eq!(code, Some(FieldErrorCode::TooLong));
    }

    proptest! {
        #[test]
        fn any_input_parses_or_names_the_field(a in "\\PC{0,300}", b in "\\PC{0,30}") {
            match pair(&a, &b) {
                Ok(address) => prop_assert!(address.as_str().len() <= MAX_LENGTH),
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    for e in errors {
                        prop_assert!(e.field == "email" || e.field == "email_confirmation");
                    }
                }
            }
        }

        #[test]
        fn any_well_formed_address_parses(local in "[a-z0-9._+-]{1,20}", domain in "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){0,3}") {
            let address = format!("{local}@{domain}");
            prop_assert!(pair(&address, &address).is_ok());
        }
    }
}
