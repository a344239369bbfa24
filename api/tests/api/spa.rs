//! The two browser apps in the web folder: `/admin…` gets the reviewers' console's page, every
//! other client-side route the office app's, and the policy admits both pages' loader scripts.
//! (The real apps' journeys are the browser tests in `e2e/`; these pages are stand-ins.)

use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app_with, Backend};

const OFFICE_PAGE: &str = "<!doctype html><html><head><script type=\"module\">import init from '/office.js';</script></head><body>office</body></html>";
const CONSOLE_PAGE: &str = "<!doctype html><html><head><script type=\"module\">import init from '/console/console.js';</script></head><body>console</body></html>";

/// A web folder as Trunk builds it: `index.html`, `console/index.html` and their files.
fn web_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), OFFICE_PAGE).unwrap();
    std::fs::write(dir.path().join("office.js"), "// office").unwrap();
    std::fs::create_dir(dir.path().join("console")).unwrap();
    std::fs::write(dir.path().join("console/index.html"), CONSOLE_PAGE).unwrap();
    std::fs::write(dir.path().join("console/console.js"), "// console").unwrap();
    dir
}

fn script_hash(page: &str) -> String {
    let script = page
        .split_once("<script type=\"module\">")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map(|(script, _)| script)
        .unwrap();
    let digest = Sha256::digest(script.as_bytes());
    format!(
        "'sha256-{}'",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest)
    )
}

/// (SQLite only: serving the apps does not touch the database.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_paths_get_the_console_and_the_rest_the_office_app() {
    let dir = web_dir();
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("REISSUE_WEB_DIR", dir.path().to_str().unwrap())],
    )
    .await;
    let pages = [
        ("/", OFFICE_PAGE),
        ("/reissue/code", OFFICE_PAGE),
        ("/account/password", OFFICE_PAGE),
        ("/administration", OFFICE_PAGE),
        ("/admin", CONSOLE_PAGE),
        ("/admin/login", CONSOLE_PAGE),
        (
            "/admin/applications/0b5e6c1a-0000-4000-8000-000000000000",
            CONSOLE_PAGE,
        ),
        ("/console/", CONSOLE_PAGE),
    ];
    for (path, page) in pages {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let policy = response
            .headers()
            .get("content-security-policy")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(response.text().await.unwrap(), page, "{path}");
        for page in [OFFICE_PAGE, CONSOLE_PAGE] {
            assert!(policy.contains(&script_hash(page)), "{path}: {policy}");
        }
    }
    for (path, text) in [
        ("/office.js", "// office"),
        ("/console/console.js", "// console"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.text().await.unwrap(), text, "{path}");
    }
    let api = app
        .client
        .get(app.api("/admin/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
}

/// An operator who built only the office app still gets a page (its not-found screen) at
/// `/admin`, not an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_built_console_admin_paths_get_the_office_app() {
    let dir = web_dir();
    std::fs::remove_dir_all(dir.path().join("console")).unwrap();
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("REISSUE_WEB_DIR", dir.path().to_str().unwrap())],
    )
    .await;
    let response = app
        .client
        .get(app.url("/admin/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), OFFICE_PAGE);
}
