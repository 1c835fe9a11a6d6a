//! The rollup's pre-aggregated cells: measured rows summed per local day
//! and view (the department, a team, an agent, a team's agent …), and
//! duration values counted in fixed buckets, so a dashboard reads a few
//! thousand cells instead of every row. Keeping them is pure arithmetic: a
//! ticket's new tally minus its old one is what storage adds.
//! Definitions: docs/METRICS.md ("The rollup").

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::{Measure, MeasureRow};
use crate::str_enum::str_enum;

str_enum!(
    /// Which rows a cell sums. `a` and `b` name the subject: a team or
    /// agent id (`-` for none), a channel or a priority. Every view holds
    /// every measure but the channel mixes (arrivals and handle time, see
    /// `is_mix`) and the cards' views (no arrivals, see `is_card`).
    /// `all`, `team`, `agent`, `channel`, `priority`, `team_channel`
    /// (a = team, b = channel), `team_priority` (a = team, b = priority)
    /// and `priority_channel` (a = priority, b = channel) are slices: the
    /// spreads of every duration in both clocks. `team_agent`,
    /// `agent_channel`, `agent_priority`, `team_channel_agent` (a = team
    /// and channel as `3/email`, b = agent: a team's channel's agents),
    /// `team_priority_agent` (a = team and priority as `3/urgent`) and
    /// `priority_channel_agent`, `priority_channel_team` (a = priority
    /// and channel as `high/email`, b = agent or team) keep the calendar
    /// spread of first reply and resolution (their cards);
    /// `team_priority_channel` (a = team and priority, b = channel) is a
    /// team's priority's channel mix.
    ///
    /// A ticket's organization, tags and tier are its facts now, not the
    /// measured instant's: `organization` (a = organization id), `tag`
    /// (a = tag) and `tier` (a = tier) hold every measure and both
    /// spreads; their agents (b = agent id) are cards; an organization's
    /// channels (b = channel) hold arrivals and handle time (its mix). A
    /// tag's or a tier's team (b = team id) is a slice of its own (every
    /// measure, both spreads), with its agents' cards (`tag_team_agent`,
    /// `tier_team_agent`: a = fact and team as `vip/3`, b = agent) and its
    /// channel mix (`…_team_channel`, a the same, b = channel); so is a
    /// tag's or a tier's channel (b = channel), with its agents' and
    /// teams' cards (`…_channel_agent`, `…_channel_team`, a = fact and
    /// channel as `vip/email`), and a tag's or a tier's priority
    /// (`tag_priority`, `tier_priority`, b = priority), with its agents'
    /// and teams' cards (`…_priority_agent`, `…_priority_team`, a = fact
    /// and priority as `vip/high`) and its channel mix
    /// (`…_priority_channel`); and so is a tag's tier (`tag_tier`, a =
    /// tag, b = tier), with its agents' and teams' cards (`tag_tier_agent`,
    /// `tag_tier_team`, a = tag and tier as `refund/vip`) and its channel
    /// mix (`tag_tier_channel`). A tier's priority's channel
    /// (`tier_priority_channel`, a = tier and priority as `vip/high`,
    /// b = channel) is a slice too (tier, priority and channel are each a
    /// large part of every team; 60 combinations), with its agents' and
    /// teams' cards (`tier_priority_channel_agent`,
    /// `tier_priority_channel_team`, a = `vip/high/email`); a tag's
    /// priority's channel stays a mix. An organization's teams are cards. The
    /// slice is always `a`, so reading one organization seeks its cells
    /// only.
    CellView {
        All = "all",
        Team = "team",
        Agent = "agent",
        TeamAgent = "team_agent",
        Channel = "channel",
        TeamChannel = "team_channel",
        TeamChannelAgent = "team_channel_agent",
        AgentChannel = "agent_channel",
        Priority = "priority",
        TeamPriority = "team_priority",
        TeamPriorityAgent = "team_priority_agent",
        TeamPriorityChannel = "team_priority_channel",
        AgentPriority = "agent_priority",
        PriorityChannel = "priority_channel",
        PriorityChannelAgent = "priority_channel_agent",
        PriorityChannelTeam = "priority_channel_team",
        Organization = "organization",
        OrganizationTeam = "organization_team",
        OrganizationAgent = "organization_agent",
        OrganizationChannel = "organization_channel",
        Tag = "tag",
        TagTeam = "tag_team",
        TagAgent = "tag_agent",
        TagChannel = "tag_channel",
        TagTeamAgent = "tag_team_agent",
        TagTeamChannel = "tag_team_channel",
        TagChannelAgent = "tag_channel_agent",
        TagChannelTeam = "tag_channel_team",
        TagPriority = "tag_priority",
        TagPriorityAgent = "tag_priority_agent",
        TagPriorityTeam = "tag_priority_team",
        TagPriorityChannel = "tag_priority_channel",
        Tier = "tier",
        TierTeam = "tier_team",
        TierAgent = "tier_agent",
        TierChannel = "tier_channel",
        TierTeamAgent = "tier_team_agent",
        TierTeamChannel = "tier_team_channel",
        TierChannelAgent = "tier_channel_agent",
        TierChannelTeam = "tier_channel_team",
        TierPriority = "tier_priority",
        TierPriorityAgent = "tier_priority_agent",
        TierPriorityTeam = "tier_priority_team",
        TierPriorityChannel = "tier_priority_channel",
        TierPriorityChannelAgent = "tier_priority_channel_agent",
        TierPriorityChannelTeam = "tier_priority_channel_team",
        TagTier = "tag_tier",
        TagTierAgent = "tag_tier_agent",
        TagTierTeam = "tag_tier_team",
        TagTierChannel = "tag_tier_channel",
    }
);

str_enum!(
    /// Which duration a bucket counts.
    Clock { Calendar = "calendar", Business = "business" }
);

/// Where a cell's rows fall: its view and subject, measure, local day
/// (days since 1970-01-01) and, for arrivals, local hour (else 0).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    pub view: CellView,
    pub a: String,
    pub b: String,
    pub measure: Measure,
    pub day: i64,
    pub hour: i64,
}

/// How many rows, and the sums of their values (calendar and business).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CellSums {
    pub n: i64,
    pub value: i64,
    pub business: i64,
}

impl std::ops::AddAssign for CellSums {
    fn add_assign(&mut self, s: CellSums) {
        self.n += s.n;
        self.value += s.value;
        self.business += s.business;
    }
}

