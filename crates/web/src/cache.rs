//! Short-lived caches of what nearly every request reads: who a credential
//! belongs to (with their teams and reports), the custom field
//! definitions, the staff and teams (for names on pages) and the instance
//! settings. Entries live `TTL_MS`; changes made through this node clear
//! them at once, so on one node a revoked token or a new team membership
//! takes effect immediately, and on other nodes within `TTL_MS`.

use std::collections::HashMap;
use std::sync::Mutex;

use domain::{CustomFieldDef, InstanceSettings, Millis, Principal, Team, User};
use store::PrincipalRef;

pub const TTL_MS: Millis = 2_000;
/// Bounds memory: the cache is dropped whole when it grows past this.
const MAX_ENTRIES: usize = 10_000;

/// One cached value and when it was read.
pub struct Slot<T>(Mutex<Option<(Millis, T)>>);

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot(Mutex::new(None))
    }
}

impl<T: Clone> Slot<T> {
    pub fn get(&self, now: Millis) -> Option<T> {
        let guard = self.0.lock().ok()?;
        let (at, v) = guard.as_ref()?;
        (now - at < TTL_MS).then(|| v.clone())
    }

    pub fn put(&self, now: Millis, v: T) {
        if let Ok(mut guard) = self.0.lock() {
            *guard = Some((now, v));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut guard) = self.0.lock() {
            *guard = None;
        }
    }
}

/// Staff and teams, as pages name them.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub users: Vec<User>,
    pub teams: Vec<Team>,
}

#[derive(Default)]
pub struct Caches {
    principals: Mutex<HashMap<String, (Millis, PrincipalRef, Principal)>>,
    pub fields: Slot<Vec<CustomFieldDef>>,
    pub directory: Slot<std::sync::Arc<Directory>>,
    pub settings: Slot<InstanceSettings>,
}

impl Caches {
    /// The principal behind a credential hash, if cached and fresh.
    pub fn principal(&self, key: &str, now: Millis) -> Option<(PrincipalRef, Principal)> {
        let map = self.principals.lock().ok()?;
        let (at, who, p) = map.get(key)?;
        (now - at < TTL_MS).then(|| (*who, p.clone()))
    }

    pub fn remember_principal(&self, key: &str, now: Millis, who: PrincipalRef, p: &Principal) {
        if let Ok(mut map) = self.principals.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key.to_string(), (now, who, p.clone()));
        }
    }

    /// After a change to accounts, teams or tokens.
    pub fn forget_principals(&self) {
        if let Ok(mut map) = self.principals.lock() {
            map.clear();
        }
        self.directory.clear();
    }
}
