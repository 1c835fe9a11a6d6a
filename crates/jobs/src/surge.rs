//! Surge detection on a schedule: a tag whose tickets in the last window
//! are far above its usual rate is told to the managers, with a link to
//! open a major incident.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use domain::notification::NewNotification;
use domain::rules::incident::{Surge, SurgeRules};
use domain::{Job, Millis, Role};
use store::{PageRequest, Store, StoreError};

use crate::{Handler, JobError};

pub const SURGE_CHECK: &str = "incidents.surge";

pub async fn surge_rules(store: &dyn Store) -> Result<SurgeRules, StoreError> {
    Ok(store.setting("surge_rules").await?.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

/// The surges at `now` (nothing sent).
pub async fn surges(store: &dyn Store, rules: &SurgeRules, now: Millis) -> Result<Vec<Surge>, StoreError> {
    let window = rules.window_minutes * 60_000;
    let recent = store.tag_counts(now - window, now).await?;
    let earlier: HashMap<String, i64> =
        store.tag_counts(now - window * (1 + rules.baseline_windows), now - window).await?.into_iter().collect();
    let mut out: Vec<Surge> =
        recent.iter().filter_map(|(tag, n)| rules.surge(tag, *n, earlier.get(tag).copied().unwrap_or(0))).collect();
    out.sort_by(|a, b| b.ratio.total_cmp(&a.ratio));
    Ok(out)
}

/// Finds surges and tells every manager and admin; how many were found.
pub async fn check_surges(store: &dyn Store, now: Millis) -> Result<usize, StoreError> {
    let rules = surge_rules(store).await?;
    let found = surges(store, &rules, now).await?;
    if found.is_empty() {
        return Ok(0);
    }
    let staff = store.users(PageRequest { after: None, limit: 10_000 }).await?.items;
    let mut notes = Vec::new();
    for s in &found {
        let text = format!(
            "Surge: {} tickets tagged \"{}\" in the last {} minutes, {}× the usual rate. Open a major incident?",
            s.recent, s.tag, rules.window_minutes, s.ratio
        );
        for u in staff.iter().filter(|u| u.active && matches!(u.role, Role::Manager | Role::Admin)) {
            notes.push(NewNotification {
                user_id: u.id,
                kind: "surge".into(),
                text: text.clone(),
                ticket_id: None,
                created_at: now,
            });
        }
    }
    store.notify(notes).await?;
    for s in &found {
        let summary = format!("Surge: {} tickets tagged \"{}\", {}× the usual rate", s.recent, s.tag, s.ratio);
        let key = format!("surge:{}:{}", s.tag, now / (rules.window_minutes.max(1) * 60_000));
        let out = crate::integrations::alert("surge.detected", key, summary, serde_json::json!({ "surge": s }));
        crate::integrations::publish(store, out, now).await?;
    }
    Ok(found.len())
}

pub struct SurgeCheck {
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl Handler for SurgeCheck {
    async fn run(&self, _: &Job, now: Millis) -> Result<(), JobError> {
        check_surges(self.store.as_ref(), now).await?;
        Ok(())
    }
}
