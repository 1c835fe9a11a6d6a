//! The background worker a node runs: the job kinds it handles and the
//! schedules every installation has.

use std::sync::Arc;
use std::time::Duration;

use domain::{Millis, Schedule};
use store::Store;

use crate::{Clock, Settings};

/// A worker for this node with every job kind registered.
pub fn worker(
    store: &Arc<dyn Store>,
    settings: &Settings,
    holder: &str,
    clock: Arc<dyn Clock>,
    links: &Links,
) -> jobs::Worker {
    jobs::Worker {
        store: store.clone(),
        handlers: Default::default(),
        holder: holder.to_string(),
        lease_ms: settings.job_lease_seconds.max(1) * 1000,
        batch: settings.job_batch.max(1),
        idle: Duration::from_millis(settings.job_poll_ms.max(10)),
        clock: Arc::new(move || clock.now()),
    }
    .handle(jobs::PING, Arc::new(jobs::Ping { store: store.clone(), holder: holder.to_string() }))
    .handle(jobs::CLEANUP, Arc::new(jobs::Cleanup { store: store.clone() }))
    .handle(jobs::sla::SLA_CHECK, Arc::new(jobs::sla::SlaCheck { store: store.clone() }))
    .handle(jobs::sla::SLA_RECONCILE, Arc::new(jobs::sla::SlaReconcile { store: store.clone() }))
    .handle(jobs::sla::SLA_REAPPLY, Arc::new(jobs::sla::SlaReapply { store: store.clone() }))
    .handle(jobs::rules::RULES_TICKET, Arc::new(jobs::rules::RulesTicket { store: store.clone() }))
    .handle(jobs::rules::WEBHOOK_POST, Arc::new(jobs::webhook::WebhookPost::new()))
    .handle(jobs::automations::AUTOMATIONS_RUN, Arc::new(jobs::automations::Automations { store: store.clone() }))
    .handle(jobs::approvals::APPROVAL_TIMEOUT, Arc::new(jobs::approvals::ApprovalTimeout { store: store.clone() }))
    .handle(jobs::offline::AGENT_OFFLINE, Arc::new(jobs::offline::AgentOffline { store: store.clone() }))
    .handle(jobs::surge::SURGE_CHECK, Arc::new(jobs::surge::SurgeCheck { store: store.clone() }))
    .handle(
        jobs::integrations::WEBHOOK_DELIVER,
        Arc::new(jobs::integrations::WebhookDeliver::new(
            store.clone(),
            links.base_url.clone(),
            Duration::from_secs(10),
        )),
    )
    .handle(
        jobs::digest::DIGEST_WEEKLY,
        Arc::new(jobs::digest::WeeklyDigest { store: store.clone(), transport: links.transport.clone() }),
    )
    .handle(
        jobs::report::REPORTS_DUE,
        Arc::new(jobs::report::ReportsDue { store: store.clone(), transport: links.transport.clone() }),
    )
    .handle(
        jobs::alerts::ALERT_MAIL,
        Arc::new(jobs::alerts::AlertMail { store: store.clone(), transport: links.transport.clone() }),
    )
    .handle(jobs::kpi::RETIER, Arc::new(jobs::kpi::Retier { store: store.clone() }))
    .handle(jobs::cockpit::BOTTLENECK_CHECK, Arc::new(jobs::cockpit::BottleneckCheck { store: store.clone() }))
    .handle(jobs::survey::NPS_RUN, Arc::new(jobs::survey::NpsRun { store: store.clone() }))
    .handle(
        jobs::survey::NPS_SEND,
        Arc::new(jobs::survey::NpsSend {
            store: store.clone(),
            secret: links.survey_secret.clone(),
            base_url: links.base_url.clone(),
            transport: links.transport.clone(),
        }),
    )
    .handle(jobs::digest::SPIKE_CHECK, Arc::new(jobs::digest::SpikeCheck { store: store.clone() }))
    .handle(
        jobs::survey::SURVEY_SEND,
        Arc::new(jobs::survey::SurveySend {
            store: store.clone(),
            secret: links.survey_secret.clone(),
            base_url: links.base_url.clone(),
        }),
    )
}

/// What background work needs to make links back into Switchboard.
pub struct Links {
    /// `public_url`, or this node's own address.
    pub base_url: String,
    pub survey_secret: String,
    pub transport: Option<Arc<dyn mail::delivery::Transport>>,
}

