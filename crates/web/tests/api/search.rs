//! Search through the API with the query syntax.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::TestApp;

on_both_backends!(query_syntax_end_to_end);

async fn q(app: &TestApp, query: &str) -> Vec<i64> {
    let r = TestApp::send(app.request(Method::GET, "/search", &app.admin).query(&[("q", query)])).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    let mut v: Vec<i64> = r.body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    v.sort();
    v
}

async fn query_syntax_end_to_end(app: TestApp) {
    let me = app.get("/me", &app.admin).await.body["user"]["id"].as_i64().unwrap();
    let export = app
        .ticket(json!({ "subject": "Export to CSV fails", "body": "The export button shows an error", "tags": ["export"], "requester": { "email": "a@example.com" } }))
        .await;
    let invoice = app
        .ticket(json!({ "subject": "Invoice question", "body": "Where is my invoice for the export add-on?", "priority": "urgent", "assignee_id": me, "requester": { "email": "b@example.com" } }))
        .await;
    let refund = app
        .ticket(json!({ "subject": "Refund", "body": "Credit card charged twice", "tags": ["refund"], "requester": { "email": "c@example.com" } }))
        .await;
    app.post(&format!("/tickets/{refund}/messages"), &app.admin, json!({ "body": "suspected fraud", "public": false }))
        .await;

    assert_eq!(q(&app, "export").await, vec![export, invoice]);
    assert_eq!(q(&app, "export -invoice").await, vec![export]);
    assert_eq!(q(&app, "\"credit card\"").await, vec![refund]);
    assert_eq!(q(&app, "\"card credit\"").await, Vec::<i64>::new());
    assert_eq!(q(&app, "tag:refund").await, vec![refund]);
    assert_eq!(q(&app, "-tag:refund").await, vec![export, invoice]);
    assert_eq!(q(&app, "assignee:me").await, vec![invoice]);
    assert_eq!(q(&app, "assignee:none export").await, vec![export]);
    assert_eq!(q(&app, "priority:urgent").await, vec![invoice]);
    assert_eq!(q(&app, "status:open").await, vec![invoice]);
    assert_eq!(q(&app, "created>2020-01-01 fraud").await, vec![refund], "staff search internal notes");
    assert_eq!(q(&app, "created<2020-01-01").await, Vec::<i64>::new());
    assert_eq!(app.get("/search", &app.admin).await.status, StatusCode::BAD_REQUEST, "q is required");
    // The list endpoint takes the same filters as parameters.
    let r = app.get("/tickets?tag=export&status=new,open", &app.admin).await;
    assert_eq!(r.body["tickets"][0]["id"], export);
}
