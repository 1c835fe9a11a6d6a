//! What is simulated: the teams and their topics, the agents with their
//! skills and shifts, the customers, the period and the planted spike.

use domain::{CustomerId, FieldId, Millis, OrganizationId, TeamId, UserId};

/// What customers write about; each team owns some.
#[derive(Debug, Clone)]
pub struct Topic {
    pub name: String,
    pub subjects: Vec<String>,
    /// Relative share of the team's arrivals.
    pub weight: f64,
    /// The tag its tickets carry, if any.
    pub tag: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TeamSpec {
    pub id: TeamId,
    /// Relative share of all arrivals.
    pub weight: f64,
    pub topics: Vec<Topic>,
}

/// Working hours in the department's time zone, on the weekdays marked
/// (0 = Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    pub from_hour: i8,
    pub to_hour: i8,
    pub weekdays: [bool; 7],
}

impl Shift {
    pub const EARLY: Shift =
        Shift { from_hour: 7, to_hour: 15, weekdays: [true, true, true, true, true, false, false] };
    pub const LATE: Shift =
        Shift { from_hour: 11, to_hour: 19, weekdays: [true, true, true, true, true, false, false] };
    /// Weekends and Mondays: the rota that keeps the queue moving on Saturday and Sunday.
    pub const WEEKEND: Shift =
        Shift { from_hour: 9, to_hour: 17, weekdays: [true, false, false, true, true, true, true] };
}

#[derive(Debug, Clone)]
pub struct AgentSpec {
    pub id: UserId,
    /// Index into [`Department::teams`].
    pub team: usize,
    /// Takes chats and calls (the live channels) first.
    pub live: bool,
    pub shift: Shift,
    /// Handle times are multiplied by this (1.0 = the department's median).
    pub pace: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct CustomerSpec {
    pub id: CustomerId,
    pub organization: Option<OrganizationId>,
}

/// A topic whose arrivals multiply from a moment on: the problem a
/// manager should spot.
#[derive(Debug, Clone, Copy)]
pub struct Spike {
    pub team: usize,
    pub topic: usize,
    pub from: Millis,
    /// Arrival rate of the topic after `from`, as a multiple of before.
    pub factor: f64,
}

#[derive(Debug, Clone)]
pub struct Department {
    pub seed: u64,
    /// The simulated period: tickets arrive in `[start, end)`; `end` is "now".
    pub start: Millis,
    pub end: Millis,
    pub zone: jiff::tz::TimeZone,
    /// How many tickets arrive over the period, the spike included.
    pub tickets: usize,
    /// Arrivals at the end of the period as a multiple of those at the start.
    pub growth: f64,
    pub teams: Vec<TeamSpec>,
    pub agents: Vec<AgentSpec>,
    pub customers: Vec<CustomerSpec>,
    pub spike: Option<Spike>,
    /// A dropdown field with the customer's product, when the department has one.
    pub product: Option<(FieldId, Vec<String>)>,
}

impl Department {
    /// Agents a department needs for this many tickets in 90 days: 10 for
    /// the demo's 20,000 (about two thirds of their shift time handling),
    /// in proportion above.
    pub fn agents_for(tickets: usize, days: i64) -> usize {
        let per_day = tickets as f64 / days.max(1) as f64;
        ((per_day / 22.2).round() as usize).max(10)
    }
}
