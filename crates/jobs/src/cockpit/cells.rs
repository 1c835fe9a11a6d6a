//! The cockpit from the rollup's cells, for the slices they hold (the
//! department, one team, one agent, one channel, one priority, one
//! organization, one tag, one tier, a team's channel or priority, a
//! priority's channel, a tag's or a tier's team, channel or priority, a
//! tag's tier, a tier's priority's channel): a few thousand summed cells instead of every measured row, so a big
//! department's dashboards stay fast.

use std::collections::BTreeMap;

use domain::Channel;
use domain::kpi::cells::{
    CellKey, CellQuery, CellSums, CellView, Clock, ORGANIZATION_VIEWS, TAG_VIEWS, TIER_VIEWS, day_date, day_number,
    is_duration, pair,
};
use domain::kpi::{Measure, Slice};
use insight::kpi::{CellFigures, Distribution, Rate, TicketKpis, histogram_of_buckets};
use store::{Store, StoreError};

use super::{
    Bucket, ChannelHandle, DayFigures, FIRST_REPLY_BUCKETS, Figures, Handle, SLA_MEASURES, Scorecard, Window, edges,
};

/// Which subject of a view's cells a group is keyed by.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    A,
    B,
}

/// Where a group of scorecards (or the channel mix) is read: a view,
/// the subjects it is limited to, and which subject names the card.
#[derive(Clone)]
struct Source {
    view: CellView,
    a: Option<String>,
    b: Option<String>,
    by: Side,
}

/// Where each part of the cockpit is read for a slice.
struct Plan {
    view: CellView,
    a: Option<String>,
    b: Option<String>,
    agents: Source,
    teams: Source,
    channels: Source,
}

/// Where a pair slice's agents, teams or channels are read: a view of
/// their own keyed by the pair (`pair(a, b)`), or, when the group is one
/// of the pair's own subjects (a team's channel's teams), the slice's
/// view itself, by that side.
enum Group {
    Pair(CellView),
    Own(Side),
}

/// A slice of two subjects kept as a view of its own (a = `first`,
/// b = `second`).
fn pair_plan(view: CellView, first: &str, second: &str, agents: Group, teams: Group, channels: Group) -> Plan {
    let both = pair(first, second);
    let (a, b) = (Some(first.to_string()), Some(second.to_string()));
    let source = |group| match group {
        Group::Pair(cards) => Source { view: cards, a: Some(both.clone()), b: None, by: Side::B },
        Group::Own(by) => Source { view, a: a.clone(), b: b.clone(), by },
    };
    let (agents, teams, channels) = (source(agents), source(teams), source(channels));
    Plan { view, a, b, agents, teams, channels }
}

