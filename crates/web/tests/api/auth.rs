//! Signing in and out, sessions, personal tokens, throttling.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Auth, TestApp};

on_both_backends!(sessions_and_passwords, tokens_are_shown_once_and_revocable, repeated_failures_are_throttled);

fn session_of(r: &crate::support::Reply) -> String {
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_string();
    cookie.split(';').next().unwrap().strip_prefix("sb_session=").unwrap().to_string()
}

async fn sessions_and_passwords(app: TestApp) {
    let made = app
        .post(
            "/users",
            &app.admin,
            json!({ "email": "ann@support.test", "name": "Ann", "role": "agent", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert!(made.body["initial_password"].is_null());
    let login = app
        .post("/auth/login", &Auth::None, json!({ "email": "ANN@support.test", "password": "correct horse battery" }))
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let cookie = login.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    let first = session_of(&login);
    let again = app
        .post("/auth/login", &Auth::None, json!({ "email": "ann@support.test", "password": "correct horse battery" }))
        .await;
    assert_ne!(session_of(&again), first, "every sign-in gets a new session id");
    let s = Auth::Cookie(first.clone());
    let me = app.get("/me", &s).await;
    assert_eq!(me.body["user"]["email"], "ann@support.test");
    // A cross-site write with the cookie is refused; a same-origin one is not.
    let cross = TestApp::send(
        app.request(Method::POST, "/tickets", &s)
            .header("sec-fetch-site", "cross-site")
            .json(&json!({ "subject": "x" })),
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    // Wrong current password; too short a new one; then a real change that ends sessions.
    let wrong = app
        .post("/auth/password", &s, json!({ "current_password": "nope", "new_password": "something long enough" }))
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let short = app
        .post("/auth/password", &s, json!({ "current_password": "correct horse battery", "new_password": "short" }))
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let changed = app
        .post(
            "/auth/password",
            &s,
            json!({ "current_password": "correct horse battery", "new_password": "a much better passphrase" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/me", &s).await.status, StatusCode::UNAUTHORIZED, "sessions end with a password change");
    let old = app
        .post("/auth/login", &Auth::None, json!({ "email": "ann@support.test", "password": "correct horse battery" }))
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app
        .post(
            "/auth/login",
            &Auth::None,
            json!({ "email": "ann@support.test", "password": "a much better passphrase" }),
        )
        .await;
    assert_eq!(new.status, StatusCode::OK);
    // Sign out ends the session.
    let s = Auth::Cookie(session_of(&new));
    let out = TestApp::send(app.request(Method::POST, "/auth/logout", &s)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(app.get("/me", &s).await.status, StatusCode::UNAUTHORIZED);
    // Deactivated staff cannot sign in.
    let id = made.body["user"]["id"].as_i64().unwrap();
    app.patch(&format!("/users/{id}"), &app.admin, json!({ "active": false })).await;
    let gone = app
        .post(
            "/auth/login",
            &Auth::None,
            json!({ "email": "ann@support.test", "password": "a much better passphrase" }),
        )
        .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
}

async fn tokens_are_shown_once_and_revocable(app: TestApp) {
    let made = app.post("/tokens", &app.admin, json!({ "name": "reporting script" })).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let token = made.body["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("sbp_"));
    let id = made.body["api_token"]["id"].as_i64().unwrap();
    let t = Auth::Token(token.clone());
    assert_eq!(app.get("/me", &t).await.status, StatusCode::OK);
    let list = app.get("/tokens", &t).await;
    assert!(!list.body.to_string().contains(&token), "the secret is never listed");
    assert!(list.body["tokens"].as_array().unwrap().iter().any(|x| x["name"] == "reporting script"));
    let revoke = TestApp::send(app.request(Method::DELETE, &format!("/tokens/{id}"), &t)).await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/me", &t).await.status, StatusCode::UNAUTHORIZED);
    let again = TestApp::send(app.request(Method::DELETE, &format!("/tokens/{id}"), &app.admin)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

async fn repeated_failures_are_throttled(app: TestApp) {
    app.post(
        "/users",
        &app.admin,
        json!({ "email": "bob@support.test", "name": "Bob", "role": "agent", "password": "right password here" }),
    )
    .await;
    for _ in 0..5 {
        let r = app.post("/auth/login", &Auth::None, json!({ "email": "bob@support.test", "password": "wrong" })).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["error"]["message"], "wrong email or password");
    }
    let r = app
        .post("/auth/login", &Auth::None, json!({ "email": "bob@support.test", "password": "right password here" }))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits out the window");
    assert_eq!(r.headers["retry-after"], "900");
    // Unknown addresses answer exactly like wrong passwords.
    let r = app.post("/auth/login", &Auth::None, json!({ "email": "nobody@support.test", "password": "x" })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"]["message"], "wrong email or password");
}
