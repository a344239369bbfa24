//! The development mailbox: `/dev/mailbox` (HTML) and `GET /api/dev/messages?to=` (JSON),
//! only with `REISSUE_DEV_MAILBOX=true` (or `serve --demo`) and no SMTP server, and only to a
//! client on this machine (a loopback peer; `X-Forwarded-For` is not looked at). Both answer
//! 404 otherwise, as if they did not exist.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use reissue_shared::dto::{DevMessage, Problem};

use super::AppState;
use crate::error::ApiError;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_messages).service(mailbox_page);
}

/// Filter of the message list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MessagesQuery {
    /// Only messages to this address.
    pub to: Option<String>,
}

/// Whether a peer may read the mailbox: only one on this machine.
fn may_read(peer: Option<std::net::SocketAddr>) -> bool {
    peer.is_some_and(|address| address.ip().to_canonical().is_loopback())
}

async fn load(
    state: &AppState,
    request: &HttpRequest,
    to: Option<String>,
) -> Result<Vec<DevMessage>, ApiError> {
    if !state.dev_mailbox_enabled || !may_read(request.peer_addr()) {
        return Err(ApiError::NotAvailable);
    }
    Ok(crate::domain::outbox::dev_messages(&state.ctx, to).await?)
}

/// Messages kept by the development mailbox, newest first.
#[utoipa::path(
    tag = "development",
    params(MessagesQuery),
    responses(
        (status = 200, description = "Newest first", body = [DevMessage]),
        (status = 400, description = "`malformed_body`: malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`route_not_found`: no development mailbox (SMTP is configured, or `REISSUE_DEV_MAILBOX` is off), or the client is not on this machine", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/dev/messages")]
pub async fn list_messages(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<MessagesQuery>,
) -> Result<web::Json<Vec<DevMessage>>, ApiError> {
    Ok(web::Json(
        load(&state, &request, query.into_inner().to).await?,
    ))
}

/// The development mailbox as a page, so a new user can read the code in a browser.
#[utoipa::path(
    tag = "development",
    params(MessagesQuery),
    responses(
        (status = 200, description = "HTML page", content_type = "text/html"),
        (status = 404, description = "`route_not_found`: no development mailbox, or the client is not on this machine", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/dev/mailbox")]
pub async fn mailbox_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<MessagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let messages = load(&state, &request, query.into_inner().to).await?;
    let mut html = String::from(PAGE_HEAD);
    html.push_str(
        "<body><main><h1>開発用メールボックス</h1>\
         <p>SMTP サーバーが設定されていないため、送信されたメールをここに表示しています（新しい順）。</p>",
    );
    if messages.is_empty() {
        html.push_str("<p>メールはまだありません。</p>");
    }
    for message in &messages {
        html.push_str(&format!(
            "<article><h2>{}</h2><p>宛先: {}<br>日時: {}</p><pre>{}</pre></article>",
            escape(&message.subject),
            escape(&message.to),
            message.created_at,
            escape(&message.body)
        ));
    }
    html.push_str("</main></body></html>");
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(html))
}

/// The page's head; its `<style>` is allowed by hash in the Content-Security-Policy
/// (`routes::security_headers`).
pub const PAGE_HEAD: &str = "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
     <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
     <title>開発用メールボックス</title>\
     <style>body{font-family:system-ui,'Hiragino Sans','Noto Sans JP',sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.6}\
     article{border:1px solid #999;border-radius:4px;padding:1rem;margin:1rem 0}pre{white-space:pre-wrap}</style>\
     </head>";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_peer_on_this_machine_reads_the_mailbox() {
        let peer = |address: &str| address.parse::<std::net::SocketAddr>().ok();
        assert!(may_read(peer("127.0.0.1:50000")));
        assert!(may_read(peer("[::1]:50000")));
        assert!(may_read(peer("[::ffff:127.0.0.1]:50000")));
        assert!(!may_read(peer("192.0.2.10:50000")));
        assert!(!may_read(peer("[2001:db8::1]:50000")));
        assert!(!may_read(peer("[::ffff:192.0.2.10]:50000")));
        assert!(!may_read(None));
    }
}
