//! Outgoing integrations: Slack incoming webhooks and generic webhooks that
//! receive Switchboard's events as JSON. Each delivery is logged; a hook
//! that keeps failing is switched off and its admins told.

use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;
use crate::{DeliveryId, DomainError, Millis, WebhookId};

/// Failed deliveries in a row after which a hook is switched off.
pub const MAX_FAILURES_IN_A_ROW: i64 = 5;

str_enum!(
    /// `slack`: an incoming-webhook URL; messages as Slack text. `generic`:
    /// any URL; the event as JSON, signed with the hook's secret.
    WebhookKind { Slack = "slack", Generic = "generic" }
);

/// The events a hook can receive.
pub const EVENTS: &[&str] = &[
    "ticket.created",
    "ticket.updated",
    "ticket.solved",
    "rating.received",
    "sla.breached",
    "escalation.raised",
    "approval.requested",
    "surge.detected",
    "spike.detected",
    "digest.weekly",
    "bottleneck.detected",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: WebhookId,
    pub name: String,
    pub kind: WebhookKind,
    pub url: String,
    /// Which of `EVENTS` it receives.
    pub events: Vec<String>,
    /// Ratings only when bad (for a channel that follows up on them).
    pub only_bad_ratings: bool,
    /// Signs generic deliveries (HMAC-SHA256); never shown after creation.
    #[serde(skip_serializing)]
    pub secret: String,
    pub active: bool,
    pub failures_in_a_row: i64,
    /// Why it was switched off, when it was.
    pub disabled_reason: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Webhook {
    pub fn wants(&self, event: &str) -> bool {
        self.active && self.events.iter().any(|e| e == event)
    }
}

/// A hook as an admin writes it, checked.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
pub struct WebhookInput {
    pub name: String,
    pub kind: WebhookKind,
    pub url: String,
    pub events: Vec<String>,
    #[serde(default)]
    pub only_bad_ratings: bool,
    /// Switching a disabled hook back on resets its failure count.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl WebhookInput {
    /// Every error, each naming its field.
    pub fn parse(mut self) -> Result<Self, Vec<DomainError>> {
        let mut errors = Vec::new();
        self.name = self.name.trim().to_string();
        if self.name.is_empty() || self.name.chars().count() > 100 {
            errors.push(DomainError::new("name", "must be 1 to 100 characters"));
        }
        self.url = self.url.trim().to_string();
        match url_host(&self.url) {
            None => errors.push(DomainError::new("url", "must be an http:// or https:// URL with a host")),
            Some(_) if self.kind == WebhookKind::Slack && !self.url.starts_with("https://") && !local(&self.url) => {
                errors.push(DomainError::new("url", "a Slack webhook URL starts with https://"))
            }
            Some(_) => {}
        }
        self.events.sort();
        self.events.dedup();
        if self.events.is_empty() {
            errors.push(DomainError::new("events", "choose at least one event"));
        }
        for e in &self.events {
            if !EVENTS.contains(&e.as_str()) {
                errors.push(DomainError::new("events", format!("'{e}' is not one of: {}", EVENTS.join(", "))));
            }
        }
        if errors.is_empty() { Ok(self) } else { Err(errors) }
    }
}

/// Test receivers and local relays listen on loopback over plain HTTP.
fn local(url: &str) -> bool {
    url_host(url).is_some_and(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]")
}

fn url_host(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') { host.split_inclusive(']').next()? } else { host.split(':').next()? };
    (!host.is_empty() && !host.contains(char::is_whitespace)).then_some(host)
}

/// One attempt to deliver an event, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event: String,
    pub attempt: i64,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub at: Millis,
}

impl Delivery {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// The signature header's value for a body sent at `timestamp` (seconds):
/// `sha256=` and the hex HMAC-SHA256 of `"{timestamp}.{body}"` under the
/// hook's secret. Receivers recompute it and compare, and refuse old
/// timestamps to stop replays.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: WebhookKind, url: &str, events: &[&str]) -> WebhookInput {
        WebhookInput {
            name: "Feedback channel".into(),
            kind,
            url: url.into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            only_bad_ratings: false,
            active: true,
        }
    }

    #[test]
    fn urls_and_events_are_checked() {
        assert!(
            input(WebhookKind::Slack, "https://hooks.slack.com/services/T/B/x", &["rating.received"]).parse().is_ok()
        );
        assert!(input(WebhookKind::Generic, "http://127.0.0.1:9/hook", &["ticket.created"]).parse().is_ok());
        let errs = input(WebhookKind::Slack, "http://hooks.slack.com/x", &["nope"]).parse().unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "events"]);
        assert!(input(WebhookKind::Generic, "ftp://x", &["ticket.created"]).parse().is_err());
        assert!(input(WebhookKind::Generic, "https://", &["ticket.created"]).parse().is_err());
        assert!(input(WebhookKind::Generic, "https://x.test", &[]).parse().is_err());
    }

    #[test]
    fn signatures_cover_time_and_body() {
        let a = signature("s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_eq!(a, signature("s3cret", 1_700_000_000, b"{\"a\":1}"));
        assert_ne!(a, signature("s3cret", 1_700_000_001, b"{\"a\":1}"));
        assert_ne!(a, signature("other", 1_700_000_000, b"{\"a\":1}"));
        assert_ne!(a, signature("s3cret", 1_700_000_000, b"{\"a\":2}"));
    }
}
