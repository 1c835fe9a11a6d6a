//! Reading domain types out of result rows. The column lists live next to
//! the functions that read them so the two cannot drift apart.

use domain::message::Attachment;
use domain::{
    Actor, AttachmentId, AuthorKind, Channel, CustomFieldDef, Customer, CustomerId, EventId, EventKind, FieldId,
    FieldKind, Message, MessageId, Organization, OrganizationId, Priority, Role, Status, Team, TeamId, Ticket,
    TicketEvent, TicketId, TicketType, Tier, User, UserId, Visibility,
};
use serde::de::DeserializeOwned;

use crate::{ApiToken, AuditEntry, Result, SqlRow, StoreError};

pub(crate) fn json<T: DeserializeOwned>(raw: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("json: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}

pub(crate) fn word<T>(parsed: std::result::Result<T, domain::DomainError>) -> Result<T> {
    parsed.map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) const TICKET_COLS: &str = "t.id, t.subject, t.status, t.priority, t.type, t.channel, t.requester_id, \
    t.organization_id, t.assignee_id, t.team_id, t.tags, t.custom_fields, t.problem_id, t.merged_into, \
    t.follow_up_of, t.created_at, t.updated_at, t.solved_at, t.version";

pub(crate) fn ticket(r: &SqlRow) -> Result<Ticket> {
    Ok(Ticket {
        id: TicketId(r.int(0)?),
        subject: r.text(1)?,
        status: word(Status::parse("status", &r.text(2)?))?,
        priority: Priority::from_rank(r.int(3)?).ok_or_else(|| StoreError::Corrupt("priority".into()))?,
        ticket_type: word(TicketType::parse("type", &r.text(4)?))?,
        channel: word(Channel::parse("channel", &r.text(5)?))?,
        requester_id: CustomerId(r.int(6)?),
        organization_id: r.opt_int(7)?.map(OrganizationId),
        assignee_id: r.opt_int(8)?.map(UserId),
        team_id: r.opt_int(9)?.map(TeamId),
        tags: json(&r.text(10)?)?,
        custom_fields: json(&r.text(11)?)?,
        problem_id: r.opt_int(12)?.map(TicketId),
        merged_into: r.opt_int(13)?.map(TicketId),
        follow_up_of: r.opt_int(14)?.map(TicketId),
        created_at: r.int(15)?,
        updated_at: r.int(16)?,
        solved_at: r.opt_int(17)?,
        version: r.int(18)?,
    })
}

pub(crate) const MESSAGE_COLS: &str =
    "id, ticket_id, visibility, author_kind, author_id, channel, body_text, body_html, metadata, created_at";

pub(crate) fn message(r: &SqlRow) -> Result<Message> {
    Ok(Message {
        id: MessageId(r.int(0)?),
        ticket_id: TicketId(r.int(1)?),
        visibility: word(Visibility::parse("visibility", &r.text(2)?))?,
        author_kind: word(AuthorKind::parse("author_kind", &r.text(3)?))?,
        author_id: r.opt_int(4)?,
        channel: word(Channel::parse("channel", &r.text(5)?))?,
        body_text: r.text(6)?,
        body_html: r.text(7)?,
        metadata: json(&r.text(8)?)?,
        attachments: Vec::new(),
        created_at: r.int(9)?,
    })
}

pub(crate) const ATTACHMENT_COLS: &str =
    "id, message_id, file_name, content_type, size, storage_key, created_at, uploader_kind, uploader_id";

pub(crate) fn attachment(r: &SqlRow) -> Result<Attachment> {
    Ok(Attachment {
        id: AttachmentId(r.int(0)?),
        message_id: r.opt_int(1)?.map(MessageId),
        file_name: r.text(2)?,
        content_type: r.text(3)?,
        size: r.int(4)?,
        storage_key: r.text(5)?,
        created_at: r.int(6)?,
    })
}

pub(crate) const EVENT_COLS: &str = "id, ticket_id, seq, at, actor_kind, actor_id, kind, field, from_value, to_value";

pub(crate) fn event(r: &SqlRow) -> Result<TicketEvent> {
    Ok(TicketEvent {
        id: EventId(r.int(0)?),
        ticket_id: TicketId(r.int(1)?),
        seq: r.int(2)?,
        at: r.int(3)?,
        actor: Actor { kind: word(AuthorKind::parse("actor_kind", &r.text(4)?))?, id: r.opt_int(5)? },
        kind: word(EventKind::parse("kind", &r.text(6)?))?,
        field: r.opt_text(7)?,
        from: json(&r.text(8)?)?,
        to: json(&r.text(9)?)?,
    })
}

pub(crate) const ORGANIZATION_COLS: &str = "id, name, domains, tier, notes, shares_tickets, created_at, updated_at";

pub(crate) fn organization(r: &SqlRow) -> Result<Organization> {
    Ok(Organization {
        id: OrganizationId(r.int(0)?),
        name: r.text(1)?,
        domains: json(&r.text(2)?)?,
        tier: word(Tier::parse("tier", &r.text(3)?))?,
        notes: r.text(4)?,
        shares_tickets: r.bool(5)?,
        created_at: r.int(6)?,
        updated_at: r.int(7)?,
    })
}

pub(crate) const CUSTOMER_COLS: &str = "id, email, name, phone, organization_id, tier, annual_value_cents, tags, \
    time_zone, locale, external_id, password_hash IS NOT NULL, churned_at, created_at, updated_at";

pub(crate) fn customer(r: &SqlRow) -> Result<Customer> {
    Ok(Customer {
        id: CustomerId(r.int(0)?),
        email: r.text(1)?,
        name: r.text(2)?,
        phone: r.opt_text(3)?,
        organization_id: r.opt_int(4)?.map(OrganizationId),
        tier: word(Tier::parse("tier", &r.text(5)?))?,
        annual_value_cents: r.opt_int(6)?,
        tags: json(&r.text(7)?)?,
        time_zone: r.opt_text(8)?,
        locale: r.opt_text(9)?,
        external_id: r.opt_text(10)?,
        has_account: r.bool(11)?,
        churned_at: r.opt_int(12)?,
        created_at: r.int(13)?,
        updated_at: r.int(14)?,
    })
}

pub(crate) const USER_COLS: &str = "id, email, name, role, active, reports_to, time_zone, created_at, updated_at";

pub(crate) fn user(r: &SqlRow) -> Result<User> {
    Ok(User {
        id: UserId(r.int(0)?),
        email: r.text(1)?,
        name: r.text(2)?,
        role: word(Role::parse("role", &r.text(3)?))?,
        active: r.bool(4)?,
        reports_to: r.opt_int(5)?.map(UserId),
        time_zone: r.opt_text(6)?,
        created_at: r.int(7)?,
        updated_at: r.int(8)?,
    })
}

pub(crate) const TEAM_COLS: &str = "id, name, description, lead_id, created_at, updated_at";

pub(crate) fn team(r: &SqlRow) -> Result<Team> {
    Ok(Team {
        id: TeamId(r.int(0)?),
        name: r.text(1)?,
        description: r.text(2)?,
        lead_id: r.opt_int(3)?.map(UserId),
        member_ids: Vec::new(),
        created_at: r.int(4)?,
        updated_at: r.int(5)?,
    })
}

pub(crate) const FIELD_COLS: &str = "id, key, label, kind, options, required, active, created_at";

pub(crate) fn field(r: &SqlRow) -> Result<CustomFieldDef> {
    Ok(CustomFieldDef {
        id: FieldId(r.int(0)?),
        key: r.text(1)?,
        label: r.text(2)?,
        kind: word(FieldKind::parse("kind", &r.text(3)?))?,
        options: json(&r.text(4)?)?,
        required: r.bool(5)?,
        active: r.bool(6)?,
        created_at: r.int(7)?,
    })
}

pub(crate) const TOKEN_COLS: &str = "id, user_id, name, created_at, last_used_at, revoked_at";

pub(crate) fn api_token(r: &SqlRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: domain::TokenId(r.int(0)?),
        user_id: UserId(r.int(1)?),
        name: r.text(2)?,
        created_at: r.int(3)?,
        last_used_at: r.opt_int(4)?,
        revoked_at: r.opt_int(5)?,
    })
}

