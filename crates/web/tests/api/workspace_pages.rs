//! The workspace's pages as a browser without JavaScript uses them: forms
//! post, come back with field messages, and redirect; every page asks the
//! same policy as the API, so another team's ticket never shows (by URL,
//! in search, in a customer's tickets, in counts); cross-site posts are
//! refused; an email's HTML is framed under a sandboxing policy.

use domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Browser, TestApp, staff, team};

on_both_backends!(agents_work_tickets_through_forms, pages_keep_to_the_policy, admins_and_managers_configure);

async fn agents_work_tickets_through_forms(app: TestApp) {
    let (ada_id, _) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    // Made before the pages cache the directory.
    let (maria_id, _) = staff(&app.store, "maria@desk.test", Role::Manager, None).await;
    let billing = team(&app.store, "Billing", None, &[ada_id]).await;
    let ada = Browser::new(&app, ada_id).await;
    let new = |subject: &str| {
        json!({ "subject": subject, "body": "I was charged twice for order 77.", "team_id": billing.0,
            "requester": { "email": "cara@x.test", "name": "Cara Diaz" } })
    };
    let t = app.ticket(new("Refund please")).await;
    let field = app.post("/fields", &app.admin, json!({ "key": "order", "label": "Order", "kind": "number" })).await;
    assert_eq!(field.status, StatusCode::CREATED);
    let mac = app
        .post(
            "/macros",
            &app.admin,
            json!({ "name": "Refunded", "shared": true, "body": "Hi {{ customer.first_name }}, done.",
                "actions": { "status": "pending", "add_tags": ["refunded"] } }),
        )
        .await;
    let mac_id = mac.body["id"].as_i64().unwrap();

    // The page: timeline, side panel, the customer's panel, macros, the live hooks.
    let page = ada.get(&format!("/tickets/{t}")).await;
    assert_eq!(page.status, StatusCode::OK);
    for part in [
        r#"data-live="ticket""#,
        r#"id="f-status""#,
        "Cara Diaz",
        "Earlier tickets",
        "Refunded</option>",
        r#"data-body="Hi Cara, done.""#,
        r#"name="cf_order""#,
        "/assets/app.js",
    ] {
        assert!(page.html.contains(part), "{part} missing");
    }

    // A macro inserted without JavaScript: the text filled in, its id kept.
    let page = ada.get(&format!("/tickets/{t}?macro={mac_id}")).await;
    assert!(page.html.contains(">Hi Cara, done.</textarea>"), "{}", page.html);
    assert!(page.html.contains(&format!(r#"id="macro_id" value="{mac_id}""#)));
    let version = app.get(&format!("/tickets/{t}"), &app.admin).await.body["ticket"]["version"].as_i64().unwrap();
    let r = ada
        .post(
            &format!("/tickets/{t}/reply"),
            &[
                ("body", "Hi Cara, done. Sorry for the wait."),
                ("visibility", "public"),
                ("status", ""),
                ("version", &version.to_string()),
                ("macro_id", &mac_id.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let api = app.get(&format!("/tickets/{t}"), &app.admin).await;
    assert_eq!(api.body["ticket"]["status"], "pending", "the macro's changes came with the reply");
    assert_eq!(api.body["ticket"]["tags"], json!(["refunded"]));

    // The side panel: saved with the version shown; a stale one and a bad value say why.
    let version = api.body["ticket"]["version"].as_i64().unwrap().to_string();
    let panel = |version: &str, order: &str| {
        vec![
            ("version", version.to_string()),
            ("status", "open".into()),
            ("priority", "urgent".into()),
            ("type", "incident".into()),
            ("team_id", billing.0.to_string()),
            ("assignee_id", ada_id.0.to_string()),
            ("tags", "refunded vip".into()),
            ("cf_order", order.to_string()),
        ]
    };
    let post_panel = |form: Vec<(&'static str, String)>| {
        let ada = &ada;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ada.post(&format!("/tickets/{t}/fields"), &pairs).await
        }
    };
    let r = post_panel(panel(&version, "seven")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("is not a number"), "{}", r.html);
    let r = post_panel(panel(&version, "77")).await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (StatusCode::SEE_OTHER, format!("/tickets/{t}?notice=Saved.").as_str())
    );
    let api = app.get(&format!("/tickets/{t}"), &app.admin).await;
    let ticket = &api.body["ticket"];
    assert_eq!(
        (ticket["priority"].as_str(), ticket["type"].as_str(), ticket["assignee_id"].as_i64()),
        (Some("urgent"), Some("incident"), Some(ada_id.0))
    );
    assert_eq!(ticket["tags"], json!(["refunded", "vip"]));
    assert_eq!(ticket["custom_fields"][field.body["id"].to_string()], 77.0);
    let r = post_panel(panel(&version, "77")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the version is old now");
    assert!(r.html.contains("Someone changed this ticket since you opened it"), "{}", r.html);

    // Lists: bulk form; saved view made from a search.
    let more = [app.ticket(new("Second")).await, app.ticket(new("Third")).await];
    let r = ada
        .post(
            "/tickets/bulk",
            &[
                ("ids", &more[0].to_string()),
                ("ids", &more[1].to_string()),
                ("action", "priority:high"),
                ("back", "/views/open"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/views/open?notice=2+tickets+changed.");
    for id in more {
        assert_eq!(app.get(&format!("/tickets/{id}"), &app.admin).await.body["ticket"]["priority"], "high");
    }
    let r = ada.post("/tickets/bulk", &[("action", "priority:high"), ("back", "https://evil.test/")]).await;
    assert_eq!(r.location, "/views/mine?notice=Select+tickets+first.", "never sent elsewhere");
    let r = ada
        .post(
            "/views/new",
            &[
                ("name", "Urgent"),
                ("query", "priority:urgent"),
                ("columns", "subject"),
                ("columns", "priority"),
                ("sort", "-created"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let view = ada.get(r.location.split('?').next().unwrap()).await;
    assert!(view.html.contains("Refund please") && !view.html.contains(">Second<"), "{}", view.html);
    assert!(
        view.html.contains(r#"<th scope="col">Priority</th>"#)
            && !view.html.contains(r#"<th scope="col">Requester</th>"#)
    );
    assert!(ada.get("/views/mine").await.html.contains(">Urgent <span"), "the view is in the navigation");
    let r = ada
        .post(
            "/views/new",
            &[("name", "Bad"), ("query", "status:finished"), ("columns", "subject"), ("sort", "-created")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.html.contains("&#39;finished&#39;") || r.html.contains("'finished'"),
        "the query's error by its field: {}",
        r.html
    );

    // Status and settings forms.
    let r = ada.post("/me/status", &[("status", "away"), ("back", "/views/open")]).await;
    assert_eq!(r.location, "/views/open");
    assert_eq!(app.store.agent_statuses().await.unwrap()[0].1, domain::AgentStatus::Away);
    let r = ada
        .post(
            "/me/password",
            &[
                ("current_password", "wrong"),
                ("new_password", "a long new password"),
                ("repeat", "a long new password"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("is not your current password"));
    let r = ada.post("/me/tokens", &[("name", "my script")]).await;
    assert!(r.html.contains(r#"<code class="secret">sbp_"#), "the new token is shown once");
    assert!(!ada.get("/me").await.html.contains(r#"<code class="secret">"#), "and never again");
    let r = ada.post("/me/preferences", &[("desktop", "on")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let prefs = app.store.preferences(ada_id).await.unwrap();
    assert!(prefs.desktop && prefs.alert_mail, "an agent is not asked about alert mail: {prefs:?}");
    assert!(!ada.get("/me").await.html.contains(r#"name="alert_mail""#));
    // A manager turns alert mail off, and on again.
    let maria = Browser::new(&app, maria_id).await;
    let page = maria.get("/me").await;
    assert!(page.html.contains(r#"name="alert_mail""#), "{} {}", page.status, page.html);
    maria.post("/me/preferences", &[("assigned_to_me", "on")]).await;
    assert!(!app.store.preferences(maria_id).await.unwrap().alert_mail);
    maria.post("/me/preferences", &[("alert_mail", "on")]).await;
    assert!(app.store.preferences(maria_id).await.unwrap().alert_mail);
}

async fn pages_keep_to_the_policy(app: TestApp) {
    let (ada_id, _) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let billing = team(&app.store, "Billing", None, &[ada_id]).await;
    let tech = team(&app.store, "Technical", None, &[]).await;
    let ada = Browser::new(&app, ada_id).await;
    let ours = app
        .ticket(
            json!({ "subject": "Refund for the printer", "body": "The printer was charged twice.", "team_id": billing.0,
            "requester": { "email": "cara@x.test", "name": "Cara Diaz" } }),
        )
        .await;
    let theirs = app
        .ticket(
            json!({ "subject": "Printer firmware secret", "body": "The printer was charged twice.", "team_id": tech.0,
            "requester": { "email": "cara@x.test" } }),
        )
        .await;

    // Search: the agent's own team only, matches marked.
    let r = ada.get("/search?q=printer+charged").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.html.contains("<mark>Printer</mark>") || r.html.contains("for the <mark>printer</mark>"), "{}", r.html);
    assert!(r.html.contains("<mark>charged</mark>"), "the snippet marks matches");
    assert!(!r.html.contains("firmware secret"), "another team's ticket never shows in search");
    let r = ada.get("/search?q=created%3Eyesterday").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a broken query is explained, not a 500");
    assert!(r.html.contains(r#"role="alert""#));
    // By URL, in the customer's tickets, in the frame endpoint: nothing.
    assert_eq!(ada.get(&format!("/tickets/{theirs}")).await.status, StatusCode::NOT_FOUND);
    let customer =
        app.get(&format!("/tickets/{ours}"), &app.admin).await.body["ticket"]["requester_id"].as_i64().unwrap();
    let profile = ada.get(&format!("/customers/{customer}")).await;
    assert!(
        profile.html.contains("Refund for the printer") && !profile.html.contains("firmware secret"),
        "{}",
        profile.html
    );
    let messages = app.get(&format!("/tickets/{theirs}"), &app.admin).await;
    let mid = messages.body["messages"][0]["id"].as_i64().unwrap();
    assert_eq!(ada.get(&format!("/tickets/{theirs}/messages/{mid}/html")).await.status, StatusCode::NOT_FOUND);
    // Bulk on a ticket out of sight: reported, not changed.
    let r = ada
        .post("/tickets/bulk", &[("ids", &theirs.to_string()), ("action", "status:solved"), ("back", "/views/open")])
        .await;
    assert!(r.location.contains("0+tickets+changed"), "{}", r.location);
    assert_eq!(app.get(&format!("/tickets/{theirs}"), &app.admin).await.body["ticket"]["status"], "new");

    // An email's HTML is framed under a policy of its own.
    let ours_mid = app.get(&format!("/tickets/{ours}"), &app.admin).await.body["messages"][0]["id"].as_i64().unwrap();
    let frame = ada.get(&format!("/tickets/{ours}/messages/{ours_mid}/html")).await;
    let csp = frame.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("sandbox") && csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'self'"),
        "{csp}"
    );
    let page = ada.get(&format!("/tickets/{ours}")).await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'")
    );

    // A form posted from another site is refused and changes nothing.
    let version = app.get(&format!("/tickets/{ours}"), &app.admin).await.body["ticket"]["version"].to_string();
    let form = [("body", "Sent by a forged form"), ("visibility", "public"), ("version", version.as_str())];
    let r = ada.post_from(&format!("/tickets/{ours}/reply"), &form, "https://evil.test").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = ada.post_from("/me/status", &[("status", "offline")], "https://evil.test").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let texts = app.get(&format!("/tickets/{ours}"), &app.admin).await.body["messages"].to_string();
    assert!(!texts.contains("forged"));

    // Customers, organizations: agents read, managers edit organizations.
    assert!(ada.get("/customers").await.html.contains("cara@x.test"));
    let r = ada.get("/customers?email=CARA@x.test").await;
    assert_eq!(r.location, format!("/customers/{customer}"));
    let r = ada
        .post(
            &format!("/customers/{customer}"),
            &[("name", "Cara D. Diaz"), ("email", "cara@x.test"), ("tier", "vip"), ("annual_value", "1200.50")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let c = app.store.customer(domain::CustomerId(customer)).await.unwrap().unwrap();
    assert_eq!((c.name.as_str(), c.tier, c.annual_value_cents), ("Cara D. Diaz", domain::Tier::Vip, Some(120_050)));
    let r =
        ada.post(&format!("/customers/{customer}"), &[("name", ""), ("email", "not-an-email"), ("tier", "vip")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!ada.get("/organizations").await.html.contains("New organization"), "agents do not create organizations");
    let r = ada.post("/organizations/new", &[("name", "Acme"), ("tier", "standard")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.html.contains("You may not see this page."), "{}", r.html);
    assert_eq!(ada.get("/admin").await.status, StatusCode::FORBIDDEN);
}

async fn admins_and_managers_configure(app: TestApp) {
    let (boss_id, _) = staff(&app.store, "boss@desk.test", Role::Admin, None).await;
    let (lead_id, _) = staff(&app.store, "lead@desk.test", Role::Manager, None).await;
    let (ada_id, _) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    let (bo_id, _) = staff(&app.store, "bo@desk.test", Role::Agent, None).await;
    let billing = team(&app.store, "Billing", Some(lead_id), &[ada_id]).await;
    team(&app.store, "Technical", None, &[bo_id]).await;
    let boss = Browser::new(&app, boss_id).await;
    let lead = Browser::new(&app, lead_id).await;

    // A manager sees the teams they lead and their people, and changes members.
    let teams = lead.get("/admin/teams").await;
    assert!(teams.html.contains("Billing") && !teams.html.contains("Technical"), "{}", teams.html);
    assert!(!teams.html.contains("New team"));
    let people = lead.get("/admin/users").await;
    assert!(people.html.contains("ada@desk.test") && !people.html.contains("bo@desk.test"));
    let r = lead
        .post(
            &format!("/admin/teams/{}", billing.0),
            &[("description", "Money"), ("member_ids", &ada_id.0.to_string()), ("member_ids", &bo_id.0.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert_eq!(app.store.team(billing).await.unwrap().unwrap().member_ids, vec![ada_id, bo_id]);
    assert_eq!(lead.get("/admin/mailboxes").await.status, StatusCode::FORBIDDEN);
    // Managers set up business hours and SLA policies.
    let r = lead
        .post("/admin/calendars", &[("name", "Office"), ("time_zone", "Europe/Berlin"), ("hours", "someday 9-5")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("is not like"), "{}", r.html);
    let r = lead
        .post(
            "/admin/calendars",
            &[
                ("name", "Office"),
                ("time_zone", "Europe/Berlin"),
                ("hours", "monday-friday 09:00-17:00"),
                ("holidays", "2026-12-25 Christmas"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let cal = app.store.calendars().await.unwrap().remove(0);
    assert_eq!((cal.hours.len(), cal.holidays[0].name.as_str()), (5, "Christmas"));
    let r = lead
        .post(
            "/admin/sla",
            &[
                ("name", "VIP"),
                ("position", "1"),
                ("active", "on"),
                ("tiers", "vip"),
                ("first_reply_minutes", "30"),
                ("first_reply_business", "on"),
                ("resolution_minutes", "abc"),
                ("calendar_id", &cal.id.0.to_string()),
                ("pause_on", "pending"),
                ("warn_percent", "80"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a bad number is named: {}", r.html);
    let r = lead
        .post(
            "/admin/sla",
            &[
                ("name", "VIP"),
                ("position", "1"),
                ("active", "on"),
                ("tiers", "vip"),
                ("first_reply_minutes", "30"),
                ("first_reply_business", "on"),
                ("calendar_id", &cal.id.0.to_string()),
                ("pause_on", "pending"),
                ("warn_percent", "80"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let p = app.store.sla_policies().await.unwrap().remove(0);
    assert_eq!(
        (p.conditions.tiers, p.targets.len(), p.warn_percent, p.calendar_id),
        (vec![domain::Tier::Vip], 1, 80, Some(cal.id))
    );
    assert!(lead.get("/admin/sla").await.html.contains("First reply 30 min (business)"));
    assert_eq!(lead.get("/admin/settings").await.status, StatusCode::FORBIDDEN);

    // An admin creates an account (its password shown once), a mailbox (its token
    // shown once), a field, a shared macro, and changes settings; bad input says why.
    let r = boss
        .post("/admin/users", &[("name", "Cy"), ("email", "cy@desk.test"), ("role", "agent"), ("password", "")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.html.contains(r#"<code class="secret">"#) && r.html.contains("cy@desk.test"), "{}", r.html);
    let r = boss
        .post("/admin/users", &[("name", "Cy"), ("email", "cy@desk.test"), ("role", "agent"), ("password", "")])
        .await;
    assert!(r.html.contains("already taken"), "a duplicate email is explained: {}", r.html);
    let r = boss
        .post(
            "/admin/mailboxes",
            &[("address", "help@desk.test"), ("name", "Help"), ("team_id", &billing.0.to_string())],
        )
        .await;
    assert!(r.html.contains(r#"<code class="secret">sbm_"#), "{}", r.html);
    let r = boss.post("/admin/fields", &[("label", "Order"), ("key", "Order Number"), ("kind", "number")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a bad key: {}", r.html);
    let r = boss.post("/admin/fields", &[("label", "Order"), ("key", "order_number"), ("kind", "number")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = boss
        .post(
            "/admin/macros",
            &[("name", "Thanks"), ("body", "Thanks {{ customer.first_name }}!"), ("public", "true"), ("active", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert!(boss.get("/admin/macros").await.html.contains("text only (canned response)"));
    let r = boss.post("/admin/settings", &[("helpdesk_name", "Acme Support"), ("time_zone", "Nowhere/City")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = boss.post("/admin/settings", &[("helpdesk_name", "Acme Support"), ("time_zone", "Europe/Berlin")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(lead.get("/views/mine").await.html.contains(r#"<p class="brand">Acme Support</p>"#));
}
