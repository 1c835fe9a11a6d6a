//! The outbox: replies addressed and queued with their message, sent once
//! with threading headers, retried with backoff, failures on the ticket;
//! acknowledgements with their loop guards and rate limit.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use domain::lifecycle::{self, MessageOutcome};
use domain::{Actor, AuthorKind, Channel, EventKind, OutboxKind, OutboxStatus, TicketId, Visibility};
use mail::delivery::{ATTEMPTS, Delivery, Round, SendError, Transport, retry_delay};
use mail::outbound;
use mail_parser::MessageParser;
use store::{MailStore, NewMessage, PageRequest, TicketStore, TicketWrite};

use super::{Desk, NOW, desks, mail};

/// Records what it is given; fails the first `fail` sends.
#[derive(Default)]
struct Sink {
    sent: Mutex<Vec<(Vec<String>, Vec<u8>)>>,
    fail: Mutex<Vec<SendError>>,
}

#[async_trait]
impl Transport for Sink {
    async fn send(&self, envelope: &lettre::address::Envelope, raw: &[u8]) -> Result<(), SendError> {
        if let Some(e) = self.fail.lock().unwrap().pop() {
            return Err(e);
        }
        let to = envelope.to().iter().map(|a| a.to_string()).collect();
        self.sent.lock().unwrap().push((to, raw.to_vec()));
        Ok(())
    }
}

fn delivery(d: &Desk, sink: &Arc<Sink>) -> Delivery {
    Delivery {
        store: d.inbox.store.clone(),
        files: d.inbox.files.clone(),
        transport: sink.clone(),
        secret: d.inbox.secret.clone(),
    }
}

/// The agent's public reply, addressed as the API addresses it.
async fn reply(d: &Desk, ticket: TicketId, text: &str, at: i64) -> domain::MessageId {
    let current = d.ticket(ticket).await;
    let identity = outbound::reply_identity(&d.store, &current).await.unwrap();
    assert!(identity.is_some(), "a mailbox to send from");
    let actor = Actor { kind: AuthorKind::Staff, id: Some(d.agent.0) };
    let MessageOutcome::Added { ticket: next, events } =
        lifecycle::add_message(&current, Visibility::Public, actor, at).unwrap()
    else {
        panic!("not added")
    };
    let message = NewMessage {
        visibility: Visibility::Public,
        author_kind: AuthorKind::Staff,
        author_id: Some(d.agent.0),
        channel: Channel::Api,
        body_text: text.into(),
        body_html: format!("<p>{text}</p>"),
        metadata: serde_json::json!({}),
        attachment_ids: vec![],
        created_at: at,
        email: identity,
    };
    d.store
        .write_ticket(TicketWrite { ticket: next, expected_version: current.version, events, messages: vec![message] })
        .await
        .unwrap();
    d.store.messages(ticket, true).await.unwrap().last().unwrap().id
}

fn header(raw: &[u8], name: &str) -> String {
    let text = String::from_utf8_lossy(raw).replace("\r\n ", " ");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {name} header in\n{text}"))
}

