//! CSV answers: whether a request asks for one (`Accept: text/csv`), and the attachment itself
//! (never cached: the exports hold personal data).

use actix_web::{HttpRequest, HttpResponse};

/// Whether the request's `Accept` names `text/csv`.
pub fn wanted(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"))
}

/// The CSV file `filename` in `charset`, as a download.
pub fn attachment<B>(filename: &str, charset: &str, body: B) -> HttpResponse
where
    B: actix_web::body::MessageBody + 'static,
{
    HttpResponse::Ok()
        .content_type(format!("text/csv; charset={charset}"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}
