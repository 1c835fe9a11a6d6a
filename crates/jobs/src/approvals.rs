//! An approval request left unanswered past its time limit goes to the
//! fallback approver (one job at the request's due time).

use std::sync::Arc;

use async_trait::async_trait;
use domain::event::NewEvent;
use domain::rules::{ApprovalLimits, ApprovalState};
use domain::{Actor, ApprovalId, EventKind, Job, Millis, NewJob};
use serde_json::{Value, json};
use store::{Store, StoreError};

use crate::notices::{admins, notice};
use crate::{Handler, JobError};

pub const APPROVAL_TIMEOUT: &str = "approvals.timeout";

pub fn timeout_job(id: ApprovalId, due_at: Millis, now: Millis) -> NewJob {
    NewJob::new(APPROVAL_TIMEOUT, json!({ "approval_id": id.0 }), due_at, now).key(format!("approval:{id}:timeout"))
}

pub async fn approval_limits(store: &dyn Store) -> Result<ApprovalLimits, StoreError> {
    Ok(store.setting("approval_limits").await?.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

/// Hands a still-pending request to the fallback approver; whether it did.
pub async fn escalate_approval(store: &dyn Store, id: ApprovalId, now: Millis) -> Result<bool, StoreError> {
    let Some(mut a) = store.approval(id).await? else { return Ok(false) };
    if a.state != ApprovalState::Pending || a.escalated || a.due_at > now {
        return Ok(false);
    }
    let limits = approval_limits(store).await?;
    let fallback = match limits.fallback_user_id {
        Some(u) => Some(u),
        None => admins(store).await?.into_iter().find(|u| Some(*u) != a.approver_id),
    };
    a.escalated = true;
    a.approver_id = fallback.or(a.approver_id);
    let event = NewEvent::change(
        now,
        Actor::system(),
        EventKind::ApprovalEscalated,
        "approval",
        Value::Null,
        json!({ "approval_id": a.id, "approver": a.approver_id }),
    );
    if !store.update_pending_approval(&a, event).await? {
        return Ok(false);
    }
    if let (Some(u), Some(t)) = (a.approver_id, store.ticket(a.ticket_id).await?) {
        let text = format!(
            "#{}: a {} of {} {} waits for your approval (unanswered for {} h)",
            t.id,
            a.kind,
            a.amount_minor as f64 / 100.0,
            a.currency,
            limits.timeout_hours
        );
        store.notify(vec![notice(u, "approval", text, &t, now)]).await?;
    }
    Ok(true)
}

/// `approvals.timeout`.
pub struct ApprovalTimeout {
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl Handler for ApprovalTimeout {
    async fn run(&self, job: &Job, now: Millis) -> Result<(), JobError> {
        let id =
            job.payload.get("approval_id").and_then(Value::as_i64).ok_or(JobError::Fail("no approval_id".into()))?;
        escalate_approval(self.store.as_ref(), ApprovalId(id), now).await?;
        Ok(())
    }
}
