//! Sending the outbox. Each node claims due mail with a lease (so no two
//! nodes send the same mail), builds the MIME message (threading headers,
//! reply address with the ticket's token, signature, hidden body marker),
//! hands it to the SMTP server and records the outcome on the ticket:
//! `email_sent`, or after the last try `email_failed`. Temporary failures
//! are retried 1, 2, 4 … 64 minutes apart; a permanent refusal (5xx) fails
//! at once.
//!
//! Nothing is sent twice unless a node dies between the server accepting a
//! mail and recording it (then the lease runs out and another node sends it
//! again, with the same Message-ID, which mail clients show once).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use domain::event::NewEvent;
use domain::{Actor, EventKind, Millis, OutboxKind};
use futures::StreamExt;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox as Address, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde_json::json;
use sha2::{Digest, Sha256};
use store::{OutgoingMail, Store, StoreError};

use crate::thread;

/// Tries before a mail counts as failed.
pub const ATTEMPTS: i64 = 8;
/// How long a claim holds a mail: longer than any SMTP conversation.
const LEASE_MS: Millis = 5 * 60_000;
/// Mails claimed at once.
const CLAIM: u32 = 32;
/// Mails being sent at once by one node.
const PARALLEL: usize = 8;

enum Outcome {
    Sent,
    Retrying,
    Failed,
}

/// Why a send did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// The server refused for good (5xx); retrying will not help.
    pub permanent: bool,
    pub message: String,
}

/// Where mail goes: an SMTP server, or anything else in tests.
#[async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, envelope: &lettre::address::Envelope, raw: &[u8]) -> Result<(), SendError>;
}

/// An SMTP server, from a URL: `smtp://host:25` (plain),
/// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://…:465`.
pub struct Smtp(AsyncSmtpTransport<Tokio1Executor>);

impl Smtp {
    pub fn from_url(url: &str) -> Result<Self, String> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| e.to_string())?;
        Ok(Self(builder.timeout(Some(Duration::from_secs(30))).build()))
    }
}

#[async_trait]
impl Transport for Smtp {
    async fn send(&self, envelope: &lettre::address::Envelope, raw: &[u8]) -> Result<(), SendError> {
        self.0
            .send_raw(envelope, raw)
            .await
            .map(|_| ())
            .map_err(|e| SendError { permanent: e.is_permanent(), message: e.to_string() })
    }
}

/// Sends due outbox mail. Cheap to clone.
#[derive(Clone)]
pub struct Delivery {
    pub store: Arc<dyn Store>,
    pub files: Arc<dyn ObjectStore>,
    pub transport: Arc<dyn Transport>,
    /// Keys reply tokens (see `thread::reply_token`).
    pub secret: String,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

impl Delivery {
    /// Claims the mail due at `now` and tries each once, `PARALLEL` at a
    /// time (an SMTP exchange is mostly waiting: on the network, and on
    /// the server's delayed ACK of the message's last segment).
    pub async fn deliver_due(&self, now: Millis) -> Result<Round, StoreError> {
        let claimed = self.store.claim_outbox(now, now + LEASE_MS, CLAIM).await?;
        let mut outcomes =
            futures::stream::iter(claimed).map(|mail| self.deliver(mail, now)).buffer_unordered(PARALLEL);
        let mut round = Round::default();
        while let Some(outcome) = outcomes.next().await {
            match outcome? {
                Outcome::Sent => round.sent += 1,
                Outcome::Retrying => round.retrying += 1,
                Outcome::Failed => round.failed += 1,
            }
        }
        Ok(round)
    }

    /// Tries one claimed mail and records what happened.
    async fn deliver(&self, mail: OutgoingMail, now: Millis) -> Result<Outcome, StoreError> {
        let id = mail.entry.message_id;
        let attempt = mail.entry.attempts + 1;
        let sent = match compose(&mail, &self.secret, now) {
            Ok(message) => {
                let raw = message.formatted();
                self.transport.send(message.envelope(), &raw).await.map(|()| raw)
            }
            Err(e) => Err(SendError { permanent: true, message: e }),
        };
        match sent {
            Ok(raw) => {
                let raw_key = format!("mail/{}.eml", hex::encode(Sha256::digest(&raw)));
                // The copy is a record; the mail went out either way.
                let kept =
                    self.files.put(&ObjectPath::from(raw_key.as_str()), PutPayload::from(Bytes::from(raw))).await;
                if let Err(e) = &kept {
                    tracing::warn!(error = %e, message = id.0, "keeping a copy of sent mail failed");
                }
                let event = event(
                    EventKind::EmailSent,
                    now,
                    json!({ "message_id": id.0, "to": mail.email.to, "cc": mail.email.cc, "attempt": attempt }),
                );
                self.store.outbox_sent(id, now, kept.is_ok().then_some(raw_key.as_str()), event).await?;
                Ok(Outcome::Sent)
            }
            Err(e) if e.permanent || attempt >= ATTEMPTS => {
                tracing::warn!(error = %e.message, message = id.0, attempt, "mail failed for good");
                let event = event(
                    EventKind::EmailFailed,
                    now,
                    json!({ "message_id": id.0, "to": mail.email.to, "error": e.message, "attempts": attempt }),
                );
                self.store.outbox_failed(id, &e.message, None, Some(event)).await?;
                Ok(Outcome::Failed)
            }
            Err(e) => {
                tracing::info!(error = %e.message, message = id.0, attempt, "mail not sent yet; will retry");
                self.store.outbox_failed(id, &e.message, Some(now + retry_delay(attempt)), None).await?;
                Ok(Outcome::Retrying)
            }
        }
    }

