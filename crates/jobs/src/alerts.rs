//! Telling managers of something they should act on (a bottleneck, a
//! spike): once per key, in the app, through the hooks that take the event
//! (Slack, generic), and by mail to the active managers when an SMTP
//! server is set (a retried job of its own, so a mail server that fails
//! neither loses the alert nor repeats the others).

use std::sync::Arc;

use async_trait::async_trait;
use domain::notification::NewNotification;
use domain::{Job, Millis, NewJob, Role, UserId};
use serde_json::{Value, json};
use store::{PageRequest, Store, StoreError};

use crate::{Handler, JobError};

pub const ALERT_MAIL: &str = "alerts.mail";

/// Something managers should hear of now.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The hooks' event: `bottleneck.detected`, `spike.detected`.
    pub event: &'static str,
    /// The in-app notification's kind: `bottleneck`, `spike`.
    pub kind: &'static str,
    /// Told once per key.
    pub key: String,
    pub text: String,
    /// What the hooks receive beside the text.
    pub detail: Value,
}

async fn managers(store: &dyn Store, and_admins: bool) -> Result<Vec<domain::User>, StoreError> {
    Ok(store
        .users(PageRequest { after: None, limit: 10_000 })
        .await?
        .items
        .into_iter()
        .filter(|u| u.active && (u.role == Role::Manager || (and_admins && u.role == Role::Admin)))
        .collect())
}

/// Tells of `alert` unless its key was told before; true when it told.
pub async fn raise(store: &dyn Store, alert: Alert, now: Millis) -> Result<bool, StoreError> {
    let told = format!("alerted:{}", alert.key);
    if store.setting(&told).await?.is_some() {
        return Ok(false);
    }
    store.set_setting(&told, &json!(now)).await?;
    let out = crate::integrations::alert(alert.event, alert.key.clone(), alert.text.clone(), alert.detail);
    crate::integrations::publish(store, out, now).await?;
    let readers: Vec<UserId> = managers(store, true).await?.into_iter().map(|u| u.id).collect();
    let notes = readers
        .into_iter()
        .map(|user_id| NewNotification {
            user_id,
            kind: alert.kind.into(),
            text: alert.text.clone(),
            ticket_id: None,
            created_at: now,
        })
        .collect();
    store.notify(notes).await?;
    let mail = NewJob::new(ALERT_MAIL, json!({ "text": alert.text }), now, now).key(format!("alert:{}", alert.key));
    store.enqueue_job(mail).await?;
    Ok(true)
}

/// `alerts.mail`: the alert's text to the active managers who have not
/// turned alert mail off (not admins, who set the system up; they read it
/// in the app).
pub struct AlertMail {
    pub store: Arc<dyn Store>,
    pub transport: Option<Arc<dyn mail::delivery::Transport>>,
}

#[async_trait]
impl Handler for AlertMail {
    async fn run(&self, job: &Job, _: Millis) -> Result<(), JobError> {
        let store = self.store.as_ref();
        let Some(transport) = self.transport.as_deref() else { return Ok(()) };
        let mut recipients = Vec::new();
        for u in managers(store, false).await? {
            if store.preferences(u.id).await?.alert_mail {
                recipients.push(u.email);
            }
        }
        let text = job.payload.get("text").and_then(Value::as_str).unwrap_or_default();
        if recipients.is_empty() || text.is_empty() {
            return Ok(());
        }
        let from = mail::outbound::sender_address(store).await?;
        let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let html = format!("<p>{escaped}</p><p>The cockpit shows it with the figures behind it.</p>");
        let plain = format!("{text}\n\nThe cockpit shows it with the figures behind it.");
        let mut subject: String = text.chars().take(100).collect();
        if subject.len() < text.len() {
            subject.push('…');
        }
        let message =
            mail::delivery::notice_message(&from, &recipients, &format!("Support alert: {subject}"), &plain, &html)
                .map_err(JobError::Fail)?;
        transport.send(message.envelope(), &message.formatted()).await.map_err(|e| JobError::Retry(e.message))
    }
}
