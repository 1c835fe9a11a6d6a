//! The manager's cockpit: a period's KPIs for a slice beside the period
//! before, the days' volumes, the first-reply spread, the backlog and its
//! age, scorecards per agent and team, channel mix and arrivals by weekday
//! and hour. Read from the KPI rollup; definitions in docs/METRICS.md.

use std::collections::BTreeMap;

use domain::kpi::{KpiTarget, Measure, MeasureRow, OpenCount, Rag, Slice, TargetKpi};
use domain::search::{SlaFilter, TicketFilter};
use domain::survey::FeedbackFilter;
use domain::{Channel, Millis, Status, TeamId, UserId};
use insight::feedback::FeedbackSummary;
use insight::kpi::bottlenecks::{Bottleneck, Load};
use insight::kpi::workload::{Workload, online_ms};
use insight::kpi::{Distribution, Rate, TicketKpis, histogram};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use store::{Store, StoreError};

mod cells;
mod summary;

pub use summary::{Change, SummaryLine, summary_lines};

pub(crate) use cells::daily_counts;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Local days `first..=last` in a zone.
#[derive(Debug, Clone)]
pub struct Window {
    pub first: Date,
    pub last: Date,
    pub tz: TimeZone,
}

impl Window {
    /// The `days` local days up to the day of `now`.
    pub fn days_to(now: Millis, days: i64, tz: TimeZone) -> Window {
        let last = local_date(now, &tz).unwrap_or(Date::constant(2026, 1, 1));
        let first = last.checked_sub(jiff::Span::new().days(days.max(1) - 1)).unwrap_or(last);
        Window { first, last, tz }
    }

    pub fn start(&self) -> Millis {
        self.first.to_zoned(self.tz.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(0)
    }

    /// The instant after the last day.
    pub fn end(&self) -> Millis {
        let next = self.last.tomorrow().unwrap_or(self.last);
        next.to_zoned(self.tz.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(Millis::MAX)
    }

    pub fn days(&self) -> i64 {
        self.first.until(self.last).map(|s| i64::from(s.get_days())).unwrap_or(0) + 1
    }

    /// As many days just before this window.
    pub fn previous(&self) -> Window {
        let last = self.first.yesterday().unwrap_or(self.first);
        let first = last.checked_sub(jiff::Span::new().days(self.days() - 1)).unwrap_or(last);
        Window { first, last, tz: self.tz.clone() }
    }

    fn dates(&self) -> Vec<Date> {
        let mut out = Vec::new();
        let mut d = self.first;
        while d <= self.last && out.len() < 1000 {
            out.push(d);
            match d.tomorrow() {
                Ok(n) => d = n,
                Err(_) => break,
            }
        }
        out
    }
}

pub fn local_date(ms: Millis, tz: &TimeZone) -> Option<Date> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| t.to_zoned(tz.clone()).date())
}

/// The installation's time zone (UTC when unset or unknown).
pub async fn time_zone(store: &dyn Store) -> TimeZone {
    let name = store.instance_settings().await.map(|s| s.time_zone).unwrap_or_else(|_| "UTC".into());
    TimeZone::get(&name).unwrap_or(TimeZone::UTC)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayFigures {
    /// `YYYY-MM-DD`, local.
    pub date: String,
    pub created: i64,
    pub solved: i64,
    /// Median first reply time (calendar, ms) of the replies that day.
    pub first_reply_median: Option<f64>,
    /// SLA clocks met of those with an outcome that day, all targets.
    pub sla: Rate,
}

/// The SLA measures, whose rows are 1 met or 0 breached.
pub const SLA_MEASURES: [Measure; 4] =
    [Measure::SlaFirstReply, Measure::SlaNextReply, Measure::SlaPeriodicUpdate, Measure::SlaResolution];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Bucket {
    pub label: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Backlog {
    pub total: i64,
    pub by_status: Vec<Bucket>,
    /// Unsolved tickets by time since creation.
    pub by_age: Vec<Bucket>,
    /// Age of the oldest unsolved ticket, ms.
    pub oldest: Option<i64>,
}

/// One agent's or team's figures in the period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Scorecard {
    /// Agent or team id; none for work nobody was assigned.
    pub id: Option<i64>,
    pub solved: i64,
    pub replies: i64,
    pub first_reply: Option<Distribution>,
    pub full_resolution: Option<Distribution>,
    pub one_touch: Rate,
    pub reopen_rate: Rate,
    pub sla_first_reply: Rate,
    /// The agent's first reply times by bucket (`FIRST_REPLY_BUCKETS`).
    pub first_reply_histogram: Vec<i64>,
    pub csat: Option<f64>,
    /// Handled contacts (an agent's logged time on a ticket) and their time.
    pub handle: Handle,
    /// An agent's time online and what it carried (agents only).
    pub workload: Option<Workload>,
}

/// Handled contacts and their logged time; the AHT is their mean.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Handle {
    pub contacts: i64,
    pub handle_ms: i64,
    /// Average handle time, ms; none without contacts.
    pub aht_ms: Option<f64>,
}

