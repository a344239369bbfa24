//! The federation's own workflow in a real browser, in 鳥取県, whose demo settings require a
//! return envelope and a call to the ledger's number before an approval: a reviewer asks for
//! the envelope (the office gets the prefecture's instructions by mail), records its arrival
//! and a call that reached the office, approves; a second reviewer confirms, posts the notice
//! by registered mail with its tracking number, and finds it in the dispatch register (発送簿).

use anyhow::{ensure, Context};
use reissue_e2e::{Authenticators, Browser, Server};

const DEMO_PASSWORD: &str = "e2e-demo-password-2026";
const OFFICE: &str = "3110100013";

/// Opens the application of `reference` from the queue.
async fn open_application(browser: &Browser, reference: &str) -> anyhow::Result<()> {
    browser.fill_testid("input-q", reference).await?;
    browser.click_testid("search").await?;
    let row = browser.find_by_testid("queue-row").await?;
    row.find(fantoccini::Locator::Css("a"))
        .await?
        .click()
        .await?;
    browser.find_by_testid("admin-detail").await?;
    Ok(())
}

/// Scrolls the element of `testid` to the top of the viewport (to photograph it).
async fn scroll_to(browser: &Browser, testid: &str) -> anyhow::Result<()> {
    let script = format!("document.querySelector('[data-testid={testid}]').scrollIntoView()");
    browser.client().execute(&script, vec![]).await?;
    Ok(())
}

#[tokio::test]
async fn a_prefecture_that_asks_for_an_envelope_and_a_call_back_runs_its_week_in_the_console(
) -> anyhow::Result<()> {
    let server = Server::start_with_env(true, &[("REISSUE_DEMO_PASSWORD", DEMO_PASSWORD)]).await?;
    let email = "tottori-office@example.jp";
    let (_, reference) = server.file_application(OFFICE, "31", email).await?;
    let browser = Browser::open(&server).await?;
    let phone = Authenticators::new();

    browser
        .log_in_reviewer(&phone, "demo-tottori", DEMO_PASSWORD)
        .await?;
    let ageing = browser.text_of_testid("ageing").await?;
    ensure!(
        ageing.contains("10 営業日以内") && ageing.contains("0〜2営業日: 1 件"),
        "the queue's top shows the target and the age bands: {ageing}"
    );
    ensure!(browser.text_of_testid("queue-age").await?.contains("0日"));
    open_application(&browser, &reference).await?;
    browser.click_testid("start-review").await?;
    browser.find_by_testid("approve").await?;

    // The envelope: asked for by mail, then received.
    ensure!(browser
        .text_of_testid("envelope-state")
        .await?
        .contains("まだ依頼していません"));
    browser.click_testid("request-envelope").await?;
    browser
        .wait_for_css(
            "[data-testid=envelope-state]:not(:empty)",
            std::time::Duration::from_secs(5),
        )
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    ensure!(browser
        .text_of_testid("envelope-state")
        .await?
        .contains("返信用封筒待ち"));
    let mails = server.mailbox().wait_for_messages(email, 2).await?;
    let request = mails
        .iter()
        .find(|m| m.subject.starts_with("返信用封筒送付のお願い"))
        .context("the envelope request mail")?;
    ensure!(request.body.contains("460円分の切手") && request.body.contains(&reference));
    scroll_to(&browser, "envelope-state").await?;
    browser.check_screen("admin-envelope-requested").await?;

    // Approving before the call is refused with the prefecture's rule.
    browser.click_testid("approve").await?;
    browser
        .wait_for_css(
            "[data-testid=error-summary]",
            std::time::Duration::from_secs(5),
        )
        .await?;
    ensure!(browser.text_of_testid("admin-status").await? == "審査中");

    browser
        .fill_testid("input-note", "事業所の管理者に申請を確認")
        .await?;
    browser.click_testid("callback-reached").await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let calls = browser.text_of_testid("callbacks").await?;
    ensure!(
        calls.contains("0857-00-1013") && calls.contains("つながった"),
        "the call to the ledger's number is recorded: {calls}"
    );
    browser.click_testid("envelope-received").await?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    ensure!(browser
        .text_of_testid("envelope-state")
        .await?
        .contains("受け取りました"));
    scroll_to(&browser, "callbacks").await?;
    browser.check_screen("admin-callback-recorded").await?;
    browser.click_testid("approve").await?;
    browser.find_by_testid("awaiting-other").await?;
    let history = browser.text_of_testid("history").await?;
    ensure!(
        history.contains("返信用封筒を受領")
            && history.contains("鳥取県国保連合会 審査担当（デモ）"),
        "the history speaks Japanese and names the reviewer: {history}"
    );

    // The second reviewer confirms, then posts it by registered mail.
    browser.goto("/admin").await?;
    browser.click_testid("admin-logout").await?;
    browser.wait_for_path("/admin/login").await?;
    browser
        .log_in_reviewer(&phone, "demo-tottori-2", DEMO_PASSWORD)
        .await?;
    open_application(&browser, &reference).await?;
    browser.click_testid("confirm-approval").await?;
    browser.find_by_testid("print-notice").await?;
    // The notice as a PDF for the window envelope.
    browser.click_testid("notice-pdf").await?;
    let link = browser.find_by_testid("notice-pdf-link").await?;
    let href = link.attr("href").await?.context("the PDF link")?;
    ensure!(href.starts_with("blob:"), "{href}");
    // (Its pages are checked by the API tests with pdftotext: the console's strict
    // Content-Security-Policy lets no script read the blob back here.)
    browser
        .fill_testid("input-tracking_number", "131-12-38385-3")
        .await?;
    browser.click_testid("notice-mailed").await?;
    browser
        .wait_for_testid("error-tracking_number", std::time::Duration::from_secs(5))
        .await?;
    scroll_to(&browser, "notice-mailed").await?;
    browser.check_screen("admin-tracking-number-wrong").await?;
    browser
        .fill_testid("input-tracking_number", "131-12-38385-2")
        .await?;
    browser.click_testid("notice-mailed").await?;
    let mailed = browser.text_of_testid("notice-mailed-at").await?;
    ensure!(mailed.contains("131-12-38385-2"), "{mailed}");

    // The dispatch register shows it.
    browser.goto("/admin/dispatch-register").await?;
    let row = browser.find_by_testid("dispatch-row").await?;
    let text = row.text().await?;
    ensure!(
        text.contains(&reference)
            && text.contains("131-12-38385-2")
            && text.contains("鳥取県鳥取市東町9-999"),
        "the register's line: {text}"
    );
    browser.check_screen("admin-dispatch-register").await?;
    browser.click_testid("dispatch-csv").await?;
    let link = browser.find_by_testid("dispatch-download").await?;
    ensure!(link
        .attr("href")
        .await?
        .is_some_and(|href| href.starts_with("data:text/csv;charset=utf-8;base64,77u/")));

    // The settings: a reviewer reads them, only a supervisor may change them.
    browser.goto("/admin/settings").await?;
    browser.find_by_testid("settings-read-only").await?;
    browser.check_screen("admin-settings-read-only").await?;
    browser.goto("/admin").await?;
    browser.click_testid("admin-logout").await?;
    browser.wait_for_path("/admin/login").await?;
    browser
        .log_in_reviewer(&phone, "demo-tottori", DEMO_PASSWORD)
        .await?;
    browser.goto("/admin/settings").await?;
    browser.find_by_testid("settings-form").await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    browser
        .fill_testid("input-review_target_business_days", "8")
        .await?;
    browser.click_testid("settings-save").await?;
    browser.find_by_testid("settings-saved").await?;
    browser.check_screen("admin-settings").await?;
    browser.close().await
}

