//! The workspace's pages over HTTP: sign-in (and its wrong-password and
//! staff-only answers), the built-in views within what the agent may see,
//! escaping, security headers, sign-out.

use domain::Role;
use reqwest::StatusCode;
use serde_json::json;
use store::PrincipalRef;

use crate::support::{TestApp, staff, team};

on_both_backends!(agents_sign_in_and_see_their_views);

const PASSWORD: &str = "correct horse battery";

async fn agents_sign_in_and_see_their_views(app: TestApp) {
    let (agent, _) = staff(&app.store, "ada@desk.test", Role::Agent, None).await;
    web::accounts::set_password(app.store.as_ref(), PrincipalRef::Staff(agent), PASSWORD).await.unwrap();
    let (other, _) = staff(&app.store, "bo@desk.test", Role::Agent, None).await;
    let billing = team(&app.store, "Billing", None, &[agent]).await;
    let tech = team(&app.store, "Technical", None, &[other]).await;
    let ours = app
        .ticket(
            json!({ "subject": "Refund <script>alert(1)</script>", "body": "b", "requester": { "email": "c@x.test" },
            "team_id": billing.0, "assignee_id": agent.0 }),
        )
        .await;
    app.ticket(json!({ "subject": "Unassigned billing question", "body": "b", "requester": { "email": "c@x.test" }, "team_id": billing.0 }))
        .await;
    let secret = app
        .ticket(json!({ "subject": "Secret technical matter", "body": "b", "requester": { "email": "c@x.test" }, "team_id": tech.0 }))
        .await;
    let note = app
        .post(
            &format!("/tickets/{ours}/messages"),
            &app.admin,
            json!({ "body": "Check the ledger first.", "public": false }),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);

    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let url = |p: &str| format!("{}{p}", app.base);

    // Signed out: the views send you to sign in; the form is there.
    let r = browser.get(url("/views/mine")).send().await.unwrap();
    assert_eq!((r.status(), r.headers()["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/login"));
    let r = browser.get(url("/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<form method="post" action="/login">"#) && html.contains(r#"<label for="password">"#));

    // A wrong password: the form again, with the email kept and a message.
    let r = browser
        .post(url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("email", "ada@desk.test"), ("password", "nope")]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(html.contains("Wrong email or password.") && html.contains(r#"value="ada@desk.test""#), "{html}");

    // Right: a session cookie and the agent's own tickets.
    let r = browser
        .post(url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("email", "ADA@desk.test"), ("password", PASSWORD)]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!((r.status(), r.headers()["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/views/mine"));
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let page = |path: &str| {
        let (browser, cookie, url) = (browser.clone(), cookie.clone(), url(path));
        async move {
            let r = browser.get(url).header("cookie", cookie).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (status, mine) = page("/views/mine").await;
    assert_eq!(status, StatusCode::OK);
    assert!(mine.contains(&format!(r#"<a href="/tickets/{ours}">{ours}</a>"#)), "{mine}");
    assert!(mine.contains("Refund &#60;script&#62;") || mine.contains("Refund &lt;script&gt;"), "escaped: {mine}");
    assert!(!mine.contains("<script>alert"), "never raw");
    assert!(mine.contains(r#"aria-current="page""#) && mine.contains("Sign out") && mine.contains(">ada</label>"));
    let (_, unassigned) = page("/views/unassigned").await;
    assert!(unassigned.contains("Unassigned billing question"), "{unassigned}");
    for view in ["/views/unassigned", "/views/open", "/views/mine"] {
        let (_, html) = page(view).await;
        assert!(!html.contains("Secret technical matter"), "{view} shows another team's ticket");
    }
    let (status, _) = page("/views/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The ticket page: conversation with the note set apart, details, history.
    assert!(mine.contains(&format!(r#"<a href="/tickets/{ours}">"#)), "rows link to their ticket");
    let (status, t) = page(&format!("/tickets/{ours}")).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert!(t.contains(&format!("#{ours}")) && !t.contains("<script>alert"), "{t}");
    assert!(t.contains(r#"class="message internal""#) && t.contains("Check the ledger first."), "{t}");
    assert!(t.contains("c@x.test") && t.contains("Billing") && t.contains("opened the ticket"), "{t}");
    // Replying from the page: saved through the API's rules; a stale form
    // keeps the text and says why; an empty one says what is missing.
    let version = app.get(&format!("/tickets/{ours}"), &app.admin).await.body["ticket"]["version"].as_i64().unwrap();
    let post = |body: String| {
        let (browser, cookie, url) = (browser.clone(), cookie.clone(), url(&format!("/tickets/{ours}/reply")));
        async move {
            let r = browser
                .post(url)
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let form = |text: &str, visibility: &str, status: &str, version: i64| {
        serde_urlencoded::to_string([
            ("body", text),
            ("visibility", visibility),
            ("status", status),
            ("version", &version.to_string()),
        ])
        .unwrap()
    };
    let (status, _) = post(form("We refunded you.", "public", "pending", version)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, t) = page(&format!("/tickets/{ours}")).await;
    assert!(t.contains("We refunded you.") && t.contains(r#"<option value="pending" selected>"#), "{t}");
    let (status, t) = post(form("Late words", "internal", "", version)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(t.contains("Someone changed this ticket") && t.contains(">Late words</textarea>"), "{t}");
    let fresh = app.get(&format!("/tickets/{ours}"), &app.admin).await.body["ticket"]["version"].as_i64().unwrap();
    let (_, t) = post(form("   ", "internal", "", fresh)).await;
    assert!(t.contains(r#"role="alert""#), "an empty reply is refused with a message: {t}");
    let api = app.get(&format!("/tickets/{ours}"), &app.admin).await;
    let bodies: Vec<&str> =
        api.body["messages"].as_array().unwrap().iter().filter_map(|m| m["body_text"].as_str()).collect();
    assert!(bodies.contains(&"We refunded you.") && !bodies.contains(&"Late words"), "{bodies:?}");

    // Another team's ticket is no page at all for this agent, as in the API.
    let (status, t) = page(&format!("/tickets/{secret}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!t.contains("Secret technical matter"));
    let css = browser.get(url("/assets/app.css")).send().await.unwrap();
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));

    // Customers have no workspace.
    let (customer, _) = crate::support::customer(&app.store, "cust@x.test", None).await;
    web::accounts::set_password(app.store.as_ref(), PrincipalRef::Customer(customer), PASSWORD).await.unwrap();
    let r = browser
        .post(url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("email", "cust@x.test"), ("password", PASSWORD)]).unwrap())
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("This sign-in is for staff."));

    // Signing out ends the session.
    let r = browser.post(url("/logout")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!((r.status(), r.headers()["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/login"));
    let r = browser.get(url("/views/mine")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the old cookie no longer works");
}
