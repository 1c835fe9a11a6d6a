//! What the application asks of storage. Every method returns domain types;
//! every write that touches several rows is one transaction.

use async_trait::async_trait;
use domain::event::NewEvent;
use domain::integration::{Delivery, Webhook};
use domain::kpi::cells::{BucketKey, CellKey, CellQuery, CellSums, Tally};
use domain::kpi::{Measure, MeasureRow, OpenCount, Slice, TicketFacts};
use domain::message::Attachment;
use domain::notification::{NewNotification, Notification};
use domain::policy::{CustomerPrincipal, StaffPrincipal};
use domain::routing::{AgentProfile, RoutingRule, TeamRouting};
use domain::rules::incident::MajorIncident;
use domain::rules::{Approval, ApprovalState, Escalation, EscalationState, PriorityOutcome, RuleKind, ServiceRule};
use domain::sentiment::Sentiment;
use domain::sla::{SlaPolicy, TicketSla};
use domain::survey::pulse::{Pulse, PulseAnswer};
use domain::survey::{Feedback, FeedbackFilter, ResponseCount, ScoreCount, SurveyInvitation, SurveyKind};
use domain::{
    AgentStatus, ApprovalId, AttachmentId, Calendar, CalendarId, Channel, CustomFieldDef, Customer, CustomerId,
    EmailIdentity, EscalationId, FeedbackId, FieldId, InstanceSettings, Job, JobId, JobStatus, Macro, MacroId, Mailbox,
    MailboxId, Message, MessageId, Millis, NewJob, NotificationPrefs, Organization, OrganizationId, OutboxStatus,
    PulseId, QuarantineId, RoutingRuleId, SavedView, Schedule, ServiceRuleId, SlaPolicyId, SurveyInvitationId, Team,
    TeamId, Ticket, TicketEvent, TicketId, TokenId, User, UserId, ViewId, WebhookId,
};
use tokio::sync::broadcast;

use crate::{
    ApiToken, AuditEntry, Created, CreatedTicket, Credentials, IdempotencyKey, MailboxFetch, NewAttachment,
    NewAuditEntry, NewMessage, NewQuarantine, OutboxEntry, OutgoingMail, Page, PageRequest, PrincipalRef,
    QuarantineEntry, Result, TicketChange, TicketQuery, TicketSubject, TicketWrite,
};

/// One answered survey from history, for `import_answers`; the
/// feedback's `invitation_id` is set from the stored invitation.
#[derive(Debug, Clone)]
pub struct ImportedAnswer {
    pub invitation: SurveyInvitation,
    /// The `survey_sent` event on the ticket, if any.
    pub sent_event: Option<NewEvent>,
    /// The answer; none for a survey sent and not (yet) answered.
    pub feedback: Option<Feedback>,
    /// The `satisfaction_received` event on the ticket, if any.
    pub answer_event: Option<NewEvent>,
}

/// A ticket as it is first stored: its state, its events, its messages.
#[derive(Debug, Clone)]
pub struct TicketCreate {
    pub ticket: Ticket,
    pub events: Vec<NewEvent>,
    pub messages: Vec<NewMessage>,
    /// A requester to find by email or create in the same transaction; the
    /// ticket's `requester_id` (and the events' mention of it) is then set
    /// from it, so a failed create leaves no customer behind.
    pub new_requester: Option<Customer>,
}

impl TicketCreate {
    /// The events storage records for this ticket, numbered as it will
    /// number them: the given ones and a `message_added` for each message
    /// (message ids 0, not known yet).
    pub fn recorded_events(&self) -> Vec<domain::TicketEvent> {
        let mut all = self.events.clone();
        all.extend(self.messages.iter().map(|m| crate::sql_store::message_event(m, 0)));
        crate::sql_store::chronological(&mut all);
        all.into_iter()
            .enumerate()
            .map(|(i, e)| domain::TicketEvent {
                id: domain::EventId(0),
                ticket_id: self.ticket.id,
                seq: i as i64 + 1,
                at: e.at,
                actor: e.actor,
                kind: e.kind,
                field: e.field,
                from: e.from,
                to: e.to,
            })
            .collect()
    }
}

