//! The browser apps built by Trunk (`dist/`), served at `/`: the office app (`index.html`) and
//! the reviewers' console (`console/index.html`, its files under `/console/`). Client-side
//! routes fall back to the page of their app: `/admin` and `/admin/…` to the console's,
//! anything else (such as `/reissue/code`) to the office app's, so an office never downloads
//! the console. `/api/…` and `/dev/…` never fall back, so an unknown API path stays a
//! problem+json 404. Their text files go out compressed once, with brotli or gzip
//! ([`StaticFiles`]), not on every request.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once, OnceLock, PoisonError, RwLock};
use std::time::SystemTime;

use actix_files::{NamedFile, PathBufWrap};
use actix_web::dev::{fn_service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, Encoding, EntityTag, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::web::Bytes;
use actix_web::{guard, web, HttpMessage as _, HttpRequest, HttpResponse, Scope};
use sha2::{Digest, Sha256};

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
/// console is not built), for GET and HEAD. Every answer is revalidated (`no-cache` plus ETag),
/// so a new release shows at the next load; file names are content-hashed anyway. The text
/// files come compressed from [`StaticFiles`]; the rest (images, fonts) from actix-files.
pub fn service(
    files: web::Data<StaticFiles>,
) -> Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("")
        .guard(guard::fn_guard(|ctx| {
            matches!(
                ctx.head().method,
                actix_web::http::Method::GET | actix_web::http::Method::HEAD
            ) && !is_server_path(ctx.head().uri.path())
        }))
        .wrap(DefaultHeaders::new().add(("Cache-Control", "no-cache")))
        .default_service(fn_service(move |req: ServiceRequest| {
            let files = files.clone();
            async move { files.serve(req).await }
        }))
}

/// Extensions of the files kept compressed: text, which shrinks to a fraction (the wasm to
/// a third). Images and fonts are compressed formats already.
const COMPRESSIBLE: [&str; 6] = ["wasm", "js", "css", "html", "svg", "json"];

/// brotli's best quality and largest window, paid once per file instead of once per request:
/// the office app's wasm (607 KB) goes out in 192 KB, where `Compress`'s quality 3 made 240 KB
/// (and gzip level 9 makes 246 KB).
const BROTLI_QUALITY: i32 = 11;
const BROTLI_WINDOW_BITS: i32 = 24;

/// The web folder's compressible files, each read once and kept in memory with its brotli and
/// gzip versions (per path, replaced when the file's modification time or size changes, as
/// when Trunk rebuilds the apps).
///
/// A file is compressed on a thread of its own after its first request, not at start-up: a
/// test process starts hundreds of servers on the real `dist/` and most never serve a file,
/// and brotli's best quality takes seconds for the office app's wasm (gzip and brotli about
/// 2 s in a debug build). Until a version
/// is ready, answers go out as they did before (uncompressed here, so `Compress` compresses
/// them on the fly).
pub struct StaticFiles {
    dir: PathBuf,
    office_page: PathBuf,
    console_page: PathBuf,
    assets: RwLock<HashMap<PathBuf, Arc<Asset>>>,
}

impl StaticFiles {
    /// The files of the web folder `dir` (read when first asked for).
    pub fn new(dir: PathBuf) -> Self {
        let [office_page, console_page] = pages(&dir);
        let console_page = if console_page.is_file() {
            console_page
        } else {
            office_page.clone()
        };
        Self {
            dir,
            office_page,
            console_page,
            assets: RwLock::new(HashMap::new()),
        }
    }

    async fn serve(&self, req: ServiceRequest) -> Result<ServiceResponse, actix_web::Error> {
        // The checks actix-files makes: no `..` out of the folder, no hidden files.
        let relative = match PathBufWrap::parse_path(req.path(), false) {
            Ok(relative) => relative,
            Err(error) => return Ok(req.error_response(error)),
        };
        let path = self.file_for(relative.as_ref(), req.path());
        let (req, _) = req.into_parts();
        let response = self.file(&path, &req).await?;
        Ok(ServiceResponse::new(req, response))
    }

    /// The answer to `req` with the file at `path`: a text file from the cache, compressed once
    /// ([`Asset`]), anything else through actix-files. (`routes::api_docs` serves the API
    /// reference's viewer with it.)
    pub async fn file(
        &self,
        path: &Path,
        req: &HttpRequest,
    ) -> Result<HttpResponse, actix_web::Error> {
        Ok(if is_compressible(path) {
            self.asset(path).await?.respond(req)
        } else {
            NamedFile::open_async(path).await?.into_response(req)
        })
    }