#[tokio::test]
async fn replies_go_out_once_threaded_and_retried() {
    for (backend, d) in desks().await {
        let sink = Arc::new(Sink::default());
        let (ticket, _, _) = d.stored(&super::corpus("new-plain.eml")).await;
        let message = reply(&d, ticket, "Please restart the printer.", NOW + 1_000).await;
        let queued = d.store.outbox(Some(OutboxStatus::Queued), PageRequest { after: None, limit: 10 }).await.unwrap();
        assert_eq!(queued.items.len(), 1, "{backend}: queued with the message");
        assert_eq!((queued.items[0].message_id, queued.items[0].kind), (message, OutboxKind::Reply));
        assert_eq!(queued.items[0].recipient, "ana.lima@customer.test");

        // A temporary failure: retried after a minute, not before.
        sink.fail.lock().unwrap().push(SendError { permanent: false, message: "421 try later".into() });
        let deliver = delivery(&d, &sink);
        assert_eq!(deliver.deliver_due(NOW + 2_000).await.unwrap(), Round { retrying: 1, ..Round::default() });
        assert_eq!(deliver.deliver_due(NOW + 30_000).await.unwrap(), Round::default(), "{backend}: not due yet");
        let version = d.ticket(ticket).await.version;
        let at = NOW + 2_000 + retry_delay(1);
        assert_eq!(deliver.deliver_due(at).await.unwrap(), Round { sent: 1, ..Round::default() });
        assert_eq!(deliver.deliver_due(at + 3_600_000).await.unwrap(), Round::default(), "{backend}: sent once");
        assert_eq!(d.ticket(ticket).await.version, version, "recording delivery leaves the ETag alone");

        let sent = sink.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        let (to, raw) = &sent[0];
        assert_eq!(to, &vec!["ana.lima@customer.test".to_string(), "bob@customer.test".to_string()]);
        let token = mail::thread::reply_token(&d.inbox.secret, ticket);
        assert!(header(raw, "Reply-To").contains(&format!("support+{token}@desk.test")), "{backend}");
        assert_eq!(header(raw, "In-Reply-To"), "<first-1@customer.test>");
        assert!(header(raw, "References").contains("<first-1@customer.test>"));
        assert_eq!(header(raw, "Subject"), format!("Re: Printer does not print [#{}]", ticket.0));
        assert!(header(raw, "Cc").contains("bob@customer.test"));
        let parsed = MessageParser::default().parse(raw.as_slice()).unwrap();
        let text = parsed.body_text(0).unwrap();
        assert!(text.contains("Please restart the printer.") && text.contains("Tom Becker"), "{text}");
        assert!(text.contains(&format!("[ref:{token}]")));
        let our_id = parsed.message_id().unwrap().to_string();

        let events = d.store.events(ticket).await.unwrap();
        let sent_event = events.iter().find(|e| e.kind == EventKind::EmailSent).expect("email_sent recorded");
        assert_eq!(sent_event.to["attempt"], 2);
        let entry = d.store.outbox(None, PageRequest { after: None, limit: 10 }).await.unwrap().items[0].clone();
        assert_eq!((entry.status, entry.attempts, entry.sent_at), (OutboxStatus::Sent, 2, Some(at)));
        let (identity, _) = d.store.message_email(message).await.unwrap().unwrap();
        assert!(identity.raw_key.is_some(), "{backend}: a copy of the sent mail is kept");

        // The customer answers our mail: it threads by our Message-ID.
        let answer = mail(
            "ana.lima@customer.test",
            "support@desk.test",
            "Re: something else",
            "answer-1@customer.test",
            &format!("In-Reply-To: <{our_id}>\r\n"),
            "Done, thanks.",
        );
        assert_eq!(d.stored(&answer).await.0, ticket, "{backend}");
    }
}

