//! Mailboxes from the configuration file, applied at start: each entry is
//! created if its address is new, else updated to match the file. The same
//! checks as the API's apply (`web::api::mailboxes::apply`).

use domain::{EmailAddress, Mailbox, MailboxId, Millis};
use store::Store;
use web::api::mailboxes::{MailboxInput, apply};

use crate::config::MailboxConfig;

/// Applies the entries; returns what changed, for the start-up message.
pub async fn apply_config(store: &dyn Store, entries: &[MailboxConfig], now: Millis) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    if entries.is_empty() {
        return Ok(done);
    }
    let teams = store.teams().await.map_err(|e| e.to_string())?;
    for e in entries {
        let what = format!("mailbox {} in the configuration", e.address);
        let team_id = match &e.team {
            Some(name) => Some(
                teams
                    .iter()
                    .find(|t| t.name.eq_ignore_ascii_case(name))
                    .ok_or_else(|| format!("{what}: there is no team named {name}"))?
                    .id
                    .0,
            ),
            None => None,
        };
        let input = MailboxInput {
            address: Some(e.address.clone()),
            name: Some(e.name.clone()),
            team_id: Some(team_id),
            active: Some(true),
            auto_reply: Some(e.auto_reply.clone()),
            imap: Some(e.imap.clone()),
        };
        let address = EmailAddress::parse(&e.address).map_err(|err| format!("{what}: {}", err.message))?;
        let existing = store.mailboxes().await.map_err(|e| e.to_string())?;
        let found = existing.into_iter().find(|m| m.address == address.as_str());
        let mut m = found.clone().unwrap_or_else(|| Mailbox::new(&address, &e.name, None, now));
        apply(store, &mut m, &input).await.map_err(|err| format!("{what}: {}", err.describe()))?;
        match found {
            Some(before) if before == m => {}
            Some(_) => {
                m.updated_at = now;
                store.update_mailbox(&m).await.map_err(|e| format!("{what}: {e}"))?;
                done.push(format!("updated mailbox {}", m.address));
            }
            None => {
                m.id = MailboxId(0);
                // A push token nobody knows; an admin rotates it to use one.
                let hash = web::accounts::hash_token(&web::accounts::random_secret());
                store.create_mailbox(m.clone(), &hash, None).await.map_err(|e| format!("{what}: {e}"))?;
                done.push(format!("created mailbox {}", m.address));
            }
        }
    }
    Ok(done)
}
