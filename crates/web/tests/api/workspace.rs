//! The workspace's API: status and preferences, macros (personal and
//! shared, applied in one write), saved views and their counts within the
//! caller's scope, bulk changes, presence, settings, team leads managing
//! their members, and what the live stream says about a change.

use domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Auth, TestApp, customer, staff, team};

on_both_backends!(
    status_and_preferences_are_the_agents_own,
    macros_are_shared_or_personal_and_apply_in_one_write,
    views_count_only_what_the_caller_may_see,
    bulk_changes_report_each_ticket,
    presence_shows_who_else_is_on_a_ticket,
    settings_and_team_leads
);

async fn status_and_preferences_are_the_agents_own(app: TestApp) {
    let (_, ada) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let ada = Auth::Token(ada);
    let r = app.get("/me/status", &ada).await;
    assert_eq!(
        (r.status, r.body["status"].clone(), r.body["since"].clone()),
        (StatusCode::OK, json!("offline"), Value::Null)
    );
    let r =
        TestApp::send(app.request(reqwest::Method::PUT, "/me/status", &ada).json(&json!({ "status": "away" }))).await;
    assert_eq!((r.status, r.body["status"].clone()), (StatusCode::OK, json!("away")));
    assert!(r.body["since"].as_i64().is_some());
    let r =
        TestApp::send(app.request(reqwest::Method::PUT, "/me/status", &ada).json(&json!({ "status": "asleep" }))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("online"), "names the allowed words: {}", r.body);

    let r = app.get("/me/preferences", &ada).await;
    assert_eq!(
        r.body,
        json!({ "assigned_to_me": true, "customer_replied": true, "new_in_my_teams": false, "desktop": false,
            "alert_mail": true })
    );
    let put = |body: Value| app.request(reqwest::Method::PUT, "/me/preferences", &ada).json(&body);
    let r = TestApp::send(put(json!({ "desktop": true }))).await;
    assert_eq!(r.body["desktop"], true);
    assert_eq!(app.get("/me/preferences", &ada).await.body["desktop"], true);
    let r = TestApp::send(put(json!({ "sms": true }))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "unknown preferences are refused");

    // Customers have no workspace.
    let (_, cust) = customer(&app.store, "c@x.test", None).await;
    assert_eq!(app.get("/me/status", &cust).await.status, StatusCode::FORBIDDEN);
}

