//! The two browser apps in the web folder: `/admin…` gets the reviewers' console's page, every
//! other client-side route the office app's, and the policy admits both pages' loader scripts.
//! (The real apps' journeys are the browser tests in `e2e/`; these pages are stand-ins.)

use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app_with, Backend, TestApp};

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

/// A script large enough to shrink when compressed (the office app's wasm is about 600 KB).
fn large_script() -> String {
    (0..3000)
        .map(|n| format!("export const value{n} = \"value number {n}\";\n"))
        .collect()
}

/// The web folder with the large script at `/app.js`.
fn web_dir_with_a_large_script() -> tempfile::TempDir {
    let dir = web_dir();
    std::fs::write(dir.path().join("app.js"), large_script()).unwrap();
    dir
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// The body of `response` decoded as its Content-Encoding says.
async fn decoded(response: reqwest::Response) -> Vec<u8> {
    let encoding = header(&response, "content-encoding").to_owned();
    let body = response.bytes().await.unwrap();
    let mut decoded = Vec::new();
    match encoding.as_str() {
        "" => decoded.extend_from_slice(&body),
        "br" => {
            brotli::BrotliDecompress(&mut &body[..], &mut decoded).unwrap();
        }
        "gzip" => {
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut decoded)
                .unwrap();
        }
        other => panic!("unexpected Content-Encoding {other}"),
    }
    decoded
}

/// GETs `path` with `Accept-Encoding: accept` until the answer is the `encoding` version
/// compressed ahead of time (its ETag names the encoding): files are compressed after their
/// first request.
async fn get_compressed(
    app: &TestApp,
    path: &str,
    accept: &str,
    encoding: &str,
) -> reqwest::Response {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let response = app
            .client
            .get(app.url(path))
            .header("Accept-Encoding", accept)
            .send()
            .await
            .unwrap();
        let etag = header(&response, "etag");
        if etag.ends_with(&format!("-{encoding}\"")) || std::time::Instant::now() > deadline {
            return response;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The apps' text files go out in the best encoding the browser takes, compressed once
/// (after the first request); a client that takes none gets the file itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_come_in_the_best_encoding_the_client_accepts() {
    let dir = web_dir_with_a_large_script();
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("REISSUE_WEB_DIR", dir.path().to_str().unwrap())],
    )
    .await;
    let script = large_script().into_bytes();
    for (accept, encoding) in [
        ("br", "br"),
        ("gzip", "gzip"),
        ("br, gzip", "br"),
        ("gzip, deflate, br, zstd", "br"),
    ] {
        let response = get_compressed(&app, "/app.js", accept, encoding).await;
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        assert_eq!(header(&response, "content-encoding"), encoding, "{accept}");
        assert!(
            header(&response, "vary").eq_ignore_ascii_case("accept-encoding"),
            "{accept}: {:?}",
            response.headers().get_all("vary")
        );
        assert_eq!(header(&response, "content-type"), "text/javascript");
        assert_eq!(header(&response, "cache-control"), "no-cache");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert!(!header(&response, "last-modified").is_empty());
        let length: usize = header(&response, "content-length").parse().unwrap();
        assert!(length < script.len() / 3, "{accept}: {length} bytes");
        assert_eq!(decoded(response).await, script, "{accept}");
    }
    for accept in [None, Some("identity"), Some("")] {
        let mut request = app.client.get(app.url("/app.js"));
        if let Some(accept) = accept {
            request = request.header("Accept-Encoding", accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{accept:?}");
        assert_eq!(header(&response, "content-encoding"), "", "{accept:?}");
        assert!(!header(&response, "vary").is_empty(), "{accept:?}");
        assert_eq!(response.bytes().await.unwrap(), script, "{accept:?}");
    }
}

/// HEAD answers the headers of the GET; a browser revalidating its copy gets 304 without a
/// body, by ETag or by date.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_and_conditional_requests_of_static_files_skip_the_body() {
    let dir = web_dir_with_a_large_script();
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("REISSUE_WEB_DIR", dir.path().to_str().unwrap())],
    )
    .await;
    let full = get_compressed(&app, "/app.js", "br", "br").await;
    let etag = header(&full, "etag").to_owned();
    let last_modified = header(&full, "last-modified").to_owned();
    let length = header(&full, "content-length").to_owned();
    assert!(etag.ends_with("-br\""), "{etag}");

    let head = app
        .client
        .head(app.url("/app.js"))
        .header("Accept-Encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, "content-encoding"), "br");
    assert_eq!(header(&head, "etag"), etag);
    assert_eq!(header(&head, "content-length"), length);
    assert!(head.bytes().await.unwrap().is_empty());

    for (name, value) in [
        ("If-None-Match", etag.as_str()),
        ("If-Modified-Since", last_modified.as_str()),
    ] {
        let revalidated = app
            .client
            .get(app.url("/app.js"))
            .header("Accept-Encoding", "br")
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED, "{name}");
        assert_eq!(header(&revalidated, "etag"), etag, "{name}");
        assert!(revalidated.bytes().await.unwrap().is_empty(), "{name}");
    }
    // The client's brotli copy is not the gzip version it asks for now.
    assert!(header(
        &get_compressed(&app, "/app.js", "gzip", "gzip").await,
        "etag"
    )
    .ends_with("-gzip\""));
    let other_encoding = app
        .client
        .get(app.url("/app.js"))
        .header("Accept-Encoding", "gzip")
        .header("If-None-Match", etag.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(other_encoding.status(), StatusCode::OK);
    assert_eq!(header(&other_encoding, "content-encoding"), "gzip");
}

/// A client-side route still gets its app's page, compressed like any file, with its policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_routes_get_the_page_in_the_encoding_asked_for() {
    let dir = web_dir();
    let page = format!("{OFFICE_PAGE}<!-- {} -->", "padding ".repeat(200));
    std::fs::write(dir.path().join("index.html"), &page).unwrap();
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("REISSUE_WEB_DIR", dir.path().to_str().unwrap())],
    )
    .await;
    for path in ["/reissue/code", "/no/such/file.js", "/"] {
        let response = get_compressed(&app, path, "br", "br").await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&response, "content-encoding"), "br", "{path}");
        assert_eq!(
            header(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        assert!(
            header(&response, "content-security-policy").contains(&script_hash(OFFICE_PAGE)),
            "{path}"
        );
        assert_eq!(decoded(response).await, page.as_bytes(), "{path}");
    }
    let hidden = app.client.get(app.url("/.env")).send().await.unwrap();
    assert_eq!(hidden.status(), StatusCode::BAD_REQUEST);
}
