//! 事業所番号: the 10-character number that identifies a care office.
//!
//! Positions 1–2 are the prefecture number, position 3 a digit or an upper-case letter other
//! than I, O and Q (A marks 総合事業 offices), positions 4–10 digits. Position 10 is a check
//! digit (modulus 10, weights 2-1), but the manual's own example 1311111111 fails it, so a
//! mismatch is only reported, never refused: the ledger is the authority.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error_code::{FieldError, FieldErrorCode};
use crate::normalize::compact;
use crate::prefecture::PrefectureCode;

/// The request member that carries an office number.
pub const FIELD: &str = "office_number";
const LABEL: &str = "事業所番号";
const LENGTH: usize = 10;

/// A well-formed office number (normalised to half-width, no separators).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct OfficeNumber(String);

impl OfficeNumber {
    /// Normalises full-width characters (１→1, Ａ→A), lower-case letters and separators, then
    /// checks the shape. The error names the field and says what to do.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let normalised = compact(input).to_ascii_uppercase();
        if normalised.is_empty() {
            return Err(error(
                FieldErrorCode::Required,
                format!("{LABEL}を入力してください。"),
            ));
        }
        let chars: Vec<char> = normalised.chars().collect();
        if chars.len() != LENGTH {
            return Err(error(
                FieldErrorCode::InvalidLength,
                format!(
                    "{LABEL}は10桁で入力してください（入力された桁数: {}桁）。",
                    chars.len()
                ),
            ));
        }
        for (index, c) in chars.iter().enumerate() {
            let allowed = match index {
                2 => {
                    c.is_ascii_digit() || (c.is_ascii_uppercase() && !matches!(c, 'I' | 'O' | 'Q'))
                }
                _ => c.is_ascii_digit(),
            };
            if !allowed {
                let what = if index == 2 {
                    "半角数字または英大文字（I・O・Qを除く）"
                } else {
                    "半角数字"
                };
                return Err(error(
                    FieldErrorCode::InvalidCharacter,
                    format!(
                        "{LABEL}の{}桁目「{c}」は使えません。{}桁目は{what}で入力してください。",
                        index + 1,
                        index + 1
                    ),
                ));
            }
        }
        if PrefectureCode::parse(&normalised[..2]).is_err() {
            return Err(error(
                FieldErrorCode::InvalidFormat,
                format!(
                    "{LABEL}の先頭2桁は都道府県番号（01～47）です。入力された「{}」は都道府県番号ではありません。{LABEL}をご確認ください。",
                    &normalised[..2]
                ),
            ));
        }
        Ok(Self(normalised))
    }

    /// The number as 10 half-width characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefecture that positions 1–2 name; the SPA pre-selects it as the billing prefecture.
    pub fn prefecture(&self) -> PrefectureCode {
        // Checked by `parse`: positions 1–2 are always a valid prefecture number.
        PrefectureCode::parse(&self.0[..2]).unwrap_or(PrefectureCode::TOKYO)
    }

    /// Whether position 10 matches the modulus-10 weights-2-1 check digit of positions 1–9.
    /// `None` when position 3 is a letter (the rule is defined on digits only).
    pub fn check_digit_matches(&self) -> Option<bool> {
        let digits: Vec<u32> = self.0.chars().filter_map(|c| c.to_digit(10)).collect();
        if digits.len() != LENGTH {
            return None;
        }
        // Weights 2, 1, 2, 1 … from position 9 leftwards; two-digit products add their digits.
        let sum: u32 = digits[..9]
            .iter()
            .rev()
            .enumerate()
            .map(|(i, d)| {
                let product = d * if i % 2 == 0 { 2 } else { 1 };
                product / 10 + product % 10
            })
            .sum();
        Some((10 - sum % 10) % 10 == digits[9])
    }
}

fn error(code: FieldErrorCode, message: String) -> FieldError {
    FieldError::new(FIELD, code, message)
}