impl Handle {
    pub fn new(contacts: i64, handle_ms: i64) -> Handle {
        Handle { contacts, handle_ms, aht_ms: (contacts > 0).then(|| handle_ms as f64 / contacts as f64) }
    }

    fn of_rows<'a>(rows: impl Iterator<Item = &'a MeasureRow>) -> Handle {
        let (n, sum) = rows.filter(|r| r.measure == Measure::HandleTime).fold((0, 0), |(n, s), r| (n + 1, s + r.value));
        Handle::new(n, sum)
    }
}

/// Handle time of the contacts on one channel.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChannelHandle {
    pub channel: Channel,
    #[serde(flatten)]
    pub handle: Handle,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CockpitReport {
    pub from: String,
    pub to: String,
    pub previous_from: String,
    pub previous_to: String,
    pub time_zone: String,
    pub slice: Slice,
    /// True when the medians and percentiles were computed from every
    /// measured row; false when read from the rollup's buckets (within 5%;
    /// counts, rates and means are exact either way).
    pub exact: bool,
    pub kpis: TicketKpis,
    pub previous: TicketKpis,
    pub satisfaction: FeedbackSummary,
    pub previous_satisfaction: FeedbackSummary,
    /// The period's support cost ÷ its tickets solved, cents (the
    /// department only; none without solves or cost settings).
    pub cost_per_ticket_cents: Option<i64>,
    /// The agents' eNPS from the latest pulse survey opened by the end of
    /// the period with enough answers to show (the team's own for a team).
    pub enps: Option<Enps>,
    /// The latest answers of the period (at most 8), newest first.
    pub feedback: Vec<domain::survey::Feedback>,
    pub days: Vec<DayFigures>,
    /// First reply times (calendar) by bucket.
    pub first_reply_histogram: Vec<Bucket>,
    pub backlog: Backlog,
    pub agents: Vec<Scorecard>,
    pub teams: Vec<Scorecard>,
    /// Tickets created per channel.
    pub channels: Vec<Bucket>,
    /// Tickets created by local weekday (Monday first) × hour.
    pub arrivals: Vec<Vec<i64>>,
    /// Handled contacts and AHT per channel (phone and chat above all).
    pub handle_by_channel: Vec<ChannelHandle>,
    /// The period's time online, occupancy and solves per online hour of
    /// the agents in the slice: all staff, a team's members or one agent;
    /// none for other slices (time online belongs to people, not tickets).
    pub workload: Option<Workload>,
    /// The targets that apply to the slice's team (else the department's), judged.
    pub targets: Vec<TargetStatus>,
    /// The department's bottlenecks now (whatever the slice), and the
    /// topic spikes the last daily check found (kind `volume_spike`).
    pub alerts: Vec<Bottleneck>,
    /// The live queue now: SLA at risk and breached, agents online.
    pub now: NowFigures,
}

/// The department now (the slice's team when it names one).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct NowFigures {
    /// Unsolved tickets with a running SLA target past its warning (breached ones included).
    pub sla_at_risk: u64,
    /// Unsolved tickets with a breached SLA target still running.
    pub sla_breached: u64,
    /// Staff whose status is online.
    pub agents_online: usize,
    /// Tickets of the slice created since the start of the local clock hour.
    pub arrived_this_hour: i64,
    /// Tickets of the slice solved (last solve) since the start of the local clock hour.
    pub solved_this_hour: i64,
}

/// The start of the local clock hour holding `now`.
fn hour_start(now: Millis, tz: &TimeZone) -> Millis {
    jiff::Timestamp::from_millisecond(now)
        .ok()
        .and_then(|t| t.to_zoned(tz.clone()).with().minute(0).second(0).subsec_nanosecond(0).build().ok())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(now - now.rem_euclid(HOUR))
}

