//! The federation's own workflow (DESIGN.md "The federation's workflow"): each prefecture's
//! settings, the registered-post tracking number, and the rules on their input.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error_code::{FieldError, FieldErrorCode};
use crate::input::ParseInput;
use crate::normalize::{compact, to_half_width};

/// The manual's help desk (メール文例), the line a prefecture keeps until it sets its own.
pub const MANUAL_HELPDESK_PHONE: &str = "0570-059-402";

/// Most characters in a federation's name.
pub const MAX_NAME: usize = 60;
/// Most characters in a postal address.
pub const MAX_ADDRESS: usize = 200;
/// Most characters in the return-envelope instructions.
pub const MAX_INSTRUCTIONS: usize = 1000;
/// Most characters in a call's note (as in a reviewer's other notes).
pub const MAX_NOTE: usize = 2000;
/// The review target's range, in business days.
pub const REVIEW_TARGET_DAYS: std::ops::RangeInclusive<u32> = 1..=60;

/// `GET /admin/prefecture-settings` and the body of `PUT`: how one prefecture's federation
/// runs the work. Mails and notices of the prefecture use these instead of constants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PrefectureSettings {
    /// The federation's name as letters and mails sign it.
    #[cfg_attr(
        feature = "server",
        schema(
            example = "東京都国民健康保険団体連合会",
            required = true,
            min_length = 1,
            max_length = 60,
            pattern = r"[^\s\u0085]"
        )
    )]
    pub federation_name: String,
    /// The postal address printed on notices (postal code and address, one line).
    #[cfg_attr(
        feature = "server",
        schema(
            example = "〒102-0072 東京都千代田区飯田橋3-5-1",
            required = true,
            min_length = 1,
            max_length = 200,
            pattern = r"[^\s\u0085]"
        )
    )]
    pub federation_address: String,
    /// The federation's telephone number for offices (digits and hyphens).
    #[cfg_attr(
        feature = "server",
        schema(
            example = "03-6238-0011",
            required = true,
            pattern = r"^0(-?[0-9]){9,10}$"
        )
    )]
    pub federation_phone: String,
    /// The help desk line at the end of every mail (the manual's is 0570-059-402).
    #[cfg_attr(
        feature = "server",
        schema(
            example = "0570-059-402",
            required = true,
            pattern = r"^0(-?[0-9]){9,10}$"
        )
    )]
    pub helpdesk_phone: String,
    /// The notice is posted only after the office has sent a stamped return envelope.
    pub return_envelope_required: bool,
    /// What the office must send (stamps, amount, envelope size, address): mailed with a
    /// return-envelope request. Required when `return_envelope_required`.
    #[cfg_attr(feature = "server", schema(max_length = 1000))]
    pub envelope_instructions: String,
    /// An approval needs a reached call to the ledger's telephone number first.
    pub callback_required: bool,
    /// The review target: business days from submission to a decision (1–60).
    #[cfg_attr(feature = "server", schema(example = 5, minimum = 1, maximum = 60))]
    #[serde(deserialize_with = "whole_number")]
    pub review_target_business_days: u32,
}

/// A whole number as JSON may write it: `9` or `9.0` (JSON Schema's integers include both);
/// anything else is malformed.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    struct Whole;
    impl serde::de::Visitor<'_> for Whole {
        type Value = u32;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u32, E> {
            u32::try_from(v).map_err(|_| E::custom("number too large"))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u32, E> {
            u32::try_from(v).map_err(|_| E::custom("number out of range"))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u32, E> {
            if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                Ok(v as u32)
            } else {
                Err(E::custom("not a whole number"))
            }
        }
    }
    deserializer.deserialize_any(Whole)
}

/// What a member left out of a `PUT` body reads as: empty texts (refused where required),
/// nothing required, and the usual review target (the document's defaults must obey the
/// schema: 1–60 days).
impl Default for PrefectureSettings {
    fn default() -> Self {
        Self {
            federation_name: String::new(),
            federation_address: String::new(),
            federation_phone: String::new(),
            helpdesk_phone: String::new(),
            return_envelope_required: false,
            envelope_instructions: String::new(),
            callback_required: false,
            review_target_business_days: DEFAULT_REVIEW_TARGET_DAYS,
        }
    }
}

