//! CSV as the federations' spreadsheets read it: RFC 4180 quoting, formulas defused, and the
//! file as UTF-8 with a BOM (so Excel reads the Japanese) or Shift_JIS on request.

/// RFC 4180 quoting; a value a spreadsheet would read as a formula (a leading `=`, `+`, `-`,
/// `@`, their full-width forms, or a TAB or CR before them, as OWASP lists) is prefixed with `'`
/// (CSV injection).
pub fn field(value: &str) -> String {
    const FORMULA_STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
    let value = if value.starts_with(FORMULA_STARTS) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The file's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvEncoding {
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// Shift_JIS (WHATWG's, as encoding_rs defines it); a character it lacks becomes an HTML
    /// numeric reference, which a reader can still make out.
    ShiftJis,
}

impl CsvEncoding {
    /// `shift_jis` (or `sjis`, `cp932`, any case) asks for Shift_JIS; anything else is UTF-8.
    pub fn from_query(value: Option<&str>) -> Self {
        match value.map(str::to_ascii_lowercase).as_deref() {
            Some("shift_jis" | "shift-jis" | "sjis" | "cp932" | "windows-31j") => Self::ShiftJis,
            _ => Self::Utf8Bom,
        }
    }

    /// The `Content-Type` charset.
    pub fn charset(self) -> &'static str {
        match self {
            Self::Utf8Bom => "utf-8",
            Self::ShiftJis => "Shift_JIS",
        }
    }

    /// The file's bytes.
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Self::Utf8Bom => {
                let mut bytes = "\u{feff}".as_bytes().to_vec();
                bytes.extend_from_slice(text.as_bytes());
                bytes
            }
            Self::ShiftJis => encoding_rs::SHIFT_JIS.encode(text).0.into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("\t=1+1"), "'\t=1+1");
        assert_eq!(field("\r=1+1"), "\"'\r=1+1\"");
        for full_width in ["＝1+1", "＋1", "－1", "＠SUM(A1)"] {
            assert_eq!(field(full_width), format!("'{full_width}"));
        }
        assert_eq!(field("東京都-1"), "東京都-1");
    }

    #[test]
    fn utf8_has_a_bom_and_shift_jis_reads_back() {
        let text = "発送日,宛先\r\n2026-12-07,東京都千代田区\r\n";
        let utf8 = CsvEncoding::Utf8Bom.encode(text);
        assert!(utf8.starts_with(&[0xEF, 0xBB, 0xBF]));
        let sjis = CsvEncoding::from_query(Some("Shift_JIS")).encode(text);
        let (decoded, _, errors) = encoding_rs::SHIFT_JIS.decode(&sjis);
        assert!(!errors);
        assert_eq!(decoded, text);
        assert_eq!(CsvEncoding::from_query(None), CsvEncoding::Utf8Bom);
    }
}
