//! The API reference (`/api/docs`) in a real browser: Swagger UI, served by the binary from the
//! web folder (`dist/api-docs/`, where `./dev build` copies it), renders our operations under
//! the strict Content-Security-Policy without a single refusal, loads nothing from another
//! origin (closed networks such as the LGWAN reach none), and its "Try it out" calls this
//! server's API. The page is photographed (target/e2e-screenshots/).
//!
//! Not checked with axe-core: the markup is Swagger UI's, not ours.

use std::time::Duration;

use anyhow::{ensure, Context as _};
use fantoccini::Locator;
use reissue_e2e::{web_dir, Browser, Server, ServerOptions};

/// How long Swagger UI may take to fetch and render the document (a debug server, two cores).
const RENDER_TIMEOUT: Duration = Duration::from_secs(30);

/// The operation blocks Swagger UI renders: `operations-<tag>-<operationId>`.
const CREATE_APPLICATION: &str = "#operations-applicant-create_application";
const LIST_PREFECTURES: &str = "#operations-applicant-list_prefectures";

#[tokio::test]
async fn the_reference_renders_our_operations_under_the_policy_from_this_origin_only(
) -> anyhow::Result<()> {
    let viewer = web_dir().join("api-docs/swagger-ui-bundle.js");
    ensure!(
        viewer.is_file(),
        "{} is missing: `./dev build` (or `./dev test`) copies the viewer there",
        viewer.display()
    );
    // The page needs the viewer only, not the browser apps.
    let server = Server::start_with(&ServerOptions {
        without_web_app: true,
        ..ServerOptions::default()
    })
    .await?;
    let browser = Browser::open(&server).await?;

    browser.goto("/api/docs").await?;

    let operation = browser
        .wait_for_css(CREATE_APPLICATION, RENDER_TIMEOUT)
        .await
        .context("Swagger UI did not render POST /api/v1/reissue-applications")?;
    let summary = operation.text().await?;
    ensure!(
        summary.contains("/api/v1/reissue-applications") && summary.contains("Manual step 6"),
        "the operation reads {summary:?}"
    );
    // Opened, it shows its request body (the schema and example of our document).
    operation
        .find(Locator::Css(".opblock-summary-control"))
        .await?
        .click()
        .await?;
    browser
        .wait_for_css(
            &format!("{CREATE_APPLICATION} .opblock-section-request-body"),
            RENDER_TIMEOUT,
        )
        .await?;
    browser.screenshot("reference").await?;

    // "Try it out" on GET /api/v1/prefectures: the page calls the API of its own origin.
    let prefectures = browser
        .wait_for_css(LIST_PREFECTURES, RENDER_TIMEOUT)
        .await?;
    prefectures
        .find(Locator::Css(".opblock-summary-control"))
        .await?
        .click()
        .await?;
    browser
        .wait_for_css(&format!("{LIST_PREFECTURES} .try-out__btn"), RENDER_TIMEOUT)
        .await?
        .click()
        .await?;
    browser
        .wait_for_css(&format!("{LIST_PREFECTURES} .execute"), RENDER_TIMEOUT)
        .await?
        .click()
        .await?;
    let status = browser
        .wait_for_css(
            &format!("{LIST_PREFECTURES} .live-responses-table tbody .response-col_status"),
            RENDER_TIMEOUT,
        )
        .await?
        .text()
        .await?;
    ensure!(status.trim() == "200", "Try it out answered {status:?}");
    browser.screenshot("try-it-out").await?;

    // Everything the page loaded came from this server.
    let foreign: Vec<String> = serde_json::from_value(
        browser
            .client()
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)\
                 .filter(url => new URL(url).origin !== location.origin);",
                vec![],
            )
            .await?,
    )?;
    ensure!(foreign.is_empty(), "loaded from other origins: {foreign:?}");
    let loaded = browser.loaded_paths().await?;
    for path in [
        "/api/docs/swagger-ui-bundle.js",
        "/api/docs/swagger-ui.css",
        "/api/docs/init.js",
        "/api/openapi.json",
    ] {
        ensure!(
            loaded.iter().any(|loaded| loaded == path),
            "{path} not loaded: {loaded:?}"
        );
    }

    // Not one refusal by the policy, during the load or after.
    let violations = browser.csp_violations().await?;
    ensure!(
        violations.is_empty(),
        "refused by the policy: {violations:?}"
    );
    // The check itself sees a refusal: an inline style added now is one.
    browser
        .client()
        .execute(
            "const style = document.createElement('style'); style.textContent = 'p {}'; \
             document.head.append(style);",
            vec![],
        )
        .await?;
    let violations = browser.csp_violations().await?;
    ensure!(
        matches!(&violations[..], [one] if one.starts_with("style-src-elem")),
        "the made refusal was reported as {violations:?}"
    );
    browser.close().await
}
