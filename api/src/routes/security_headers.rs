//! The security headers of every answer: `X-Content-Type-Options: nosniff` and
//! `Referrer-Policy: no-referrer` everywhere, HSTS when `REISSUE_HSTS=true` (behind TLS), and
//! on every HTML answer (the browser app, the printable notice, the development mailbox, the
//! API-only front page, the API reference) one strict Content-Security-Policy.
//!
//! The policy allows no inline code but the blocks the service ships itself, by their SHA-256:
//! Trunk's loader script in each app's `index.html` (the office app's and the console's), and
//! the `<style>` of the notice (which the console also shows in an `<iframe srcdoc>`, and a
//! srcdoc document obeys its parent's policy), the mailbox page, the front page and the API
//! reference's pages (Swagger UI runs under the policy as it is: `routes::api_docs`). Scripts
//! come only from the origin, and the apps' WebAssembly needs `'wasm-unsafe-eval'`; nothing may
//! frame the service.

use std::path::Path;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The headers, computed once at start-up.
#[derive(Clone)]
pub struct SecurityHeaders {
    content_security_policy: HeaderValue,
    strict_transport_security: Option<HeaderValue>,
}

/// HSTS for a year, subdomains included (only sent when the operator says TLS is in front).
const HSTS: &str = "max-age=31536000; includeSubDomains";

impl SecurityHeaders {
    /// The policy for the apps in `web_dir` (their pages, when built) and the server's own
    /// pages; HSTS when `hsts`.
    pub fn new(web_dir: &Path, hsts: bool) -> Self {
        let app_pages: Vec<String> = super::spa::pages(web_dir)
            .iter()
            .map(|page| std::fs::read_to_string(page).unwrap_or_default())
            .collect();
        let scripts: Vec<&str> = app_pages
            .iter()
            .flat_map(|page| inline_blocks(page, "script"))
            .collect();
        let server_pages = [
            super::notice_html::render(&[]),
            super::dev_mailbox::PAGE_HEAD.to_owned(),
            super::spa::FRONT_PAGE.to_owned(),
            super::api_docs::PAGE.to_owned(),
            super::api_docs::NOT_BUILT_PAGE.to_owned(),
        ];
        let styles: Vec<&str> = server_pages
            .iter()
            .flat_map(|page| inline_blocks(page, "style"))
            .chain(
                app_pages
                    .iter()
                    .flat_map(|page| inline_blocks(page, "style")),
            )
            .collect();
        let policy = content_security_policy(&scripts, &styles);
        Self {
            // Hashes are base64 and the rest is ASCII: the value is always a valid header.
            content_security_policy: HeaderValue::from_str(&policy)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
            strict_transport_security: hsts.then(|| HeaderValue::from_static(HSTS)),
        }
    }

    /// The Content-Security-Policy of HTML answers.
    pub fn content_security_policy(&self) -> &HeaderValue {
        &self.content_security_policy
    }
}

/// The policy text: the issue's strict default, with the hashes of the inline blocks allowed.
fn content_security_policy(scripts: &[&str], styles: &[&str]) -> String {
    let hashes = |blocks: &[&str]| -> String {
        let mut hashes: Vec<String> = blocks.iter().map(|block| sha256_source(block)).collect();
        hashes.sort();
        hashes.dedup();
        hashes.iter().map(|hash| format!(" {hash}")).collect()
    };
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{}; style-src 'self'{}; \
         img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; \
         object-src 'none'",
        hashes(scripts),
        hashes(styles)
    )
}

/// A CSP hash source (`'sha256-…'`) of an inline block's exact text.
fn sha256_source(block: &str) -> String {
    let digest = Sha256::digest(block.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The text of each inline `<tag>` element of `html` (those without a `src`), as the browser
/// hashes it.
fn inline_blocks<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut blocks = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        // `<scripts>` or `<style-x>` are other elements.
        if !after.starts_with(['>', ' ', '\t', '\n', '\r']) {
            rest = after;
            continue;
        }
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let attributes = &after[..tag_end];
        let body = &after[tag_end + 1..];
        let Some(end) = body.find(&close) else {
            break;
        };
        if !attributes.contains("src=") {
            blocks.push(&body[..end]);
        }
        rest = &body[end + close.len()..];
    }
    blocks
}

/// Adds the headers to every answer (`actix_web::middleware::from_fn`).
pub async fn middleware(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let headers = request
        .app_data::<web::Data<SecurityHeaders>>()
        .map(|data| data.get_ref().clone());
    let mut response = next.call(request).await?;
    let Some(security) = headers else {
        return Ok(response);
    };
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let out = response.headers_mut();
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Some(hsts) = security.strict_transport_security {
        out.insert(header::STRICT_TRANSPORT_SECURITY, hsts);
    }
    if is_html {
        out.insert(
            HeaderName::from_static("content-security-policy"),
            security.content_security_policy,
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_blocks_are_found_and_external_ones_skipped() {
        let html = r#"<head><script type="module">import init from '/app.js';</script>
<script src="/other.js"></script><style>body{margin:0}</style><scripts>no</scripts></head>"#;
        assert_eq!(
            inline_blocks(html, "script"),
            ["import init from '/app.js';"]
        );
        assert_eq!(inline_blocks(html, "style"), ["body{margin:0}"]);
    }

    #[test]
    fn a_hash_source_is_the_base64_sha256_of_the_exact_text() {
        // echo -n 'body{margin:0}' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            sha256_source("body{margin:0}"),
            "'sha256-IAdwN3biDCQ3brrgp1m8kBEsPQYyqfREKOEfeoREopc='"
        );
    }

    #[test]
    fn the_policy_is_strict_and_names_only_the_shipped_blocks() {
        let policy = content_security_policy(&["a", "a"], &["b"]);
        assert!(
            policy.starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-")
        );
        assert_eq!(policy.matches("'sha256-").count(), 2, "{policy}");
        for directive in [
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "img-src 'self' data:",
        ] {
            assert!(policy.contains(directive), "{policy}");
        }
        assert!(!policy.contains("unsafe-inline"), "{policy}");
    }
}
