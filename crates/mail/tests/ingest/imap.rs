//! Fetching by IMAP from a real Dovecot: filed once, marked, not re-read,
//! IDLE, a server restart, backoff, and a 10,000-message mailbox.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{AfterFetch, FetchState, ImapSecurity, ImapSettings, Mailbox};
use mail::imap::{Fetcher, Pass, fetch_once};
use store::{MailStore, PageRequest, TicketStore};

use super::dovecot::{Dovecot, PASSWORD, USER};
use super::{Desk, NOW, corpus, desks, mail};

fn settings(port: u16) -> ImapSettings {
    ImapSettings {
        host: "127.0.0.1".into(),
        port,
        security: ImapSecurity::Plain,
        username: USER.into(),
        folder: "INBOX".into(),
        after_fetch: AfterFetch::Seen,
        move_to: None,
        poll_seconds: 60,
    }
}

async fn with_imap(d: &mut Desk, s: ImapSettings) -> Mailbox {
    d.mailbox.imap = Some(s);
    d.mailbox.imap_password = Some(PASSWORD.into());
    d.store.update_mailbox(&d.mailbox).await.unwrap();
    d.store.mailbox(d.mailbox.id).await.unwrap().unwrap()
}

fn fetcher(d: &Desk, holder: &str) -> Fetcher {
    Fetcher { inbox: d.inbox.clone(), holder: holder.into(), retry_base: Duration::from_millis(200) }
}

async fn tickets(d: &Desk) -> usize {
    d.store.tickets(&super::all()).await.unwrap().items.len()
}

#[tokio::test]
async fn imap_mail_is_filed_once_marked_and_not_read_again() {
    for (backend, mut d) in desks().await {
        let Some(server) = Dovecot::start().await else { return };
        let mailbox = with_imap(&mut d, settings(server.port)).await;
        let reply = mail(
            "ana.lima@customer.test",
            "support@desk.test",
            "Re: Printer does not print",
            "reply-1@customer.test",
            "In-Reply-To: <first-1@customer.test>\r\n",
            "Still broken.",
        );
        server.append("INBOX", &[corpus("new-plain.eml"), reply, b"not a mail message".to_vec()]).await;
        let f = fetcher(&d, "node-a");
        assert_eq!(fetch_once(&f, &mailbox, NOW).await.unwrap(), Pass { filed: 3 }, "{backend}");
        assert_eq!(tickets(&d).await, 1, "{backend}: the reply threaded");
        let quarantined = d.store.quarantined(PageRequest { after: None, limit: 10 }).await.unwrap().items;
        assert_eq!(quarantined.len(), 1, "{backend}: the garbage is kept, and did not block the rest");
        let flags = server.flags("INBOX").await;
        assert_eq!(flags.len(), 3);
        assert!(flags.iter().all(|(_, f)| f.iter().any(|x| x.contains("Seen"))), "{flags:?}");
        let state = d.store.mailbox_fetch(mailbox.id).await.unwrap();
        assert_eq!((state.last_uid, state.fetched, state.state), (3, 3, FetchState::Ok));

        // Nothing new: nothing read.
        assert_eq!(fetch_once(&f, &mailbox, NOW).await.unwrap(), Pass { filed: 0 });
        // A crash after filing but before the UID was saved: read again, stored once.
        let mut rewound = state.clone();
        rewound.last_uid = 1;
        assert!(d.store.claim_fetch(mailbox.id, "node-a", NOW, NOW + 60_000).await.unwrap());
        assert!(d.store.save_fetch(mailbox.id, "node-a", &rewound, None).await.unwrap());
        assert_eq!(fetch_once(&f, &mailbox, NOW).await.unwrap(), Pass { filed: 2 });
        let mail::Outcome::Duplicate { ticket, .. } = d.ingest(&corpus("new-plain.eml")).await else {
            panic!("{backend}: the first mail is stored")
        };
        assert_eq!(d.store.messages(ticket, true).await.unwrap().len(), 2, "{backend}: no message twice");

        // Another node cannot take a mailbox while the lease runs.
        assert!(d.store.claim_fetch(mailbox.id, "node-a", NOW, NOW + 60_000).await.unwrap());
        assert!(!d.store.claim_fetch(mailbox.id, "node-b", NOW + 1_000, NOW + 61_000).await.unwrap());
        assert!(d.store.claim_fetch(mailbox.id, "node-b", NOW + 60_000, NOW + 120_000).await.unwrap());
        assert!(matches!(fetch_once(&f, &mailbox, NOW + 61_000).await, Err(mail::imap::FetchError::LeaseLost)));

        // Moving instead of flagging.
        server.create_folder("Filed").await;
        let mut moving = settings(server.port);
        moving.after_fetch = AfterFetch::Move;
        moving.move_to = Some("Filed".into());
        let mailbox = with_imap(&mut d, moving).await;
        let new =
            mail("carl@customer.test", "support@desk.test", "Login broken", "carl-1@x.test", "", "Cannot log in.");
        server.append("INBOX", &[new]).await;
        let f = fetcher(&d, "node-b");
        assert_eq!(fetch_once(&f, &mailbox, NOW + 130_000).await.unwrap(), Pass { filed: 1 });
        assert_eq!(server.flags("INBOX").await.len(), 3, "{backend}: moved out of INBOX");
        assert_eq!(server.flags("Filed").await.len(), 1);
        assert_eq!(tickets(&d).await, 2);
    }
}