/// A bucket of durations: the cell it belongs to (hour 0), its clock and
/// its lower bound in milliseconds (see `bucket`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BucketKey {
    pub view: CellView,
    pub a: String,
    pub b: String,
    pub measure: Measure,
    pub day: i64,
    pub clock: Clock,
    pub lower: i64,
}

/// What a ticket's facts add to its rows' own team, agent, channel and
/// priority: the organization, tags and tier it has now. A ticket's cells
/// follow it when these change (its old tally is taken with its old
/// facts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketSubjects<'a> {
    pub organization_id: Option<i64>,
    pub tags: &'a [String],
    pub tier: Option<crate::Tier>,
}

/// Whether a view only serves scorecards (a team's agents, a team's
/// channel's or priority's agents, an agent's priorities, a priority's
/// channel's agents and teams, an organization's teams, an
/// organization's, a tag's or a tier's agents, and the agents and teams
/// of a tag's or a tier's team, channel or priority): every measure but
/// arrivals, and the calendar spread of first reply and resolution. (An
/// agent's channels are cards too, and also its channel mix, so they
/// keep arrivals; a team's channels and priorities, a priority's
/// channels and a tag's or a tier's teams, channels and priorities are
/// slices of their own.)
fn is_card(view: CellView) -> bool {
    matches!(
        view,
        CellView::TeamAgent
            | CellView::TeamChannelAgent
            | CellView::TeamPriorityAgent
            | CellView::AgentPriority
            | CellView::PriorityChannelAgent
            | CellView::PriorityChannelTeam
            | CellView::OrganizationTeam
            | CellView::OrganizationAgent
            | CellView::TagAgent
            | CellView::TagTeamAgent
            | CellView::TagChannelAgent
            | CellView::TagChannelTeam
            | CellView::TagPriorityAgent
            | CellView::TagPriorityTeam
            | CellView::TierAgent
            | CellView::TierTeamAgent
            | CellView::TierChannelAgent
            | CellView::TierChannelTeam
            | CellView::TierPriorityAgent
            | CellView::TierPriorityTeam
            | CellView::TierPriorityChannelAgent
            | CellView::TierPriorityChannelTeam
            | CellView::TagTierAgent
            | CellView::TagTierTeam
    )
}

/// Whether a view is only a slice's channel mix: arrivals and handle
/// time, no spreads.
fn is_mix(view: CellView) -> bool {
    matches!(
        view,
        CellView::TeamPriorityChannel
            | CellView::OrganizationChannel
            | CellView::TagTeamChannel
            | CellView::TagPriorityChannel
            | CellView::TierTeamChannel
            | CellView::TagTierChannel
    )
}

/// The subject `a` of a view within a view: a team's channel's or a
/// team's priority's agents and channels (the team, `-` for none, and the
/// channel or priority: `3/email`), or a fact's team's (the organization,
/// tag or tier and the team: `vip/3`). The second part (a channel, a
/// priority, a team) never holds `/`, so each pair is one subject only.
pub fn pair(first: &str, second: &str) -> String {
    format!("{first}/{second}")
}

/// The views a ticket's fact subject (its organization, a tag, its tier) is kept
/// in: the subject itself, and its teams', agents' and channels' (the
/// subject is `a` in each); and, when its teams are slices of their
/// own, their agents and channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactViews {
    pub whole: CellView,
    pub teams: CellView,
    pub agents: CellView,
    pub channels: CellView,
    pub team_slice: Option<TeamSliceViews>,
    pub channel_slice: Option<ChannelSliceViews>,
    pub priority_slice: Option<PrioritySliceViews>,
}

/// A fact's priorities as slices of their own: the fact's priority
/// (a = the fact, b = priority: every measure and spread), and its
/// agents' and teams' cards and channel mix, the fact and priority as
/// `a` (see `pair`). With `channel_slice`, the channels are slices too
/// (every measure and spread), with their agents' and teams' cards keyed
/// by fact, priority and channel (`vip/high/email`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrioritySliceViews {
    pub whole: CellView,
    pub agents: CellView,
    pub teams: CellView,
    pub channels: CellView,
    pub channel_slice: Option<ChannelSliceViews>,
}

/// What makes a fact's channel a slice of its own (its channels' view
/// then holds every measure, not only the mix): its agents' and teams'
/// cards, the fact and channel as `a` (see `pair`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelSliceViews {
    pub agents: CellView,
    pub teams: CellView,
}

/// What makes a fact's team a slice of its own: its agents' cards and its
/// channel mix, the fact and team as `a` (see `pair`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamSliceViews {
    pub agents: CellView,
    pub channels: CellView,
}

pub const ORGANIZATION_VIEWS: FactViews = FactViews {
    whole: CellView::Organization,
    teams: CellView::OrganizationTeam,
    agents: CellView::OrganizationAgent,
    channels: CellView::OrganizationChannel,
    // An organization is a small part of the department, and its rows have
    // an index of their own: its team is read from them, not kept here
    // (it would double the organizations' cells).
    team_slice: None,
    channel_slice: None,
    priority_slice: None,
};

pub const TAG_VIEWS: FactViews = FactViews {
    whole: CellView::Tag,
    teams: CellView::TagTeam,
    agents: CellView::TagAgent,
    channels: CellView::TagChannel,
    team_slice: Some(TeamSliceViews { agents: CellView::TagTeamAgent, channels: CellView::TagTeamChannel }),
    channel_slice: Some(ChannelSliceViews { agents: CellView::TagChannelAgent, teams: CellView::TagChannelTeam }),
    priority_slice: Some(PrioritySliceViews {
        whole: CellView::TagPriority,
        agents: CellView::TagPriorityAgent,
        teams: CellView::TagPriorityTeam,
        channels: CellView::TagPriorityChannel,
        // A tag's priority's channels are 20 times a tier's: a mix only.
        channel_slice: None,
    }),
};

pub const TIER_VIEWS: FactViews = FactViews {
    whole: CellView::Tier,
    teams: CellView::TierTeam,
    agents: CellView::TierAgent,
    channels: CellView::TierChannel,
    team_slice: Some(TeamSliceViews { agents: CellView::TierTeamAgent, channels: CellView::TierTeamChannel }),
    channel_slice: Some(ChannelSliceViews { agents: CellView::TierChannelAgent, teams: CellView::TierChannelTeam }),
    priority_slice: Some(PrioritySliceViews {
        whole: CellView::TierPriority,
        agents: CellView::TierPriorityAgent,
        teams: CellView::TierPriorityTeam,
        channels: CellView::TierPriorityChannel,
        channel_slice: Some(ChannelSliceViews {
            agents: CellView::TierPriorityChannelAgent,
            teams: CellView::TierPriorityChannelTeam,
        }),
    }),
};

