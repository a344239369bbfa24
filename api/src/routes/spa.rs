//! The browser apps built by Trunk (`dist/`), served at `/`: the office app (`index.html`) and
//! the reviewers' console (`console/index.html`, its files under `/console/`). Client-side
//! routes fall back to the page of their app: `/admin` and `/admin/…` to the console's,
//! anything else (such as `/reissue/code`) to the office app's, so an office never downloads
//! the console. `/api/…` and `/dev/…` never fall back, so an unknown API path stays a
//! problem+json 404.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::dev::{fn_service, ServiceRequest, ServiceResponse};
use actix_web::guard;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, Scope};

/// The front page while the browser app is not built (an API-only server).
pub const FRONT_PAGE: &str = include_str!("../front_page.html");

/// The front page's handler.
pub async fn front_page() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(FRONT_PAGE)
}

/// The console's folder inside the web folder (Trunk's `--dist dist/console`).
pub const CONSOLE_DIR: &str = "console";

/// Whether `dir` holds a built app.
pub fn is_built(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

/// The pages of both apps in `dir`: the office app's, then the console's (either may be
/// missing).
pub fn pages(dir: &Path) -> [PathBuf; 2] {
    [
        dir.join("index.html"),
        dir.join(CONSOLE_DIR).join("index.html"),
    ]
}

/// Whether `dir` holds a built console.
pub fn console_is_built(dir: &Path) -> bool {
    let [_, console] = pages(dir);
    console.is_file()
}

/// Whether a client-side route belongs to the reviewers' console.
fn is_console_path(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

fn is_server_path(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/dev/")
        || path == "/healthz"
        || path == "/readyz"
}

/// The apps' files with the fallback to the page of the route's app (the office app's when the
/// console is not built). Every answer is revalidated (`no-cache` plus ETag), so a new release
/// shows at the next load; file names are content-hashed anyway.
pub fn service(
    dir: PathBuf,
) -> Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let [office, console] = pages(&dir);
    let console = if console.is_file() {
        console
    } else {
        office.clone()
    };
    let files = Files::new("/", dir)
        .index_file("index.html")
        .use_etag(true)
        .default_handler(fn_service(move |req: ServiceRequest| {
            let page = if is_console_path(req.path()) {
                console.clone()
            } else {
                office.clone()
            };
            async move {
                let (req, _) = req.into_parts();
                let file = NamedFile::open_async(&page).await?;
                let response = file.into_response(&req);
                Ok(ServiceResponse::new(req, response))
            }
        }));
    web::scope("")
        .guard(guard::fn_guard(|ctx| {
            ctx.head().method == actix_web::http::Method::GET
                && !is_server_path(ctx.head().uri.path())
        }))
        .wrap(DefaultHeaders::new().add(("Cache-Control", "no-cache")))
        .service(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admin_paths_are_the_consoles() {
        for path in ["/admin", "/admin/", "/admin/login", "/admin/applications/x"] {
            assert!(is_console_path(path), "{path}");
        }
        for path in [
            "/",
            "/administration",
            "/adminx/login",
            "/reissue/code",
            "/console/",
        ] {
            assert!(!is_console_path(path), "{path}");
        }
    }
}
