//! Time-based automations, run on a schedule over every ticket not closed.
//! An automation acts on a ticket once per status period (from the last
//! status change), so "pending 3 days → remind" reminds once, not at every
//! run, and again only after the ticket left pending and came back.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use domain::event::NewEvent;
use domain::lifecycle;
use domain::rules::{Effect, RuleKind};
use domain::{Actor, EventKind, Job, Millis, TicketId};
use serde_json::{Value, json};
use store::{Store, StoreError, TicketWrite};

use crate::rules::{Loaded, context, status_since};
use crate::{Handler, JobError};

pub const AUTOMATIONS_RUN: &str = "rules.automations";

/// Runs every active automation over every ticket not closed; how many
/// tickets they changed.
pub async fn run_automations(store: &dyn Store, now: Millis) -> Result<u64, StoreError> {
    let rules = store.service_rules(RuleKind::Automation).await?;
    if rules.iter().all(|r| !r.active) {
        return Ok(0);
    }
    let loaded = Loaded::load(store).await?;
    let keys = loaded.field_keys.iter().map(|(id, k)| (k.clone(), *id)).collect();
    let mut after = TicketId(0);
    let mut changed_tickets = 0;
    loop {
        let page = store.unclosed_tickets(after, 500).await?;
        let Some(last) = page.last() else { return Ok(changed_tickets) };
        after = last.id;
        for t in &page {
            let mut ctx = context(store, &loaded, t, String::new(), None, false, now).await?;
            ctx.status_since = status_since(store, t).await?;
            let out = domain::rules::run_rules(&rules, RuleKind::Automation, t, &BTreeSet::new(), &ctx, &keys);
            if out.fired.is_empty() {
                continue;
            }
            // Once per rule and status period; another node may have done it.
            let mut fresh = Vec::new();
            for id in &out.fired {
                if store.mark_rule_fired(*id, t.id, &format!("s{}", ctx.status_since), now).await? {
                    fresh.push(*id);
                }
            }
            if fresh.len() != out.fired.len() {
                continue;
            }
            let names: Vec<&str> =
                fresh.iter().filter_map(|id| rules.iter().find(|r| r.id == *id).map(|r| r.name.as_str())).collect();
            let fired = NewEvent::change(
                now,
                Actor::system(),
                EventKind::RulesFired,
                "automations",
                Value::Null,
                json!({ "ids": fresh, "names": names.join(", ") }),
            );
            // The firing is marked: a lost race is retried on the fresh
            // ticket rather than given up.
            let mut current = t.clone();
            let mut written = None;
            for _ in 0..3 {
                let Ok((mut next, mut events)) = lifecycle::apply_patch(&current, &out.patch, Actor::system(), now)
                else {
                    break;
                };
                events.push(fired.clone());
                let messages = crate::rules::messages_of(store, &current, &out.effects, now).await?;
                next.version = current.version + 1;
                next.updated_at = now;
                let write = TicketWrite { ticket: next.clone(), expected_version: current.version, events, messages };
                match store.write_ticket(write).await {
                    Ok(()) => {
                        written = Some(next);
                        break;
                    }
                    Err(StoreError::VersionConflict) => match store.ticket(t.id).await? {
                        Some(fresh) => current = fresh,
                        None => break,
                    },
                    Err(e) => return Err(e),
                }
            }
            let Some(next) = written else { continue };
            changed_tickets += 1;
            let decision = crate::rules::Decision {
                effects: out
                    .effects
                    .into_iter()
                    .filter(|e| !matches!(e, Effect::Note { .. } | Effect::EmailRequester { .. }))
                    .collect(),
                ..Default::default()
            };
            crate::rules::after_write(store, &next, &decision, now).await?;
        }
    }
}

/// `rules.automations`: one scheduled run.
pub struct Automations {
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl Handler for Automations {
    async fn run(&self, _: &Job, now: Millis) -> Result<(), JobError> {
        let n = run_automations(self.store.as_ref(), now).await?;
        if n > 0 {
            tracing::info!(tickets = n, "automations changed tickets");
        }
        Ok(())
    }
}
