#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Filing inbound mail, on SQLite and (when `SWITCHBOARD_TEST_PG` is set)
//! PostgreSQL, each test on its own database, with a corpus of awkward mail.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use domain::{
    AuthorKind, EmailAddress, EventKind, Mailbox, Role, Status, TeamId, Ticket, TicketId, User, UserId, Visibility,
};
use mail::{Inbox, Outcome, thread};
use store::{DirectoryStore, MailStore, SqlStore, Store, TicketStore};

static NEXT: AtomicU64 = AtomicU64::new(0);
const NOW: i64 = 1_793_000_000_000;

struct Desk {
    store: SqlStore,
    inbox: Inbox,
    mailbox: Mailbox,
    agent: UserId,
}

async fn stores() -> Vec<(&'static str, SqlStore)> {
    let dir = std::env::temp_dir().join(format!("switchboard-mail-{}", std::process::id()));
    let path = dir.join(format!("m{}.db", NEXT.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_file(&path);
    let mut out = vec![("sqlite", store_sqlite::open(&path).await.unwrap())];
    if let Some(url) = store_pg::testing::fresh_database().await.unwrap() {
        out.push(("pg", store_pg::Pg::connect(&url).await.unwrap().into_store()));
    }
    out
}

async fn desks() -> Vec<(&'static str, Desk)> {
    let mut out = Vec::new();
    for (name, store) in stores().await {
        let files_dir = std::env::temp_dir().join(format!(
            "switchboard-mail-files-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&files_dir).unwrap();
        let files = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(&files_dir).unwrap());
        let team = store
            .create_team(
                domain::Team {
                    id: TeamId(0),
                    name: "Support".into(),
                    description: String::new(),
                    lead_id: None,
                    member_ids: vec![],
                    created_at: NOW,
                    updated_at: NOW,
                },
                None,
            )
            .await
            .unwrap()
            .id;
        let mut mailbox = Mailbox::new(&EmailAddress::parse("support@desk.test").unwrap(), "Support", Some(team), NOW);
        mailbox.id = store.create_mailbox(mailbox.clone(), "token", None).await.unwrap().id;
        let agent = store
            .create_user(
                User {
                    id: UserId(0),
                    email: "tom@desk.test".into(),
                    name: "Tom Becker".into(),
                    role: Role::Agent,
                    active: true,
                    reports_to: None,
                    time_zone: None,
                    created_at: NOW,
                    updated_at: NOW,
                },
                None,
                None,
            )
            .await
            .unwrap()
            .id;
        let inbox = Inbox {
            store: Arc::new(store.clone()) as Arc<dyn Store>,
            files,
            secret: "test-secret".into(),
            max_attachment_bytes: 1024,
        };
        out.push((name, Desk { store, inbox, mailbox, agent }));
    }
    out
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn mail(from: &str, to: &str, subject: &str, id: &str, extra: &str, body: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra}\r\n{body}\r\n")
        .into_bytes()
}

impl Desk {
    async fn ingest(&self, raw: &[u8]) -> Outcome {
        self.inbox.ingest(&self.mailbox, raw, NOW).await.unwrap()
    }

    async fn stored(&self, raw: &[u8]) -> (TicketId, domain::MessageId, bool) {
        match self.ingest(raw).await {
            Outcome::Stored { ticket, message, created } => (ticket, message, created),
            other => panic!("not stored: {other:?}"),
        }
    }

    async fn ticket(&self, id: TicketId) -> Ticket {
        self.store.ticket(id).await.unwrap().unwrap()
    }

    async fn events(&self, id: TicketId) -> Vec<EventKind> {
        self.store.events(id).await.unwrap().iter().map(|e| e.kind).collect()
    }
}

#[tokio::test]
async fn new_mail_opens_a_ticket_once_and_replies_thread() {
    for (backend, d) in desks().await {
        let raw = corpus("new-plain.eml");
        let (id, first, created) = d.stored(&raw).await;
        assert!(created, "{backend}");
        let t = d.ticket(id).await;
        assert_eq!(t.subject, "Printer does not print");
        assert_eq!(t.channel, domain::Channel::Email);
        assert_eq!(t.team_id, d.mailbox.team_id);
        let ana = d.store.customer_by_email("ana.lima@customer.test").await.unwrap().unwrap();
        assert_eq!((t.requester_id, ana.name.as_str()), (ana.id, "Ana Lima"));
        // Bob (CC'd) is a collaborator; Tom (CC'd, staff) is not made a customer.
        let bob = d.store.customer_by_email("bob@customer.test").await.unwrap().unwrap();
        assert_eq!(d.store.collaborators(id).await.unwrap(), vec![bob.id]);
        assert!(d.store.customer_by_email("tom@desk.test").await.unwrap().is_none());
        let messages = d.store.messages(id, true).await.unwrap();
        assert_eq!(messages[0].author_kind, AuthorKind::Customer);
        assert!(messages[0].body_text.starts_with("Hello, my printer"));
        let fold = messages[0].metadata["email"]["fold_at"].as_u64().unwrap() as usize;
        assert!(messages[0].body_text[fold..].starts_with("-- "), "the signature is folded");

        // The same mail again, and again with LF line ends as a forwarder
        // would push it: stored once.
        assert_eq!(d.ingest(&raw).await, Outcome::Duplicate { ticket: id, message: first });
        let lf: Vec<u8> = String::from_utf8(raw.clone()).unwrap().replace("\r\n", "\n").into_bytes();
        let crlf: Vec<u8> = String::from_utf8(lf.clone()).unwrap().replace('\n', "\r\n").into_bytes();
        assert_eq!(d.ingest(&crlf).await, Outcome::Duplicate { ticket: id, message: first });
        assert_eq!(d.store.messages(id, true).await.unwrap().len(), 1);

        // A reply by In-Reply-To; a reply by the collaborator via References.
        let reply = mail(
            "ana.lima@customer.test",
            "support@desk.test",
            "Re: Printer does not print",
            "reply-1@customer.test",
            "In-Reply-To: <first-1@customer.test>\r\n",
            "Still broken.",
        );
        assert_eq!(d.stored(&reply).await.0, id);
        let bob_reply = mail(
            "bob@customer.test",
            "support@desk.test",
            "Re: Printer",
            "bob-1@customer.test",
            "References: <first-1@customer.test> <reply-1@customer.test>\r\n",
            "Same here.",
        );
        assert_eq!(d.stored(&bob_reply).await.0, id);
        // Staff mail on the thread is the agent's reply.
        let staff = mail(
            "Tom Becker <TOM@desk.test>",
            "support@desk.test",
            "Re: Printer",
            "tom-1@desk.test",
            "In-Reply-To: <reply-1@customer.test>\r\n",
            "Please restart it.",
        );
        let (on, m, _) = d.stored(&staff).await;
        assert_eq!(on, id);
        let messages = d.store.messages(id, true).await.unwrap();
        let agent_msg = messages.iter().find(|x| x.id == m).unwrap();
        assert_eq!((agent_msg.author_kind, agent_msg.author_id), (AuthorKind::Staff, Some(d.agent.0)));
        assert_eq!(d.ticket(id).await.status, Status::Open, "a staff reply opens the ticket");
        assert_eq!(d.store.tickets(&all()).await.unwrap().items.len(), 1, "{backend}: one ticket in all");
    }
}

fn all() -> store::TicketQuery {
    store::TicketQuery {
        scope: domain::TicketScope::All,
        filter: Default::default(),
        text: Default::default(),
        staff_text: true,
        sort: Default::default(),
        after: None,
        limit: 100,
    }
}

#[tokio::test]
async fn tokens_markers_and_subject_tags_thread_but_only_for_people_on_the_ticket() {
    for (backend, d) in desks().await {
        let (id, _, _) = d.stored(&corpus("new-plain.eml")).await;
        let token = thread::reply_token("test-secret", id);
        // A provider rewrote Message-IDs: the reply address carries the token.
        let to = thread::reply_address("support@desk.test", &token);
        let by_address = mail("ana.lima@customer.test", &to, "Re: something", "a1@x.test", "", "by address");
        assert_eq!(d.stored(&by_address).await.0, id, "{backend}");
        // Only the quoted body marker is left.
        let marker = format!("thanks\r\n\r\n> old text {}\r\n", thread::body_marker(&token));
        let by_marker = mail("ana.lima@customer.test", "support@desk.test", "Re: x", "a2@x.test", "", &marker);
        assert_eq!(d.stored(&by_marker).await.0, id);
        // Just the subject tag.
        let tagged = format!("Re: [#{}] Printer", id.0);
        let by_tag = mail("ana.lima@customer.test", "support@desk.test", &tagged, "a3@x.test", "", "by tag");
        assert_eq!(d.stored(&by_tag).await.0, id);
        // A forged token (wrong check) does not thread.
        let forged = thread::reply_address("support@desk.test", &format!("t{}.deadbeef", id.0));
        let bad = mail("ana.lima@customer.test", &forged, "Hello", "a4@x.test", "", "forged");
        let (other, _, created) = d.stored(&bad).await;
        assert!(created && other != id);

        // An outsider naming the ticket gets a ticket of their own, linked.
        let outsider = mail("mallory@evil.test", "support@desk.test", &tagged, "m1@evil.test", "", "let me in");
        let (theirs, _, created) = d.stored(&outsider).await;
        assert!(created && theirs != id);
        let events = d.store.events(theirs).await.unwrap();
        let related = events.iter().find(|e| e.kind == EventKind::RelatedTo).unwrap();
        assert_eq!(related.to, serde_json::json!(id.0));
        assert!(d.store.messages(id, true).await.unwrap().iter().all(|m| !m.body_text.contains("let me in")));
    }
}

#[tokio::test]
async fn forwards_from_agents_and_replies_to_closed_tickets() {
    for (backend, d) in desks().await {
        let fwd = mail(
            "tom@desk.test",
            "support@desk.test",
            "Fwd: Refund please",
            "fwd-1@desk.test",
            "",
            "Can someone take this?\r\n\r\n---------- Forwarded message ---------\r\nFrom: Erin Gray <erin@customer.test>\r\nSubject: Refund please\r\n\r\nI want my money back.",
        );
        let (id, m, created) = d.stored(&fwd).await;
        assert!(created, "{backend}");
        let erin = d.store.customer_by_email("erin@customer.test").await.unwrap().unwrap();
        assert_eq!((d.ticket(id).await.requester_id, erin.name.as_str()), (erin.id, "Erin Gray"));
        let first = d.store.messages(id, true).await.unwrap().into_iter().find(|x| x.id == m).unwrap();
        assert_eq!((first.author_kind, first.visibility), (AuthorKind::Staff, Visibility::Internal));

        // Close it; Erin's reply opens a linked follow-up.
        let t = d.ticket(id).await;
        let mut closed = t.clone();
        closed.status = Status::Closed;
        d.store
            .write_ticket(store::TicketWrite {
                ticket: closed,
                expected_version: t.version,
                events: vec![],
                messages: vec![],
            })
            .await
            .unwrap();
        let late = mail(
            "erin@customer.test",
            "support@desk.test",
            "Re: Refund please",
            "late-1@customer.test",
            "In-Reply-To: <fwd-1@desk.test>\r\n",
            "Any news?",
        );
        let (follow, _, created) = d.stored(&late).await;
        assert!(created && follow != id);
        assert_eq!(d.ticket(follow).await.follow_up_of, Some(id));
    }
}

#[tokio::test]
async fn awkward_mail_is_filed_or_quarantined_never_lost() {
    for (backend, d) in desks().await {
        // HTML only, hostile, encoded-word subject, Latin-1 body, cid image.
        let (id, m, _) = d.stored(&corpus("html-only-hostile.eml")).await;
        assert_eq!(d.ticket(id).await.subject, "Ärger mit der Rechnung", "{backend}");
        let msg = d.store.messages(id, true).await.unwrap().into_iter().find(|x| x.id == m).unwrap();
        assert!(msg.body_text.contains("Grüße"), "{}", msg.body_text);
        let html = &msg.body_html;
        for bad in ["<script", "onclick", "javascript:", "tracker.test", "<style"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("https://example.test/x") && html.contains("noopener"));
        let logo = &msg.attachments[0];
        assert_eq!(logo.file_name, "logo.png");
        assert!(html.contains(&format!("/api/v1/attachments/{}", logo.id)), "{html}");

        // Nested multiparts, windows-1252, a calendar invite kept as a file.
        let (id, _, _) = d.stored(&corpus("nested-calendar.eml")).await;
        let msg = &d.store.messages(id, true).await.unwrap()[0];
        assert!(msg.body_text.contains("Let’s meet"), "{}", msg.body_text);
        assert_eq!(msg.attachments[0].content_type, "text/calendar");

        // Auto-replies are stored and flagged, so nothing answers them.
        let (id, _, _) = d.stored(&corpus("auto-reply.eml")).await;
        assert_eq!(d.store.messages(id, true).await.unwrap()[0].metadata["email"]["automatic"], true);

        // No sender: quarantined with the reason, the same mail again is
        // one entry with two attempts.
        let raw = corpus("no-from.eml");
        let Outcome::Quarantined { id: q, reason } = d.ingest(&raw).await else { panic!("not quarantined") };
        assert!(reason.contains("From"), "{reason}");
        assert!(matches!(d.ingest(&raw).await, Outcome::Quarantined { id, .. } if id == q));
        assert_eq!(d.store.quarantine_entry(q).await.unwrap().unwrap().attempts, 2);
        // Garbage and empty input too.
        assert!(matches!(d.ingest(b"\x00\xff\xfe not mail").await, Outcome::Quarantined { .. }));
        assert!(matches!(d.ingest(b"   ").await, Outcome::Quarantined { .. }));

        // An attachment over the limit (1 KiB here): message kept, file
        // replaced by a notice.
        let big = "A".repeat(4000);
        let raw = format!(
            "From: big@customer.test\r\nTo: support@desk.test\r\nSubject: big file\r\nMessage-ID: <big@x>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=big.bin\r\n\r\n{big}\r\n--b--\r\n"
        );
        let (id, _, _) = d.stored(raw.as_bytes()).await;
        let msg = &d.store.messages(id, true).await.unwrap()[0];
        assert!(msg.attachments.is_empty());
        assert!(msg.body_text.contains("big.bin") && msg.body_text.contains("over the size limit"));

        // No Message-ID at all: still stored, and still only once.
        let raw = b"From: x@customer.test\r\nTo: support@desk.test\r\nSubject: no id\r\n\r\nhello\r\n";
        let (id, m, _) = d.stored(raw).await;
        assert_eq!(d.ingest(raw).await, Outcome::Duplicate { ticket: id, message: m });
        // Two different mails with the same Message-ID are both kept.
        let a = mail("y@customer.test", "support@desk.test", "dup id", "same@x", "", "first");
        let b = mail("y@customer.test", "support@desk.test", "dup id", "same@x", "", "second");
        d.stored(&a).await;
        d.stored(&b).await;
    }
}

#[tokio::test]
async fn bounces_are_recorded_on_the_ticket() {
    for (backend, d) in desks().await {
        let (id, _, _) = d.stored(&corpus("new-plain.eml")).await;
        let dsn = "From: MAILER-DAEMON@mx.customer.test\r\nTo: support@desk.test\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx>\r\nAuto-Submitted: auto-replied\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nI could not deliver your message.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.test\r\n\r\nFinal-Recipient: rfc822; ana.lima@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@desk.test\r\nMessage-ID: <first-1@customer.test>\r\nSubject: Re: Printer\r\n--r--\r\n";
        let (on, m, created) = d.stored(dsn.as_bytes()).await;
        assert_eq!((on, created), (id, false), "{backend}");
        assert!(d.events(id).await.contains(&EventKind::EmailBounced));
        let note = d.store.messages(id, true).await.unwrap().into_iter().find(|x| x.id == m).unwrap();
        assert_eq!((note.author_kind, note.visibility), (AuthorKind::System, Visibility::Internal));
        assert!(note.body_text.contains("ana.lima@customer.test") && note.body_text.contains("user unknown"));
    }
}

#[path = "ingest/dovecot.rs"]
mod dovecot;
#[path = "ingest/imap.rs"]
mod imap;
/// Inputs from the fuzz target (see tests/fuzz-regressions/README.md):
/// each ends as a stored message, a duplicate or a quarantine entry.
#[tokio::test]
async fn fuzz_findings_are_filed_or_quarantined() {
    let dir = format!("{}/tests/fuzz-regressions", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("fuzz-")))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the regression inputs are there");
    for (backend, d) in desks().await {
        for f in &files {
            let raw = std::fs::read(f).unwrap();
            let outcome = d.inbox.ingest(&d.mailbox, &raw, NOW).await;
            assert!(outcome.is_ok(), "{backend}: {}: {outcome:?}", f.display());
        }
    }
}

#[path = "ingest/outbox.rs"]
mod outbox;