fn plan(slice: &Slice) -> Option<Plan> {
    let src = |view, a: Option<String>, b: Option<String>, by| Source { view, a, b, by };
    if let Some(channel) = slice.channel
        && *slice == (Slice { channel: Some(channel), ..Slice::default() })
    {
        let c = Some(channel.as_str().to_string());
        return Some(Plan {
            view: CellView::Channel,
            a: c.clone(),
            b: None,
            agents: src(CellView::AgentChannel, None, c.clone(), Side::A),
            teams: src(CellView::TeamChannel, None, c.clone(), Side::A),
            channels: src(CellView::Channel, c, None, Side::A),
        });
    }
    if let Some(priority) = slice.priority
        && *slice == (Slice { priority: Some(priority), ..Slice::default() })
    {
        let p = Some(priority.as_str().to_string());
        return Some(Plan {
            view: CellView::Priority,
            a: p.clone(),
            b: None,
            agents: src(CellView::AgentPriority, None, p.clone(), Side::A),
            teams: src(CellView::TeamPriority, None, p.clone(), Side::A),
            channels: src(CellView::PriorityChannel, p, None, Side::B),
        });
    }
    // A priority's channel, a tag's tier: their own views, their agents'
    // and teams' cards (and a tag's tier's channel mix) keyed by both.
    if let (Some(channel), Some(priority)) = (slice.channel, slice.priority)
        && *slice == (Slice { channel: Some(channel), priority: Some(priority), ..Slice::default() })
    {
        return Some(pair_plan(
            CellView::PriorityChannel,
            priority.as_str(),
            channel.as_str(),
            Group::Pair(CellView::PriorityChannelAgent),
            Group::Pair(CellView::PriorityChannelTeam),
            Group::Own(Side::B),
        ));
    }
    // A tier's priority's channel: three large fields, a = tier and
    // priority, cards keyed by all three.
    if let (Some(tier), Some(priority), Some(channel)) = (slice.tier, slice.priority, slice.channel)
        && *slice == (Slice { tier: Some(tier), priority: Some(priority), channel: Some(channel), ..Slice::default() })
    {
        return Some(pair_plan(
            CellView::TierPriorityChannel,
            &pair(tier.as_str(), priority.as_str()),
            channel.as_str(),
            Group::Pair(CellView::TierPriorityChannelAgent),
            Group::Pair(CellView::TierPriorityChannelTeam),
            Group::Own(Side::B),
        ));
    }
    if let (Some(tag), Some(tier)) = (&slice.tag, slice.tier)
        && *slice == (Slice { tag: Some(tag.clone()), tier: Some(tier), ..Slice::default() })
    {
        return Some(pair_plan(
            CellView::TagTier,
            tag,
            tier.as_str(),
            Group::Pair(CellView::TagTierAgent),
            Group::Pair(CellView::TagTierTeam),
            Group::Pair(CellView::TagTierChannel),
        ));
    }
    // An organization, a tag or a tier: facts of the ticket, kept as the
    // slice's own views (a = the organization, tag or tier; cards and mix
    // by b), and so are a tag's or a tier's teams (a = the fact and team
    // for their cards and mix; an organization's team is read from its
    // rows).
    let fact = match (slice.organization_id, &slice.tag, slice.tier) {
        (Some(o), None, None) => Some((o.to_string(), ORGANIZATION_VIEWS)),
        (None, Some(t), None) => Some((t.clone(), TAG_VIEWS)),
        (None, None, Some(t)) => Some((t.as_str().to_string(), TIER_VIEWS)),
        _ => None,
    };
    if let Some((name, views)) = fact {
        let rest = Slice { organization_id: None, tag: None, tier: None, ..slice.clone() };
        let a = Some(name.clone());
        if rest == Slice::default() {
            return Some(Plan {
                view: views.whole,
                a: a.clone(),
                b: None,
                agents: src(views.agents, a.clone(), None, Side::B),
                teams: src(views.teams, a.clone(), None, Side::B),
                channels: src(views.channels, a, None, Side::B),
            });
        }
        // A tag's or a tier's team, channel or priority: the fact's view of
        // them, their agents', teams' or channels' keyed by both.
        if let (Some(team), Some(team_slice)) = (rest.team_id, views.team_slice)
            && rest == (Slice { team_id: Some(team), ..Slice::default() })
        {
            return Some(pair_plan(
                views.teams,
                &name,
                &team.to_string(),
                Group::Pair(team_slice.agents),
                Group::Own(Side::B),
                Group::Pair(team_slice.channels),
            ));
        }
        if let (Some(channel), Some(channel_slice)) = (rest.channel, views.channel_slice)
            && rest == (Slice { channel: Some(channel), ..Slice::default() })
        {
            return Some(pair_plan(
                views.channels,
                &name,
                channel.as_str(),
                Group::Pair(channel_slice.agents),
                Group::Pair(channel_slice.teams),
                Group::Own(Side::B),
            ));
        }
        if let (Some(priority), Some(priority_slice)) = (rest.priority, views.priority_slice)
            && rest == (Slice { priority: Some(priority), ..Slice::default() })
        {
            return Some(pair_plan(
                priority_slice.whole,
                &name,
                priority.as_str(),
                Group::Pair(priority_slice.agents),
                Group::Pair(priority_slice.teams),
                Group::Pair(priority_slice.channels),
            ));
        }
        return None;
    }
    // A team's channel or priority: its own view, its agents' cards (and
    // a priority's channel mix) keyed by both.
    if let (Some(team), Some(channel)) = (slice.team_id, slice.channel)
        && *slice == (Slice { team_id: Some(team), channel: Some(channel), ..Slice::default() })
    {
        return Some(pair_plan(
            CellView::TeamChannel,
            &team.to_string(),
            channel.as_str(),
            Group::Pair(CellView::TeamChannelAgent),
            Group::Own(Side::A),
            Group::Own(Side::B),
        ));
    }
    if let (Some(team), Some(priority)) = (slice.team_id, slice.priority)
        && *slice == (Slice { team_id: Some(team), priority: Some(priority), ..Slice::default() })
    {
        return Some(pair_plan(
            CellView::TeamPriority,
            &team.to_string(),
            priority.as_str(),
            Group::Pair(CellView::TeamPriorityAgent),
            Group::Own(Side::A),
            Group::Pair(CellView::TeamPriorityChannel),
        ));
    }
    let only = |s: &Slice| Slice { team_id: s.team_id, agent_id: s.agent_id, ..Slice::default() } == *s;
    if !only(slice) {
        return None;
    }
    match (slice.team_id, slice.agent_id) {
        (None, None) => Some(Plan {
            view: CellView::All,
            a: None,
            b: None,
            agents: src(CellView::Agent, None, None, Side::A),
            teams: src(CellView::Team, None, None, Side::A),
            channels: src(CellView::Channel, None, None, Side::A),
        }),
        (Some(t), None) => {
            let t = Some(t.to_string());
            Some(Plan {
                view: CellView::Team,
                a: t.clone(),
                b: None,
                agents: src(CellView::TeamAgent, t.clone(), None, Side::B),
                teams: src(CellView::Team, t.clone(), None, Side::A),
                channels: src(CellView::TeamChannel, t, None, Side::B),
            })
        }
        (None, Some(x)) => {
            let x = Some(x.to_string());
            Some(Plan {
                view: CellView::Agent,
                a: x.clone(),
                b: None,
                agents: src(CellView::Agent, x.clone(), None, Side::A),
                teams: src(CellView::TeamAgent, None, x.clone(), Side::A),
                channels: src(CellView::AgentChannel, x, None, Side::B),
            })
        }
        (Some(_), Some(_)) => None,
    }
}