#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Numbers and stores a new ticket with its events and first messages.
    async fn create_ticket(&self, new: TicketCreate, idem: Option<IdempotencyKey>) -> Result<CreatedTicket>;
    /// Stores many tickets in one transaction (imports, demo data, benchmarks).
    async fn import_tickets(&self, batch: Vec<TicketCreate>) -> Result<Vec<TicketId>> {
        self.import_prepared(self.prepare_import(batch)).await
    }
    /// Makes tickets into rows for `import_prepared` without the
    /// database, so an importer can prepare its next page on its own
    /// thread while the store writes the last one.
    fn prepare_import(&self, batch: Vec<TicketCreate>) -> crate::PreparedImport;
    /// Stores a prepared page in one transaction; returns the tickets'
    /// numbers in the order given.
    async fn import_prepared(&self, page: crate::PreparedImport) -> Result<Vec<TicketId>>;
    /// Refreshes statistics and compacts indexes; run after an import.
    async fn optimize(&self) -> Result<()>;
    async fn ticket(&self, id: TicketId) -> Result<Option<Ticket>>;
    /// Writes a change; `VersionConflict` if the ticket moved on meanwhile.
    async fn write_ticket(&self, write: TicketWrite) -> Result<()>;
    /// Creates the follow-up of a closed ticket and records the link on the
    /// original, in one transaction.
    async fn create_follow_up(&self, new: TicketCreate, original: TicketId, at: Millis) -> Result<TicketId>;
    /// Writes both sides of a merge and moves the source's messages.
    async fn merge_tickets(&self, source: TicketWrite, target: TicketWrite) -> Result<()>;
    async fn tickets(&self, query: &TicketQuery) -> Result<Page<Ticket>>;
    /// How many tickets match (sort, cursor and limit ignored), counting no
    /// further than `cap`: a navigation count needs "999+", not a full scan.
    async fn count_tickets(&self, query: &TicketQuery, cap: u64) -> Result<u64>;
    /// The text of these tickets' messages (public only unless
    /// `include_internal`), each ticket's joined in order; for search
    /// snippets.
    async fn ticket_texts(&self, ids: &[TicketId], include_internal: bool) -> Result<Vec<(TicketId, String)>>;
    async fn messages(&self, ticket: TicketId, include_internal: bool) -> Result<Vec<Message>>;
    async fn events(&self, ticket: TicketId) -> Result<Vec<TicketEvent>>;
    /// Appends events that change nothing on the ticket row (its version
    /// and `updated_at` stay, so nobody's `If-Match` goes stale): logged
    /// time. `NotFound` without the ticket.
    async fn append_events(&self, ticket: TicketId, events: Vec<NewEvent>) -> Result<()>;
    /// Every ticket's events with an id above `after`, in id order, at most
    /// `limit`: the incremental export (ids only grow, events never change).
    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<TicketEvent>>;
    async fn create_attachment(&self, new: NewAttachment) -> Result<Attachment>;
    /// The attachment, who uploaded it, and the ticket it is on (if attached).
    async fn attachment(&self, id: AttachmentId) -> Result<Option<(Attachment, PrincipalRef, Option<TicketId>)>>;
    fn subscribe(&self) -> broadcast::Receiver<TicketChange>;
}

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    async fn create_organization(
        &self,
        org: Organization,
        idem: Option<IdempotencyKey>,
    ) -> Result<Created<OrganizationId>>;
    async fn update_organization(&self, org: &Organization) -> Result<()>;
    async fn organization(&self, id: OrganizationId) -> Result<Option<Organization>>;
    async fn organizations(&self, page: PageRequest) -> Result<Page<Organization>>;

    async fn create_customer(
        &self,
        customer: Customer,
        password_hash: Option<String>,
        idem: Option<IdempotencyKey>,
    ) -> Result<Created<CustomerId>>;
    async fn update_customer(&self, customer: &Customer) -> Result<()>;
    async fn customer(&self, id: CustomerId) -> Result<Option<Customer>>;
    /// The customers with these ids (those that exist), by id.
    async fn customers_by_ids(&self, ids: &[CustomerId]) -> Result<Vec<Customer>>;
    async fn customer_by_email(&self, email: &str) -> Result<Option<Customer>>;
    async fn customers(&self, page: PageRequest, organization: Option<OrganizationId>) -> Result<Page<Customer>>;

    async fn create_user(
        &self,
        user: User,
        password_hash: Option<String>,
        idem: Option<IdempotencyKey>,
    ) -> Result<Created<UserId>>;
    async fn update_user(&self, user: &User) -> Result<()>;
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    /// The staff user with this email (any case).
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn users(&self, page: PageRequest) -> Result<Page<User>>;
    async fn user_count(&self) -> Result<i64>;

    async fn set_password(&self, who: PrincipalRef, password_hash: &str) -> Result<()>;
    /// Staff first, then customers with an account.
    async fn credentials(&self, email: &str) -> Result<Option<Credentials>>;

    async fn create_team(&self, team: Team, idem: Option<IdempotencyKey>) -> Result<Created<TeamId>>;
    /// Updates the team and replaces its members.
    async fn update_team(&self, team: &Team) -> Result<()>;
    async fn team(&self, id: TeamId) -> Result<Option<Team>>;
    async fn teams(&self) -> Result<Vec<Team>>;

    /// What the access policy needs to know about a staff user.
    async fn staff_principal(&self, id: UserId) -> Result<Option<(User, StaffPrincipal)>>;
    async fn customer_principal(&self, id: CustomerId) -> Result<Option<(Customer, CustomerPrincipal)>>;
}