/// The review target of a prefecture that has not set its own.
pub const DEFAULT_REVIEW_TARGET_DAYS: u32 = 5;

impl PrefectureSettings {
    /// What a prefecture that has not set its own works with: the federation's usual name,
    /// the manual's help desk, no envelope, no call-back, five business days.
    pub fn defaults_for(prefecture_name: &str) -> Self {
        Self {
            federation_name: format!("{prefecture_name}国民健康保険団体連合会"),
            federation_address: String::new(),
            federation_phone: String::new(),
            helpdesk_phone: MANUAL_HELPDESK_PHONE.to_owned(),
            return_envelope_required: false,
            envelope_instructions: String::new(),
            callback_required: false,
            review_target_business_days: DEFAULT_REVIEW_TARGET_DAYS,
        }
    }
}

/// The settings as the console shows them: whose, and who changed them last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PrefectureSettingsView {
    /// JIS X 0401 code of the reviewer's prefecture.
    #[cfg_attr(feature = "server", schema(example = "13"))]
    pub prefecture_code: String,
    /// The prefecture's name.
    #[cfg_attr(feature = "server", schema(example = "東京都"))]
    pub prefecture_name: String,
    /// The settings in force (the defaults until a supervisor saves them).
    pub settings: PrefectureSettings,
    /// When a supervisor last saved them; absent while the defaults apply.
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    pub updated_at: Option<OffsetDateTime>,
    /// Who saved them last (the reviewer's name).
    #[serde(default)]
    pub updated_by: Option<String>,
    /// Whether the reviewer may change them (supervisors only).
    pub editable: bool,
}

/// The return envelope (返信用封筒), a flag beside the status: asked for, and arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EnvelopeState {
    /// Not asked for, not arrived.
    #[default]
    None,
    /// Asked for; the notice waits for it (返信用封筒待ち).
    Requested,
    /// Arrived (返信用封筒受領済).
    Received,
}

impl EnvelopeState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Requested => "requested",
            Self::Received => "received",
        }
    }

    /// The wire name back.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::None, Self::Requested, Self::Received]
            .into_iter()
            .find(|state| state.as_str() == text)
    }

    /// The console's label (empty for none).
    pub fn label(self) -> &'static str {
        match self {
            Self::None => "",
            Self::Requested => "返信用封筒待ち",
            Self::Received => "返信用封筒受領済",
        }
    }
}

/// `POST /admin/applications/{id}/callbacks`: a call to the ledger's telephone number.
/// `reached` must be given (a body without it is malformed: 400).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CallbackRequest {
    /// Whether someone of the office answered.
    pub reached: bool,
    /// What was said (optional).
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 2000))]
    pub note: String,
}

/// A call as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// Reached the office.
    pub reached: bool,
    /// The note, trimmed (may be empty).
    pub note: String,
}

impl ParseInput for CallbackRequest {
    type Input = Callback;

    fn parse(&self) -> Result<Callback, Vec<FieldError>> {
        let mut errors = Vec::new();
        let note = text_field(
            &self.note,
            "note",
            "通話のメモ",
            MAX_NOTE,
            false,
            &mut errors,
        );
        if errors.is_empty() {
            Ok(Callback {
                reached: self.reached,
                note,
            })
        } else {
            Err(errors)
        }
    }
}

/// One call to the ledger's number, as the application's page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CallbackView {
    /// The reviewer who called (name).
    pub called_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub called_at: OffsetDateTime,
    /// The ledger's number that was dialled.
    pub phone: String,
    /// Whether someone answered.
    pub reached: bool,
    /// What was said.
    pub note: String,
}

/// What this prefecture asks before an approval, and where the application stands on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApprovalChecks {
    /// The prefecture requires a return envelope before the notice is issued.
    pub return_envelope_required: bool,
    /// The prefecture requires a reached call to the ledger's number before approval.
    pub callback_required: bool,
    /// A call reached the office.
    pub callback_reached: bool,
}

