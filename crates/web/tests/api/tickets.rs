use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Auth, TestApp, customer};

on_both_backends!(
    create_read_update_with_etags,
    replies_reopen_and_closed_tickets_follow_up,
    merge_moves_the_conversation,
    idempotent_creates,
    pages_follow_absolute_next_links,
    problem_links_incidents
);

async fn create_read_update_with_etags(app: TestApp) {
    let r = app
        .post(
            "/tickets",
            &app.admin,
            json!({
                "subject": "Refund for order 1042",
                "body": "I was charged twice.\n\nPlease help.",
                "requester": { "email": "Ann@Example.com", "name": "Ann Lee" },
                "priority": "high",
                "tags": ["Refund", "billing"]
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["ticket"]["id"].as_i64().unwrap();
    assert!(id >= 1000);
    assert_eq!(r.headers["location"], format!("/api/v1/tickets/{id}").as_str());
    assert_eq!(r.headers["etag"], "\"1\"");
    assert_eq!(r.body["ticket"]["status"], "new");
    assert_eq!(r.body["ticket"]["tags"], json!(["billing", "refund"]));
    assert_eq!(r.body["messages"][0]["body_html"], "<p>I was charged twice.</p><p>Please help.</p>");
    // The requester was created, email lower-cased.
    let requester = r.body["ticket"]["requester_id"].as_i64().unwrap();
    let c = app.get(&format!("/customers/{requester}"), &app.admin).await;
    assert_eq!(c.body["email"], "ann@example.com");

    let get = app.get(&format!("/tickets/{id}"), &app.admin).await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.body, r.body, "the create's answer is what a read returns");
    assert_eq!(get.body["events"][0]["kind"], "created");
    assert_eq!(get.body["events"][1]["kind"], "message_added");

    // An update with the current ETag succeeds and moves the ETag on.
    let ok = TestApp::send(
        app.request(Method::PATCH, &format!("/tickets/{id}"), &app.admin)
            .header("if-match", "\"1\"")
            .json(&json!({ "status": "pending", "add_tags": ["vip"] })),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.headers["etag"], "\"2\"");
    assert_eq!(ok.body["ticket"]["status"], "pending");
    let events = ok.body["events"].as_array().unwrap();
    let status = events.iter().find(|e| e["kind"] == "status_changed").unwrap();
    assert_eq!((status["from"].clone(), status["to"].clone()), (json!("new"), json!("pending")));
    assert!(events.iter().any(|e| e["kind"] == "tags_changed"));

    // A second agent still holding ETag "1" is refused and told the truth.
    let stale = TestApp::send(
        app.request(Method::PATCH, &format!("/tickets/{id}"), &app.admin)
            .header("if-match", "\"1\"")
            .json(&json!({ "priority": "low" })),
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.code(), "stale");
    assert_eq!(stale.body["error"]["details"]["current"]["ticket"]["status"], "pending");
    assert_eq!(stale.headers["etag"], "\"2\"");
    let after = app.get(&format!("/tickets/{id}"), &app.admin).await;
    assert_eq!(after.body["ticket"]["priority"], "high", "the stale write changed nothing");

    // Clearing with null and a transition the rules forbid.
    let cleared =
        app.patch(&format!("/tickets/{id}"), &app.admin, json!({ "assignee_id": null, "team_id": null })).await;
    assert_eq!(cleared.status, StatusCode::OK);
    let bad = app.patch(&format!("/tickets/{id}"), &app.admin, json!({ "status": "closed" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["error"]["details"]["fields"]["status"][0].as_str().unwrap().contains("pending to closed"));
}

async fn replies_reopen_and_closed_tickets_follow_up(app: TestApp) {
    let (cid, cust) = customer(&app.store, "bob@example.com", None).await;
    let r = app.post("/tickets", &cust, json!({ "subject": "Cannot log in", "body": "It says wrong password" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["ticket"]["channel"], "web");
    assert_eq!(r.body["ticket"]["requester_id"], cid.0);
    assert!(r.body.get("events").is_none(), "customers do not get the event history");
    let id = r.body["ticket"]["id"].as_i64().unwrap();
    let path = format!("/tickets/{id}/messages");

    // Agent: an internal note, then a public reply that sets pending.
    let note = app.post(&path, &app.admin, json!({ "body": "Checking the logs", "public": false })).await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    let reply = app.post(&path, &app.admin, json!({ "body": "Try resetting it", "status": "pending" })).await;
    assert_eq!(reply.body["ticket"]["status"], "pending");
    assert_eq!(reply.headers["etag"], "\"3\"");

    // The customer sees the public messages only, and their reply reopens.
    let seen = app.get(&format!("/tickets/{id}"), &cust).await;
    let bodies: Vec<&str> =
        seen.body["messages"].as_array().unwrap().iter().map(|m| m["body_text"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["It says wrong password", "Try resetting it"]);
    let back = app.post(&path, &cust, json!({ "body": "Still broken" })).await;
    assert_eq!(back.status, StatusCode::CREATED);
    assert_eq!(back.body["ticket"]["status"], "open");
    // A customer may not write notes or set the status.
    assert_eq!(app.post(&path, &cust, json!({ "body": "x", "public": false })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.post(&path, &cust, json!({ "body": "x", "status": "solved" })).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Solved, closed: staff may no longer write; the customer's mail opens a follow-up.
    app.patch(&format!("/tickets/{id}"), &app.admin, json!({ "status": "solved" })).await;
    let closed = app.patch(&format!("/tickets/{id}"), &app.admin, json!({ "status": "closed" })).await;
    assert_eq!(closed.body["ticket"]["status"], "closed");
    let refused = app.post(&path, &app.admin, json!({ "body": "one more thing" })).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let follow = app.post(&path, &cust, json!({ "body": "It broke again" })).await;
    assert_eq!(follow.status, StatusCode::CREATED);
    assert_eq!(follow.body["ticket"]["follow_up_of"], id);
    assert_ne!(follow.body["ticket"]["id"], id);
    assert_eq!(follow.body["messages"][0]["body_text"], "It broke again");
}

async fn merge_moves_the_conversation(app: TestApp) {
    let a = app
        .ticket(json!({ "subject": "Invoice wrong", "body": "first", "requester": { "email": "c@example.com" } }))
        .await;
    let b = app
        .ticket(
            json!({ "subject": "Invoice wrong again", "body": "second", "requester": { "email": "c@example.com" } }),
        )
        .await;
    let r = app.post(&format!("/tickets/{b}/merge"), &app.admin, json!({ "target_id": a })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["ticket"]["id"], a);
    assert_eq!(r.body["messages"].as_array().unwrap().len(), 2);
    let merged = app.get(&format!("/tickets/{b}"), &app.admin).await;
    assert_eq!(merged.body["ticket"]["status"], "closed");
    assert_eq!(merged.body["ticket"]["merged_into"], a);
    let again = app.post(&format!("/tickets/{b}/merge"), &app.admin, json!({ "target_id": a })).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app.post(&format!("/tickets/{a}/merge"), &app.admin, json!({ "target_id": 999999 })).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn idempotent_creates(app: TestApp) {
    let body = json!({ "subject": "Once only", "body": "x", "requester": { "email": "d@example.com" } });
    let send = |key: &str, body: serde_json::Value| {
        TestApp::send(app.request(Method::POST, "/tickets", &app.admin).header("idempotency-key", key).json(&body))
    };
    let first = send("abc-1", body.clone()).await;
    let second = send("abc-1", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body["ticket"]["id"], second.body["ticket"]["id"]);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    let other =
        send("abc-1", json!({ "subject": "Different", "body": "y", "requester": { "email": "d@example.com" } })).await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.code(), "idempotency_key_reused");
    let list = app.get("/tickets", &app.admin).await;
    assert_eq!(list.body["tickets"].as_array().unwrap().len(), 1);
    // The same key on customers is a different scope.
    let c = TestApp::send(
        app.request(Method::POST, "/customers", &app.admin)
            .header("idempotency-key", "abc-1")
            .json(&json!({ "email": "e@example.com", "name": "E" })),
    )
    .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
}

async fn pages_follow_absolute_next_links(app: TestApp) {
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(
            app.ticket(
                json!({ "subject": format!("Ticket {i}"), "body": "x", "requester": { "email": "p@example.com" } }),
            )
            .await,
        );
    }
    let mut url = app.url("/tickets?limit=3&sort=id");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let r = app.get(&url, &app.admin).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        pages += 1;
        seen.extend(r.body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()));
        match r.body["links"]["next"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&app.base), "absolute link on our host: {next}");
                assert!(next.contains("limit=3") && next.contains("sort=id"));
                assert_eq!(r.body["meta"]["has_more"], true);
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, made);
    assert_eq!(app.get("/tickets?cursor=garbage", &app.admin).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/tickets?limit=1000", &app.admin).await.status, StatusCode::BAD_REQUEST);
}

async fn problem_links_incidents(app: TestApp) {
    let problem = app.ticket(json!({ "subject": "Outage", "body": "all down", "type": "problem", "requester": { "email": "ops@example.com" } })).await;
    let incident = app
        .ticket(json!({ "subject": "Site down", "body": "cannot reach", "problem_id": problem, "requester": { "email": "u@example.com" } }))
        .await;
    let r = app.get(&format!("/tickets/{incident}"), &app.admin).await;
    assert_eq!(r.body["ticket"]["type"], "incident");
    assert_eq!(r.body["ticket"]["problem_id"], problem);
    let q = app
        .post(
            "/tickets",
            &app.admin,
            json!({ "subject": "x", "body": "x", "problem_id": incident, "requester": { "email": "u@example.com" } }),
        )
        .await;
    assert_eq!(q.status, StatusCode::UNPROCESSABLE_ENTITY, "an incident is not a problem");
    let unlink = app.patch(&format!("/tickets/{incident}"), &app.admin, json!({ "problem_id": null })).await;
    assert_eq!(unlink.body["ticket"]["problem_id"], serde_json::Value::Null);
    let _ = Auth::None;
}