#[async_trait]
pub trait FieldStore: Send + Sync {
    async fn create_field(&self, def: CustomFieldDef, idem: Option<IdempotencyKey>) -> Result<Created<FieldId>>;
    async fn update_field(&self, def: &CustomFieldDef) -> Result<()>;
    async fn fields(&self) -> Result<Vec<CustomFieldDef>>;
}

#[async_trait]
pub trait AuthStore: Send + Sync {
    async fn create_session(&self, token_hash: &str, who: PrincipalRef, now: Millis, expires_at: Millis) -> Result<()>;
    async fn session(&self, token_hash: &str, now: Millis) -> Result<Option<PrincipalRef>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn delete_sessions_of(&self, who: PrincipalRef) -> Result<()>;

    async fn create_api_token(&self, user: UserId, name: &str, token_hash: &str, now: Millis) -> Result<ApiToken>;
    /// The live token with this hash; marks it used (at most once a minute).
    async fn api_token(&self, token_hash: &str, now: Millis) -> Result<Option<(TokenId, UserId)>>;
    async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>>;
    async fn revoke_api_token(&self, user: UserId, id: TokenId, now: Millis) -> Result<bool>;

    async fn record_login_failure(&self, key: &str, now: Millis) -> Result<()>;
    async fn login_failures_since(&self, key: &str, since: Millis) -> Result<i64>;
    async fn clear_login_failures(&self, key: &str) -> Result<()>;

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<()>;
    async fn audit(&self, page: PageRequest) -> Result<Page<AuditEntry>>;
}

#[async_trait]
pub trait MailStore: Send + Sync {
    async fn create_mailbox(
        &self,
        mailbox: Mailbox,
        token_hash: &str,
        idem: Option<IdempotencyKey>,
    ) -> Result<Created<MailboxId>>;
    async fn update_mailbox(&self, mailbox: &Mailbox) -> Result<()>;
    /// Replaces the mailbox's push token.
    async fn set_mailbox_token(&self, id: MailboxId, token_hash: &str) -> Result<()>;
    async fn mailbox(&self, id: MailboxId) -> Result<Option<Mailbox>>;
    async fn mailboxes(&self) -> Result<Vec<Mailbox>>;
    async fn mailbox_by_token(&self, token_hash: &str) -> Result<Option<Mailbox>>;

    /// The ticket holding the newest stored mail with one of these
    /// Message-IDs (threading by `In-Reply-To` and `References`).
    async fn ticket_by_message_ids(&self, ids: &[String]) -> Result<Option<TicketId>>;
    /// The stored message with this content hash and its ticket.
    async fn message_by_hash(&self, hash: &str) -> Result<Option<(MessageId, TicketId)>>;
    /// The email identity of a stored message, and its ticket.
    async fn message_email(&self, message: MessageId) -> Result<Option<(EmailIdentity, TicketId)>>;
    async fn collaborators(&self, ticket: TicketId) -> Result<Vec<CustomerId>>;

    /// Keeps mail that could not be stored; the same mail again counts one
    /// more attempt on its entry.
    async fn quarantine(&self, entry: NewQuarantine) -> Result<QuarantineId>;
    /// Unresolved first, newest first.
    async fn quarantined(&self, page: PageRequest) -> Result<Page<QuarantineEntry>>;
    async fn quarantine_entry(&self, id: QuarantineId) -> Result<Option<QuarantineEntry>>;
    async fn resolve_quarantine(&self, id: QuarantineId, message: Option<MessageId>, at: Millis) -> Result<()>;

    /// The instance's secret with this name; `fresh` is stored the first
    /// time, and every node then reads the same value.
    async fn instance_secret(&self, name: &str, fresh: &str) -> Result<String>;

    /// The email identities of a ticket's messages, oldest first.
    async fn ticket_emails(&self, ticket: TicketId) -> Result<Vec<(MessageId, EmailIdentity)>>;
    /// Queued mail due at `now` that no node holds, now held by the caller
    /// until `lease_until` (on PostgreSQL, `FOR UPDATE SKIP LOCKED`, so
    /// nodes never claim the same mail).
    async fn claim_outbox(&self, now: Millis, lease_until: Millis, limit: u32) -> Result<Vec<OutgoingMail>>;
    /// Marks a claimed mail sent (keeping the key of its raw copy) and
    /// records `event` on its ticket, together.
    async fn outbox_sent(&self, message: MessageId, at: Millis, raw_key: Option<&str>, event: NewEvent) -> Result<()>;
    /// Records a failed attempt: retried at `retry_at`, or failed for good
    /// (`None`) with `event` recorded on the ticket.
    async fn outbox_failed(
        &self,
        message: MessageId,
        error: &str,
        retry_at: Option<Millis>,
        event: Option<NewEvent>,
    ) -> Result<()>;
    /// Newest first; `status` filters.
    async fn outbox(&self, status: Option<OutboxStatus>, page: PageRequest) -> Result<Page<OutboxEntry>>;
    /// How many automatic replies went (or wait to go) to `recipient` since `since`.
    async fn auto_replies_to(&self, recipient: &str, since: Millis) -> Result<u64>;

