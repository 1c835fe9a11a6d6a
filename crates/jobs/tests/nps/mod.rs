//! NPS on a schedule: the day's sample of customers is invited by mail,
//! never again within the interval, and never when unsubscribed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use domain::survey::SurveyKind;
use domain::{Customer, EmailAddress, NewJob};
use jobs::Worker;
use jobs::survey::{NPS_RUN, NPS_SEND, NpsRun, NpsSend};
use store::Store;

use super::T0;

/// Keeps what is sent: (recipients, raw message).
#[derive(Default)]
pub struct Outbox(pub Mutex<Vec<(Vec<String>, String)>>);

#[async_trait]
impl mail::delivery::Transport for Outbox {
    async fn send(&self, envelope: &lettre::address::Envelope, raw: &[u8]) -> Result<(), mail::delivery::SendError> {
        let to = envelope.to().iter().map(|a| a.to_string()).collect();
        self.0.lock().unwrap().push((to, String::from_utf8_lossy(raw).into_owned()));
        Ok(())
    }
}

pub async fn nps_goes_to_a_sample_within_its_interval(store: Arc<dyn Store>) {
    let clock = Arc::new(AtomicI64::new(T0));
    let outbox = Arc::new(Outbox::default());
    let c = clock.clone();
    let w = Worker {
        store: store.clone(),
        handlers: HashMap::new(),
        holder: "nps".into(),
        lease_ms: 5_000,
        batch: 16,
        idle: Duration::from_millis(10),
        clock: Arc::new(move || c.load(Ordering::SeqCst)),
    }
    .handle(NPS_RUN, Arc::new(NpsRun { store: store.clone() }))
    .handle(
        NPS_SEND,
        Arc::new(NpsSend {
            store: store.clone(),
            secret: "s3cret".into(),
            base_url: "https://help.example.com".into(),
            transport: Some(outbox.clone()),
        }),
    );
    let mut ids = Vec::new();
    for n in 0..20 {
        let email = EmailAddress::parse(&format!("c{n}@x.test")).unwrap();
        ids.push(store.create_customer(Customer::new(&email, &format!("Cus {n}"), T0), None, None).await.unwrap().id);
    }
    store.set_unsubscribed(ids[3], true, T0).await.unwrap();
    let settings = serde_json::json!({ "nps_enabled": true, "nps_sample_percent": 100, "nps_interval_days": 90 });
    store.set_setting(jobs::survey::SETTINGS_KEY, &settings).await.unwrap();

    let run = |at: i64, key: &str| NewJob::new(NPS_RUN, serde_json::json!({}), at, at).key(key.to_string());
    store.enqueue_job(run(T0, "nps-day-1")).await.unwrap();
    while w.run_once().await.unwrap() > 0 {}
    let sent = outbox.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 19, "everyone but the unsubscribed");
    assert!(!sent.iter().any(|(to, _)| to == &["c3@x.test".to_string()]));
    let (_, raw) = &sent[0];
    assert!(raw.contains("how likely are you to recommend us"), "{raw}");
    assert!(raw.contains("https://help.example.com/survey/"), "{raw}");
    assert!(store.last_surveyed(ids[0], Some(SurveyKind::Nps)).await.unwrap() == Some(T0));

    // A month later nobody is asked again; after the interval everyone is.
    clock.store(T0 + 30 * 86_400_000, Ordering::SeqCst);
    store.enqueue_job(run(T0 + 30 * 86_400_000, "nps-day-30")).await.unwrap();
    while w.run_once().await.unwrap() > 0 {}
    assert_eq!(outbox.0.lock().unwrap().len(), 19);
    clock.store(T0 + 91 * 86_400_000, Ordering::SeqCst);
    store.enqueue_job(run(T0 + 91 * 86_400_000, "nps-day-91")).await.unwrap();
    while w.run_once().await.unwrap() > 0 {}
    assert_eq!(outbox.0.lock().unwrap().len(), 38);
}
