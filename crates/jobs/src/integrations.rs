//! Events to Slack and generic webhooks. `publish` queues one delivery job
//! per hook that wants the event; `WebhookDeliver` sends it (Slack text,
//! or signed JSON), logs the attempt with the answer, retries with the
//! queue's backoff, and switches a hook off after repeated failures,
//! telling the admins. A slow or dead receiver only holds its own job.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use domain::integration::{Delivery, MAX_FAILURES_IN_A_ROW, Webhook, WebhookKind, signature};
use domain::notification::NewNotification;
use domain::survey::{Feedback, Rating};
use domain::{DeliveryId, EventKind, Job, Millis, NewJob, Status, Ticket, WebhookId};
use serde_json::{Value, json};
use store::{NewAuditEntry, Store, StoreError, TicketChange};

use crate::{Handler, JobError};

pub const WEBHOOK_DELIVER: &str = "webhook.deliver";
/// Attempts per event: with the queue's backoff (30 s doubling) the last is
/// about 15 minutes after the first.
pub const ATTEMPTS: i64 = 6;

/// An event for the hooks: its name, its data (with a one-line `summary`,
/// and `ticket_id` when it is about a ticket), and the rating's verdict
/// for hooks that only want bad ones.
pub struct Outgoing {
    pub event: &'static str,
    pub key: String,
    pub data: Value,
    pub rating: Option<Rating>,
}

/// Queues the event for every active hook that wants it; how many.
pub async fn publish(store: &dyn Store, out: Outgoing, now: Millis) -> Result<usize, StoreError> {
    let hooks = store.webhooks().await?;
    let mut queued = 0;
    for h in hooks.iter().filter(|h| h.wants(out.event)) {
        if h.only_bad_ratings && out.rating.is_some_and(|r| r != Rating::Bad) {
            continue;
        }
        let payload = json!({ "webhook_id": h.id.0, "event": out.event, "at": now, "data": out.data });
        let job = NewJob { max_attempts: ATTEMPTS, ..NewJob::new(WEBHOOK_DELIVER, payload, now, now) }
            .key(format!("hook:{}:{}", h.id, out.key));
        store.enqueue_job(job).await?;
        queued += 1;
    }
    Ok(queued)
}

/// A rating, with the names a channel wants to read.
pub async fn rating(store: &dyn Store, f: &Feedback) -> Result<Outgoing, StoreError> {
    let customer = store.customer(f.customer_id).await?;
    let agent = match f.agent_id {
        Some(a) => store.user(a).await?.map(|u| u.name),
        None => None,
    };
    let subject = match f.ticket_id {
        Some(t) => store.ticket(t).await?.map(|t| t.subject),
        None => None,
    };
    let who = customer.as_ref().map(|c| format!("{} <{}>", c.name, c.email)).unwrap_or_default();
    let mut summary = format!("{} {} ({}) from {who}", f.kind.as_str().to_uppercase(), f.rating, f.score);
    if let (Some(t), Some(s)) = (f.ticket_id, &subject) {
        summary.push_str(&format!(" on #{t} {s}"));
    }
    if let Some(a) = &agent {
        summary.push_str(&format!(", agent {a}"));
    }
    Ok(Outgoing {
        event: "rating.received",
        key: format!("rating:{}:{}", f.id, f.updated_at),
        data: json!({
            "summary": summary, "ticket_id": f.ticket_id, "feedback": f, "agent": agent,
            "customer": customer.as_ref().map(|c| json!({ "id": c.id, "name": c.name, "email": c.email, "tier": c.tier })),
            "ticket_subject": subject,
        }),
        rating: Some(f.rating),
    })
}

/// A ticket event.
pub fn ticket_event(event: &'static str, t: &Ticket, what: &str, extra: Value) -> Outgoing {
    Outgoing {
        event,
        key: format!("{event}:{}:v{}:{what}", t.id, t.version),
        data: json!({ "summary": format!("#{} {}: {what}", t.id, t.subject), "ticket_id": t.id, "ticket": t,
                      "detail": extra }),
        rating: None,
    }
}

