//! Request extractors: the application's bearer token and the client address.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use super::AppState;
use crate::domain::reissue::Caller;
use crate::domain::DomainError;
use crate::error::ApiError;

/// `Authorization: Bearer <token>` of an application.
pub struct BearerToken(pub String);

impl FromRequest for BearerToken {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
            })
            .filter(|token| !token.is_empty());
        ready(
            token
                .map(Self)
                .ok_or(ApiError::Domain(DomainError::Unauthorized)),
        )
    }
}

/// What a valid bearer token proves, checked by `verify` with the server's keys and clock.
/// Shared by the reviewer and office extractors; a missing token is 401 like a bad one.
pub fn verified_bearer<T>(
    req: &HttpRequest,
    payload: &mut Payload,
    verify: impl FnOnce(&crate::domain::Context, &str, time::OffsetDateTime) -> Result<T, DomainError>,
) -> Result<T, ApiError> {
    let token = BearerToken::from_request(req, payload)
        .into_inner()
        .map_err(|_| ApiError::Domain(DomainError::SessionInvalid))?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or(ApiError::Domain(DomainError::SessionInvalid))?;
    let now = state.ctx.clock.now();
    Ok(verify(&state.ctx, &token.0, now)?)
}

/// The client's address: the TCP peer, or the first `X-Forwarded-For` hop when the operator
/// declared a trusted proxy (`REISSUE_TRUST_FORWARDED_FOR`).
pub struct ClientAddress(pub String);

impl ClientAddress {
    /// As the domain's caller.
    pub fn caller(self) -> Caller {
        Caller { address: self.0 }
    }
}

impl FromRequest for ClientAddress {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let trust_proxy = req
            .app_data::<web::Data<AppState>>()
            .is_some_and(|state| state.settings.trust_forwarded_for);
        let forwarded = trust_proxy
            .then(|| {
                req.headers()
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next())
                    .map(|v| v.trim().to_owned())
                    .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
            })
            .flatten();
        let address = forwarded
            .or_else(|| req.peer_addr().map(|addr| addr.ip().to_string()))
            .unwrap_or_else(|| "unknown".to_owned());
        ready(Ok(Self(address)))
    }
}
