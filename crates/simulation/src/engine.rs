//! The discrete-event simulation: one clock, one event queue, agents
//! taking work from their team's queues.
//!
//! Each team has a live queue (chats and calls, first come first served,
//! taken by agents with the live skill) and a written queue ordered by
//! the time the reply is due for the ticket's priority. An agent on shift
//! who is free takes the next ticket; the reply follows after a handle
//! time drawn for the channel; the ticket is then solved or waits for the
//! customer, who answers after a while (or not, and the ticket is solved
//! by the automation three days later). Solved tickets sometimes come
//! back, and close four days after they were solved.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use domain::{Channel, Millis, Priority};

use crate::arrivals::{self, Arrival};
use crate::department::Department;
use crate::random::Draw;
use crate::{DAY, HOUR, MINUTE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Routing gives the ticket to this agent (an index into the department's agents).
    Assign { agent: usize },
    /// An internal note before the reply.
    Note { agent: usize },
    /// The agent's greeting as a chat or call is taken: a public reply
    /// that leaves the ticket open.
    Greet { agent: usize },
    /// A public reply; `solve` marks the ticket solved, otherwise pending.
    Reply { agent: usize, solve: bool },
    /// The touch that ends with the reply took `ms` of the agent's time
    /// (logged just before the reply).
    Work { agent: usize, ms: Millis },
    /// The customer writes again (a pending ticket opens, a solved one reopens).
    CustomerReply,
    /// Nobody answered the pending ticket: the automation solves it.
    AutoSolve,
    /// Four days after it was solved.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub at: Millis,
    pub kind: StepKind,
}

/// A satisfaction answer to the survey sent an hour after the ticket was solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub sent_at: Millis,
    pub answered_at: Millis,
    pub good: bool,
    pub reason: Option<&'static str>,
    /// A customer-effort score (1–7) given beside it, on closed tickets.
    pub ces: Option<i64>,
}

/// One ticket's simulated history.
#[derive(Debug, Clone)]
pub struct Script {
    pub arrival: Arrival,
    pub steps: Vec<Step>,
    /// When the satisfaction survey went out (an hour after the solve,
    /// once that hour has passed); most customers never answer it.
    pub survey_sent_at: Option<Millis>,
    /// The customer's answer, if given by the end.
    pub answer: Option<Answer>,
}

/// What the simulation produced, tickets in arrival order.
pub struct Simulation {
    pub scripts: Vec<Script>,
    /// Per agent: milliseconds handling tickets, and on shift.
    pub busy_ms: Vec<i64>,
    pub shift_ms: Vec<i64>,
    /// Every shift that started in the period: (agent, start, end); the
    /// end may lie beyond the period (a shift still running).
    pub shifts: Vec<(usize, Millis, Millis)>,
    /// Events the engine processed.
    pub events: u64,
}

impl Simulation {
    /// Handling time over shift time, all agents.
    pub fn occupancy(&self) -> f64 {
        let shift: i64 = self.shift_ms.iter().sum();
        self.busy_ms.iter().sum::<i64>() as f64 / shift.max(1) as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    ShiftEnd { agent: usize },
    ShiftStart { agent: usize, until: Millis },
    Done { agent: usize, ticket: usize },
    Arrive { ticket: usize },
    CustomerReply { ticket: usize },
    AutoSolve { ticket: usize, touches: u32 },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Queued,
    Handling,
    Pending,
    Solved,
}

struct Ticket {
    state: State,
    live: bool,
    touches: u32,
    assigned: Option<usize>,
    queued_at: Millis,
    first_wait: Option<Millis>,
    reopened: bool,
}

#[derive(Default)]
struct Agent {
    on_shift: bool,
    busy: bool,
    listed: bool,
    busy_since: Millis,
}

#[derive(Default)]
struct Queues {
    live: VecDeque<(Millis, usize)>,
    written: BinaryHeap<Reverse<(Millis, usize)>>,
    free_live: Vec<usize>,
    free_written: Vec<usize>,
}

/// How long a reply may wait by priority: the order of the written queue.
fn reply_within(p: Priority) -> Millis {
    match p {
        Priority::Urgent => HOUR,
        Priority::High => 2 * HOUR,
        Priority::Normal => 4 * HOUR,
        Priority::Low => 8 * HOUR,
    }
}

/// Median handle time of one touch by channel, before the agent's pace.
fn handle_median(c: Channel) -> Millis {
    match c {
        Channel::Chat => 9 * MINUTE,
        Channel::Phone => 7 * MINUTE,
        Channel::Email | Channel::Web | Channel::Social => 5 * MINUTE,
        Channel::Api => 4 * MINUTE,
    }
}

/// A live ticket nobody took within this long is answered like a written one.
const LIVE_PATIENCE: Millis = 15 * MINUTE;
const AUTO_SOLVE_AFTER: Millis = 3 * DAY;
const CLOSE_AFTER: Millis = 4 * DAY;

struct Engine<'d> {
    d: &'d Department,
    draw: Draw,
    now: Millis,
    seq: u64,
    events: BinaryHeap<Reverse<(Millis, u64, Event)>>,
    tickets: Vec<Ticket>,
    scripts: Vec<Script>,
    agents: Vec<Agent>,
    queues: Vec<Queues>,
    busy_ms: Vec<i64>,
    shift_ms: Vec<i64>,
    shifts: Vec<(usize, Millis, Millis)>,
    processed: u64,
}