/// `GET /admin/dispatch-register?from=&to=`: Japan's dates, `YYYY-MM-DD`, both included;
/// the last 31 days when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
pub struct DispatchQuery {
    /// First day (発送日), `YYYY-MM-DD`; at most 366 days before `to`.
    #[cfg_attr(
        feature = "server",
        param(pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$")
    )]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`; not before `from`.
    #[cfg_attr(
        feature = "server",
        param(pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$")
    )]
    pub to: Option<String>,
    /// `shift_jis` for a Shift_JIS CSV (older spreadsheet software); UTF-8 with BOM otherwise.
    pub encoding: Option<String>,
}

/// Most days in one register query.
pub const MAX_DISPATCH_DAYS: i64 = 366;

impl DispatchQuery {
    /// The days asked for, given today; or what is wrong.
    pub fn range(&self, today: time::Date) -> Result<(time::Date, time::Date), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut day = |value: &Option<String>, field: &str, label: &str| match value
            .as_deref()
            .map(str::trim)
        {
            None | Some("") => None,
            Some(text) => {
                let parsed = parse_date(text);
                if parsed.is_none() {
                    errors.push(FieldError::new(
                        field,
                        FieldErrorCode::InvalidFormat,
                        format!("{label}は 2026-12-07 の形（年-月-日）で入力してください。"),
                    ));
                }
                parsed
            }
        };
        let to = day(&self.to, "to", "終了日");
        let from = day(&self.from, "from", "開始日");
        if !errors.is_empty() {
            return Err(errors);
        }
        let to = to.unwrap_or(today);
        let from = from.unwrap_or(to - time::Duration::days(30));
        if from > to {
            return Err(vec![FieldError::new(
                "from",
                FieldErrorCode::InvalidFormat,
                "開始日は終了日より前の日付にしてください。",
            )]);
        }
        if (to - from).whole_days() >= MAX_DISPATCH_DAYS {
            return Err(vec![FieldError::new(
                "from",
                FieldErrorCode::InvalidFormat,
                format!(
                    "一度に表示できる期間は{MAX_DISPATCH_DAYS}日までです。期間を短くしてください。"
                ),
            )]);
        }
        Ok((from, to))
    }
}

/// One line of the dispatch register (発送簿).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DispatchEntry {
    /// 発送日, `YYYY-MM-DD`.
    pub mailed_on: String,
    /// 受付番号.
    pub reference_number: String,
    /// 事業所番号.
    pub office_number: String,
    /// 宛先: the ledger's postal code, address and office name when posted.
    pub mailed_to: String,
    /// 追跡番号, as the label prints it.
    pub tracking_number: Option<String>,
    /// Who marked it 郵送済.
    pub mailed_by: String,
    /// The application.
    pub application_id: String,
}

/// Answer of `GET /admin/dispatch-register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DispatchRegister {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day.
    pub to: String,
    /// The lines, by day and then reference number.
    pub items: Vec<DispatchEntry>,
}

/// A Japanese telephone number as offices dial it: 10 or 11 digits starting with 0, kept with
/// the hyphens it was entered with (full-width digits and hyphen look-alikes made ASCII).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses `input`; `field` and `label` name it in the error.
    pub fn parse(input: &str, field: &str, label: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(
                field,
                FieldErrorCode::Required,
                format!("{label}を入力してください。"),
            ));
        }
        let digits = compact(trimmed);
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                FieldErrorCode::InvalidCharacter,
                format!("{label}は数字とハイフンで入力してください（例: 03-1234-5678）。"),
            ));
        }
        if !digits.starts_with('0') || !(10..=11).contains(&digits.len()) {
            return Err(FieldError::new(
                field,
                FieldErrorCode::InvalidFormat,
                format!("{label}は0から始まる10桁または11桁の番号で入力してください（例: 03-1234-5678）。"),
            ));
        }
        let shown: String = trimmed
            .chars()
            .map(to_half_width)
            .map(|c| {
                if crate::normalize::is_separator(c) && c != ' ' {
                    '-'
                } else {
                    c
                }
            })
            .filter(|c| *c != ' ')
            .collect();
        Ok(Self(shown))
    }

    /// As entered, hyphens kept.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The settings once every field parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSettings(PrefectureSettings);