    /// Where fetching the mailbox stands (the default before its first try).
    async fn mailbox_fetch(&self, mailbox: MailboxId) -> Result<MailboxFetch>;
    /// Takes the mailbox for fetching until `lease_until`, if no other
    /// holder's lease is running; whether it was taken.
    async fn claim_fetch(&self, mailbox: MailboxId, holder: &str, now: Millis, lease_until: Millis) -> Result<bool>;
    /// Saves where fetching stands if `holder` still holds the mailbox,
    /// extending the lease to `lease_until` (`None` releases it); whether
    /// it was saved.
    async fn save_fetch(
        &self,
        mailbox: MailboxId,
        holder: &str,
        fetch: &MailboxFetch,
        lease_until: Option<Millis>,
    ) -> Result<bool>;
}

/// What the agent workspace keeps: agents' status and preferences, macros,
/// saved views, who is on a ticket, instance settings.
#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    /// Sets an agent's status; a change is also appended to their status
    /// history (in one transaction). Setting the same status again keeps
    /// its `since`.
    async fn set_agent_status(&self, user: UserId, status: AgentStatus, at: Millis) -> Result<()>;
    /// Staff whose status was ever set, with it and since when; the others
    /// are offline.
    async fn agent_statuses(&self) -> Result<Vec<(UserId, AgentStatus, Millis)>>;
    /// An agent's status changes in `[from, to)`, oldest first.
    async fn agent_status_changes(&self, user: UserId, from: Millis, to: Millis) -> Result<Vec<(AgentStatus, Millis)>>;
    /// Every agent's status changes in `[from, to)`, each agent's last
    /// change before `from` first (the status they entered the window
    /// with); by agent, then time.
    async fn status_history(&self, from: Millis, to: Millis) -> Result<Vec<(UserId, AgentStatus, Millis)>>;
    /// Appends status changes from history (imports, the demo) in one
    /// transaction, and sets each agent's current status to their latest.
    async fn import_status_changes(&self, changes: Vec<(UserId, AgentStatus, Millis)>) -> Result<()>;
    /// The agent's preferences (the defaults until they save theirs).
    async fn preferences(&self, user: UserId) -> Result<NotificationPrefs>;
    async fn set_preferences(&self, user: UserId, prefs: &NotificationPrefs) -> Result<()>;

    async fn create_macro(&self, m: Macro) -> Result<MacroId>;
    async fn update_macro(&self, m: &Macro) -> Result<()>;
    async fn delete_macro(&self, id: MacroId) -> Result<bool>;
    async fn macro_by_id(&self, id: MacroId) -> Result<Option<Macro>>;
    /// Shared macros, and `owner`'s own when given; by name.
    async fn macros(&self, owner: Option<UserId>) -> Result<Vec<Macro>>;

    async fn create_view(&self, v: SavedView) -> Result<ViewId>;
    async fn update_view(&self, v: &SavedView) -> Result<()>;
    async fn delete_view(&self, id: ViewId) -> Result<bool>;
    async fn saved_view(&self, id: ViewId) -> Result<Option<SavedView>>;
    /// Shared views, then `owner`'s own; each by position, then name.
    async fn saved_views(&self, owner: UserId) -> Result<Vec<SavedView>>;

    /// Records that `user` has the ticket open (and whether typing) at `at`.
    async fn touch_presence(&self, ticket: TicketId, user: UserId, typing: bool, at: Millis) -> Result<()>;
    async fn leave_ticket(&self, ticket: TicketId, user: UserId) -> Result<()>;
    /// Who was on the ticket at or after `since`: user, typing, when seen.
    async fn presence(&self, ticket: TicketId, since: Millis) -> Result<Vec<(UserId, bool, Millis)>>;

    async fn instance_settings(&self) -> Result<InstanceSettings>;
    async fn set_instance_settings(&self, settings: &InstanceSettings) -> Result<()>;
}