/// Enqueues the rules (for people's changes) and an SLA check for every ticket change this node hears of (on
/// PostgreSQL, every node's changes; the job's key makes it one per
/// version however many nodes enqueue it). Missed changes are caught by
/// the reconcile schedule.
pub async fn watch_changes(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut changes = store.subscribe();
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Ok(c) => {
                    let now = clock.now();
                    // Rules first: the SLA check then sees what they set.
                    if let Some(job) = jobs::rules::run_for(&c, now)
                        && let Err(e) = store.enqueue_job(job).await
                    {
                        tracing::error!(error = %e, ticket = %c.ticket_id, "enqueuing the rules failed");
                    }
                    if let Err(e) = jobs::integrations::after_change(store.as_ref(), &c, now).await {
                        tracing::error!(error = %e, ticket = %c.ticket_id, "enqueuing webhooks failed");
                    }
                    if let Err(e) = jobs::survey::after_change(store.as_ref(), &c, now).await {
                        tracing::error!(error = %e, ticket = %c.ticket_id, "enqueuing a survey failed");
                    }
                    let job = jobs::sla::check_now(c.ticket_id, c.version, now);
                    if let Err(e) = store.enqueue_job(job).await {
                        tracing::error!(error = %e, ticket = %c.ticket_id, "enqueuing an SLA check failed");
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "missed ticket changes; the SLA reconcile catches up");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}

/// The schedules every installation has, made (or updated) at start.
pub async fn schedules(store: &dyn Store, now: Millis) -> Result<(), store::StoreError> {
    store
        .ensure_schedule(&Schedule {
            name: "jobs.cleanup".into(),
            kind: jobs::CLEANUP.into(),
            payload: serde_json::json!({}),
            every_ms: 86_400_000,
            next_run_at: now + 3_600_000,
        })
        .await?;
    store
        .ensure_schedule(&Schedule {
            name: "rules.automations".into(),
            kind: jobs::automations::AUTOMATIONS_RUN.into(),
            payload: serde_json::json!({}),
            every_ms: 300_000,
            next_run_at: now + 300_000,
        })
        .await?;
    store
        .ensure_schedule(&Schedule {
            name: "incidents.surge".into(),
            kind: jobs::surge::SURGE_CHECK.into(),
            payload: serde_json::json!({}),
            every_ms: 900_000,
            next_run_at: now + 900_000,
        })
        .await?;
    store
        .ensure_schedule(&Schedule {
            name: "kpi.bottlenecks".into(),
            kind: jobs::cockpit::BOTTLENECK_CHECK.into(),
            payload: serde_json::json!({}),
            every_ms: 3_600_000,
            next_run_at: now + 120_000,
        })
        .await?;
    store
        .ensure_schedule(&Schedule {
            name: "reports.due".into(),
            kind: jobs::report::REPORTS_DUE.into(),
            payload: serde_json::json!({}),
            every_ms: 3_600_000,
            next_run_at: now + 60_000,
        })
        .await?;
    store
        .ensure_schedule(&Schedule {
            name: "digest.weekly".into(),
            kind: jobs::digest::DIGEST_WEEKLY.into(),
            payload: serde_json::json!({}),
            every_ms: 7 * 86_400_000,
            next_run_at: now + 7 * 86_400_000,
        })
        .await?;
    store
        .ensure_schedule(&Schedule {
            name: "survey.nps".into(),
            kind: jobs::survey::NPS_RUN.into(),
            payload: serde_json::json!({}),
            every_ms: 86_400_000,
            next_run_at: now + 1_800_000,
        })
        .await?;
    store
        .ensure_schedule(&Schedule {
            name: "insights.spikes".into(),
            kind: jobs::digest::SPIKE_CHECK.into(),
            payload: serde_json::json!({}),
            every_ms: 86_400_000,
            next_run_at: now + 600_000,
        })
        .await?;
    store
        .ensure_schedule(&Schedule {
            name: "sla.reconcile".into(),
            kind: jobs::sla::SLA_RECONCILE.into(),
            payload: serde_json::json!({}),
            every_ms: 60_000,
            next_run_at: now + 60_000,
        })
        .await
}

/// Sets an agent's status; going offline hands their open work on in teams
/// that reassign (a job, so the request does not wait for it).
pub async fn set_status(
    store: &dyn Store,
    user: domain::UserId,
    status: domain::AgentStatus,
    now: Millis,
) -> Result<(), store::StoreError> {
    store.set_agent_status(user, status, now).await?;
    if status == domain::AgentStatus::Offline {
        store.enqueue_job(jobs::offline::offline_job(user, now)).await?;
    }
    Ok(())
}
