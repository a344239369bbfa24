//! A new reviewer's second factor in a real browser: the first login leads to the enrolment
//! page (QR code and secret), the app's first code confirms it and shows the recovery codes
//! once; after the logout, the login asks for the app's code, and a recovery code works
//! instead of it, once.

use anyhow::ensure;
use reissue_e2e::{Authenticators, Browser, Server};

const DEMO_PASSWORD: &str = "e2e-demo-password-2026";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_reviewer_enrols_an_authenticator_app_and_logs_in_with_its_code() -> anyhow::Result<()>
{
    let server = Server::start_with_env(true, &[("REISSUE_DEMO_PASSWORD", DEMO_PASSWORD)]).await?;
    let browser = Browser::open(&server).await?;
    let phone = Authenticators::new();

    // The first login: enrolment (screens admin-login, admin-mfa, admin-mfa-recovery).
    browser
        .log_in_reviewer(&phone, "demo-tottori", DEMO_PASSWORD)
        .await?;
    browser.click_testid("admin-logout").await?;
    browser.wait_for_path("/admin/login").await?;

    // The password alone is not enough: the form asks for the app's code.
    browser
        .log_in_reviewer(&phone, "demo-tottori", DEMO_PASSWORD)
        .await?;
    browser.find_by_testid("admin-logout").await?;
    browser.click_testid("admin-logout").await?;
    browser.wait_for_path("/admin/login").await?;

    // A wrong code is refused with the app's message, and the form stays.
    browser
        .fill_testid("input-login_id", "demo-tottori")
        .await?;
    browser.fill_testid("input-password", DEMO_PASSWORD).await?;
    browser.click_testid("admin-login").await?;
    browser.find_by_testid("admin-code-form").await?;
    browser.fill_testid("input-totp_code", "000000").await?;
    browser.click_testid("admin-code-submit").await?;
    let summary = browser.text_of_testid("error-summary").await?;
    ensure!(
        summary.contains("確認コードが正しくありません"),
        "{summary}"
    );
    browser.check_screen("admin-code-wrong").await?;

    // Without the phone: a recovery code from the printout, once.
    browser.click_testid("toggle-recovery").await?;
    let code = phone
        .take_recovery_code("demo-tottori")
        .ok_or_else(|| anyhow::anyhow!("no recovery code kept"))?;
    browser.fill_testid("input-recovery_code", &code).await?;
    browser.check_screen("admin-recovery-code").await?;
    browser.click_testid("admin-code-submit").await?;
    browser.wait_for_path("/admin").await?;
    browser.find_by_testid("admin-logout").await?;
    Ok(())
}
