use std::sync::Arc;

use domain::Millis;
use object_store::ObjectStore;
use store::{NewAuditEntry, Store};
use tokio::sync::watch;

use crate::{Clock, Settings};

/// What every handler can reach. Not generic over the database: storage is
/// a trait object chosen at start.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub files: Arc<dyn ObjectStore>,
    pub settings: Arc<Settings>,
    /// Flips to true on shutdown so long-lived streams end.
    pub shutdown: watch::Receiver<bool>,
    pub caches: Arc<crate::cache::Caches>,
    /// Files inbound mail (push endpoint, quarantine retries).
    pub inbox: mail::Inbox,
    /// Signs and checks survey answer links.
    pub survey_secret: Arc<str>,
    /// The SMTP server, when configured (the digest is mailed through it).
    pub transport: Option<Arc<dyn mail::delivery::Transport>>,
}

impl AppState {
    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// The custom field definitions (cached briefly).
    pub async fn fields(&self) -> Result<Vec<domain::CustomFieldDef>, store::StoreError> {
        let now = self.now();
        if let Some(defs) = self.caches.fields.get(now) {
            return Ok(defs);
        }
        let defs = self.store.fields().await?;
        self.caches.fields.put(now, defs.clone());
        Ok(defs)
    }

    /// All staff and teams (cached briefly), for names and choices on pages.
    pub async fn directory(&self) -> Result<Arc<crate::cache::Directory>, store::StoreError> {
        let now = self.now();
        if let Some(d) = self.caches.directory.get(now) {
            return Ok(d);
        }
        let mut users = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.users(store::PageRequest { after, limit: 1000 }).await?;
            users.extend(page.items);
            match page.next {
                Some(c) => after = Some(c.id),
                None => break,
            }
        }
        let d = Arc::new(crate::cache::Directory { users, teams: self.store.teams().await? });
        self.caches.directory.put(now, d.clone());
        Ok(d)
    }

    /// The instance settings (cached briefly).
    pub async fn instance_settings(&self) -> Result<domain::InstanceSettings, store::StoreError> {
        let now = self.now();
        if let Some(s) = self.caches.settings.get(now) {
            return Ok(s);
        }
        let s = self.store.instance_settings().await?;
        self.caches.settings.put(now, s.clone());
        Ok(s)
    }

    /// The bytes of a stored file (attachment or original email).
    pub async fn read_file(&self, key: &str) -> Result<bytes::Bytes, crate::error::ApiError> {
        use object_store::ObjectStoreExt;
        let fail = |e: object_store::Error| crate::error::ApiError::Internal(format!("reading file {key}: {e}"));
        self.files.get(&object_store::path::Path::from(key)).await.map_err(fail)?.bytes().await.map_err(fail)
    }

    /// Records an audit entry. A failure to audit is logged, not returned:
    /// the action itself already happened or was refused.
    pub async fn audit(&self, actor: &str, action: &str, target: &str, allowed: bool, detail: serde_json::Value) {
        let entry = NewAuditEntry {
            at: self.now(),
            actor: actor.to_string(),
            action: action.to_string(),
            target: target.to_string(),
            outcome: if allowed { "allowed" } else { "denied" }.to_string(),
            detail,
        };
        if let Err(e) = self.store.append_audit(entry).await {
            tracing::error!(error = %e, "writing the audit log failed");
        }
    }
}
