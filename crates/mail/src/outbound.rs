//! Addressing the mail we send. A reply's email identity (sender mailbox,
//! recipients, threading headers) is decided when the reply is written and
//! stored with it; storage queues every outbound identity in the outbox in
//! the same transaction, and `delivery` sends it later.

use std::collections::HashSet;

use domain::{Direction, EmailIdentity, Mailbox, Ticket};
use rand::RngCore;
use sha2::{Digest, Sha256};
use store::{Store, StoreError};

/// Most `References` we send: the first and the newest.
const MAX_REFERENCES: usize = 20;

/// The mailbox a ticket's mail goes out from: the one its latest inbound
/// mail came to, else its team's, else the first active one.
pub fn sending_mailbox<'a>(mailboxes: &'a [Mailbox], thread: &[EmailIdentity], ticket: &Ticket) -> Option<&'a Mailbox> {
    let active = || mailboxes.iter().filter(|m| m.active);
    let inbound = thread.iter().rev().filter(|e| e.direction == Direction::Inbound).find_map(|e| e.mailbox_id);
    inbound
        .and_then(|id| active().find(|m| m.id == id))
        .or_else(|| ticket.team_id.and_then(|t| active().find(|m| m.team_id == Some(t))))
        .or_else(|| active().next())
}

/// `Re: Printer on fire [#1042]`; the tag threads replies whose headers
/// were lost.
pub fn reply_subject(ticket: &Ticket) -> String {
    let tag = format!("[#{}]", ticket.id.0);
    if ticket.subject.contains(&tag) {
        format!("Re: {}", ticket.subject)
    } else {
        format!("Re: {} {tag}", ticket.subject)
    }
}

/// A fresh Message-ID in the mailbox's domain, naming the ticket; without
/// angle brackets, as parsed ids are stored.
fn message_id(ticket: &Ticket, mailbox: &Mailbox) -> String {
    let mut random = [0u8; 8];
    rand::rng().fill_bytes(&mut random);
    let domain = mailbox.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("switchboard.invalid");
    format!("sb.{}.{}@{domain}", ticket.id.0, hex::encode(random))
}

/// The address mail not on a ticket goes out from (NPS invitations, the
/// digest): the first active mailbox's, else `switchboard@localhost`.
pub async fn sender_address(store: &dyn Store) -> Result<String, StoreError> {
    Ok(store
        .mailboxes()
        .await?
        .into_iter()
        .find(|m| m.active)
        .map(|m| m.address)
        .unwrap_or_else(|| "switchboard@localhost".into()))
}

/// The email identity of a reply mailed to the ticket's requester, with
/// its collaborators in copy; `None` when there is no active mailbox to
/// send from or the requester has no address.
pub async fn reply_identity(store: &dyn Store, ticket: &Ticket) -> Result<Option<EmailIdentity>, StoreError> {
    let Some(requester) = store.customer(ticket.requester_id).await? else { return Ok(None) };
    let thread: Vec<EmailIdentity> = store.ticket_emails(ticket.id).await?.into_iter().map(|(_, e)| e).collect();
    let mailboxes = store.mailboxes().await?;
    let Some(mailbox) = sending_mailbox(&mailboxes, &thread, ticket) else { return Ok(None) };
    let ours: HashSet<String> = mailboxes.iter().map(|m| m.address.to_ascii_lowercase()).collect();
    let to = requester.email.to_ascii_lowercase();
    let mut cc = Vec::new();
    for id in store.collaborators(ticket.id).await? {
        if let Some(c) = store.customer(id).await? {
            let address = c.email.to_ascii_lowercase();
            if address != to && !ours.contains(&address) && !cc.contains(&address) {
                cc.push(address);
            }
        }
    }
    let mut references: Vec<String> = Vec::new();
    for id in thread.iter().filter_map(|e| e.message_id.clone()) {
        if !references.contains(&id) {
            references.push(id);
        }
    }
    if references.len() > MAX_REFERENCES {
        let newest = references.split_off(references.len() - (MAX_REFERENCES - 1));
        references.truncate(1);
        references.extend(newest);
    }
    let in_reply_to = thread
        .iter()
        .rev()
        .find(|e| e.direction == Direction::Inbound && e.message_id.is_some())
        .or_else(|| thread.iter().rev().find(|e| e.message_id.is_some()))
        .and_then(|e| e.message_id.clone());
    let id = message_id(ticket, mailbox);
    Ok(Some(EmailIdentity {
        mailbox_id: Some(mailbox.id),
        direction: Direction::Outbound,
        content_hash: hex::encode(Sha256::digest(id.as_bytes())),
        message_id: Some(id),
        in_reply_to,
        references,
        from: mailbox.address.clone(),
        to: vec![to],
        cc,
        subject: reply_subject(ticket),
        raw_key: None,
    }))
}