/// An alert not tied to one ticket (a surge, a spike, the digest).
pub fn alert(event: &'static str, key: String, summary: String, detail: Value) -> Outgoing {
    Outgoing { event, key, data: json!({ "summary": summary, "detail": detail }), rating: None }
}

/// `ticket.created`, `ticket.solved` or `ticket.updated` for a change,
/// for the hooks that want them (a ticket is read only when one does).
pub async fn after_change(store: &dyn Store, c: &TicketChange, now: Millis) -> Result<(), StoreError> {
    let hooks = store.webhooks().await?;
    let wanted = |e: &str| hooks.iter().any(|h| h.wants(e));
    if !wanted("ticket.created") && !wanted("ticket.updated") && !wanted("ticket.solved") {
        return Ok(());
    }
    let Some(t) = store.ticket(c.ticket_id).await? else { return Ok(()) };
    let (event, what) = if c.kinds.contains(&EventKind::Created) {
        ("ticket.created", "created")
    } else if c.kinds.contains(&EventKind::StatusChanged) && t.status == Status::Solved {
        ("ticket.solved", "solved")
    } else {
        ("ticket.updated", "updated")
    };
    // The ticket as read now may be newer than the change; key by the change.
    let out = Outgoing {
        key: format!("{event}:{}:v{}", c.ticket_id, c.version),
        ..ticket_event(event, &t, what, json!({ "changes": c.kinds }))
    };
    publish(store, out, now).await?;
    Ok(())
}

/// Delivers `webhook.deliver` jobs.
pub struct WebhookDeliver {
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    /// Where ticket links in Slack messages point.
    pub base_url: String,
}

impl WebhookDeliver {
    pub fn new(store: Arc<dyn Store>, base_url: String, timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { store, client, base_url }
    }
}

/// A Slack message: the summary with the ticket linked, a rating's comment
/// quoted, and the digest's or alert's text as it is.
pub fn slack_body(event: &str, data: &Value, base_url: &str) -> Value {
    let summary = data.get("summary").and_then(Value::as_str).unwrap_or(event);
    let mut text = match data.get("ticket_id").and_then(Value::as_i64) {
        Some(t) => {
            let link = format!("<{}/tickets/{t}|#{t}>", base_url.trim_end_matches('/'));
            summary.replacen(&format!("#{t}"), &link, 1)
        }
        None => summary.to_string(),
    };
    let text_escaped = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    if let Some(c) = data.pointer("/feedback/comment").and_then(Value::as_str) {
        text.push_str(&format!("\n> {}", text_escaped(c).replace('\n', "\n> ")));
    }
    if let Some(body) = data.pointer("/detail/text").and_then(Value::as_str) {
        text.push_str(&format!("\n{body}"));
    }
    // A way into Switchboard to act on it (an approval to decide).
    if let Some(link) = data.pointer("/detail/link").and_then(Value::as_str).filter(|l| l.starts_with('/')) {
        let label = data.pointer("/detail/link_text").and_then(Value::as_str).unwrap_or("Open in Switchboard");
        text.push_str(&format!("\n<{}{link}|{label}>", base_url.trim_end_matches('/')));
    }
    json!({ "text": text })
}

/// The JSON a generic hook receives.
pub fn generic_body(event: &str, at: Millis, data: &Value, delivery: i64) -> Value {
    json!({ "event": event, "at": at, "delivery_id": delivery, "data": data })
}