#[tokio::test]
async fn a_reviewer_sees_how_the_ledger_changed_since_the_application_and_acknowledges_it(
) -> anyhow::Result<()> {
    let server = Server::start_with_env(true, &[("REISSUE_DEMO_PASSWORD", DEMO_PASSWORD)]).await?;
    let (_, reference) = server
        .file_application("1311111111", "13", "moved-office@example.jp")
        .await?;
    // The federation imports 東京都's ledger again: 請求事業所 A has moved.
    let file = server.data_dir().join("tokyo.csv");
    std::fs::write(
        &file,
        "事業所番号,事業所名,種別,都道府県コード,郵便番号,住所,電話番号\n\
         1311111111,請求事業所 A,介護,13,100-0006,東京都千代田区有楽町9-9-9 有楽町ケアビル2階,03-0000-1111\n",
    )?;
    let output = std::process::Command::new(reissue_e2e::server_binary())
        .args(["ledger", "import"])
        .arg(&file)
        .env("REISSUE_DATA_DIR", server.data_dir())
        .env_remove("REISSUE_DATABASE_URL")
        .output()?;
    ensure!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let browser = Browser::open(&server).await?;
    let phone = Authenticators::new();
    browser
        .log_in_reviewer(&phone, "demo-tokyo", DEMO_PASSWORD)
        .await?;
    open_application(&browser, &reference).await?;
    let change = browser.text_of_testid("ledger-change").await?;
    ensure!(
        change.contains("丸の内9-9-9") && change.contains("有楽町9-9-9"),
        "the entry then and now: {change}"
    );
    scroll_to(&browser, "ledger-change").await?;
    browser.check_screen("admin-ledger-change").await?;
    browser.click_testid("start-review").await?;
    browser.find_by_testid("approve").await?;
    browser.click_testid("approve").await?;
    browser
        .wait_for_testid("error-summary", std::time::Duration::from_secs(5))
        .await?;
    browser.click_testid("acknowledge-ledger-change").await?;
    browser.find_by_testid("ledger-change-acknowledged").await?;
    browser.click_testid("approve").await?;
    browser.find_by_testid("awaiting-other").await?;
    browser.close().await
}
