//! Who hears of what: in-app notices to agents, a team, its manager or the
//! head of support, and raising escalations with their notices.

use domain::event::NewEvent;
use domain::notification::NewNotification;
use domain::rules::{Escalation, EscalationRules, EscalationSource, EscalationState, EscalationTier};
use domain::{Actor, EscalationId, EventKind, Millis, Role, Ticket, UserId};
use serde_json::{Value, json};
use store::{PageRequest, Store, StoreError};

/// Active admins: the head of support and fallback approvers.
pub async fn admins(store: &dyn Store) -> Result<Vec<UserId>, StoreError> {
    // Staff are few; one page holds them all.
    let users = store.users(PageRequest { after: None, limit: 10_000 }).await?;
    Ok(users.items.iter().filter(|u| u.active && u.role == Role::Admin).map(|u| u.id).collect())
}

/// The managers a ticket escalates to: its team's lead, else the admins.
pub async fn managers_of(store: &dyn Store, t: &Ticket) -> Result<Vec<UserId>, StoreError> {
    if let Some(team) = t.team_id
        && let Some(lead) = store.team(team).await?.and_then(|t| t.lead_id)
    {
        return Ok(vec![lead]);
    }
    admins(store).await
}

pub fn notice(user: UserId, kind: &str, text: String, t: &Ticket, now: Millis) -> NewNotification {
    NewNotification { user_id: user, kind: kind.into(), text, ticket_id: Some(t.id), created_at: now }
}

/// The stored escalation rules (the defaults until an admin saves them).
pub async fn escalation_rules(store: &dyn Store) -> Result<EscalationRules, StoreError> {
    Ok(store.setting("escalation_rules").await?.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

/// Raises an escalation, records it on the ticket and tells those it goes
/// to; `None` when an automatic one of the same source is still open.
pub async fn escalate(
    store: &dyn Store,
    t: &Ticket,
    tier: EscalationTier,
    source: EscalationSource,
    reason: &str,
    by: Option<UserId>,
    now: Millis,
) -> Result<Option<EscalationId>, StoreError> {
    let actor = match by {
        Some(u) => Actor { kind: domain::AuthorKind::Staff, id: Some(u.0) },
        None => Actor::system(),
    };
    let event = NewEvent::change(
        now,
        actor,
        EventKind::Escalated,
        "escalation",
        Value::Null,
        json!({ "tier": tier, "source": source, "reason": reason }),
    );
    let e = Escalation {
        id: EscalationId(0),
        ticket_id: t.id,
        tier,
        source,
        reason: reason.to_string(),
        raised_by: by,
        state: EscalationState::Open,
        outcome: None,
        resolved_by: None,
        created_at: now,
        resolved_at: None,
    };
    let Some(id) = store.create_escalation(e, event).await? else { return Ok(None) };
    let to = match tier {
        EscalationTier::Manager => managers_of(store, t).await?,
        EscalationTier::Head => admins(store).await?,
    };
    let text = format!("#{} {} escalated to you ({source}): {reason}", t.id, t.subject);
    store.notify(to.into_iter().map(|u| notice(u, "escalation", text.clone(), t, now)).collect()).await?;
    let what = format!("escalated to the {tier} ({source}): {reason}");
    let mut out = crate::integrations::ticket_event("escalation.raised", t, &what, json!({ "escalation_id": id }));
    out.key = format!("escalation:{id}");
    crate::integrations::publish(store, out, now).await?;
    Ok(Some(id))
}
