//! `switchboard bench cockpit`: the simulated department stored (tickets
//! per second), the KPI rollup built from the events (tickets and rows per
//! second) and kept up to date (one ticket measured again), and the
//! cockpit and the weekly report answered over it (p50, p99).

use std::time::Instant;

use domain::kpi::{Measure, Slice};
use hdrhistogram::Histogram;

use super::bench::ms;
use crate::config::Config;

async fn timed<F, Fut>(runs: usize, mut f: F) -> Result<Histogram<u64>, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut h = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    for _ in 0..runs {
        let started = Instant::now();
        f().await?;
        let _ = h.record(started.elapsed().as_micros().max(1) as u64);
    }
    Ok(h)
}

fn line(what: &str, h: &Histogram<u64>) {
    println!("  {what:<60} p50 {:>8.2} ms   p99 {:>8.2} ms", ms(h, 0.5), ms(h, 0.99));
}

/// Times the cockpit report for each (name, days, slice).
async fn time_slices(
    store: &std::sync::Arc<dyn store::Store>,
    now: i64,
    runs: usize,
    slices: &[(&str, i64, Slice)],
) -> Result<(), String> {
    let tz = jobs::cockpit::time_zone(store.as_ref()).await;
    // One untimed request first: it opens the pool's connections (the
    // cockpit's reads run at once, each on its own), as a running server
    // already has them.
    if let Some((_, days, slice)) = slices.first() {
        let window = jobs::cockpit::Window::days_to(now, *days, tz.clone());
        jobs::cockpit::report(store.as_ref(), now, &window, slice).await.map_err(|e| e.to_string())?;
    }
    for (what, days, slice) in slices {
        let window = jobs::cockpit::Window::days_to(now, *days, tz.clone());
        // Exact figures come from the measured rows, else from the cells.
        let first = jobs::cockpit::report(store.as_ref(), now, &window, slice).await.map_err(|e| e.to_string())?;
        let what = format!("{what} ({})", if first.exact { "rows" } else { "cells" });
        let h = timed(runs, || {
            let (store, window, slice) = (store.clone(), window.clone(), slice.clone());
            async move {
                jobs::cockpit::report(store.as_ref(), now, &window, &slice).await.map(|_| ()).map_err(|e| e.to_string())
            }
        })
        .await?;
        line(&what, &h);
    }
    Ok(())
}

/// The reports for senior management: the weekly and monthly report, the
/// resource request and the ROI report, as their pages and mails build them.
async fn time_reports(
    store: &std::sync::Arc<dyn store::Store>,
    now: i64,
    runs: usize,
    chosen: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    for (what, cadence) in
        [("weekly report", jobs::report::Cadence::Weekly), ("monthly report", jobs::report::Cadence::Monthly)]
    {
        if !chosen(what) {
            continue;
        }
        let h = timed(runs, || {
            let store = store.clone();
            async move { jobs::report::build(store.as_ref(), now, cadence).await.map(|_| ()).map_err(|e| e.to_string()) }
        })
        .await?;
        line(what, &h);
    }
    if chosen("resource request") {
        let h = timed(runs, || {
            let store = store.clone();
            async move {
                jobs::resources::resource_request(store.as_ref(), now).await.map(|_| ()).map_err(|e| e.to_string())
            }
        })
        .await?;
        line("resource request", &h);
    }
    if chosen("ROI report, 90 days") {
        let h = timed(runs, || {
            let store = store.clone();
            async move { jobs::roi::roi(store.as_ref(), now, 90).await.map(|_| ()).map_err(|e| e.to_string()) }
        })
        .await?;
        line("ROI report, 90 days", &h);
    }
    Ok(())
}

