//! The IETF draft "RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers):
//! a billing program sees how much of each limit it has left before it meets a 429.
//!
//! - `RateLimit-Policy` names each quota: `"client";q=60;w=3600` (the applicant's and the
//!   password reset's requests per client address and hour), `"login";q=20;w=60` (login
//!   attempts per client address and minute), and on the answers about one application
//!   `"codes";q=3` (codes it may still ask for) and `"attempts";q=5` (wrong tries of its
//!   current code), which have no time window.
//! - `RateLimit` says what is left of each: `"client";r=59;t=3540` (`t`: seconds until the
//!   oldest counted request leaves the window), `"codes";r=2`, `"attempts";r=4`.
//!
//! The per-client items are added by [`middleware`] to every answer of those paths but a 5xx
//! (429s included); the per-application items by the handlers that know them
//! ([`with_application_limits`]) and by the `wrong_code` problem.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpResponseBuilder};

use super::extract::ClientAddress;
use super::AppState;
use crate::config::Limits;
use crate::domain::rate_limit::{self, Budget, StandingNote};

/// `RateLimit-Policy`.
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit`.
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// A quota policy: `"name";q=quota[;w=window seconds]`.
pub fn policy_item(name: &str, quota: u32, window: Option<Duration>) -> String {
    match window {
        Some(window) => format!("\"{name}\";q={quota};w={}", window.as_secs()),
        None => format!("\"{name}\";q={quota}"),
    }
}

/// What is left of a policy: `"name";r=remaining[;t=seconds until it grows again]`.
pub fn remaining_item(name: &str, remaining: u32, reset_secs: Option<u64>) -> String {
    match reset_secs {
        Some(t) if t > 0 => format!("\"{name}\";r={remaining};t={t}"),
        _ => format!("\"{name}\";r={remaining}"),
    }
}

/// The per-client limit a request path is counted against, if any.
enum ClientPolicy {
    /// `Caller::budget`: the applicant's and the password reset's requests.
    Requests,
    /// `passwords::client_login_budget`: office and reviewer logins.
    Logins,
}

fn client_policy(method: &Method, path: &str) -> Option<ClientPolicy> {
    if path.starts_with("/api/v1/reissue-applications")
        || path.starts_with("/api/v1/password-resets")
    {
        return Some(ClientPolicy::Requests);
    }
    let login = path == "/api/v1/auth/login" || path == "/api/v1/admin/sessions";
    (login && method == Method::POST).then_some(ClientPolicy::Logins)
}

/// Adds the per-client items to the answers of the applicant's, the password reset's and the
/// login paths (`actix_web::middleware::from_fn`). A budget that cannot be read leaves the
/// answer without them (the fields are hints; the answer matters more).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let policy = client_policy(req.method(), req.path());
    // The use case notes the client's standing here as it counts the request
    // (`Caller::spend_request`), so a successful answer needs no second read of the budget.
    let noted = StandingNote::default();
    if matches!(policy, Some(ClientPolicy::Requests)) {
        req.extensions_mut().insert(noted.clone());
    }
    let mut response = next.call(req).await?;
    // A 5xx answer (the database unreachable, the password threads full) goes out at once: the
    // budget's read would wait for the same database again (up to the pool's time-out) only to
    // add a hint.
    let Some(policy) = policy.filter(|_| !response.status().is_server_error()) else {
        return Ok(response);
    };
    let Some(state) = response
        .request()
        .app_data::<web::Data<AppState>>()
        .cloned()
    else {
        return Ok(response);
    };
    let Ok(client) = ClientAddress::from_request(response.request(), &mut Payload::None).await
    else {
        return Ok(response);
    };
    let caller = client.caller();
    let (name, budget): (&str, Budget) = match policy {
        ClientPolicy::Requests => ("client", caller.budget(&state.ctx)),
        ClientPolicy::Logins => (
            "login",
            crate::domain::passwords::client_login_budget(&state.ctx, &caller),
        ),
    };
    let (quota, window) = (budget.limit, budget.window);
    // Only a successful answer's transaction surely committed what it noted; any other answer
    // reads the budget as it now stands.
    let standing = match noted.noted().filter(|_| response.status().is_success()) {
        Some(standing) => Ok(standing),
        None => rate_limit::standing(&state.ctx, budget).await,
    };
    match standing {
        Ok(standing) => {
            let headers = response.headers_mut();
            append(
                headers,
                RATELIMIT_POLICY,
                &policy_item(name, quota, Some(window)),
            );
            append(
                headers,
                RATELIMIT,
                &remaining_item(name, standing.remaining, Some(standing.reset_secs)),
            );
        }
        Err(error) => {
            tracing::debug!(error = %error, "no RateLimit fields: the budget could not be read")
        }
    }
    Ok(response)
}

/// Adds one list member as a field line of its own (field lines of one name form one list).
fn append(headers: &mut actix_web::http::header::HeaderMap, name: HeaderName, item: &str) {
    if let Ok(value) = HeaderValue::from_str(item) {
        headers.append(name, value);
    }
}

/// The application's own quota items, policy and remainder each: the codes it may still ask
/// for (when the answer knows them) and, while a code is active, the wrong tries left.
fn application_items(
    limits: &Limits,
    codes_remaining: Option<u32>,
    attempts_left: Option<u32>,
) -> Vec<(HeaderName, String)> {
    let mut items = Vec::new();
    if let Some(codes) = codes_remaining {
        items.push((
            RATELIMIT_POLICY,
            policy_item("codes", limits.codes_per_application, None),
        ));
        items.push((RATELIMIT, remaining_item("codes", codes, None)));
    }
    if let Some(left) = attempts_left {
        items.push((
            RATELIMIT_POLICY,
            policy_item("attempts", limits.code_max_attempts, None),
        ));
        items.push((RATELIMIT, remaining_item("attempts", left, None)));
    }
    items
}

/// Adds the application's own limits to an answer about it: the codes it may still ask for and,
/// while a code is active, the wrong tries left.
pub fn with_application_limits(
    response: &mut HttpResponseBuilder,
    limits: &Limits,
    codes_remaining: u32,
    attempts_left: Option<u32>,
) {
    for item in application_items(limits, Some(codes_remaining), attempts_left) {
        response.append_header(item);
    }
}

/// Adds the wrong tries left on the code to an answer already made (the `wrong_code` problem).
pub fn with_attempts_left(
    headers: &mut actix_web::http::header::HeaderMap,
    limits: &Limits,
    attempts_left: u32,
) {
    for (name, item) in application_items(limits, None, Some(attempts_left)) {
        append(headers, name, &item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_structured_field_items_of_the_draft() {
        assert_eq!(
            policy_item("client", 60, Some(Duration::from_secs(3600))),
            "\"client\";q=60;w=3600"
        );
        assert_eq!(policy_item("codes", 3, None), "\"codes\";q=3");
        assert_eq!(
            remaining_item("client", 59, Some(3540)),
            "\"client\";r=59;t=3540"
        );
        assert_eq!(remaining_item("client", 60, Some(0)), "\"client\";r=60");
        assert_eq!(remaining_item("codes", 2, None), "\"codes\";r=2");
    }

    #[test]
    fn the_applicant_reset_and_login_paths_have_a_client_policy() {
        let policy = |method: Method, path: &str| client_policy(&method, path);
        assert!(matches!(
            policy(Method::POST, "/api/v1/reissue-applications"),
            Some(ClientPolicy::Requests)
        ));
        assert!(matches!(
            policy(Method::POST, "/api/v1/password-resets/x/verification"),
            Some(ClientPolicy::Requests)
        ));
        assert!(matches!(
            policy(Method::POST, "/api/v1/auth/login"),
            Some(ClientPolicy::Logins)
        ));
        assert!(matches!(
            policy(Method::POST, "/api/v1/admin/sessions"),
            Some(ClientPolicy::Logins)
        ));
        assert!(policy(Method::DELETE, "/api/v1/admin/sessions/current").is_none());
        assert!(policy(Method::GET, "/api/v1/prefectures").is_none());
    }
}
