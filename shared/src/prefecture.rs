//! 都道府県コード (JIS X 0401): "01" 北海道 … "47" 沖縄県. A care office bills the federation
//! (国保連合会) of one prefecture; each federation keeps its own ledger.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error_code::{FieldError, FieldErrorCode};
use crate::normalize::compact;

/// The request member that carries a prefecture code.
pub const FIELD: &str = "prefecture_code";

/// The 47 prefectures in JIS X 0401 order; index 0 is code "01".
pub const NAMES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// A valid prefecture code, 1–47.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrefectureCode(u8);

impl PrefectureCode {
    /// 東京都 (13).
    pub const TOKYO: Self = Self(13);
    /// 鳥取県 (31).
    pub const TOTTORI: Self = Self(31);

    /// Accepts "01"–"47" (full-width digits too).
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let normalised = compact(input);
        if normalised.is_empty() {
            return Err(FieldError::new(
                FIELD,
                FieldErrorCode::Required,
                "請求先都道府県を選択してください。",
            ));
        }
        match normalised.parse::<u8>() {
            Ok(n @ 1..=47)
                if normalised.len() == 2 && normalised.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Ok(Self(n))
            }
            _ => Err(FieldError::new(
                FIELD,
                FieldErrorCode::UnknownValue,
                "請求先都道府県は一覧から選択してください（都道府県コード 01～47）。",
            )),
        }
    }

    /// All 47 prefectures in code order.
    pub fn all() -> impl Iterator<Item = Self> {
        (1..=47).map(Self)
    }

    /// The two-digit code, "01"–"47".
    pub fn as_str(self) -> &'static str {
        const CODES: [&str; 47] = [
            "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
            "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28",
            "29", "30", "31", "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42",
            "43", "44", "45", "46", "47",
        ];
        CODES[usize::from(self.0 - 1)]
    }

    /// The Japanese name, e.g. 東京都.
    pub fn name(self) -> &'static str {
        NAMES[usize::from(self.0 - 1)]
    }
}

impl fmt::Display for PrefectureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PrefectureCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PrefectureCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn there_are_47_in_jis_order() {
        let all: Vec<_> = PrefectureCode::all().collect();
        assert_eq!(all.len(), 47);
        assert_eq!((all[0].as_str(), all[0].name()), ("01", "北海道"));
        assert_eq!((all[12].as_str(), all[12].name()), ("13", "東京都"));
        assert_eq!((all[30].as_str(), all[30].name()), ("31", "鳥取県"));
        assert_eq!((all[46].as_str(), all[46].name()), ("47", "沖縄県"));
    }

    #[test]
    fn only_two_digit_codes_01_to_47_parse() {
        assert_eq!(PrefectureCode::parse("13"), Ok(PrefectureCode::TOKYO));
        assert_eq!(PrefectureCode::parse("３１"), Ok(PrefectureCode::TOTTORI));
        for bad in ["00", "48", "1", "013", "ab", "+1"] {
            let code = PrefectureCode::parse(bad).err().map(|e| e.code);
            assert_eq!(code, Some(FieldErrorCode::UnknownValue), "{bad}");
        }
        let code = PrefectureCode::parse("").err().map(|e| e.code);
        assert_eq!(code, Some(FieldErrorCode::Required));
    }

    proptest! {
        #[test]
        fn any_input_parses_or_names_the_field(input in "\\PC{0,10}") {
            match PrefectureCode::parse(&input) {
                Ok(code) => prop_assert_eq!(PrefectureCode::parse(code.as_str()), Ok(code)),
                Err(e) => prop_assert_eq!(e.field.as_str(), FIELD),
            }
        }
    }
}