/// One of a ticket's tags with its tier (see `CellView::TagTier`).
struct TagTier {
    tag: String,
    tier: &'static str,
    both: String,
}

/// The cells and buckets of a set of rows. Hashed: a rebuild merges
/// hundreds of thousands of keys; storage sorts them before writing.
/// foldhash, not the standard SipHash: the keys are ours, not an
/// attacker's, and SipHash was a twentieth of a rebuild's time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub cells: hashbrown::HashMap<CellKey, CellSums, foldhash::fast::RandomState>,
    pub buckets: hashbrown::HashMap<BucketKey, i64, foldhash::fast::RandomState>,
}

/// A `CellKey` borrowed: a tally looks a cell up without allocating its
/// subjects, and owns them only for a new one (a rebuild's tally hits
/// cells it holds already for most rows). Hashes as `CellKey` does (same
/// fields in the same order; a `String` hashes as its `str`).
#[derive(Hash)]
struct CellKeyRef<'a> {
    view: CellView,
    a: &'a str,
    b: &'a str,
    measure: Measure,
    day: i64,
    hour: i64,
}

impl hashbrown::Equivalent<CellKey> for CellKeyRef<'_> {
    fn equivalent(&self, k: &CellKey) -> bool {
        self.view == k.view
            && self.measure == k.measure
            && self.day == k.day
            && self.hour == k.hour
            && self.a == k.a
            && self.b == k.b
    }
}

impl From<&CellKeyRef<'_>> for CellKey {
    fn from(k: &CellKeyRef<'_>) -> CellKey {
        CellKey { view: k.view, a: k.a.to_string(), b: k.b.to_string(), measure: k.measure, day: k.day, hour: k.hour }
    }
}

/// A `BucketKey` borrowed (see `CellKeyRef`).
#[derive(Hash)]
struct BucketKeyRef<'a> {
    view: CellView,
    a: &'a str,
    b: &'a str,
    measure: Measure,
    day: i64,
    clock: Clock,
    lower: i64,
}

impl hashbrown::Equivalent<BucketKey> for BucketKeyRef<'_> {
    fn equivalent(&self, k: &BucketKey) -> bool {
        self.view == k.view
            && self.measure == k.measure
            && self.day == k.day
            && self.clock == k.clock
            && self.lower == k.lower
            && self.a == k.a
            && self.b == k.b
    }
}

impl From<&BucketKeyRef<'_>> for BucketKey {
    fn from(k: &BucketKeyRef<'_>) -> BucketKey {
        BucketKey {
            view: k.view,
            a: k.a.to_string(),
            b: k.b.to_string(),
            measure: k.measure,
            day: k.day,
            clock: k.clock,
            lower: k.lower,
        }
    }
}

/// Which cells (or buckets) to read, summed by the database: one view,
/// its subjects `a` / `b` when given, these measures, local days
/// `first_day..=last_day`. `by_day` keeps days (and hours) apart, else
/// they are summed and read as day 0; `clock` limits buckets to one clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellQuery {
    pub view: CellView,
    pub a: Option<String>,
    pub b: Option<String>,
    pub measures: Vec<Measure>,
    pub first_day: i64,
    pub last_day: i64,
    pub by_day: bool,
    pub clock: Option<Clock>,
}

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Bucket widths by range: (from, width). A width is at most 8.4% of the
/// range's start (5% from ten minutes on), so a bucket's middle is within
/// 4.2% (2.5%) of any value in it; the cockpit's histogram edges (15 min,
/// 1 h, 4 h, 8 h, 1 day, 3 days) fall on bucket bounds.
const SCALE: [(i64, i64); 7] = [
    (0, SECOND),
    (MINUTE, 5 * SECOND),
    (10 * MINUTE, 30 * SECOND),
    (HOUR, 2 * MINUTE),
    (8 * HOUR, 10 * MINUTE),
    (3 * DAY, HOUR),
    (30 * DAY, DAY),
];

/// The bucket of a duration: (lower bound, width), both in milliseconds.
pub fn bucket(ms: i64) -> (i64, i64) {
    let ms = ms.max(0);
    let (from, width) = SCALE.iter().rev().find(|(from, _)| ms >= *from).copied().unwrap_or(SCALE[0]);
    (from + (ms - from) / width * width, width)
}

/// Whether a measure's values are durations (counted in buckets) rather
/// than yes/no.
pub fn is_duration(m: Measure) -> bool {
    matches!(
        m,
        Measure::FirstReply
            | Measure::NextReply
            | Measure::FirstResolution
            | Measure::FullResolution
            | Measure::RequesterWait
            | Measure::AgentWork
            | Measure::AgentWait
            | Measure::HandleTime
    )
}

const EPOCH: Date = Date::constant(1970, 1, 1);

/// A moment in `tz`, or none outside jiff's range.
fn local_time(ms: i64, tz: &TimeZone) -> Option<jiff::Zoned> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|at| at.to_zoned(tz.clone()))
}

/// The local day (see `day_number`) a cell of a row at `ms` falls on.
pub fn local_day(ms: i64, tz: &TimeZone) -> Option<i64> {
    local_time(ms, tz).map(|t| day_number(t.date()))
}

/// Days since 1970-01-01 of a local date.
pub fn day_number(d: Date) -> i64 {
    EPOCH.until(d).map(|s| i64::from(s.get_days())).unwrap_or(0)
}

/// The local date of a day number.
pub fn day_date(n: i64) -> Date {
    EPOCH.checked_add(jiff::Span::new().days(n)).unwrap_or(EPOCH)
}

/// Day 4 since 1970-01-01 (the 5th) was a Monday.
const FIRST_MONDAY: i64 = 4;

/// The first day (a Monday) of the week a day falls in: where the
/// rollup's week cells and week histograms keep it.
pub fn week_start(day: i64) -> i64 {
    day - (day - FIRST_MONDAY).rem_euclid(7)
}

/// How a period of days is read: the whole weeks (Monday to Sunday) inside
/// it from the week tables, the days before and after them from the day
/// tables. A quarter reads 12 weeks and at most 12 days instead of 91
/// days. Each part is an inclusive range of day numbers; `weeks` runs from
/// the first whole week's Monday to the last's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeriodParts {
    pub head: Option<(i64, i64)>,
    pub weeks: Option<(i64, i64)>,
    pub tail: Option<(i64, i64)>,
}

