//! MIME → the parts of an email Switchboard uses, in any charset.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

/// An address with its display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Lower-case.
    pub address: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Part {
    pub file_name: String,
    pub content_type: String,
    /// Without angle brackets.
    pub content_id: Option<String>,
    pub inline: bool,
    pub bytes: Vec<u8>,
}

/// A delivery status notification about mail we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// Message-ID of the mail that did not arrive, when the report quotes it.
    pub original_message_id: Option<String>,
    pub recipient: Option<String>,
    pub diagnostic: String,
}

#[derive(Debug, Clone)]
pub struct InboundEmail {
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Envelope recipients providers add (Delivered-To, X-Original-To):
    /// where a reply token survives when To was rewritten.
    pub delivered_to: Vec<String>,
    pub subject: String,
    pub text: String,
    /// The HTML body as sent (unsanitized); see `html::sanitize`.
    pub html: Option<String>,
    pub attachments: Vec<Part>,
    /// Auto-Submitted, Precedence bulk/list/junk, mailer-daemon and the
    /// like: never answered automatically.
    pub automatic: bool,
    pub bounce: Option<Bounce>,
    /// A forwarded message inside (message/rfc822), as its sender.
    pub forwarded_from: Option<Mailbox>,
    /// What makes this mail itself, not its transport: the same message
    /// fetched by IMAP (CRLF) and pushed by a provider (LF) hashes the same.
    pub content_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unparseable(pub String);

fn mailboxes(a: Option<&Address<'_>>) -> Vec<Mailbox> {
    a.map(|a| {
        a.iter()
            .filter_map(|addr| {
                let address = addr.address()?.trim().to_lowercase();
                address.contains('@').then(|| Mailbox {
                    address,
                    name: addr.name().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
                })
            })
            .collect()
    })
    .unwrap_or_default()
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<String> = match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => vec![],
    };
    raw.into_iter()
        .map(|i| i.trim().trim_matches(|c| c == '<' || c == '>').to_string())
        .filter(|i| !i.is_empty())
        .collect()
}

fn header_text(m: &mail_parser::Message<'_>, name: &str) -> Option<String> {
    m.header_raw(name).map(|v| v.trim().to_string())
}

/// Mail no one should answer automatically (RFC 3834 and common practice).
fn is_automatic(m: &mail_parser::Message<'_>, from: &str) -> bool {
    let auto_submitted = header_text(m, "Auto-Submitted").is_some_and(|v| !v.eq_ignore_ascii_case("no"));
    let precedence = header_text(m, "Precedence")
        .is_some_and(|v| ["bulk", "list", "junk", "auto_reply"].contains(&v.to_ascii_lowercase().as_str()));
    let flagged = ["X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe"]
        .iter()
        .any(|h| m.header_raw(*h).is_some());
    let local = from.split('@').next().unwrap_or_default();
    let daemon = ["mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply"]
        .iter()
        .any(|d| local.eq_ignore_ascii_case(d));
    auto_submitted || precedence || flagged || daemon
}

fn bounce(m: &mail_parser::Message<'_>) -> Option<Bounce> {
    let report = m.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct.attribute("report-type").is_some_and(|r| r.eq_ignore_ascii_case("delivery-status"))
    });
    if !report {
        return None;
    }
    let mut recipient = None;
    let mut diagnostic = String::new();
    let mut original = None;
    for part in m.parts.iter() {
        let ct = part.content_type();
        let sub = ct.and_then(|c| c.subtype()).unwrap_or_default().to_ascii_lowercase();
        let kind = ct.map(|c| c.ctype().to_ascii_lowercase()).unwrap_or_default();
        if kind == "message" && sub == "delivery-status" {
            let text = String::from_utf8_lossy(part.contents()).to_string();
            for line in text.lines() {
                let (k, v) = line.split_once(':').unwrap_or_default();
                let v = v.trim();
                match k.trim().to_ascii_lowercase().as_str() {
                    "final-recipient" | "original-recipient" if recipient.is_none() => {
                        recipient = Some(v.rsplit(';').next().unwrap_or(v).trim().to_lowercase());
                    }
                    "diagnostic-code" | "status" if !v.is_empty() => {
                        if !diagnostic.is_empty() {
                            diagnostic.push_str("; ");
                        }
                        diagnostic.push_str(v);
                    }
                    _ => {}
                }
            }
        }
        if let PartType::Message(inner) = &part.body {
            original = original.or_else(|| inner.message_id().map(str::to_string));
        }
        if kind == "text" && sub == "rfc822-headers" {
            let text = String::from_utf8_lossy(part.contents()).to_string();
            if let Some(parsed) = MessageParser::default().parse(text.as_bytes()) {
                original = original.or_else(|| parsed.message_id().map(str::to_string));
            }
        }
    }
    Some(Bounce { original_message_id: original, recipient, diagnostic: diagnostic.chars().take(500).collect() })
}

fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n")
}

/// Parses raw MIME. Fails only when there is nothing to file: no message
/// at all, or no sender address.
pub fn parse(raw: &[u8]) -> Result<InboundEmail, Unparseable> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(Unparseable("the message is empty".into()));
    }
    let m = MessageParser::default().parse(raw).ok_or_else(|| Unparseable("not a MIME message".into()))?;
    if m.headers().is_empty() {
        return Err(Unparseable("the message has no headers".into()));
    }
    let from = mailboxes(m.from())
        .into_iter()
        .next()
        .or_else(|| mailboxes(m.sender()).into_iter().next())
        .ok_or_else(|| Unparseable("the message has no From address".into()))?;
    let subject = m.subject().map(|s| s.trim().to_string()).unwrap_or_default();
    let html = m.body_html(0).map(|h| h.to_string()).filter(|_| m.html_body_count() > 0);
    let has_text_part = m.text_bodies().any(|p| !p.is_text_html());
    let text = match (has_text_part, &html) {
        (false, Some(h)) => crate::html::to_text(h),
        _ => m.body_text(0).map(|t| normalize_newlines(&t)).unwrap_or_default(),
    };
    let mut attachments = Vec::new();
    let mut forwarded_from = None;
    for part in m.attachments() {
        if let PartType::Message(inner) = &part.body {
            forwarded_from = forwarded_from.or_else(|| mailboxes(inner.from()).into_iter().next());
        }
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        let inline = part.content_disposition().is_some_and(|d| d.ctype().eq_ignore_ascii_case("inline"));
        let content_id = part.content_id().map(|c| c.trim().trim_matches(|c| c == '<' || c == '>').to_string());
        let file_name = part.attachment_name().map(str::to_string).unwrap_or_else(|| match content_type.as_str() {
            "message/rfc822" => "forwarded.eml".into(),
            "text/calendar" => "invite.ics".into(),
            _ => "attachment".into(),
        });
        attachments.push(Part { file_name, content_type, content_id, inline, bytes: part.contents().to_vec() });
    }
    let delivered_to = ["Delivered-To", "X-Original-To", "Envelope-To"]
        .iter()
        .filter_map(|h| header_text(&m, h))
        .map(|v| v.trim_matches(|c| c == '<' || c == '>').to_lowercase())
        .collect();
    let message_id = m.message_id().map(|i| i.trim().to_string()).filter(|i| !i.is_empty());
    let mut hash = Sha256::new();
    for piece in [
        message_id.as_deref().unwrap_or_default(),
        &from.address,
        header_text(&m, "Date").as_deref().unwrap_or_default(),
        &subject,
        &text,
        html.as_deref().map(normalize_newlines).as_deref().unwrap_or_default(),
    ] {
        hash.update(piece.as_bytes());
        hash.update([0u8]);
    }
    for a in &attachments {
        hash.update(a.file_name.as_bytes());
        hash.update(&a.bytes);
        hash.update([0u8]);
    }
    Ok(InboundEmail {
        in_reply_to: ids(m.in_reply_to()),
        references: ids(m.references()),
        automatic: is_automatic(&m, &from.address),
        bounce: bounce(&m),
        to: mailboxes(m.to()),
        cc: mailboxes(m.cc()),
        message_id,
        from,
        delivered_to,
        subject,
        text,
        html,
        attachments,
        forwarded_from,
        content_hash: hex::encode(hash.finalize()),
    })
}
