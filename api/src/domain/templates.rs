//! Mail texts. The code notice is the manual's メール文例 (step 7), verbatim, line for line;
//! only the code and, when an operator changed it, the lifetime are filled in.

use std::time::Duration;

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailContent {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Who a mail tells the office to call: the prefecture's help desk (the manual's
/// 0570-059-402 until a prefecture sets its own) and its federation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The help-desk line of the footer.
    pub helpdesk_phone: String,
    /// The federation to call about something unexpected, with its number when known.
    pub federation: String,
}

impl Contact {
    /// The manual's help desk, for a mail of no prefecture.
    pub fn manual() -> Self {
        Self {
            helpdesk_phone: reissue_shared::federation::MANUAL_HELPDESK_PHONE.to_owned(),
            federation: "国保連合会".to_owned(),
        }
    }
}

/// The end of every mail: the manual's help desk and do-not-reply lines (メール文例), with the
/// prefecture's help-desk number.
fn footer(contact: &Contact) -> String {
    format!(
        "[問い合わせ先]\n\
\n\
ヘルプデスク:{}\n\
\n\
本メールはシステムが自動的に送信しております。\n\
\n\
本メールへ返信にてお問い合わせいただいてもご回答できませんので、予めご了承くださいますようお願い申し上げます。\n",
        contact.helpdesk_phone
    )
}

/// Subject of the code notice (manual step 7, タイトル).
pub const CODE_NOTICE_SUBJECT: &str = "確認コード発行通知(介護保険)";

/// 確認コード発行通知(介護保険) with the real code.
pub fn code_notice(code: &str, lifetime: Duration, contact: &Contact) -> MailContent {
    let minutes = lifetime.as_secs().div_ceil(60);
    let footer = footer(contact);
    let body = format!(
        "介護電子請求受付システムからのお知らせです。\n\
\n\
電子請求受付システムの確認コードが発行されました。\n\
\n\
[確認コード]\n\
\n\
{code}\n\
\n\
確認コードの有効期間は{minutes}分です。\n\
\n\
確認コード入力画面の操作説明に従い、\n\
\n\
確認コードを入力してください。\n\
\n\
※処理を中断してしまった場合、再度セキュリティ用メールアドレスを設定してください。\n\
\n\
メール内容に心当たりがない場合、このメールは破棄するようお願いいたします。\n\
\n\
{footer}"
    );
    MailContent {
        subject: CODE_NOTICE_SUBJECT.to_owned(),
        body,
    }
}

/// Subject of the notice to the registered security e-mail.
pub const SECURITY_ALERT_SUBJECT: &str = "ログイン情報に関するお知らせ(介護保険)";

/// The notice to an office's registered セキュリティ用メールアドレス that something happened
/// to its login information, so that a fraudulent application is noticed before the letter
/// arrives.
pub fn security_alert(user_id: &str, what: &str, contact: &Contact) -> MailContent {
    let footer = footer(contact);
    let federation = &contact.federation;
    let body = format!(
        "介護電子請求受付システムからのお知らせです。\n\
\n\
ユーザID {user_id} のログイン情報について、次の手続きが行われました。\n\
\n\
{what}\n\
\n\
この手続きにお心当たりがない場合、至急、{federation}へお問い合わせください。\n\
\n\
{footer}"
    );
    MailContent {
        subject: SECURITY_ALERT_SUBJECT.to_owned(),
        body,
    }
}

/// Subject of the review result (manual step 11: 「ログイン情報再発行申請結果通知」).
pub const RESULT_SUBJECT: &str = "ログイン情報再発行申請結果通知";

/// The outcome a result mail reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    /// 承認: the notice goes to the ledger address by post.
    Approved,
    /// 却下, with the reviewer's reason.
    Rejected(String),
}

/// ログイン情報再発行申請結果通知, in the style of the manual's code mail: the system notice,
/// what was decided, for a rejection the reason, what happens next, the help desk, and the
/// do-not-reply footer.
pub fn review_result(
    reference_number: &str,
    outcome: &ReviewOutcome,
    contact: &Contact,
) -> MailContent {
    let footer = footer(contact);
    let decision = match outcome {
        ReviewOutcome::Approved => "承認\n\n\
国保連合会での審査の結果、ログイン情報の再発行申請は承認されました。\n\n\
事業所台帳に登録されている住所に[電子請求ログイン情報再発行通知書]を郵送しますので、内容を確認し、ログインしてください。\n\n\
[電子請求ログイン情報再発行通知書]に記載された仮パスワードでログインするまでは、現在のパスワードでもログインすることができます。"
            .to_owned(),
        ReviewOutcome::Rejected(reason) => format!(
            "却下\n\n\
国保連合会での審査の結果、ログイン情報の再発行申請は承認されませんでした。\n\n\
[理由]\n\n\
{reason}\n\n\
内容をご確認のうえ、必要な場合は改めてログイン情報再発行申請を行ってください。"
        ),
    };
    let body = format!(
        "介護電子請求受付システムからのお知らせです。\n\
\n\
ログイン情報再発行申請の審査が完了しました。\n\
\n\
[受付番号]\n\
\n\
{reference_number}\n\
\n\
[審査結果]\n\
\n\
{decision}\n\
\n\
メール内容に心当たりがない場合、{federation}へお問い合わせください。\n\
\n\
{footer}",
        federation = contact.federation
    );
    MailContent {
        subject: RESULT_SUBJECT.to_owned(),
        body,
    }
}

