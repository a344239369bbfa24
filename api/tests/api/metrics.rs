//! `GET /metrics`: what an operator's Prometheus scrapes, on its own listener
//! (`REISSUE_METRICS_BIND`), never on the public port.

use reqwest::StatusCode;

use crate::helpers::{spawn_app_with, Backend};

async fn metrics_count_requests_by_route_refusals_by_limit_and_show_the_outbox(backend: Backend) {
    let app = spawn_app_with(backend, &[("REISSUE_CODES_PER_OFFICE", "1")]).await;
    let first = app.create_application("1311111111", "m1@example.jp").await;
    assert_eq!(
        app.choose_prefecture(&first, "13").await.status(),
        StatusCode::OK
    );
    app.wait_for_mails("m1@example.jp", 1).await;
    let second = app.create_application("1310200021", "m2@example.jp").await;
    app.choose_prefecture(&second, "13").await;
    // The office's code budget is spent: the second code of 1311111111 is refused.
    let third = app.create_application("1311111111", "m3@example.jp").await;
    assert_eq!(
        app.choose_prefecture(&third, "13").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    let metrics = app.metrics_address.clone().unwrap();
    let response = app
        .client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")));
    let text = response.text().await.unwrap();
    for expected in [
        r#"reissue_http_requests_total{method="POST",route="/api/v1/reissue-applications",status="201"}"#,
        r#"reissue_http_requests_total{method="PUT",route="/api/v1/reissue-applications/{id}/prefecture",status="429"}"#,
        r#"reissue_http_request_duration_seconds_bucket{method="PUT",route="/api/v1/reissue-applications/{id}/prefecture",le="0.1"}"#,
        r#"reissue_rate_limit_refusals_total{limit="code:office"}"#,
        r#"reissue_mail_delivery_attempts_total{outcome="sent"}"#,
        "reissue_outbox_pending_messages ",
        "reissue_outbox_oldest_pending_age_seconds ",
        "reissue_outbox_failed_messages 0",
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
    // Labels carry route patterns, never an id, an office number or an address.
    for secret in [&first.id, "1311111111", "m1@example.jp", &first.token] {
        assert!(!text.contains(secret), "{secret} leaked into /metrics");
    }
}

async fn the_public_port_does_not_serve_metrics_and_the_metrics_port_serves_nothing_else(
    backend: Backend,
) {
    let app = spawn_app_with(backend, &[]).await;
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    crate::helpers::problem(public, StatusCode::NOT_FOUND, "route_not_found").await;
    let metrics = app.metrics_address.clone().unwrap();
    for path in ["/api/v1/prefectures", "/healthz", "/", "/api/dev/messages"] {
        let response = app
            .client
            .get(format!("{metrics}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // Turned off, there is no listener at all.
    let off = spawn_app_with(backend, &[("REISSUE_METRICS_BIND", "off")]).await;
    assert!(off.metrics_address.is_none());
}

crate::on_both_backends!(
    metrics_count_requests_by_route_refusals_by_limit_and_show_the_outbox,
    the_public_port_does_not_serve_metrics_and_the_metrics_port_serves_nothing_else,
);