#[tokio::test]
async fn the_fetcher_idles_survives_a_restart_and_backs_off() {
    for (backend, mut d) in desks().await {
        let Some(mut server) = Dovecot::start().await else { return };
        with_imap(&mut d, settings(server.port)).await;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        // Test time: NOW plus the real time since the start.
        let started = Instant::now();
        let clock: Arc<dyn Fn() -> i64 + Send + Sync> = Arc::new(move || NOW + started.elapsed().as_millis() as i64);
        let task = tokio::spawn(fetcher(&d, "node-a").run(clock.clone(), stopped));
        let wait_for = |n: usize| {
            let d = &d;
            async move {
                let start = Instant::now();
                while tickets(d).await < n {
                    assert!(start.elapsed() < Duration::from_secs(20), "{backend}: waited for {n} tickets");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                start.elapsed()
            }
        };
        let first = mail("a@customer.test", "support@desk.test", "One", "one@x.test", "", "First.");
        server.append("INBOX", &[first]).await;
        wait_for(1).await;
        // Idling: new mail arrives without a poll (the poll is 60 s).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let second = mail("b@customer.test", "support@desk.test", "Two", "two@x.test", "", "Second.");
        server.append("INBOX", &[second]).await;
        let took = wait_for(2).await;
        assert!(took < Duration::from_secs(10), "{backend}: IDLE took {took:?}");

        // The server goes away: the mailbox is failing, retried with pauses.
        server.stop();
        let start = Instant::now();
        let failing = loop {
            let s = d.store.mailbox_fetch(d.mailbox.id).await.unwrap();
            if s.state == FetchState::Failing {
                break s;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "{backend}: never marked failing");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(failing.last_error.is_some());
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let later = d.store.mailbox_fetch(d.mailbox.id).await.unwrap();
        assert!(later.failures <= 4, "{backend}: {} tries in 1.5 s is a busy loop", later.failures);

        // Back again: mail is fetched, the mailbox is healthy.
        server.run().await;
        let third = mail("c@customer.test", "support@desk.test", "Three", "three@x.test", "", "Third.");
        server.append("INBOX", &[third]).await;
        wait_for(3).await;
        // The state is saved just after the filing.
        let start = Instant::now();
        let healthy = loop {
            let s = d.store.mailbox_fetch(d.mailbox.id).await.unwrap();
            if s.state == FetchState::Ok || start.elapsed() > Duration::from_secs(5) {
                break s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!((healthy.state, healthy.failures, healthy.last_uid), (FetchState::Ok, 0, 3), "{backend}");
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
        assert_eq!(tickets(&d).await, 3, "{backend}: each once");
    }
}

#[tokio::test]
async fn a_10000_message_mailbox_is_read_once() {
    // SQLite only: the size is the point, not the backend.
    let (_, mut d) = desks().await.into_iter().next().unwrap();
    let Some(mut server) = Dovecot::start().await else { return };
    server.stop();
    let cur = server.maildir().join("cur");
    for i in 0..10_000 {
        let raw = mail(
            &format!("c{}@customer.test", i % 300),
            "support@desk.test",
            &format!("Question {i}"),
            &format!("q{i}@customer.test"),
            "",
            "The export fails since this morning.",
        );
        std::fs::write(cur.join(format!("{i}.M{i}P1.bench:2,")), raw).unwrap();
    }
    server.run().await;
    let mailbox = with_imap(&mut d, settings(server.port)).await;
    let f = fetcher(&d, "node-a");
    let start = Instant::now();
    assert_eq!(fetch_once(&f, &mailbox, NOW).await.unwrap(), Pass { filed: 10_000 });
    let took = start.elapsed();
    eprintln!("10,000 messages fetched and filed in {took:?} ({:.0}/s)", 10_000.0 / took.as_secs_f64());
    let mut subjects = std::collections::HashSet::new();
    let mut query = store::TicketQuery { limit: 1_000, ..super::all() };
    loop {
        let page = d.store.tickets(&query).await.unwrap();
        subjects.extend(page.items.iter().map(|t| t.subject.clone()));
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(subjects.len(), 10_000, "every message its own ticket, once");
    assert_eq!(d.store.mailbox_fetch(mailbox.id).await.unwrap().last_uid, 10_000);
    let again = Instant::now();
    assert_eq!(fetch_once(&f, &mailbox, NOW).await.unwrap(), Pass { filed: 0 });
    assert!(again.elapsed() < Duration::from_secs(5), "a second pass reads nothing: {:?}", again.elapsed());
}
