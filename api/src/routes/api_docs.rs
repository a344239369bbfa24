//! The API reference at `/api/docs`: a page of ours that runs Swagger UI (npm
//! `swagger-ui-dist`, its version pinned in `tools.env` as `SWAGGER_UI_DIST_VERSION`) on
//! `/api/openapi.json`. `./dev build` copies the viewer's files into the web folder
//! (`REISSUE_WEB_DIR/api-docs/`, beside the apps Trunk builds), and they are served from here,
//! under `/api/docs/`: the page loads nothing from another origin, so billing-software vendors
//! and federations read it on closed networks (LGWAN) too.
//!
//! It runs under the strict Content-Security-Policy of every HTML answer, unchanged: the page
//! has no inline script (Swagger UI is started by `/api/docs/init.js`, compiled into the
//! binary) and no inline style, and Swagger UI needs neither `'unsafe-eval'` nor inline styles
//! (its look is `swagger-ui.css`; the styles it sets at run time go through the DOM's style
//! properties, which the policy does not restrict).
//!
//! A build without the viewer (an API-only server, `cargo build` alone) answers `/api/docs`
//! with 404 and a page that says how to build it, and the viewer's files with 404.

use std::path::{Path, PathBuf};

use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use super::spa::StaticFiles;
use super::AppState;
use crate::error::ApiError;

/// The viewer's folder inside the web folder, where `./dev build` puts it.
pub const VIEWER_DIR: &str = "api-docs";

/// The viewer's files the page loads, as `./dev` copies them from the npm package.
const VIEWER_FILES: [&str; 2] = ["swagger-ui-bundle.js", "swagger-ui.css"];

/// The licences that go with them, served beside them (the bundle's header names the last).
const LICENCE_FILES: [&str; 3] = [
    "LICENSE.txt",
    "NOTICE.txt",
    "swagger-ui-bundle.js.LICENSE.txt",
];

/// The page: the viewer's stylesheet and script, and our start script.
pub const PAGE: &str = include_str!("../api_docs.html");

/// The page of a build without the viewer.
pub const NOT_BUILT_PAGE: &str = include_str!("../api_docs_not_built.html");

/// Starts Swagger UI on `/api/openapi.json` (served as `/api/docs/init.js`).
const INIT_SCRIPT: &str = include_str!("../api_docs.js");

/// Registers the page (documented).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(api_reference);
}

/// Registers the page's files, which are not operations of the API (as `/api/openapi.json`
/// is not): `/api/docs/init.js` and the viewer's files.
pub fn configure_files(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/docs/{file}", web::get().to(file));
}

/// Whether the web folder `web_dir` holds the viewer (what the page loads).
pub fn viewer_is_built(web_dir: &Path) -> bool {
    VIEWER_FILES
        .iter()
        .all(|name| viewer_path(web_dir, name).is_file())
}

fn viewer_path(web_dir: &Path, name: &str) -> PathBuf {
    web_dir.join(VIEWER_DIR).join(name)
}

/// The API reference: Swagger UI on this service's OpenAPI document, with nothing loaded from
/// another origin.
#[utoipa::path(
    tag = "documentation",
    responses(
        (status = 200, description = "HTML page: the reference (Swagger UI on /api/openapi.json)", content_type = "text/html"),
        (status = 404, description = "HTML page: this build has no viewer, and how to build it (`./dev build`)", content_type = "text/html"),
    )
)]
#[get("/api/docs")]
pub async fn api_reference(state: web::Data<AppState>) -> HttpResponse {
    let (mut response, body) = if viewer_is_built(&state.settings.web_dir) {
        (HttpResponse::Ok(), PAGE)
    } else {
        (HttpResponse::NotFound(), NOT_BUILT_PAGE)
    };
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// `/api/docs/init.js` and the viewer's files; any other name is 404.
async fn file(
    request: HttpRequest,
    name: web::Path<String>,
    state: web::Data<AppState>,
    files: web::Data<StaticFiles>,
) -> Result<HttpResponse, actix_web::Error> {
    let name = name.into_inner();
    if name == "init.js" {
        return Ok(HttpResponse::Ok()
            .content_type("text/javascript; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(INIT_SCRIPT));
    }
    if !VIEWER_FILES.contains(&name.as_str()) && !LICENCE_FILES.contains(&name.as_str()) {
        return Err(ApiError::RouteNotFound.into());
    }
    let path = viewer_path(&state.settings.web_dir, &name);
    if !path.is_file() {
        return Err(ApiError::NotAvailable.into());
    }
    // Revalidated at each load (ETag), as the apps' files: the names carry no version.
    let mut response = files.file(&path, &request).await?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_load_nothing_inline_and_nothing_from_elsewhere() {
        for page in [PAGE, NOT_BUILT_PAGE] {
            assert!(!page.contains("<script>"), "inline script");
            assert!(!page.contains("http://") && !page.contains("https://"));
        }
        for url in [
            "/api/docs/swagger-ui.css",
            "/api/docs/swagger-ui-bundle.js",
            "/api/docs/init.js",
            "/api/openapi.json",
        ] {
            assert!(PAGE.contains(&format!("\"{url}\"")), "{url}");
        }
    }

    #[test]
    fn the_viewer_is_built_when_its_script_and_stylesheet_are_there() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!viewer_is_built(dir.path()));
        std::fs::create_dir(dir.path().join(VIEWER_DIR)).unwrap();
        std::fs::write(viewer_path(dir.path(), "swagger-ui-bundle.js"), "//").unwrap();
        assert!(!viewer_is_built(dir.path()));
        std::fs::write(viewer_path(dir.path(), "swagger-ui.css"), "").unwrap();
        assert!(viewer_is_built(dir.path()));
    }
}
