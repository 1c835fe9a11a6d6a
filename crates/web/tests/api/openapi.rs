//! The OpenAPI document is generated from the routes, and every route in it
//! answers.

use reqwest::{Method, StatusCode};

use crate::support::{Auth, TestApp};

on_both_backends!(every_route_is_documented_and_answers);

/// Every endpoint the API serves, by method and path.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/auth/password"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/tickets"),
    ("post", "/api/v1/tickets"),
    ("get", "/api/v1/tickets/{id}"),
    ("patch", "/api/v1/tickets/{id}"),
    ("post", "/api/v1/tickets/{id}/messages"),
    ("post", "/api/v1/tickets/{id}/merge"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/customers"),
    ("post", "/api/v1/customers"),
    ("get", "/api/v1/customers/{id}"),
    ("patch", "/api/v1/customers/{id}"),
    ("get", "/api/v1/organizations"),
    ("post", "/api/v1/organizations"),
    ("get", "/api/v1/organizations/{id}"),
    ("patch", "/api/v1/organizations/{id}"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/{id}"),
    ("patch", "/api/v1/users/{id}"),
    ("get", "/api/v1/teams"),
    ("post", "/api/v1/teams"),
    ("get", "/api/v1/teams/{id}"),
    ("patch", "/api/v1/teams/{id}"),
    ("get", "/api/v1/fields"),
    ("post", "/api/v1/fields"),
    ("patch", "/api/v1/fields/{id}"),
    ("post", "/api/v1/attachments"),
    ("get", "/api/v1/attachments/{id}"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/stream"),
    ("get", "/api/v1/tickets/{id}/messages/{message_id}/original.eml"),
    ("get", "/api/v1/mailboxes"),
    ("post", "/api/v1/mailboxes"),
    ("get", "/api/v1/mailboxes/{id}"),
    ("patch", "/api/v1/mailboxes/{id}"),
    ("post", "/api/v1/mailboxes/{id}/token"),
    ("post", "/api/v1/inbound/email"),
    ("get", "/api/v1/mail/quarantine"),
    ("get", "/api/v1/mail/quarantine/{id}"),
    ("get", "/api/v1/mail/quarantine/{id}/original.eml"),
    ("post", "/api/v1/mail/quarantine/{id}/retry"),
    ("get", "/api/v1/mail/outbox"),
    ("get", "/api/v1/mailboxes/{id}/fetch"),
    ("get", "/api/v1/me/status"),
    ("put", "/api/v1/me/status"),
    ("get", "/api/v1/me/preferences"),
    ("put", "/api/v1/me/preferences"),
    ("get", "/api/v1/macros"),
    ("post", "/api/v1/macros"),
    ("get", "/api/v1/macros/{id}"),
    ("patch", "/api/v1/macros/{id}"),
    ("delete", "/api/v1/macros/{id}"),
    ("post", "/api/v1/tickets/{id}/macros/{macro_id}"),
    ("post", "/api/v1/tickets/bulk"),
    ("post", "/api/v1/tickets/{id}/presence"),
    ("delete", "/api/v1/tickets/{id}/presence"),
    ("get", "/api/v1/views"),
    ("post", "/api/v1/views"),
    ("get", "/api/v1/views/counts"),
    ("get", "/api/v1/views/{id}"),
    ("patch", "/api/v1/views/{id}"),
    ("delete", "/api/v1/views/{id}"),
    ("get", "/api/v1/settings"),
    ("put", "/api/v1/settings"),
    ("get", "/api/v1/jobs"),
    ("post", "/api/v1/jobs"),
    ("get", "/api/v1/jobs/{id}"),
    ("post", "/api/v1/jobs/{id}/retry"),
    ("get", "/api/v1/calendars"),
    ("post", "/api/v1/calendars"),
    ("get", "/api/v1/calendars/{id}"),
    ("put", "/api/v1/calendars/{id}"),
    ("get", "/api/v1/sla/policies"),
    ("post", "/api/v1/sla/policies"),
    ("get", "/api/v1/sla/policies/{id}"),
    ("put", "/api/v1/sla/policies/{id}"),
    ("delete", "/api/v1/sla/policies/{id}"),
    ("get", "/api/v1/tickets/{id}/sla"),
    ("get", "/api/v1/triggers"),
    ("post", "/api/v1/triggers"),
    ("get", "/api/v1/triggers/{id}"),
    ("put", "/api/v1/triggers/{id}"),
    ("delete", "/api/v1/triggers/{id}"),
    ("get", "/api/v1/automations"),
    ("post", "/api/v1/automations"),
    ("get", "/api/v1/automations/{id}"),
    ("put", "/api/v1/automations/{id}"),
    ("delete", "/api/v1/automations/{id}"),
    ("get", "/api/v1/routing/rules"),
    ("post", "/api/v1/routing/rules"),
    ("put", "/api/v1/routing/rules/{id}"),
    ("delete", "/api/v1/routing/rules/{id}"),
    ("get", "/api/v1/teams/{id}/routing"),
    ("put", "/api/v1/teams/{id}/routing"),
    ("get", "/api/v1/users/{id}/routing"),
    ("put", "/api/v1/users/{id}/routing"),
    ("get", "/api/v1/settings/priority-matrix"),
    ("put", "/api/v1/settings/priority-matrix"),
    ("get", "/api/v1/settings/escalation-rules"),
    ("put", "/api/v1/settings/escalation-rules"),
    ("get", "/api/v1/settings/approval-limits"),
    ("put", "/api/v1/settings/approval-limits"),
    ("get", "/api/v1/settings/surge-rules"),
    ("put", "/api/v1/settings/surge-rules"),
    ("post", "/api/v1/tickets/{id}/escalations"),
    ("get", "/api/v1/escalations"),
    ("post", "/api/v1/escalations/{id}/resolve"),
    ("post", "/api/v1/tickets/{id}/approvals"),
    ("get", "/api/v1/approvals"),
    ("get", "/api/v1/approvals.csv"),
    ("post", "/api/v1/approvals/{id}/decision"),
    ("get", "/api/v1/incidents"),
    ("put", "/api/v1/tickets/{id}/major-incident"),
    ("post", "/api/v1/incidents/{id}/link"),
    ("post", "/api/v1/incidents/{id}/solve"),
    ("get", "/api/v1/incidents/surges"),
    ("get", "/api/v1/me/notifications"),
    ("post", "/api/v1/me/notifications/read"),
    ("get", "/api/v1/tickets/{id}/priority"),
    ("get", "/api/v1/feedback"),
    ("get", "/api/v1/feedback/summary"),
    ("get", "/api/v1/feedback/{id}"),
    ("post", "/api/v1/feedback/{id}/review"),
    ("post", "/api/v1/feedback/{id}/follow-up"),
    ("get", "/api/v1/settings/surveys"),
    ("put", "/api/v1/settings/surveys"),
    ("get", "/api/v1/customers/{id}/surveys"),
    ("put", "/api/v1/customers/{id}/surveys"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks/{id}"),
    ("put", "/api/v1/webhooks/{id}"),
    ("delete", "/api/v1/webhooks/{id}"),
    ("get", "/api/v1/webhooks/{id}/deliveries"),
    ("get", "/api/v1/insights"),
    ("get", "/api/v1/insights.csv"),
    ("get", "/api/v1/insights/topics"),
    ("put", "/api/v1/insights/topics"),
    ("post", "/api/v1/insights/topics/merge"),
    ("get", "/api/v1/digest"),
    ("post", "/api/v1/digest/send"),
    ("get", "/api/v1/settings/digest"),
    ("put", "/api/v1/settings/digest"),
];

async fn every_route_is_documented_and_answers(app: TestApp) {
    let doc: serde_json::Value =
        app.http.get(format!("{}/api/v1/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["info"]["title"], "Switchboard API");
    let paths = doc["paths"].as_object().unwrap();
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, ROUTES.len(), "the document lists exactly the served routes");
    for (method, path) in ROUTES {
        assert!(paths.get(*path).and_then(|p| p.get(*method)).is_some(), "{method} {path} is not documented");
        // The route exists: whatever it answers, it is not "no such route" or 405.
        let url = format!("{}{}", app.base, path.replace("{id}", "1").replace("{macro_id}", "1"));
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        if *path == "/api/v1/stream" {
            continue;
        }
        let mut rb = app.http.request(m, &url);
        if let Auth::Token(t) = &app.admin {
            rb = rb.bearer_auth(t);
        }
        let r = TestApp::send(rb.header("content-type", "application/json").body("{}")).await;
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_ne!(r.code(), "no_route", "{method} {path}");
    }
}