#[async_trait]
impl Handler for WebhookDeliver {
    async fn run(&self, job: &Job, now: Millis) -> Result<(), JobError> {
        let p = &job.payload;
        let id = p.get("webhook_id").and_then(Value::as_i64).ok_or(JobError::Fail("no webhook_id".into()))?;
        let event = p.get("event").and_then(Value::as_str).unwrap_or_default().to_string();
        let data = p.get("data").cloned().unwrap_or(Value::Null);
        let Some(hook) = self.store.webhook(WebhookId(id)).await? else { return Ok(()) };
        if !hook.active {
            return Ok(());
        }
        let body = match hook.kind {
            WebhookKind::Slack => slack_body(&event, &data, &self.base_url),
            WebhookKind::Generic => {
                generic_body(&event, p.get("at").and_then(Value::as_i64).unwrap_or(now), &data, job.id.0)
            }
        };
        let bytes = serde_json::to_vec(&body).map_err(|e| JobError::Fail(e.to_string()))?;
        let mut req = self
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("user-agent", "Switchboard-Webhooks");
        if hook.kind == WebhookKind::Generic {
            let ts = now / 1000;
            req = req
                .header("x-switchboard-event", &event)
                .header("x-switchboard-delivery", job.id.0.to_string())
                .header("x-switchboard-timestamp", ts.to_string())
                .header("x-switchboard-signature", signature(&hook.secret, ts, &bytes));
        }
        let started = Instant::now();
        let answer = req.body(bytes).send().await;
        let duration_ms = started.elapsed().as_millis() as i64;
        let (status_code, error) = match &answer {
            Ok(r) if r.status().is_success() => (Some(i64::from(r.status().as_u16())), None),
            Ok(r) => (Some(i64::from(r.status().as_u16())), Some(format!("answered HTTP {}", r.status().as_u16()))),
            Err(e) if e.is_timeout() => (None, Some("timed out".to_string())),
            Err(e) => (None, Some(format!("could not connect: {e}"))),
        };
        let delivery = Delivery {
            id: DeliveryId(0),
            webhook_id: hook.id,
            event: event.clone(),
            attempt: job.attempts,
            status_code,
            error: error.clone(),
            duration_ms,
            at: now,
        };
        let switched_off = self.store.record_delivery(delivery, MAX_FAILURES_IN_A_ROW).await?;
        let Some(error) = error else { return Ok(()) };
        let last = job.attempts >= job.max_attempts;
        if switched_off || last {
            self.tell_admins(&hook, &event, &error, switched_off, now).await?;
        }
        if switched_off {
            return Err(JobError::Fail(format!("{}: {error}; the hook is switched off", hook.name)));
        }
        Err(JobError::Retry(format!("{}: {error}", hook.name)))
    }
}

impl WebhookDeliver {
    async fn tell_admins(
        &self,
        hook: &Webhook,
        event: &str,
        error: &str,
        switched_off: bool,
        now: Millis,
    ) -> Result<(), StoreError> {
        let text = if switched_off {
            format!(
                "Webhook \"{}\" was switched off after {MAX_FAILURES_IN_A_ROW} failed deliveries in a row ({error}). \
                 Fix its URL and switch it on again.",
                hook.name
            )
        } else {
            format!("Webhook \"{}\" could not deliver {event} after {ATTEMPTS} attempts ({error}).", hook.name)
        };
        let admins = crate::notices::admins(self.store.as_ref()).await?;
        self.store
            .notify(
                admins
                    .into_iter()
                    .map(|u| NewNotification {
                        user_id: u,
                        kind: "webhook".into(),
                        text: text.clone(),
                        ticket_id: None,
                        created_at: now,
                    })
                    .collect(),
            )
            .await?;
        self.store
            .append_audit(NewAuditEntry {
                at: now,
                actor: "system".into(),
                action: if switched_off { "webhook.disabled" } else { "webhook.undelivered" }.into(),
                target: format!("webhook:{}", hook.id),
                outcome: "failed".into(),
                detail: json!({ "event": event, "error": error }),
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_text_links_the_ticket_and_the_way_to_act() {
        let data = json!({ "summary": "#12 Printer: refund of 50.00 EUR to approve", "ticket_id": 12,
                           "detail": { "link": "/approvals", "link_text": "Approve or reject in Switchboard" } });
        let body = slack_body("approval.requested", &data, "https://help.example.com/");
        assert_eq!(
            body["text"],
            "<https://help.example.com/tickets/12|#12> Printer: refund of 50.00 EUR to approve\n\
             <https://help.example.com/approvals|Approve or reject in Switchboard>"
        );
    }
}
