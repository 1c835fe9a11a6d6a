//! Satisfaction surveys: a CSAT invitation some time after a ticket is
//! solved, on the ticket's own channel (mail for mail, web and API tickets;
//! a message in the conversation for chat, which the portal shows too).
//! A ticket is asked once; a customer who unsubscribed, or was asked too
//! recently, is not asked.

use async_trait::async_trait;
use domain::event::{Actor, EventKind, NewEvent};
use domain::survey::{self, Feedback, SurveyInvitation, SurveyKind, SurveySettings};
use domain::{
    AuthorKind, Channel, FeedbackId, Job, Millis, NewJob, Status, SurveyInvitationId, Ticket, TicketId, Tier,
    Visibility,
};
use serde_json::json;
use store::{NewMessage, Store, StoreError, TicketChange, TicketWrite};

use crate::{Handler, JobError};

pub const SURVEY_SEND: &str = "survey.send";
/// Where the survey settings are kept (`Store::setting`).
pub const SETTINGS_KEY: &str = "survey_settings";
/// The instance secret answer links are signed with.
pub const SECRET_NAME: &str = "survey_token";

/// The survey settings, or the defaults when none were saved.
pub async fn settings(store: &dyn Store) -> Result<SurveySettings, StoreError> {
    Ok(store
        .setting(SETTINGS_KEY)
        .await?
        .and_then(|v| serde_json::from_value::<SurveySettings>(v).ok())
        .unwrap_or_default())
}

/// The survey job for a change that solved a ticket, due after the
/// configured delay; keyed by ticket so solving twice asks once.
pub async fn after_change(store: &dyn Store, change: &TicketChange, now: Millis) -> Result<(), StoreError> {
    if !change.kinds.contains(&EventKind::StatusChanged) {
        return Ok(());
    }
    let s = settings(store).await?;
    if !s.csat_enabled {
        return Ok(());
    }
    let Some(t) = store.ticket(change.ticket_id).await? else { return Ok(()) };
    if t.status != Status::Solved || t.merged_into.is_some() || !s.csat_channels.contains(&t.channel) {
        return Ok(());
    }
    let due = now + s.csat_delay_minutes * 60_000;
    let job = NewJob::new(SURVEY_SEND, json!({ "ticket_id": t.id.0 }), due, now)
        .key(format!("survey:csat:{}:v{}", t.id, change.version));
    store.enqueue_job(job).await?;
    Ok(())
}

/// Sends a ticket's CSAT invitation when it is still due.
pub struct SurveySend {
    pub store: std::sync::Arc<dyn Store>,
    pub secret: String,
    /// Where answer links point (`https://help.example.com`).
    pub base_url: String,
}

/// Why a ticket is not asked; `None` when it is.
pub fn not_asked_because(
    s: &SurveySettings,
    t: &Ticket,
    unsubscribed: bool,
    last_surveyed: Option<Millis>,
    now: Millis,
) -> Option<&'static str> {
    if !s.csat_enabled {
        Some("csat is off")
    } else if !matches!(t.status, Status::Solved | Status::Closed) {
        Some("reopened")
    } else if t.merged_into.is_some() {
        Some("merged")
    } else if !s.csat_channels.contains(&t.channel) {
        Some("channel not surveyed")
    } else if unsubscribed {
        Some("unsubscribed")
    } else if last_surveyed.is_some_and(|last| s.next_allowed(last, false) > now) {
        Some("asked too recently")
    } else {
        None
    }
}

