//! What every workspace page shows around its content: the helpdesk's
//! name, the agent's status, the views with their live counts, links to
//! the other areas; and the time zone times are shown in.

use domain::saved_view::BUILT_IN_VIEWS;
use domain::{AgentStatus, Principal, Role};

use super::PageError;
use crate::AppState;
use crate::api::me::status_of;
use crate::error::ApiError;
use crate::extract::Caller;

/// A view in the navigation.
pub(crate) struct NavView {
    pub href: String,
    pub title: String,
    /// The key its count comes under (`/api/v1/views/counts`).
    pub count_key: String,
}

pub(crate) struct Shell {
    pub helpdesk: String,
    pub me: String,
    pub me_id: i64,
    pub status: &'static str,
    pub views: Vec<NavView>,
    /// The `href` of the page's own entry in the navigation.
    pub current: String,
    /// Admins and managers have an admin area (managers: their teams).
    pub admin: bool,
    /// The agent's notification preferences and teams, for the live script.
    pub prefs_json: String,
    pub teams_json: String,
    pub tz: jiff::tz::TimeZone,
    /// Unread notices, and the active major incidents every page names.
    pub unread: i64,
    pub incidents: Vec<(i64, String)>,
}

/// A time as shown (`2026-11-23 14:05`) and its ISO form for `<time>`.
pub(crate) struct Shown {
    pub text: String,
    pub iso: String,
}

impl Shell {
    pub async fn new(state: &AppState, caller: &Caller, current: &str) -> Result<Shell, PageError> {
        let user_id = caller.staff_id().ok_or(PageError::Api(ApiError::Forbidden))?;
        let directory = state.directory().await?;
        let user = directory.users.iter().find(|u| u.id == user_id).cloned().ok_or(ApiError::NotFound)?;
        let settings = state.instance_settings().await?;
        let status = status_of(state, user_id).await?.status;
        let mut views: Vec<NavView> = BUILT_IN_VIEWS
            .iter()
            .map(|v| NavView { href: format!("/views/{}", v.key), title: v.title.into(), count_key: v.key.into() })
            .collect();
        for v in state.store.saved_views(user_id).await.map_err(ApiError::from)? {
            views.push(NavView {
                href: format!("/views/saved/{}", v.id),
                title: v.name,
                count_key: v.id.0.to_string(),
            });
        }
        let (admin, teams) = match &caller.principal {
            Principal::Staff(s) => (matches!(s.role, Role::Admin | Role::Manager), s.team_ids.clone()),
            Principal::Customer(_) => (false, vec![]),
        };
        let prefs = state.store.preferences(user_id).await.map_err(ApiError::from)?;
        let zone = user.time_zone.clone().unwrap_or(settings.time_zone);
        Ok(Shell {
            helpdesk: settings.helpdesk_name,
            me: user.name,
            me_id: user_id.0,
            status: status.as_str(),
            views,
            current: current.into(),
            admin,
            prefs_json: serde_json::to_string(&prefs).unwrap_or_default(),
            teams_json: serde_json::to_string(&teams).unwrap_or_default(),
            tz: jiff::tz::TimeZone::get(&zone).unwrap_or(jiff::tz::TimeZone::UTC),
            unread: state.store.unread_notifications(user_id).await.map_err(ApiError::from)?,
            incidents: state
                .store
                .major_incidents(true)
                .await
                .map_err(ApiError::from)?
                .into_iter()
                .map(|m| (m.problem_id.0, m.title))
                .collect(),
        })
    }

    /// A time in the agent's zone.
    pub fn when(&self, ms: i64) -> Shown {
        match jiff::Timestamp::from_millisecond(ms) {
            Ok(t) => {
                Shown { text: t.to_zoned(self.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string(), iso: t.to_string() }
            }
            Err(_) => Shown { text: String::new(), iso: String::new() },
        }
    }

    pub fn statuses(&self) -> &'static [AgentStatus] {
        AgentStatus::ALL
    }
}
