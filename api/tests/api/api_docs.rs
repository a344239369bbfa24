//! The API reference at `/api/docs`: our page under the strict Content-Security-Policy, loading
//! only files of this origin (the viewer from the web folder, where `./dev build` copies it,
//! and our start script), pointed at `/api/openapi.json`; a build without the viewer answers a
//! page that says how to build it. (The real Swagger UI rendering the document is the browser
//! test `e2e/tests/api_docs.rs`; the viewer's files here are stand-ins.)
//!
//! SQLite only: serving these pages does not touch the database.

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::helpers::{spawn_app_with, Backend, TestApp};

/// A web folder holding only the viewer, as `./dev build` copies it (no browser app).
fn web_dir_with_viewer() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let viewer = dir.path().join("api-docs");
    std::fs::create_dir(&viewer).unwrap();
    for (name, text) in [
        (
            "swagger-ui-bundle.js",
            "window.SwaggerUIBundle = function () {};\n",
        ),
        ("swagger-ui.css", ".swagger-ui { margin: 0 }\n"),
        ("LICENSE.txt", "Apache License\n"),
        ("NOTICE.txt", "swagger-ui\n"),
        ("swagger-ui-bundle.js.LICENSE.txt", "/* licences */\n"),
    ] {
        std::fs::write(viewer.join(name), text).unwrap();
    }
    dir
}

async fn app_with_web_dir(dir: &std::path::Path) -> TestApp {
    spawn_app_with(
        Backend::Sqlite,
        &[("REISSUE_WEB_DIR", dir.to_str().unwrap())],
    )
    .await
}

/// The values of every `src="…"` and `href="…"` attribute of `html`.
fn resource_urls(html: &str) -> Vec<&str> {
    let mut urls = Vec::new();
    for attribute in [" src=\"", " href=\""] {
        for (start, _) in html.match_indices(attribute) {
            let value = &html[start + attribute.len()..];
            urls.push(&value[..value.find('"').unwrap()]);
        }
    }
    urls
}

/// The policy of an HTML answer: the strict one, with no `'unsafe-inline'` and no `'unsafe-eval'`
/// (WebAssembly's `'wasm-unsafe-eval'` is the apps' and not eval).
fn assert_strict_policy(headers: &HeaderMap) {
    let policy = headers
        .get("content-security-policy")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} missing: {policy}");
    }
    assert!(!policy.contains("'unsafe-inline'"), "{policy}");
    assert!(!policy.contains("'unsafe-eval'"), "{policy}");
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_loads_only_files_of_this_origin_under_the_strict_policy() {
    let dir = web_dir_with_viewer();
    let app = app_with_web_dir(dir.path()).await;

    let response = app.client.get(app.url("/api/docs")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert!(content_type(&headers).starts_with("text/html"));
    assert_strict_policy(&headers);
    let html = response.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("<style"),
        "{html}"
    );
    let urls = resource_urls(&html);
    assert!(urls.len() >= 3, "{urls:?}");
    for url in urls {
        assert!(
            url.starts_with('/') && !url.starts_with("//"),
            "{url} is not of this origin"
        );
        let file = app.client.get(app.url(url)).send().await.unwrap();
        assert_eq!(file.status(), StatusCode::OK, "{url}");
        let kind = content_type(file.headers());
        if url.ends_with(".js") {
            assert!(kind.contains("javascript"), "{url}: {kind}");
            let script = file.text().await.unwrap();
            assert!(!script.contains("http://") && !script.contains("https://"));
        } else if url.ends_with(".css") {
            assert!(kind.starts_with("text/css"), "{url}: {kind}");
        } else {
            assert_eq!(url, "/api/openapi.json");
            assert!(kind.starts_with("application/json"), "{url}: {kind}");
        }
    }
    // The start script shows our document, and asks no other host (the validity badge).
    let init = app
        .client
        .get(app.url("/api/docs/init.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("url: \"/api/openapi.json\""), "{init}");
    assert!(init.contains("validatorUrl: null"), "{init}");
    // The licences go with the viewer.
    let licence = app
        .client
        .get(app.url("/api/docs/LICENSE.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(licence.status(), StatusCode::OK);
    assert!(content_type(licence.headers()).starts_with("text/plain"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_viewers_files_are_served_from_its_folder() {
    let dir = web_dir_with_viewer();
    std::fs::write(dir.path().join("api-docs/other.js"), "// not the viewer").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "not served").unwrap();
    let app = app_with_web_dir(dir.path()).await;

    for path in [
        "/api/docs/other.js",
        "/api/docs/..%2Fsecret.txt",
        "/api/docs/%2E%2E/secret.txt",
        "/api/docs/swagger-ui-bundle.js.map",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            !response.text().await.unwrap().contains("not served"),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_viewer_the_page_says_how_to_build_it() {
    // A web folder with the browser app but no viewer (a build by Trunk alone).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><p>office</p>",
    )
    .unwrap();
    let app = app_with_web_dir(dir.path()).await;

    let response = app.client.get(app.url("/api/docs")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let headers = response.headers().clone();
    assert!(content_type(&headers).starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("./dev build"), "{html}");
    assert!(html.contains("href=\"/api/openapi.json\""), "{html}");
    crate::security_headers::assert_strict_policy_admits(&headers, &html);

    let viewer = app
        .client
        .get(app.url("/api/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(viewer.status(), StatusCode::NOT_FOUND);
    assert!(content_type(viewer.headers()).starts_with("application/problem+json"));
}
