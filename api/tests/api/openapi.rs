//! The OpenAPI document covers every route of the contract, and every documented route exists.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, Backend};

/// DESIGN.md's applicant, reviewer and office tables, the operational routes and the reference
/// page.
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
    ("get", "/api/docs"),
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

/// A vendor reads an example of every body it sends and every answer it gets: each schema a
/// request body or a success names (and each schema those name) has a schema-level example, or
/// one on every property, and every example is valid against its schema.
#[tokio::test]
async fn every_request_and_answer_schema_has_a_valid_example() {
    let (_app, doc) = served_document().await;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut wanted = std::collections::BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            schema_names(&operation["requestBody"], &mut wanted);
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('2') {
                    schema_names(response, &mut wanted);
                }
            }
        }
    }
    // The schemas those schemas name, until nothing new is found.
    loop {
        let mut more = wanted.clone();
        for name in &wanted {
            schema_names(&schemas[name], &mut more);
        }
        if more.len() == wanted.len() {
            break;
        }
        wanted = more;
    }
    assert!(wanted.contains("ApplicationDetail") && wanted.contains("HistoryEntry"));
    for name in &wanted {
        let schema = &schemas[name];
        let examples = schema["examples"].as_array().cloned().unwrap_or_default();
        let properties = schema["properties"].as_object();
        let on_every_property = properties.is_some_and(|properties| {
            properties
                .values()
                .all(|p| p.get("example").is_some() || p.get("examples").is_some())
        });
        assert!(
            !examples.is_empty() || on_every_property,
            "schema {name} has no example"
        );
        for example in &examples {
            if let Err(error) = check(&doc, schema, example, name) {
                panic!("the example of {name} is not valid: {error}");
            }
        }
    }
    let problem = &schemas["Problem"]["examples"][0];
    assert_eq!(problem["code"], "validation_failed");
    assert!(!problem["errors"].as_array().unwrap().is_empty());
    let office = &schemas["CreateApplicationRequest"]["examples"][0];
    assert_eq!(office["office_number"], "1311111111");
    assert!(office["email"].as_str().unwrap().ends_with("@example.jp"));
}

/// Every problem answer of every operation names the codes it can carry, in its description and
/// in `x-problem-codes`, and each is a code of the API.
#[tokio::test]
async fn every_problem_answer_names_its_codes() {
    use reissue_shared::ErrorCode;
    let (_app, doc) = served_document().await;
    let known = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if response["content"]
                    .get("application/problem+json")
                    .is_none()
                {
                    continue;
                }
                let codes = response["x-problem-codes"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{method} {path} {status} has no x-problem-codes"));
                assert!(
                    !codes.is_empty(),
                    "{method} {path} {status} names no problem code"
                );
                let description = response["description"].as_str().unwrap();
                for code in codes {
                    assert!(known.contains(code), "{method} {path} {status}: {code}");
                    let parsed: ErrorCode = serde_json::from_value(code.clone()).unwrap();
                    assert!(
                        description.contains(&format!("`{}`", parsed.as_str())),
                        "{method} {path} {status}: {code} is not in the description"
                    );
                }
            }
        }
    }
    let verification = &doc["paths"]["/api/v1/reissue-applications/{id}/verification"]["post"]
        ["responses"]["422"]["x-problem-codes"];
    for code in ["validation_failed", "wrong_code", "idempotency_key_reused"] {
        assert!(
            verification
                .as_array()
                .unwrap()
                .contains(&Value::from(code)),
            "{code}"
        );
    }
}

/// The document says where it is served and which version of the server answers.
#[tokio::test]
async fn the_document_names_its_server_and_version() {
    let (_app, doc) = served_document().await;
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let servers = doc["servers"].as_array().unwrap();
    assert_eq!(servers[0]["url"], "/");
    assert!(servers[0]["description"].is_string());
}

/// The names of the component schemas `value` refers to, anywhere inside it.
fn schema_names(value: &Value, names: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object {
                match (key.as_str(), inner.as_str()) {
                    ("$ref", Some(target)) => {
                        if let Some(name) = target.strip_prefix("#/components/schemas/") {
                            names.insert(name.to_owned());
                        }
                    }
                    _ => schema_names(inner, names),
                }
            }
        }
        Value::Array(values) => values.iter().for_each(|v| schema_names(v, names)),
        _ => {}
    }
}

/// Whether `value` is valid against `schema` in the JSON Schema the document uses: `$ref`,
/// `oneOf`, `type`, `enum`, `properties`, `required`, `items`, lengths and bounds (patterns
/// and formats are left to the contract check's validators).
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(target) = schema["$ref"].as_str() {
        let name = target.trim_start_matches("#/components/schemas/");
        return check(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        let valid = choices
            .iter()
            .filter(|choice| check(doc, choice, value, at).is_ok())
            .count();
        return match valid {
            1 => Ok(()),
            n => Err(format!("{at}: {n} choices of oneOf match {value}")),
        };
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::Array(types) => types.iter().filter_map(Value::as_str).collect(),
            other => other.as_str().into_iter().collect(),
        };
        let matches = |kind: &str| match kind {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        };
        if !types.iter().any(|kind| matches(kind)) {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count() as u64;
        if schema["minLength"].as_u64().is_some_and(|min| length < min)
            || schema["maxLength"].as_u64().is_some_and(|max| length > max)
        {
            return Err(format!("{at}: {text:?} has a length out of bounds"));
        }
    }
    if let Some(number) = value.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|min| number < min)
            || schema["maximum"].as_f64().is_some_and(|max| number > max)
        {
            return Err(format!("{at}: {number} is out of bounds"));
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (index, item) in values.iter().enumerate() {
            check(doc, items, item, &format!("{at}[{index}]"))?;
        }
    }
    if let (Some(properties), Some(object)) = (schema["properties"].as_object(), value.as_object())
    {
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                return Err(format!("{at}: {name} is required"));
            }
        }
        for (name, inner) in object {
            let Some(property) = properties.get(name) else {
                return Err(format!("{at}: {name} is not a property"));
            };
            check(doc, property, inner, &format!("{at}.{name}"))?;
        }
    }
    Ok(())
}