#[tokio::test]
async fn refused_or_unreachable_mail_fails_on_the_ticket() {
    for (backend, d) in desks().await {
        let sink = Arc::new(Sink::default());
        let deliver = delivery(&d, &sink);
        let (a, _, _) = d.stored(&super::corpus("new-plain.eml")).await;
        reply(&d, a, "First.", NOW + 1_000).await;
        // Refused for good: failed at once.
        sink.fail.lock().unwrap().push(SendError { permanent: true, message: "550 no such user".into() });
        assert_eq!(deliver.deliver_due(NOW + 2_000).await.unwrap(), Round { failed: 1, ..Round::default() });
        let failed = d.store.events(a).await.unwrap().into_iter().find(|e| e.kind == EventKind::EmailFailed).unwrap();
        assert_eq!(failed.to["error"], "550 no such user", "{backend}");

        // Never reachable: tried ATTEMPTS times with growing gaps, then failed.
        reply(&d, a, "Second.", NOW + 3_000).await;
        let mut at = NOW + 3_000;
        for attempt in 1..=ATTEMPTS {
            sink.fail.lock().unwrap().push(SendError { permanent: false, message: "connection refused".into() });
            let round = deliver.deliver_due(at).await.unwrap();
            if attempt < ATTEMPTS {
                assert_eq!(round, Round { retrying: 1, ..Round::default() }, "{backend}: attempt {attempt}");
                at += retry_delay(attempt);
            } else {
                assert_eq!(round, Round { failed: 1, ..Round::default() });
            }
        }
        assert_eq!(retry_delay(7), 64 * 60_000);
        let failures =
            d.store.events(a).await.unwrap().into_iter().filter(|e| e.kind == EventKind::EmailFailed).count();
        assert_eq!(failures, 2);
        let failed = d.store.outbox(Some(OutboxStatus::Failed), PageRequest { after: None, limit: 10 }).await.unwrap();
        assert_eq!(failed.items.len(), 2);
        assert!(sink.sent.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn concurrent_senders_send_each_mail_once() {
    for (backend, d) in desks().await {
        let sink = Arc::new(Sink::default());
        let (a, _, _) = d.stored(&super::corpus("new-plain.eml")).await;
        for i in 0..40 {
            reply(&d, a, &format!("Reply {i}"), NOW + 1_000 + i).await;
        }
        let nodes: Vec<Delivery> = (0..4).map(|_| delivery(&d, &sink)).collect();
        let mut rounds = Vec::new();
        for node in nodes {
            rounds.push(tokio::spawn(async move {
                let mut sent = 0;
                loop {
                    let r = node.deliver_due(NOW + 10_000).await.unwrap();
                    if r == Round::default() {
                        return sent;
                    }
                    sent += r.sent;
                }
            }));
        }
        let mut total = 0;
        for r in rounds {
            total += r.await.unwrap();
        }
        assert_eq!(total, 40, "{backend}");
        let mut ids: Vec<String> = sink.sent.lock().unwrap().iter().map(|(_, raw)| header(raw, "Message-ID")).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 40, "{backend}: every mail sent exactly once");
    }
}

#[tokio::test]
async fn acknowledgements_answer_people_not_machines_and_not_too_often() {
    for (backend, mut d) in desks().await {
        d.mailbox.auto_reply = Some(
            "Hello {{ customer.first_name }}, we have your request #{{ ticket.number }} \
            ({{ ticket.subject }}).\n\n{{ mailbox.name }}"
                .into(),
        );
        d.store.update_mailbox(&d.mailbox).await.unwrap();
        let (a, _, _) = d.stored(&super::corpus("new-plain.eml")).await;
        let messages = d.store.messages(a, true).await.unwrap();
        let ack = messages.iter().find(|m| m.author_kind == AuthorKind::System).expect("acknowledged");
        assert_eq!(
            ack.body_text,
            format!("Hello Ana, we have your request #{} (Printer does not print).\n\nSupport", a.0),
            "{backend}"
        );
        assert_eq!(ack.visibility, Visibility::Public);
        let queued = d.store.outbox(None, PageRequest { after: None, limit: 10 }).await.unwrap().items;
        assert_eq!((queued.len(), queued[0].kind), (1, OutboxKind::AutoReply));

        let sink = Arc::new(Sink::default());
        delivery(&d, &sink).deliver_due(NOW).await.unwrap();
        let raw = sink.sent.lock().unwrap()[0].1.clone();
        assert_eq!(header(&raw, "Auto-Submitted"), "auto-replied");
        assert_eq!(header(&raw, "In-Reply-To"), "<first-1@customer.test>");

        let count = |d: &Desk| {
            let store = d.store.clone();
            async move { store.outbox(None, PageRequest { after: None, limit: 100 }).await.unwrap().items.len() }
        };
        // Machines and ourselves get none.
        for (i, (from, extra)) in [
            ("carl@customer.test", "Auto-Submitted: auto-replied\r\n"),
            ("news@customer.test", "Precedence: bulk\r\n"),
            ("MAILER-DAEMON@customer.test", ""),
            ("support@desk.test", ""),
        ]
        .iter()
        .enumerate()
        {
            let raw = mail(from, "support@desk.test", "Out of office", &format!("auto-{i}@x.test"), extra, "Away.");
            assert!(d.stored(&raw).await.2, "{backend}: {from} still opens a ticket");
        }
        assert_eq!(count(&d).await, 1, "{backend}: no acknowledgement to machines or ourselves");
        // A person writing many new tickets gets MAX_PER_HOUR acknowledgements an hour.
        for i in 0..5 {
            let raw = mail(
                "dora@customer.test",
                "support@desk.test",
                &format!("Issue {i}"),
                &format!("d{i}@x.test"),
                "",
                "Help.",
            );
            d.stored(&raw).await;
        }
        assert_eq!(count(&d).await, 1 + mail::auto_reply::MAX_PER_HOUR as usize, "{backend}");
    }
}