    /// The file that answers `request_path`: the file itself, a folder's `index.html`, or the
    /// page of the route's app.
    fn file_for(&self, relative: &Path, request_path: &str) -> PathBuf {
        let path = self.dir.join(relative);
        let path = if path.is_dir() {
            path.join("index.html")
        } else {
            path
        };
        if path.is_file() {
            path
        } else if is_console_path(request_path) {
            self.console_page.clone()
        } else {
            self.office_page.clone()
        }
    }

    /// The file at `path` as it is on disk now, read again if it changed.
    async fn asset(&self, path: &Path) -> Result<Arc<Asset>, actix_web::Error> {
        let stamp = Stamp::of(path)?;
        let cached = self
            .assets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(path)
            .filter(|asset| asset.stamp == stamp)
            .cloned();
        if let Some(asset) = cached {
            return Ok(asset);
        }
        let read = path.to_owned();
        let asset = Arc::new(web::block(move || Asset::read(&read, stamp)).await??);
        let mut assets = self.assets.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(current) = assets.get(path).filter(|current| current.stamp == stamp) {
            // Another request read it meanwhile: keep one copy (and one compression).
            return Ok(current.clone());
        }
        // A rebuild gives the files new (hashed) names: forget those that are gone.
        assets.retain(|kept, _| kept.is_file());
        assets.insert(path.to_owned(), asset.clone());
        Ok(asset)
    }
}

fn is_compressible(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| COMPRESSIBLE.contains(&extension))
}

/// What tells one version of a file from the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: SystemTime,
    len: u64,
}

impl Stamp {
    fn of(path: &Path) -> std::io::Result<Self> {
        let metadata = std::fs::metadata(path)?;
        Ok(Self {
            modified: metadata.modified()?,
            len: metadata.len(),
        })
    }
}

/// One file, its headers and its versions.
struct Asset {
    stamp: Stamp,
    content_type: HeaderValue,
    identity: Encoded,
    /// Filled by the compressing thread; `None` inside when compressing did not make it smaller.
    gzip: OnceLock<Option<Encoded>>,
    brotli: OnceLock<Option<Encoded>>,
    compressing: Once,
}

/// A version of the file: its bytes and its ETag. Each encoding has its own ETag (the content's
/// hash, then the encoding), so a cache never takes one for another.
#[derive(Clone)]
struct Encoded {
    bytes: Bytes,
    etag: EntityTag,
}

impl Asset {
    fn read(path: &Path, stamp: Stamp) -> std::io::Result<Self> {
        let bytes = Bytes::from(std::fs::read(path)?);
        let extension = path
            .extension()
            .and_then(|extension| extension.to_str())
            .unwrap_or_default();
        let content_type = utf8_text(actix_files::file_extension_to_mime(extension));
        let hash = hex::encode(&Sha256::digest(&bytes)[..16]);
        Ok(Self {
            stamp,
            content_type: HeaderValue::from_str(content_type.as_ref())
                .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
            identity: Encoded {
                bytes,
                etag: EntityTag::new_strong(hash),
            },
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            compressing: Once::new(),
        })
    }

    /// Compresses the file on a thread of its own, the first time only.
    fn compress_once(self: &Arc<Self>) {
        self.compressing.call_once(|| {
            let asset = self.clone();
            let started = std::thread::Builder::new()
                .name("static-compress".into())
                .spawn(move || {
                    // gzip first: it takes a fraction of brotli's time and serves meanwhile.
                    let gzip = gzip(&asset.identity.bytes);
                    let _ = asset.gzip.set(asset.smaller(gzip, "gzip"));
                    let brotli = brotli(&asset.identity.bytes);
                    let _ = asset.brotli.set(asset.smaller(brotli, "br"));
                });
            if let Err(error) = started {
                tracing::warn!(%error, "cannot start a thread to compress a static file");
            }
        });
    }

    /// `compressed` as a version of this file, when it is smaller than the file.
    fn smaller(&self, compressed: std::io::Result<Vec<u8>>, encoding: &str) -> Option<Encoded> {
        let compressed = match compressed {
            Ok(compressed) => compressed,
            Err(error) => {
                tracing::warn!(%error, encoding, "cannot compress a static file");
                return None;
            }
        };
        (compressed.len() < self.identity.bytes.len()).then(|| Encoded {
            bytes: Bytes::from(compressed),
            etag: EntityTag::new_strong(format!("{}-{encoding}", self.identity.etag.tag())),
        })
    }

