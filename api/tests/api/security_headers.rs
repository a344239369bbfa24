//! Every answer carries `nosniff` and `no-referrer`; every HTML answer one strict
//! Content-Security-Policy that admits the page's own inline blocks by hash and nothing else;
//! HSTS only when the operator turns it on.

use base64::Engine;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app, spawn_app_with, Backend};

/// The inline `<style>` blocks of `html`.
fn inline_styles(html: &str) -> Vec<&str> {
    html.split("<style>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</style>").map(|(style, _)| style))
        .collect()
}

/// The HTML answer's policy is the strict one, and admits each of the page's inline styles
/// (the browser would otherwise drop them).
pub fn assert_strict_policy_admits(headers: &HeaderMap, html: &str) {
    let policy = headers
        .get("content-security-policy")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} missing: {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let styles = inline_styles(html);
    assert!(!styles.is_empty(), "the page has its own style");
    for style in styles {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
        assert!(
            policy.contains(&format!("'sha256-{hash}'")),
            "the page's style is not admitted: {policy}"
        );
    }
    assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
}

async fn every_answer_says_nosniff_and_no_referrer_and_html_gets_the_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    let json = app
        .client
        .get(app.api("/prefectures"))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::OK);
    let headers = json.headers();
    assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
    assert!(headers.get("strict-transport-security").is_none());
    assert!(headers.get("content-security-policy").is_none());

    let missing = app
        .client
        .get(app.api("/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );

    for page in ["/", "/dev/mailbox"] {
        let response = app.client.get(app.url(page)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{page}");
        let headers = response.headers().clone();
        let html = response.text().await.unwrap();
        assert_strict_policy_admits(&headers, &html);
    }
}

async fn hsts_only_when_turned_on(backend: Backend) {
    let app = spawn_app_with(backend, &[("REISSUE_HSTS", "true")]).await;
    let response = app
        .client
        .get(app.api("/prefectures"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("strict-transport-security").unwrap(),
        "max-age=31536000; includeSubDomains"
    );
}

crate::on_both_backends!(
    every_answer_says_nosniff_and_no_referrer_and_html_gets_the_policy,
    hsts_only_when_turned_on,
);
