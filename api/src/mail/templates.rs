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

/// Subject of the code notice (manual step 7, タイトル).
pub const CODE_NOTICE_SUBJECT: &str = "確認コード発行通知(介護保険)";

/// 確認コード発行通知(介護保険) with the real code.
pub fn code_notice(code: &str, lifetime: Duration) -> MailContent {
    let minutes = lifetime.as_secs().div_ceil(60);
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
[問い合わせ先]\n\
\n\
ヘルプデスク:0570-059-402\n\
\n\
本メールはシステムが自動的に送信しております。\n\
\n\
本メールへ返信にてお問い合わせいただいてもご回答できませんので、予めご了承くださいませようようお願い申し上げます。\n"
    );
    MailContent {
        subject: CODE_NOTICE_SUBJECT.to_owned(),
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
        let mail = code_notice("9999", Duration::from_secs(30 * 60));
        assert_eq!(mail.subject, "確認コード発行通知(介護保険)");
        assert_eq!(mail.body, MANUAL_EXAMPLE);
    }

    #[test]
    fn the_code_is_filled_in() {
        let mail = code_notice("0427", Duration::from_secs(30 * 60));
        assert!(mail.body.contains("[確認コード]\n\n0427\n"));
        assert!(!mail.body.contains("9999"));
    }
}
