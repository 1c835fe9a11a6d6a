//! When tickets arrive and what they are: weekday and hour seasonality in
//! the department's time zone, a linear growth trend, a channel mix that
//! shifts to written channels at night, and the planted spike.

use domain::{Channel, Millis, Priority};

use crate::department::Department;
use crate::random::Draw;
use crate::{HOUR, MINUTE};

#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub at: Millis,
    pub team: usize,
    pub topic: usize,
    pub channel: Channel,
    pub priority: Priority,
    /// Index into [`Department::customers`].
    pub customer: usize,
    /// One of the spike's extra tickets.
    pub spike: bool,
}

/// Relative arrivals by local weekday (0 = Monday): Mondays busiest,
/// weekends quiet.
pub const WEEKDAY: [f64; 7] = [1.15, 1.05, 1.0, 1.0, 0.9, 0.3, 0.25];

/// Relative arrivals by local hour: office hours busiest, a dip at lunch.
pub const HOUR_OF_DAY: [f64; 24] = [
    0.08, 0.05, 0.05, 0.05, 0.06, 0.1, 0.2, 0.45, 0.95, 1.3, 1.35, 1.3, 1.0, 1.15, 1.25, 1.2, 1.1, 0.85, 0.6, 0.45,
    0.35, 0.28, 0.2, 0.12,
];

/// The channel mix by day and by night.
const CHANNELS: [Channel; 6] =
    [Channel::Email, Channel::Web, Channel::Chat, Channel::Phone, Channel::Api, Channel::Social];
const DAY_MIX: [f64; 6] = [0.42, 0.18, 0.16, 0.12, 0.07, 0.05];
const NIGHT_MIX: [f64; 6] = [0.55, 0.25, 0.04, 0.02, 0.09, 0.05];

const PRIORITIES: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];
const PRIORITY_MIX: [f64; 4] = [0.12, 0.6, 0.2, 0.08];

/// The local weekday (0 = Monday) and hour of an instant.
pub fn local(zone: &jiff::tz::TimeZone, at: Millis) -> (usize, usize) {
    match jiff::Timestamp::from_millisecond(at) {
        Ok(ts) => {
            let dt = ts.to_zoned(zone.clone());
            (dt.weekday().to_monday_zero_offset() as usize, dt.hour() as usize)
        }
        Err(_) => (0, 0),
    }
}

/// All arrivals of the period, in time order.
pub fn arrivals(d: &Department, draw: &mut Draw) -> Vec<Arrival> {
    let hours = ((d.end - d.start) / HOUR).max(1) as usize;
    let team_weights: Vec<f64> = d.teams.iter().map(|t| t.weight).collect();
    let team_total: f64 = team_weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    // Per hour: the usual weight, and the spike's extra.
    let mut weights = Vec::with_capacity(hours);
    for h in 0..hours {
        let t = d.start + h as i64 * HOUR;
        let (weekday, hour) = local(&d.zone, t);
        let trend = 1.0 + (d.growth - 1.0) * (h as f64 / hours as f64);
        let usual = WEEKDAY[weekday] * HOUR_OF_DAY[hour] * trend;
        let extra = match d.spike {
            Some(s) if t >= s.from && s.team < d.teams.len() => {
                let team = &d.teams[s.team];
                let topics: f64 = team.topics.iter().map(|t| t.weight).sum::<f64>().max(f64::MIN_POSITIVE);
                let share = team.weight / team_total * team.topics.get(s.topic).map_or(0.0, |t| t.weight) / topics;
                usual * share * (s.factor - 1.0).max(0.0)
            }
            _ => 0.0,
        };
        weights.push((usual, extra, hour));
    }
    let total: f64 = weights.iter().map(|(u, e, _)| u + e).sum::<f64>().max(f64::MIN_POSITIVE);
    let mut out = Vec::with_capacity(d.tickets);
    let (mut cumulative, mut made) = (0.0, 0usize);
    for (h, (usual, extra, hour)) in weights.into_iter().enumerate() {
        cumulative += usual + extra;
        let due = ((d.tickets as f64) * cumulative / total).round() as usize;
        let hour_start = d.start + h as i64 * HOUR;
        let latest = (hour_start + HOUR).min(d.end - MINUTE) - 1;
        let night = !(7..20).contains(&hour);
        let mut times: Vec<Millis> = (made..due).map(|_| draw.between(hour_start, latest.max(hour_start))).collect();
        times.sort_unstable();
        for at in times {
            let spike = extra > 0.0 && draw.chance(extra / (usual + extra));
            let (team, topic) = match (spike, d.spike) {
                (true, Some(s)) => (s.team, s.topic),
                _ => {
                    let team = draw.weighted(&team_weights);
                    let topic_weights: Vec<f64> = d.teams[team].topics.iter().map(|t| t.weight).collect();
                    (team, draw.weighted(&topic_weights))
                }
            };
            let channel = CHANNELS[draw.weighted(if night { &NIGHT_MIX } else { &DAY_MIX })];
            let priority = PRIORITIES[draw.weighted(&PRIORITY_MIX)];
            // A few customers write often, most rarely.
            let customer = ((d.customers.len() as f64) * draw.unit().powf(1.6)) as usize;
            out.push(Arrival { at, team, topic, channel, priority, customer, spike });
        }
        made = due;
    }
    out
}