fn query(view: CellView, a: Option<String>, b: Option<String>, measures: Vec<Measure>, days: (i64, i64)) -> CellQuery {
    CellQuery { view, a, b, measures, first_day: days.0, last_day: days.1, by_day: false, clock: None }
}

fn id_of(subject: &str) -> Option<i64> {
    subject.parse().ok()
}

fn durations() -> Vec<Measure> {
    Measure::ALL.iter().copied().filter(|m| is_duration(*m)).collect()
}

/// The rows that reading the slice from the rows visits, when they are
/// more than the slice's own: the measured rows have an index by team,
/// by agent and by organization and a copy keyed by tag
/// (`KpiStore::measure_rows`), so a team's channel reads the team's rows,
/// a tag's tier the tag's, and a slice with none of the four (a
/// channel's priority) the department's.
fn visited(slice: &Slice) -> Option<(CellView, Option<String>)> {
    if slice.agent_id.is_some() || slice.organization_id.is_some() {
        return None;
    }
    if let Some(tag) = &slice.tag {
        return (*slice != Slice { tag: Some(tag.clone()), ..Slice::default() })
            .then(|| (CellView::Tag, Some(tag.clone())));
    }
    match slice.team_id {
        Some(t) if *slice == (Slice { team_id: Some(t), ..Slice::default() }) => None,
        Some(t) => Some((CellView::Team, Some(t.to_string()))),
        None if *slice == Slice::default() => None,
        None => Some((CellView::All, None)),
    }
}

