//! Keeping each ticket's SLA current: after every change, and at each
//! ticket's next warning or due time (a job at that time, never a sweep of
//! all open tickets), the ticket is evaluated against the policy that
//! applies to it, the new warnings, breaches and fulfilments are recorded
//! as ticket events (at the instant they happened), and the next check is
//! enqueued.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use domain::event::NewEvent;
use domain::sla::{self, Clocks, SlaState, TicketSla};
use domain::{Actor, BusinessClock, EventKind, Job, Millis, NewJob, TicketEvent, TicketId, Tier};
use serde_json::{Value, json};
use store::{Store, StoreError};

use crate::{Handler, JobError};

pub const SLA_CHECK: &str = "sla.check";
pub const SLA_RECONCILE: &str = "sla.reconcile";
pub const SLA_REAPPLY: &str = "sla.reapply";

/// The job that checks one ticket now (once per ticket version).
pub fn check_now(ticket: TicketId, version: i64, now: Millis) -> NewJob {
    NewJob::new(SLA_CHECK, json!({ "ticket_id": ticket.0 }), now, now).key(format!("sla:{ticket}:v{version}"))
}

/// The requester's tier, or their organization's when that is higher.
pub(crate) async fn tier_of(store: &dyn Store, t: &domain::Ticket) -> Result<Tier, StoreError> {
    let customer = store.customer(t.requester_id).await?.map(|c| c.tier).unwrap_or(Tier::Standard);
    let org = match t.organization_id {
        Some(o) => store.organization(o).await?.map(|o| o.tier),
        None => None,
    };
    Ok(Tier::of_ticket(customer, org))
}

/// Whether an SLA event for this target's clock is already recorded.
fn recorded(events: &[TicketEvent], kind: EventKind, target: sla::SlaTargetKind, cycle: Millis) -> bool {
    events.iter().any(|e| {
        e.kind == kind
            && e.field.as_deref() == Some(target.as_str())
            && e.to.get("cycle").and_then(Value::as_i64) == Some(cycle)
    })
}

/// The events the evaluation adds to what the ticket already records.
fn new_events(state: &SlaState, events: &[TicketEvent], now: Millis) -> Vec<NewEvent> {
    let mut out = Vec::new();
    let applied = events.iter().rev().find(|e| e.kind == EventKind::SlaTargetApplied);
    if applied.and_then(|e| e.to.get("policy_id")).and_then(Value::as_i64) != Some(state.policy_id.0) {
        let targets: Vec<Value> =
            state.targets.iter().map(|t| json!({ "kind": t.kind, "minutes": t.minutes, "due_at": t.due_at })).collect();
        let from = applied.map(|e| e.to.get("policy_id").cloned().unwrap_or(Value::Null)).unwrap_or(Value::Null);
        out.push(NewEvent::change(
            now,
            Actor::system(),
            EventKind::SlaTargetApplied,
            "sla_policy",
            json!({ "policy_id": from }),
            json!({ "policy_id": state.policy_id, "targets": targets }),
        ));
    }
    for c in &state.cycles {
        let mark = |kind: EventKind, at: Millis, extra: Value| {
            let mut to = json!({ "cycle": c.started_at, "policy_id": state.policy_id });
            if let (Some(to), Some(extra)) = (to.as_object_mut(), extra.as_object()) {
                to.extend(extra.clone());
            }
            NewEvent::change(at, Actor::system(), kind, c.kind.as_str(), Value::Null, to)
        };
        if let Some(w) = c.warned_at.filter(|w| *w <= now)
            && c.stopped_at.is_none_or(|s| s > w)
            && !recorded(events, EventKind::SlaWarning, c.kind, c.started_at)
        {
            out.push(mark(EventKind::SlaWarning, w, json!({})));
        }
        if let Some(b) = c.breached_at.filter(|b| *b <= now)
            && !recorded(events, EventKind::SlaBreached, c.kind, c.started_at)
        {
            out.push(mark(EventKind::SlaBreached, b, json!({ "due_at": b })));
        }
        if let Some(s) = c.stopped_at.filter(|s| *s <= now)
            && !recorded(events, EventKind::SlaFulfilled, c.kind, c.started_at)
        {
            let met = c.breached_at.is_none();
            out.push(mark(EventKind::SlaFulfilled, s, json!({ "met": met, "elapsed_ms": c.elapsed_ms })));
        }
    }
    out.sort_by_key(|e| e.at);
    out
}

/// What tickets not stored yet (the simulated demo, an import of old
/// tickets) are evaluated against: the SLA policies, the business clock
/// of their calendar, and the custom fields' keys.
pub struct ImportSla<'a> {
    pub policies: &'a [sla::SlaPolicy],
    pub business: &'a BusinessClock,
    pub field_keys: &'a HashMap<domain::FieldId, String>,
}