    /// Sends until `stop` resolves: a round whenever mail is due, checking
    /// every `idle` when there was none.
    pub async fn run(
        self,
        clock: impl Fn() -> Millis + Send,
        idle: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        loop {
            let round = self.deliver_due(clock()).await;
            let busy = match round {
                Ok(r) => r.sent + r.retrying + r.failed > 0,
                Err(e) => {
                    tracing::error!(error = %e, "outbox round failed");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }
}

/// Minutes before try `attempt + 1`: 1, 2, 4 … 64.
pub fn retry_delay(attempt: i64) -> Millis {
    60_000 << (attempt - 1).clamp(0, 6)
}

fn event(kind: EventKind, at: Millis, to: serde_json::Value) -> NewEvent {
    NewEvent { at, actor: Actor::system(), kind, field: None, from: serde_json::Value::Null, to }
}

fn address(name: Option<&str>, email: &str) -> Result<Address, String> {
    let email = email.parse().map_err(|e| format!("address {email}: {e}"))?;
    Ok(Address::new(name.map(str::to_string), email))
}

/// The MIME message for an outbox entry.
pub fn compose(mail: &OutgoingMail, secret: &str, now: Millis) -> Result<Message, String> {
    let e = &mail.email;
    let token = thread::reply_token(secret, mail.entry.ticket_id);
    let marker = thread::body_marker(&token);
    let mut builder = Message::builder()
        .from(address(mail.mailbox_name.as_deref(), &e.from)?)
        .reply_to(address(mail.mailbox_name.as_deref(), &thread::reply_address(&e.from, &token))?)
        .subject(e.subject.clone())
        .date(SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(now).unwrap_or_default()))
        .message_id(e.message_id.as_deref().map(bracketed));
    for to in &e.to {
        builder = builder.to(address(None, to)?);
    }
    for cc in &e.cc {
        builder = builder.cc(address(None, cc)?);
    }
    if let Some(parent) = &e.in_reply_to {
        builder = builder.in_reply_to(bracketed(parent));
    }
    if !e.references.is_empty() {
        builder = builder.references(e.references.iter().map(|r| bracketed(r)).collect::<Vec<_>>().join(" "));
    }
    let signature = match (&mail.author_name, &mail.mailbox_name) {
        (Some(author), Some(mailbox)) => format!("{author}\n{mailbox}"),
        (Some(author), None) => author.clone(),
        (None, Some(mailbox)) => mailbox.clone(),
        (None, None) => String::new(),
    };
    let text = format!("{}\n\n-- \n{signature}\n\n{marker}\n", mail.body_text.trim_end());
    let html = format!(
        "<div>{}</div><p>-- <br>{}</p><div style=\"display:none;color:transparent;font-size:1px\">{marker}</div>",
        mail.body_html,
        escape(&signature).replace('\n', "<br>")
    );
    let mut message = builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
        )
        .map_err(|e| e.to_string())?;
    if mail.entry.kind == OutboxKind::AutoReply {
        // RFC 3834: automatic answers say so, and ask for none in return.
        let headers = message.headers_mut();
        headers.insert_raw(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-replied".into()));
        headers.insert_raw(HeaderValue::new(HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"), "All".into()));
    }
    Ok(message)
}

/// `<id>`: ids are stored without brackets.
fn bracketed(id: &str) -> String {
    format!("<{}>", id.trim_start_matches('<').trim_end_matches('>'))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A plain message from Switchboard to staff (the weekly digest): text and
/// HTML alternatives, addressed to each of `to`.
pub fn notice_message(from: &str, to: &[String], subject: &str, text: &str, html: &str) -> Result<Message, String> {
    let mut builder = Message::builder().from(address(Some("Switchboard"), from)?).subject(subject);
    for t in to {
        builder = builder.to(address(None, t)?);
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text.to_string()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html.to_string())),
        )
        .map_err(|e| e.to_string())
}
