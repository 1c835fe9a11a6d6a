//! The background queue over HTTP: the node's worker runs what is
//! enqueued; admins see the dead letters and retry them; nobody else does.

use std::time::Duration;

use domain::{NewJob, Role};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Auth, Browser, TestApp, now, staff};

on_both_backends!(the_worker_runs_jobs_and_admins_retry_dead_ones);

async fn the_worker_runs_jobs_and_admins_retry_dead_ones(app: TestApp) {
    let made = app.post("/jobs", &app.admin, json!({ "idempotency_key": "check-1" })).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.body["id"].as_i64().unwrap();
    let again = app.post("/jobs", &app.admin, json!({ "idempotency_key": "check-1" })).await;
    assert_eq!(again.body["id"], id, "one job per key");
    let mut done = json!(null);
    for _ in 0..100 {
        done = app.get(&format!("/jobs/{id}"), &app.admin).await.body;
        if done["status"] == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(done["status"], "done", "{done}");
    let audit = app.get("/audit?limit=100", &app.admin).await;
    assert!(
        audit.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "job.ping" && e["target"] == format!("job:{id}"))
    );

    // A job nobody can run is dead at once, listed, and can be retried.
    let dead = app.store.enqueue_job(NewJob::new("no.such.kind", json!({}), now(), now())).await.unwrap();
    let mut listed = json!(null);
    for _ in 0..100 {
        listed = app.get("/jobs?status=dead", &app.admin).await.body;
        if !listed["jobs"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listed["jobs"][0]["id"], dead.0, "{listed}");
    assert!(listed["jobs"][0]["last_error"].as_str().unwrap().contains("no handler"));
    let boss = app.store.user_by_email("admin@support.test").await.unwrap().unwrap();
    let page = Browser::new(&app, boss.id).await.get("/admin/jobs").await;
    assert!(
        page.html.contains("no handler for jobs of kind no.such.kind")
            && page.html.contains(&format!("Retry job {}", dead.0))
    );
    let r = app.post(&format!("/jobs/{}/retry", dead.0), &app.admin, json!({})).await;
    assert_eq!(
        (r.status, r.body["status"].as_str(), r.body["attempts"].as_i64()),
        (StatusCode::OK, Some("queued"), Some(0))
    );
    let r = app.post(&format!("/jobs/{id}/retry",), &app.admin, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "only dead jobs are retried");
    assert_eq!(app.get("/jobs?status=finished", &app.admin).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let (_, agent) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    assert_eq!(app.get("/jobs", &Auth::Token(agent.clone())).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post("/jobs", &Auth::Token(agent), json!({})).await.status, StatusCode::FORBIDDEN);
}
