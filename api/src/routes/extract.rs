//! Request extractors: the application's bearer token and the client address.

use std::future::{ready, Future, Ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::AppState;
use crate::config::TrustedProxies;
use crate::domain::caller::Caller;
use crate::domain::rate_limit::StandingNote;
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

/// What a valid bearer token of an open session proves, checked by `authenticate` (one of
/// `domain::sessions::authenticate_*`: the token's signature and expiry, then its session
/// row). Shared by the reviewer and office extractors; a missing token is 401 like a bad one.
pub fn authenticated_bearer<T, F, Fut>(
    req: &HttpRequest,
    payload: &mut Payload,
    authenticate: F,
) -> LocalBoxFuture<'static, Result<T, ApiError>>
where
    T: 'static,
    F: FnOnce(crate::domain::Context, String) -> Fut + 'static,
    Fut: Future<Output = Result<T, DomainError>> + 'static,
{
    let token = BearerToken::from_request(req, payload).into_inner();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    Box::pin(async move {
        let (Ok(token), Some(state)) = (token, state) else {
            return Err(ApiError::Domain(DomainError::SessionInvalid));
        };
        Ok(authenticate(state.ctx.clone(), token.0).await?)
    })
}

/// The client's address: the TCP peer, or, when the peer is one of `REISSUE_TRUSTED_PROXIES`,
/// the right-most `X-Forwarded-For` entry that is not a trusted proxy (see
/// [`crate::config::TrustedProxies`]).
pub struct ClientAddress {
    /// The client's IP address.
    pub address: String,
    /// Where the use case notes what is left of the client's budget, when the `RateLimit`
    /// middleware (`rate_limit_headers`) put one in the request.
    standing: StandingNote,
}

impl ClientAddress {
    /// As the domain's caller.
    pub fn caller(self) -> Caller {
        Caller {
            address: self.address,
            standing: self.standing,
        }
    }
}

impl FromRequest for ClientAddress {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let proxies = req
            .app_data::<web::Data<AppState>>()
            .map(|state| &state.settings.trusted_proxies);
        let peer = req.peer_addr().map(|addr| addr.ip());
        let address = match (peer, proxies) {
            (None, _) => "unknown".to_owned(),
            (Some(peer), None) => peer.to_canonical().to_string(),
            (Some(peer), Some(proxies)) => {
                // Several X-Forwarded-For headers are one list, in order.
                let hops = req
                    .headers()
                    .get_all("x-forwarded-for")
                    .filter_map(|value| value.to_str().ok())
                    .flat_map(|value| value.split(','))
                    .map(str::trim)
                    .filter(|hop| !hop.is_empty())
                    .collect::<Vec<_>>();
                client_behind(peer, &hops, proxies).to_string()
            }
        };
        let standing = req
            .extensions()
            .get::<StandingNote>()
            .cloned()
            .unwrap_or_default();
        ready(Ok(Self { address, standing }))
    }
}

/// The client of a request from `peer` whose `X-Forwarded-For` lists `hops` (left to right):
/// walking from the right, past every trusted proxy, to the first address that is not one. A
/// hop that is not an address stops the walk at the proxy that wrote it.
fn client_behind(peer: IpAddr, hops: &[&str], proxies: &TrustedProxies) -> IpAddr {
    let mut client = peer.to_canonical();
    for hop in hops.iter().rev() {
        if !proxies.contains(client) {
            break;
        }
        match hop.parse::<IpAddr>() {
            Ok(address) => client = address.to_canonical(),
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(peer: &str, hops: &[&str], proxies: &str) -> String {
        let proxies = TrustedProxies::parse(proxies).unwrap_or_default();
        let peer = peer.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        client_behind(peer, hops, &proxies).to_string()
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        assert_eq!(client("198.51.100.9", &["203.0.113.5"], ""), "198.51.100.9");
        assert_eq!(
            client("198.51.100.9", &["203.0.113.5"], "10.0.0.0/8"),
            "198.51.100.9"
        );
    }

    #[test]
    fn behind_proxies_the_client_is_the_right_most_untrusted_hop() {
        let proxies = "10.0.0.0/8, 192.0.2.1";
        assert_eq!(client("10.0.0.2", &["203.0.113.5"], proxies), "203.0.113.5");
        // A client that writes its own X-Forwarded-For only adds entries on the left.
        assert_eq!(
            client(
                "10.0.0.2",
                &["6.6.6.6", "203.0.113.5", "192.0.2.1"],
                proxies
            ),
            "203.0.113.5"
        );
        // Every hop a proxy: the left-most proxy is the nearest thing to a client.
        assert_eq!(client("10.0.0.2", &["10.1.1.1"], proxies), "10.1.1.1");
        // No header: the proxy itself.
        assert_eq!(client("10.0.0.2", &[], proxies), "10.0.0.2");
        // Garbage stops the walk at the proxy that passed it on.
        assert_eq!(
            client("10.0.0.2", &["203.0.113.5", "not-an-ip"], proxies),
            "10.0.0.2"
        );
        // IPv4-mapped peers count as their IPv4 address.
        assert_eq!(
            client("::ffff:10.0.0.2", &["2001:db8::7"], proxies),
            "2001:db8::7"
        );
    }

    #[test]
    fn the_setting_takes_addresses_and_cidrs_and_names_a_bad_entry() {
        let proxies = TrustedProxies::parse("10.0.0.0/8 192.0.2.1,2001:db8::/32").ok();
        assert!(proxies
            .as_ref()
            .is_some_and(|p| p.contains("192.0.2.1".parse().unwrap_or(IpAddr::from([0; 4])))));
        assert!(TrustedProxies::parse("10.0.0.0/8, proxy.local")
            .err()
            .is_some_and(|message| message.contains("proxy.local")));
    }
}
