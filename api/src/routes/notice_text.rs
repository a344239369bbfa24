//! The words of the notice 電子請求ログイン情報再発行通知書, kept once for its two renderings:
//! the printable HTML page (`notice_html`) and the PDF (`notice_pdf`) say the same.

use crate::domain::review::NoticeLetter;

/// The notice's title.
pub const TITLE: &str = "電子請求ログイン情報再発行通知書";

/// The sentence under the title.
pub const INTRODUCTION: &str = "ログイン情報の再発行申請を承認しましたので、次のとおり通知します。";

/// How to log in with the temporary password and why it must be changed, in order.
pub const INSTRUCTIONS: [&str; 5] = [
    "電子請求受付システムのログイン画面で、上記のユーザIDと仮パスワードを入力してログインしてください。",
    "仮パスワードでログインすると、新しいパスワードの設定を求められます。仮パスワードは郵送の途中で第三者の目に触れるおそれがあるため、必ずご自身で新しいパスワードを設定してください（10文字以上、ユーザIDを含まないもの）。",
    "仮パスワードでログインするまでは、現在のパスワードでもログインすることができます。仮パスワードでログインした時点で、現在のパスワードは使えなくなります。",
    "有効期限を過ぎた仮パスワードは使えません。その場合は、改めてログイン情報再発行申請を行ってください。",
    "この通知書は、他の人の目に触れないよう大切に保管してください。",
];

/// After the office's name in the address (an organisation: 御中).
pub const ADDRESSEE_HONORIFIC: &str = "御中";

/// Before the reference number.
pub const REFERENCE_LABEL: &str = "受付番号";

/// The one line of a batch with no notice waiting to be posted.
pub const NONE_WAITING: &str = "郵送待ちの通知書はありません。";

/// The table's labels.
pub const OFFICE_NUMBER_LABEL: &str = "事業所番号";
/// The table's labels.
pub const OFFICE_NAME_LABEL: &str = "事業所名";
/// The table's labels.
pub const USER_ID_LABEL: &str = "ユーザID";
/// The table's labels.
pub const PASSWORD_LABEL: &str = "仮パスワード";
/// The table's labels.
pub const EXPIRY_LABEL: &str = "仮パスワードの有効期限";

/// One notice's values, as both renderings print them.
#[derive(Debug, Clone)]
pub struct NoticeWords {
    /// Date of issue, e.g. 2026年4月1日.
    pub issued_on: String,
    /// 受付番号.
    pub reference_number: String,
    /// The ledger's 郵便番号 (empty without a ledger entry).
    pub postal_code: String,
    /// The ledger's 住所.
    pub address: String,
    /// The ledger's 事業所名.
    pub office_name: String,
    /// 事業所番号.
    pub office_number: String,
    /// ユーザID.
    pub user_id: String,
    /// 仮パスワード.
    pub temporary_password: String,
    /// The temporary password's last day, e.g. 2026年4月15日.
    pub expires_on: String,
    /// The issuer's block, line by line: the federation (e.g. 鳥取県国民健康保険団体連合会),
    /// its address and telephone where the prefecture set them, and the help desk.
    pub issuer: Vec<String>,
}

impl NoticeWords {
    /// The words of `letter`.
    pub fn of(letter: &NoticeLetter) -> Self {
        let (postal_code, address, office_name) = letter
            .ledger_entry
            .as_ref()
            .map(|e| {
                (
                    e.postal_code.clone(),
                    e.address.clone(),
                    e.office_name.clone(),
                )
            })
            .unwrap_or_default();
        Self {
            issued_on: japan_date(letter.issued_at),
            reference_number: letter.reference_number.clone(),
            postal_code,
            address,
            office_name,
            office_number: letter.office_number.clone(),
            user_id: letter.user_id.clone(),
            temporary_password: letter.temporary_password.clone(),
            expires_on: japan_date(letter.expires_at),
            issuer: letter.issuer_lines(),
        }
    }
}

/// A date as the notice writes it, in Japan: 2026年4月1日.
fn japan_date(instant: time::OffsetDateTime) -> String {
    let local = reissue_shared::japan_time::in_japan(instant);
    format!(
        "{}年{}月{}日",
        local.year(),
        u8::from(local.month()),
        local.day()
    )
}