/// Runs the department's period.
pub fn simulate(d: &Department) -> Simulation {
    let mut draw = Draw::seeded(d.seed);
    let arrivals = arrivals::arrivals(d, &mut draw);
    let mut e = Engine {
        d,
        draw,
        now: d.start,
        seq: 0,
        events: BinaryHeap::new(),
        tickets: Vec::with_capacity(arrivals.len()),
        scripts: Vec::with_capacity(arrivals.len()),
        agents: d.agents.iter().map(|_| Agent::default()).collect(),
        queues: d.teams.iter().map(|_| Queues::default()).collect(),
        busy_ms: vec![0; d.agents.len()],
        shift_ms: vec![0; d.agents.len()],
        shifts: Vec::new(),
        processed: 0,
    };
    for (i, a) in arrivals.into_iter().enumerate() {
        e.tickets.push(Ticket {
            state: State::Queued,
            live: matches!(a.channel, Channel::Chat | Channel::Phone),
            touches: 0,
            assigned: None,
            queued_at: a.at,
            first_wait: None,
            reopened: false,
        });
        e.schedule(a.at, Event::Arrive { ticket: i });
        e.scripts.push(Script { arrival: a, steps: Vec::with_capacity(8), survey_sent_at: None, answer: None });
    }
    e.schedule_shifts();
    while let Some(Reverse((at, _, event))) = e.events.pop() {
        if at >= d.end {
            break;
        }
        e.now = at;
        e.processed += 1;
        e.handle(event);
    }
    e.finish()
}

