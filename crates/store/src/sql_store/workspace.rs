//! The workspace's own storage: agents' status (with its history),
//! preferences, macros, saved views, ticket presence, instance settings.

use async_trait::async_trait;
use domain::{
    AgentStatus, InstanceSettings, Macro, MacroId, Millis, NotificationPrefs, SavedView, TicketId, UserId, ViewId,
};

use super::{SqlStore, returned_id, updated};
use crate::rows::{self, json, to_json};
use crate::{Result, WorkspaceStore};

const SETTINGS_KEY: &str = "workspace";

#[async_trait]
impl WorkspaceStore for SqlStore {
    async fn set_agent_status(&self, user: UserId, status: AgentStatus, at: Millis) -> Result<()> {
        let mut tx = self.begin().await?;
        let current = tx.fetch("SELECT status FROM agent_status WHERE user_id = $1", vec![user.0.into()]).await?;
        let unchanged = match current.first() {
            Some(r) => rows::agent_status(&r.text(0)?)? == status,
            // Never set means offline.
            None => status == AgentStatus::Offline,
        };
        if !unchanged {
            tx.execute(
                "INSERT INTO agent_status (user_id, status, since) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, since = excluded.since",
                vec![user.0.into(), status.as_str().into(), at.into()],
            )
            .await?;
            tx.execute(
                "INSERT INTO agent_status_changes (user_id, status, at) VALUES ($1, $2, $3)",
                vec![user.0.into(), status.as_str().into(), at.into()],
            )
            .await?;
        }
        tx.commit().await
    }

    async fn agent_statuses(&self) -> Result<Vec<(UserId, AgentStatus, Millis)>> {
        self.fetch("SELECT user_id, status, since FROM agent_status ORDER BY user_id", vec![])
            .await?
            .iter()
            .map(|r| Ok((UserId(r.int(0)?), rows::agent_status(&r.text(1)?)?, r.int(2)?)))
            .collect()
    }

    async fn agent_status_changes(&self, user: UserId, from: Millis, to: Millis) -> Result<Vec<(AgentStatus, Millis)>> {
        self.fetch(
            "SELECT status, at FROM agent_status_changes WHERE user_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id",
            vec![user.0.into(), from.into(), to.into()],
        )
        .await?
        .iter()
        .map(|r| Ok((rows::agent_status(&r.text(0)?)?, r.int(1)?)))
        .collect()
    }

    async fn status_history(&self, from: Millis, to: Millis) -> Result<Vec<(UserId, AgentStatus, Millis)>> {
        self.fetch(
            "SELECT c.user_id, c.status, c.at, 0 AS k, c.id FROM agent_status_changes c WHERE c.id IN \
             (SELECT (SELECT p.id FROM agent_status_changes p WHERE p.user_id = u.id AND p.at < $1 \
             ORDER BY p.at DESC, p.id DESC LIMIT 1) FROM users u) \
             UNION ALL SELECT c.user_id, c.status, c.at, 1 AS k, c.id FROM agent_status_changes c \
             WHERE c.at >= $2 AND c.at < $3 ORDER BY 1, 4, 3, 5",
            vec![from.into(), from.into(), to.into()],
        )
        .await?
        .iter()
        .map(|r| Ok((UserId(r.int(0)?), rows::agent_status(&r.text(1)?)?, r.int(2)?)))
        .collect()
    }

    async fn import_status_changes(&self, mut changes: Vec<(UserId, AgentStatus, Millis)>) -> Result<()> {
        changes.sort_by_key(|(u, _, at)| (u.0, *at));
        let mut tx = self.begin().await?;
        for chunk in changes.chunks(500) {
            let mut p = super::Params::default();
            let groups: Vec<String> = chunk
                .iter()
                .map(|(u, s, at)| format!("({}, {}, {})", p.push(u.0), p.push(s.as_str()), p.push(*at)))
                .collect();
            tx.execute(
                &format!("INSERT INTO agent_status_changes (user_id, status, at) VALUES {}", groups.join(", ")),
                p.values,
            )
            .await?;
        }
        let mut latest: Vec<(UserId, AgentStatus, Millis)> = Vec::new();
        for c in &changes {
            match latest.last_mut() {
                Some(l) if l.0 == c.0 => *l = *c,
                _ => latest.push(*c),
            }
        }
        for (u, s, at) in latest {
            tx.execute(
                "INSERT INTO agent_status (user_id, status, since) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, since = excluded.since",
                vec![u.0.into(), s.as_str().into(), at.into()],
            )
            .await?;
        }
        tx.commit().await
    }

    async fn preferences(&self, user: UserId) -> Result<NotificationPrefs> {
        match self.fetch_one("SELECT preferences FROM user_preferences WHERE user_id = $1", vec![user.0.into()]).await?
        {
            Some(r) => json(&r.text(0)?),
            None => Ok(NotificationPrefs::default()),
        }
    }

    async fn set_preferences(&self, user: UserId, prefs: &NotificationPrefs) -> Result<()> {
        self.execute(
            "INSERT INTO user_preferences (user_id, preferences) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET preferences = excluded.preferences",
            vec![user.0.into(), to_json(prefs).into()],
        )
        .await
        .map(|_| ())
    }