impl PeriodParts {
    pub fn of(first: i64, last: i64) -> PeriodParts {
        if first > last {
            return PeriodParts::default();
        }
        // The first Monday on or after `first`, and the Monday of the last
        // week that ends on or before `last`.
        let (from, to) = (week_start(first + 6), week_start(last + 1) - 7);
        if from > to {
            return PeriodParts { head: Some((first, last)), ..PeriodParts::default() };
        }
        PeriodParts {
            head: (first < from).then_some((first, from - 1)),
            weeks: Some((from, to)),
            tail: (to + 7 <= last).then_some((to + 7, last)),
        }
    }
}

/// How a subject is written in a cell: the id, or `-` for none.
pub fn subject(id: Option<i64>) -> String {
    id.map(|i| i.to_string()).unwrap_or_else(|| "-".into())
}

/// A folded histogram as stored: `lower_s:n` pairs, lowest first (bucket
/// bounds are whole seconds), zero counts left out.
pub fn encode_counts(counts: &BTreeMap<i64, i64>) -> String {
    let pairs: Vec<String> =
        counts.iter().filter(|(_, n)| **n != 0).map(|(lower, n)| format!("{}:{n}", lower / 1000)).collect();
    pairs.join(",")
}

/// The (lower bound in ms, count) pairs of a stored histogram; what does
/// not parse is left out.
pub fn decode_counts(text: &str) -> Vec<(i64, i64)> {
    text.split(',')
        .filter_map(|pair| {
            let (lower, n) = pair.split_once(':')?;
            Some((lower.parse::<i64>().ok()? * 1000, n.parse().ok()?))
        })
        .collect()
}

impl Tally {
    /// The cells of one ticket's `rows`, days and hours local to `tz`.
    pub fn of(ticket: TicketSubjects, rows: &[MeasureRow], tz: &TimeZone) -> Tally {
        let mut t = Tally::default();
        t.add_ticket(ticket, rows, tz);
        t
    }

    /// Adds one ticket's rows.
    pub fn add_ticket(&mut self, ticket: TicketSubjects, rows: &[MeasureRow], tz: &TimeZone) {
        let mut tags: Vec<&String> = ticket.tags.iter().collect();
        tags.sort_unstable();
        tags.dedup();
        let mut subjects: Vec<(FactViews, String)> = Vec::new();
        if let Some(o) = ticket.organization_id {
            subjects.push((ORGANIZATION_VIEWS, o.to_string()));
        }
        // A tag's tier: the tag, the ticket's tier, and both as one subject.
        let tag_tiers: Vec<TagTier> = match ticket.tier {
            Some(tier) => tags
                .iter()
                .map(|tag| TagTier { tag: (*tag).clone(), tier: tier.as_str(), both: pair(tag, tier.as_str()) })
                .collect(),
            None => Vec::new(),
        };
        subjects.extend(tags.into_iter().map(|tag| (TAG_VIEWS, tag.clone())));
        if let Some(tier) = ticket.tier {
            subjects.push((TIER_VIEWS, tier.as_str().to_string()));
        }
        for r in rows {
            self.add(r, &subjects, &tag_tiers, tz);
        }
    }

    fn add(&mut self, r: &MeasureRow, subjects: &[(FactViews, String)], tag_tiers: &[TagTier], tz: &TimeZone) {
        let Some(local) = local_time(r.at, tz) else { return };
        let day = day_number(local.date());
        let (team, agent) = (subject(r.team_id), subject(r.agent_id));
        let (team, agent) = (team.as_str(), agent.as_str());
        let (channel, priority) = (r.channel.as_str(), r.priority.as_str());
        let (team_channel, team_priority) = (pair(team, channel), pair(team, priority));
        let priority_channel = pair(priority, channel);
        // Each fact's team, channel and priority as one subject, where
        // they are slices of their own.
        // (And a fact's priority's channel, where that is a slice.)
        let fact_pairs: Vec<[Option<String>; 4]> = subjects
            .iter()
            .map(|(f, name)| {
                [
                    f.team_slice.map(|_| pair(name, team)),
                    f.channel_slice.map(|_| pair(name, channel)),
                    f.priority_slice.map(|_| pair(name, priority)),
                    f.priority_slice.and_then(|s| s.channel_slice).map(|_| pair(&pair(name, priority), channel)),
                ]
            })
            .collect();
        let mut views: Vec<(CellView, &str, &str)> = vec![
            (CellView::All, "", ""),
            (CellView::Team, team, ""),
            (CellView::Agent, agent, ""),
            (CellView::TeamAgent, team, agent),
            (CellView::Channel, channel, ""),
            (CellView::TeamChannel, team, channel),
            (CellView::TeamChannelAgent, &team_channel, agent),
            (CellView::AgentChannel, agent, channel),
            (CellView::Priority, priority, ""),
            (CellView::TeamPriority, team, priority),
            (CellView::AgentPriority, agent, priority),
            (CellView::TeamPriorityAgent, &team_priority, agent),
            (CellView::PriorityChannel, priority, channel),
            (CellView::PriorityChannelAgent, &priority_channel, agent),
            (CellView::PriorityChannelTeam, &priority_channel, team),
        ];
        let mix = matches!(r.measure, Measure::Created | Measure::HandleTime);
        for ((f, name), [fact_team, fact_channel, fact_priority, fact_priority_channel]) in
            subjects.iter().zip(&fact_pairs)
        {
            views.push((f.whole, name, ""));
            views.push((f.teams, name, team));
            views.push((f.agents, name, agent));
            // A fact's channels are its channel mix, or a slice of their own.
            if let (Some(slice), Some(fact_channel)) = (f.channel_slice, fact_channel) {
                views.push((f.channels, name, channel));
                views.push((slice.agents, fact_channel, agent));
                views.push((slice.teams, fact_channel, team));
            } else if mix {
                views.push((f.channels, name, channel));
            }
            if let (Some(slice), Some(fact_team)) = (f.team_slice, fact_team) {
                views.push((slice.agents, fact_team, agent));
                if mix {
                    views.push((slice.channels, fact_team, channel));
                }
            }
            if let (Some(slice), Some(fact_priority)) = (f.priority_slice, fact_priority) {
                views.push((slice.whole, name, priority));
                views.push((slice.agents, fact_priority, agent));
                views.push((slice.teams, fact_priority, team));
                if let (Some(cards), Some(triple)) = (slice.channel_slice, fact_priority_channel) {
                    views.push((slice.channels, fact_priority, channel));
                    views.push((cards.agents, triple, agent));
                    views.push((cards.teams, triple, team));
                } else if mix {
                    views.push((slice.channels, fact_priority, channel));
                }
            }
        }
        for t in tag_tiers {
            views.push((CellView::TagTier, &t.tag, t.tier));
            views.push((CellView::TagTierAgent, &t.both, agent));
            views.push((CellView::TagTierTeam, &t.both, team));
            if mix {
                views.push((CellView::TagTierChannel, &t.both, channel));
            }
        }
        if mix {
            views.push((CellView::TeamPriorityChannel, &team_priority, channel));
        }
        if r.measure == Measure::Created {
            // Cards count work, not arrivals: only the views that are a
            // slice or its channel mix keep arrivals (by the hour).
            views.retain(|(view, _, _)| !is_card(*view));
        }
        let hour = if r.measure == Measure::Created { i64::from(local.hour()) } else { 0 };
        for (view, a, b) in views {
            if is_duration(r.measure) {
                // The cards of a team's agents, or of a channel's agents,
                // need only the calendar spread of first reply and
                // resolution.
                let card = is_card(view) || view == CellView::AgentChannel;
                let clocks: &[(Clock, i64)] = if is_mix(view) {
                    &[]
                } else if card {
                    if matches!(r.measure, Measure::FirstReply | Measure::FullResolution) {
                        &[(Clock::Calendar, r.value)]
                    } else {
                        &[]
                    }
                } else {
                    &[(Clock::Calendar, r.value), (Clock::Business, r.business)]
                };
                for (clock, v) in clocks {
                    let key = BucketKeyRef { view, a, b, measure: r.measure, day, clock: *clock, lower: bucket(*v).0 };
                    *self.buckets.entry_ref(&key).or_default() += 1;
                }
            }
            let key = CellKeyRef { view, a, b, measure: r.measure, day, hour };
            let sums = self.cells.entry_ref(&key).or_default();
            sums.n += 1;
            sums.value += r.value;
            sums.business += r.business;
        }
    }

