//! The PDF notices (`notice.pdf`, `notices.pdf`): read back with poppler's `pdftotext -bbox`
//! and `pdfinfo` (Debian's poppler-utils), they carry the HTML notice's user ID and temporary
//! password, the address lies in the 長形3号 window, one page per notice; refusals are the
//! HTML notice's.

use std::process::Command;

use reissue_api::routes::notice_pdf::ENVELOPE_WINDOW_MM;
use reqwest::StatusCode;

use crate::helpers::{problem, spawn_app, spawn_app_with, Backend, Created, TestApp};

const PT_PER_MM: f64 = 72.0 / 25.4;

/// A word of `pdftotext -bbox`, its box in millimetres from the page's top-left corner.
#[derive(Debug)]
struct Word {
    page: usize,
    text: String,
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

/// The words of every page, as poppler reads them.
fn words(pdf: &[u8]) -> Vec<Word> {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    let output = Command::new("pdftotext")
        .arg("-bbox")
        .arg(file.path())
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils, in tools.env) runs");
    assert!(output.status.success(), "{output:?}");
    let xhtml = String::from_utf8(output.stdout).unwrap();
    let attribute = |tag: &str, name: &str| -> f64 {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[start..start + tag[start..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    let mut words = Vec::new();
    for (index, page) in xhtml.split("<page ").skip(1).enumerate() {
        for word in page.split("<word ").skip(1) {
            let (tag, rest) = word.split_once('>').unwrap();
            let text = rest.split_once("</word>").unwrap().0;
            words.push(Word {
                page: index + 1,
                text: text.replace("&amp;", "&"),
                left: attribute(tag, "xMin") / PT_PER_MM,
                top: attribute(tag, "yMin") / PT_PER_MM,
                right: attribute(tag, "xMax") / PT_PER_MM,
                bottom: attribute(tag, "yMax") / PT_PER_MM,
            });
        }
    }
    words
}

/// `pdfinfo`'s page count.
fn pages(pdf: &[u8]) -> usize {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    let output = Command::new("pdfinfo").arg(file.path()).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let info = String::from_utf8(output.stdout).unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The text of a page's words, without spaces.
fn page_text(words: &[Word], page: usize) -> String {
    words
        .iter()
        .filter(|w| w.page == page)
        .map(|w| w.text.as_str())
        .collect()
}

/// A PDF answer: 200, `application/pdf`, inline, never cached. Returns its bytes.
async fn pdf(response: reqwest::Response, filename: &str) -> Vec<u8> {
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/pdf");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(
        header("content-disposition"),
        format!("inline; filename=\"{filename}\"")
    );
    let bytes = response.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"%PDF-"));
    bytes
}

/// The HTML notice's value marked `data-testid="{testid}"`.
async fn html_field(app: &TestApp, token: &str, created: &Created, testid: &str) -> String {
    let response = app
        .admin_get(token, &format!("/applications/{}/notice", created.id))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let marker = format!("data-testid=\"{testid}\">");
    let start = html.find(&marker).unwrap() + marker.len();
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

/// The application's 受付番号, from its detail.
async fn reference_number(app: &TestApp, token: &str, created: &Created) -> String {
    let detail: serde_json::Value = app
        .admin_get(token, &format!("/applications/{}", created.id))
        .await
        .json()
        .await
        .unwrap();
    detail["application"]["reference_number"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn the_notice_pdf_carries_the_login_and_the_address_in_the_envelope_window(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "pdf@example.jp")
        .await;
    let (token, _) = app.approve_four_eyes(&created).await;
    let reference = reference_number(&app, &token, &created).await;

    let response = app
        .admin_get(&token, &format!("/applications/{}/notice.pdf", created.id))
        .await;
    let pdf = pdf(response, &format!("notice-{reference}.pdf")).await;

    assert_eq!(pages(&pdf), 1);
    let words = words(&pdf);
    let text = page_text(&words, 1);
    // The HTML notice shows the same, unposted, temporary password.
    let user_id = html_field(&app, &token, &created, "notice-user-id").await;
    let password = html_field(&app, &token, &created, "notice-password").await;
    assert!(user_id.starts_with("KJ"));
    assert_eq!(password.len(), 12);
    for expected in [
        "電子請求ログイン情報再発行通知書",
        "事業所番号",
        "1311111111",
        "ユーザID",
        user_id.as_str(),
        "仮パスワード",
        password.as_str(),
        "仮パスワードの有効期限",
        "受付番号",
        reference.as_str(),
        "東京都国民健康保険団体連合会",
        "ヘルプデスク0570-059-402",
        "必ずご自身で新しいパスワードを設定してください",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }

    // The address block, read from the words inside the window, in order.
    let window = ENVELOPE_WINDOW_MM;
    let inside = |w: &&Word| {
        w.left >= f64::from(window.left)
            && w.right <= f64::from(window.right())
            && w.top >= f64::from(window.top)
            && w.bottom <= f64::from(window.bottom())
    };
    let in_window: String = words
        .iter()
        .filter(inside)
        .flat_map(|w| w.text.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    assert_eq!(
        in_window,
        "〒100-0005東京都千代田区丸の内9-9-9丸の内ケアビル3階請求事業所A御中"
    );
    // Nothing else of the page reaches into the window.
    let overlapping = words.iter().filter(|w| {
        !inside(w)
            && w.left < f64::from(window.right())
            && w.right > f64::from(window.left)
            && w.top < f64::from(window.bottom())
            && w.bottom > f64::from(window.top)
    });
    assert_eq!(overlapping.count(), 0);
    // The password is not in the window.
    let password_word = words.iter().find(|w| w.text == password).unwrap();
    assert!(!inside(&password_word));
}

async fn notices_pdf_has_a_page_for_each_notice_waiting_to_be_posted(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut token = String::new();
    for (office, email) in [
        ("1311111111", "batch-a@example.jp"),
        ("1310200021", "batch-b@example.jp"),
        ("1311500039", "batch-c@example.jp"),
    ] {
        let created = app.submitted_application(office, "13", email).await;
        token = app.approve_four_eyes(&created).await.0;
    }

    let response = app.admin_get(&token, "/notices.pdf").await;
    let pdf = pdf(response, "notices.pdf").await;

    assert_eq!(pages(&pdf), 3);
    // The HTML batch has the same notices: each user ID on a page of its own.
    let html = app
        .admin_get(&token, "/notices")
        .await
        .text()
        .await
        .unwrap();
    let marker = "data-testid=\"notice-user-id\">";
    let mut user_ids: Vec<&str> = html
        .split(marker)
        .skip(1)
        .map(|rest| &rest[..rest.find('<').unwrap()])
        .collect();
    assert_eq!(user_ids.len(), 3);
    let words = words(&pdf);
    let mut printed: Vec<&str> = (1..=3)
        .map(|page| {
            let text = page_text(&words, page);
            let on_page: Vec<&str> = user_ids
                .iter()
                .copied()
                .filter(|id| text.contains(id))
                .collect();
            assert_eq!(on_page.len(), 1, "page {page}: {text}");
            on_page[0]
        })
        .collect();
    printed.sort_unstable();
    user_ids.sort_unstable();
    assert_eq!(printed, user_ids);
}

async fn notices_pdf_with_none_waiting_is_one_page_saying_so(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token("demo-tokyo").await;

    let pdf = pdf(app.admin_get(&token, "/notices.pdf").await, "notices.pdf").await;

    assert_eq!(pages(&pdf), 1);
    assert!(page_text(&words(&pdf), 1).contains("郵送待ちの通知書はありません。"));
}

async fn a_notice_pdf_is_refused_as_the_html_notice_is(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "refused-pdf@example.jp")
        .await;
    let tokyo = app.admin_token("demo-tokyo").await;
    let path = format!("/applications/{}/notice", created.id);

    // Submitted, not approved: 409 transition_refused, like the HTML notice.
    problem(
        app.admin_get(&tokyo, &path).await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;
    problem(
        app.admin_get(&tokyo, &format!("{path}.pdf")).await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;

    // Approved, but of another prefecture: 404 for 鳥取県's reviewer.
    app.approve_four_eyes(&created).await;
    let tottori = app.admin_token("demo-tottori").await;
    let html = app.admin_get(&tottori, &path).await;
    assert_eq!(html.status(), StatusCode::NOT_FOUND);
    let refused = app.admin_get(&tottori, &format!("{path}.pdf")).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    // Nor is it in 鳥取県's batch.
    let batch = pdf(app.admin_get(&tottori, "/notices.pdf").await, "notices.pdf").await;
    assert!(page_text(&words(&batch), 1).contains("郵送待ちの通知書はありません。"));

    // Without a token: 401.
    let anonymous = app
        .client
        .get(app.api(&format!("/admin{path}.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

crate::on_both_backends!(
    the_notice_pdf_carries_the_login_and_the_address_in_the_envelope_window,
    notices_pdf_has_a_page_for_each_notice_waiting_to_be_posted,
    notices_pdf_with_none_waiting_is_one_page_saying_so,
    a_notice_pdf_is_refused_as_the_html_notice_is,
);

/// A font that cannot be read answers 500 with a problem, prints nothing (no audit entry of
/// a printed notice) and leaves the HTML notice working.
#[tokio::test]
async fn a_missing_notice_font_is_an_internal_error_and_prints_nothing() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[(
            "REISSUE_NOTICE_FONT",
            "/nonexistent/NotoSansCJK-Regular.ttc",
        )],
    )
    .await;
    let created = app
        .submitted_application("1311111111", "13", "no-font@example.jp")
        .await;
    let (token, _) = app.approve_four_eyes(&created).await;
    let before = app.audit_actions(&created).await;

    for path in [
        format!("/applications/{}/notice.pdf", created.id),
        "/notices.pdf".to_owned(),
    ] {
        problem(
            app.admin_get(&token, &path).await,
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
        )
        .await;
    }

    assert_eq!(app.audit_actions(&created).await, before);
    let html = app
        .admin_get(&token, &format!("/applications/{}/notice", created.id))
        .await;
    assert_eq!(html.status(), StatusCode::OK);
}