    async fn create_macro(&self, m: Macro) -> Result<MacroId> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO macros (owner_id, name, body, public, actions, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                vec![
                    m.owner_id.map(|o| o.0).into(),
                    m.name.into(),
                    crate::storable_text(m.body).into(),
                    m.public.into(),
                    to_json(&m.actions).into(),
                    m.active.into(),
                    m.created_at.into(),
                    m.updated_at.into(),
                ],
            )
            .await?;
        let id = returned_id(&rows)?;
        tx.commit().await?;
        Ok(MacroId(id))
    }

    async fn update_macro(&self, m: &Macro) -> Result<()> {
        updated(
            self.execute(
                "UPDATE macros SET name = $1, body = $2, public = $3, actions = $4, active = $5, updated_at = $6 \
                 WHERE id = $7",
                vec![
                    m.name.clone().into(),
                    crate::storable_text(m.body.clone()).into(),
                    m.public.into(),
                    to_json(&m.actions).into(),
                    m.active.into(),
                    m.updated_at.into(),
                    m.id.0.into(),
                ],
            )
            .await?,
        )
    }

    async fn delete_macro(&self, id: MacroId) -> Result<bool> {
        Ok(self.execute("DELETE FROM macros WHERE id = $1", vec![id.0.into()]).await? == 1)
    }

    async fn macro_by_id(&self, id: MacroId) -> Result<Option<Macro>> {
        let sql = format!("SELECT {} FROM macros WHERE id = $1", rows::MACRO_COLS);
        self.fetch_one(&sql, vec![id.0.into()]).await?.as_ref().map(rows::macro_row).transpose()
    }

    async fn macros(&self, owner: Option<UserId>) -> Result<Vec<Macro>> {
        let sql = format!(
            "SELECT {} FROM macros WHERE owner_id IS NULL OR owner_id = $1 ORDER BY name, id",
            rows::MACRO_COLS
        );
        // No user has id 0, so without an owner only shared macros match.
        let owner = owner.map(|o| o.0).unwrap_or(0);
        self.fetch(&sql, vec![owner.into()]).await?.iter().map(rows::macro_row).collect()
    }

    async fn create_view(&self, v: SavedView) -> Result<ViewId> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO saved_views (owner_id, name, query, columns, sort, position, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                vec![
                    v.owner_id.map(|o| o.0).into(),
                    v.name.into(),
                    v.query.into(),
                    to_json(&v.columns).into(),
                    v.sort.into(),
                    v.position.into(),
                    v.created_at.into(),
                    v.updated_at.into(),
                ],
            )
            .await?;
        let id = returned_id(&rows)?;
        tx.commit().await?;
        Ok(ViewId(id))
    }

    async fn update_view(&self, v: &SavedView) -> Result<()> {
        updated(
            self.execute(
                "UPDATE saved_views SET owner_id = $1, name = $2, query = $3, columns = $4, sort = $5, position = $6, \
                 updated_at = $7 WHERE id = $8",
                vec![
                    v.owner_id.map(|o| o.0).into(),
                    v.name.clone().into(),
                    v.query.clone().into(),
                    to_json(&v.columns).into(),
                    v.sort.clone().into(),
                    v.position.into(),
                    v.updated_at.into(),
                    v.id.0.into(),
                ],
            )
            .await?,
        )
    }

    async fn delete_view(&self, id: ViewId) -> Result<bool> {
        Ok(self.execute("DELETE FROM saved_views WHERE id = $1", vec![id.0.into()]).await? == 1)
    }

    async fn saved_view(&self, id: ViewId) -> Result<Option<SavedView>> {
        let sql = format!("SELECT {} FROM saved_views WHERE id = $1", rows::VIEW_COLS);
        self.fetch_one(&sql, vec![id.0.into()]).await?.as_ref().map(rows::saved_view).transpose()
    }

    async fn saved_views(&self, owner: UserId) -> Result<Vec<SavedView>> {
        let sql = format!(
            "SELECT {} FROM saved_views WHERE owner_id IS NULL OR owner_id = $1 \
             ORDER BY CASE WHEN owner_id IS NULL THEN 0 ELSE 1 END, position, name, id",
            rows::VIEW_COLS
        );
        self.fetch(&sql, vec![owner.0.into()]).await?.iter().map(rows::saved_view).collect()
    }

    async fn touch_presence(&self, ticket: TicketId, user: UserId, typing: bool, at: Millis) -> Result<()> {
        self.execute(
            "INSERT INTO ticket_presence (ticket_id, user_id, typing, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ticket_id, user_id) DO UPDATE SET typing = excluded.typing, seen_at = excluded.seen_at",
            vec![ticket.0.into(), user.0.into(), typing.into(), at.into()],
        )
        .await
        .map(|_| ())
    }

    async fn leave_ticket(&self, ticket: TicketId, user: UserId) -> Result<()> {
        self.execute(
            "DELETE FROM ticket_presence WHERE ticket_id = $1 AND user_id = $2",
            vec![ticket.0.into(), user.0.into()],
        )
        .await
        .map(|_| ())
    }

    async fn presence(&self, ticket: TicketId, since: Millis) -> Result<Vec<(UserId, bool, Millis)>> {
        self.fetch(
            "SELECT user_id, typing, seen_at FROM ticket_presence WHERE ticket_id = $1 AND seen_at >= $2 ORDER BY user_id",
            vec![ticket.0.into(), since.into()],
        )
        .await?
        .iter()
        .map(|r| Ok((UserId(r.int(0)?), r.bool(1)?, r.int(2)?)))
        .collect()
    }

    async fn instance_settings(&self) -> Result<InstanceSettings> {
        match self.fetch_one("SELECT value FROM instance_settings WHERE key = $1", vec![SETTINGS_KEY.into()]).await? {
            Some(r) => json(&r.text(0)?),
            None => Ok(InstanceSettings::default()),
        }
    }

    async fn set_instance_settings(&self, settings: &InstanceSettings) -> Result<()> {
        self.execute(
            "INSERT INTO instance_settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![SETTINGS_KEY.into(), to_json(settings).into()],
        )
        .await
        .map(|_| ())
    }
}
