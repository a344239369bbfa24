//! The printable A4 notice 電子請求ログイン情報再発行通知書: the ledger address placed for a
//! window envelope, the office, 事業所番号, ユーザID, 仮パスワード, the date, the issuing
//! federation, and how to log in and why the password must be changed.

use super::notice_text::{self as text, NoticeWords};
use crate::domain::review::NoticeLetter;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole document: one A4 sheet per notice (a batch prints several, one per page).
pub fn render(letters: &[NoticeLetter]) -> String {
    let sheets: String = letters.iter().map(sheet).collect();
    format!(
        r#"<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>{title}</title>
<style>
@page {{ size: A4; margin: 0; }}
body {{ margin: 0; font-family: "Hiragino Mincho ProN", "Noto Serif JP", "Yu Mincho", serif; color: #000; }}
.sheet {{ width: 210mm; min-height: 297mm; box-sizing: border-box; padding: 20mm 20mm 20mm 25mm; position: relative; break-after: page; }}
.window {{ position: absolute; top: 25mm; left: 25mm; width: 90mm; height: 40mm; font-size: 11pt; line-height: 1.6; }}
.meta {{ text-align: right; margin-top: 0; font-size: 10.5pt; }}
h1 {{ margin-top: 60mm; text-align: center; font-size: 16pt; letter-spacing: .1em; }}
table {{ border-collapse: collapse; width: 100%; margin: 8mm 0; font-size: 12pt; }}
th, td {{ border: 1px solid #000; padding: 3mm 4mm; text-align: left; }}
th {{ width: 45mm; background: #eee; }}
.secret {{ font-family: "DejaVu Sans Mono", monospace; font-size: 15pt; letter-spacing: .15em; }}
ol {{ font-size: 10.5pt; line-height: 1.7; }}
.issuer {{ text-align: right; margin-top: 10mm; font-size: 11pt; }}
@media screen {{ body {{ background: #ddd; }} .sheet {{ background: #fff; margin: 10mm auto; box-shadow: 0 0 4mm #999; }} }}
</style></head>
<body><main>
{sheets}
</main></body></html>"#,
        title = text::TITLE,
    )
}

/// One notice: the ledger address placed for a window envelope, then the login information.
fn sheet(letter: &NoticeLetter) -> String {
    let words = NoticeWords::of(letter);
    let instructions: String = text::INSTRUCTIONS
        .iter()
        .map(|item| format!("<li>{}</li>\n", escape(item)))
        .collect();
    format!(
        r#"<section class="sheet" data-testid="notice-sheet">
<p class="meta">{issued}<br>{reference_label} {reference}</p>
<div class="window" data-testid="notice-address">〒{postal}<br>{address}<br>{name}　{honorific}</div>
<h1>{title}</h1>
<p>{introduction}</p>
<table>
<tr><th>{office_number_label}</th><td>{office_number}</td></tr>
<tr><th>{office_name_label}</th><td>{name}</td></tr>
<tr><th>{user_id_label}</th><td class="secret" data-testid="notice-user-id">{user_id}</td></tr>
<tr><th>{password_label}</th><td class="secret" data-testid="notice-password">{password}</td></tr>
<tr><th>{expiry_label}</th><td>{expires}</td></tr>
</table>
<ol>
{instructions}</ol>
<p class="issuer" data-testid="notice-issuer">{issuer}</p>
</section>
"#,
        issued = words.issued_on,
        reference_label = text::REFERENCE_LABEL,
        reference = escape(&words.reference_number),
        postal = escape(&words.postal_code),
        address = escape(&words.address),
        name = escape(&words.office_name),
        honorific = text::ADDRESSEE_HONORIFIC,
        title = text::TITLE,
        introduction = text::INTRODUCTION,
        office_number_label = text::OFFICE_NUMBER_LABEL,
        office_number = escape(&words.office_number),
        office_name_label = text::OFFICE_NAME_LABEL,
        user_id_label = text::USER_ID_LABEL,
        user_id = escape(&words.user_id),
        password_label = text::PASSWORD_LABEL,
        password = escape(&words.temporary_password),
        expiry_label = text::EXPIRY_LABEL,
        expires = words.expires_on,
        instructions = instructions,
        issuer = words
            .issuer
            .iter()
            .map(|line| escape(line))
            .collect::<Vec<_>>()
            .join("<br>"),
    )
}