    /// `self − old`, without the cells and buckets that did not change.
    #[cfg(test)]
    fn minus(mut self, old: &Tally) -> Tally {
        self.subtract(old);
        self.drop_unchanged();
        self
    }

    /// Adds one ticket's change: its rows with the subjects it has now
    /// in, its rows before with the subjects it had then out. Cells and
    /// buckets that come to nothing stay until `drop_unchanged`.
    pub fn add_change(
        &mut self,
        now: TicketSubjects,
        rows: &[MeasureRow],
        then: TicketSubjects,
        old_rows: &[MeasureRow],
        tz: &TimeZone,
    ) {
        self.add_ticket(now, rows, tz);
        if !old_rows.is_empty() {
            self.subtract(&Tally::of(then, old_rows, tz));
        }
    }

    fn subtract(&mut self, old: &Tally) {
        for (k, s) in &old.cells {
            let e = self.cells.entry(k.clone()).or_default();
            e.n -= s.n;
            e.value -= s.value;
            e.business -= s.business;
        }
        for (k, n) in &old.buckets {
            *self.buckets.entry(k.clone()).or_default() -= n;
        }
    }

    /// Leaves out the cells and buckets that add nothing.
    pub fn drop_unchanged(&mut self) {
        self.cells.retain(|_, s| *s != CellSums::default());
        self.buckets.retain(|_, n| *n != 0);
    }

    /// Takes out the cells and buckets of the local days before `day`,
    /// leaving the later ones. A rebuild adds the days its pages have
    /// passed, once, instead of adding every day's cells again with each
    /// page that touches them.
    pub fn take_days_before(&mut self, day: i64) -> Tally {
        Tally {
            cells: self.cells.extract_if(|k, _| k.day < day).collect(),
            buckets: self.buckets.extract_if(|k, _| k.day < day).collect(),
        }
    }

    /// How many cells and buckets it holds (what keeping it costs).
    pub fn len(&self) -> usize {
        self.cells.len() + self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty() && self.buckets.is_empty()
    }

    /// The week cells of these cells: summed per view, subject, measure
    /// and week (its Monday), arrivals' hours summed into hour 0.
    pub fn week_cells(&self) -> HashMap<CellKey, CellSums, foldhash::fast::RandomState> {
        let mut weeks: HashMap<CellKey, CellSums, foldhash::fast::RandomState> = HashMap::default();
        for (k, s) in &self.cells {
            let key = CellKey { day: week_start(k.day), hour: 0, ..k.clone() };
            *weeks.entry(key).or_default() += *s;
        }
        weeks.retain(|_, s| *s != CellSums::default());
        weeks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Channel, Priority};

    #[test]
    fn folded_histograms_round_trip() {
        let counts: BTreeMap<i64, i64> = [(0, 2), (59_000, 1), (15 * MINUTE, 0), (3 * DAY, -1)].into_iter().collect();
        let text = encode_counts(&counts);
        assert_eq!(text, "0:2,59:1,259200:-1", "zeros left out");
        assert_eq!(decode_counts(&text), vec![(0, 2), (59_000, 1), (3 * DAY, -1)]);
        assert_eq!(decode_counts(""), vec![]);
        for ms in [1, 61_000, 15 * MINUTE - 1, 9 * HOUR + 7, 45 * DAY] {
            assert_eq!(bucket(ms).0 % 1000, 0, "bounds are whole seconds: {ms}");
        }
    }

    #[test]
    fn buckets_are_narrow_and_hold_the_histogram_edges() {
        assert_eq!(bucket(0), (0, SECOND));
        assert_eq!(bucket(59_999), (59_000, SECOND));
        assert_eq!(bucket(61_000), (60_000, 5 * SECOND));
        assert_eq!(bucket(15 * MINUTE), (15 * MINUTE, 30 * SECOND));
        assert_eq!(bucket(15 * MINUTE - 1), (15 * MINUTE - 30 * SECOND, 30 * SECOND));
        for edge in [HOUR, 4 * HOUR, 8 * HOUR, DAY, 3 * DAY] {
            assert_eq!(bucket(edge).0, edge, "{edge}");
        }
        for ms in [MINUTE, 10 * MINUTE, HOUR, 8 * HOUR, 3 * DAY, 30 * DAY] {
            let (_, w) = bucket(ms);
            assert!(w as f64 <= ms as f64 * 0.084, "{ms}: width {w}");
        }
        assert_eq!(bucket(-5), (0, SECOND));
    }

