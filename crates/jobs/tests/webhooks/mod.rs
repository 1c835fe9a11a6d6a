//! Webhooks and Slack against a receiver the test starts: the payload and
//! its signature, a retry after a 500, a timeout that holds up nothing
//! else, and a hook switched off after failing again and again, with its
//! admins told.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use domain::integration::{MAX_FAILURES_IN_A_ROW, Webhook, WebhookKind, signature};
use domain::survey::Rating;
use domain::{JobStatus, Millis, Role, User, UserId, WebhookId};
use jobs::Worker;
use jobs::integrations::{Outgoing, WEBHOOK_DELIVER, WebhookDeliver, publish};
use serde_json::{Value, json};
use store::{PageRequest, Store};

use super::T0;

/// What the receiver heard, by path, and the statuses it will answer with
/// (then 200).
#[derive(Default)]
struct Heard {
    requests: Mutex<Vec<(String, HeaderMap, Vec<u8>)>>,
    script: Mutex<HashMap<String, Vec<u16>>>,
}

async fn receive(
    State(h): State<Arc<Heard>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    if path == "slow" {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
    }
    h.requests.lock().unwrap().push((path.clone(), headers, body.to_vec()));
    let next = h.script.lock().unwrap().get_mut(&path).and_then(|s| (!s.is_empty()).then(|| s.remove(0)));
    StatusCode::from_u16(next.unwrap_or(200)).unwrap()
}

async fn receiver() -> (String, Arc<Heard>) {
    let heard = Arc::new(Heard::default());
    let app = axum::Router::new().route("/{path}", axum::routing::post(receive)).with_state(heard.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, heard)
}

async fn hook(store: &Arc<dyn Store>, kind: WebhookKind, url: String, events: &[&str], only_bad: bool) -> WebhookId {
    store
        .create_webhook(Webhook {
            id: WebhookId(0),
            name: format!("{kind} hook"),
            kind,
            url,
            events: events.iter().map(|e| e.to_string()).collect(),
            only_bad_ratings: only_bad,
            secret: "whsec_test".into(),
            active: true,
            failures_in_a_row: 0,
            disabled_reason: None,
            created_at: T0,
            updated_at: T0,
        })
        .await
        .unwrap()
}

fn rating(key: &str, r: Rating, ticket: i64) -> Outgoing {
    Outgoing {
        event: "rating.received",
        key: key.into(),
        data: json!({ "summary": format!("CSAT {r} from Ann <ann@example.com> on #{ticket} Printer"),
                      "ticket_id": ticket, "feedback": { "comment": "Took <3> days" } }),
        rating: Some(r),
    }
}

fn worker(store: &Arc<dyn Store>, clock: &Arc<AtomicI64>) -> Worker {
    let c = clock.clone();
    Worker {
        store: store.clone(),
        handlers: HashMap::new(),
        holder: "hooks".into(),
        lease_ms: 5_000,
        batch: 16,
        idle: Duration::from_millis(10),
        clock: Arc::new(move || c.load(Ordering::SeqCst)),
    }
    .handle(
        WEBHOOK_DELIVER,
        Arc::new(WebhookDeliver::new(store.clone(), "https://help.example.com".into(), Duration::from_millis(400))),
    )
    .handle(jobs::PING, Arc::new(jobs::Ping { store: store.clone(), holder: "hooks".into() }))
}

async fn admin(store: &Arc<dyn Store>) -> UserId {
    let u = User {
        id: UserId(0),
        email: "head@support.test".into(),
        name: "Head".into(),
        role: Role::Admin,
        active: true,
        reports_to: None,
        time_zone: None,
        created_at: T0,
        updated_at: T0,
    };
    store.create_user(u, None, None).await.unwrap().id
}

async fn drain(w: &Worker) {
    while w.run_once().await.unwrap() > 0 {}
}

