//! Custom fields: defined by admins, validated on every ticket write.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

on_both_backends!(custom_fields_are_validated);

async fn custom_fields_are_validated(app: TestApp) {
    for def in [
        json!({ "key": "order_number", "label": "Order number", "kind": "number" }),
        json!({ "key": "product", "label": "Product", "kind": "dropdown", "options": ["Basic", "Pro"], "required": true }),
        json!({ "key": "renewal", "label": "Renewal date", "kind": "date" }),
        json!({ "key": "callback", "label": "Call back", "kind": "checkbox" }),
    ] {
        let r = app.post("/fields", &app.admin, def).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let bad_def = app.post("/fields", &app.admin, json!({ "key": "Bad Key", "label": "x", "kind": "dropdown" })).await;
    assert_eq!(bad_def.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = bad_def.body["error"]["details"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("key") && fields.contains_key("options"));
    let dup = app.post("/fields", &app.admin, json!({ "key": "product", "label": "x", "kind": "text" })).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    let base = |cf: serde_json::Value| json!({ "subject": "Order", "body": "x", "requester": { "email": "a@example.com" }, "custom_fields": cf });
    let missing = app.post("/tickets", &app.admin, base(json!({}))).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body["error"]["details"]["fields"]["custom_fields.product"].is_array());
    for bad in [
        json!({ "product": "Enterprise" }),
        json!({ "product": "Pro", "order_number": "12" }),
        json!({ "product": "Pro", "renewal": "2026-13-01" }),
        json!({ "product": "Pro", "callback": "yes" }),
    ] {
        let r = app.post("/tickets", &app.admin, base(bad.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let ok = app
        .post(
            "/tickets",
            &app.admin,
            base(json!({ "product": "Pro", "order_number": 1042, "renewal": "2027-01-31", "callback": true })),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    let id = ok.body["ticket"]["id"].as_i64().unwrap();
    let values = ok.body["ticket"]["custom_fields"].as_object().unwrap();
    assert_eq!(values.len(), 4);
    let change =
        app.patch(&format!("/tickets/{id}"), &app.admin, json!({ "custom_fields": { "product": "Basic" } })).await;
    assert_eq!(change.status, StatusCode::OK);
    let event =
        change.body["events"].as_array().unwrap().iter().find(|e| e["kind"] == "field_changed").unwrap().clone();
    assert_eq!(
        (event["field"].clone(), event["from"].clone(), event["to"].clone()),
        (json!("product"), json!("Pro"), json!("Basic"))
    );
    let wrong =
        app.patch(&format!("/tickets/{id}"), &app.admin, json!({ "custom_fields": { "order_number": true } })).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
}