impl ValidSettings {
    /// The parsed settings, trimmed.
    pub fn into_inner(self) -> PrefectureSettings {
        self.0
    }

    /// Read-only view.
    pub fn get(&self) -> &PrefectureSettings {
        &self.0
    }
}

fn text_field(
    value: &str,
    field: &str,
    label: &str,
    max: usize,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> String {
    let text = value.trim();
    if required && text.is_empty() {
        errors.push(FieldError::new(
            field,
            FieldErrorCode::Required,
            format!("{label}を入力してください。"),
        ));
    } else if text.chars().count() > max {
        errors.push(FieldError::new(
            field,
            FieldErrorCode::TooLong,
            format!("{label}は{max}文字以内で入力してください。"),
        ));
    }
    text.to_owned()
}

impl ParseInput for PrefectureSettings {
    type Input = ValidSettings;

    fn parse(&self) -> Result<ValidSettings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let federation_name = text_field(
            &self.federation_name,
            "federation_name",
            "国保連合会の名称",
            MAX_NAME,
            true,
            &mut errors,
        );
        let federation_address = text_field(
            &self.federation_address,
            "federation_address",
            "国保連合会の住所",
            MAX_ADDRESS,
            true,
            &mut errors,
        );
        let mut phone =
            |value: &str, field: &str, label: &str| match PhoneNumber::parse(value, field, label) {
                Ok(phone) => phone.as_str().to_owned(),
                Err(error) => {
                    errors.push(error);
                    String::new()
                }
            };
        let federation_phone = phone(
            &self.federation_phone,
            "federation_phone",
            "国保連合会の電話番号",
        );
        let helpdesk_phone = phone(
            &self.helpdesk_phone,
            "helpdesk_phone",
            "ヘルプデスクの電話番号",
        );
        let envelope_instructions = text_field(
            &self.envelope_instructions,
            "envelope_instructions",
            "返信用封筒の案内文",
            MAX_INSTRUCTIONS,
            self.return_envelope_required,
            &mut errors,
        );
        if !REVIEW_TARGET_DAYS.contains(&self.review_target_business_days) {
            errors.push(FieldError::new(
                "review_target_business_days",
                FieldErrorCode::UnknownValue,
                format!(
                    "審査の目標日数は{}から{}までの営業日数で入力してください。",
                    REVIEW_TARGET_DAYS.start(),
                    REVIEW_TARGET_DAYS.end()
                ),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidSettings(PrefectureSettings {
            federation_name,
            federation_address,
            federation_phone,
            helpdesk_phone,
            return_envelope_required: self.return_envelope_required,
            envelope_instructions,
            callback_required: self.callback_required,
            review_target_business_days: self.review_target_business_days,
        }))
    }
}

/// A Japan Post registered-mail number (追跡番号, お問い合わせ番号): 11 to 13 digits. For 11
/// and 12 digits the last digit is the rest of the others divided by 7, as on every 書留 and
/// ゆうパック label, so a mistyped digit is caught; the number is kept as digits only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackingNumber(String);

impl TrackingNumber {
    /// Parses what a reviewer typed (hyphens, spaces and full-width digits allowed).
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        const FIELD: &str = "tracking_number";
        let digits = compact(input);
        if digits.is_empty() {
            return Err(FieldError::new(
                FIELD,
                FieldErrorCode::Required,
                "追跡番号を入力してください。",
            ));
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                FIELD,
                FieldErrorCode::InvalidCharacter,
                "追跡番号は数字で入力してください（ハイフンは省略できます）。",
            ));
        }
        if !(11..=13).contains(&digits.len()) {
            return Err(FieldError::new(
                FIELD,
                FieldErrorCode::InvalidLength,
                format!(
                    "追跡番号は11桁から13桁の数字です（入力は{}桁）。書留の控えの番号を確認してください。",
                    digits.len()
                ),
            ));
        }
        if digits.len() <= 12 && !check_digit_matches(&digits) {
            return Err(FieldError::new(
                FIELD,
                FieldErrorCode::InvalidFormat,
                "追跡番号の最後の桁が合いません。書留の控えの番号をもう一度確認してください。",
            ));
        }
        Ok(Self(digits))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As the label prints it: `131-12-38385-2` for the 11 digits of a 書留 receipt, groups
    /// of four (`1234-5678-9013`) otherwise.
    pub fn display(&self) -> String {
        let digits = self.0.as_str();
        if digits.len() == 11 {
            return format!(
                "{}-{}-{}-{}",
                &digits[..3],
                &digits[3..5],
                &digits[5..10],
                &digits[10..]
            );
        }
        digits
            .as_bytes()
            .chunks(4)
            .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// The body of `POST /admin/applications/{id}/notice-mailed` (郵送済): both members optional;
/// an empty body (or none) marks the notice posted today without a number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NoticeMailedRequest {
    /// 追跡番号 of the registered post: 11–13 digits (hyphens and spaces are accepted too);
    /// for 11 and 12 digits the last is the others modulo 7.
    #[cfg_attr(
        feature = "server",
        schema(example = "13112383852", pattern = r"^([0-9]{11,13})?$")
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// 発送日 (Japan's date, `YYYY-MM-DD`); today when absent. Not in the future.
    #[cfg_attr(
        feature = "server",
        schema(example = "2026-12-07", format = Date, pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$")
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailed_on: Option<String>,
}

/// 郵送済 as parsed: the number, if any, and the day, if given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeMailed {
    /// The registered post's number.
    pub tracking_number: Option<TrackingNumber>,
    /// The day it was posted (Japan), if not today.
    pub mailed_on: Option<time::Date>,
}

impl ParseInput for NoticeMailedRequest {
    type Input = NoticeMailed;

    fn parse(&self) -> Result<NoticeMailed, Vec<FieldError>> {
        let mut errors = Vec::new();
        let tracking_number = match self.tracking_number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => TrackingNumber::parse(text)
                .map_err(|error| errors.push(error))
                .ok(),
        };
        let mailed_on = match self.mailed_on.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => parse_date(text)
                .ok_or_else(|| {
                    errors.push(FieldError::new(
                        "mailed_on",
                        FieldErrorCode::InvalidFormat,
                        "発送日は 2026-12-07 の形（年-月-日）で入力してください。",
                    ))
                })
                .ok(),
        };
        if errors.is_empty() {
            Ok(NoticeMailed {
                tracking_number,
                mailed_on,
            })
        } else {
            Err(errors)
        }
    }
}

