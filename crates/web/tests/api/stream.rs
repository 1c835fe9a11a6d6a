//! Live updates: the SSE stream delivers the changes the caller may see,
//! and only those.

use std::time::Duration;

use domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Auth, TestApp, staff, team};

on_both_backends!(stream_delivers_visible_changes_only);

/// Reads server-sent events from a response, one at a time.
pub struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    pub async fn open(app: &TestApp, auth: &Auth) -> Self {
        let response = app.request(Method::GET, "/stream", auth).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Self { response, buffer: String::new() }
    }

    /// The next event's name and data, skipping keep-alive comments.
    pub async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event:") {
                        name = n.trim().to_string();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim());
                    }
                }
                if name.is_empty() {
                    continue;
                }
                return Some((name, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk()).await.ok()?.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn stream_delivers_visible_changes_only(app: TestApp) {
    let (agent_a, token_a) = staff(&app.store, "a@support.test", Role::Agent, None).await;
    let (agent_b, _) = staff(&app.store, "b@support.test", Role::Agent, None).await;
    let a = team(&app.store, "A", None, &[agent_a]).await;
    let b = team(&app.store, "B", None, &[agent_b]).await;
    let mut events = Events::open(&app, &Auth::Token(token_a)).await;
    assert_eq!(events.next().await.unwrap().0, "ready");
    // A change in team B first, then one in team A: A's agent hears only A's.
    app.ticket(json!({ "subject": "in b", "body": "x", "team_id": b.0, "requester": { "email": "x@example.com" } }))
        .await;
    let in_a = app
        .ticket(json!({ "subject": "in a", "body": "x", "team_id": a.0, "requester": { "email": "y@example.com" } }))
        .await;
    let (name, data) = events.next().await.unwrap();
    assert_eq!(name, "ticket");
    assert_eq!(data["ticket_id"], in_a);
    assert_eq!(data["version"], 1);
    assert_eq!((data["team_id"].as_i64(), data["actor"]["kind"].as_str()), (Some(a.0), Some("staff")), "{data}");
    assert!(data["kinds"].as_array().unwrap().contains(&json!("created")));
    app.patch(&format!("/tickets/{in_a}"), &app.admin, json!({ "priority": "high" })).await;
    let (_, data) = events.next().await.unwrap();
    assert_eq!(data["ticket_id"], in_a);
    assert_eq!(data["kinds"], json!(["priority_changed"]));
}