async fn macros_are_shared_or_personal_and_apply_in_one_write(app: TestApp) {
    let (ada_id, ada) = staff(&app.store, "ada.lee@desk.test", Role::Agent, None).await;
    let (_, bo) = staff(&app.store, "bo@desk.test", Role::Agent, None).await;
    let (ada, bo) = (Auth::Token(ada), Auth::Token(bo));
    let billing = team(&app.store, "Billing", None, &[ada_id]).await;

    // Personal: only its owner sees it. Shared: admins only.
    let mine =
        app.post("/macros", &ada, json!({ "name": "My hello", "body": "Hello {{ customer.first_name }}" })).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    assert_eq!(mine.body["owner_id"], ada_id.0);
    let mine_id = mine.body["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/macros/{mine_id}"), &bo).await.status, StatusCode::NOT_FOUND);
    let r = app.post("/macros", &ada, json!({ "name": "For all", "body": "x", "shared": true })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.post("/macros", &app.admin, json!({ "name": "Broken", "body": "Hi {{ customer.name" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
    assert!(r.body["error"]["details"]["fields"]["body"].is_array(), "{}", r.body);
    let r = app.post("/macros", &app.admin, json!({ "name": "Nothing", "body": " " })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a macro must do something");
    let r = app
        .post("/macros", &app.admin, json!({ "name": "Bad team", "body": "x", "actions": { "team_id": 999 } }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let shared = app
        .post(
            "/macros",
            &app.admin,
            json!({ "name": "Refund done", "shared": true,
                "body": "Hi {{ customer.first_name }}, #{{ ticket.number }} is refunded. — {{ agent.first_name }}",
                "actions": { "status": "pending", "add_tags": ["refunded"], "assignee": "me" } }),
        )
        .await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.body);
    assert_eq!(shared.body["owner_id"], Value::Null);
    let shared_id = shared.body["id"].as_i64().unwrap();
    let names: Vec<String> = app.get("/macros", &ada).await.body["macros"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["My hello", "Refund done"]);
    assert_eq!(app.get("/macros", &bo).await.body["macros"].as_array().unwrap().len(), 1);
    // Agents may not change a shared macro; owners change theirs.
    assert_eq!(
        app.patch(&format!("/macros/{shared_id}"), &ada, json!({ "name": "x" })).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.patch(&format!("/macros/{mine_id}"), &ada, json!({ "name": "Hi" })).await.body["name"], "Hi");

    // Applying: the text filled in, the changes made, one version step.
    let t = app
        .ticket(json!({ "subject": "Refund", "body": "Please", "team_id": billing.0,
            "requester": { "email": "cara@x.test", "name": "Cara Diaz" } }))
        .await;
    let before = app.get(&format!("/tickets/{t}"), &ada).await;
    let version = before.body["ticket"]["version"].as_i64().unwrap();
    let stale = TestApp::send(
        app.request(reqwest::Method::POST, &format!("/tickets/{t}/macros/{shared_id}"), &ada)
            .header("if-match", "\"999\""),
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let r = TestApp::send(
        app.request(reqwest::Method::POST, &format!("/tickets/{t}/macros/{shared_id}"), &ada)
            .header("if-match", format!("\"{version}\"")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["ticket"]["version"], version + 1, "one write");
    assert_eq!(r.body["ticket"]["status"], "pending");
    assert_eq!(r.body["ticket"]["tags"], json!(["refunded"]));
    assert_eq!(r.body["ticket"]["assignee_id"], ada_id.0);
    let last = r.body["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["body_text"], format!("Hi Cara, #{t} is refunded. — ada.lee"));
    assert_eq!(last["visibility"], "public");
    // A switched-off macro is refused; another agent's personal one is not found.
    app.patch(&format!("/macros/{shared_id}"), &app.admin, json!({ "active": false })).await;
    let r = app.post(&format!("/tickets/{t}/macros/{shared_id}"), &ada, json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.post(&format!("/tickets/{t}/macros/{mine_id}"), &bo, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        TestApp::send(app.request(reqwest::Method::DELETE, &format!("/macros/{mine_id}"), &ada)).await.status,
        StatusCode::NO_CONTENT
    );
}

async fn views_count_only_what_the_caller_may_see(app: TestApp) {
    let (ada_id, ada) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let (boss_id, boss) = staff(&app.store, "boss@desk.test", Role::Manager, None).await;
    let (other_id, _) = staff(&app.store, "other@desk.test", Role::Agent, None).await;
    let (ada, boss) = (Auth::Token(ada), Auth::Token(boss));
    let billing = team(&app.store, "Billing", Some(boss_id), &[ada_id]).await;
    let tech = team(&app.store, "Technical", None, &[other_id]).await;
    let new = |subject: &str, team: i64, tags: &[&str]| json!({ "subject": subject, "body": "b", "team_id": team, "tags": tags, "requester": { "email": "c@x.test" } });
    for i in 0..3 {
        app.ticket(new(&format!("Billing {i}"), billing.0, if i == 0 { &["vip"] } else { &[] })).await;
    }
    app.ticket(new("Secret VIP", tech.0, &["vip"])).await;
    let assigned = app.ticket(new("Mine", billing.0, &[])).await;
    app.patch(&format!("/tickets/{assigned}"), &app.admin, json!({ "assignee_id": ada_id.0, "status": "open" })).await;

    // Bad views name what is wrong.
    let r = app
        .post("/views", &ada, json!({ "name": "x", "query": "status:done", "sort": "colour", "columns": ["nope"] }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = r.body["error"]["details"]["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("query") && fields.contains_key("sort") && fields.contains_key("columns"),
        "{}",
        r.body
    );
    assert_eq!(app.post("/views", &ada, json!({ "name": "x" })).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Agents keep their own; sharing is for managers and admins.
    assert_eq!(
        app.post("/views", &ada, json!({ "name": "x", "query": "tag:vip", "shared": true })).await.status,
        StatusCode::FORBIDDEN
    );
    let vip =
        app.post("/views", &ada, json!({ "name": "VIPs", "query": "tag:vip", "columns": ["subject", "tags"] })).await;
    assert_eq!(vip.status, StatusCode::CREATED, "{}", vip.body);
    assert_eq!(vip.body["columns"], json!(["subject", "tags"]));
    assert_eq!(vip.body["sort"], "-updated");
    let shared =
        app.post("/views", &boss, json!({ "name": "Team queue", "query": "status:new", "shared": true })).await;
    assert_eq!(shared.status, StatusCode::CREATED);
    assert_eq!(shared.body["owner_id"], Value::Null);
    let names: Vec<String> = app.get("/views", &ada).await.body["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().into())
        .collect();
    assert_eq!(names, vec!["Team queue", "VIPs"], "shared first, then the agent's own");
    let vip_id = vip.body["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/views/{vip_id}"), &boss).await.status,
        StatusCode::NOT_FOUND,
        "personal views are private"
    );

    // Counts: within the agent's scope (Technical's VIP ticket is not counted).
    let counts = app.get("/views/counts", &ada).await;
    let count = |key: &str| {
        counts.body["counts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["view"] == key)
            .map(|c| c["count"].as_i64().unwrap())
    };
    assert_eq!(count("mine"), Some(1));
    assert_eq!(count("unassigned"), Some(3));
    assert_eq!(count("open"), Some(4));
    assert_eq!(count(&vip_id.to_string()), Some(1), "{}", counts.body);
    assert_eq!(count(&shared.body["id"].to_string()), Some(3));
    let admin_counts = app.get("/views/counts", &app.admin).await;
    let vip_for_admin =
        admin_counts.body["counts"].as_array().unwrap().iter().find(|c| c["view"] == "open").unwrap()["count"].clone();
    assert_eq!(vip_for_admin, 5, "the admin sees both teams");
    // Owners change and delete their views.
    let r = app.patch(&format!("/views/{vip_id}"), &ada, json!({ "query": "tag:vip status:new" })).await;
    assert_eq!(r.body["query"], "tag:vip status:new");
    let r = TestApp::send(app.request(reqwest::Method::DELETE, &format!("/views/{vip_id}"), &ada)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

async fn bulk_changes_report_each_ticket(app: TestApp) {
    let (ada_id, ada) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let ada = Auth::Token(ada);
    let billing = team(&app.store, "Billing", None, &[ada_id]).await;
    let tech = team(&app.store, "Technical", None, &[]).await;
    let new = |team: i64| json!({ "subject": "s", "body": "b", "team_id": team, "requester": { "email": "c@x.test" } });
    let mut ours = Vec::new();
    for _ in 0..3 {
        ours.push(app.ticket(new(billing.0)).await);
    }
    let theirs = app.ticket(new(tech.0)).await;

    let mut ids = ours.clone();
    ids.push(theirs);
    let r = app
        .post(
            "/tickets/bulk",
            &ada,
            json!({ "ticket_ids": ids, "changes": { "status": "solved", "add_tags": ["done"] } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["changed"], 3);
    let last = &r.body["results"][3];
    assert_eq!(
        (last["ticket_id"].as_i64(), last["ok"].as_bool(), last["code"].as_str()),
        (Some(theirs), Some(false), Some("not_found"))
    );
    for id in &ours {
        let t = app.get(&format!("/tickets/{id}"), &app.admin).await;
        assert_eq!(
            (t.body["ticket"]["status"].as_str(), t.body["ticket"]["tags"].clone()),
            (Some("solved"), json!(["done"]))
        );
    }
    assert_eq!(app.get(&format!("/tickets/{theirs}"), &app.admin).await.body["ticket"]["status"], "new");

    // A bad change fails before any ticket changes; one action at a time.
    let r = app.post("/tickets/bulk", &ada, json!({ "ticket_ids": ours, "changes": { "assignee_id": 99999 } })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.post("/tickets/bulk", &ada, json!({ "ticket_ids": ours, "changes": {}, "merge_into": ours[0] })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r =
        app.post("/tickets/bulk", &ada, json!({ "ticket_ids": (1..=101).collect::<Vec<i64>>(), "changes": {} })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.post("/tickets/bulk", &ada, json!({ "ticket_ids": [], "changes": {} })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Merge: each into the first; the first itself is refused (into itself).
    let fresh: Vec<i64> =
        [app.ticket(new(billing.0)).await, app.ticket(new(billing.0)).await, app.ticket(new(billing.0)).await].to_vec();
    let r = app.post("/tickets/bulk", &ada, json!({ "ticket_ids": fresh, "merge_into": fresh[0] })).await;
    assert_eq!(r.body["changed"], 2, "{}", r.body);
    assert_eq!(r.body["results"][0]["ok"], false);
    let merged = app.get(&format!("/tickets/{}", fresh[1]), &app.admin).await;
    assert_eq!(merged.body["ticket"]["merged_into"], fresh[0]);
}

async fn presence_shows_who_else_is_on_a_ticket(app: TestApp) {
    let (ada_id, ada) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let (bo_id, bo) = staff(&app.store, "bo@desk.test", Role::Agent, None).await;
    let (_, outsider) = staff(&app.store, "out@desk.test", Role::Agent, None).await;
    let (ada, bo, outsider) = (Auth::Token(ada), Auth::Token(bo), Auth::Token(outsider));
    let billing = team(&app.store, "Billing", None, &[ada_id, bo_id]).await;
    let tech = team(&app.store, "Technical", None, &[]).await;
    let t = app
        .ticket(json!({ "subject": "s", "body": "b", "team_id": billing.0, "requester": { "email": "c@x.test" } }))
        .await;
    let path = format!("/tickets/{t}/presence");

    let r = app.post(&path, &ada, json!({})).await;
    assert_eq!((r.status, r.body["others"].clone()), (StatusCode::OK, json!([])));
    let r = app.post(&path, &bo, json!({ "typing": false })).await;
    assert_eq!(r.body["others"], json!([{ "user_id": ada_id.0, "name": "ada", "typing": false }]));
    assert!(r.body["version"].as_i64().is_some());
    app.post(&path, &ada, json!({ "typing": true })).await;
    assert_eq!(app.post(&path, &bo, json!({})).await.body["others"][0]["typing"], true);
    let r = TestApp::send(app.request(reqwest::Method::DELETE, &path, &ada)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.post(&path, &bo, json!({})).await.body["others"], json!([]));
    // Someone who may not see the ticket learns nothing about it.
    let hidden = app
        .ticket(json!({ "subject": "s", "body": "b", "team_id": tech.0, "requester": { "email": "c@x.test" } }))
        .await;
    assert_eq!(
        app.post(&format!("/tickets/{hidden}/presence"), &outsider, json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.post(&path, &bo, json!({ "typing": "yes" })).await.status, StatusCode::BAD_REQUEST);
}

async fn settings_and_team_leads(app: TestApp) {
    let (ada_id, ada) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let (lead_id, lead) = staff(&app.store, "lead@desk.test", Role::Manager, None).await;
    let (_, other_manager) = staff(&app.store, "om@desk.test", Role::Manager, None).await;
    let (ada, lead, other_manager) = (Auth::Token(ada), Auth::Token(lead), Auth::Token(other_manager));
    let put = |auth: &Auth, body: Value| app.request(reqwest::Method::PUT, "/settings", auth).json(&body);

    assert_eq!(app.get("/settings", &ada).await.body, json!({ "helpdesk_name": "Switchboard", "time_zone": "UTC" }));
    assert_eq!(TestApp::send(put(&ada, json!({ "helpdesk_name": "Mine" }))).await.status, StatusCode::FORBIDDEN);
    let r = TestApp::send(put(&app.admin, json!({ "helpdesk_name": " ", "time_zone": "Mars/Olympus" }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = r.body["error"]["details"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("helpdesk_name") && fields.contains_key("time_zone"), "{}", r.body);
    let r =
        TestApp::send(put(&app.admin, json!({ "helpdesk_name": "Acme Support", "time_zone": "Europe/Berlin" }))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.get("/settings", &ada).await.body["helpdesk_name"], "Acme Support");

    // A team's lead changes its members, not its name or lead; other managers neither.
    let t = team(&app.store, "Billing", Some(lead_id), &[]).await;
    let path = format!("/teams/{}", t.0);
    let r = app.patch(&path, &lead, json!({ "member_ids": [ada_id.0], "description": "Money" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["member_ids"], json!([ada_id.0]));
    assert_eq!(app.patch(&path, &lead, json!({ "name": "Mine" })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.patch(&path, &lead, json!({ "lead_id": null })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.patch(&path, &other_manager, json!({ "member_ids": [] })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.patch(&path, &ada, json!({ "member_ids": [] })).await.status, StatusCode::FORBIDDEN);
}