pub async fn cockpit(config: Config, tickets: usize, runs: usize) -> Result<(), String> {
    let err = |e: store::StoreError| e.to_string();
    let now = web::Clock::now(&web::SystemClock);
    let (store, backend, dir) = super::bench::bench_store(&config, "cockpit").await?;
    println!(
        "switchboard bench cockpit: {backend}, {} cores; the simulated department with {tickets} tickets over 90 days",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let started = Instant::now();
    let (_, _, _, made) = super::demo::seed(store.clone(), now, 7, tickets).await?;
    let secs = started.elapsed().as_secs_f64();
    println!("  simulated and stored {made} tickets in {secs:.1} s: {:.0} tickets/s", made as f64 / secs);

    let started = Instant::now();
    let measured = jobs::kpi::rebuild(store.as_ref(), |_| {}).await.map_err(err)?;
    let secs = started.elapsed().as_secs_f64();
    let rows = store.measure_rows(Measure::ALL, 0, now + 1, &Slice::default()).await.map_err(err)?.len();
    println!(
        "  rollup built from the events: {measured} tickets, {rows} rows in {secs:.1} s: {:.0} tickets/s, {:.3} ms per ticket",
        measured as f64 / secs,
        secs * 1000.0 / measured.max(1) as f64
    );

    // Keeping it current: a ticket measured again, as after each change
    // (read its events, measure, replace its rows). A view from as many
    // events is refused, so the rollup of these tickets is emptied first.
    let business = jobs::kpi::business_clock(store.as_ref()).await.map_err(err)?;
    let ids = store.ticket_ids_after(domain::TicketId(0), 1_000).await.map_err(err)?;
    let mut events = 0;
    for id in &ids {
        events += store.events(*id).await.map_err(err)?.len();
    }
    store.clear_measures(&jobs::kpi::zone_name(store.as_ref()).await).await.map_err(err)?;
    let mut next = ids.iter().copied();
    let h = timed(ids.len(), || {
        let id = next.next().unwrap_or(domain::TicketId(1));
        let (store, business) = (store.clone(), business.clone());
        async move { jobs::kpi::refresh(store.as_ref(), id, &business).await.map(|_| ()).map_err(|e| e.to_string()) }
    })
    .await?;
    line("a ticket measured again after a change", &h);
    println!(
        "    ({:.1} events per ticket: {:.3} ms per event at the median)",
        events as f64 / ids.len().max(1) as f64,
        ms(&h, 0.5) * ids.len().max(1) as f64 / events.max(1) as f64
    );
    jobs::kpi::rebuild(store.as_ref(), |_| {}).await.map_err(err)?;
    // As the hourly job leaves it: the days before yesterday folded.
    let started = Instant::now();
    let days = jobs::kpi::fold(store.as_ref(), now).await.map_err(err)?;
    println!("  {days} days' buckets folded into histograms in {:.1} s", started.elapsed().as_secs_f64());

    let teams = store.teams().await.map_err(err)?;
    let team = teams.first().map(|t| t.id.0);
    let agent = store
        .users(store::PageRequest { after: None, limit: 100 })
        .await
        .map_err(err)?
        .items
        .iter()
        .find(|u| u.role == domain::Role::Agent)
        .map(|u| u.id.0);
    let slices = [
        ("cockpit, department, 30 days", 30, Slice::default()),
        ("cockpit, one team, 30 days", 30, Slice { team_id: team, ..Slice::default() }),
        ("cockpit, one agent, 7 days", 7, Slice { agent_id: agent, ..Slice::default() }),
        ("cockpit, department, 90 days", 90, Slice::default()),
    ];
    time_slices(&store, now, runs, &slices).await?;
    time_reports(&store, now, runs, &|_| true).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A ticket's measured rows as a busy department makes them (5 teams of
/// 10 agents, 50 customer organizations, 20 topics' tags): created, a
/// first reply, sometimes a next reply, solved with its times and SLA
/// outcomes. Deterministic in `i`.
fn synthetic(
    i: usize,
    now: i64,
    tickets: usize,
    days: i64,
) -> (domain::kpi::TicketFacts, Vec<domain::kpi::MeasureRow>) {
    use domain::kpi::{MeasureRow, TicketFacts};
    use domain::{Channel, Priority, Status};
    const MIN: i64 = 60_000;
    let span = days * 24 * 60 * MIN;
    // splitmix64's finisher over (ticket, field), so fields are independent:
    // a multiply and rotate left team, tag and organization correlated (an
    // organization's tickets mostly one team's, a tag in two teams only).
    let mix = |k: u64| {
        let mut z = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % 1_000_003
    };
    let created = now - span + (i as i64 * span / tickets.max(1) as i64);
    let team = (mix(1) % 5) as i64 + 1;
    let agent = team * 100 + (mix(2) % 10) as i64;
    let channel = [Channel::Email, Channel::Email, Channel::Chat, Channel::Web, Channel::Phone][(mix(3) % 5) as usize];
    let priority = [Priority::Normal, Priority::Normal, Priority::High, Priority::Low][(mix(4) % 4) as usize];
    let frt = MIN + (mix(5) as i64 % (8 * 60)) * MIN;
    let full = frt + (mix(6) as i64 % (72 * 60)) * MIN;
    let row = |measure, at, value: i64, agent_id| MeasureRow {
        measure,
        at,
        value,
        business: value * 2 / 3,
        team_id: Some(team),
        agent_id,
        channel,
        priority,
    };
    let mut rows = vec![
        row(Measure::Created, created, 0, None),
        row(Measure::FirstReply, created + frt, frt, Some(agent)),
        row(Measure::SlaFirstReply, created + frt, i64::from(frt <= 4 * 60 * MIN), Some(agent)),
    ];
    if mix(7) % 3 == 0 {
        let next = (mix(8) as i64 % (6 * 60)) * MIN;
        rows.push(row(Measure::NextReply, created + frt + next, next, Some(agent)));
    }
    let solved = created + full;
    let solved_now = solved < now;
    if solved_now {
        for (m, v) in [
            (Measure::FirstResolution, full),
            (Measure::FullResolution, full),
            (Measure::RequesterWait, full * 2 / 3),
            (Measure::AgentWork, full / 2),
            (Measure::AgentWait, full / 3),
            (Measure::OneTouch, i64::from(mix(9) % 2 == 0)),
            (Measure::NoFurtherContact, i64::from(mix(10) % 3 != 0)),
            (Measure::Reopened, i64::from(mix(11) % 20 == 0)),
            (Measure::SlaResolution, i64::from(full <= 48 * 60 * MIN)),
        ] {
            rows.push(row(m, solved, v, Some(agent)));
        }
    }
    let facts = TicketFacts {
        ticket_id: i as i64 + 1,
        created_at: created,
        status: if solved_now { Status::Solved } else { Status::Open },
        channel,
        priority,
        team_id: Some(team),
        agent_id: Some(agent),
        requester_id: Some((mix(12) % 50_000) as i64 + 1),
        // Four in five tickets from one of 50 customer organizations; each a topic's tag.
        organization_id: (mix(13) % 5 != 0).then(|| (mix(14) % 50) as i64 + 1),
        tags: vec![format!("topic{}", mix(15) % 20)],
        merged: false,
        public_replies: 1,
        reopens: 0,
        solved_at: solved_now.then_some(solved),
    };
    (facts, rows)
}

/// Tickets a page of the synthetic rollup, as a rebuild's (whose cells
/// are summed over pages before they are written).
const BATCH: usize = 1_000;

/// `bench cockpit --rollup-only`: the rollup (rows and cells) of `tickets`
/// synthetic tickets written straight into storage, then the cockpit timed.
pub async fn rollup_only(
    config: Config,
    tickets: usize,
    runs: usize,
    keep: Option<std::path::PathBuf>,
    days: i64,
    only: Option<&str>,
) -> Result<(), String> {
    let days = days.max(1);
    let err = |e: store::StoreError| e.to_string();
    let (store, backend, dir): (std::sync::Arc<dyn store::Store>, _, _) = match (&keep, &config.database_url) {
        // PostgreSQL keeps the rollup in the given database; the directory
        // remembers when it was written.
        (Some(dir), Some(_)) => {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            (crate::storage::open(&config).await?, "PostgreSQL (kept)", dir.clone())
        }
        (Some(dir), None) => {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            let store = store_sqlite::open(&dir.join("bench.db")).await.map_err(err)?;
            (std::sync::Arc::new(store), "SQLite (kept)", dir.clone())
        }
        (None, _) => super::bench::bench_store(&config, "cockpit-rollup").await?,
    };
    // A kept store remembers when it was written, so its year still ends "now".
    let stamp = dir.join("written-at");
    let written = std::fs::read_to_string(&stamp).ok().and_then(|s| s.trim().parse::<i64>().ok());
    let now = written.unwrap_or_else(|| web::Clock::now(&web::SystemClock));
    println!(
        "switchboard bench cockpit --rollup-only: {backend}, {} cores; {tickets} tickets' measured rows over {days} days (as {:.1}M a year)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        tickets as f64 * 365.0 / days as f64 / 1e6
    );
    if written.is_some() {
        println!("  rollup kept from an earlier run in {}", dir.display());
        let days = store.fold_buckets(i64::MAX).await.map_err(err)?;
        if days > 0 {
            println!("  folded {days} days' buckets into histograms");
        }
        return time_synthetic(&store, now, runs, only).await;
    }
    let mut pages = jobs::kpi::RebuildPages::start(store.as_ref(), &jobs::kpi::zone_name(store.as_ref()).await)
        .await
        .map_err(err)?;
    // The 50 organizations the tickets belong to, one in four VIP and one
    // in four priority (the tier slice reads their tickets' tier).
    for i in 1..=50 {
        if store.organization(domain::OrganizationId(i)).await.map_err(err)?.is_none() {
            let org = domain::Organization {
                id: domain::OrganizationId(0),
                name: format!("Bench organization {i}"),
                domains: vec![],
                tier: [domain::Tier::Standard, domain::Tier::Standard, domain::Tier::Priority, domain::Tier::Vip]
                    [(i % 4) as usize],
                notes: String::new(),
                shares_tickets: false,
                created_at: now,
                updated_at: now,
            };
            store.create_organization(org, None).await.map_err(err)?;
        }
    }
    let started = Instant::now();
    let mut rows = 0;
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..tickets {
        let (facts, r) = synthetic(i, now, tickets, days);
        rows += r.len();
        batch.push((facts, r, 10));
        if batch.len() == BATCH || i + 1 == tickets {
            pages.save(store.as_ref(), std::mem::take(&mut batch)).await.map_err(err)?;
        }
    }
    pages.finish(store.as_ref()).await.map_err(err)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  rollup written as a rebuild: {tickets} tickets, {rows} rows (and their cells and histograms) in {secs:.1} s: {:.0} tickets/s",
        tickets as f64 / secs
    );
    store.optimize().await.map_err(err)?;
    if keep.is_some() {
        std::fs::write(&stamp, now.to_string()).map_err(|e| e.to_string())?;
    }
    time_synthetic(&store, now, runs, only).await?;
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// The cockpit over the synthetic rollup, slice by slice.
async fn time_synthetic(
    store: &std::sync::Arc<dyn store::Store>,
    now: i64,
    runs: usize,
    only: Option<&str>,
) -> Result<(), String> {
    let slices = [
        ("cockpit, department, 30 days", 30, Slice::default()),
        ("cockpit, one team, 30 days", 30, Slice { team_id: Some(1), ..Slice::default() }),
        ("cockpit, one agent, 7 days", 7, Slice { agent_id: Some(101), ..Slice::default() }),
        ("cockpit, department, 90 days", 90, Slice::default()),
        ("cockpit, email channel, 30 days", 30, Slice { channel: Some(domain::Channel::Email), ..Slice::default() }),
        ("cockpit, high priority, 30 days", 30, Slice { priority: Some(domain::Priority::High), ..Slice::default() }),
        ("cockpit, one organization, 30 days", 30, Slice { organization_id: Some(1), ..Slice::default() }),
        ("cockpit, one tag, 30 days", 30, Slice { tag: Some("topic1".into()), ..Slice::default() }),
        ("cockpit, VIP tier, 30 days", 30, Slice { tier: Some(domain::Tier::Vip), ..Slice::default() }),
        (
            "cockpit, a team's email, 7 days",
            7,
            Slice { team_id: Some(1), channel: Some(domain::Channel::Email), ..Slice::default() },
        ),
        (
            "cockpit, a team's email, 30 days",
            30,
            Slice { team_id: Some(1), channel: Some(domain::Channel::Email), ..Slice::default() },
        ),
        (
            "cockpit, a team's high priority, 30 days",
            30,
            Slice { team_id: Some(1), priority: Some(domain::Priority::High), ..Slice::default() },
        ),
        ("cockpit, a team's agent, 7 days", 7, Slice { team_id: Some(1), agent_id: Some(101), ..Slice::default() }),
        // Combinations the cells do not hold (an agent's with anything, an
        // organization's channel) are read from the rows.
        (
            "cockpit, an organization's team, 30 days",
            30,
            Slice { organization_id: Some(1), team_id: Some(1), ..Slice::default() },
        ),
        (
            "cockpit, an organization's email, 30 days",
            30,
            Slice { organization_id: Some(1), channel: Some(domain::Channel::Email), ..Slice::default() },
        ),
        (
            "cockpit, a tag's team, 7 days",
            7,
            Slice { tag: Some("topic1".into()), team_id: Some(1), ..Slice::default() },
        ),
        (
            "cockpit, a tag's team, 30 days",
            30,
            Slice { tag: Some("topic1".into()), team_id: Some(1), ..Slice::default() },
        ),
        (
            "cockpit, a tier's team, 7 days",
            7,
            Slice { tier: Some(domain::Tier::Vip), team_id: Some(1), ..Slice::default() },
        ),
        (
            "cockpit, a tier's team, 30 days",
            30,
            Slice { tier: Some(domain::Tier::Vip), team_id: Some(1), ..Slice::default() },
        ),
        (
            "cockpit, a tier's email, 30 days",
            30,
            Slice { tier: Some(domain::Tier::Vip), channel: Some(domain::Channel::Email), ..Slice::default() },
        ),
        (
            "cockpit, a tag's high priority, 30 days",
            30,
            Slice { tag: Some("topic1".into()), priority: Some(domain::Priority::High), ..Slice::default() },
        ),
        (
            "cockpit, a tier's high priority, 30 days",
            30,
            Slice { tier: Some(domain::Tier::Vip), priority: Some(domain::Priority::High), ..Slice::default() },
        ),
        (
            "cockpit, high priority's email, 30 days",
            30,
            Slice { priority: Some(domain::Priority::High), channel: Some(domain::Channel::Email), ..Slice::default() },
        ),
        (
            "cockpit, a tag's VIP tier, 30 days",
            30,
            Slice { tag: Some("topic1".into()), tier: Some(domain::Tier::Vip), ..Slice::default() },
        ),
        // Three large fields: with a tag, the tag's rows; a tier's
        // priority's channel, its cells.
        (
            "cockpit, a tag's VIP tier's high priority, 30 days",
            30,
            Slice {
                tag: Some("topic1".into()),
                tier: Some(domain::Tier::Vip),
                priority: Some(domain::Priority::High),
                ..Slice::default()
            },
        ),
        (
            "cockpit, a VIP tier's high priority's email, 30 days",
            30,
            Slice {
                tier: Some(domain::Tier::Vip),
                priority: Some(domain::Priority::High),
                channel: Some(domain::Channel::Email),
                ..Slice::default()
            },
        ),
        // Three and four fields with a team: the team's rows, through its index.
        (
            "cockpit, a team's VIP tier's high priority, 30 days",
            30,
            Slice {
                team_id: Some(1),
                tier: Some(domain::Tier::Vip),
                priority: Some(domain::Priority::High),
                ..Slice::default()
            },
        ),
        (
            "cockpit, a team's VIP tier's high priority's email, 30 days",
            30,
            Slice {
                team_id: Some(1),
                tier: Some(domain::Tier::Vip),
                priority: Some(domain::Priority::High),
                channel: Some(domain::Channel::Email),
                ..Slice::default()
            },
        ),
        (
            "cockpit, an agent's email, 30 days",
            30,
            Slice { agent_id: Some(101), channel: Some(domain::Channel::Email), ..Slice::default() },
        ),
    ];
    let chosen = |what: &str| only.is_none_or(|o| what.contains(o));
    let slices: Vec<_> = slices.into_iter().filter(|(what, _, _)| chosen(what)).collect();
    time_slices(store, now, runs, &slices).await?;
    time_reports(store, now, runs, &chosen).await
}
