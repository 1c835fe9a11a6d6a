//! Mailboxes, pushed mail, the quarantine and original messages over HTTP.

use domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::smtp_sink::{SmtpSink, header};
use crate::support::{Auth, Backend, TestApp, spawn_with, staff};

on_both_backends!(
    pushed_mail_becomes_tickets_once,
    quarantine_is_for_admins_and_retryable,
    imap_accounts_are_checked_and_keep_their_password
);

async fn push(app: &TestApp, token: &str, raw: &str) -> crate::support::Reply {
    TestApp::send(
        app.request(Method::POST, "/inbound/email", &Auth::Token(token.into()))
            .header("content-type", "message/rfc822")
            .body(raw.to_string()),
    )
    .await
}

async fn mailbox(app: &TestApp) -> (i64, String) {
    let team = app.post("/teams", &app.admin, json!({ "name": "Billing" })).await.body["id"].as_i64().unwrap();
    let r = app
        .post("/mailboxes", &app.admin, json!({ "address": "Billing@Desk.test", "name": "Billing", "team_id": team }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["mailbox"]["address"], "billing@desk.test");
    assert_eq!(r.body["mailbox"]["team_id"], team);
    (r.body["mailbox"]["id"].as_i64().unwrap(), r.body["push_token"].as_str().unwrap().to_string())
}

const FIRST: &str = "From: Ann <ann@customer.test>\r\nTo: billing@desk.test\r\nSubject: Invoice wrong\r\nMessage-ID: <inv-1@customer.test>\r\n\r\nMy invoice shows the wrong amount.\r\n";

async fn pushed_mail_becomes_tickets_once(app: TestApp) {
    let (id, token) = mailbox(&app).await;
    // Bad input: a mailbox with a '+' or a bad address; a duplicate address.
    let bad = app.post("/mailboxes", &app.admin, json!({ "address": "a+b@desk.test", "name": "x" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let dup = app.post("/mailboxes", &app.admin, json!({ "address": "billing@desk.test", "name": "x" })).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    // Agents cannot manage mailboxes.
    let (_, agent) = staff(&app.store, "agent@desk.test", Role::Agent, None).await;
    assert_eq!(app.get("/mailboxes", &Auth::Token(agent.clone())).await.status, StatusCode::FORBIDDEN);

    // Pushing needs the mailbox's token; a staff token is not one.
    assert_eq!(push(&app, "sbm_wrong", FIRST).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(push(&app, &agent, FIRST).await.status, StatusCode::UNAUTHORIZED);
    let r = push(&app, &token, FIRST).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!((r.body["outcome"].as_str(), r.body["created"].as_bool()), (Some("stored"), Some(true)));
    let ticket = r.body["ticket_id"].as_i64().unwrap();
    let message = r.body["message_id"].as_i64().unwrap();
    let again = push(&app, &token, FIRST).await;
    assert_eq!((again.status, again.body["ticket_id"].as_i64()), (StatusCode::OK, Some(ticket)));
    assert_eq!(again.body["outcome"], "duplicate");

    let t = app.get(&format!("/tickets/{ticket}"), &app.admin).await;
    assert_eq!(t.body["ticket"]["channel"], "email");
    assert_eq!(t.body["messages"].as_array().unwrap().len(), 1);
    assert_eq!(t.body["messages"][0]["metadata"]["email"]["from"], "ann@customer.test");

    // The original, byte for byte, for staff; 404 for a customer or another ticket.
    let path = format!("/tickets/{ticket}/messages/{message}/original.eml");
    let eml = app.request(Method::GET, &path, &app.admin).send().await.unwrap();
    assert_eq!(eml.status(), StatusCode::OK);
    assert_eq!(eml.headers()["content-type"], "message/rfc822");
    assert_eq!(eml.text().await.unwrap(), FIRST);
    let ann = app.store.customer_by_email("ann@customer.test").await.unwrap().unwrap();
    let (_, ann_auth) = crate::support::customer_session(&app.store, ann.id).await;
    assert_eq!(app.get(&path, &ann_auth).await.status, StatusCode::FORBIDDEN, "staff only");

    // A staff reply through the API, then the customer's mail reply by subject tag.
    let reply = format!(
        "From: ann@customer.test\r\nTo: billing@desk.test\r\nSubject: Re: [#{ticket}] Invoice wrong\r\nMessage-ID: <inv-2@customer.test>\r\n\r\nAny news?\r\n"
    );
    let r = push(&app, &token, &reply).await;
    assert_eq!((r.body["ticket_id"].as_i64(), r.body["created"].as_bool()), (Some(ticket), Some(false)), "{}", r.body);

    // Deactivated mailboxes accept nothing; a rotated token replaces the old.
    let off = app.patch(&format!("/mailboxes/{id}"), &app.admin, json!({ "active": false })).await;
    assert_eq!((off.status, off.body["active"].as_bool()), (StatusCode::OK, Some(false)));
    assert_eq!(push(&app, &token, FIRST).await.status, StatusCode::UNAUTHORIZED);
    app.patch(&format!("/mailboxes/{id}"), &app.admin, json!({ "active": true })).await;
    let rotated = app.post(&format!("/mailboxes/{id}/token"), &app.admin, json!({})).await;
    let new_token = rotated.body["push_token"].as_str().unwrap().to_string();
    assert_eq!(push(&app, &token, FIRST).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(push(&app, &new_token, FIRST).await.status, StatusCode::OK);
    // An empty body is refused without filing anything.
    assert_eq!(push(&app, &new_token, "").await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn quarantine_is_for_admins_and_retryable(app: TestApp) {
    let (_, token) = mailbox(&app).await;
    let broken = "To: billing@desk.test\r\nSubject: no sender\r\n\r\nwho wrote this?\r\n";
    let r = push(&app, &token, broken).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["outcome"], "quarantined");
    let q = r.body["quarantine_id"].as_i64().unwrap();
    let list = app.get("/mail/quarantine", &app.admin).await;
    assert_eq!(list.body["entries"][0]["id"], q);
    assert!(list.body["entries"][0]["reason"].as_str().unwrap().contains("From"));
    let (_, agent) = staff(&app.store, "agent@desk.test", Role::Agent, None).await;
    assert_eq!(app.get("/mail/quarantine", &Auth::Token(agent)).await.status, StatusCode::FORBIDDEN);
    let raw = app.request(Method::GET, &format!("/mail/quarantine/{q}/original.eml"), &app.admin).send().await.unwrap();
    assert_eq!(raw.text().await.unwrap(), broken);
    // Retrying the same broken mail keeps it quarantined, one more attempt.
    let again = app.post(&format!("/mail/quarantine/{q}/retry"), &app.admin, json!({})).await;
    assert_eq!((again.status, again.body["quarantine_id"].as_i64()), (StatusCode::ACCEPTED, Some(q)));
    let entry = app.get(&format!("/mail/quarantine/{q}"), &app.admin).await;
    assert_eq!(entry.body["attempts"], 2);
    assert!(entry.body["resolved_at"].is_null());
}

/// A whole conversation against a real SMTP server: the acknowledgement,
/// an agent's reply with threading headers and the collaborator in copy,
/// the customer's answer threading back by our Message-ID.
async fn conversation_over_smtp(backend: Backend) {
    let Some(sink) = SmtpSink::start().await else { return };
    let url = sink.url.clone();
    let Some(app) = spawn_with(backend, |s| s.smtp_url = Some(url)).await else {
        eprintln!("skipped: SWITCHBOARD_TEST_PG is not set");
        return;
    };
    let (id, token) = mailbox(&app).await;
    let bad = app.patch(&format!("/mailboxes/{id}"), &app.admin, json!({ "auto_reply": "Hi {{ customer.name" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["error"]["details"]["fields"]["auto_reply"].is_array(), "{}", bad.body);
    let template = "Hi {{ customer.first_name }}, request #{{ ticket.number }} is open.";
    let ok = app.patch(&format!("/mailboxes/{id}"), &app.admin, json!({ "auto_reply": template })).await;
    assert_eq!((ok.status, ok.body["auto_reply"].as_str()), (StatusCode::OK, Some(template)));

    let first = "From: Ann Smith <ann@customer.test>\r\nTo: billing@desk.test\r\nCc: bob@customer.test\r\nSubject: Invoice wrong\r\nMessage-ID: <inv-1@customer.test>\r\n\r\nMy invoice shows the wrong amount.\r\n";
    let ticket = push(&app, &token, first).await.body["ticket_id"].as_i64().unwrap();
    let got = sink.wait_for(1).await;
    let ack = &got[0];
    assert_eq!(header(ack, "Auto-Submitted"), "auto-replied");
    assert_eq!(header(ack, "Subject"), format!("Re: Invoice wrong [#{ticket}]"));
    assert_eq!(header(ack, "In-Reply-To"), "<inv-1@customer.test>");
    assert!(ack.contains(&format!("Hi Ann, request #{ticket} is open.")), "{ack}");

    let r = app
        .post(&format!("/tickets/{ticket}/messages"), &app.admin, json!({ "body": "We corrected the invoice." }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let got = sink.wait_for(2).await;
    let reply = &got[1];
    assert!(header(reply, "From").contains("billing@desk.test"), "{reply}");
    assert!(header(reply, "To").contains("ann@customer.test"));
    assert!(header(reply, "Cc").contains("bob@customer.test"), "the collaborator is in copy");
    let rcpt = header(reply, "X-RcptTo");
    assert!(rcpt.contains("ann@customer.test") && rcpt.contains("bob@customer.test"), "{rcpt}");
    assert!(header(reply, "Reply-To").contains(&format!("billing+t{ticket}.")), "{reply}");
    assert_eq!(header(reply, "In-Reply-To"), "<inv-1@customer.test>");
    assert!(header(reply, "References").contains("<inv-1@customer.test>"));
    assert!(reply.contains("We corrected the invoice.") && reply.contains(&format!("[ref:t{ticket}.")), "{reply}");
    let our_id = header(reply, "Message-ID");

    // Notes, and replies the agent keeps off email, are not mailed.
    let note = app
        .post(&format!("/tickets/{ticket}/messages"), &app.admin, json!({ "body": "internal", "public": false }))
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    let phone = app
        .post(
            &format!("/tickets/{ticket}/messages"),
            &app.admin,
            json!({ "body": "Told by phone.", "send_email": false }),
        )
        .await;
    assert_eq!(phone.status, StatusCode::CREATED);

    // The customer answers our mail, with a subject that names nothing.
    let answer = format!(
        "From: ann@customer.test\r\nTo: billing@desk.test\r\nSubject: thanks\r\nMessage-ID: <inv-3@customer.test>\r\nIn-Reply-To: {our_id}\r\n\r\nThanks!\r\n"
    );
    let r = push(&app, &token, &answer).await;
    assert_eq!((r.body["ticket_id"].as_i64(), r.body["created"].as_bool()), (Some(ticket), Some(false)), "{}", r.body);

    let sent = app.get("/mail/outbox?status=sent", &app.admin).await;
    assert_eq!(sent.body["entries"].as_array().unwrap().len(), 2, "{}", sent.body);
    assert_eq!(app.get("/mail/outbox?status=lost", &app.admin).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, agent) = staff(&app.store, "agent@desk.test", Role::Agent, None).await;
    assert_eq!(app.get("/mail/outbox", &Auth::Token(agent)).await.status, StatusCode::FORBIDDEN);
    let t = app.get(&format!("/tickets/{ticket}"), &app.admin).await;
    let kinds: Vec<&str> = t.body["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "email_sent").count(), 2, "{kinds:?}");
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(sink.received().len(), 2, "nothing else was mailed");
}

mod conversation_over_smtp {
    use crate::support::Backend;

    #[tokio::test]
    async fn sqlite() {
        super::conversation_over_smtp(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn pg() {
        super::conversation_over_smtp(Backend::Pg).await;
    }
}

/// An IMAP account through the API: checked, its password kept but never
/// shown (nor audited), and its fetching health readable; an unreachable
/// server shows as failing.
async fn imap_accounts_are_checked_and_keep_their_password(app: TestApp) {
    let (id, _) = mailbox(&app).await;
    let path = format!("/mailboxes/{id}");
    let bad =
        app.patch(&path, &app.admin, json!({ "imap": { "host": "", "username": "u", "after_fetch": "move" } })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = &bad.body["error"]["details"]["fields"];
    for f in ["imap.host", "imap.password", "imap.move_to"] {
        assert!(fields[f].is_array(), "{f}: {fields}");
    }
    let typo = app
        .patch(
            &path,
            &app.admin,
            json!({ "imap": { "host": "h", "username": "u", "password": "p", "sekurity": "tls" } }),
        )
        .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST, "unknown fields are refused");

    // Nothing listens on port 1: the fetcher will fail and back off.
    let set = json!({ "imap": { "host": "127.0.0.1", "port": 1, "security": "plain", "username": "billing", "password": "hunter2" } });
    let r = app.patch(&path, &app.admin, set).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["imap"]["folder"], "INBOX");
    assert_eq!(r.body["imap"]["after_fetch"], "seen");
    assert!(!r.body.to_string().contains("hunter2"), "the password is never shown: {}", r.body);
    // A change without the password keeps it.
    let r = app
        .patch(
            &path,
            &app.admin,
            json!({ "imap": { "host": "127.0.0.1", "port": 1, "security": "plain", "username": "billing2" } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let stored = app.store.mailbox(domain::MailboxId(id)).await.unwrap().unwrap();
    assert_eq!(stored.imap_password.as_deref(), Some("hunter2"));
    let audit = app.get("/audit", &app.admin).await;
    assert!(!audit.body.to_string().contains("hunter2"), "nor audited");

    let mut status = app.get(&format!("{path}/fetch"), &app.admin).await;
    for _ in 0..100 {
        if status.body["state"] == "failing" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        status = app.get(&format!("{path}/fetch"), &app.admin).await;
    }
    assert_eq!(status.body["state"], "failing", "{}", status.body);
    assert!(status.body["last_error"].as_str().unwrap().contains("127.0.0.1:1"), "{}", status.body);
    assert!(status.body["next_try_at"].as_i64().unwrap() > crate::support::now());
    assert_eq!(app.get("/mailboxes/999999/fetch", &app.admin).await.status, StatusCode::NOT_FOUND);
    let off = app.patch(&path, &app.admin, json!({ "imap": null })).await;
    assert!(off.body["imap"].is_null());
}

/// One SMTP transaction over a raw connection; the server's answer to each
/// command, in order (greeting, EHLO, MAIL, RCPT…, DATA, the message).
async fn smtp_send(addr: std::net::SocketAddr, from: &str, to: &[&str], raw: &str) -> Vec<String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut answers = Vec::new();
    // One answer, which may span lines (`250-…` then `250 …`).
    async fn answer(lines: &mut tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>) -> String {
        loop {
            let line = lines.next_line().await.unwrap().unwrap_or_default();
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return line;
            }
        }
    }
    answers.push(answer(&mut lines).await);
    let mut command = async |c: String, lines: &mut _| {
        write.write_all(c.as_bytes()).await.unwrap();
        answer(lines).await
    };
    answers.push(command("EHLO client.test\r\n".into(), &mut lines).await);
    answers.push(command(format!("MAIL FROM:<{from}>\r\n"), &mut lines).await);
    for t in to {
        answers.push(command(format!("RCPT TO:<{t}>\r\n"), &mut lines).await);
    }
    if answers.last().is_some_and(|a| a.starts_with("250")) {
        answers.push(command("DATA\r\n".into(), &mut lines).await);
        let body = raw.replace("\r\n.", "\r\n..");
        answers.push(command(format!("{body}\r\n.\r\n"), &mut lines).await);
    }
    let bye = tokio::time::timeout(std::time::Duration::from_secs(10), command("QUIT\r\n".into(), &mut lines)).await;
    assert!(bye.as_deref().is_ok_and(|b| b.starts_with("221")), "QUIT answered: {bye:?} after {answers:?}");
    answers
}

/// Mail handed to the built-in SMTP receiver becomes tickets; unknown
/// recipients and oversized mail are refused in the SMTP dialogue.
async fn smtp_receiver_files_mail(backend: Backend) {
    let Some(app) = spawn_with(backend, |s| {
        s.smtp_listen = Some("127.0.0.1:0".into());
        s.max_email_bytes = 4_096;
    })
    .await
    else {
        eprintln!("skipped: SWITCHBOARD_TEST_PG is not set");
        return;
    };
    let addr = app.smtp.expect("the receiver listens");
    let (_, _) = mailbox(&app).await;
    let a = smtp_send(addr, "ann@customer.test", &["billing@desk.test"], FIRST).await;
    assert!(a[0].starts_with("220") && a.iter().skip(1).all(|x| x.starts_with("250") || x.starts_with("354")), "{a:?}");
    app.store.customer_by_email("ann@customer.test").await.unwrap().expect("the sender is a customer");
    let list = app.get("/tickets", &app.admin).await;
    let tickets = list.body["tickets"].as_array().unwrap().clone();
    assert_eq!(tickets.len(), 1, "{}", list.body);
    let ticket = tickets[0]["id"].as_i64().unwrap();
    // The same mail again (a retrying MTA) is stored once.
    smtp_send(addr, "ann@customer.test", &["billing@desk.test"], FIRST).await;
    let t = app.get(&format!("/tickets/{ticket}"), &app.admin).await;
    assert_eq!(t.body["messages"].as_array().unwrap().len(), 1);

    // A reply addressed by its token in the envelope only (Bcc'd): threads.
    let token = {
        let r = app
            .post(&format!("/tickets/{ticket}/messages"), &app.admin, json!({ "body": "Fixed.", "send_email": false }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let secret = app.store.instance_secret("reply_token", "unused").await.unwrap();
        mail::thread::reply_token(&secret, domain::TicketId(ticket))
    };
    let reply = "From: ann@customer.test\r\nTo: someone@else.test\r\nSubject: thanks\r\nMessage-ID: <smtp-2@customer.test>\r\n\r\nThanks!\r\n";
    let a = smtp_send(addr, "ann@customer.test", &[&format!("billing+{token}@desk.test")], reply).await;
    assert!(a.last().unwrap().starts_with("250"), "{a:?}");
    let t = app.get(&format!("/tickets/{ticket}"), &app.admin).await;
    assert_eq!(t.body["messages"].as_array().unwrap().len(), 3, "{}", t.body);

    // Unknown recipients are refused at RCPT; too big is refused after DATA.
    let a = smtp_send(addr, "ann@customer.test", &["nobody@desk.test"], FIRST).await;
    assert!(a[3].starts_with("550"), "{a:?}");
    let big =
        format!("From: ann@customer.test\r\nTo: billing@desk.test\r\nSubject: big\r\n\r\n{}\r\n", "x".repeat(8_000));
    let a = smtp_send(addr, "ann@customer.test", &["billing@desk.test"], &big).await;
    assert!(a.last().unwrap().starts_with("552"), "{a:?}");
    let list = app.get("/tickets", &app.admin).await;
    assert_eq!(list.body["tickets"].as_array().unwrap().len(), 1, "nothing else was filed");
}

mod smtp_receiver_files_mail {
    use crate::support::Backend;

    #[tokio::test]
    async fn sqlite() {
        super::smtp_receiver_files_mail(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn pg() {
        super::smtp_receiver_files_mail(Backend::Pg).await;
    }
}