impl Engine<'_> {
    fn schedule(&mut self, at: Millis, event: Event) {
        if at < self.d.end {
            self.seq += 1;
            self.events.push(Reverse((at, self.seq, event)));
        }
    }

    fn step(&mut self, ticket: usize, at: Millis, kind: StepKind) {
        self.scripts[ticket].steps.push(Step { at, kind });
    }

    /// Every agent's shifts over the period, from the local day before it starts.
    fn schedule_shifts(&mut self) {
        let zone = &self.d.zone;
        let Ok(first) = jiff::Timestamp::from_millisecond(self.d.start - DAY) else { return };
        let mut day = first.to_zoned(zone.clone()).date();
        let last = jiff::Timestamp::from_millisecond(self.d.end).map(|t| t.to_zoned(zone.clone()).date()).ok();
        let mut shifts = Vec::new();
        while Some(day) <= last {
            let weekday = day.weekday().to_monday_zero_offset() as usize;
            // Agents on the weekend rota take turns, every other week.
            let week = (day.since(jiff::civil::date(1970, 1, 5)).map(|s| s.get_days()).unwrap_or(0) / 7) as usize;
            for (i, a) in self.d.agents.iter().enumerate() {
                if !a.shift.weekdays[weekday] || (weekday >= 5 && (week + i) % 2 == 1) {
                    continue;
                }
                let at = |h: i8| day.at(h, 0, 0, 0).to_zoned(zone.clone()).map(|z| z.timestamp().as_millisecond()).ok();
                if let (Some(from), Some(to)) = (at(a.shift.from_hour), at(a.shift.to_hour)) {
                    shifts.push((from, i, to));
                }
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        for (from, agent, to) in shifts {
            let from = from.max(self.d.start);
            if to > from && from < self.d.end {
                self.shifts.push((agent, from, to));
                self.schedule(from, Event::ShiftStart { agent, until: to });
                self.schedule(to, Event::ShiftEnd { agent });
                self.shift_ms[agent] += to.min(self.d.end) - from;
            }
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Arrive { ticket } => self.enqueue(ticket),
            Event::CustomerReply { ticket } => {
                let t = &mut self.tickets[ticket];
                if t.state == State::Solved {
                    t.reopened = true;
                }
                self.step(ticket, self.now, StepKind::CustomerReply);
                self.enqueue(ticket);
            }
            Event::AutoSolve { ticket, touches } => {
                let t = &mut self.tickets[ticket];
                if t.state == State::Pending && t.touches == touches {
                    t.state = State::Solved;
                    self.step(ticket, self.now, StepKind::AutoSolve);
                }
            }
            Event::Done { agent, ticket } => {
                let ms = self.now - self.agents[agent].busy_since;
                self.step(ticket, self.now, StepKind::Work { agent, ms });
                self.reply(agent, ticket);
                let a = &mut self.agents[agent];
                a.busy = false;
                self.busy_ms[agent] += self.now - a.busy_since;
                if self.agents[agent].on_shift {
                    self.next_for(agent);
                }
            }
            Event::ShiftStart { agent, .. } => {
                self.agents[agent].on_shift = true;
                if !self.agents[agent].busy {
                    self.next_for(agent);
                }
            }
            Event::ShiftEnd { agent } => self.agents[agent].on_shift = false,
        }
    }

    /// A ticket waits for an agent: one who is free takes it now.
    fn enqueue(&mut self, ticket: usize) {
        let now = self.now;
        let t = &mut self.tickets[ticket];
        t.state = State::Queued;
        t.queued_at = now;
        let (live, priority) = (t.live && t.touches == 0, self.scripts[ticket].arrival.priority);
        let team = self.scripts[ticket].arrival.team;
        if let Some(agent) = self.free_agent(team, live) {
            self.start(agent, ticket);
        } else if live {
            self.queues[team].live.push_back((now, ticket));
        } else {
            self.queues[team].written.push(Reverse((now + reply_within(priority), ticket)));
        }
    }

    fn free_agent(&mut self, team: usize, live: bool) -> Option<usize> {
        loop {
            let q = &mut self.queues[team];
            let agent = if live { q.free_live.pop()? } else { q.free_written.pop().or_else(|| q.free_live.pop())? };
            let a = &mut self.agents[agent];
            a.listed = false;
            if a.on_shift && !a.busy {
                return Some(agent);
            }
        }
    }

    /// The free agent takes the next ticket, or waits listed as free.
    fn next_for(&mut self, agent: usize) {
        let spec = &self.d.agents[agent];
        let q = &mut self.queues[spec.team];
        let now = self.now;
        let stale_live = q.live.front().is_some_and(|(at, _)| now - at > LIVE_PATIENCE);
        let next = if spec.live || stale_live {
            q.live.pop_front().map(|(_, t)| t).or_else(|| q.written.pop().map(|Reverse((_, t))| t))
        } else {
            q.written.pop().map(|Reverse((_, t))| t)
        };
        match next {
            Some(ticket) => self.start(agent, ticket),
            None => {
                let a = &mut self.agents[agent];
                if !a.listed {
                    a.listed = true;
                    if spec.live { q.free_live.push(agent) } else { q.free_written.push(agent) }
                }
            }
        }
    }

    fn start(&mut self, agent: usize, ticket: usize) {
        let now = self.now;
        let t = &mut self.tickets[ticket];
        t.state = State::Handling;
        let greets = t.live && t.touches == 0;
        if t.assigned != Some(agent) {
            t.assigned = Some(agent);
            self.step(ticket, now, StepKind::Assign { agent });
        }
        if greets {
            let greet_at = now + self.draw.between(5, 40) * 1000;
            self.step(ticket, greet_at, StepKind::Greet { agent });
        }
        let channel = self.scripts[ticket].arrival.channel;
        let median = (handle_median(channel) as f64 * self.d.agents[agent].pace) as i64;
        let handle = self.draw.log_normal(median, 0.55).clamp(MINUTE, 90 * MINUTE);
        let a = &mut self.agents[agent];
        a.busy = true;
        a.busy_since = now;
        self.schedule(now + handle, Event::Done { agent, ticket });
    }

    /// The agent's reply at the end of a touch, and what follows it.
    fn reply(&mut self, agent: usize, ticket: usize) {
        let now = self.now;
        let arrival = self.scripts[ticket].arrival;
        let t = &mut self.tickets[ticket];
        t.touches += 1;
        if t.first_wait.is_none() {
            t.first_wait = Some(now - arrival.at);
        }
        let touches = t.touches;
        let live_first = t.live && touches == 1;
        let p_solve = match touches {
            1 if live_first => 0.72,
            1 => 0.35,
            2 => 0.6,
            3 => 0.8,
            _ => 1.0,
        };
        let solve = self.draw.chance(p_solve);
        if self.draw.chance(0.12) {
            // Within the touch, which lasts at least half a minute.
            let note_at = now - self.draw.between(1, 20) * 1000;
            self.step(ticket, note_at, StepKind::Note { agent });
        }
        self.step(ticket, now, StepKind::Reply { agent, solve });
        if solve {
            self.tickets[ticket].state = State::Solved;
            let p_back = if self.tickets[ticket].reopened {
                0.02
            } else if touches == 1 {
                0.09
            } else {
                0.05
            };
            if self.draw.chance(p_back) {
                let delay = self.draw.skewed(20 * HOUR) + 10 * MINUTE;
                if delay < CLOSE_AFTER {
                    self.schedule(now + delay, Event::CustomerReply { ticket });
                }
            }
        } else {
            self.tickets[ticket].state = State::Pending;
            if self.draw.chance(0.85) {
                let delay = if live_first { self.draw.skewed(40 * MINUTE) } else { self.draw.skewed(3 * HOUR) };
                self.schedule(now + delay + 2 * MINUTE, Event::CustomerReply { ticket });
            } else {
                self.schedule(now + AUTO_SOLVE_AFTER, Event::AutoSolve { ticket, touches });
            }
        }
    }

    /// Closes what was solved long enough ago, and draws the survey answers.
    fn finish(mut self) -> Simulation {
        let end = self.d.end;
        for (i, script) in self.scripts.iter_mut().enumerate() {
            let t = &self.tickets[i];
            if t.state != State::Solved {
                continue;
            }
            let Some(solved_at) = script.steps.iter().rev().find_map(|s| match s.kind {
                StepKind::Reply { solve: true, .. } | StepKind::AutoSolve => Some(s.at),
                _ => None,
            }) else {
                continue;
            };
            let closed = solved_at + CLOSE_AFTER < end;
            if closed {
                script.steps.push(Step { at: solved_at + CLOSE_AFTER, kind: StepKind::Close });
            }
            let sent_at = solved_at + HOUR;
            if sent_at >= end {
                continue;
            }
            script.survey_sent_at = Some(sent_at);
            if !self.draw.chance(0.38) {
                continue;
            }
            let waited_hours = t.first_wait.unwrap_or(0) as f64 / HOUR as f64;
            let p_good = if script.arrival.spike {
                0.35
            } else {
                0.95 - 0.3 * (waited_hours / 24.0).min(1.0)
                    - if t.reopened { 0.2 } else { 0.0 }
                    - 0.05 * (t.touches.saturating_sub(2)) as f64
            };
            let good = self.draw.chance(p_good);
            let reason = (!good).then(|| {
                if waited_hours > 8.0 {
                    "slow"
                } else {
                    *self.draw.pick(&["not_resolved", "unhelpful", "not_resolved", "other"])
                }
            });
            let answered_at = sent_at + self.draw.between(5, 600) * MINUTE;
            if answered_at >= end {
                // Not answered yet: the survey is still waiting.
                continue;
            }
            let ces = (closed && self.draw.chance(0.35))
                .then(|| if good { self.draw.between(5, 7) } else { self.draw.between(1, 4) });
            script.answer = Some(Answer { sent_at, answered_at, good, reason, ces });
        }
        for script in &mut self.scripts {
            script.steps.sort_by_key(|s| s.at);
        }
        Simulation {
            scripts: self.scripts,
            busy_ms: self.busy_ms,
            shift_ms: self.shift_ms,
            shifts: self.shifts,
            events: self.processed,
        }
    }
}