pub async fn webhooks_deliver_sign_retry_and_switch_off(store: Arc<dyn Store>) {
    let clock = Arc::new(AtomicI64::new(T0));
    let (base, heard) = receiver().await;
    let head = admin(&store).await;
    let w = worker(&store, &clock);
    let generic = hook(&store, WebhookKind::Generic, format!("{base}/generic"), &["rating.received"], false).await;
    let slack = hook(&store, WebhookKind::Slack, format!("{base}/slack"), &["rating.received"], true).await;
    hook(&store, WebhookKind::Generic, format!("{base}/other"), &["ticket.created"], false).await;

    // A good rating: the generic hook wants it, Slack (bad ones only) does not.
    heard.script.lock().unwrap().insert("generic".into(), vec![500]);
    assert_eq!(publish(store.as_ref(), rating("r1", Rating::Good, 7), T0).await.unwrap(), 1);
    // Published twice (two nodes): one delivery.
    assert_eq!(publish(store.as_ref(), rating("r1", Rating::Good, 7), T0).await.unwrap(), 1);
    drain(&w).await;
    let log = store.deliveries(generic, PageRequest { after: None, limit: 10 }).await.unwrap().items;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].status_code, log[0].attempt), (Some(500), 1));
    assert_eq!(log[0].error.as_deref(), Some("answered HTTP 500"));
    // The retry waits for the backoff, then succeeds.
    clock.store(T0 + 31_000, Ordering::SeqCst);
    drain(&w).await;
    let log = store.deliveries(generic, PageRequest { after: None, limit: 10 }).await.unwrap().items;
    assert_eq!(log.iter().map(|d| d.status_code).collect::<Vec<_>>(), [Some(200), Some(500)]);
    assert!(log[0].succeeded());
    {
        let requests = heard.requests.lock().unwrap();
        let (path, headers, body) = requests.last().unwrap();
        assert_eq!(path, "generic");
        let ts: i64 = headers["x-switchboard-timestamp"].to_str().unwrap().parse().unwrap();
        assert_eq!(ts, (T0 + 31_000) / 1000);
        assert_eq!(headers["x-switchboard-signature"].to_str().unwrap(), signature("whsec_test", ts, body));
        assert_eq!(headers["x-switchboard-event"], "rating.received");
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["event"], "rating.received");
        assert_eq!(v["at"], T0);
        assert_eq!(v["data"]["ticket_id"], 7);
        // Both attempts carried the same body (the receiver can dedupe by delivery id).
        let first = &requests[requests.len() - 2];
        assert_eq!(&first.2, body);
    }
    assert!(store.deliveries(slack, PageRequest { after: None, limit: 10 }).await.unwrap().items.is_empty());

    // A bad rating reaches Slack as text with the ticket linked and the comment quoted.
    publish(store.as_ref(), rating("r2", Rating::Bad, 8), T0 + 40_000).await.unwrap();
    clock.store(T0 + 40_000, Ordering::SeqCst);
    drain(&w).await;
    {
        let requests = heard.requests.lock().unwrap();
        let (_, headers, body) = requests.iter().rev().find(|(p, _, _)| p == "slack").unwrap();
        assert!(headers.get("x-switchboard-signature").is_none(), "Slack URLs carry their own secret");
        let v: Value = serde_json::from_slice(body).unwrap();
        let text = v["text"].as_str().unwrap();
        assert!(
            text.starts_with("CSAT bad from Ann <ann@example.com> on <https://help.example.com/tickets/8|#8> Printer"),
            "{text}"
        );
        assert!(text.ends_with("\n> Took &lt;3&gt; days"), "{text}");
    }

    // A receiver that answers 404 every time: retried, logged, then switched
    // off after failures in a row, and the admins told; nothing more is sent.
    let broken = hook(&store, WebhookKind::Slack, format!("{base}/gone"), &["spike.detected"], false).await;
    heard.script.lock().unwrap().insert("gone".into(), vec![404; 100]);
    let mut t = T0 + 100_000;
    for n in 0..3 {
        let out = jobs::integrations::alert("spike.detected", format!("spike{n}"), "A spike".into(), json!({}));
        publish(store.as_ref(), out, t).await.unwrap();
    }
    for _ in 0..40 {
        t += 3_600_000;
        clock.store(t, Ordering::SeqCst);
        drain(&w).await;
    }
    let h = store.webhook(broken).await.unwrap().unwrap();
    assert!(!h.active);
    assert_eq!(h.failures_in_a_row, MAX_FAILURES_IN_A_ROW);
    assert!(h.disabled_reason.as_deref().unwrap().contains("answered HTTP 404"), "{:?}", h.disabled_reason);
    let log = store.deliveries(broken, PageRequest { after: None, limit: 100 }).await.unwrap().items;
    // Attempts already in flight when it was switched off are logged too.
    assert!((MAX_FAILURES_IN_A_ROW..MAX_FAILURES_IN_A_ROW + 3).contains(&(log.len() as i64)), "{}", log.len());
    assert!(log.iter().all(|d| d.status_code == Some(404)));
    t += 3_600_000;
    clock.store(t, Ordering::SeqCst);
    drain(&w).await;
    let later = store.deliveries(broken, PageRequest { after: None, limit: 100 }).await.unwrap().items;
    assert_eq!(later.len(), log.len(), "no attempt after switching off");
    let notes = store.notifications(head, false, 20).await.unwrap();
    assert!(notes.iter().any(|n| n.kind == "webhook" && n.text.contains("switched off")), "{notes:?}");
    let out = jobs::integrations::alert("spike.detected", "spike9".into(), "Another".into(), json!({}));
    assert_eq!(publish(store.as_ref(), out, t).await.unwrap(), 0, "a switched-off hook gets nothing");
    // Switching it on again resets the count.
    let on = Webhook { active: true, updated_at: t, ..h };
    assert!(store.update_webhook(&on).await.unwrap());
    let h = store.webhook(broken).await.unwrap().unwrap();
    assert!(h.active && h.failures_in_a_row == 0 && h.disabled_reason.is_none());

    // A receiver that does not answer in time: the attempt is cut off and
    // logged, and the other job in the same batch is not held up.
    let slow = hook(&store, WebhookKind::Generic, format!("{base}/slow"), &["surge.detected"], false).await;
    t += 3_600_000;
    clock.store(t, Ordering::SeqCst);
    publish(store.as_ref(), jobs::integrations::alert("surge.detected", "s1".into(), "Surge".into(), json!({})), t)
        .await
        .unwrap();
    let ping = store.enqueue_job(domain::NewJob::new(jobs::PING, json!({}), t, t)).await.unwrap();
    let started = std::time::Instant::now();
    w.run_once().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(1_400), "the timeout cut the attempt short");
    assert_eq!(store.job(ping).await.unwrap().unwrap().status, JobStatus::Done);
    let log = store.deliveries(slow, PageRequest { after: None, limit: 10 }).await.unwrap().items;
    assert_eq!(log[0].error.as_deref(), Some("timed out"));
    let _: Millis = t;
}
