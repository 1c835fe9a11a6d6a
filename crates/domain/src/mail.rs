//! Mailboxes and the email identity of a message: what threading and
//! exactly-once ingest look up.

use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;
use crate::{EmailAddress, MailboxId, Millis, TeamId};

/// An address customers write to (support@, billing@ …); its mail becomes
/// tickets for its team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Mailbox {
    pub id: MailboxId,
    /// Lower-case address, unique.
    pub address: String,
    pub name: String,
    pub team_id: Option<TeamId>,
    pub active: bool,
    /// The acknowledgement mailed for each new ticket, a template with
    /// `{{ticket.number}}`, `{{customer.name}}` … (`None`: none is sent).
    pub auto_reply: Option<String>,
    /// Where to fetch its mail (`None`: it is pushed or received by SMTP).
    pub imap: Option<ImapSettings>,
    /// The IMAP password: stored, never shown.
    #[serde(skip)]
    #[schema(ignore)]
    pub imap_password: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// An IMAP account a mailbox's mail is fetched from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub security: ImapSecurity,
    pub username: String,
    /// The folder fetched, `INBOX` by default.
    pub folder: String,
    /// What happens to fetched mail on the server.
    pub after_fetch: AfterFetch,
    /// The folder fetched mail moves to, with `after_fetch: move`.
    pub move_to: Option<String>,
    /// How often to look for mail when the server has no IDLE.
    pub poll_seconds: u32,
}

impl Mailbox {
    pub fn new(address: &EmailAddress, name: &str, team_id: Option<TeamId>, now: Millis) -> Self {
        Self { address: address.as_str().to_string(), name: name.to_string(), team_id, ..Self::blank(now) }
    }

    /// An active mailbox with nothing set yet, for input to fill in.
    pub fn blank(now: Millis) -> Self {
        Self {
            id: MailboxId(0),
            address: String::new(),
            name: String::new(),
            team_id: None,
            active: true,
            auto_reply: None,
            imap: None,
            imap_password: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether `address` is this mailbox, with or without a `+tag`.
    pub fn receives(&self, address: &str) -> bool {
        let address = address.to_ascii_lowercase();
        let (Some((local, domain)), Some((own_local, own_domain))) =
            (address.rsplit_once('@'), self.address.rsplit_once('@'))
        else {
            return false;
        };
        domain == own_domain && local.split('+').next() == Some(own_local)
    }
}

str_enum!(
    /// Whether a message arrived by email or was sent as one.
    Direction { Inbound = "in", Outbound = "out" }
);

str_enum!(
    /// `tls` (port 993), `starttls` (143 upgraded) or `plain` (for
    /// local servers).
    ImapSecurity { Tls = "tls", Starttls = "starttls", Plain = "plain" }
);

str_enum!(
    /// Fetched mail is marked `\Seen` (`seen`) or moved (`move`).
    AfterFetch { Seen = "seen", Move = "move" }
);

str_enum!(
    /// A mailbox's fetching: not tried yet, working, or failing (retried
    /// with growing pauses).
    FetchState { New = "new", Ok = "ok", Failing = "failing" }
);

str_enum!(
    /// Where an outgoing mail stands in the outbox.
    OutboxStatus { Queued = "queued", Sent = "sent", Failed = "failed" }
);

str_enum!(
    /// An agent's reply, or an acknowledgement sent without one (these are
    /// rate-limited per recipient and never answer automatic mail).
    OutboxKind { Reply = "reply", AutoReply = "auto_reply" }
);

/// The email identity of a stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmailIdentity {
    pub mailbox_id: Option<MailboxId>,
    pub direction: Direction,
    /// The `Message-ID` header without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// Hash of what makes the message itself (not its transport headers):
    /// the same mail fetched twice, or fetched and pushed, has one hash.
    pub content_hash: String,
    /// The original message in the object store, for `.eml` download.
    #[serde(skip)]
    pub raw_key: Option<String>,
}
