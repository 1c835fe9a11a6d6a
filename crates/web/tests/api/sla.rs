//! SLAs over HTTP with the node's worker running: calendars and policies
//! are checked (bad ones say why), a new ticket gets its targets and due
//! times, a reply fulfils the first-reply target, a ticket whose target
//! passed is breached (the event at the instant it happened) and shows in
//! `sla:breached`; only managers and admins change the rules.

use std::time::Duration;

use domain::{Priority, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Auth, TestApp, now, staff};

on_both_backends!(sla_policies_set_targets_and_record_what_happens);

/// Waits until the ticket's events include `kind`; the events then.
async fn until_event(app: &TestApp, ticket: i64, kind: &str) -> Vec<Value> {
    for _ in 0..200 {
        let t = app.get(&format!("/tickets/{ticket}"), &app.admin).await;
        let events = t.body["events"].as_array().cloned().unwrap_or_default();
        if events.iter().any(|e| e["kind"] == kind) {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("ticket {ticket} never got a {kind} event");
}

async fn sla_policies_set_targets_and_record_what_happens(app: TestApp) {
    let (_, agent) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let (_, manager) = staff(&app.store, "boss@desk.test", Role::Manager, None).await;
    let (agent, manager) = (Auth::Token(agent), Auth::Token(manager));
    let put = |path: &str, auth: &Auth, body: Value| app.request(reqwest::Method::PUT, path, auth).json(&body);

    // Calendars: checked, and the manager's to make.
    let week = json!([{ "day": "monday", "from": "09:00", "to": "17:00" }, { "day": "tuesday", "from": "09:00", "to": "17:00" }]);
    let bad = app
        .post(
            "/calendars",
            &manager,
            json!({ "name": "x", "time_zone": "Mars/Base", "hours": [{ "day": "funday", "from": "9", "to": "5" }] }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = bad.body["error"]["details"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("time_zone") && fields.contains_key("hours"), "{}", bad.body);
    assert_eq!(
        app.post("/calendars", &agent, json!({ "name": "x", "time_zone": "UTC", "hours": week })).await.status,
        StatusCode::FORBIDDEN
    );
    let cal = app
        .post("/calendars", &manager, json!({ "name": "Berlin office", "time_zone": "Europe/Berlin", "hours": week }))
        .await;
    assert_eq!(cal.status, StatusCode::CREATED, "{}", cal.body);
    let cal_id = cal.body["id"].as_i64().unwrap();
    let r = TestApp::send(put(&format!("/calendars/{cal_id}"), &manager, json!({ "name": "Berlin", "time_zone": "Europe/Berlin", "hours": week, "holidays": [{ "date": "2026-12-24", "name": "Christmas Eve" }] }))).await;
    assert_eq!((r.status, r.body["holidays"][0]["date"].as_str()), (StatusCode::OK, Some("2026-12-24")));

    // Policies: bad targets and unknown calendars are refused.
    let r = app
        .post("/sla/policies", &manager, json!({ "name": "Bad", "targets": [{ "kind": "first_reply", "minutes": 0 }], "calendar_id": 999, "warn_percent": 100 }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = r.body["error"]["details"]["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("targets") && fields.contains_key("calendar_id") && fields.contains_key("warn_percent"),
        "{}",
        r.body
    );
    assert_eq!(
        app.post("/sla/policies", &agent, json!({ "name": "x", "targets": [] })).await.status,
        StatusCode::FORBIDDEN
    );
    let urgent = app
        .post(
            "/sla/policies",
            &manager,
            json!({ "name": "Urgent", "position": 1, "conditions": { "priorities": ["urgent"] },
                "targets": [{ "kind": "first_reply", "minutes": 60, "business_hours": false },
                            { "kind": "resolution", "minutes": 480, "business_hours": true }],
                "calendar_id": cal_id }),
        )
        .await;
    assert_eq!(urgent.status, StatusCode::CREATED, "{}", urgent.body);
    assert_eq!(urgent.body["pause_on"], json!(["pending", "on_hold"]));
    let policy_id = urgent.body["id"].as_i64().unwrap();

    // A new urgent ticket: its targets applied by the worker, due times shown.
    let t = app.ticket(json!({ "subject": "Site down", "body": "Everything is down.", "priority": "urgent", "requester": { "email": "c@x.test" } })).await;
    let events = until_event(&app, t, "sla_target_applied").await;
    let applied = events.iter().find(|e| e["kind"] == "sla_target_applied").unwrap();
    assert_eq!(applied["to"]["policy_id"], policy_id);
    let sla = app.get(&format!("/tickets/{t}/sla"), &agent).await;
    assert_eq!(sla.status, StatusCode::OK, "{}", sla.body);
    let first = &sla.body["state"]["targets"][0];
    assert_eq!((first["kind"].as_str(), first["status"].as_str()), (Some("first_reply"), Some("running")));
    let created = app.get(&format!("/tickets/{t}"), &app.admin).await.body["ticket"]["created_at"].as_i64().unwrap();
    assert_eq!(first["due_at"].as_i64(), Some(created + 3_600_000), "an hour around the clock");
    // A normal-priority ticket has no policy.
    let plain = app.ticket(json!({ "subject": "Question", "body": "?", "requester": { "email": "c@x.test" } })).await;
    assert_eq!(app.get(&format!("/tickets/{plain}/sla"), &agent).await.body["state"], Value::Null);

    // A reply meets the first-reply target.
    let r =
        app.post(&format!("/tickets/{t}/messages"), &app.admin, json!({ "body": "On it.", "send_email": false })).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let events = until_event(&app, t, "sla_fulfilled").await;
    let met = events.iter().find(|e| e["kind"] == "sla_fulfilled").unwrap();
    assert_eq!((met["field"].as_str(), met["to"]["met"].as_bool()), (Some("first_reply"), Some(true)));

    // A ticket opened two hours ago, never answered: breached an hour after it opened.
    let c = app.store.customer_by_email("c@x.test").await.unwrap().unwrap().id;
    let old = store::conformance::spec("Old outage", "still down", c, now() - 2 * 3_600_000);
    let old = store::conformance::Spec { priority: Priority::Urgent, ..old };
    let old_id = app.store.import_tickets(vec![store::conformance::new_ticket(&old)]).await.unwrap()[0];
    app.store.enqueue_job(jobs::sla::check_now(old_id, 1, now())).await.unwrap();
    let events = until_event(&app, old_id.0, "sla_breached").await;
    let breach = events.iter().find(|e| e["kind"] == "sla_breached" && e["field"] == "first_reply").unwrap();
    assert_eq!(breach["at"].as_i64(), Some(old.at + 3_600_000), "recorded at the instant it was due");
    assert!(events.iter().any(|e| e["kind"] == "sla_warning"), "the warning came first");
    let breached = app.get("/search?q=sla%3Abreached", &app.admin).await;
    let ids: Vec<i64> =
        breached.body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![old_id.0], "{}", breached.body);

    // Deleting the policy re-checks open tickets: they no longer have one.
    let r = TestApp::send(app.request(reqwest::Method::DELETE, &format!("/sla/policies/{policy_id}"), &manager)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for _ in 0..200 {
        if app.get("/search?q=sla%3Abreached", &app.admin).await.body["tickets"].as_array().unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the breached view kept a ticket whose policy is gone");
}