/// Durable jobs and schedules.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores a job; with an idempotency key already used, the job that
    /// has it (and nothing new).
    async fn enqueue_job(&self, job: NewJob) -> Result<JobId>;
    /// Jobs due at `now` (queued, or running with a lapsed lease), now held
    /// by `holder` until `lease_until`, oldest first. On PostgreSQL the rows
    /// are locked with `SKIP LOCKED`, so nodes never claim the same job.
    async fn claim_jobs(&self, now: Millis, holder: &str, lease_until: Millis, limit: u32) -> Result<Vec<Job>>;
    /// Marks a job done, if `holder` still holds it; whether it did.
    async fn complete_job(&self, id: JobId, holder: &str, at: Millis) -> Result<bool>;
    /// Records a failed attempt: queued again at `retry_at`, or dead
    /// (`None`), if `holder` still holds it.
    async fn fail_job(
        &self,
        id: JobId,
        holder: &str,
        error: &str,
        retry_at: Option<Millis>,
        at: Millis,
    ) -> Result<bool>;
    async fn job(&self, id: JobId) -> Result<Option<Job>>;
    /// Newest first; `status` filters.
    async fn jobs(&self, status: Option<JobStatus>, page: PageRequest) -> Result<Page<Job>>;
    /// Queues a dead job again, its attempts reset; whether it was dead.
    async fn retry_job(&self, id: JobId, now: Millis) -> Result<bool>;
    /// Removes done jobs finished before `before`; how many.
    async fn delete_done_jobs(&self, before: Millis) -> Result<u64>;

    /// Adds the schedule, or updates its kind, payload and interval
    /// (keeping when it runs next).
    async fn ensure_schedule(&self, schedule: &Schedule) -> Result<()>;
    async fn schedules(&self) -> Result<Vec<Schedule>>;
    /// Moves a schedule from `due` to `next` and enqueues `job`, together,
    /// if its next run is still `due` (another node may have moved it
    /// first); whether this call did.
    async fn advance_schedule(&self, name: &str, due: Millis, next: Millis, job: NewJob) -> Result<bool>;
}

/// Service rules: calendars, SLA policies, and each ticket's SLA.
#[async_trait]
pub trait RuleStore: Send + Sync {
    async fn create_calendar(&self, c: Calendar) -> Result<CalendarId>;
    async fn update_calendar(&self, c: &Calendar) -> Result<()>;
    async fn calendar(&self, id: CalendarId) -> Result<Option<Calendar>>;
    async fn calendars(&self) -> Result<Vec<Calendar>>;

    async fn create_sla_policy(&self, p: SlaPolicy) -> Result<SlaPolicyId>;
    async fn update_sla_policy(&self, p: &SlaPolicy) -> Result<()>;
    async fn delete_sla_policy(&self, id: SlaPolicyId) -> Result<bool>;
    /// By position, then id.
    async fn sla_policies(&self) -> Result<Vec<SlaPolicy>>;

    async fn ticket_sla(&self, ticket: TicketId) -> Result<Option<TicketSla>>;
    /// Saves a ticket's SLA and appends `events` to it (warnings, breaches,
    /// fulfilments; the ticket's version does not change), together. An
    /// evaluation of an older version than the one saved is dropped
    /// (`false`).
    async fn save_ticket_sla(&self, sla: &TicketSla, events: &[NewEvent]) -> Result<bool>;
    /// Tickets changed since `since` whose SLA was evaluated from an older
    /// version, or never (a node may have stopped between a change and its
    /// evaluation).
    async fn tickets_with_stale_sla(&self, since: Millis, limit: u32) -> Result<Vec<TicketId>>;

    async fn create_routing_rule(&self, r: RoutingRule) -> Result<RoutingRuleId>;
    async fn update_routing_rule(&self, r: &RoutingRule) -> Result<()>;
    async fn delete_routing_rule(&self, id: RoutingRuleId) -> Result<bool>;
    /// By position, then id.
    async fn routing_rules(&self) -> Result<Vec<RoutingRule>>;
    /// A team's assignment settings (manual until set) and whom round robin gave the last ticket.
    async fn team_routing(&self, team: TeamId) -> Result<(TeamRouting, Option<UserId>)>;
    async fn set_team_routing(&self, team: TeamId, settings: &TeamRouting) -> Result<()>;
    /// Moves round robin on from `last` to `next`, if no other node moved
    /// it first; whether this call did.
    async fn advance_round_robin(&self, team: TeamId, last: Option<UserId>, next: UserId) -> Result<bool>;
    /// Agents' routing profiles (the default for those never set).
    async fn agent_profiles(&self, users: &[UserId]) -> Result<Vec<(UserId, AgentProfile)>>;
    async fn set_agent_profile(&self, user: UserId, profile: &AgentProfile) -> Result<()>;
    /// Open work (new, open, on hold) each of `users` holds, per channel.
    async fn agent_loads(&self, users: &[UserId]) -> Result<Vec<(UserId, Channel, i64)>>;
    /// The mailbox the ticket's first email arrived in.
    async fn ticket_mailbox(&self, ticket: TicketId) -> Result<Option<MailboxId>>;
}