impl fmt::Display for OfficeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for OfficeNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for OfficeNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_code(input: &str) -> Option<FieldErrorCode> {
        OfficeNumber::parse(input).err().map(|e| e.code)
    }

    #[test]
    fn the_manuals_example_parses() {
        let number = OfficeNumber::parse("1311111111").map(|n| n.to_string());
        assert_eq!(number.as_deref(), Ok("1311111111"));
    }

    #[test]
    fn full_width_digits_spaces_and_hyphens_are_normalised() {
        let number = OfficeNumber::parse(" １３１１１-１１１１１ ").map(|n| n.to_string());
        assert_eq!(number.as_deref(), Ok("1311111111"));
    }

    #[test]
    fn position_three_may_be_a_letter_but_not_i_o_q() {
        assert!(OfficeNumber::parse("13A1111111").is_ok());
        assert!(OfficeNumber::parse("13ａ1111111").is_ok());
        for letter in ["I", "O", "Q"] {
            assert_eq!(
                parse_code(&format!("13{letter}1111111")),
                Some(FieldErrorCode::InvalidCharacter)
            );
        }
        assert_eq!(
            parse_code("1311A11111"),
            Some(FieldErrorCode::InvalidCharacter)
        );
    }

    #[test]
    fn empty_input_is_required() {
        assert_eq!(parse_code("  "), Some(FieldErrorCode::Required));
    }

    #[test]
    fn wrong_length_says_how_many_digits_were_entered() {
        let err = OfficeNumber::parse("131111111").err();
        assert_eq!(
            err.as_ref().map(|e| e.code),
            Some(FieldErrorCode::InvalidLength)
        );
        assert!(err.map(|e| e.message).unwrap_or_default().contains("9桁"));
    }

    #[test]
    fn the_first_two_digits_must_be_a_prefecture() {
        assert_eq!(
            parse_code("4811111111"),
            Some(FieldErrorCode::InvalidFormat)
        );
        assert_eq!(
            parse_code("0011111111"),
            Some(FieldErrorCode::InvalidFormat)
        );
        assert!(OfficeNumber::parse("4711111111").is_ok());
    }

    #[test]
    fn messages_name_the_field() {
        for input in ["", "1", "13I1111111", "9911111111"] {
            let message = OfficeNumber::parse(input).err().map(|e| e.message);
            assert!(
                message.unwrap_or_default().contains("事業所番号"),
                "{input}"
            );
        }
    }

    #[test]
    fn check_digit_is_reported_not_enforced() {
        // The manual's example fails the check digit and is still a valid office number.
        let example = OfficeNumber::parse("1311111111").ok();
        assert_eq!(example.and_then(|n| n.check_digit_matches()), Some(false));
        // 131111111 → weighted sum 16 → check digit 4.
        let valid = OfficeNumber::parse("1311111114").ok();
        assert_eq!(valid.and_then(|n| n.check_digit_matches()), Some(true));
        let lettered = OfficeNumber::parse("13A1111111").ok();
        assert_eq!(lettered.and_then(|n| n.check_digit_matches()), None);
    }

    #[test]
    fn prefecture_comes_from_the_first_two_digits() {
        let number = OfficeNumber::parse("3112345678").ok();
        assert_eq!(
            number
                .map(|n| n.prefecture().as_str().to_owned())
                .as_deref(),
            Some("31")
        );
    }

    proptest! {
        #[test]
        fn any_input_parses_or_names_the_field(input in "\\PC{0,40}") {
            match OfficeNumber::parse(&input) {
                Ok(number) => prop_assert_eq!(number.as_str().len(), 10),
                Err(e) => {
                    prop_assert_eq!(e.field.as_str(), FIELD);
                    prop_assert!(e.message.contains("事業所番号"));
                }
            }
        }

        #[test]
        fn every_well_formed_number_parses(prefix in 1u8..=47, rest in "[0-9A-HJ-NPR-Z][0-9]{7}") {
            let input = format!("{prefix:02}{rest}");
            prop_assert_eq!(OfficeNumber::parse(&input).map(|n| n.to_string()), Ok(input));
        }
    }
}
