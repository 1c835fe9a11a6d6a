//! The ticket a message names: its reply token (in an address or the body
//! marker) and its `[#1042]` subject tag. Message-ID threading is a store
//! lookup; see `ingest`.

use domain::TicketId;
use sha2::{Digest, Sha256};

/// The per-ticket token, `t1042.k7x2q9`: the number and a keyed check, so
/// a guessed number alone does not thread.
pub fn reply_token(secret: &str, ticket: TicketId) -> String {
    format!("t{}.{}", ticket.0, check(secret, ticket))
}

fn check(secret: &str, ticket: TicketId) -> String {
    let digest = Sha256::digest(format!("{secret}:reply:{}", ticket.0).as_bytes());
    hex::encode(&digest[..4])
}

/// `support+t1042.k7x2q9@example.com` for the mailbox `support@example.com`.
pub fn reply_address(mailbox: &str, token: &str) -> String {
    match mailbox.rsplit_once('@') {
        Some((local, domain)) => format!("{local}+{token}@{domain}"),
        None => mailbox.to_string(),
    }
}

/// The hidden marker put in every body we send; providers that rewrite
/// Message-IDs and addresses leave the quoted body alone.
pub fn body_marker(token: &str) -> String {
    format!("[ref:{token}]")
}

/// Parses `t1042.k7x2q9` and checks it against the secret.
pub fn parse_token(secret: &str, token: &str) -> Option<TicketId> {
    let (number, given) = token.strip_prefix('t')?.split_once('.')?;
    let ticket = TicketId(number.parse().ok()?);
    let given: String = given.chars().take(8).collect();
    (given.eq_ignore_ascii_case(&check(secret, ticket))).then_some(ticket)
}

/// A valid reply token in an address's `+tag`.
pub fn token_in_address(secret: &str, address: &str) -> Option<TicketId> {
    let local = address.split('@').next()?;
    let (_, tag) = local.split_once('+')?;
    parse_token(secret, tag)
}

/// A valid `[ref:…]` marker in a body (the newest, which is first).
pub fn token_in_body(secret: &str, body: &str) -> Option<TicketId> {
    body.match_indices("[ref:").find_map(|(i, _)| {
        let rest = &body[i + 5..];
        let end = rest.find(']')?;
        parse_token(secret, rest[..end].trim())
    })
}

/// The `[#1042]` tag in a subject.
pub fn subject_tag(subject: &str) -> Option<TicketId> {
    subject.match_indices("[#").find_map(|(i, _)| {
        let rest = &subject[i + 2..];
        let end = rest.find(']')?;
        rest[..end].trim().parse().ok().map(TicketId)
    })
}

/// Whether a subject says the mail is a forward.
pub fn is_forward(subject: &str) -> bool {
    let s = subject.trim_start().to_ascii_lowercase();
    ["fwd:", "fw:", "wg:", "tr:", "rv:"].iter().any(|p| s.starts_with(p))
}
