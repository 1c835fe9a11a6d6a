//! Bad input gets a clear 4xx in the API's error shape and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Auth, TestApp};

on_both_backends!(malformed_requests_are_refused_clearly, nothing_is_half_written);

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> crate::support::Reply {
    TestApp::send(app.request(method, path, &app.admin).header("content-type", content_type).body(body)).await
}

async fn malformed_requests_are_refused_clearly(app: TestApp) {
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        ("malformed JSON", r#"{"subject": "#.into(), StatusCode::BAD_REQUEST, "invalid_json"),
        (
            "unknown field",
            r#"{"subject":"a","body":"b","requester_id":1,"sujbect":"x"}"#.into(),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "wrong type",
            r#"{"subject":42,"body":"b","requester_id":1}"#.into(),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "bad enum",
            r#"{"subject":"a","body":"b","requester_id":1,"priority":"whenever"}"#.into(),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "empty subject",
            r#"{"subject":"  ","body":"b","requester":{"email":"a@example.com"}}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "long subject",
            format!(r#"{{"subject":"{}","body":"b","requester":{{"email":"a@example.com"}}}}"#, "x".repeat(300)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "no body",
            r#"{"subject":"a","requester":{"email":"a@example.com"}}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "unknown requester",
            r#"{"subject":"a","body":"b","requester_id":424242}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "bad email",
            r#"{"subject":"a","body":"b","requester":{"email":"not-an-email"}}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "unknown custom field",
            r#"{"subject":"a","body":"b","requester":{"email":"a@example.com"},"custom_fields":{"nope":1}}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
    ];
    for (name, body, status, code) in cases {
        let r = raw(&app, Method::POST, "/tickets", "application/json", body).await;
        assert_eq!(r.status, status, "{name}: {}", r.body);
        assert_eq!(r.code(), code, "{name}: {}", r.body);
        assert!(!r.body["error"]["message"].as_str().unwrap().is_empty(), "{name}");
    }
    // Field errors name their fields.
    let r =
        raw(&app, Method::POST, "/tickets", "application/json", r#"{"subject":"","requester":{"email":"bad"}}"#).await;
    let fields = &r.body["error"]["details"]["fields"];
    assert!(
        fields["subject"].is_array() && fields["body"].is_array() && fields["requester.email"].is_array(),
        "{fields}"
    );
    let bad_enum = raw(
        &app,
        Method::POST,
        "/tickets",
        "application/json",
        r#"{"subject":"a","body":"b","requester_id":1,"priority":"whenever"}"#,
    )
    .await;
    assert!(bad_enum.body["error"]["message"].as_str().unwrap().contains("urgent"), "the allowed values are named");

    let big = format!(r#"{{"subject":"a","body":"{}","requester_id":1}}"#, "x".repeat(100 * 1024));
    let r = raw(&app, Method::POST, "/tickets", "application/json", big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(r.code(), "too_large");
    let r = raw(&app, Method::POST, "/tickets", "text/plain", "subject=a").await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    for (path, status, code) in [
        ("/tickets/999999", StatusCode::NOT_FOUND, "not_found"),
        ("/tickets/abc", StatusCode::BAD_REQUEST, "bad_request"),
        ("/customers/999999", StatusCode::NOT_FOUND, "not_found"),
        ("/no/such/thing", StatusCode::NOT_FOUND, "no_route"),
        ("/tickets?bogus=1", StatusCode::BAD_REQUEST, "invalid_query"),
        ("/tickets?sort=sideways", StatusCode::BAD_REQUEST, "bad_request"),
        ("/tickets?status=nope", StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ("/search?q=created>someday", StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
    ] {
        let r = app.get(path, &app.admin).await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert_eq!(r.code(), code, "{path}");
    }
    let r = TestApp::send(app.request(Method::DELETE, "/tickets", &app.admin)).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.code(), "method_not_allowed");
    let r = app.get("/tickets", &Auth::None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "unauthorized");
    let r = app.get("/tickets", &Auth::Token("sbp_forged".into())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = TestApp::send(
        app.request(Method::PATCH, "/tickets/1000", &app.admin).header("if-match", "yesterday").json(&json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Search text full of syntax is just text.
    app.ticket(json!({ "subject": "Robert'); DROP TABLE tickets;--", "body": "(x) * \"y\"", "requester": { "email": "r@example.com" } }))
        .await;
    for q in [r#"'); DROP TABLE tickets;--"#, r#"((("#, r#"* : " -"#, "NEAR(a b)", "a OR b", "\"unbalanced", "$1 ? %"] {
        let r = TestApp::send(app.request(Method::GET, "/search", &app.admin).query(&[("q", q)])).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
    }
    let r = TestApp::send(app.request(Method::GET, "/search", &app.admin).query(&[("q", "drop table")])).await;
    assert_eq!(r.body["tickets"].as_array().unwrap().len(), 1);

    // A NUL in text (PostgreSQL's text cannot hold one) is no server error,
    // on either backend: it is refused or stored, never a 500.
    let r = raw(
        &app,
        Method::POST,
        "/tickets",
        "application/json",
        r#"{"subject":"nul\u0000here","body":"b\u0000c","requester":{"email":"nul@example.com"}}"#,
    )
    .await;
    assert!(r.status == StatusCode::CREATED || r.status == StatusCode::UNPROCESSABLE_ENTITY, "{} {}", r.status, r.body);
}

async fn nothing_is_half_written(app: TestApp) {
    // The attachment does not exist: the ticket fails, and so does the new
    // requester it would have created.
    let r = app
        .post(
            "/tickets",
            &app.admin,
            json!({ "subject": "Half", "body": "x", "requester": { "email": "ghost@example.com" }, "attachment_ids": [987654] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let customers = app.get("/customers", &app.admin).await;
    assert!(customers.body["customers"].as_array().unwrap().is_empty(), "{}", customers.body);
    assert!(app.get("/tickets", &app.admin).await.body["tickets"].as_array().unwrap().is_empty());
    // A bad field in an update changes none of the good ones.
    let id = app.ticket(json!({ "subject": "Whole", "body": "x", "requester": { "email": "w@example.com" } })).await;
    let r =
        app.patch(&format!("/tickets/{id}"), &app.admin, json!({ "priority": "urgent", "assignee_id": 424242 })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = app.get(&format!("/tickets/{id}"), &app.admin).await;
    assert_eq!(t.body["ticket"]["priority"], "normal");
    assert_eq!(t.body["events"].as_array().unwrap().len(), 2);
}
