//! The `Idempotency-Key` header on the applicant's and the password reset's POST and PUT
//! operations (`domain::idempotency`): wrapped around each such route with
//! `wrap = "from_fn(super::idempotency::idempotent)"`.
//!
//! Without the header a request runs as before. With it, the first request runs and its answer
//! is kept; the same request again (same method, path and body, same token or client) gets that
//! answer again with `Idempotency-Replayed: true`, without doing the work; another request
//! with the key is 422 `idempotency_key_reused`; one arriving while the first still runs is 409
//! `idempotency_key_in_use`. An answer a retry should not repeat (429, 5xx) is not kept: the key
//! is released so that the retry does the work.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpResponse};
use futures_util::StreamExt;

use super::extract::ClientAddress;
use super::{AppState, MAX_BODY_BYTES};
use crate::domain::idempotency::{self, Claim, StoredAnswer};
use crate::domain::DomainError;
use crate::error::ApiError;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The header of a replayed answer.
pub const IDEMPOTENCY_REPLAYED: &str = "idempotency-replayed";

/// The middleware (`actix_web::middleware::from_fn`).
pub async fn idempotent(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(header) = req.headers().get(IDEMPOTENCY_KEY).cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let refuse = |req: ServiceRequest, error: DomainError| {
        let response = actix_web::ResponseError::error_response(&ApiError::Domain(error));
        Ok(req.into_response(response))
    };
    let Some(key) = header.to_str().ok().and_then(idempotency::parse_key) else {
        return refuse(req, DomainError::IdempotencyKeyInvalid);
    };
    // The scope: the token the request carries (the application's or the reset's), or, before
    // there is one, the client. An operation on an application or a reset without its token is
    // the handler's 401 `unauthorized`, whatever key it carries: the key is not looked at.
    let scope = match req.headers().get(header::AUTHORIZATION) {
        Some(token) => format!("token:{}", String::from_utf8_lossy(token.as_bytes())),
        None if !creates(req.path()) => {
            return Ok(next.call(req).await?.map_into_boxed_body());
        }
        None => {
            let client = ClientAddress::from_request(req.request(), &mut Payload::None).await?;
            format!("client:{}", client.address)
        }
    };
    let Some(body) = read_body(&mut req).await else {
        let response = actix_web::ResponseError::error_response(&ApiError::PayloadTooLarge);
        return Ok(req.into_response(response));
    };
    let key_hash = idempotency::key_hash(&state.ctx.hasher, &scope, &key);
    let request_hash = idempotency::request_hash(req.method().as_str(), req.path(), &body);
    match idempotency::claim(&state.ctx, key_hash.clone(), request_hash).await {
        Err(error) => refuse(req, error),
        Ok(Claim::InUse) => refuse(req, DomainError::IdempotencyKeyInUse),
        Ok(Claim::Reused) => refuse(req, DomainError::IdempotencyKeyReused),
        Ok(Claim::Replay(answer)) => {
            let response = replay(answer);
            Ok(req.into_response(response))
        }
        Ok(Claim::First) => {
            req.set_payload(Payload::from(body));
            let response = next.call(req).await?;
            keep_or_release(&state, key_hash, response).await
        }
    }
}

/// The operations that create the application or the reset, before there is a token: the
/// others act on one and need its token.
fn creates(path: &str) -> bool {
    matches!(
        path.trim_end_matches('/'),
        "/api/v1/reissue-applications" | "/api/v1/password-resets"
    )
}

/// The body, up to the JSON limit (`None` past it).
async fn read_body(req: &mut ServiceRequest) -> Option<web::Bytes> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.ok()?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body.freeze())
}

/// Keeps the first answer (or releases the key for one a retry should repeat) and sends it.
async fn keep_or_release(
    state: &AppState,
    key_hash: String,
    response: ServiceResponse<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        // Released beside the answer, not before it: after a 5xx the database may be the cause,
        // and the answer must not wait for it a second time. Until the release lands, a retry
        // meets 409 `idempotency_key_in_use` (at most the lease's 60 s).
        let ctx = state.ctx.clone();
        actix_web::rt::spawn(async move {
            if let Err(error) = idempotency::release(&ctx, key_hash).await {
                tracing::warn!(error = %error, "an idempotency key could not be released");
            }
        });
        return Ok(response.map_into_boxed_body());
    }
    let (request, response) = response.into_parts();
    let head_of = |name: header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = head_of(header::CONTENT_TYPE);
    let location = head_of(header::LOCATION);
    let (head, body) = response.into_parts();
    let bytes = body::to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("the answer could not be read"))?;
    let answer = StoredAnswer {
        status: status.as_u16(),
        content_type,
        location,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    if let Err(error) = idempotency::finish(&state.ctx, key_hash, answer).await {
        // The work is done and committed: the answer still goes out; a retry will find the
        // key running until its lease ends, then do the work again.
        tracing::warn!(error = %error, "an idempotent answer could not be kept");
    }
    let response = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(request, response))
}

/// The kept answer, marked as replayed.
fn replay(answer: StoredAnswer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    if let Some(content_type) = answer.content_type {
        response.insert_header((header::CONTENT_TYPE, content_type));
    }
    if let Some(location) = answer.location {
        response.insert_header((header::LOCATION, location));
    }
    response
        .insert_header((IDEMPOTENCY_REPLAYED, HeaderValue::from_static("true")))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(answer.body)
}
