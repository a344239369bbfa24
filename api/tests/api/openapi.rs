//! The OpenAPI document covers every route of the contract, and every documented route exists.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, Backend};

/// DESIGN.md's applicant, reviewer and office tables and the operational routes.
const CONTRACT: &[(&str, &str)] = &[
    ("get", "/api/v1/prefectures"),
    ("post", "/api/v1/reissue-applications"),
    ("get", "/api/v1/reissue-applications/{id}"),
    ("put", "/api/v1/reissue-applications/{id}/prefecture"),
    ("post", "/api/v1/reissue-applications/{id}/code"),
    ("post", "/api/v1/reissue-applications/{id}/verification"),
    ("post", "/api/v1/reissue-applications/{id}/submission"),
    ("post", "/api/v1/reissue-status"),
    ("post", "/api/v1/admin/sessions"),
    ("delete", "/api/v1/admin/sessions/current"),
    ("post", "/api/v1/admin/mfa/enrolment"),
    ("post", "/api/v1/admin/mfa/enrolment/confirmation"),
    ("get", "/api/v1/admin/applications"),
    ("get", "/api/v1/admin/applications/{id}"),
    ("post", "/api/v1/admin/applications/{id}/review"),
    ("post", "/api/v1/admin/applications/{id}/decision"),
    ("post", "/api/v1/admin/applications/{id}/confirmation"),
    ("post", "/api/v1/admin/applications/{id}/reprint-request"),
    (
        "post",
        "/api/v1/admin/applications/{id}/reprint-confirmation",
    ),
    ("post", "/api/v1/admin/applications/{id}/withdrawal"),
    ("post", "/api/v1/admin/applications/{id}/notes"),
    ("get", "/api/v1/admin/applications/{id}/notice"),
    ("get", "/api/v1/admin/applications/{id}/notice.pdf"),
    ("post", "/api/v1/admin/applications/{id}/notice-mailed"),
    ("get", "/api/v1/admin/audit-log"),
    ("get", "/api/v1/admin/notices"),
    ("get", "/api/v1/admin/prefecture-settings"),
    ("put", "/api/v1/admin/prefecture-settings"),
    ("post", "/api/v1/admin/applications/{id}/envelope-request"),
    ("post", "/api/v1/admin/applications/{id}/envelope-received"),
    ("post", "/api/v1/admin/applications/{id}/callbacks"),
    ("get", "/api/v1/admin/dispatch-register"),
    (
        "post",
        "/api/v1/admin/applications/{id}/ledger-change-acknowledgement",
    ),
    ("get", "/api/v1/admin/notices.pdf"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/password"),
    ("delete", "/api/v1/auth/session"),
    ("put", "/api/v1/account/security-email"),
    ("post", "/api/v1/account/security-email/verification"),
    ("post", "/api/v1/password-resets"),
    ("post", "/api/v1/password-resets/{id}/verification"),
    ("post", "/api/v1/password-resets/{id}/password"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/api/dev/messages"),
    ("get", "/dev/mailbox"),
];

#[tokio::test]
async fn every_contract_route_is_documented_and_every_documented_route_is_served() {
    let (app, doc) = served_document().await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in CONTRACT {
        let operation = &paths.get(*path).unwrap_or_else(|| panic!("{path} missing"))[*method];
        assert!(
            operation.is_object(),
            "{method} {path} missing from the document"
        );
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path} documents no success"
        );
    }
    let mut documented = 0;
    for (path, item) in paths {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            documented += 1;
            assert!(
                CONTRACT.contains(&(method, path.as_str())),
                "{method} {path} is not in the contract list"
            );
            let concrete = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
            let response = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                .bearer_auth("x")
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_ne!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert_ne!(
                body["code"], "route_not_found",
                "{method} {path} is documented but not served"
            );
        }
    }
    assert_eq!(documented, CONTRACT.len());
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in [
        "Problem",
        "FieldError",
        "ErrorCode",
        "CreateApplicationRequest",
        "ApplicationView",
    ] {
        assert!(schemas.contains_key(schema), "schema {schema} missing");
    }
    assert!(doc["components"]["securitySchemes"]["application_token"].is_object());
}

/// The rules of the shared crate and the document agree, so a client that follows the
/// document is never refused for a length or a page (one place for a rule).
#[tokio::test]
async fn the_documents_limits_are_the_shared_rules() {
    use reissue_shared::{admin, password};
    let app = spawn_app(Backend::Sqlite).await;
    let doc: serde_json::Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    for schema in ["ChangePasswordRequest", "NewPasswordRequest"] {
        let new_password = &schemas[schema]["properties"]["new_password"];
        assert_eq!(new_password["minLength"], password::MIN_LENGTH, "{schema}");
        assert_eq!(new_password["maxLength"], password::MAX_LENGTH, "{schema}");
    }
    assert_eq!(
        schemas["TextRequest"]["properties"]["text"]["maxLength"],
        admin::MAX_TEXT
    );
    for path in ["/api/v1/admin/applications", "/api/v1/admin/audit-log"] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let page = params.iter().find(|p| p["name"] == "page").unwrap();
        assert_eq!(page["schema"]["minimum"], 1, "{path}");
        assert_eq!(page["schema"]["maximum"], admin::MAX_PAGE, "{path}");
    }
}

/// OpenAPI requires every operationId to be unique; client generators name their functions
/// after them and stop at a duplicate.
#[tokio::test]
async fn every_operation_has_an_operation_id_of_its_own() {
    let (_app, doc) = served_document().await;
    let mut seen = std::collections::HashMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operationId {id} names both {other} and {method} {path}");
            }
        }
    }
    assert_eq!(seen.len(), CONTRACT.len());
}

/// The refusals that come before any handler runs are documented wherever they can happen, as
/// problem+json: 400, 413 and 415 with a JSON body, 401 with a bearer token, and 503 wherever
/// storage is reached (every `/api/v1` operation but the static prefecture list).
#[tokio::test]
async fn every_operation_documents_the_refusals_it_can_meet() {
    let (_app, doc) = served_document().await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let mut expected = Vec::new();
            if operation.get("requestBody").is_some() {
                expected.extend(["400", "413", "415"]);
            }
            if operation.get("security").is_some() {
                expected.push("401");
            }
            if path.starts_with("/api/v1/") && path != "/api/v1/prefectures" {
                expected.push("503");
            }
            for status in expected {
                let schema = &operation["responses"][status]["content"]["application/problem+json"]
                    ["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/Problem",
                    "{method} {path} does not document {status} as a problem"
                );
            }
        }
    }
}

/// A fresh server and the OpenAPI document it serves.
async fn served_document() -> (crate::helpers::TestApp, Value) {
    let app = spawn_app(Backend::Sqlite).await;
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (app, doc)
}
