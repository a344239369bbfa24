//! The printable A4 notice 電子請求ログイン情報再発行通知書: the ledger address placed for a
//! window envelope, the office, 事業所番号, ユーザID, 仮パスワード, the date, the issuing
//! federation, and how to log in and why the password must be changed.

use crate::domain::review::NoticeLetter;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn japan_date(instant: time::OffsetDateTime) -> String {
    let local = reissue_shared::japan_time::in_japan(instant);
    format!(
        "{}年{}月{}日",
        local.year(),
        u8::from(local.month()),
        local.day()
    )
}

/// The whole document: one A4 sheet per notice (a batch prints several, one per page).
pub fn render(letters: &[NoticeLetter]) -> String {
    let sheets: String = letters.iter().map(sheet).collect();
    format!(
        r#"<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>電子請求ログイン情報再発行通知書</title>
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
</main></body></html>"#
    )
}

/// One notice: the ledger address placed for a window envelope, then the login information.
fn sheet(letter: &NoticeLetter) -> String {
    let (postal, address, name) = letter
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
    let issuer: Vec<String> = letter.issuer_lines().iter().map(|l| escape(l)).collect();
    format!(
        r#"<section class="sheet" data-testid="notice-sheet">
<p class="meta">{issued}<br>受付番号 {reference}</p>
<div class="window" data-testid="notice-address">〒{postal}<br>{address}<br>{name}　御中</div>
<h1>電子請求ログイン情報再発行通知書</h1>
<p>ログイン情報の再発行申請を承認しましたので、次のとおり通知します。</p>
<table>
<tr><th>事業所番号</th><td>{office_number}</td></tr>
<tr><th>事業所名</th><td>{name}</td></tr>
<tr><th>ユーザID</th><td class="secret" data-testid="notice-user-id">{user_id}</td></tr>
<tr><th>仮パスワード</th><td class="secret" data-testid="notice-password">{password}</td></tr>
<tr><th>仮パスワードの有効期限</th><td>{expires}</td></tr>
</table>
<ol>
<li>電子請求受付システムのログイン画面で、上記のユーザIDと仮パスワードを入力してログインしてください。</li>
<li>仮パスワードでログインすると、新しいパスワードの設定を求められます。仮パスワードは郵送の途中で第三者の目に触れるおそれがあるため、必ずご自身で新しいパスワードを設定してください（10文字以上、ユーザIDを含まないもの）。</li>
<li>仮パスワードでログインするまでは、現在のパスワードでもログインすることができます。仮パスワードでログインした時点で、現在のパスワードは使えなくなります。</li>
<li>有効期限を過ぎた仮パスワードは使えません。その場合は、改めてログイン情報再発行申請を行ってください。</li>
<li>この通知書は、他の人の目に触れないよう大切に保管してください。</li>
</ol>
<p class="issuer" data-testid="notice-issuer">{issuer}</p>
</section>
"#,
        issued = japan_date(letter.issued_at),
        reference = escape(&letter.reference_number),
        postal = escape(&postal),
        address = escape(&address),
        name = escape(&name),
        office_number = escape(&letter.office_number),
        user_id = escape(&letter.user_id),
        password = escape(&letter.temporary_password),
        expires = japan_date(letter.expires_at),
        issuer = issuer.join("<br>"),
    )
}