/// `YYYY-MM-DD` (full-width digits allowed), a real calendar day.
pub fn parse_date(text: &str) -> Option<time::Date> {
    let text: String = text.chars().map(to_half_width).collect();
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || month.is_empty() || day.is_empty() {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()
}

/// Whether the last digit is the others, read as one number, modulo 7.
fn check_digit_matches(digits: &str) -> bool {
    let (body, last) = digits.split_at(digits.len() - 1);
    let rest = body
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 7);
    last.bytes().next().map(|b| u32::from(b - b'0')) == Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> PrefectureSettings {
        PrefectureSettings {
            federation_name: "鳥取県国民健康保険団体連合会".into(),
            federation_address: "〒680-0000 鳥取県鳥取市".into(),
            federation_phone: "0857-00-0000".into(),
            helpdesk_phone: "0570-059-402".into(),
            return_envelope_required: true,
            envelope_instructions: "460円分の切手を貼った長形3号の返信用封筒を送ってください。"
                .into(),
            callback_required: true,
            review_target_business_days: 5,
        }
    }

    #[test]
    fn well_formed_settings_parse_trimmed() {
        let mut input = valid();
        input.federation_name = "  鳥取県国民健康保険団体連合会 ".into();
        input.federation_phone = "０８５７－００－００００".into();
        let parsed = input.parse().map(ValidSettings::into_inner);
        let parsed = parsed.unwrap_or_default();
        assert_eq!(parsed.federation_name, "鳥取県国民健康保険団体連合会");
        assert_eq!(parsed.federation_phone, "0857-00-0000");
    }

    #[test]
    fn every_wrong_field_is_named_at_once() {
        let input = PrefectureSettings {
            federation_name: " ".into(),
            federation_address: "x".repeat(201),
            federation_phone: "03-12".into(),
            helpdesk_phone: "電話".into(),
            return_envelope_required: true,
            envelope_instructions: String::new(),
            callback_required: false,
            review_target_business_days: 0,
        };
        let errors = input.parse().err().unwrap_or_default();
        let fields: Vec<(&str, FieldErrorCode)> =
            errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            vec![
                ("federation_name", FieldErrorCode::Required),
                ("federation_address", FieldErrorCode::TooLong),
                ("federation_phone", FieldErrorCode::InvalidFormat),
                ("helpdesk_phone", FieldErrorCode::InvalidCharacter),
                ("envelope_instructions", FieldErrorCode::Required),
                ("review_target_business_days", FieldErrorCode::UnknownValue),
            ]
        );
        assert!(errors[4].message.contains("返信用封筒の案内文"));
    }

    #[test]
    fn instructions_are_optional_without_an_envelope() {
        let mut input = valid();
        input.return_envelope_required = false;
        input.envelope_instructions = String::new();
        assert!(input.parse().is_ok());
    }

    #[test]
    fn registered_mail_numbers_check_their_last_digit() {
        // 131-12-38385-2: 1311238385 = 7 × 187319769 + 2.
        let number = TrackingNumber::parse("131-12-38385-2").map(|n| n.display());
        assert_eq!(number.as_deref(), Ok("131-12-38385-2"));
        assert_eq!(
            TrackingNumber::parse("１３１１２３８３８５２").map(|n| n.as_str().to_owned()),
            Ok("13112383852".to_owned())
        );
        let wrong = TrackingNumber::parse("13112383853").err().map(|e| e.code);
        assert_eq!(wrong, Some(FieldErrorCode::InvalidFormat));
        // 12 digits: 12345678901 = 7 × 1763668414 + 3.
        assert!(TrackingNumber::parse("1234-5678-9013").is_ok());
        assert!(TrackingNumber::parse("1234-5678-9012").is_err());
        // 13 digits carry no check digit we know of: the length alone is checked.
        assert!(TrackingNumber::parse("1234567890123").is_ok());
    }

    #[test]
    fn tracking_numbers_of_the_wrong_shape_say_what_to_check() {
        let code = |input: &str| TrackingNumber::parse(input).err().map(|e| e.code);
        assert_eq!(code(""), Some(FieldErrorCode::Required));
        assert_eq!(code("1234"), Some(FieldErrorCode::InvalidLength));
        assert_eq!(code("12345678901234"), Some(FieldErrorCode::InvalidLength));
        assert_eq!(
            code("RR123456789JP"),
            Some(FieldErrorCode::InvalidCharacter)
        );
    }

    #[test]
    fn notice_mailed_takes_an_optional_number_and_day() {
        let empty = NoticeMailedRequest::default().parse();
        assert_eq!(
            empty,
            Ok(NoticeMailed {
                tracking_number: None,
                mailed_on: None
            })
        );
        let full = NoticeMailedRequest {
            tracking_number: Some("131-12-38385-2".into()),
            mailed_on: Some("2026-12-07".into()),
        }
        .parse();
        assert_eq!(
            full.map(|m| (
                m.tracking_number.map(|n| n.as_str().to_owned()),
                m.mailed_on
            )),
            Ok((
                Some("13112383852".to_owned()),
                time::Date::from_calendar_date(2026, time::Month::December, 7).ok()
            ))
        );
        let wrong = NoticeMailedRequest {
            tracking_number: Some("12".into()),
            mailed_on: Some("2026-02-30".into()),
        }
        .parse()
        .err()
        .unwrap_or_default();
        let fields: Vec<&str> = wrong.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["tracking_number", "mailed_on"]);
    }

    #[test]
    fn phone_numbers_are_ten_or_eleven_digits_from_zero() {
        assert!(PhoneNumber::parse("0570-059-402", "f", "電話").is_ok());
        assert!(PhoneNumber::parse("090-1234-5678", "f", "電話").is_ok());
        assert!(PhoneNumber::parse("1234567890", "f", "電話").is_err());
        assert!(PhoneNumber::parse("03-1234-567", "f", "電話").is_err());
    }
}

#[cfg(feature = "server")]
crate::input::validate_by_parsing!(PrefectureSettings, NoticeMailedRequest, CallbackRequest);