/// Unsolved tickets (of a team, or all) in an SLA state now.
async fn sla_count(store: &dyn Store, team: Option<i64>, sla: SlaFilter) -> Result<u64, StoreError> {
    let query = store::TicketQuery {
        scope: domain::TicketScope::All,
        filter: TicketFilter {
            statuses: vec![Status::New, Status::Open, Status::Pending, Status::OnHold],
            team_ids: team.map(domain::TeamId).into_iter().collect(),
            sla: Some(sla),
            ..Default::default()
        },
        text: Default::default(),
        staff_text: true,
        sort: store::TicketSort::newest_first(),
        after: None,
        limit: 1,
    };
    store.count_tickets(&query, 1_000_000).await
}

/// Where the hourly check keeps the department's SLA at-risk counts.
const SLA_RISK_KEY: &str = "kpi.sla_at_risk_hourly";

/// The SLA at-risk counts the hourly check recorded in the 24 hours before `now`, oldest first.
async fn sla_risk_history(store: &dyn Store, now: Millis) -> Result<Vec<(Millis, i64)>, StoreError> {
    let kept: Vec<(Millis, i64)> =
        store.setting(SLA_RISK_KEY).await?.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
    Ok(kept.into_iter().filter(|(at, _)| *at > now - DAY && *at < now).collect())
}

/// Counts the live queue's SLA states, the agents online and this hour's
/// arrivals and solves.
pub async fn now_figures(
    store: &dyn Store,
    now: Millis,
    tz: &TimeZone,
    slice: &Slice,
) -> Result<NowFigures, StoreError> {
    let statuses = store.agent_statuses().await?;
    let hour = store.measure_rows(&[Measure::Created, Measure::OneTouch], hour_start(now, tz), now + 1, slice).await?;
    let counted = |m: Measure| hour.iter().filter(|r| r.measure == m).count() as i64;
    Ok(NowFigures {
        arrived_this_hour: counted(Measure::Created),
        solved_this_hour: counted(Measure::OneTouch),
        sla_at_risk: sla_count(store, slice.team_id, SlaFilter::AtRisk).await?,
        sla_breached: sla_count(store, slice.team_id, SlaFilter::Breached).await?,
        agents_online: statuses.iter().filter(|(_, s, _)| *s == domain::AgentStatus::Online).count(),
    })
}

/// eNPS of one pulse survey.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Enps {
    pub pulse_id: i64,
    pub name: String,
    pub answers: usize,
    pub enps: f64,
}