/// Subject of the return-envelope request.
pub const ENVELOPE_REQUEST_SUBJECT: &str = "返信用封筒送付のお願い(ログイン情報再発行申請)";

/// The request for a return envelope (返信用封筒): the notice is posted only after it arrives.
/// `instructions` is the prefecture's text (stamps, amount, envelope size, address).
pub fn envelope_request(
    reference_number: &str,
    instructions: &str,
    federation_name: &str,
    contact: &Contact,
) -> MailContent {
    let footer = footer(contact);
    let body = format!(
        "介護電子請求受付システムからのお知らせです。\n\
\n\
ログイン情報再発行申請を受け付けました。{federation_name}では、[電子請求ログイン情報再発行通知書]を返信用封筒でお送りしています。\n\
\n\
[受付番号]\n\
\n\
{reference_number}\n\
\n\
[返信用封筒について]\n\
\n\
{instructions}\n\
\n\
返信用封筒が届き次第、審査を進め、通知書を事業所台帳に登録されている住所へ郵送します。\n\
\n\
メール内容に心当たりがない場合、{federation}へお問い合わせください。\n\
\n\
{footer}",
        federation = contact.federation
    );
    MailContent {
        subject: ENVELOPE_REQUEST_SUBJECT.to_owned(),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The manual's メール文例 with its sample code 9999, as printed in the seed.
    const MANUAL_EXAMPLE: &str = include_str!("../../tests/fixtures/code_notice_manual.txt");

    #[test]
    fn the_code_notice_is_the_manuals_text_with_the_code() {
        let mail = code_notice("9999", Duration::from_secs(30 * 60), &Contact::manual());
        assert_eq!(mail.subject, "確認コード発行通知(介護保険)");
        // The one deliberate deviation (README, "Where we differ from the manual").
        let corrected = MANUAL_EXAMPLE.replace("くださいませようよう", "くださいますよう");
        assert_ne!(corrected, MANUAL_EXAMPLE);
        assert_eq!(mail.body, corrected);
    }

    #[test]
    fn the_result_mail_names_the_decision_and_for_a_rejection_the_reason() {
        let approved = review_result("AHHT-4JKM", &ReviewOutcome::Approved, &Contact::manual());
        assert_eq!(approved.subject, "ログイン情報再発行申請結果通知");
        assert!(approved.body.contains("[受付番号]\n\nAHHT-4JKM\n"));
        assert!(approved.body.contains("[審査結果]\n\n承認\n"));
        assert!(approved.body.contains("ヘルプデスク:0570-059-402"));
        let rejected = review_result(
            "AHHT-4JKM",
            &ReviewOutcome::Rejected("連絡がつきませんでした。".into()),
            &Contact::manual(),
        );
        assert!(rejected.body.contains("[審査結果]\n\n却下\n"));
        assert!(rejected
            .body
            .contains("[理由]\n\n連絡がつきませんでした。\n"));
        assert!(rejected
            .body
            .ends_with("予めご了承くださいますようお願い申し上げます。\n"));
    }

    #[test]
    fn the_code_is_filled_in() {
        let mail = code_notice("0427", Duration::from_secs(30 * 60), &Contact::manual());
        assert!(mail.body.contains("[確認コード]\n\n0427\n"));
        assert!(!mail.body.contains("9999"));
    }

    #[test]
    fn a_prefectures_help_desk_and_federation_replace_the_manuals() {
        let contact = Contact {
            helpdesk_phone: "0857-00-1111".into(),
            federation: "鳥取県国民健康保険団体連合会（電話 0857-00-0000）".into(),
        };
        let alert = security_alert(
            "KJ3111111111",
            "ログイン情報の再発行申請がありました。",
            &contact,
        );
        assert!(alert.body.contains("ヘルプデスク:0857-00-1111\n"));
        assert!(!alert.body.contains("0570-059-402"));
        assert!(alert.body.contains(
            "至急、鳥取県国民健康保険団体連合会（電話 0857-00-0000）へお問い合わせください。"
        ));
        let envelope = envelope_request(
            "AHHT-4JKM",
            "460円分の切手を貼った長形3号の封筒を送ってください。",
            "鳥取県国民健康保険団体連合会",
            &contact,
        );
        assert_eq!(envelope.subject, ENVELOPE_REQUEST_SUBJECT);
        assert!(envelope.body.contains(
            "[返信用封筒について]\n\n460円分の切手を貼った長形3号の封筒を送ってください。\n"
        ));
        assert!(envelope.body.contains("[受付番号]\n\nAHHT-4JKM\n"));
    }
}