#[async_trait]
impl Handler for SurveySend {
    async fn run(&self, job: &Job, now: Millis) -> Result<(), JobError> {
        let id = job.payload.get("ticket_id").and_then(|v| v.as_i64()).ok_or(JobError::Fail("no ticket_id".into()))?;
        let store = self.store.as_ref();
        let s = settings(store).await?;
        for _ in 0..5 {
            let Some(t) = store.ticket(TicketId(id)).await? else { return Ok(()) };
            let inv = match store.ticket_invitation(t.id, SurveyKind::Csat).await? {
                Some(inv) if already_sent(store, t.id, inv.id).await? => return Ok(()),
                // Stored, but its message was not (the job stopped between the two).
                Some(inv) => inv,
                None => {
                    let unsubscribed = store.unsubscribed(t.requester_id).await?;
                    let last = store.last_surveyed(t.requester_id, None).await?;
                    if let Some(why) = not_asked_because(&s, &t, unsubscribed, last, now) {
                        tracing::debug!(ticket = %t.id, why, "no survey");
                        return Ok(());
                    }
                    let inv = SurveyInvitation {
                        id: SurveyInvitationId(0),
                        kind: SurveyKind::Csat,
                        scale: s.csat_scale,
                        ticket_id: Some(t.id),
                        customer_id: t.requester_id,
                        channel: t.channel,
                        sent_at: now,
                        expires_at: now + s.link_valid_ms(),
                        answered_at: None,
                    };
                    match store.create_invitation(inv.clone(), None).await? {
                        Some(id) => SurveyInvitation { id, ..inv },
                        None => continue,
                    }
                }
            };
            let message = self.invitation_message(&s, &t, &inv, now).await?;
            let event = NewEvent::change(
                now,
                Actor::system(),
                EventKind::SurveySent,
                "survey",
                serde_json::Value::Null,
                json!({ "invitation_id": inv.id.0, "kind": inv.kind }),
            );
            let mut next = t.clone();
            next.version = t.version + 1;
            next.updated_at = now;
            match store
                .write_ticket(TicketWrite {
                    ticket: next,
                    expected_version: t.version,
                    events: vec![event],
                    messages: vec![message],
                })
                .await
            {
                Ok(()) => return Ok(()),
                Err(StoreError::VersionConflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(JobError::Retry("the ticket kept changing".into()))
    }
}

async fn already_sent(store: &dyn Store, ticket: TicketId, inv: SurveyInvitationId) -> Result<bool, StoreError> {
    Ok(store
        .events(ticket)
        .await?
        .iter()
        .any(|e| e.kind == EventKind::SurveySent && e.to.get("invitation_id").and_then(|v| v.as_i64()) == Some(inv.0)))
}

impl SurveySend {
    /// The answer page of an invitation.
    pub fn link(&self, inv: &SurveyInvitation) -> String {
        let token = survey::sign(&self.secret, inv.id, inv.ticket_id, inv.expires_at);
        format!("{}/survey/{token}", self.base_url.trim_end_matches('/'))
    }

    async fn invitation_message(
        &self,
        s: &SurveySettings,
        t: &Ticket,
        inv: &SurveyInvitation,
        now: Millis,
    ) -> Result<NewMessage, JobError> {
        let store = self.store.as_ref();
        let customer = store.customer(t.requester_id).await?;
        let agent = match t.assignee_id {
            Some(a) => store.user(a).await?,
            None => None,
        };
        let ctx = domain::macros::MacroContext {
            ticket_number: t.id.0,
            ticket_subject: &t.subject,
            customer_name: customer.as_ref().map(|c| c.name.as_str()).unwrap_or_default(),
            customer_email: customer.as_ref().map(|c| c.email.as_str()).unwrap_or_default(),
            agent_name: agent.as_ref().map(|a| a.name.as_str()).unwrap_or_default(),
            agent_email: agent.as_ref().map(|a| a.email.as_str()).unwrap_or_default(),
        };
        let link = self.link(inv);
        let choices: Vec<String> = inv
            .kind
            .choices(inv.scale)
            .into_iter()
            .map(|(score, label)| format!("{label}: {link}?score={score}"))
            .collect();
        let body = survey::render(&s.csat_body, &ctx, &link, &choices.join("\n"))
            .map_err(|e| JobError::Fail(format!("survey template: {}", e.message)))?;
        let subject = survey::render(&s.csat_subject, &ctx, &link, "")
            .map_err(|e| JobError::Fail(format!("survey subject: {}", e.message)))?;
        let email = if t.channel == Channel::Chat {
            None
        } else {
            mail::outbound::reply_identity(store, t).await?.map(|mut e| {
                e.subject = subject;
                e
            })
        };
        Ok(NewMessage {
            visibility: Visibility::Public,
            author_kind: AuthorKind::System,
            author_id: None,
            channel: t.channel,
            body_text: format!("{body}\n\nNo more surveys: {link}/unsubscribe"),
            body_html: String::new(),
            metadata: json!({ "survey_invitation_id": inv.id.0 }),
            attachment_ids: vec![],
            created_at: now,
            email,
        })
    }
}

/// Records an answer to an invitation (or updates the earlier one), with
/// the sentiment of its comment and who and what it is about as they are
/// now; writes `satisfaction_received` on the ticket and hands the rating
/// to the integrations.
pub async fn record(
    store: &dyn Store,
    inv: &SurveyInvitation,
    answer: survey::Answer,
    now: Millis,
) -> Result<Feedback, StoreError> {
    use domain::sentiment::SentimentAnalyser;
    let ticket = match inv.ticket_id {
        Some(t) => store.ticket(t).await?,
        None => None,
    };
    let tier = store.customer(inv.customer_id).await?.map(|c| c.tier).unwrap_or(Tier::Standard);
    let sentiment = answer.comment.as_deref().map(|c| insight::sentiment::vader().analyse(c).score);
    let f = Feedback {
        id: FeedbackId(0),
        invitation_id: inv.id,
        kind: inv.kind,
        scale: inv.scale,
        score: answer.score,
        rating: inv.kind.rating(inv.scale, answer.score),
        reason: answer.reason,
        comment: answer.comment,
        sentiment,
        ticket_id: inv.ticket_id,
        customer_id: inv.customer_id,
        agent_id: ticket.as_ref().and_then(|t| t.assignee_id),
        team_id: ticket.as_ref().and_then(|t| t.team_id),
        channel: ticket.as_ref().map(|t| t.channel),
        tier,
        answered_at: now,
        updated_at: now,
        reviewed_at: None,
        reviewed_by: None,
        review_note: None,
    };
    let event = NewEvent::change(
        now,
        Actor { kind: AuthorKind::Customer, id: Some(inv.customer_id.0) },
        EventKind::SatisfactionReceived,
        inv.kind.as_str(),
        serde_json::Value::Null,
        json!({ "invitation_id": inv.id.0, "score": f.score, "rating": f.rating, "reason": f.reason,
                "comment": f.comment.is_some() }),
    );
    let id = store.save_feedback(f, ticket.is_some().then_some(event)).await?;
    let saved = store.feedback(id).await?.ok_or(StoreError::NotFound)?;
    crate::integrations::publish(store, crate::integrations::rating(store, &saved).await?, now).await?;
    Ok(saved)
}

pub const NPS_RUN: &str = "survey.nps";
pub const NPS_SEND: &str = "survey.nps.send";

/// Whether a customer falls in this run's sample: a stable hash of the
/// customer and the day, so the sample differs from day to day but a
/// repeated run picks the same people.
pub fn in_sample(customer: domain::CustomerId, day: i64, percent: i64) -> bool {
    let mut x = (customer.0 as u64) ^ (day as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x % 100) < percent.clamp(0, 100) as u64
}

/// `survey.nps`, daily: invites this run's sample of customers who were
/// not asked NPS within the interval (nor any survey within the cap), are
/// subscribed and not churned; one `survey.nps.send` job each.
pub struct NpsRun {
    pub store: std::sync::Arc<dyn Store>,
}

#[async_trait]
impl Handler for NpsRun {
    async fn run(&self, _: &Job, now: Millis) -> Result<(), JobError> {
        let store = self.store.as_ref();
        let s = settings(store).await?;
        if !s.nps_enabled {
            return Ok(());
        }
        let day = now / 86_400_000;
        let mut after = None;
        loop {
            let page = store.customers(store::PageRequest { after, limit: 500 }, None).await?;
            for c in &page.items {
                if c.churned_at.is_some() || !in_sample(c.id, day, s.nps_sample_percent) {
                    continue;
                }
                if store.unsubscribed(c.id).await? {
                    continue;
                }
                let last_nps = store.last_surveyed(c.id, Some(SurveyKind::Nps)).await?;
                let last_any = store.last_surveyed(c.id, None).await?;
                if last_nps.is_some_and(|l| s.next_allowed(l, true) > now)
                    || last_any.is_some_and(|l| s.next_allowed(l, false) > now)
                {
                    continue;
                }
                let inv = SurveyInvitation {
                    id: SurveyInvitationId(0),
                    kind: SurveyKind::Nps,
                    scale: s.csat_scale,
                    ticket_id: None,
                    customer_id: c.id,
                    channel: Channel::Email,
                    sent_at: now,
                    expires_at: now + s.link_valid_ms(),
                    answered_at: None,
                };
                if let Some(id) = store.create_invitation(inv, None).await? {
                    let job =
                        NewJob::new(NPS_SEND, json!({ "invitation_id": id.0 }), now, now).key(format!("nps:{id}"));
                    store.enqueue_job(job).await?;
                }
            }
            match page.next {
                Some(c) => after = Some(c.id),
                None => return Ok(()),
            }
        }
    }
}

/// `survey.nps.send`: mails one NPS invitation (retried until the SMTP
/// server takes it).
pub struct NpsSend {
    pub store: std::sync::Arc<dyn Store>,
    pub secret: String,
    pub base_url: String,
    pub transport: Option<std::sync::Arc<dyn mail::delivery::Transport>>,
}

#[async_trait]
impl Handler for NpsSend {
    async fn run(&self, job: &Job, _: Millis) -> Result<(), JobError> {
        let id = job.payload.get("invitation_id").and_then(|v| v.as_i64()).ok_or(JobError::Fail("no id".into()))?;
        let store = self.store.as_ref();
        let Some(inv) = store.invitation(SurveyInvitationId(id)).await? else { return Ok(()) };
        let Some(customer) = store.customer(inv.customer_id).await? else { return Ok(()) };
        let Some(transport) = &self.transport else {
            return Err(JobError::Retry("no SMTP server is configured (smtp_url)".into()));
        };
        let s = settings(store).await?;
        let sender =
            SurveySend { store: self.store.clone(), secret: self.secret.clone(), base_url: self.base_url.clone() };
        let link = sender.link(&inv);
        let ctx = domain::macros::MacroContext {
            ticket_number: 0,
            ticket_subject: "",
            customer_name: &customer.name,
            customer_email: &customer.email,
            agent_name: "",
            agent_email: "",
        };
        let choices: Vec<String> = (0..=10).map(|n| format!("{n}: {link}?score={n}")).collect();
        let body = survey::render(&s.nps_body, &ctx, &link, &choices.join("\n"))
            .map_err(|e| JobError::Fail(format!("NPS template: {}", e.message)))?;
        let subject = survey::render(&s.nps_subject, &ctx, &link, "")
            .map_err(|e| JobError::Fail(format!("NPS subject: {}", e.message)))?;
        let from = mail::outbound::sender_address(store).await?;
        let text = format!("{body}\n\nNo more surveys: {link}/unsubscribe");
        let html = format!("<p>{}</p>", text.replace('&', "&amp;").replace('<', "&lt;").replace('\n', "<br>"));
        let message =
            mail::delivery::notice_message(&from, std::slice::from_ref(&customer.email), &subject, &text, &html)
                .map_err(JobError::Fail)?;
        transport
            .send(message.envelope(), &message.formatted())
            .await
            .map_err(|e| if e.permanent { JobError::Fail(e.message) } else { JobError::Retry(e.message) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_about_the_share_asked_and_stable() {
        let picked = (1..=10_000).filter(|c| in_sample(domain::CustomerId(*c), 20_000, 10)).count();
        assert!((900..=1100).contains(&picked), "{picked}");
        assert_eq!(in_sample(domain::CustomerId(7), 1, 50), in_sample(domain::CustomerId(7), 1, 50));
        assert!((1..=1000).all(|c| in_sample(domain::CustomerId(c), 3, 100)));
        assert!(!(1..=1000).any(|c| in_sample(domain::CustomerId(c), 3, 0)));
    }
}