impl ImportSla<'_> {
    /// The SLA events a ticket's history records by `now`: what the
    /// checks would have recorded, each at the moment it happened, the
    /// policy applied at creation. Empty when no policy applies.
    pub fn history_events(&self, tier: Tier, ticket: &store::TicketCreate, now: Millis) -> Vec<NewEvent> {
        let (_, mut out) = self.imported_state(tier, ticket, now);
        for e in &mut out {
            if e.kind == EventKind::SlaTargetApplied {
                e.at = ticket.ticket.created_at;
            }
        }
        out.sort_by_key(|e| e.at);
        out
    }

    /// The ticket as `evaluate_ticket` would find it once stored: its SLA
    /// at `now` (`None`: no policy applies) and the events a check would
    /// add. With its `history_events` added to it first, an importer can
    /// `record` this without reading the ticket back.
    pub fn imported_state(
        &self,
        tier: Tier,
        ticket: &store::TicketCreate,
        now: Millis,
    ) -> (Option<SlaState>, Vec<NewEvent>) {
        let t = &ticket.ticket;
        let Some(policy) = sla::choose(self.policies, t, tier, self.field_keys) else { return (None, vec![]) };
        let stored = ticket.recorded_events();
        let always = BusinessClock::always();
        let state = sla::evaluate(policy, &Clocks { business: self.business, calendar: &always }, t, &stored, now);
        let add = new_events(&state, &stored, now);
        (Some(state), add)
    }
}

/// A ticket's SLA at `now`, computed from its events (nothing saved), and
/// its events; `None` for a ticket that does not exist.
pub async fn current(
    store: &dyn Store,
    id: TicketId,
    now: Millis,
) -> Result<Option<(TicketSla, Vec<TicketEvent>)>, StoreError> {
    let Some(t) = store.ticket(id).await? else { return Ok(None) };
    let events = store.events(id).await?;
    let state = state_of(store, &t, &events, now).await?;
    Ok(Some((TicketSla { ticket_id: id, ticket_version: t.version, state, evaluated_at: now }, events)))
}

/// The SLA of a ticket whose events are at hand, at `now`; `None` when no
/// policy applies.
pub async fn state_of(
    store: &dyn Store,
    t: &domain::Ticket,
    events: &[TicketEvent],
    now: Millis,
) -> Result<Option<SlaState>, StoreError> {
    let policies = store.sla_policies().await?;
    if policies.iter().all(|p| !p.active) {
        return Ok(None);
    }
    let keys: HashMap<_, _> = store.fields().await?.into_iter().map(|f| (f.id, f.key)).collect();
    let tier = tier_of(store, t).await?;
    let Some(policy) = sla::choose(&policies, t, tier, &keys) else { return Ok(None) };
    let business = match policy.calendar_id {
        Some(c) => match store.calendar(c).await? {
            Some(cal) => BusinessClock::new(&cal).unwrap_or_else(|_| BusinessClock::always()),
            None => BusinessClock::always(),
        },
        None => BusinessClock::always(),
    };
    let always = BusinessClock::always();
    Ok(Some(sla::evaluate(policy, &Clocks { business: &business, calendar: &always }, t, events, now)))
}

/// Evaluates a ticket's SLA at `now`, records what happened and saves the
/// state; the time of its next check, if any.
pub async fn evaluate_ticket(store: &dyn Store, id: TicketId, now: Millis) -> Result<Option<Millis>, StoreError> {
    let Some((sla, events)) = current(store, id, now).await? else { return Ok(None) };
    let add = sla.state.as_ref().map(|state| new_events(state, &events, now)).unwrap_or_default();
    record(store, &sla, &add, now).await
}

/// Saves a ticket's evaluated SLA with the events it adds, and if they
/// are new, enqueues its next check and escalates; its next check time.
pub async fn record(
    store: &dyn Store,
    sla: &TicketSla,
    add: &[NewEvent],
    now: Millis,
) -> Result<Option<Millis>, StoreError> {
    let Some(state) = &sla.state else {
        store.save_ticket_sla(sla, &[]).await?;
        return Ok(None);
    };
    let next = state.next_check_at;
    if !store.save_ticket_sla(sla, add).await? {
        return Ok(next);
    }
    let id = sla.ticket_id;
    if let Some(at) = next {
        let job = NewJob::new(SLA_CHECK, json!({ "ticket_id": id.0 }), at, now).key(format!("sla:{id}:at{at}"));
        store.enqueue_job(job).await?;
    }
    escalate_sla(store, id, add, now).await?;
    Ok(next)
}

