//! Switchboard's domain: the types a support department works with and the
//! rules that govern them. No I/O and no clock: time is always passed in, as
//! UTC Unix milliseconds, so every rule can be tested exactly.

pub mod agent;
pub mod calendar;
pub mod custom_field;
pub mod directory;
pub mod email;
pub mod error;
pub mod event;
pub mod ids;
pub mod integration;
pub mod job;
pub mod kpi;
pub mod lifecycle;
pub mod macros;
pub mod mail;
pub mod message;
pub mod notification;
pub mod policy;
pub mod routing;
pub mod rules;
pub mod saved_view;
pub mod search;
pub mod sentiment;
pub mod settings;
pub mod sla;
mod str_enum;
pub mod survey;
pub mod ticket;
pub mod time_entry;

pub use agent::{AgentStatus, NotificationPrefs};
pub use calendar::{BusinessClock, Calendar, Holiday, OpenHours};
pub use custom_field::{CustomFieldDef, FieldKind};
pub use directory::{Customer, Organization, Role, Team, Tier, User};
pub use email::EmailAddress;
pub use error::DomainError;
pub use event::{Actor, EventKind, TicketEvent};
pub use ids::*;
pub use job::{Job, JobStatus, NewJob, Schedule};
pub use macros::{Macro, MacroActions, MacroAssignee};
pub use mail::{
    AfterFetch, Direction, EmailIdentity, FetchState, ImapSecurity, ImapSettings, Mailbox, OutboxKind, OutboxStatus,
};
pub use message::{AuthorKind, Message, Visibility};
pub use policy::{Action, Principal, TicketScope};
pub use saved_view::{SavedView, ViewColumn};
pub use settings::InstanceSettings;
pub use ticket::{Channel, Priority, Status, Ticket, TicketType};
pub use time_entry::{TimeEntry, TimeSource};

/// UTC Unix milliseconds: the one time representation stored and computed on.
pub type Millis = i64;