/// Triggers and automations, escalations, approvals, notices, assessed
/// priorities, major incidents, and settings kept as JSON by key.
#[async_trait]
pub trait ServiceStore: Send + Sync {
    /// Rules of one kind in the order they run.
    async fn service_rules(&self, kind: RuleKind) -> Result<Vec<ServiceRule>>;
    async fn service_rule(&self, id: ServiceRuleId) -> Result<Option<ServiceRule>>;
    async fn create_service_rule(&self, r: ServiceRule) -> Result<ServiceRuleId>;
    async fn update_service_rule(&self, r: &ServiceRule) -> Result<()>;
    async fn delete_service_rule(&self, id: ServiceRuleId) -> Result<bool>;
    /// Records that a rule acted on a ticket in the state named by `mark`;
    /// false when it already had (so an automation acts once per state).
    async fn mark_rule_fired(&self, rule: ServiceRuleId, ticket: TicketId, mark: &str, at: Millis) -> Result<bool>;
    /// Tickets not closed with an id above `after`, by id, at most `limit`.
    async fn unclosed_tickets(&self, after: TicketId, limit: u32) -> Result<Vec<Ticket>>;

    async fn setting(&self, key: &str) -> Result<Option<serde_json::Value>>;
    async fn set_setting(&self, key: &str, value: &serde_json::Value) -> Result<()>;

    /// Raises an escalation and writes its event on the ticket, in one
    /// transaction; `None` when one from the same source is still open.
    async fn create_escalation(&self, e: Escalation, event: NewEvent) -> Result<Option<EscalationId>>;
    async fn escalation(&self, id: EscalationId) -> Result<Option<Escalation>>;
    /// Newest first; filtered by state and ticket when given.
    async fn escalations(
        &self,
        state: Option<EscalationState>,
        ticket: Option<TicketId>,
        limit: u32,
    ) -> Result<Vec<Escalation>>;
    /// Resolves an open escalation with its outcome and event; false when it was not open.
    async fn resolve_escalation(&self, e: &Escalation, event: NewEvent) -> Result<bool>;

    async fn create_approval(&self, a: Approval, event: NewEvent) -> Result<ApprovalId>;
    async fn approval(&self, id: ApprovalId) -> Result<Option<Approval>>;
    async fn approvals(&self, state: Option<ApprovalState>, ticket: Option<TicketId>) -> Result<Vec<Approval>>;
    /// Saves a pending approval's decision (or its new approver) with its
    /// event; false when it was no longer pending.
    async fn update_pending_approval(&self, a: &Approval, event: NewEvent) -> Result<bool>;

    async fn notify(&self, notices: Vec<NewNotification>) -> Result<()>;
    /// Newest first.
    async fn notifications(&self, user: UserId, unread_only: bool, limit: u32) -> Result<Vec<Notification>>;
    async fn unread_notifications(&self, user: UserId) -> Result<i64>;
    async fn mark_notifications_read(&self, user: UserId, at: Millis) -> Result<u64>;

    async fn save_ticket_priority(&self, ticket: TicketId, outcome: &PriorityOutcome, at: Millis) -> Result<()>;
    async fn ticket_priority(&self, ticket: TicketId) -> Result<Option<PriorityOutcome>>;

    async fn save_major_incident(&self, m: &MajorIncident) -> Result<()>;
    async fn major_incident(&self, problem: TicketId) -> Result<Option<MajorIncident>>;
    /// Major incidents (active first), with their linked counts.
    async fn major_incidents(&self, active_only: bool) -> Result<Vec<MajorIncident>>;
    /// Ids of the incidents linked to a problem.
    async fn linked_incidents(&self, problem: TicketId) -> Result<Vec<TicketId>>;
    /// Writes many tickets in one transaction: all or none.
    async fn write_tickets(&self, writes: Vec<TicketWrite>) -> Result<()>;
    /// Tickets created per tag in `[from, to)` (tags with at least one).
    async fn tag_counts(&self, from: Millis, to: Millis) -> Result<Vec<(String, i64)>>;
}

