//! The browser app built by Trunk (`dist/`), served at `/`. Client-side routes such as
//! `/reissue/code` fall back to `index.html`; `/api/…` and `/dev/…` never do, so an unknown API
//! path stays a problem+json 404.

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

/// Whether `dir` holds a built app.
pub fn is_built(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

fn is_server_path(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/dev/")
        || path == "/healthz"
        || path == "/readyz"
}

/// The app's files with the `index.html` fallback. Every answer is revalidated (`no-cache`
/// plus ETag), so a new release shows at the next load; file names are content-hashed anyway.
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
    let index = dir.join("index.html");
    let files = Files::new("/", dir)
        .index_file("index.html")
        .use_etag(true)
        .default_handler(fn_service(move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                let file = NamedFile::open_async(&index).await?;
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
