//! Whose request is it: the TCP peer, unless the peer is one of `REISSUE_TRUSTED_PROXIES`, and
//! then the right-most `X-Forwarded-For` entry that is not a proxy. The per-client request
//! budget shows which address a request was counted as.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app_with, Backend, TestApp};

/// Creates an application sent with `X-Forwarded-For: forwarded`; the status says whether the
/// client's budget (2 requests) still had room.
async fn create_as(app: &TestApp, n: u32, forwarded: &str) -> StatusCode {
    let email = format!("client{n}@example.jp");
    app.client
        .post(app.api("/reissue-applications"))
        .header("x-forwarded-for", forwarded)
        .json(&json!({
            "office_number": "1311111111",
            "email": email,
            "email_confirmation": email,
        }))
        .send()
        .await
        .unwrap()
        .status()
}

const TWO_PER_CLIENT: (&str, &str) = ("REISSUE_REQUESTS_PER_CLIENT", "2");

async fn a_client_behind_the_proxy_cannot_choose_its_address(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            TWO_PER_CLIENT,
            ("REISSUE_TRUSTED_PROXIES", "127.0.0.1, ::1"),
        ],
    )
    .await;
    // The client writes a new left-most entry each time; the proxy appends the real address.
    assert_eq!(
        create_as(&app, 1, "6.6.6.1, 203.0.113.5").await,
        StatusCode::CREATED
    );
    assert_eq!(
        create_as(&app, 2, "6.6.6.2, 203.0.113.5").await,
        StatusCode::CREATED
    );
    assert_eq!(
        create_as(&app, 3, "6.6.6.3, 203.0.113.5").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another office behind the same proxy has its own budget.
    assert_eq!(create_as(&app, 4, "203.0.113.6").await, StatusCode::CREATED);
}

async fn forwarded_for_from_a_peer_that_is_no_proxy_is_ignored(backend: Backend) {
    let app = spawn_app_with(backend, &[TWO_PER_CLIENT]).await;
    assert_eq!(create_as(&app, 1, "203.0.113.1").await, StatusCode::CREATED);
    assert_eq!(create_as(&app, 2, "203.0.113.2").await, StatusCode::CREATED);
    // Counted as 127.0.0.1 each time, whatever the header says.
    assert_eq!(
        create_as(&app, 3, "203.0.113.3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn ipv6_clients_share_a_budget_per_slash_64(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[TWO_PER_CLIENT, ("REISSUE_TRUSTED_PROXIES", "127.0.0.1")],
    )
    .await;
    assert_eq!(
        create_as(&app, 1, "2001:db8:1:2::1").await,
        StatusCode::CREATED
    );
    assert_eq!(
        create_as(&app, 2, "2001:db8:1:2::ffff").await,
        StatusCode::CREATED
    );
    assert_eq!(
        create_as(&app, 3, "2001:db8:1:2:8000::1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        create_as(&app, 4, "2001:db8:1:3::1").await,
        StatusCode::CREATED
    );
}

crate::on_both_backends!(
    a_client_behind_the_proxy_cannot_choose_its_address,
    forwarded_for_from_a_peer_that_is_no_proxy_is_ignored,
    ipv6_clients_share_a_budget_per_slash_64,
);

#[test]
fn the_replaced_setting_refuses_to_start_and_names_its_replacement() {
    let data_dir = tempfile::tempdir().unwrap();
    let data = data_dir.path().to_string_lossy().into_owned();
    let error = reissue_api::config::Settings::from_lookup(&|name| match name {
        "REISSUE_DATA_DIR" => Some(data.clone()),
        "REISSUE_TRUST_FORWARDED_FOR" => Some("true".into()),
        _ => None,
    })
    .err()
    .map(|error| error.to_string())
    .unwrap_or_default();
    assert!(error.contains("REISSUE_TRUSTED_PROXIES"), "{error}");
}