/// The slice's figures from the cells, or `None` when the cells do not
/// hold the slice, count another zone's days, or reading the slice's rows
/// would visit at most `exact_rows` rows for the two periods (then the
/// rows are read, exactly: a small slice of a small department, not a
/// small slice of a large one, whose rows have no index of their own).
pub(super) async fn figures(
    store: &dyn Store,
    window: &Window,
    slice: &Slice,
    exact_rows: i64,
) -> Result<Option<Figures>, StoreError> {
    let Some(plan) = plan(slice) else { return Ok(None) };
    if store.cells_zone().await?.as_deref() != Some(window.tz.iana_name().unwrap_or("UTC")) {
        return Ok(None);
    }
    let before = window.previous();
    let current = (day_number(window.first), day_number(window.last));
    let earlier = (day_number(before.first), day_number(before.last));
    let mut daily = query(plan.view, plan.a.clone(), plan.b.clone(), Measure::ALL.to_vec(), (earlier.0, current.1));
    daily.by_day = true;
    let spread = |days: (i64, i64)| query(plan.view, plan.a.clone(), plan.b.clone(), durations(), days);
    // The days: arrivals and solves from the cells, each day's median first
    // reply from its buckets.
    let mut per_day = query(plan.view, plan.a.clone(), plan.b.clone(), vec![Measure::FirstReply], current);
    per_day.by_day = true;
    per_day.clock = Some(Clock::Calendar);
    let mix = &plan.channels;
    let mix_of = |m: Measure| query(mix.view, mix.a.clone(), mix.b.clone(), vec![m], current);
    // Independent reads, at once: each its own connection (SQLite's
    // readers, PostgreSQL's pool), so a dashboard waits for the slowest
    // rather than for their sum. A slice small enough for the rows wastes
    // them, but then they are small too.
    let (spread_now, spread_then) = (spread(current), spread(earlier));
    let (mix_created, mix_handle) = (mix_of(Measure::Created), mix_of(Measure::HandleTime));
    let (cells, now_buckets, then_buckets, frt_buckets, mix_created, mix_handle, agents, teams) = tokio::try_join!(
        store.kpi_cells(&daily),
        store.kpi_buckets(&spread_now),
        store.kpi_buckets(&spread_then),
        store.kpi_buckets(&per_day),
        store.kpi_cells(&mix_created),
        store.kpi_cells(&mix_handle),
        scorecards(store, &plan.agents, current),
        scorecards(store, &plan.teams, current),
    )?;
    let own: i64 = cells.iter().map(|(_, s)| s.n).sum();
    if own <= exact_rows {
        let read = match visited(slice) {
            None => own,
            Some((view, a)) => {
                let wide = query(view, a, None, Measure::ALL.to_vec(), (earlier.0, current.1));
                store.kpi_cells(&wide).await?.iter().map(|(_, s)| s.n).sum()
            }
        };
        if read <= exact_rows {
            return Ok(None);
        }
    }

    let period = |days: (i64, i64)| -> BTreeMap<Measure, CellSums> {
        let mut sums: BTreeMap<Measure, CellSums> = BTreeMap::new();
        for (k, s) in cells.iter().filter(|(k, _)| k.day >= days.0 && k.day <= days.1) {
            add(sums.entry(k.measure).or_default(), s);
        }
        sums
    };
    let now = CellFigures { sums: period(current), buckets: grouped(now_buckets) };
    let then = CellFigures { sums: period(earlier), buckets: grouped(then_buckets) };

    let mut frt_by_day: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for (k, n) in frt_buckets {
        frt_by_day.entry(k.day).or_default().push((k.lower, n));
    }
    let on = |day: i64, m: Measure| -> CellSums {
        let mut s = CellSums::default();
        for (_, c) in cells.iter().filter(|(k, _)| k.day == day && k.measure == m) {
            add(&mut s, c);
        }
        s
    };
    let days = (current.0..=current.1)
        .map(|day| {
            let frt = on(day, Measure::FirstReply);
            let sla = SLA_MEASURES.iter().map(|m| on(day, *m)).fold((0, 0), |(y, n), s| (y + s.value, n + s.n));
            DayFigures {
                date: day_date(day).to_string(),
                created: on(day, Measure::Created).n,
                solved: on(day, Measure::OneTouch).n,
                first_reply_median: frt_by_day
                    .get(&day)
                    .and_then(|b| Distribution::of_buckets(b, frt.value))
                    .map(|d| d.median),
                sla: Rate::new(sla.0, sla.1),
            }
        })
        .collect();
    let mut arrivals = vec![vec![0i64; 24]; 7];
    for (k, s) in cells.iter().filter(|(k, _)| k.measure == Measure::Created && k.day >= current.0) {
        let wd = day_date(k.day).weekday().to_monday_zero_offset() as usize;
        if let Some(c) = arrivals.get_mut(wd).and_then(|h| h.get_mut(k.hour.clamp(0, 23) as usize)) {
            *c += s.n;
        }
    }

    let mut channels: BTreeMap<Channel, i64> = BTreeMap::new();
    for (k, s) in mix_created {
        let name = if mix.by == Side::A { &k.a } else { &k.b };
        if let (Ok(c), true) = (Channel::parse("channel", name), s.n != 0) {
            *channels.entry(c).or_default() += s.n;
        }
    }
    let mut handle_by_channel = BTreeMap::new();
    for (k, s) in mix_handle {
        let name = if mix.by == Side::A { &k.a } else { &k.b };
        if let (Ok(c), true) = (Channel::parse("channel", name), s.n != 0) {
            add(handle_by_channel.entry(c).or_default(), &s);
        }
    }
    let first_reply = now.buckets.get(&(Measure::FirstReply, Clock::Calendar)).cloned().unwrap_or_default();
    Ok(Some(Figures {
        handle_by_channel: handle_by_channel
            .into_iter()
            .map(|(channel, s)| ChannelHandle { channel, handle: handle(Some(&s)) })
            .collect(),
        kpis: TicketKpis::of_cells(&now),
        previous: TicketKpis::of_cells(&then),
        days,
        first_reply_histogram: histogram_of_buckets(&first_reply, &edges(&FIRST_REPLY_BUCKETS)),
        agents,
        teams,
        channels: channels.into_iter().map(|(c, n)| Bucket { label: c.as_str().into(), count: n }).collect(),
        arrivals,
    }))
}