/// Escalates a warning to the team's manager and a breach to the head of
/// support, when the escalation rules say so (once while one is open).
async fn escalate_sla(store: &dyn Store, id: TicketId, added: &[NewEvent], now: Millis) -> Result<(), StoreError> {
    use domain::rules::{EscalationSource, EscalationTier};
    let warned = added.iter().find(|e| e.kind == EventKind::SlaWarning);
    let breached = added.iter().find(|e| e.kind == EventKind::SlaBreached);
    if warned.is_none() && breached.is_none() {
        return Ok(());
    }
    let rules = crate::notices::escalation_rules(store).await?;
    let Some(t) = store.ticket(id).await? else { return Ok(()) };
    if let Some(b) = breached {
        let what = format!("SLA breached: {}", target_of(b));
        let out = crate::integrations::ticket_event("sla.breached", &t, &what, json!({ "target": b.field }));
        crate::integrations::publish(store, out, now).await?;
    }
    if !t.status.is_unsolved() {
        return Ok(());
    }
    let target = target_of;
    if let Some(b) = breached.filter(|_| rules.on_sla_breach) {
        let reason = format!("SLA breached: {}", target(b));
        crate::notices::escalate(store, &t, EscalationTier::Head, EscalationSource::SlaBreach, &reason, None, now)
            .await?;
    } else if let Some(w) = warned.filter(|_| rules.on_sla_warning) {
        let reason = format!("SLA at risk: {}", target(w));
        crate::notices::escalate(store, &t, EscalationTier::Manager, EscalationSource::SlaWarning, &reason, None, now)
            .await?;
    }
    Ok(())
}

fn target_of(e: &NewEvent) -> String {
    e.field.clone().unwrap_or_default().replace('_', " ")
}

/// `sla.check`: evaluates the ticket in the payload.
pub struct SlaCheck {
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl Handler for SlaCheck {
    async fn run(&self, job: &Job, now: Millis) -> Result<(), JobError> {
        let id = job.payload.get("ticket_id").and_then(Value::as_i64).ok_or(JobError::Fail("no ticket_id".into()))?;
        evaluate_ticket(self.store.as_ref(), TicketId(id), now).await?;
        // The check runs after every change and at each due time: the KPI
        // rollup follows here, with the SLA outcomes just recorded.
        let business = crate::kpi::business_clock(self.store.as_ref()).await?;
        crate::kpi::refresh(self.store.as_ref(), TicketId(id), &business).await?;
        Ok(())
    }
}

/// `sla.reconcile`: checks tickets changed in the last day whose SLA was
/// evaluated from an older version (a node stopped between a change and
/// its check).
pub struct SlaReconcile {
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl Handler for SlaReconcile {
    async fn run(&self, _: &Job, now: Millis) -> Result<(), JobError> {
        for id in self.store.tickets_with_stale_sla(now - 86_400_000, 1000).await? {
            if let Some(t) = self.store.ticket(id).await? {
                self.store.enqueue_job(check_now(id, t.version, now)).await?;
            }
        }
        Ok(())
    }
}

/// `sla.reapply`: after a policy or calendar changed, checks every unsolved
/// ticket again (once per change: the payload's `changed_at` keys the checks).
pub struct SlaReapply {
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl Handler for SlaReapply {
    async fn run(&self, job: &Job, now: Millis) -> Result<(), JobError> {
        use domain::search::TicketFilter;
        use domain::{Status, TicketScope};
        let changed = job.payload.get("changed_at").and_then(Value::as_i64).unwrap_or(now);
        let mut after = None;
        loop {
            let query = store::TicketQuery {
                scope: TicketScope::All,
                filter: TicketFilter {
                    statuses: vec![Status::New, Status::Open, Status::Pending, Status::OnHold],
                    ..Default::default()
                },
                text: Default::default(),
                staff_text: true,
                sort: store::TicketSort::parse("id").unwrap_or_else(store::TicketSort::newest_first),
                after,
                limit: 1000,
            };
            let page = self.store.tickets(&query).await?;
            for t in &page.items {
                let job = NewJob::new(SLA_CHECK, json!({ "ticket_id": t.id.0 }), now, now)
                    .key(format!("sla:{}:r{changed}", t.id));
                self.store.enqueue_job(job).await?;
            }
            match page.next {
                Some(c) => after = Some(c),
                None => return Ok(()),
            }
        }
    }
}

/// The job that re-checks every unsolved ticket after a rule changed.
pub fn reapply(now: Millis) -> NewJob {
    NewJob::new(SLA_REAPPLY, json!({ "changed_at": now }), now, now).key(format!("sla:reapply:{now}"))
}