/// The newest pulse opened before `until` whose eNPS may be shown (from
/// five answers; a team's from five of its own).
async fn latest_enps(store: &dyn Store, until: Millis, team: Option<i64>) -> Result<Option<Enps>, StoreError> {
    let mut pulses: Vec<_> = store.pulses().await?.into_iter().filter(|p| p.opened_at < until).collect();
    pulses.sort_by_key(|p| std::cmp::Reverse(p.opened_at));
    for p in pulses {
        let r = insight::feedback::pulse_results(p.questions.len(), &store.pulse_answers(p.id).await?);
        let shown = match team {
            None => r.enps.map(|e| (r.answers, e)),
            Some(t) => r.teams.iter().find(|x| x.team_id.0 == t).and_then(|x| x.enps.map(|e| (x.answers, e))),
        };
        if let Some((answers, enps)) = shown {
            return Ok(Some(Enps { pulse_id: p.id.0, name: p.name, answers, enps }));
        }
    }
    Ok(None)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TargetStatus {
    pub target: KpiTarget,
    /// None while there is nothing to measure.
    pub actual: Option<f64>,
    pub rag: Option<Rag>,
}

/// The report's value of a target's KPI, in the target's unit.
pub fn actual(r: &CockpitReport, kpi: TargetKpi) -> Option<f64> {
    let k = &r.kpis;
    let pct = |x: Option<f64>| x.map(|v| v * 100.0);
    match kpi {
        TargetKpi::FirstReplyMedianMinutes => k.first_reply.calendar.as_ref().map(|d| d.median / 60_000.0),
        TargetKpi::FirstReplyP90Minutes => k.first_reply.calendar.as_ref().map(|d| d.p90 as f64 / 60_000.0),
        TargetKpi::FullResolutionMedianHours => k.full_resolution.calendar.as_ref().map(|d| d.median / HOUR as f64),
        TargetKpi::OneTouchPercent => pct(k.one_touch.rate),
        TargetKpi::ReopenPercent => pct(k.reopen_rate.rate),
        TargetKpi::SlaFirstReplyPercent => pct(k.sla_first_reply.rate),
        TargetKpi::SlaResolutionPercent => pct(k.sla_resolution.rate),
        TargetKpi::CsatPercent => pct(r.satisfaction.csat.csat),
        TargetKpi::Nps => r.satisfaction.nps.nps,
        TargetKpi::Backlog => Some(r.backlog.total as f64),
    }
}

/// The targets for a team: its own, and the department's for KPIs it has none for.
pub fn targets_for(all: &[KpiTarget], team: Option<i64>) -> Vec<KpiTarget> {
    let mut out: Vec<KpiTarget> = all.iter().filter(|t| team.is_some() && t.team_id == team).cloned().collect();
    for t in all.iter().filter(|t| t.team_id.is_none()) {
        if !out.iter().any(|o| o.kpi == t.kpi) {
            out.push(t.clone());
        }
    }
    out
}

/// Lower bounds of the first-reply buckets, with their labels.
pub const FIRST_REPLY_BUCKETS: [(i64, &str); 7] = [
    (0, "under 15 min"),
    (15 * 60_000, "15–60 min"),
    (HOUR, "1–4 h"),
    (4 * HOUR, "4–8 h"),
    (8 * HOUR, "8–24 h"),
    (DAY, "1–3 days"),
    (3 * DAY, "over 3 days"),
];

const AGE_BUCKETS: [(i64, &str); 5] =
    [(0, "under 1 day"), (DAY, "1–3 days"), (3 * DAY, "3–7 days"), (7 * DAY, "7–30 days"), (30 * DAY, "over 30 days")];

fn edges(buckets: &[(i64, &str)]) -> Vec<i64> {
    buckets.iter().map(|b| b.0).collect()
}

fn labelled(buckets: &[(i64, &str)], counts: &[i64]) -> Vec<Bucket> {
    buckets.iter().zip(counts).map(|((_, l), c)| Bucket { label: l.to_string(), count: *c }).collect()
}

/// The creation bounds that sort unsolved tickets into `AGE_BUCKETS` (see
/// `OpenCount`).
fn age_bounds(now: Millis) -> Vec<Millis> {
    AGE_BUCKETS.iter().map(|(edge, _)| now - edge).collect()
}

/// Unsolved tickets among the counts that `keep` holds.
pub fn open_tickets(open: &[OpenCount], keep: impl Fn(&OpenCount) -> bool) -> i64 {
    open.iter().filter(|c| keep(c)).map(|c| c.tickets).sum()
}

fn backlog(open: &[OpenCount], now: Millis) -> Backlog {
    let by_status = [Status::New, Status::Open, Status::Pending, Status::OnHold]
        .iter()
        .map(|s| Bucket { label: s.as_str().into(), count: open_tickets(open, |c| c.status == *s) })
        .collect();
    let by_age: Vec<i64> = (0..AGE_BUCKETS.len()).map(|i| open_tickets(open, |c| c.range == i)).collect();
    Backlog {
        total: open_tickets(open, |_| true),
        by_status,
        by_age: labelled(&AGE_BUCKETS, &by_age),
        oldest: open.iter().map(|c| (now - c.first_created).max(0)).max(),
    }
}

fn scorecards(rows: &[MeasureRow], key: impl Fn(&MeasureRow) -> Option<i64>) -> Vec<Scorecard> {
    let mut groups: BTreeMap<Option<i64>, Vec<MeasureRow>> = BTreeMap::new();
    for r in rows {
        groups.entry(key(r)).or_default().push(r.clone());
    }
    groups
        .into_iter()
        .filter(|(_, rows)| rows.iter().any(|r| r.measure != Measure::Created))
        .map(|(id, rows)| {
            let k = TicketKpis::of(&rows);
            let frt: Vec<i64> = rows.iter().filter(|r| r.measure == Measure::FirstReply).map(|r| r.value).collect();
            Scorecard {
                id,
                solved: k.solved,
                replies: rows.iter().filter(|r| matches!(r.measure, Measure::FirstReply | Measure::NextReply)).count()
                    as i64,
                first_reply: k.first_reply.calendar,
                full_resolution: k.full_resolution.calendar,
                one_touch: k.one_touch,
                reopen_rate: k.reopen_rate,
                sla_first_reply: k.sla_first_reply,
                first_reply_histogram: histogram(&frt, &edges(&FIRST_REPLY_BUCKETS)),
                csat: None,
                handle: Handle::of_rows(rows.iter()),
                workload: None,
            }
        })
        .collect()
}

/// The answers about the slice's tickets given in `[from, to)`.
fn feedback_filter(slice: &Slice, from: Millis, to: Millis) -> FeedbackFilter {
    FeedbackFilter {
        team_id: slice.team_id.map(TeamId),
        agent_id: slice.agent_id.map(UserId),
        from: Some(from),
        to: Some(to),
        channel: slice.channel,
        tier: slice.tier,
        priority: slice.priority,
        organization_id: slice.organization_id,
        tag: slice.tag.clone(),
        ..FeedbackFilter::default()
    }
}

async fn satisfaction(
    store: &dyn Store,
    slice: &Slice,
    from: Millis,
    to: Millis,
) -> Result<FeedbackSummary, StoreError> {
    Ok(insight::feedback::summarise(&store.score_counts(&feedback_filter(slice, from, to)).await?))
}

/// CSAT per agent (or team) in the period, from the feedback records, in one query.
async fn csat_by(
    store: &dyn Store,
    slice: &Slice,
    team: bool,
    from: Millis,
    to: Millis,
) -> Result<BTreeMap<Option<i64>, f64>, StoreError> {
    let mut counts: BTreeMap<Option<i64>, Vec<domain::survey::ScoreCount>> = BTreeMap::new();
    for (id, c) in store.score_counts_by(&feedback_filter(slice, from, to), team).await? {
        counts.entry(id).or_default().push(c);
    }
    Ok(counts
        .into_iter()
        .filter(|(id, _)| id.is_some())
        .filter_map(|(id, c)| insight::feedback::summarise(&c).csat.csat.map(|x| (id, x)))
        .collect())
}

/// The figures of a slice's period (and the period before) that come
/// from measured rows or from the rollup's cells.
pub(crate) struct Figures {
    kpis: TicketKpis,
    previous: TicketKpis,
    days: Vec<DayFigures>,
    first_reply_histogram: Vec<i64>,
    agents: Vec<Scorecard>,
    teams: Vec<Scorecard>,
    channels: Vec<Bucket>,
    arrivals: Vec<Vec<i64>>,
    handle_by_channel: Vec<ChannelHandle>,
}

/// Above this many measured rows in a slice's two periods the cockpit
/// reads the rollup's cells instead of the rows (see docs/METRICS.md).
pub const EXACT_ROWS: i64 = 20_000;

/// One local day's rows, as they are read.
#[derive(Default)]
struct DayTally {
    created: i64,
    solved: i64,
    first_replies: Vec<i64>,
    sla_met: i64,
    sla_of: i64,
}

/// Reads every measured row of the slice: exact, and the only way for
/// slices the cells do not hold (organization, tag, or several at once).
async fn from_rows(store: &dyn Store, window: &Window, slice: &Slice) -> Result<Figures, StoreError> {
    let before = window.previous();
    let from = window.start();
    // The two periods read at once, on two connections: a slice read
    // from rows is most of its cockpit's time, and either half alone
    // keeps one core busy.
    let (current, earlier) = tokio::try_join!(
        store.measure_rows(Measure::ALL, from, window.end(), slice),
        store.measure_rows(Measure::ALL, before.start(), from, slice),
    )?;
    let kpis = TicketKpis::of(&current);
    let previous = TicketKpis::of(&earlier);

    let tz = &window.tz;
    let mut by_day: BTreeMap<Date, DayTally> = BTreeMap::new();
    let mut arrivals = vec![vec![0i64; 24]; 7];
    let mut channels: BTreeMap<Channel, i64> = BTreeMap::new();
    for r in &current {
        let Ok(t) = jiff::Timestamp::from_millisecond(r.at) else { continue };
        let z = t.to_zoned(tz.clone());
        let day = by_day.entry(z.date()).or_default();
        match r.measure {
            Measure::Created => {
                day.created += 1;
                let wd = z.weekday().to_monday_zero_offset() as usize;
                let h = z.hour().clamp(0, 23) as usize;
                arrivals[wd][h] += 1;
                *channels.entry(r.channel).or_default() += 1;
            }
            Measure::OneTouch => day.solved += 1,
            Measure::FirstReply => day.first_replies.push(r.value),
            m if SLA_MEASURES.contains(&m) => {
                day.sla_met += r.value;
                day.sla_of += 1;
            }
            _ => {}
        }
    }
    let days = window
        .dates()
        .into_iter()
        .map(|d| {
            let mut t = by_day.remove(&d).unwrap_or_default();
            DayFigures {
                date: d.to_string(),
                created: t.created,
                solved: t.solved,
                first_reply_median: Distribution::of(&mut t.first_replies).map(|x| x.median),
                sla: Rate::new(t.sla_met, t.sla_of),
            }
        })
        .collect();
    let frt: Vec<i64> = current.iter().filter(|r| r.measure == Measure::FirstReply).map(|r| r.value).collect();
    let mut by_channel: BTreeMap<Channel, Vec<&MeasureRow>> = BTreeMap::new();
    for r in current.iter().filter(|r| r.measure == Measure::HandleTime) {
        by_channel.entry(r.channel).or_default().push(r);
    }
    Ok(Figures {
        handle_by_channel: by_channel
            .into_iter()
            .map(|(channel, rows)| ChannelHandle { channel, handle: Handle::of_rows(rows.into_iter()) })
            .collect(),
        kpis,
        previous,
        days,
        first_reply_histogram: histogram(&frt, &edges(&FIRST_REPLY_BUCKETS)),
        agents: scorecards(&current, |r| r.agent_id),
        teams: scorecards(&current, |r| r.team_id),
        channels: channels.into_iter().map(|(c, n)| Bucket { label: c.as_str().into(), count: n }).collect(),
        arrivals,
    })
}

/// Each agent's milliseconds online in the window, up to `now`.
async fn time_online(store: &dyn Store, window: &Window, now: Millis) -> Result<BTreeMap<i64, i64>, StoreError> {
    let (from, to) = (window.start(), window.end().min(now));
    let history: Vec<_> = store.status_history(from, to).await?.into_iter().map(|(u, s, at)| (u.0, s, at)).collect();
    Ok(online_ms(&history, from, to))
}

/// Whose time online a slice's workload counts: everyone who was online
/// for the department, a team's members, one agent; `None` when the slice
/// is not of people (a channel, priority, organization, tag …).
async fn members(
    store: &dyn Store,
    slice: &Slice,
    online: &BTreeMap<i64, i64>,
) -> Result<Option<Vec<i64>>, StoreError> {
    let of_people = Slice { team_id: slice.team_id, agent_id: slice.agent_id, ..Slice::default() } == *slice;
    if !of_people {
        return Ok(None);
    }
    Ok(Some(match (slice.agent_id, slice.team_id) {
        (Some(agent), _) => vec![agent],
        (None, Some(team)) => store
            .teams()
            .await?
            .into_iter()
            .find(|t| t.id.0 == team)
            .map(|t| t.member_ids.iter().map(|m| m.0).collect())
            .unwrap_or_default(),
        (None, None) => online.keys().copied().collect(),
    }))
}

/// The cockpit for `slice` over `window`, at `now`.
pub async fn report(
    store: &dyn Store,
    now: Millis,
    window: &Window,
    slice: &Slice,
) -> Result<CockpitReport, StoreError> {
    report_within(store, now, window, slice, EXACT_ROWS).await
}

/// `report`, from the measured rows while the slice's two periods hold at
/// most `exact_rows` of them, else from the rollup's cells where they hold
/// the slice.
pub async fn report_within(
    store: &dyn Store,
    now: Millis,
    window: &Window,
    slice: &Slice,
    exact_rows: i64,
) -> Result<CockpitReport, StoreError> {
    let before = window.previous();
    let (from, to) = (window.start(), window.end());
    let tz = &window.tz;
    let figures = async {
        match cells::figures(store, window, slice, exact_rows).await? {
            Some(f) => Ok::<_, StoreError>((f, false)),
            None => Ok((from_rows(store, window, slice).await?, true)),
        }
    };
    // The department's unsolved tickets by status, team, agent and age:
    // the bottlenecks' loads, and a team's or an agent's backlog as a part
    // of it; other slices count their own.
    let people_only = Slice { team_id: slice.team_id, agent_id: slice.agent_id, ..Slice::default() } == *slice;
    let (department, ages) = (Slice::default(), age_bounds(now));
    let own_open = async { if people_only { Ok(None) } else { store.open_counts(slice, &ages).await.map(Some) } };
    let answers = feedback_filter(slice, from, to);
    let feedback = store.feedback_list(&answers, store::PageRequest { after: None, limit: 8 });
    // Independent reads, at once (see `cells::figures`).
    let (
        (f, exact),
        agent_csat,
        team_csat,
        online,
        open,
        own_open,
        satisfaction_now,
        satisfaction_before,
        enps,
        feedback,
        now_figures,
    ) = tokio::try_join!(
        figures,
        csat_by(store, slice, false, from, to),
        csat_by(store, slice, true, from, to),
        time_online(store, window, now),
        store.open_counts(&department, &ages),
        own_open,
        satisfaction(store, slice, from, to),
        satisfaction(store, slice, before.start(), from),
        latest_enps(store, to, slice.team_id),
        feedback,
        now_figures(store, now, tz, slice),
    )?;
    let with_csat = |mut cards: Vec<Scorecard>, csat: &BTreeMap<Option<i64>, f64>| {
        for c in &mut cards {
            c.csat = csat.get(&c.id).copied();
        }
        cards
    };
    let mut agents = with_csat(f.agents, &agent_csat);
    for card in &mut agents {
        if let Some(id) = card.id {
            let ms = online.get(&id).copied().unwrap_or(0);
            card.workload = Some(Workload::new(ms, card.handle.handle_ms, card.solved));
        }
    }
    let workload = members(store, slice, &online).await?.map(|ids| {
        let ms = ids.iter().filter_map(|id| online.get(id)).sum();
        Workload::new(ms, agents.iter().map(|c| c.handle.handle_ms).sum(), f.kpis.solved)
    });
    let slice_open = own_open.unwrap_or_else(|| {
        open.iter()
            .filter(|c| {
                slice.team_id.is_none_or(|t| c.team_id == Some(t))
                    && slice.agent_id.is_none_or(|a| c.agent_id == Some(a))
            })
            .cloned()
            .collect()
    });
    let mut r = CockpitReport {
        from: window.first.to_string(),
        to: window.last.to_string(),
        previous_from: before.first.to_string(),
        previous_to: before.last.to_string(),
        time_zone: tz.iana_name().unwrap_or("UTC").to_string(),
        slice: slice.clone(),
        exact,
        kpis: f.kpis,
        previous: f.previous,
        satisfaction: satisfaction_now,
        previous_satisfaction: satisfaction_before,
        enps,
        cost_per_ticket_cents: None,
        feedback: feedback.items,
        days: f.days,
        first_reply_histogram: labelled(&FIRST_REPLY_BUCKETS, &f.first_reply_histogram),
        backlog: backlog(&slice_open, now),
        agents,
        teams: with_csat(f.teams, &team_csat),
        channels: f.channels,
        arrivals: f.arrivals,
        handle_by_channel: f.handle_by_channel,
        workload,
        targets: vec![],
        alerts: alerts(store, now, &window.tz, &open).await?,
        now: now_figures,
    };
    if *slice == Slice::default() && r.kpis.solved > 0 {
        let cost = crate::roi::support_cost_cents(store, window.days() as f64).await?;
        r.cost_per_ticket_cents = (cost > 0.0).then(|| (cost / r.kpis.solved as f64).round() as i64);
    }
    let settings = crate::kpi::settings(store).await?;
    r.targets = targets_for(&settings.targets, slice.team_id)
        .into_iter()
        .map(|target| {
            let actual = actual(&r, target.kpi);
            TargetStatus { rag: actual.map(|a| target.judge(a)), actual, target }
        })
        .collect();
    Ok(r)
}

/// A duration for people: minutes under two hours, hours under two days, else days.
pub fn duration_text(ms: f64) -> String {
    let minutes = ms / 60_000.0;
    if minutes < 120.0 {
        format!("{minutes:.0} min")
    } else if minutes < 48.0 * 60.0 {
        format!("{:.1} h", minutes / 60.0)
    } else {
        format!("{:.1} days", minutes / 1440.0)
    }
}

/// A handle time for people: minutes and seconds (`6:05 min`).
pub fn handle_text(ms: f64) -> String {
    let s = (ms / 1000.0).round() as i64;
    format!("{}:{:02} min", s / 60, s % 60)
}

/// The bottlenecks now and the spikes of the last daily check.
async fn alerts(
    store: &dyn Store,
    now: Millis,
    tz: &TimeZone,
    open: &[OpenCount],
) -> Result<Vec<Bottleneck>, StoreError> {
    let mut out = bottlenecks(store, now, tz, open).await?;
    for (topic, text) in crate::digest::spikes_now(store, now).await? {
        out.push(Bottleneck { kind: "volume_spike".into(), subject: format!("topic:{topic}"), text });
    }
    Ok(out)
}

/// The department's bottlenecks at `now`: the last 8 local days' arrivals
/// and solves, each team's backlog per active member, each agent's open
/// tickets (`open`: the department's `open_counts`).
pub async fn bottlenecks(
    store: &dyn Store,
    now: Millis,
    tz: &TimeZone,
    open: &[OpenCount],
) -> Result<Vec<Bottleneck>, StoreError> {
    let window = Window::days_to(now, 8, tz.clone());
    let measures = [Measure::Created, Measure::OneTouch];
    let mut per_day: BTreeMap<Date, (i64, i64)> = window.dates().into_iter().map(|d| (d, (0, 0))).collect();
    match cells::daily_counts(store, &window, &measures).await? {
        Some(counts) => {
            for (date, by) in counts {
                if let Some(d) = per_day.get_mut(&date) {
                    *d = (
                        by.get(&Measure::Created).copied().unwrap_or(0),
                        by.get(&Measure::OneTouch).copied().unwrap_or(0),
                    );
                }
            }
        }
        None => {
            for r in store.measure_rows(&measures, window.start(), window.end(), &Slice::default()).await? {
                if let Some(d) = local_date(r.at, tz).and_then(|d| per_day.get_mut(&d)) {
                    if r.measure == Measure::Created {
                        d.0 += 1;
                    } else {
                        d.1 += 1;
                    }
                }
            }
        }
    }
    let users = store.users(store::PageRequest { after: None, limit: 10_000 }).await?.items;
    let teams = store.teams().await?;
    let active = |id: UserId| users.iter().any(|u| u.id == id && u.active);
    let load = Load {
        days: per_day.into_values().collect(),
        teams: teams
            .iter()
            .map(|t| {
                let unsolved = open_tickets(open, |c| c.team_id == Some(t.id.0));
                (t.id.0, t.name.clone(), unsolved, t.member_ids.iter().filter(|m| active(**m)).count() as i64)
            })
            .collect(),
        agents: users
            .iter()
            .filter(|u| u.active)
            .map(|u| {
                let team = teams.iter().find(|t| t.member_ids.contains(&u.id)).map(|t| t.id.0);
                (u.id.0, u.name.clone(), team, open_tickets(open, |c| c.agent_id == Some(u.id.0)))
            })
            .collect(),
        sla_at_risk: sla_risk_history(store, now)
            .await?
            .into_iter()
            .map(|(_, n)| n)
            .chain([sla_count(store, None, SlaFilter::AtRisk).await? as i64])
            .collect(),
    };
    Ok(insight::kpi::bottlenecks::bottlenecks(&load))
}

pub const BOTTLENECK_CHECK: &str = "kpi.bottlenecks";

/// `kpi.bottlenecks`, hourly: keeps the rollup's cells in the
/// installation's zone (`kpi::ensure_cells`), folds closed days' buckets
/// (`kpi::fold`), records the hour's SLA
/// at-risk count and tells managers (`alerts::raise`: in the app, the
/// hooks that take `bottleneck.detected`, by mail) of each bottleneck
/// once per local day.
pub struct BottleneckCheck {
    pub store: std::sync::Arc<dyn Store>,
}

#[async_trait::async_trait]
impl crate::Handler for BottleneckCheck {
    async fn run(&self, _: &domain::Job, now: Millis) -> Result<(), crate::JobError> {
        // The first run after an upgrade or a change of time zone also
        // builds the rollup's cells for the installation's zone.
        crate::kpi::ensure_cells(self.store.as_ref()).await?;
        crate::kpi::fold(self.store.as_ref(), now).await?;
        check_bottlenecks(self.store.as_ref(), now).await?;
        Ok(())
    }
}

/// Tells of the bottlenecks not told of today (after recording the SLA
/// at-risk count of this hour); returns what it found.
pub async fn check_bottlenecks(store: &dyn Store, now: Millis) -> Result<Vec<Bottleneck>, StoreError> {
    let tz = time_zone(store).await;
    let mut history = sla_risk_history(store, now).await?;
    history.push((now, sla_count(store, None, SlaFilter::AtRisk).await? as i64));
    store.set_setting(SLA_RISK_KEY, &serde_json::json!(history)).await?;
    let open = store.open_counts(&Slice::default(), &[]).await?;
    let found = bottlenecks(store, now, &tz, &open).await?;
    let today = local_date(now, &tz).map(|d| d.to_string()).unwrap_or_default();
    for b in &found {
        let alert = crate::alerts::Alert {
            event: "bottleneck.detected",
            kind: "bottleneck",
            key: format!("bottleneck:{}:{}:{today}", b.kind, b.subject),
            text: b.text.clone(),
            detail: serde_json::json!(b),
        };
        crate::alerts::raise(store, alert, now).await?;
    }
    Ok(found)
}