/// Per local day of the window, how many rows of each measure the
/// department has, from the cells; `None` when the cells count another
/// zone's days.
pub(crate) async fn daily_counts(
    store: &dyn Store,
    window: &Window,
    measures: &[Measure],
) -> Result<Option<BTreeMap<jiff::civil::Date, BTreeMap<Measure, i64>>>, StoreError> {
    if store.cells_zone().await?.as_deref() != Some(window.tz.iana_name().unwrap_or("UTC")) {
        return Ok(None);
    }
    let mut q =
        query(CellView::All, None, None, measures.to_vec(), (day_number(window.first), day_number(window.last)));
    q.by_day = true;
    let mut out: BTreeMap<jiff::civil::Date, BTreeMap<Measure, i64>> = BTreeMap::new();
    for (k, s) in store.kpi_cells(&q).await? {
        *out.entry(day_date(k.day)).or_default().entry(k.measure).or_default() += s.n;
    }
    Ok(Some(out))
}

fn handle(s: Option<&CellSums>) -> Handle {
    s.map(|s| Handle::new(s.n, s.value)).unwrap_or_default()
}

fn add(to: &mut CellSums, s: &CellSums) {
    *to += *s;
}

fn grouped(buckets: Vec<(domain::kpi::cells::BucketKey, i64)>) -> BTreeMap<(Measure, Clock), Vec<(i64, i64)>> {
    let mut out: BTreeMap<(Measure, Clock), Vec<(i64, i64)>> = BTreeMap::new();
    for (k, n) in buckets {
        out.entry((k.measure, k.clock)).or_default().push((k.lower, n));
    }
    out
}

/// One card per subject with work other than arrivals, as the rows give them.
async fn scorecards(store: &dyn Store, src: &Source, days: (i64, i64)) -> Result<Vec<Scorecard>, StoreError> {
    // Every measure: a card is shown for any work, as from the rows.
    let measures = Measure::ALL.to_vec();
    let who = |k: &CellKey| id_of(if src.by == Side::A { &k.a } else { &k.b });
    let mut cards: BTreeMap<Option<i64>, CellFigures> = BTreeMap::new();
    let mut spread =
        query(src.view, src.a.clone(), src.b.clone(), vec![Measure::FirstReply, Measure::FullResolution], days);
    spread.clock = Some(Clock::Calendar);
    let all = query(src.view, src.a.clone(), src.b.clone(), measures, days);
    let (sums, buckets) = tokio::try_join!(store.kpi_cells(&all), store.kpi_buckets(&spread))?;
    for (k, s) in sums {
        if s.n != 0 {
            add(cards.entry(who(&k)).or_default().sums.entry(k.measure).or_default(), &s);
        }
    }
    for (k, n) in buckets {
        let subject = if src.by == Side::A { &k.a } else { &k.b };
        if let Some(card) = cards.get_mut(&id_of(subject)) {
            card.buckets.entry((k.measure, k.clock)).or_default().push((k.lower, n));
        }
    }
    Ok(cards
        .into_iter()
        .filter(|(_, c)| c.sums.iter().any(|(m, s)| *m != Measure::Created && s.n > 0))
        .map(|(id, c)| {
            let frt = c.buckets.get(&(Measure::FirstReply, Clock::Calendar)).cloned().unwrap_or_default();
            Scorecard {
                id,
                solved: c.count(Measure::OneTouch),
                replies: c.count(Measure::FirstReply) + c.count(Measure::NextReply),
                first_reply: c.distribution(Measure::FirstReply, Clock::Calendar),
                full_resolution: c.distribution(Measure::FullResolution, Clock::Calendar),
                one_touch: c.rate(Measure::OneTouch),
                reopen_rate: c.rate(Measure::Reopened),
                sla_first_reply: c.rate(Measure::SlaFirstReply),
                first_reply_histogram: histogram_of_buckets(&frt, &edges(&FIRST_REPLY_BUCKETS)),
                csat: None,
                handle: handle(c.sums.get(&Measure::HandleTime)),
                workload: None,
            }
        })
        .collect())
}
