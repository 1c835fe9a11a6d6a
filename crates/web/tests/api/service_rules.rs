//! Service rules over HTTP with the node's worker running: routing rules,
//! round robin, the priority matrix, triggers and their loop detection,
//! automations on time, offline reassignment, escalations (manual and
//! automatic), approvals with their limits, decisions, timeout and CSV,
//! major incidents solved together, and surge detection.

use std::time::Duration;

use domain::{AgentStatus, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Auth, Browser, TestApp, now, staff, team, until_event};

on_both_backends!(
    routing_priority_and_triggers_act_on_new_tickets,
    automations_and_offline_agents,
    escalations_and_approvals,
    major_incidents_and_surges,
    managers_work_the_rules_from_pages,
    the_work_queue_sorts_by_sla_due_then_score,
    negative_sentiment_is_a_condition_and_escalates
);

async fn put(app: &TestApp, path: &str, auth: &Auth, body: Value) -> crate::support::Reply {
    TestApp::send(app.request(Method::PUT, path, auth).json(&body)).await
}

fn fields(r: &crate::support::Reply) -> Vec<String> {
    r.body["error"]["details"]["fields"].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

async fn routing_priority_and_triggers_act_on_new_tickets(app: TestApp) {
    let (ada, ada_t) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let (bo, _) = staff(&app.store, "bo@desk.test", Role::Agent, None).await;
    let (cy, _) = staff(&app.store, "cy@desk.test", Role::Agent, None).await;
    let (lead, lead_t) = staff(&app.store, "lead@desk.test", Role::Manager, None).await;
    let (agent, manager) = (Auth::Token(ada_t), Auth::Token(lead_t));
    let billing = team(&app.store, "Billing", Some(lead), &[ada, bo, cy]).await;
    for (u, s) in [(ada, AgentStatus::Online), (bo, AgentStatus::Online), (cy, AgentStatus::Away)] {
        app.store.set_agent_status(u, s, now()).await.unwrap();
    }

    // Routing: words send a ticket to Billing; the team assigns by round robin.
    let r = app.post("/routing/rules", &agent, json!({ "name": "x", "team_id": billing.0 })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.post("/routing/rules", &manager, json!({ "name": "", "team_id": 999 })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(fields(&r).contains(&"team_id".to_string()) && fields(&r).contains(&"name".to_string()), "{}", r.body);
    let r = app
        .post(
            "/routing/rules",
            &manager,
            json!({ "name": "Invoices", "conditions": { "words": ["invoice"] }, "team_id": billing.0 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = put(
        &app,
        &format!("/teams/{}/routing", billing.0),
        &manager,
        json!({ "mode": "round_robin", "capacity": { "email": 10 } }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The priority matrix on; a trigger tags refunds and tells the team.
    let r = put(
        &app,
        "/settings/priority-matrix",
        &manager,
        json!({ "enabled": true, "value_high_cents": 1, "value_medium_cents": 2 }),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "thresholds out of order");
    let r = put(&app, "/settings/priority-matrix", &manager, json!({ "enabled": true })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let bad = app
        .post(
            "/triggers",
            &manager,
            json!({ "name": "Bad", "all": [{ "field": "colour", "op": "is", "value": "red" }],
            "actions": [{ "action": "set_status", "value": "later" }, { "action": "set_team", "value": 999 }] }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad).len(), 3, "{}", bad.body);
    let trig = app
        .post("/triggers", &manager, json!({ "name": "Refunds", "run_on": "create",
            "all": [{ "field": "message", "op": "contains", "value": ["refund", "money back"] }],
            "actions": [{ "action": "add_tags", "value": ["refund"] },
                        { "action": "notify", "value": { "to": "team", "text": "refund asked" } },
                        { "action": "add_note", "value": { "body": "Refund for {{ customer.first_name }}: check the payment first." } }] }))
        .await;
    assert_eq!(trig.status, StatusCode::CREATED, "{}", trig.body);

    let first = app
        .ticket(json!({ "subject": "Invoice question", "body": "Please send my money back, the service is down.", "requester": { "email": "ann.lee@x.test", "name": "Ann Lee" } }))
        .await;
    let view = until_event(&app, first, "rules_fired").await;
    let t = &view["ticket"];
    assert_eq!(t["team_id"], billing.0, "{view}");
    assert!(t["tags"].as_array().unwrap().contains(&json!("refund")));
    assert_eq!(t["priority"], "normal", "urgency high (\"down\") × impact low");
    let first_agent = t["assignee_id"].as_i64().expect("assigned by round robin");
    assert!([ada.0, bo.0].contains(&first_agent), "only online agents: {first_agent}");
    let why = app.get(&format!("/tickets/{first}/priority"), &agent).await;
    assert_eq!((why.status, why.body["urgency"].as_str()), (StatusCode::OK, Some("high")), "{}", why.body);
    assert!(why.body["reasons"][0].as_str().unwrap().contains("down"));
    let notes = view["messages"].as_array().unwrap();
    assert!(notes.iter().any(|m| m["body_text"] == "Refund for Ann: check the payment first."), "{view}");
    // Notices follow the write.
    let mut told = app.get("/me/notifications", &agent).await;
    for _ in 0..100 {
        if told.body["unread"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
        told = app.get("/me/notifications", &agent).await;
    }
    assert_eq!(told.body["unread"], 1, "{}", told.body);

    let second = app
        .ticket(json!({ "subject": "Invoice copy", "body": "Need a copy", "requester": { "email": "b@x.test" } }))
        .await;
    let view = until_event(&app, second, "assigned").await;
    let second_agent = view["ticket"]["assignee_id"].as_i64().unwrap();
    assert_ne!(second_agent, first_agent, "round robin moves on");
    assert!([ada.0, bo.0].contains(&second_agent));
    assert!(view["ticket"]["tags"].as_array().unwrap().is_empty(), "no refund words: no tag");

    // Two triggers fighting over a tag: the loop is stopped and named.
    for (name, cond, action) in [
        (
            "Tag loops",
            json!({ "field": "subject", "op": "contains", "value": "loop" }),
            json!({ "action": "add_tags", "value": ["ping"] }),
        ),
        (
            "Untag pings",
            json!({ "field": "tags", "op": "is", "value": "ping" }),
            json!({ "action": "remove_tags", "value": ["ping"] }),
        ),
    ] {
        let r = app.post("/triggers", &manager, json!({ "name": name, "all": [cond], "actions": [action] })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let looped = app.ticket(json!({ "subject": "A loop", "body": "x", "requester": { "email": "c@x.test" } })).await;
    let view = until_event(&app, looped, "rule_loop_stopped").await;
    let stop = view["events"].as_array().unwrap().iter().find(|e| e["kind"] == "rule_loop_stopped").unwrap().clone();
    assert_eq!(stop["to"]["fact"], "tags:ping");
    assert_eq!(stop["to"]["names"], "Tag loops and Untag pings");

    // The rules' own change does not run the rules again: one rules_fired.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let view = app.get(&format!("/tickets/{first}"), &app.admin).await.body;
    let fired = view["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "rules_fired").count();
    assert_eq!(fired, 1, "{view}");

    // Agents read the rules; the API lists them in order.
    let list = app.get("/triggers", &agent).await;
    assert_eq!(list.body["rules"].as_array().unwrap().len(), 3);
    let id = trig.body["id"].as_i64().unwrap();
    let r = TestApp::send(app.request(Method::DELETE, &format!("/triggers/{id}"), &manager)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/automations/{id}"), &agent).await.status, StatusCode::NOT_FOUND);
}

async fn automations_and_offline_agents(app: TestApp) {
    let (ada, ada_t) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let (bo, _) = staff(&app.store, "bo@desk.test", Role::Agent, None).await;
    let (lead, lead_t) = staff(&app.store, "lead@desk.test", Role::Manager, None).await;
    let manager = Auth::Token(lead_t);
    let support = team(&app.store, "Support", Some(lead), &[ada, bo]).await;

    // An automation needs a time condition.
    let r = app
        .post(
            "/automations",
            &manager,
            json!({ "name": "x", "all": [{ "field": "status", "op": "is", "value": "pending" }],
            "actions": [{ "action": "set_status", "value": "solved" }] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post("/automations", &manager, json!({ "name": "Pending 3 days: solve",
            "all": [{ "field": "status", "op": "is", "value": "pending" }, { "field": "hours_since_status", "op": "greater_than", "value": 71 }],
            "actions": [{ "action": "set_status", "value": "solved" }, { "action": "email_requester", "value": { "body": "We solved this after three days without news." } }] }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let t = app
        .ticket(json!({ "subject": "Waiting", "body": "x", "status": "pending", "requester": { "email": "c@x.test" } }))
        .await;
    let store = app.store.as_ref();
    assert_eq!(jobs::automations::run_automations(store, now() + 3_600_000).await.unwrap(), 0, "not yet");
    assert_eq!(jobs::automations::run_automations(store, now() + 72 * 3_600_000).await.unwrap(), 1);
    assert_eq!(
        jobs::automations::run_automations(store, now() + 73 * 3_600_000).await.unwrap(),
        0,
        "once per status period"
    );
    let view = app.get(&format!("/tickets/{t}"), &app.admin).await.body;
    assert_eq!(view["ticket"]["status"], "solved");
    assert!(
        view["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body_text"] == "We solved this after three days without news.")
    );

    // Going offline hands open work to the other online agent.
    let r = put(
        &app,
        &format!("/teams/{}/routing", support.0),
        &manager,
        json!({ "mode": "least_loaded", "reassign_when_offline": true }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.store.set_agent_status(bo, AgentStatus::Online, now()).await.unwrap();
    let work = app
        .ticket(json!({ "subject": "Open work", "body": "x", "team_id": support.0, "assignee_id": ada.0, "requester": { "email": "d@x.test" } }))
        .await;
    let r = put(&app, "/me/status", &Auth::Token(ada_t), json!({ "status": "offline" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for _ in 0..300 {
        let v = app.get(&format!("/tickets/{work}"), &app.admin).await.body;
        if v["ticket"]["assignee_id"] == bo.0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("the offline agent's ticket was not reassigned");
}

async fn escalations_and_approvals(app: TestApp) {
    let (ada, ada_t) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let (lead, lead_t) = staff(&app.store, "lead@desk.test", Role::Manager, None).await;
    let (other_lead, other_t) = staff(&app.store, "other@desk.test", Role::Manager, None).await;
    let (agent, manager, other) = (Auth::Token(ada_t), Auth::Token(lead_t), Auth::Token(other_t));
    let billing = team(&app.store, "Billing", Some(lead), &[ada]).await;
    team(&app.store, "Sales", Some(other_lead), &[]).await;
    let t = app
        .ticket(json!({ "subject": "Angry", "body": "x", "team_id": billing.0, "assignee_id": ada.0, "requester": { "email": "c@x.test" } }))
        .await;

    // Manual escalation: a reason is required; one open per tier.
    let r = app.post(&format!("/tickets/{t}/escalations"), &agent, json!({ "reason": "" })).await;
    assert_eq!((r.status, fields(&r)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["reason".to_string()]));
    let r = app.post(&format!("/tickets/{t}/escalations"), &agent, json!({ "reason": "Threatens to cancel" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!((r.body["tier"].as_str(), r.body["source"].as_str()), (Some("manager"), Some("manual")));
    let esc = r.body["id"].as_i64().unwrap();
    let again = app.post(&format!("/tickets/{t}/escalations"), &agent, json!({ "reason": "Still angry" })).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // The lead's queue has it and they were told; another team's manager does not see it.
    let queue = app.get("/escalations", &manager).await;
    assert_eq!(queue.body["escalations"].as_array().unwrap().len(), 1, "{}", queue.body);
    assert_eq!(app.get("/me/notifications", &manager).await.body["unread"], 1);
    assert!(app.get("/escalations", &other).await.body["escalations"].as_array().unwrap().is_empty());
    let r = app.post(&format!("/escalations/{esc}/resolve"), &agent, json!({ "outcome": "Called them" })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(&format!("/escalations/{esc}/resolve"), &manager, json!({ "outcome": "Called them, offered a discount" }))
        .await;
    assert_eq!((r.status, r.body["state"].as_str()), (StatusCode::OK, Some("resolved")), "{}", r.body);
    assert_eq!(app.get("/me/notifications", &agent).await.body["unread"], 1, "the agent hears the outcome");
    let view = app.get(&format!("/tickets/{t}"), &app.admin).await.body;
    let kinds: Vec<&str> = view["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"escalated") && kinds.contains(&"escalation_resolved"), "{kinds:?}");

    // Automatic: a VIP customer and a sensitive word.
    let vip = app.post("/customers", &app.admin, json!({ "email": "vip@x.test", "name": "Vera", "tier": "vip" })).await;
    assert_eq!(vip.status, StatusCode::CREATED, "{}", vip.body);
    let v = app
        .ticket(json!({ "subject": "Question", "body": "I will file a chargeback", "requester_id": vip.body["id"] }))
        .await;
    for _ in 0..300 {
        let list = app.get(&format!("/escalations?ticket_id={v}"), &app.admin).await;
        let sources: Vec<String> = list.body["escalations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["source"].as_str().unwrap().to_string())
            .collect();
        if sources.len() == 2 {
            assert!(sources.contains(&"vip".to_string()) && sources.contains(&"sensitive_topic".to_string()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(
        app.get(&format!("/escalations?ticket_id={v}"), &app.admin).await.body["escalations"].as_array().unwrap().len(),
        2
    );

    // Approvals: within the agent's limit it is granted at once.
    let bad = app
        .post(
            &format!("/tickets/{t}/approvals"),
            &agent,
            json!({ "kind": "refund", "amount_minor": 0, "currency": "EURO", "reason": "" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad).len(), 3, "{}", bad.body);
    let small = app
        .post(
            &format!("/tickets/{t}/approvals"),
            &agent,
            json!({ "kind": "refund", "amount_minor": 3000, "currency": "eur", "reason": "late delivery" }),
        )
        .await;
    assert_eq!((small.status, small.body["state"].as_str()), (StatusCode::CREATED, Some("granted")), "{}", small.body);
    let big = app
        .post(
            &format!("/tickets/{t}/approvals"),
            &agent,
            json!({ "kind": "compensation", "amount_minor": 12000, "currency": "EUR", "reason": "three outages" }),
        )
        .await;
    assert_eq!((big.status, big.body["state"].as_str()), (StatusCode::CREATED, Some("pending")), "{}", big.body);
    assert_eq!(big.body["approver_id"], lead.0);
    let id = big.body["id"].as_i64().unwrap();
    let r = app.post(&format!("/approvals/{id}/decision"), &manager, json!({ "approve": true, "reason": "" })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.post(&format!("/approvals/{id}/decision"), &agent, json!({ "approve": true, "reason": "sure" })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(&format!("/approvals/{id}/decision"), &manager, json!({ "approve": true, "reason": "loyal customer" }))
        .await;
    assert_eq!((r.status, r.body["state"].as_str()), (StatusCode::OK, Some("approved")), "{}", r.body);
    let r = app
        .post(&format!("/approvals/{id}/decision"), &manager, json!({ "approve": false, "reason": "changed my mind" }))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let told = app.get("/me/notifications?unread=true", &agent).await;
    assert!(
        told.body["notifications"][0]["text"].as_str().unwrap().contains("approved — loyal customer"),
        "{}",
        told.body
    );
    let view = app.get(&format!("/tickets/{t}"), &app.admin).await.body;
    assert!(
        view["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "approval_decided" && e["to"]["state"] == "approved")
    );

    // Unanswered past its limit, a request goes to the fallback approver (an admin).
    let late = app
        .post(
            &format!("/tickets/{t}/approvals"),
            &agent,
            json!({ "kind": "refund", "amount_minor": 9000, "currency": "EUR", "reason": "broken item" }),
        )
        .await;
    let late_id = domain::ApprovalId(late.body["id"].as_i64().unwrap());
    assert!(!jobs::approvals::escalate_approval(app.store.as_ref(), late_id, now()).await.unwrap(), "not yet due");
    assert!(jobs::approvals::escalate_approval(app.store.as_ref(), late_id, now() + 25 * 3_600_000).await.unwrap());
    let a = app.store.approval(late_id).await.unwrap().unwrap();
    assert!(a.escalated && a.approver_id != Some(lead), "{a:?}");
    let told = app.get("/me/notifications?unread=true", &app.admin).await.body;
    assert!(told["notifications"].as_array().unwrap().iter().any(|n| n["kind"] == "approval"), "{told}");

    // Listed and exported.
    let list = app.get("/approvals?state=pending", &manager).await;
    assert_eq!(list.body["approvals"].as_array().unwrap().len(), 1);
    let csv = TestApp::send(app.request(Method::GET, "/approvals.csv", &manager)).await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.body.as_str().unwrap().to_string();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(
        text.lines().any(|l| l.contains(",compensation,120.00,EUR,\"three outages\",") && l.contains(",approved,")),
        "{text}"
    );
}

async fn major_incidents_and_surges(app: TestApp) {
    let (_, lead_t) = staff(&app.store, "lead@desk.test", Role::Manager, None).await;
    let lead = Auth::Token(lead_t);
    // Tickets without a team: the admin runs the incident.
    let manager = app.admin.clone();
    let problem = app.ticket(json!({ "subject": "Export outage", "body": "Exports fail for everyone", "requester": { "email": "ops@x.test" } })).await;
    let r = put(
        &app,
        &format!("/tickets/{problem}/major-incident"),
        &manager,
        json!({ "active": true, "matching": { "words": ["export fails"], "tags": [] } }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.get("/incidents", &manager).await.body["incidents"][0]["problem_id"], problem);

    // A new ticket matching the words joins the problem by itself.
    let joined = app.ticket(json!({ "subject": "Help", "body": "My export fails since this morning", "requester": { "email": "a@x.test" } })).await;
    let view = until_event(&app, joined, "linked_to_problem").await;
    assert_eq!(
        (view["ticket"]["problem_id"].as_i64(), view["ticket"]["type"].as_str()),
        (Some(problem), Some("incident"))
    );

    // A thousand more linked in bulk, then all solved in one step.
    let c = app.store.customer_by_email("a@x.test").await.unwrap().unwrap().id;
    let batch: Vec<_> = (0..1000)
        .map(|i| {
            store::conformance::new_ticket(&store::conformance::spec(&format!("Export broken {i}"), "x", c, now()))
        })
        .collect();
    let ids: Vec<i64> = app.store.import_tickets(batch).await.unwrap().into_iter().map(|t| t.0).collect();
    let r = app.post(&format!("/incidents/{problem}/link"), &manager, json!({ "ticket_ids": ids })).await;
    assert_eq!((r.status, r.body["changed"].as_i64()), (StatusCode::OK, Some(1000)), "{}", r.body);
    let r = app.post(&format!("/incidents/{problem}/solve"), &manager, json!({ "reply": "" })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(
            &format!("/incidents/{problem}/solve"),
            &manager,
            json!({ "reply": "Exports work again. Sorry for the trouble." }),
        )
        .await;
    assert_eq!((r.status, r.body["changed"].as_i64()), (StatusCode::OK, Some(1001)), "{}", r.body);
    for id in [ids[0], ids[999], joined, problem] {
        let v = app.get(&format!("/tickets/{id}"), &app.admin).await.body;
        assert_eq!(v["ticket"]["status"], "solved", "{id}");
        assert!(
            v["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["body_text"] == "Exports work again. Sorry for the trouble.")
        );
    }
    assert!(app.get("/incidents", &manager).await.body["incidents"].as_array().unwrap().is_empty(), "no longer active");

    // Surges: twelve "billing" tickets in the last hour against two a day before.
    let hour = 3_600_000;
    let mut batch = Vec::new();
    for i in 0..12 {
        batch.push(store::conformance::new_ticket(&store::conformance::Spec {
            tags: &["billing"],
            ..store::conformance::spec("bill", "x", c, now() - 10 * 60_000 - i)
        }));
    }
    for i in 0..14 {
        batch.push(store::conformance::new_ticket(&store::conformance::Spec {
            tags: &["billing"],
            ..store::conformance::spec("bill", "x", c, now() - (i + 2) * 12 * hour)
        }));
    }
    app.store.import_tickets(batch).await.unwrap();
    let surges = app.get("/incidents/surges", &lead).await;
    let s = &surges.body["surges"].as_array().unwrap()[0];
    assert_eq!((s["tag"].as_str(), s["recent"].as_i64()), (Some("billing"), Some(12)), "{}", surges.body);
    assert_eq!(jobs::surge::check_surges(app.store.as_ref(), now()).await.unwrap(), 1);
    let told = app.get("/me/notifications", &lead).await;
    assert!(told.body["notifications"][0]["text"].as_str().unwrap().contains("\"billing\""), "{}", told.body);
    // An hour later with nothing new: no surge (no false alarm).
    assert!(jobs::surge::surges(app.store.as_ref(), &Default::default(), now() + 2 * hour).await.unwrap().is_empty());
}

async fn managers_work_the_rules_from_pages(app: TestApp) {
    let (ada, ada_t) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let (lead, _) = staff(&app.store, "lead@desk.test", Role::Manager, None).await;
    let billing = team(&app.store, "Billing", Some(lead), &[ada]).await;
    let page = Browser::new(&app, lead).await;
    let agent = Browser::new(&app, ada).await;

    // Every service page answers, and the admin index leads to them.
    let index = page.get("/admin").await;
    for path in [
        "/admin/routing",
        "/admin/rules/triggers",
        "/admin/rules/automations",
        "/admin/rule-settings",
        "/escalations",
        "/approvals",
        "/incidents",
        "/notifications",
    ] {
        assert!(index.html.contains(&format!("href=\"{path}\"")), "{path} linked from /admin");
        let r = page.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.html);
    }
    assert_eq!(agent.get("/admin/rules/triggers").await.status, StatusCode::FORBIDDEN);

    // A trigger from the form: bad JSON is named, a good one is saved.
    let bad = page
        .post(
            "/admin/rules/triggers",
            &[
                ("name", "Refunds"),
                ("position", "1"),
                ("active", "on"),
                ("run_on", "both"),
                ("all", "[{oops"),
                ("any", ""),
                ("actions", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("not valid JSON"), "{}", bad.html);
    let good = page
        .post(
            "/admin/rules/triggers",
            &[
                ("name", "Refunds"),
                ("position", "1"),
                ("active", "on"),
                ("run_on", "create"),
                ("all", r#"[{"field": "message", "op": "contains", "value": "refund"}]"#),
                ("any", ""),
                ("actions", r#"[{"action": "add_tags", "value": ["refund"]}]"#),
            ],
        )
        .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.html);
    assert!(page.get("/admin/rules/triggers").await.html.contains("Refunds"));

    // Routing from the form: a rule and the team's mode.
    let r = page
        .post(
            "/admin/routing",
            &[
                ("name", "Billing words"),
                ("position", "0"),
                ("words", "invoice, refund"),
                ("team_id", &billing.0.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let r = page
        .post(&format!("/admin/routing/teams/{}", billing.0), &[("mode", "least_loaded"), ("capacity_chat", "3")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let (routing, _) = app.store.team_routing(billing).await.unwrap();
    assert_eq!((routing.mode.as_str(), routing.capacity.get(&domain::Channel::Chat)), ("least_loaded", Some(&3)));

    // Settings: a broken document is refused with the reason.
    let r = page
        .post(
            "/admin/rule-settings/priority_matrix",
            &[("document", r#"{"enabled": true, "value_high_cents": 1, "value_medium_cents": 5}"#)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    let r = page.post("/admin/rule-settings/priority_matrix", &[("document", r#"{"enabled": true}"#)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);

    // From the ticket page: the agent escalates and asks for a refund; the manager decides.
    let t = app
        .ticket(json!({ "subject": "Broken", "body": "It broke", "team_id": billing.0, "assignee_id": ada.0, "requester": { "email": "c@x.test" } }))
        .await;
    let ticket = agent.get(&format!("/tickets/{t}")).await;
    assert!(ticket.html.contains("Escalate to manager") && ticket.html.contains("Grant or ask for approval"));
    let r = agent.post(&format!("/tickets/{t}/escalate"), &[("reason", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = agent.post(&format!("/tickets/{t}/escalate"), &[("reason", "Customer is furious")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = agent
        .post(
            &format!("/tickets/{t}/approval"),
            &[("kind", "refund"), ("amount", "80,50"), ("currency", "EUR"), ("reason", "arrived broken")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let queue = page.get("/escalations").await.html;
    assert!(queue.contains("Customer is furious"), "{queue}");
    let pending = app.store.approvals(Some(domain::rules::ApprovalState::Pending), None).await.unwrap();
    assert_eq!(pending[0].amount_minor, 8050);
    let r = page
        .post("/approvals", &[("approval_id", &pending[0].id.0.to_string()), ("decision", "reject"), ("reason", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = page
        .post(
            "/approvals",
            &[
                ("approval_id", &pending[0].id.0.to_string()),
                ("decision", "reject"),
                ("reason", "send a replacement instead"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let ticket = agent.get(&format!("/tickets/{t}")).await.html;
    assert!(ticket.contains("rejected — send a replacement instead"), "{ticket}");
    let esc = app.store.escalations(Some(domain::rules::EscalationState::Open), None, 10).await.unwrap();
    let r = page
        .post("/escalations", &[("escalation_id", &esc[0].id.0.to_string()), ("outcome", "Called and calmed")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let notes = agent.get("/notifications").await.html;
    assert!(notes.contains("Called and calmed") && notes.contains("send a replacement instead"), "{notes}");
    let _ = ada_t;

    // A major incident shows a banner on every page and is solved from /incidents.
    let r = page
        .post(&format!("/tickets/{t}/major-incident"), &[("active", "on"), ("words", "broke, broken"), ("tags", "")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let other = app
        .ticket(json!({ "subject": "Other", "body": "x", "team_id": billing.0, "requester": { "email": "d@x.test" } }))
        .await;
    let r = page.post(&format!("/tickets/{t}/link"), &[("tickets", &format!("#{other}"))]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert!(r.location.contains("1%20tickets%20linked") || r.location.contains("1+tickets+linked"), "{}", r.location);
    assert!(agent.get("/views/mine").await.html.contains("Major incident: <a href"));
    let r = page.post("/incidents", &[("problem_id", &t.to_string()), ("reply", "Fixed for everyone.")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert!(!agent.get("/views/mine").await.html.contains("Major incident: <a href"));
}

async fn the_work_queue_sorts_by_sla_due_then_score(app: TestApp) {
    let r = app
        .post(
            "/sla/policies",
            &app.admin,
            json!({ "name": "Urgent", "position": 1, "conditions": { "priorities": ["urgent"] },
            "targets": [{ "kind": "first_reply", "minutes": 60, "business_hours": false }] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post(
            "/sla/policies",
            &app.admin,
            json!({ "name": "Normal", "position": 2, "conditions": { "priorities": ["normal"] },
            "targets": [{ "kind": "first_reply", "minutes": 240, "business_hours": false }] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let low = app
        .ticket(json!({ "subject": "No SLA", "body": "x", "priority": "low", "requester": { "email": "a@x.test" } }))
        .await;
    let normal = app.ticket(json!({ "subject": "In 4 h", "body": "x", "requester": { "email": "b@x.test" } })).await;
    let urgent = app
        .ticket(json!({ "subject": "In 1 h", "body": "x", "priority": "urgent", "requester": { "email": "c@x.test" } }))
        .await;
    until_event(&app, normal, "sla_target_applied").await;
    until_event(&app, urgent, "sla_target_applied").await;
    // Page by page, as an agent's queue would be read.
    let first = app.get("/tickets?sort=sla&limit=2", &app.admin).await;
    let ids: Vec<i64> = first.body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![urgent, normal], "{}", first.body);
    let cursor = first.body["meta"]["after_cursor"].as_str().unwrap().to_string();
    let next = app.get(&format!("/tickets?sort=sla&limit=2&cursor={cursor}"), &app.admin).await;
    let ids: Vec<i64> = next.body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![low], "no running target: last");
}

async fn negative_sentiment_is_a_condition_and_escalates(app: TestApp) {
    let r = app
        .post(
            "/triggers",
            &app.admin,
            json!({ "name": "Unhappy", "all": [{ "field": "sentiment", "op": "is", "value": "negative" }],
            "actions": [{ "action": "add_tags", "value": ["unhappy"] }] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // A trigger firing on every ticket, so each run leaves a `rules_fired` to wait for.
    let r = app
        .post(
            "/triggers",
            &app.admin,
            json!({ "name": "Seen", "all": [],
            "actions": [{ "action": "add_tags", "value": ["seen"] }] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let angry = app
        .ticket(json!({ "subject": "Export", "body": "This is the worst, most useless service ever. I am furious and disappointed.",
            "requester": { "email": "angry@x.test" } }))
        .await;
    let calm = app
        .ticket(json!({ "subject": "Export", "body": "Thanks, the export works great now!", "requester": { "email": "calm@x.test" } }))
        .await;
    let view = until_event(&app, angry, "escalated").await;
    assert!(view["ticket"]["tags"].as_array().unwrap().contains(&json!("unhappy")), "{}", view["ticket"]);
    let esc = app.get(&format!("/escalations?ticket_id={angry}"), &app.admin).await;
    let e = &esc.body["escalations"][0];
    assert_eq!(e["source"], "negative_sentiment", "{}", esc.body);
    assert!(e["reason"].as_str().unwrap().starts_with("negative sentiment (-0."), "{e}");
    let view = until_event(&app, calm, "rules_fired").await;
    assert!(!view["ticket"]["tags"].as_array().unwrap().contains(&json!("unhappy")));
    assert!(
        app.get(&format!("/escalations?ticket_id={calm}"), &app.admin).await.body["escalations"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The threshold is a setting; out of range is refused.
    let r = put(&app, "/settings/escalation-rules", &app.admin, json!({ "negative_sentiment_at": 0.5 })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = put(&app, "/settings/escalation-rules", &app.admin, json!({ "negative_sentiment_at": null })).await;
    assert_eq!((r.status, &r.body["negative_sentiment_at"]), (StatusCode::OK, &Value::Null), "{}", r.body);
}