    #[test]
    fn weeks_start_on_monday_and_periods_split_into_whole_weeks() {
        let n = |y, m, d| day_number(Date::constant(y, m, d));
        // 2026-12-07 is a Monday, the 13th a Sunday.
        assert_eq!(week_start(n(2026, 12, 7)), n(2026, 12, 7));
        assert_eq!(week_start(n(2026, 12, 13)), n(2026, 12, 7));
        assert_eq!(week_start(n(2026, 12, 14)), n(2026, 12, 14));
        assert_eq!(day_date(week_start(n(1969, 12, 31))), Date::constant(1969, 12, 29), "before the epoch too");
        // Wednesday 2 Dec to Tuesday 22 Dec: two whole weeks between.
        let parts = PeriodParts::of(n(2026, 12, 2), n(2026, 12, 22));
        assert_eq!(parts.head, Some((n(2026, 12, 2), n(2026, 12, 6))));
        assert_eq!(parts.weeks, Some((n(2026, 12, 7), n(2026, 12, 14))));
        assert_eq!(parts.tail, Some((n(2026, 12, 21), n(2026, 12, 22))));
        // Exactly one week: no days apart.
        let week = PeriodParts::of(n(2026, 12, 7), n(2026, 12, 13));
        assert_eq!(week, PeriodParts { head: None, weeks: Some((n(2026, 12, 7), n(2026, 12, 7))), tail: None });
        // Less than a whole week: days only.
        let days = PeriodParts::of(n(2026, 12, 8), n(2026, 12, 14));
        assert_eq!(days, PeriodParts { head: Some((n(2026, 12, 8), n(2026, 12, 14))), ..PeriodParts::default() });
        assert_eq!(PeriodParts::of(5, 4), PeriodParts::default());
        // Every day of a period is in exactly one part.
        for first in 0..30 {
            for last in first..first + 40 {
                let p = PeriodParts::of(first, last);
                let mut covered: Vec<i64> = Vec::new();
                covered.extend(p.head.map(|(f, l)| f..=l).into_iter().flatten());
                if let Some((f, l)) = p.weeks {
                    assert_eq!((week_start(f), week_start(l), (l - f) % 7), (f, l, 0), "Mondays");
                    covered.extend(f..=l + 6);
                }
                covered.extend(p.tail.map(|(f, l)| f..=l).into_iter().flatten());
                assert_eq!(covered, (first..=last).collect::<Vec<_>>(), "{first}..={last}");
            }
        }
    }

    #[test]
    fn week_cells_sum_the_days_and_hours_of_each_week() {
        let tz = TimeZone::UTC;
        // Monday 2026-12-07 10:00 and 15:00, Sunday the 13th, Monday the 14th.
        let monday = 1_796_637_600_000;
        let rows = [
            row(Measure::Created, monday, 0, None),
            row(Measure::Created, monday + 5 * HOUR, 0, None),
            row(Measure::Created, monday + 6 * DAY, 0, None),
            row(Measure::Created, monday + 7 * DAY, 0, None),
        ];
        let t = Tally::of(TicketSubjects::default(), &rows, &tz);
        let weeks = t.week_cells();
        let all = |day: i64| {
            weeks.get(&CellKey {
                view: CellView::All,
                a: String::new(),
                b: String::new(),
                measure: Measure::Created,
                day,
                hour: 0,
            })
        };
        let first = day_number(Date::constant(2026, 12, 7));
        assert_eq!(all(first).map(|s| s.n), Some(3));
        assert_eq!(all(first + 7).map(|s| s.n), Some(1));
        assert!(weeks.keys().all(|k| k.hour == 0 && week_start(k.day) == k.day));
        assert_eq!(weeks.values().map(|s| s.n).sum::<i64>(), t.cells.values().map(|s| s.n).sum::<i64>());
    }

    fn row(measure: Measure, at: i64, value: i64, agent: Option<i64>) -> MeasureRow {
        MeasureRow {
            measure,
            at,
            value,
            business: value / 2,
            team_id: Some(1),
            agent_id: agent,
            channel: Channel::Email,
            priority: Priority::Normal,
        }
    }

