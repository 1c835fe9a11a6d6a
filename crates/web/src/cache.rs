//! Short-lived caches of what nearly every request reads: who a credential
//! belongs to (with their teams and reports) and the custom field
//! definitions. Entries live `TTL_MS`; changes made through this node clear
//! them at once, so on one node a revoked token or a new team membership
//! takes effect immediately, and on other nodes within `TTL_MS`.

use std::collections::HashMap;
use std::sync::Mutex;

use domain::{CustomFieldDef, Millis, Principal};
use store::PrincipalRef;

pub const TTL_MS: Millis = 2_000;
/// Bounds memory: the cache is dropped whole when it grows past this.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct Caches {
    principals: Mutex<HashMap<String, (Millis, PrincipalRef, Principal)>>,
    fields: Mutex<Option<(Millis, Vec<CustomFieldDef>)>>,
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
    }

    pub fn fields(&self, now: Millis) -> Option<Vec<CustomFieldDef>> {
        let guard = self.fields.lock().ok()?;
        let (at, defs) = guard.as_ref()?;
        (now - at < TTL_MS).then(|| defs.clone())
    }

    pub fn remember_fields(&self, now: Millis, defs: &[CustomFieldDef]) {
        if let Ok(mut guard) = self.fields.lock() {
            *guard = Some((now, defs.to_vec()));
        }
    }

    pub fn forget_fields(&self) {
        if let Ok(mut guard) = self.fields.lock() {
            *guard = None;
        }
    }
}
