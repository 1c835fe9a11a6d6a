//! When an agent goes offline with open work, teams that ask for it hand
//! that work to their other agents (by the team's mode), or back to the
//! team's queue when nobody is free.

use std::sync::Arc;

use async_trait::async_trait;
use domain::lifecycle::{self, TicketPatch};
use domain::search::{AssigneeFilter, TicketFilter};
use domain::{Actor, AgentStatus, Job, Millis, NewJob, Status, TicketScope, UserId};
use serde_json::{Value, json};
use store::{Store, StoreError, TicketQuery, TicketSort, TicketWrite};

use crate::{Handler, JobError};

pub const AGENT_OFFLINE: &str = "routing.offline";

pub fn offline_job(user: UserId, at: Millis) -> NewJob {
    NewJob::new(AGENT_OFFLINE, json!({ "user_id": user.0 }), at, at).key(format!("offline:{user}:{at}"))
}

/// Reassigns the agent's new and open tickets in teams that reassign;
/// how many moved. Nothing moves if the agent is back online.
pub async fn reassign_from(store: &dyn Store, user: UserId, now: Millis) -> Result<u64, StoreError> {
    let online = store.agent_statuses().await?.iter().any(|(u, s, _)| *u == user && *s == AgentStatus::Online);
    if online {
        return Ok(0);
    }
    let mut teams = Vec::new();
    for t in store.teams().await? {
        if t.member_ids.contains(&user) && store.team_routing(t.id).await?.0.reassign_when_offline {
            teams.push(t.id);
        }
    }
    if teams.is_empty() {
        return Ok(0);
    }
    let query = TicketQuery {
        scope: TicketScope::All,
        filter: TicketFilter {
            statuses: vec![Status::New, Status::Open],
            assignee: Some(AssigneeFilter::User(user)),
            team_ids: teams,
            ..Default::default()
        },
        text: Default::default(),
        staff_text: true,
        sort: TicketSort::parse("id").unwrap_or_else(TicketSort::newest_first),
        after: None,
        limit: 1000,
    };
    let mut moved = 0;
    for t in store.tickets(&query).await?.items {
        let mut unassigned = t.clone();
        unassigned.assignee_id = None;
        let pick = crate::rules::pick_agent(store, &unassigned, None, now).await?;
        let to = pick.map(|(_, _, u, _)| u);
        let patch = TicketPatch { assignee_id: Some(to), ..Default::default() };
        let Ok((next, events)) = lifecycle::apply_patch(&t, &patch, Actor::system(), now) else { continue };
        match store
            .write_ticket(TicketWrite { ticket: next, expected_version: t.version, events, messages: vec![] })
            .await
        {
            Ok(()) => {
                moved += 1;
                if let Some((team, last, agent, true)) = pick {
                    let _ = store.advance_round_robin(team, last, agent).await?;
                }
            }
            // Someone changed it meanwhile; they decide.
            Err(StoreError::VersionConflict) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(moved)
}

pub struct AgentOffline {
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl Handler for AgentOffline {
    async fn run(&self, job: &Job, now: Millis) -> Result<(), JobError> {
        let id = job.payload.get("user_id").and_then(Value::as_i64).ok_or(JobError::Fail("no user_id".into()))?;
        let n = reassign_from(self.store.as_ref(), UserId(id), now).await?;
        if n > 0 {
            tracing::info!(user = id, tickets = n, "reassigned the work of an agent who went offline");
        }
        Ok(())
    }
}