    #[test]
    fn a_tally_gives_up_the_days_before_one_and_keeps_the_rest() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        // 2026-03-02 23:30 UTC is 00:30 on the 3rd in Berlin.
        let at = 1_772_494_200_000;
        let third = day_number(Date::constant(2026, 3, 3));
        assert_eq!(local_day(at, &tz), Some(third));
        assert_eq!(local_day(at, &TimeZone::UTC), Some(third - 1));
        let rows = [
            row(Measure::Created, at - DAY, 0, None),
            row(Measure::FirstReply, at - DAY + MINUTE, MINUTE, Some(4)),
            row(Measure::FirstReply, at + HOUR, 25 * HOUR, Some(4)),
        ];
        let whole = Tally::of(TicketSubjects::default(), &rows, &tz);
        let mut later = whole.clone();
        let before = later.take_days_before(third);
        assert!(!before.is_empty() && !later.is_empty());
        assert!(before.cells.keys().chain(later.cells.keys()).all(|k| (k.day < third) == before.cells.contains_key(k)));
        assert!(before.buckets.keys().all(|k| k.day < third) && later.buckets.keys().all(|k| k.day >= third));
        assert_eq!(before.len() + later.len(), whole.len(), "nothing lost");
        // The first reply on the 3rd is the later part's alone.
        assert!(later.cells.keys().all(|k| k.measure == Measure::FirstReply));
        assert!(later.clone().take_days_before(third).is_empty());
    }

    #[test]
    fn a_tally_minus_the_old_one_holds_only_what_changed() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        // 2026-03-02 23:30 UTC is 00:30 on the 3rd in Berlin.
        let at = 1_772_494_200_000;
        let old = Tally::of(TicketSubjects::default(), &[row(Measure::Created, at, 0, None)], &tz);
        let key = |view, a: &str, b: &str| CellKey {
            view,
            a: a.into(),
            b: b.into(),
            measure: Measure::Created,
            day: day_number(Date::constant(2026, 3, 3)),
            hour: 0,
        };
        assert_eq!(old.cells[&key(CellView::All, "", "")], CellSums { n: 1, value: 0, business: 0 });
        assert_eq!(old.cells[&key(CellView::TeamChannel, "1", "email")].n, 1);
        assert_eq!(old.cells[&key(CellView::AgentChannel, "-", "email")].n, 1);
        assert_eq!(old.cells.len(), 10, "every view but the cards', the priority's channels too");
        assert_eq!(old.cells[&key(CellView::TeamPriorityChannel, "1/normal", "email")].n, 1);

        let new = Tally::of(
            TicketSubjects::default(),
            &[row(Measure::Created, at, 0, None), row(Measure::FirstReply, at + 10 * MINUTE, 10 * MINUTE, Some(4))],
            &tz,
        );
        let delta = new.minus(&old);
        assert!(delta.cells.keys().all(|k| k.measure == Measure::FirstReply));
        assert_eq!(delta.cells.len(), 15, "every view but the team's priority's channel mix");
        // all, team, agent, channel, priority, the team's channel, the
        // team's priority and the priority's channel in both clocks; the
        // team's agent, the agent's channel, the agent's priority, the
        // team's channel's and priority's agent and the priority's
        // channel's agent and team in calendar time.
        assert_eq!(delta.buckets.len(), 23);
        let card =
            |view| delta.buckets.iter().filter(|(k, _)| k.view == view).map(|(k, _)| k.clock).collect::<Vec<_>>();
        assert_eq!(card(CellView::TeamChannel).len(), 2);
        assert_eq!(card(CellView::TeamChannelAgent), vec![Clock::Calendar]);
        assert_eq!(card(CellView::TeamPriority).len(), 2);
        assert_eq!(card(CellView::TeamPriorityAgent), vec![Clock::Calendar]);
        assert_eq!(card(CellView::PriorityChannel).len(), 2, "a priority's channel is a slice");
        assert_eq!(card(CellView::PriorityChannelTeam), vec![Clock::Calendar]);
        let team = delta.cells.keys().find(|k| k.view == CellView::PriorityChannelTeam);
        assert_eq!(team.map(|k| (k.a.as_str(), k.b.as_str())), Some(("normal/email", "1")));
        let agent = delta.cells.keys().find(|k| k.view == CellView::TeamChannelAgent);
        assert_eq!(agent.map(|k| (k.a.as_str(), k.b.as_str())), Some(("1/email", "4")));
        let frt = delta.buckets.iter().find(|(k, _)| k.view == CellView::All && k.clock == Clock::Business);
        assert_eq!(frt.map(|(k, n)| (k.lower, *n)), Some((5 * MINUTE, 1)));
        assert_eq!(day_date(day_number(Date::constant(2026, 3, 3))), Date::constant(2026, 3, 3));
    }

    #[test]
    fn borrowed_lookups_find_the_owned_keys() {
        // A tally looks keys up borrowed (`CellKeyRef`, `BucketKeyRef`): they
        // must hash and compare as the owned keys, or a cell would be kept
        // twice. Two tickets' rows added one by one sum into one key each,
        // equal to the same keys inserted owned.
        let tz = TimeZone::UTC;
        let at = 1_772_494_200_000;
        let rows = [row(Measure::Created, at, 0, Some(4)), row(Measure::FirstReply, at + HOUR, HOUR, Some(4))];
        let tags = ["refund".to_string()];
        let ticket = TicketSubjects { organization_id: Some(7), tags: &tags, tier: Some(crate::Tier::Vip) };
        let once = Tally::of(ticket, &rows, &tz);
        let mut twice = Tally::default();
        twice.add_ticket(ticket, &rows, &tz);
        twice.add_ticket(ticket, &rows, &tz);
        assert_eq!(twice.cells.len(), once.cells.len());
        assert_eq!(twice.buckets.len(), once.buckets.len());
        let mut owned = Tally::default();
        for (k, s) in &once.cells {
            *owned.cells.entry(k.clone()).or_default() +=
                CellSums { n: 2 * s.n, value: 2 * s.value, business: 2 * s.business };
        }
        for (k, n) in &once.buckets {
            owned.buckets.insert(k.clone(), 2 * n);
        }
        assert_eq!(twice, owned);
        // Looked up owned in what was filled borrowed.
        for (k, s) in &once.cells {
            assert_eq!(twice.cells.get(k).map(|t| t.n), Some(2 * s.n), "{k:?}");
        }
        for (k, n) in &once.buckets {
            assert_eq!(twice.buckets.get(k), Some(&(2 * n)), "{k:?}");
        }
        let all = CellKey {
            view: CellView::All,
            a: String::new(),
            b: String::new(),
            measure: Measure::FirstReply,
            // Replied at 00:30 UTC on the 3rd.
            day: day_number(Date::constant(2026, 3, 3)),
            hour: 0,
        };
        assert_eq!(twice.cells.get(&all).map(|s| s.n), Some(2));
    }

    #[test]
    fn a_ticket_is_counted_in_its_organization_and_each_tag_once() {
        let tz = TimeZone::UTC;
        let at = 1_772_494_200_000;
        let tags = ["refund".to_string(), "vip".to_string(), "refund".to_string()];
        let ticket = TicketSubjects { organization_id: Some(7), tags: &tags, tier: Some(crate::Tier::Vip) };
        let rows = [row(Measure::Created, at, 0, Some(4)), row(Measure::FirstReply, at + HOUR, HOUR, Some(4))];
        let t = Tally::of(ticket, &rows, &tz);
        let n = |view: CellView, a: &str, b: &str, measure: Measure| {
            t.cells
                .iter()
                .filter(|(k, _)| k.view == view && k.a == a && k.b == b && k.measure == measure)
                .map(|(_, s)| s.n)
                .sum::<i64>()
        };
        assert_eq!(n(CellView::Organization, "7", "", Measure::Created), 1);
        assert_eq!(n(CellView::OrganizationAgent, "7", "4", Measure::FirstReply), 1);
        assert_eq!(n(CellView::OrganizationTeam, "7", "1", Measure::FirstReply), 1);
        assert_eq!(n(CellView::OrganizationAgent, "7", "4", Measure::Created), 0, "cards count work, not arrivals");
        assert_eq!(n(CellView::OrganizationChannel, "7", "email", Measure::Created), 1);
        assert_eq!(
            n(CellView::OrganizationChannel, "7", "email", Measure::FirstReply),
            0,
            "the mix is arrivals and handle time"
        );
        assert_eq!(n(CellView::Tag, "refund", "", Measure::Created), 1, "a tag listed twice counts once");
        assert_eq!(n(CellView::TagAgent, "vip", "4", Measure::FirstReply), 1);
        assert_eq!(n(CellView::Tier, "vip", "", Measure::Created), 1);
        assert_eq!(n(CellView::TierTeam, "vip", "1", Measure::FirstReply), 1);
        assert_eq!(n(CellView::TierAgent, "vip", "4", Measure::Created), 0, "cards count work, not arrivals");
        assert_eq!(n(CellView::TierChannel, "vip", "email", Measure::Created), 1);
        // A fact's team is a slice: its arrivals, its agents' cards and its channel mix.
        assert_eq!(n(CellView::TierTeam, "vip", "1", Measure::Created), 1, "a fact's team keeps arrivals");
        assert_eq!(n(CellView::TierTeamAgent, "vip/1", "4", Measure::FirstReply), 1);
        assert_eq!(n(CellView::TierTeamAgent, "vip/1", "4", Measure::Created), 0, "cards count work, not arrivals");
        assert_eq!(n(CellView::TierTeamChannel, "vip/1", "email", Measure::Created), 1);
        assert_eq!(n(CellView::TierTeamChannel, "vip/1", "email", Measure::FirstReply), 0);
        assert_eq!(n(CellView::OrganizationTeam, "7", "1", Measure::Created), 0, "an organization's teams are cards");
        assert_eq!(n(CellView::TagTeamAgent, "vip/1", "4", Measure::FirstReply), 1);
        assert_eq!(n(CellView::TagTeamChannel, "refund/1", "email", Measure::Created), 1);
        // Both spreads for the organization and a tag; the calendar spread for their cards.
        let spreads = |view: CellView| t.buckets.keys().filter(|k| k.view == view).count();
        assert_eq!((spreads(CellView::Organization), spreads(CellView::Tag)), (2, 4));
        assert_eq!((spreads(CellView::OrganizationAgent), spreads(CellView::TagTeam)), (1, 4));
        assert_eq!(spreads(CellView::TagChannel), 4, "a tag's channel is a slice");
        assert_eq!((spreads(CellView::Tier), spreads(CellView::TierAgent), spreads(CellView::TierChannel)), (2, 1, 2));
        assert_eq!((spreads(CellView::TierChannelAgent), spreads(CellView::TierChannelTeam)), (1, 1));
        assert_eq!(n(CellView::TierChannel, "vip", "email", Measure::FirstReply), 1);
        assert_eq!(n(CellView::TierChannelTeam, "vip/email", "1", Measure::FirstReply), 1);
        assert_eq!(n(CellView::TagChannelAgent, "refund/email", "4", Measure::Created), 0, "cards count work");
        assert_eq!(
            (spreads(CellView::TierTeam), spreads(CellView::TierTeamAgent), spreads(CellView::TierTeamChannel)),
            (2, 1, 0)
        );
        // So is a fact's priority: every measure and spread, its agents'
        // and teams' cards, its channel mix.
        assert_eq!(n(CellView::TagPriority, "refund", "normal", Measure::Created), 1);
        assert_eq!(n(CellView::TierPriority, "vip", "normal", Measure::FirstReply), 1);
        assert_eq!((spreads(CellView::TagPriority), spreads(CellView::TierPriority)), (4, 2));
        assert_eq!(n(CellView::TagPriorityAgent, "vip/normal", "4", Measure::FirstReply), 1);
        assert_eq!(n(CellView::TierPriorityTeam, "vip/normal", "1", Measure::FirstReply), 1);
        assert_eq!(n(CellView::TierPriorityTeam, "vip/normal", "1", Measure::Created), 0, "cards count work");
        assert_eq!((spreads(CellView::TierPriorityAgent), spreads(CellView::TierPriorityTeam)), (1, 1));
        assert_eq!(n(CellView::TagPriorityChannel, "refund/normal", "email", Measure::Created), 1);
        assert_eq!(spreads(CellView::TagPriorityChannel), 0, "a tag's priority's channel is a mix");
        // A tier's priority's channel is a slice: every measure and both
        // spreads, its agents' and teams' cards keyed by all three.
        assert_eq!(n(CellView::TierPriorityChannel, "vip/normal", "email", Measure::FirstReply), 1);
        assert_eq!(spreads(CellView::TierPriorityChannel), 2);
        assert_eq!(n(CellView::TierPriorityChannelAgent, "vip/normal/email", "4", Measure::FirstReply), 1);
        assert_eq!(n(CellView::TierPriorityChannelTeam, "vip/normal/email", "1", Measure::Created), 0, "cards");
        assert_eq!((spreads(CellView::TierPriorityChannelAgent), spreads(CellView::TierPriorityChannelTeam)), (1, 1));
        // And a tag's tier, once per tag.
        assert_eq!(n(CellView::TagTier, "refund", "vip", Measure::Created), 1, "a tag listed twice counts once");
        assert_eq!(n(CellView::TagTier, "vip", "vip", Measure::FirstReply), 1);
        assert_eq!((spreads(CellView::TagTier), spreads(CellView::TagTierAgent)), (4, 2));
        assert_eq!(n(CellView::TagTierTeam, "refund/vip", "1", Measure::FirstReply), 1);
        assert_eq!(n(CellView::TagTierTeam, "refund/vip", "1", Measure::Created), 0, "cards count work");
        assert_eq!(n(CellView::TagTierChannel, "vip/vip", "email", Measure::Created), 1);
        // Without facts, none of these views.
        let plain = Tally::of(TicketSubjects::default(), &rows, &tz);
        assert!(
            plain.cells.keys().all(|k| !matches!(
                k.view,
                CellView::Organization | CellView::Tag | CellView::TagTeam | CellView::Tier
            ))
        );
        // Moving the ticket to another organization moves its cells.
        let moved = Tally::of(TicketSubjects { organization_id: Some(8), ..ticket }, &rows, &tz).minus(&t);
        assert!(moved.cells.keys().all(|k| k.a == "7" || k.a == "8"), "only the organizations' cells change");
        assert_eq!(
            moved.cells.iter().filter(|(k, s)| k.view == CellView::Organization && k.a == "7" && s.n == -1).count(),
            2
        );
        // A new tier moves only the tier's cells.
        let retiered = Tally::of(TicketSubjects { tier: Some(crate::Tier::Standard), ..ticket }, &rows, &tz).minus(&t);
        assert!(retiered.cells.keys().all(|k| matches!(
            k.view,
            CellView::Tier
                | CellView::TierTeam
                | CellView::TierAgent
                | CellView::TierChannel
                | CellView::TierTeamAgent
                | CellView::TierTeamChannel
                | CellView::TierChannelAgent
                | CellView::TierChannelTeam
                | CellView::TierPriority
                | CellView::TierPriorityAgent
                | CellView::TierPriorityTeam
                | CellView::TierPriorityChannel
                | CellView::TierPriorityChannelAgent
                | CellView::TierPriorityChannelTeam
                | CellView::TagTier
                | CellView::TagTierAgent
                | CellView::TagTierTeam
                | CellView::TagTierChannel
        )));
        assert!(retiered.cells.iter().any(|(k, s)| k.view == CellView::Tier && k.a == "standard" && s.n == 1));
    }
}
