//! The access policy through HTTP: who sees which tickets (by id, in lists,
//! in search) and who may do what; refusals are audited.

use domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Auth, TestApp, customer, staff, team};

on_both_backends!(agents_see_their_teams_only, customers_see_their_own_and_shared, admin_actions_are_admin_only);

fn ids(r: &crate::support::Reply) -> Vec<i64> {
    let mut v: Vec<i64> = r.body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    v.sort();
    v
}

async fn agents_see_their_teams_only(app: TestApp) {
    let (head, _) = staff(&app.store, "head@support.test", Role::Manager, None).await;
    let (lead_b, lead_b_token) = staff(&app.store, "lead.b@support.test", Role::Manager, Some(head)).await;
    let (agent_a, token_a) = staff(&app.store, "a@support.test", Role::Agent, Some(lead_b)).await;
    let (agent_b, token_b) = staff(&app.store, "b@support.test", Role::Agent, Some(lead_b)).await;
    let a = team(&app.store, "Billing", None, &[agent_a]).await;
    let b = team(&app.store, "Technical", Some(lead_b), &[agent_b]).await;
    let (ta, tb) = (Auth::Token(token_a), Auth::Token(token_b));
    let in_a = app.ticket(json!({ "subject": "billing secret", "body": "x", "team_id": a.0, "requester": { "email": "c1@example.com" } })).await;
    let in_b = app.ticket(json!({ "subject": "technical secret", "body": "x", "team_id": b.0, "requester": { "email": "c2@example.com" } })).await;
    let in_b_for_a = app
        .ticket(json!({ "subject": "technical for a", "body": "x", "team_id": b.0, "assignee_id": agent_a.0, "requester": { "email": "c3@example.com" } }))
        .await;

    // By URL: the other team's ticket does not exist for agent A.
    assert_eq!(app.get(&format!("/tickets/{in_a}"), &ta).await.status, StatusCode::OK);
    let hidden = app.get(&format!("/tickets/{in_b}"), &ta).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.body, app.get("/tickets/999999", &ta).await.body, "a hidden ticket looks like a missing one");
    assert_eq!(app.get(&format!("/tickets/{in_b_for_a}"), &ta).await.status, StatusCode::OK);
    // Nor can they change, reply to or merge it.
    assert_eq!(
        app.patch(&format!("/tickets/{in_b}"), &ta, json!({ "priority": "low" })).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&format!("/tickets/{in_b}/messages"), &ta, json!({ "body": "hi" })).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&format!("/tickets/{in_a}/merge"), &ta, json!({ "target_id": in_b })).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Nor in lists or search.
    assert_eq!(ids(&app.get("/tickets", &ta).await), vec![in_a, in_b_for_a]);
    assert_eq!(ids(&app.get("/search?q=secret", &ta).await), vec![in_a]);
    assert_eq!(ids(&app.get("/tickets", &tb).await), vec![in_b, in_b_for_a]);
    // The lead of B sees B, plus what their reports hold.
    assert_eq!(ids(&app.get("/tickets", &Auth::Token(lead_b_token)).await), vec![in_b, in_b_for_a]);
    // The admin sees all.
    assert_eq!(ids(&app.get("/tickets", &app.admin).await), vec![in_a, in_b, in_b_for_a]);

    // The refusals are in the audit log.
    let audit = app.get("/audit", &app.admin).await;
    let denied: Vec<&serde_json::Value> =
        audit.body["entries"].as_array().unwrap().iter().filter(|e| e["outcome"] == "denied").collect();
    assert!(
        denied.iter().any(|e| e["target"] == format!("ticket:{in_b}") && e["actor"] == format!("staff:{agent_a}")),
        "{}",
        audit.body
    );
}

async fn customers_see_their_own_and_shared(app: TestApp) {
    let org = app
        .post(
            "/organizations",
            &app.admin,
            json!({ "name": "Acme", "domains": ["acme.test"], "shares_tickets": false }),
        )
        .await;
    assert_eq!(org.status, StatusCode::CREATED, "{}", org.body);
    let org_id = org.body["id"].as_i64().unwrap();
    let (_, ann) = customer(&app.store, "ann@acme.test", Some(org_id)).await;
    let (bob_id, bob) = customer(&app.store, "bob@acme.test", Some(org_id)).await;
    let anns = app.post("/tickets", &ann, json!({ "subject": "Ann's", "body": "x" })).await.body["ticket"]["id"]
        .as_i64()
        .unwrap();
    let bobs = app.post("/tickets", &bob, json!({ "subject": "Bob's", "body": "x" })).await.body["ticket"]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(app.get(&format!("/tickets/{bobs}"), &ann).await.status, StatusCode::NOT_FOUND);
    assert_eq!(ids(&app.get("/tickets", &ann).await), vec![anns]);
    // A customer cannot open a ticket for someone else, nor read staff data.
    let other = app.post("/tickets", &ann, json!({ "subject": "x", "body": "x", "requester_id": bob_id.0 })).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/customers", &ann).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/users", &ann).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.patch(&format!("/tickets/{anns}"), &ann, json!({ "priority": "urgent" })).await.status,
        StatusCode::FORBIDDEN
    );
    // Once the organization shares tickets, members see each other's.
    let shared = app.patch(&format!("/organizations/{org_id}"), &app.admin, json!({ "shares_tickets": true })).await;
    assert_eq!(shared.status, StatusCode::OK);
    assert_eq!(ids(&app.get("/tickets", &ann).await), vec![anns, bobs]);
    assert_eq!(app.get(&format!("/tickets/{bobs}"), &ann).await.status, StatusCode::OK);
    let me = app.get("/me", &ann).await;
    assert_eq!(me.body["kind"], "customer");
    assert_eq!(me.body["customer"]["email"], "ann@acme.test");
}

async fn admin_actions_are_admin_only(app: TestApp) {
    let (_, agent) = staff(&app.store, "agent@support.test", Role::Agent, None).await;
    let (_, manager) = staff(&app.store, "manager@support.test", Role::Manager, None).await;
    let (agent, manager) = (Auth::Token(agent), Auth::Token(manager));
    let new_user = json!({ "email": "new@support.test", "name": "New", "role": "agent" });
    assert_eq!(app.post("/users", &agent, new_user.clone()).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post("/users", &manager, new_user.clone()).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post("/teams", &agent, json!({ "name": "X" })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.post("/fields", &manager, json!({ "key": "k", "label": "K", "kind": "text" })).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get("/audit", &manager).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post("/organizations", &agent, json!({ "name": "O" })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post("/organizations", &manager, json!({ "name": "O" })).await.status, StatusCode::CREATED);
    // Everyone on staff can read the directory.
    assert_eq!(app.get("/users", &agent).await.status, StatusCode::OK);
    assert_eq!(app.get("/teams", &agent).await.status, StatusCode::OK);
    let created = app.post("/users", &app.admin, new_user).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["initial_password"].as_str().unwrap().len(), 20);
    let dup =
        app.post("/users", &app.admin, json!({ "email": "NEW@support.test", "name": "Again", "role": "agent" })).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let audit = app.get("/audit?limit=100", &app.admin).await;
    let actions: Vec<(&str, &str)> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert!(actions.contains(&("user.create", "allowed")));
    assert!(actions.contains(&("ManageUsers", "denied")));
    assert!(actions.contains(&("ViewAudit", "denied")));
}