/// Surveys sent, their answers, customers who want no more surveys, and
/// the sentiment of each inbound customer message.
#[async_trait]
pub trait FeedbackStore: Send + Sync {
    /// Stores an invitation with its event on the ticket; `None` when the
    /// ticket already has one of this kind (a ticket is asked once).
    async fn create_invitation(
        &self,
        inv: SurveyInvitation,
        event: Option<NewEvent>,
    ) -> Result<Option<SurveyInvitationId>>;
    async fn invitation(&self, id: SurveyInvitationId) -> Result<Option<SurveyInvitation>>;
    /// The ticket's invitation of a kind.
    async fn ticket_invitation(&self, ticket: TicketId, kind: SurveyKind) -> Result<Option<SurveyInvitation>>;
    /// When the customer was last sent a survey (of `kind`, or of any).
    async fn last_surveyed(&self, customer: CustomerId, kind: Option<SurveyKind>) -> Result<Option<Millis>>;
    /// Stores the invitation's answer, or updates it when it was answered
    /// before (keeping its first answer time and review), marks the
    /// invitation answered and writes the event on the ticket, together.
    async fn save_feedback(&self, f: Feedback, event: Option<NewEvent>) -> Result<FeedbackId>;
    /// Invitations and their answers from history (an import, the demo) in
    /// one transaction: each as `create_invitation` then `save_feedback`
    /// would store it (an invitation that exists already is skipped with
    /// its answer); how many were stored.
    async fn import_answers(&self, answers: Vec<ImportedAnswer>) -> Result<usize>;
    async fn feedback(&self, id: FeedbackId) -> Result<Option<Feedback>>;
    async fn invitation_feedback(&self, inv: SurveyInvitationId) -> Result<Option<Feedback>>;
    /// Newest first (by id; `page.after` is the last id seen).
    async fn feedback_list(&self, filter: &FeedbackFilter, page: PageRequest) -> Result<Page<Feedback>>;
    /// Marks an answer reviewed with a note; false when there is none.
    async fn review_feedback(&self, id: FeedbackId, by: UserId, note: &str, at: Millis) -> Result<bool>;
    /// The filtered answers counted by kind, scale and score.
    async fn score_counts(&self, filter: &FeedbackFilter) -> Result<Vec<ScoreCount>>;
    /// The same, per agent (`by_team` false) or per team the answers
    /// recorded, in one pass: for scorecards.
    async fn score_counts_by(&self, filter: &FeedbackFilter, by_team: bool) -> Result<Vec<(Option<i64>, ScoreCount)>>;
    /// Invitations of a kind sent in `[from, to)` and how many of them were answered.
    async fn response_count(&self, kind: SurveyKind, from: Millis, to: Millis) -> Result<ResponseCount>;
    async fn set_unsubscribed(&self, customer: CustomerId, unsubscribed: bool, at: Millis) -> Result<()>;
    async fn unsubscribed(&self, customer: CustomerId) -> Result<bool>;
    async fn save_message_sentiment(&self, message: MessageId, ticket: TicketId, s: Sentiment) -> Result<()>;
    async fn create_pulse(&self, p: Pulse) -> Result<PulseId>;
    async fn pulse(&self, id: PulseId) -> Result<Option<Pulse>>;
    /// Newest first.
    async fn pulses(&self) -> Result<Vec<Pulse>>;
    /// Stores an answer and that `user` has answered, together;
    /// `Duplicate("answer")` when they had.
    async fn answer_pulse(&self, pulse: PulseId, user: UserId, answer: PulseAnswer) -> Result<()>;
    async fn pulse_answers(&self, pulse: PulseId) -> Result<Vec<PulseAnswer>>;
    async fn pulse_answered(&self, pulse: PulseId, user: UserId) -> Result<bool>;
    /// Tickets created in `[from, to)`, oldest first, at most `limit`.
    async fn ticket_subjects(&self, from: Millis, to: Millis, limit: u32) -> Result<Vec<TicketSubject>>;
    /// The ticket's scored messages, oldest first.
    async fn message_sentiments(&self, ticket: TicketId) -> Result<Vec<(MessageId, Sentiment)>>;
}

/// Slack and generic webhooks and the log of their deliveries.
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    async fn create_webhook(&self, hook: Webhook) -> Result<WebhookId>;
    /// Writes name, kind, url, events, rating filter and active; switching
    /// a hook on resets its failures and reason. False when there is none.
    async fn update_webhook(&self, hook: &Webhook) -> Result<bool>;
    async fn delete_webhook(&self, id: WebhookId) -> Result<bool>;
    async fn webhook(&self, id: WebhookId) -> Result<Option<Webhook>>;
    /// Every hook, by id.
    async fn webhooks(&self) -> Result<Vec<Webhook>>;
    /// Logs an attempt and counts failures in a row (a success resets the
    /// count); at `disable_after` failures in a row the hook is switched
    /// off. True when this attempt switched it off.
    async fn record_delivery(&self, d: Delivery, disable_after: i64) -> Result<bool>;
    /// A hook's attempts, newest first (`page.after` is the last id seen).
    async fn deliveries(&self, hook: WebhookId, page: PageRequest) -> Result<Page<Delivery>>;
}

