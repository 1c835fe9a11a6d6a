//! Voice of the customer over HTTP, with the node's worker running: a
//! solved ticket gets its CSAT invitation, the customer answers from the
//! link (one click, then the form), bad links and bad answers record
//! nothing, managers filter, summarise, review and follow up, unsubscribed
//! customers are not asked, and a webhook hears each rating.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, until_event};

on_both_backends!(customers_answer_surveys_and_managers_follow_up);

async fn page(http: &reqwest::Client, url: &str, form: Option<&[(&str, &str)]>) -> (StatusCode, String) {
    let r = match form {
        Some(f) => http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(f).unwrap())
            .send()
            .await
            .unwrap(),
        None => http.get(url).send().await.unwrap(),
    };
    (r.status(), r.text().await.unwrap())
}

/// A receiver for the webhook: each body it was sent.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let h = heard.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::Json<Value>| {
            let h = h.clone();
            async move {
                h.lock().unwrap().push(body.0);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, heard)
}

async fn solve(app: &TestApp, id: i64) {
    let r = app.patch(&format!("/tickets/{id}"), &app.admin, json!({ "status": "solved" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn customers_answer_surveys_and_managers_follow_up(app: TestApp) {
    let put = |path: &str, body: Value| {
        let rb = app.request(Method::PUT, path, &app.admin).json(&body);
        TestApp::send(rb)
    };
    // Bad settings are refused, field by field.
    let r = put("/settings/surveys", json!({ "csat_delay_minutes": -5, "link_valid_days": 0 })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let fields = r.body["error"]["details"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("csat_delay_minutes") && fields.contains_key("link_valid_days"), "{}", r.body);
    let r = put(
        "/settings/surveys",
        json!({ "csat_delay_minutes": 0, "csat_scale": "good_bad", "ces_enabled": true,
                "csat_body": "Hi {{ customer.first_name }}, how did we do on {{ ticket.subject }}?\n{{ survey.choices }}" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // A webhook for ratings, pointed at a receiver; a bad URL is refused.
    let (hook_url, heard) = receiver().await;
    let r = app
        .post("/webhooks", &app.admin, json!({ "name": "x", "kind": "generic", "url": "ftp://x", "events": ["nope"] }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app
        .post(
            "/webhooks",
            &app.admin,
            json!({ "name": "Ratings", "kind": "generic", "url": hook_url, "events": ["rating.received"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body["secret"].as_str().unwrap().starts_with("whsec_"));
    let hook_id = r.body["id"].as_i64().unwrap();

    // Solving a ticket sends the invitation: a public message with one link per score.
    let id = app
        .ticket(json!({ "subject": "Printer on fire", "body": "Help", "channel": "web",
                        "requester": { "email": "ann.lee@x.test", "name": "Ann Lee" } }))
        .await;
    solve(&app, id).await;
    let view = until_event(&app, id, "survey_sent").await;
    let invitation =
        view["messages"].as_array().unwrap().iter().find(|m| m["metadata"]["survey_invitation_id"].is_i64()).unwrap();
    let text = invitation["body_text"].as_str().unwrap();
    assert!(text.starts_with("Hi Ann, how did we do on Printer on fire?"), "{text}");
    assert_eq!(invitation["visibility"], "public");
    let bad_link = text.lines().find(|l| l.starts_with("Bad")).unwrap().rsplit(' ').next().unwrap().to_string();
    assert!(bad_link.starts_with(&format!("{}/survey/", app.base)) && bad_link.ends_with("?score=0"), "{bad_link}");
    let link = bad_link.trim_end_matches("?score=0").to_string();

    // One click records the score.
    let http = reqwest::Client::new();
    let (status, html) = page(&http, &bad_link, None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Your rating was saved"), "{html}");
    let list = app.get(&format!("/feedback?ticket_id={id}"), &app.admin).await;
    let f = &list.body["feedback"][0];
    assert_eq!(
        (f["score"].as_i64(), f["rating"].as_str(), f["kind"].as_str()),
        (Some(0), Some("bad"), Some("csat")),
        "{}",
        list.body
    );
    until_event(&app, id, "satisfaction_received").await;

    // Bad answers are shown back with their messages, and change nothing.
    let (status, html) = page(&http, &format!("{link}?score=7"), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("The rating must be from 0 to 1."), "{html}");
    let huge = "a".repeat(5_001);
    let (status, html) = page(&http, &link, Some(&[("score", "1"), ("comment", &huge)])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("The comment is longer than 5000 characters."), "{html}");
    let (status, _) = page(&http, &link, Some(&[("score", "1"), ("reason", "made_up")])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get(&format!("/feedback?ticket_id={id}"), &app.admin).await.body["feedback"][0]["score"], 0);

    // Answering again on the form updates the answer, with a reason, a comment and CES.
    let (status, html) = page(
        &http,
        &link,
        Some(&[
            ("score", "1"),
            ("reason", "slow"),
            ("comment", "Slow at first, but the agent was great. Thanks!"),
            ("ces", "6"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Your answer was saved"));
    let list = app.get(&format!("/feedback?ticket_id={id}&kind=csat"), &app.admin).await;
    assert_eq!(list.body["feedback"].as_array().unwrap().len(), 1, "one answer per invitation");
    let f = list.body["feedback"][0].clone();
    assert_eq!(
        (f["score"].as_i64(), f["rating"].as_str(), f["reason"].as_str()),
        (Some(1), Some("good"), Some("slow"))
    );
    assert!(f["sentiment"].as_f64().unwrap() > 0.3, "{f}");
    let ces = app.get(&format!("/feedback?ticket_id={id}&kind=ces"), &app.admin).await;
    assert_eq!(ces.body["feedback"][0]["score"], 6, "{}", ces.body);

    // Forged, expired and misplaced links: a clear page, nothing recorded.
    let mut forged = link.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let (status, html) = page(&http, &format!("{forged}?score=0"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("This survey link is not valid"), "{html}");
    let secret = app.store.instance_secret("survey_token", "unused").await.unwrap();
    let inv = domain::SurveyInvitationId(f["invitation_id"].as_i64().unwrap());
    let expired = domain::survey::sign(&secret, inv, Some(domain::TicketId(id)), crate::support::now() - 1_000);
    let (status, html) = page(&http, &format!("{}/survey/{expired}?score=0", app.base), None).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("expired"), "{html}");
    let other = domain::survey::sign(&secret, inv, Some(domain::TicketId(id + 1000)), crate::support::now() + 60_000);
    let (status, _) = page(&http, &format!("{}/survey/{other}?score=0", app.base), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a link signed for another ticket");
    let (status, _) = page(&http, &format!("{}/survey/garbage", app.base), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get(&format!("/feedback?ticket_id={id}&kind=csat"), &app.admin).await.body["feedback"][0]["score"],
        1
    );

    // The manager's view: filters, the summary, review and follow-up.
    let bad = app.get("/feedback?rating=bad", &app.admin).await;
    assert!(bad.body["feedback"].as_array().unwrap().is_empty());
    let commented = app.get("/feedback?with_comment=true&kind=csat", &app.admin).await;
    assert_eq!(commented.body["feedback"].as_array().unwrap().len(), 1);
    let r = app.get("/feedback?rating=awful", &app.admin).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let s = app.get("/feedback/summary", &app.admin).await;
    assert_eq!((s.body["csat"]["good"].as_i64(), s.body["csat"]["csat"].as_f64()), (Some(1), Some(1.0)), "{}", s.body);
    assert_eq!(s.body["ces"]["ces"], 6.0);
    assert_eq!(
        (s.body["csat_responses"]["sent"].as_i64(), s.body["csat_responses"]["answered"].as_i64()),
        (Some(1), Some(1))
    );
    let fid = f["id"].as_i64().unwrap();
    let r = app.post(&format!("/feedback/{fid}/review"), &app.admin, json!({ "note": "" })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.post(&format!("/feedback/{fid}/review"), &app.admin, json!({ "note": "Called Ann; fine now" })).await;
    assert_eq!(
        (r.status, r.body["review_note"].as_str()),
        (StatusCode::OK, Some("Called Ann; fine now")),
        "{}",
        r.body
    );
    assert!(
        app.get("/feedback?reviewed=false&kind=csat", &app.admin).await.body["feedback"].as_array().unwrap().is_empty()
    );
    let r = app.post(&format!("/feedback/{fid}/follow-up"), &app.admin, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let follow = app.get(&format!("/tickets/{}", r.body["ticket_id"]), &app.admin).await;
    assert_eq!(follow.body["ticket"]["tags"], json!(["feedback-follow-up"]));
    assert_eq!(follow.body["ticket"]["requester_id"], view["ticket"]["requester_id"]);

    // The same from the pages: the inbox, the answer, the ticket and the customer.
    let (admin_id, _) = crate::support::staff(&app.store, "lead@support.test", domain::Role::Manager, None).await;
    let browser = crate::support::Browser::new(&app, admin_id).await;
    let inbox = browser.get("/feedback?kind=csat&with_comment=on").await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.html);
    assert!(
        inbox.html.contains("Slow at first, but the agent was great.") && inbox.html.contains("100% of 1 answers"),
        "{}",
        inbox.html
    );
    let none = browser.get("/feedback?rating=bad&days=7").await;
    assert!(none.html.contains("No answers match."));
    let one = browser.get(&format!("/feedback/{fid}")).await;
    assert!(one.html.contains("Called Ann; fine now") && one.html.contains("Open a follow-up ticket"), "{}", one.html);
    let r = browser.post(&format!("/feedback/{fid}/review"), &[("note", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "an empty note comes back with its message");
    let r = browser.post(&format!("/feedback/{fid}/review"), &[("note", "Sent a voucher")]).await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (StatusCode::SEE_OTHER, format!("/feedback/{fid}?notice=Marked+reviewed.").as_str())
    );
    let r = browser.post(&format!("/feedback/{fid}/share"), &[("note", "nothing chosen")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (agent, agent_token) =
        crate::support::staff(&app.store, "agent.ann@support.test", domain::Role::Agent, None).await;
    let r = browser
        .post(&format!("/feedback/{fid}/share"), &[("user_ids", &agent.0.to_string()), ("note", "Well done")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let notes = app.get("/me/notifications", &crate::support::Auth::Token(agent_token)).await;
    assert!(notes.body.to_string().contains("shared a CSAT answer (good, 1): “Slow at first"), "{}", notes.body);
    let ticket_page = browser.get(&format!("/tickets/{id}")).await;
    assert!(ticket_page.html.contains("CSAT good (1), slow: “Slow at first"), "{}", ticket_page.html);
    let customer_id = view["ticket"]["requester_id"].as_i64().unwrap();
    let profile = browser.get(&format!("/customers/{customer_id}")).await;
    assert!(profile.html.contains("<h2>Feedback</h2>") && profile.html.contains("CES"), "{}", profile.html);

    // The webhook heard each rating, newest last.
    for _ in 0..200 {
        if heard.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let bodies = heard.lock().unwrap().clone();
    assert!(bodies.iter().all(|b| b["event"] == "rating.received"));
    assert!(bodies.iter().any(|b| b["data"]["feedback"]["kind"] == "ces"));
    let deliveries = app.get(&format!("/webhooks/{hook_id}/deliveries"), &app.admin).await;
    assert!(
        deliveries.body["deliveries"].as_array().unwrap().iter().all(|d| d["status_code"] == 200),
        "{}",
        deliveries.body
    );

    // Unsubscribing from the link: the customer's next solved ticket is not asked.
    let (status, html) = page(&http, &format!("{link}/unsubscribe"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Stop sending me surveys"));
    let (status, _) = page(&http, &format!("{link}/unsubscribe"), Some(&[])).await;
    assert_eq!(status, StatusCode::OK);
    let customer = view["ticket"]["requester_id"].as_i64().unwrap();
    let sub = app.get(&format!("/customers/{customer}/surveys"), &app.admin).await;
    assert_eq!(sub.body["unsubscribed"], true, "{}", sub.body);
    let second =
        app.ticket(json!({ "subject": "Second", "body": "Again", "channel": "web", "requester_id": customer })).await;
    solve(&app, second).await;
    until_job_done(&app, second).await;
    let events = app.get(&format!("/tickets/{second}"), &app.admin).await.body["events"].clone();
    assert!(!events.as_array().unwrap().iter().any(|e| e["kind"] == "survey_sent"), "{events}");
}

/// Waits until the ticket's survey job has run.
async fn until_job_done(app: &TestApp, ticket: i64) {
    for _ in 0..300 {
        let done = app
            .store
            .jobs(Some(domain::JobStatus::Done), store::PageRequest { after: None, limit: 200 })
            .await
            .unwrap();
        if done.items.iter().any(|j| j.kind == "survey.send" && j.payload["ticket_id"] == ticket) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("the survey job of #{ticket} never ran");
}

/// Stores tickets with these subjects at `at` (history the API cannot make).
async fn history(app: &TestApp, customer: domain::CustomerId, subjects: &[(&str, i64)]) {
    let batch = subjects
        .iter()
        .map(|(subject, at)| {
            let (ticket, events) = domain::lifecycle::open_ticket(
                domain::lifecycle::NewTicket {
                    subject: subject.to_string(),
                    status: None,
                    priority: domain::Priority::Normal,
                    ticket_type: domain::TicketType::Question,
                    channel: domain::Channel::Email,
                    requester_id: customer,
                    organization_id: None,
                    assignee_id: None,
                    team_id: None,
                    tags: if subject.to_lowercase().contains("invoice") { vec!["billing".into()] } else { vec![] },
                    custom_fields: Default::default(),
                    problem_id: None,
                    follow_up_of: None,
                },
                domain::Actor::system(),
                *at,
            )
            .unwrap();
            store::TicketCreate { ticket, events, messages: vec![], new_requester: None }
        })
        .collect();
    app.store.import_tickets(batch).await.unwrap();
}

on_both_backends!(insights_find_topics_spikes_and_the_digest_reaches_slack_and_mail);

async fn insights_find_topics_spikes_and_the_digest_reaches_slack_and_mail(app: TestApp) {
    let (customer, _) = crate::support::customer(&app.store, "buyer@x.test", None).await;
    // Five weeks: a steady trickle about invoices and exports, then three days of export trouble.
    let now = crate::support::now();
    let day = 86_400_000;
    let mut subjects: Vec<(String, i64)> = Vec::new();
    for d in (0..35).rev() {
        let at = now - d * day - 60_000;
        subjects.push(("Wrong amount on my invoice".into(), at));
        subjects.push(("Invoice missing VAT number".into(), at));
        let exports = if d < 3 { 12 } else { 1 };
        for n in 0..exports {
            subjects.push((format!("CSV export fails again ({n})"), at - n * 1000));
        }
        if d % 5 == 0 {
            subjects.push(("Password reset mail never arrives".into(), at));
        }
    }
    let refs: Vec<(&str, i64)> = subjects.iter().map(|(s, a)| (s.as_str(), *a)).collect();
    history(&app, customer, &refs).await;

    let r = app.get("/insights?days=35", &app.admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let found = r.body["suggested"].as_array().unwrap();
    let export = found.iter().find(|t| t["terms"].as_array().unwrap().contains(&json!("export"))).unwrap();
    let spike = &export["spike"];
    assert_eq!(spike["days"], 3, "{export}");
    assert!(
        spike["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("A spike in tickets about {} since ", export["name"].as_str().unwrap())),
        "{spike}"
    );
    assert!(spike["ratio"].as_f64().unwrap() > 8.0, "{spike}");
    let invoice = found.iter().find(|t| t["terms"].as_array().unwrap().contains(&json!("invoic"))).unwrap();
    assert!(invoice["spike"].is_null(), "steady volume is no spike: {invoice}");
    assert_eq!(app.get("/insights?days=3", &app.admin).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The manager names topics, maps one to a tag, and merges two.
    let put = |body: Value| TestApp::send(app.request(Method::PUT, "/insights/topics", &app.admin).json(&body));
    let r = put(json!({ "topics": [{ "name": "", "terms": [] }] })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = put(json!({ "topics": [
        { "name": "Export", "terms": ["exports"] },
        { "name": "CSV", "terms": ["csv"] },
        { "name": "Billing", "terms": [], "tag": "billing" }
    ] }))
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post("/insights/topics/merge", &app.admin, json!({ "topics": ["Export", "CSV"], "name": "Export feature" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let names: Vec<&str> = r.body["topics"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Billing", "Export feature"]);
    let r = app.get("/insights?days=35", &app.admin).await;
    let topics = r.body["topics"].as_array().unwrap();
    let export = topics.iter().find(|t| t["name"] == "Export feature").unwrap();
    assert_eq!(export["tickets"], 32 + 36, "{export}");
    assert_eq!(export["csat_weekly"], json!([null, null, null, null, null]), "five weeks, no answers yet");
    assert!(export["spike"]["text"].as_str().unwrap().contains("Export feature since"));
    let billing = topics.iter().find(|t| t["name"] == "Billing").unwrap();
    assert_eq!(billing["tickets"], 70, "by its tag: {billing}");

    // The insights page: a chart per topic with its numbers, the spike named.
    let (lead, _) = crate::support::staff(&app.store, "lead@support.test", domain::Role::Manager, None).await;
    let browser = crate::support::Browser::new(&app, lead).await;
    let page = browser.get("/insights?days=35").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("<svg class=\"chart\"") && page.html.contains("bar spike"), "{}", page.html);
    assert!(page.html.contains("A spike in tickets about Export feature since"), "{}", page.html);
    assert!(page.html.contains("<summary>The numbers</summary>"));
    let r = browser.post("/insights", &[("terms", "password,password reset"), ("name", "Billing"), ("tag", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a name already used comes back");
    let r =
        browser.post("/insights", &[("terms", "password,password reset"), ("name", "Sign-in"), ("tag", "login")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let topics = app.get("/insights/topics", &app.admin).await;
    assert_eq!(
        topics.body["topics"][2],
        json!({ "name": "Sign-in", "terms": ["password", "password reset"], "tag": "login" })
    );

    // The daily check tells managers of the spike once, however long it lasts.
    let (_, lead_token) = crate::support::staff(&app.store, "head@support.test", domain::Role::Manager, None).await;
    let lead_auth = crate::support::Auth::Token(lead_token);
    for _ in 0..2 {
        let found = jobs::digest::check_spikes(app.store.as_ref(), crate::support::now()).await.unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
    }
    let notes = app.get("/me/notifications", &lead_auth).await;
    let spikes: Vec<&Value> =
        notes.body["notifications"].as_array().unwrap().iter().filter(|n| n["kind"] == "spike").collect();
    assert_eq!(spikes.len(), 1, "{}", notes.body);
    assert!(spikes[0]["text"].as_str().unwrap().starts_with("A spike in tickets about Export feature since"));
    // The cockpit's alerts show it too.
    let cockpit = app.get("/kpis?days=7", &lead_auth).await;
    let alerts = cockpit.body["alerts"].as_array().unwrap();
    let spike = alerts.iter().find(|a| a["kind"] == "volume_spike").expect("the spike among the alerts");
    assert_eq!(
        (spike["subject"].as_str(), spike["text"].clone()),
        (Some("topic:Export feature"), spikes[0]["text"].clone())
    );

    // The export for other departments.
    let csv = app.http.get(app.url("/insights.csv?days=35")).bearer_auth(token(&app)).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("topic,kind,tickets,"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("Export feature,defined,68,")), "{text}");

    // The digest: to a Slack hook (a local receiver) and by mail.
    let (url, heard) = receiver().await;
    let r = app
        .post(
            "/webhooks",
            &app.admin,
            json!({ "name": "Digest", "kind": "slack", "url": url, "events": ["digest.weekly"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = TestApp::send(
        app.request(Method::PUT, "/settings/digest", &app.admin).json(&json!({ "recipients": ["not-mail"] })),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The digest reads the KPI rollup; imported history is measured by a rebuild.
    jobs::kpi::rebuild(app.store.as_ref(), |_| {}).await.unwrap();
    let r = app.post("/digest/send", &app.admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Seven days: 14 about invoices, 36 + 4 about exports, 2 about passwords.
    assert_eq!(r.body["digest"]["this_week"]["created"], 14 + 40 + 2, "{}", r.body["digest"]);
    for _ in 0..200 {
        if !heard.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let slack = heard.lock().unwrap().clone();
    let text = slack[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Weekly support digest\n*Weekly support digest*\n• Tickets created: 56 (last week 22)"),
        "{text}"
    );
    assert!(text.contains("Top topics: Export feature (40)"), "{text}");
    assert!(text.contains("Up most: Export feature 7→40"), "{text}");
}

fn token(app: &TestApp) -> String {
    match &app.admin {
        crate::support::Auth::Token(t) => t.clone(),
        _ => unreachable!(),
    }
}

/// The digest mailed through a real SMTP server to the chosen people.
async fn digest_by_mail(backend: crate::support::Backend) {
    let Some(sink) = crate::smtp_sink::SmtpSink::start().await else { return };
    let url = sink.url.clone();
    let Some(app) = crate::support::spawn_with(backend, |s| s.smtp_url = Some(url)).await else {
        eprintln!("skipped: SWITCHBOARD_TEST_PG is not set");
        return;
    };
    let body = json!({ "recipients": ["Head@Support.test", "cfo@x.test"] });
    let r = TestApp::send(app.request(Method::PUT, "/settings/digest", &app.admin).json(&body)).await;
    assert_eq!((r.status, &r.body["recipients"]), (StatusCode::OK, &json!(["head@support.test", "cfo@x.test"])));
    app.ticket(json!({ "subject": "Export to CSV fails", "body": "x", "requester": { "email": "a@x.test" } })).await;
    // The node's worker measures the new ticket for the KPIs the digest reads.
    for _ in 0..300 {
        if app.get("/digest", &app.admin).await.body["this_week"]["created"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = app.post("/digest/send", &app.admin, json!({})).await;
    assert_eq!((r.status, r.body["mailed"].as_i64()), (StatusCode::OK, Some(2)), "{}", r.body);
    let mail = sink.wait_for(1).await;
    assert_eq!(crate::smtp_sink::header(&mail[0], "Subject"), "Weekly support digest");
    assert!(mail[0].contains("Tickets created: 1 (last week 0)"), "{}", mail[0]);
    assert!(crate::smtp_sink::header(&mail[0], "To").contains("cfo@x.test"));
}

mod digest_by_mail {
    use crate::support::Backend;

    #[tokio::test]
    async fn sqlite() {
        super::digest_by_mail(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn pg() {
        super::digest_by_mail(Backend::Pg).await;
    }
}

on_both_backends!(agents_answer_the_pulse_anonymously);

async fn agents_answer_the_pulse_anonymously(app: TestApp) {
    let r = app.post("/pulse", &app.admin, json!({ "name": "", "days": 0 })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(
            "/pulse",
            &app.admin,
            json!({ "name": "December pulse", "questions": ["I have the tools I need", "My workload is fair"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    let mut agents = Vec::new();
    for n in 0..6 {
        let (_, token) =
            crate::support::staff(&app.store, &format!("agent{n}@support.test"), domain::Role::Agent, None).await;
        agents.push(crate::support::Auth::Token(token));
    }
    let path = format!("/pulse/{id}/answers");
    let r = app.post(&path, &agents[0], json!({ "enps": 11, "scores": [3] })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for (n, (enps, scores)) in [(10, [5, 4]), (9, [4, 4]), (9, [5, 3]), (8, [3, 2])].iter().enumerate() {
        let r = app.post(&path, &agents[n], json!({ "enps": enps, "scores": scores })).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    }
    let again = app.post(&path, &agents[0], json!({ "enps": 0, "scores": [1, 1] })).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "already_answered"));
    let list = app.get("/pulse", &agents[0]).await;
    assert_eq!(
        (list.body["pulses"][0]["answered"].as_bool(), list.body["pulses"][0]["open"].as_bool()),
        (Some(true), Some(true))
    );
    // Four answers: nothing is shown; agents cannot see results at all.
    let r = app.get(&format!("/pulse/{id}/results"), &app.admin).await;
    assert_eq!(
        (r.body["answers"].as_i64(), r.body["shown"].as_bool(), &r.body["enps"]),
        (Some(4), Some(false), &Value::Null)
    );
    assert_eq!(app.get(&format!("/pulse/{id}/results"), &agents[0]).await.status, StatusCode::FORBIDDEN);
    let r = app.post(&path, &agents[4], json!({ "enps": 3, "scores": [2, 1], "comment": "Too many tickets" })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // Five: promoters 3, detractors 1 → eNPS (3 − 1) ÷ 5 = 40.
    let r = app.get(&format!("/pulse/{id}/results"), &app.admin).await;
    assert_eq!((r.body["shown"].as_bool(), r.body["enps"].as_f64()), (Some(true), Some(40.0)), "{}", r.body);
    assert_eq!(r.body["statement_means"], json!([3.8, 2.8]));
    assert_eq!(r.body["comments"], json!(["Too many tickets"]));
    assert!(r.body.get("user_id").is_none() && !r.body.to_string().contains("agent4"));
    // The cockpit shows the eNPS beside CSAT, NPS and CES.
    let k = app.get("/kpis?days=7", &app.admin).await;
    assert_eq!(
        (k.body["enps"]["enps"].as_f64(), k.body["enps"]["answers"].as_i64()),
        (Some(40.0), Some(5)),
        "{}",
        k.body["enps"]
    );
}

on_both_backends!(admins_set_surveys_topics_and_hooks_from_pages);

async fn admins_set_surveys_topics_and_hooks_from_pages(app: TestApp) {
    let (admin, _) = crate::support::staff(&app.store, "boss@support.test", domain::Role::Admin, None).await;
    // Made first: pages read staff from a short-lived cache.
    let (lead, _) = crate::support::staff(&app.store, "mgr@support.test", domain::Role::Manager, None).await;
    let browser = crate::support::Browser::new(&app, admin).await;
    let page = browser.get("/admin/feedback").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("csat_delay_minutes") && page.html.contains("Add a hook"));
    // A bad document comes back with its message; a good one is saved as the API would.
    let r = browser.post("/admin/feedback/surveys", &[("document", r#"{"link_valid_days": 0}"#)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("link_valid_days: must be from 1 to 365"), "{}", r.html);
    let r = browser
        .post("/admin/feedback/surveys", &[("document", r#"{"csat_delay_minutes": 5, "nps_enabled": true}"#)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let s = app.get("/settings/surveys", &app.admin).await;
    assert_eq!((s.body["csat_delay_minutes"].as_i64(), s.body["nps_enabled"].as_bool()), (Some(5), Some(true)));
    let r = browser
        .post(
            "/admin/feedback/topics",
            &[("document", r#"[{"name": "Export", "terms": ["export", "csv"], "tag": "export"}]"#)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert_eq!(app.get("/insights/topics", &app.admin).await.body["topics"][0]["tag"], "export");
    let r = browser.post("/admin/feedback/topics", &[("document", "not json")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A hook from the page, its log, switching it off and on.
    let r = browser
        .post(
            "/admin/webhooks",
            &[
                ("name", "Feedback"),
                ("kind", "slack"),
                ("url", "http://hooks.example/x"),
                ("events", "rating.received"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "Slack URLs are https");
    let r = browser
        .post(
            "/admin/webhooks",
            &[
                ("name", "Feedback"),
                ("kind", "generic"),
                ("url", "https://hooks.example/x"),
                ("events", "rating.received"),
                ("events", "spike.detected"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert!(r.location.contains("signing+secret"), "{}", r.location);
    let hooks = app.get("/webhooks", &app.admin).await;
    let id = hooks.body["webhooks"][0]["id"].as_i64().unwrap();
    assert_eq!(hooks.body["webhooks"][0]["events"], json!(["rating.received", "spike.detected"]));
    let hook = browser.get(&format!("/admin/webhooks/{id}")).await;
    assert!(hook.html.contains("Nothing delivered yet.") && hook.html.contains("Switch off"));
    let r = browser.post(&format!("/admin/webhooks/{id}"), &[("active", "false")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/webhooks/{id}"), &app.admin).await.body["active"], false);
    // Managers set surveys and topics, but not hooks.
    let manager = crate::support::Browser::new(&app, lead).await;
    let page = manager.get("/admin/feedback").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(!page.html.contains("Add a hook"));
    assert_eq!(manager.get(&format!("/admin/webhooks/{id}")).await.status, StatusCode::FORBIDDEN);
}
