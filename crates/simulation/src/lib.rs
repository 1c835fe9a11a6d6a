//! A simulated support department, for the demo, the benchmarks and the
//! tests that recompute the KPIs independently.
//!
//! A seeded discrete-event simulation: tickets arrive with weekday and hour
//! seasonality, a growth trend, a channel mix and a planted spike of one
//! topic ([`arrivals`]); agents with skills and shifts take them from their
//! team's queues in SLA order, live channels first, with handle times
//! drawn per channel ([`engine`]); customers reply, tickets reopen and
//! close; every solved ticket is surveyed and about a third answer, good or
//! bad by how long the customer waited and how the ticket ended. Each ticket's history becomes a [`store::TicketCreate`]
//! through the domain's own lifecycle rules ([`story`]), so its events are
//! what real work records. The same seed gives the same department.

pub mod arrivals;
pub mod department;
pub mod engine;
pub mod random;
pub mod story;

pub use department::{AgentSpec, CustomerSpec, Department, Shift, TeamSpec, Topic};
pub use engine::{Answer, Script, Simulation, Step, StepKind};

pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 86_400_000;