/// The KPI rollup: each ticket's measured rows and facts, derived from its
/// events (`insight::kpi::measure`) and replaced as they arrive.
#[async_trait]
pub trait KpiStore: Send + Sync {
    /// Replaces the ticket's rows and facts, measured from its first
    /// `events_seen` events; false (and nothing written) when what is stored
    /// was measured from as many or more.
    async fn save_measures(&self, facts: &TicketFacts, rows: &[MeasureRow], events_seen: i64) -> Result<bool>;
    /// `save_measures` for many tickets in one transaction; how many were written.
    async fn save_measures_many(&self, items: &[(TicketFacts, Vec<MeasureRow>, i64)]) -> Result<usize>;
    /// The events of the tickets numbered after `after` up to `upto`, by ticket and sequence.
    async fn events_of_tickets(&self, after: TicketId, upto: TicketId) -> Result<Vec<TicketEvent>>;
    /// The rows of these measures with their instant in `[from, to)`, in the slice.
    async fn measure_rows(
        &self,
        measures: &[Measure],
        from: Millis,
        to: Millis,
        slice: &Slice,
    ) -> Result<Vec<MeasureRow>>;
    /// Unsolved tickets in the slice (by their team, agent, channel and
    /// priority now) counted per status, team, agent and creation range
    /// (`OpenCount`), in that order, so a report gets a few hundred counts,
    /// not every open ticket (PostgreSQL groups them; on SQLite, which
    /// groups only by sorting, the store reads their four columns from an
    /// index and counts them).
    async fn open_counts(&self, slice: &Slice, until: &[Millis]) -> Result<Vec<OpenCount>>;
    async fn ticket_facts(&self, ticket: TicketId) -> Result<Option<TicketFacts>>;
    /// One ticket's rows, by instant.
    async fn ticket_measures(&self, ticket: TicketId) -> Result<Vec<MeasureRow>>;
    /// Empties the rollup (before a rebuild); from now on its cells count
    /// the local days of `zone`.
    async fn clear_measures(&self, zone: &str) -> Result<()>;
    /// `clear_measures` for a rebuild that sums its cells in memory: the
    /// cells are kept from now on (measurements meanwhile add to them) but
    /// do not count (`cells_zone` is none) until `add_rebuilt(…, true)`.
    async fn start_rebuild(&self, zone: &str) -> Result<()>;
    /// `save_measures_many` for such a rebuild: writes the rows and facts
    /// but not their cells' change, which the caller tallies
    /// (`UntalliedMeasures::tally_into`, off the single writer) and adds
    /// with `add_rebuilt`.
    async fn save_measures_untallied(
        &self,
        items: &[(TicketFacts, Vec<MeasureRow>, i64)],
    ) -> Result<crate::UntalliedMeasures>;
    /// Adds a rebuild's summed tally: its cells to the days' and weeks'
    /// cells, its buckets straight into the days' and weeks' histograms
    /// (what folding them would give). `complete`: the rebuild is done and
    /// the cells count again.
    async fn add_rebuilt(&self, tally: Tally, complete: bool) -> Result<()>;
    /// The zone the cells count local days in; none before the first rebuild
    /// (the cells are kept only once it is set) and while one is under way.
    async fn cells_zone(&self) -> Result<Option<String>>;
    /// The rollup's cells, summed as the query says.
    async fn kpi_cells(&self, q: &CellQuery) -> Result<Vec<(CellKey, CellSums)>>;
    /// The rollup's duration buckets, summed as the query says (only those
    /// holding values): the folded days' histograms and the buckets not
    /// folded yet together.
    async fn kpi_buckets(&self, q: &CellQuery) -> Result<Vec<(BucketKey, i64)>>;
    /// Folds the buckets of the days before `before_day` into one
    /// histogram row per day, view, measure and clock (each day in a
    /// transaction of its own, holding off measurements meanwhile); how
    /// many days it folded. Reads give the same before and after.
    async fn fold_buckets(&self, before_day: i64) -> Result<u64>;
    /// Ticket numbers after `after`, in order, at most `limit`.
    async fn ticket_ids_after(&self, after: TicketId, limit: u32) -> Result<Vec<TicketId>>;
    /// Tickets not measured, or measured from fewer events than they have.
    async fn unmeasured_tickets(&self, limit: u32) -> Result<Vec<TicketId>>;
    /// The customers at `from` (created before, not churned before), as
    /// those who requested a ticket created in `[from, to)` and those who
    /// did not: how many, how many churned before `to`, their annual
    /// value. One statement: each customer probes the tickets' requester
    /// index once.
    async fn retention(&self, from: Millis, to: Millis) -> Result<crate::Retention>;
    /// The tickets whose tier a customer's or an organization's tier is
    /// part of (requested by the customer, or of the organization), by number.
    async fn tickets_of_tier_holder(&self, holder: TierHolder) -> Result<Vec<TicketId>>;
    /// Takes each of these tickets' tier again from the directory
    /// (`Tier::of_ticket`) and, where it changed, moves the ticket's cells
    /// to its new tier, in one transaction; how many moved.
    async fn retier(&self, tickets: &[TicketId]) -> Result<usize>;
}

/// Whose tier changed: a customer's or an organization's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierHolder {
    Customer(CustomerId),
    Organization(domain::OrganizationId),
}

/// All of storage, as the application holds it (`Arc<dyn Store>`).
pub trait Store:
    TicketStore
    + DirectoryStore
    + FieldStore
    + AuthStore
    + MailStore
    + WorkspaceStore
    + JobStore
    + RuleStore
    + ServiceStore
    + FeedbackStore
    + IntegrationStore
    + KpiStore
{
}
impl<
    T: TicketStore
        + DirectoryStore
        + FieldStore
        + AuthStore
        + MailStore
        + WorkspaceStore
        + JobStore
        + RuleStore
        + ServiceStore
        + FeedbackStore
        + IntegrationStore
        + KpiStore,
> Store for T
{
}
