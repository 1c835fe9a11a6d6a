//! The names behind the ids a page shows (assignee, team, requester), each
//! read once per page.

use std::collections::HashMap;

use domain::{CustomerId, Team, Ticket, User};

use super::PageError;
use crate::AppState;
use crate::error::ApiError;

/// All staff (a department has hundreds at most), by id.
pub(crate) async fn staff(state: &AppState) -> Result<Vec<User>, PageError> {
    Ok(state.directory().await?.users.clone())
}

pub(crate) struct Names {
    pub users: HashMap<i64, String>,
    pub teams: HashMap<i64, String>,
    /// Name and email.
    pub customers: HashMap<i64, (String, String)>,
}

impl Names {
    /// Staff and teams, and the requesters of `tickets`.
    pub async fn load(state: &AppState, tickets: &[Ticket]) -> Result<Names, PageError> {
        Self::with_customers(state, tickets.iter().map(|t| t.requester_id).collect()).await
    }

    /// Staff and teams, and these customers.
    pub async fn with_customers(state: &AppState, mut ids: Vec<CustomerId>) -> Result<Names, PageError> {
        let users = staff(state).await?.into_iter().map(|u| (u.id.0, u.name)).collect();
        let teams =
            state.store.teams().await.map_err(ApiError::from)?.into_iter().map(|t: Team| (t.id.0, t.name)).collect();
        ids.sort();
        ids.dedup();
        let customers = state
            .store
            .customers_by_ids(&ids)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|c| (c.id.0, (c.name, c.email)))
            .collect();
        Ok(Names { users, teams, customers })
    }

    pub fn user(&self, id: Option<i64>) -> String {
        id.and_then(|i| self.users.get(&i).cloned()).unwrap_or_else(|| "—".into())
    }

    pub fn team(&self, id: Option<i64>) -> String {
        id.and_then(|i| self.teams.get(&i).cloned()).unwrap_or_else(|| "—".into())
    }

    pub fn customer(&self, id: i64) -> String {
        self.customers.get(&id).map(|(n, e)| if n.is_empty() { e.clone() } else { n.clone() }).unwrap_or_default()
    }
}