    /// The answer to `req`: the best version its Accept-Encoding takes (br, then gzip, then
    /// the file itself), or 304 when the client's copy is that version.
    fn respond(self: &Arc<Self>, req: &HttpRequest) -> HttpResponse {
        self.compress_once();
        let (encoded, content_encoding) = self.version_for(req);
        let fresh = is_fresh(req, &encoded.etag, self.stamp.modified);
        let mut response = if fresh {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        response
            .insert_header(header::ETag(encoded.etag.clone()))
            .insert_header(header::LastModified(self.stamp.modified.into()))
            .insert_header((header::VARY, "Accept-Encoding"));
        if fresh {
            return response.finish();
        }
        if let Some(content_encoding) = content_encoding {
            response.insert_header((header::CONTENT_ENCODING, content_encoding));
        }
        response
            .insert_header((header::CONTENT_TYPE, self.content_type.clone()))
            .body(encoded.bytes.clone())
    }

    fn version_for(&self, req: &HttpRequest) -> (&Encoded, Option<&'static str>) {
        let brotli = self.brotli.get().and_then(Option::as_ref);
        let gzip = self.gzip.get().and_then(Option::as_ref);
        let mut offered = vec![Encoding::identity()];
        if brotli.is_some() {
            offered.push(Encoding::brotli());
        }
        if gzip.is_some() {
            offered.push(Encoding::gzip());
        }
        // (A missing or unreadable header asks for the file itself; so does one that refuses
        // everything we have, rather than a 406.)
        let chosen = req
            .get_header::<header::AcceptEncoding>()
            .and_then(|accepted| accepted.negotiate(offered.iter()));
        match (chosen, brotli, gzip) {
            (Some(chosen), Some(brotli), _) if chosen == Encoding::brotli() => (brotli, Some("br")),
            (Some(chosen), _, Some(gzip)) if chosen == Encoding::gzip() => (gzip, Some("gzip")),
            _ => (&self.identity, None),
        }
    }
}

/// Whether the client's copy is current: If-None-Match when sent (weak comparison, as for any
/// GET), else If-Modified-Since to the second.
fn is_fresh(req: &HttpRequest, etag: &EntityTag, modified: SystemTime) -> bool {
    if let Some(if_none_match) = req.get_header::<header::IfNoneMatch>() {
        return match if_none_match {
            header::IfNoneMatch::Any => true,
            header::IfNoneMatch::Items(tags) => tags.iter().any(|tag| tag.weak_eq(etag)),
        };
    }
    let Some(header::IfModifiedSince(since)) = req.get_header::<header::IfModifiedSince>() else {
        return false;
    };
    let seconds = |time: SystemTime| {
        time.duration_since(SystemTime::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .ok()
    };
    match (seconds(since.into()), seconds(modified)) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}

/// The type with `charset=utf-8` where actix-files adds it (HTML, CSS, `application/javascript`;
/// `text/javascript` goes without, as before).
fn utf8_text(mime: mime::Mime) -> mime::Mime {
    if mime == mime::TEXT_HTML {
        mime::TEXT_HTML_UTF_8
    } else if mime == mime::TEXT_CSS {
        mime::TEXT_CSS_UTF_8
    } else if mime == mime::APPLICATION_JAVASCRIPT {
        mime::APPLICATION_JAVASCRIPT_UTF_8
    } else {
        mime
    }
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

fn brotli(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut compressed = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: BROTLI_WINDOW_BITS,
        size_hint: bytes.len(),
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut compressed, &params)?;
    Ok(compressed)
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

    /// An asset of `text` with both compressed versions ready.
    fn compressed_asset(text: &str) -> Arc<Asset> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.js");
        std::fs::write(&path, text).unwrap();
        let asset = Asset::read(&path, Stamp::of(&path).unwrap()).unwrap();
        let _ = asset.gzip.set(asset.smaller(gzip(text.as_bytes()), "gzip"));
        let _ = asset
            .brotli
            .set(asset.smaller(brotli(text.as_bytes()), "br"));
        Arc::new(asset)
    }

    #[test]
    fn the_client_gets_the_best_version_it_accepts() {
        let asset = compressed_asset(&"export const x = 1;\n".repeat(100));
        for (accept, expected) in [
            (Some("br, gzip"), Some("br")),
            (Some("gzip, br"), Some("br")),
            (Some("gzip;q=1, br;q=0.5"), Some("gzip")),
            (Some("br;q=0, gzip"), Some("gzip")),
            (Some("deflate, zstd"), None),
            (Some("identity"), None),
            (Some("*"), None),
            (None, None),
        ] {
            let mut request = actix_web::test::TestRequest::get();
            if let Some(accept) = accept {
                request = request.insert_header((header::ACCEPT_ENCODING, accept));
            }
            let (_, encoding) = asset.version_for(&request.to_http_request());
            assert_eq!(encoding, expected, "{accept:?}");
        }
    }

    #[test]
    fn a_file_that_does_not_shrink_goes_out_as_it_is() {
        let asset = compressed_asset("x");
        let request = actix_web::test::TestRequest::get()
            .insert_header((header::ACCEPT_ENCODING, "br, gzip"))
            .to_http_request();
        assert_eq!(asset.version_for(&request).1, None);
    }
}