pub(crate) const AUDIT_COLS: &str = "id, at, actor, action, target, outcome, detail";

pub(crate) fn audit(r: &SqlRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.int(0)?,
        at: r.int(1)?,
        actor: r.text(2)?,
        action: r.text(3)?,
        target: r.text(4)?,
        outcome: r.text(5)?,
        detail: json(&r.text(6)?)?,
    })
}

pub(crate) const MACRO_COLS: &str = "id, owner_id, name, body, public, actions, active, created_at, updated_at";

pub(crate) fn macro_row(r: &SqlRow) -> Result<domain::Macro> {
    Ok(domain::Macro {
        id: domain::MacroId(r.int(0)?),
        owner_id: r.opt_int(1)?.map(UserId),
        name: r.text(2)?,
        body: r.text(3)?,
        public: r.bool(4)?,
        actions: json(&r.text(5)?)?,
        active: r.bool(6)?,
        created_at: r.int(7)?,
        updated_at: r.int(8)?,
    })
}

pub(crate) const VIEW_COLS: &str = "id, owner_id, name, query, columns, sort, position, created_at, updated_at";

pub(crate) fn saved_view(r: &SqlRow) -> Result<domain::SavedView> {
    Ok(domain::SavedView {
        id: domain::ViewId(r.int(0)?),
        owner_id: r.opt_int(1)?.map(UserId),
        name: r.text(2)?,
        query: r.text(3)?,
        columns: json(&r.text(4)?)?,
        sort: r.text(5)?,
        position: r.int(6)?,
        created_at: r.int(7)?,
        updated_at: r.int(8)?,
    })
}

pub(crate) fn agent_status(raw: &str) -> Result<domain::AgentStatus> {
    word(domain::AgentStatus::parse("status", raw))
}
