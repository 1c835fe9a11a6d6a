//! Keeping the KPI rollup current: a ticket's measured rows are recomputed
//! from its events whenever its SLA check runs (after every change and at
//! each due time, so the SLA outcomes the check records are in), and the
//! whole rollup can be rebuilt from the events.

use domain::kpi::cells::Tally;
use domain::{BusinessClock, TicketId};
use serde::{Deserialize, Serialize};
use store::{Store, StoreError};

/// Settings key of the KPI settings.
pub const SETTINGS_KEY: &str = "kpi_settings";

/// What the KPIs count by: `calendar_id` is the calendar of business time
/// (none: the first calendar, or around the clock when there is none);
/// `targets` are the manager's, per KPI and team.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KpiSettings {
    #[serde(default)]
    pub calendar_id: Option<i64>,
    #[serde(default)]
    pub targets: Vec<domain::kpi::KpiTarget>,
    /// Staffing assumptions of the resource request: minutes of work per
    /// ticket (default 15), the first reply target (default 60 minutes)
    /// and the share of paid time not available (default 0.3).
    #[serde(default)]
    pub handle_minutes: Option<f64>,
    #[serde(default)]
    pub first_reply_target_minutes: Option<f64>,
    #[serde(default)]
    pub shrinkage: Option<f64>,
    /// What support costs, for cost per ticket and the ROI report (cents).
    #[serde(default)]
    pub costs: Costs,
}

/// What support costs: each agent's hourly cost and paid hours a week,
/// and the tools and overhead a month (cents).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Costs {
    #[serde(default)]
    pub agent_hourly_cents: i64,
    #[serde(default)]
    pub agent_hours_per_week: Option<f64>,
    #[serde(default)]
    pub tools_monthly_cents: i64,
    #[serde(default)]
    pub overhead_monthly_cents: i64,
}

pub async fn settings(store: &dyn Store) -> Result<KpiSettings, StoreError> {
    Ok(store.setting(SETTINGS_KEY).await?.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

/// How many active staff have the agent role (the people a staffing or
/// cost figure counts).
pub async fn active_agents(store: &dyn Store) -> Result<u32, StoreError> {
    Ok(store
        .users(store::PageRequest { after: None, limit: 10_000 })
        .await?
        .items
        .iter()
        .filter(|u| u.active && u.role == domain::Role::Agent)
        .count() as u32)
}

/// The department's business hours for the KPIs.
pub async fn business_clock(store: &dyn Store) -> Result<BusinessClock, StoreError> {
    let chosen = match settings(store).await?.calendar_id {
        Some(id) => store.calendar(domain::CalendarId(id)).await?,
        None => store.calendars().await?.into_iter().next(),
    };
    Ok(chosen.and_then(|c| BusinessClock::new(&c).ok()).unwrap_or_else(BusinessClock::always))
}

/// Measures one ticket from its events and stores the result (unless a
/// view from as many events is stored already). False when the ticket has
/// no events.
pub async fn refresh(store: &dyn Store, ticket: TicketId, business: &BusinessClock) -> Result<bool, StoreError> {
    let events = store.events(ticket).await?;
    let Some(seen) = events.iter().map(|e| e.seq).max() else { return Ok(false) };
    let Some((facts, rows)) = insight::kpi::measure(&events, business) else { return Ok(false) };
    store.save_measures(&facts, &rows, seen).await?;
    Ok(true)
}

/// How many cells and buckets (about 150 bytes each) a rebuild sums in
/// memory before adding some to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TallyLimits {
    /// Over this many, the days its pages have passed are added.
    pub passed_days: usize,
    /// Over this many, all are added (a day busier than this, or tickets
    /// numbered out of the order they came in).
    pub all: usize,
}

impl Default for TallyLimits {
    /// A day of 30,000 tickets (10M a year) is kept whole, mostly, so its
    /// cells are added once, not again with each page that touches the
    /// day (the rebuild's peak memory there ~1.1 GB, 3 times faster).
    fn default() -> TallyLimits {
        TallyLimits { passed_days: 300_000, all: 3_000_000 }
    }
}

/// Empties the rollup and measures every ticket again; `progress` hears
/// the tickets done so far. Returns how many were measured. Works in pages
/// of 1,000 tickets: their events read with one query, their rows written
/// in one transaction (`RebuildPages`).
pub async fn rebuild(store: &dyn Store, mut progress: impl FnMut(u64)) -> Result<u64, StoreError> {
    let business = business_clock(store).await?;
    let mut pages = RebuildPages::start(store, &zone_name(store).await).await?;
    let mut done = 0;
    let mut next = measured_page(store, TicketId(0), &business).await?;
    while let Some((last, page)) = next {
        // The next page is read (a reader connection) while this one is
        // written (the writer): reading the events is as much work.
        let (saved, following) = tokio::join!(pages.save(store, page), measured_page(store, last, &business));
        done += saved? as u64;
        progress(done);
        next = following?;
    }
    pages.finish(store).await?;
    Ok(done)
}

/// The next 1,000 tickets after `after`, measured from their events (read
/// with one query); the last one's number, or none when there are no more.
async fn measured_page(
    store: &dyn Store,
    after: TicketId,
    business: &BusinessClock,
) -> Result<Option<(TicketId, Vec<domain::kpi::MeasuredTicket>)>, StoreError> {
    let ids = store.ticket_ids_after(after, 1000).await?;
    let Some(last) = ids.last().copied() else { return Ok(None) };
    let events = store.events_of_tickets(after, last).await?;
    let mut page = Vec::with_capacity(ids.len());
    for one in events.chunk_by(|a, b| a.ticket_id == b.ticket_id) {
        let seen = one.iter().map(|e| e.seq).max().unwrap_or(0);
        if let Some((facts, rows)) = insight::kpi::measure(one, business) {
            page.push((facts, rows, seen));
        }
    }
    Ok(Some((last, page)))
}

/// A rollup written anew, page by page: each page's measured rows stored
/// as a measurement would, its cells tallied on a blocking thread while
/// the next page is read, measured and stored (the tally is as much work
/// as the writing), summed in memory over pages and added at once, the
/// buckets straight into histograms: far fewer rows written than page by
/// page, and nothing left to fold. The cells do not count until `finish`
/// (the cockpit reads the measured rows meanwhile; a start after a
/// rebuild that did not finish rebuilds).
pub struct RebuildPages {
    tallying: Option<tokio::task::JoinHandle<Tally>>,
    tally: Tally,
    /// The zone the cells count local days in.
    tz: jiff::tz::TimeZone,
    limits: TallyLimits,
}

impl RebuildPages {
    /// Empties the rollup; its cells will count the local days of `zone`.
    pub async fn start(store: &dyn Store, zone: &str) -> Result<RebuildPages, StoreError> {
        RebuildPages::start_with(store, zone, TallyLimits::default()).await
    }

    /// `start`, summing at most `limits` in memory.
    pub async fn start_with(store: &dyn Store, zone: &str, limits: TallyLimits) -> Result<RebuildPages, StoreError> {
        store.start_rebuild(zone).await?;
        let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
        Ok(RebuildPages { tallying: None, tally: Tally::default(), tz, limits })
    }

    /// Stores a page of measured tickets; how many were written.
    pub async fn save(
        &mut self,
        store: &dyn Store,
        page: Vec<domain::kpi::MeasuredTicket>,
    ) -> Result<usize, StoreError> {
        let saved = store.save_measures_untallied(&page).await?;
        let written = saved.written();
        self.wait().await?;
        if self.tally.len() > self.limits.passed_days {
            // Tickets are numbered in the order they came in, so no later
            // page has rows on the days before this one's: those days'
            // cells are added once. (A later row there is added again as a
            // delta: right, only slower.) Adding every day with each full
            // tally added a busy day's cells over and over: 56 times in
            // 90,000 tickets at 30,000 a day, 3 times slower.
            let first = page.iter().flat_map(|(_, rows, _)| rows.iter().map(|r| r.at)).min();
            if let Some(day) = first.and_then(|at| domain::kpi::cells::local_day(at, &self.tz)) {
                let passed = self.tally.take_days_before(day);
                if !passed.is_empty() {
                    store.add_rebuilt(passed, false).await?;
                }
            }
            if self.tally.len() > self.limits.all {
                store.add_rebuilt(std::mem::take(&mut self.tally), false).await?;
            }
        }
        let mut sum = std::mem::take(&mut self.tally);
        self.tallying = Some(tokio::task::spawn_blocking(move || {
            saved.tally_into(&page, &mut sum);
            sum
        }));
        Ok(written)
    }

    /// Adds what is left; the cells count again.
    pub async fn finish(mut self, store: &dyn Store) -> Result<(), StoreError> {
        self.wait().await?;
        store.add_rebuilt(self.tally, true).await
    }

    async fn wait(&mut self) -> Result<(), StoreError> {
        if let Some(handle) = self.tallying.take() {
            self.tally =
                handle.await.map_err(|e| StoreError::Backend(format!("tallying a page of the rebuild: {e}")))?;
        }
        Ok(())
    }
}

/// The installation's time zone by name, the one the rollup's cells count
/// local days in.
pub async fn zone_name(store: &dyn Store) -> String {
    crate::cockpit::time_zone(store).await.iana_name().unwrap_or("UTC").to_string()
}

/// Rebuilds the rollup when its cells count another zone's days than the
/// installation's (a new installation, an upgrade, a changed time zone)
/// or a rebuild did not finish; true when it did.
pub async fn ensure_cells(store: &dyn Store) -> Result<bool, StoreError> {
    if store.cells_zone().await?.as_deref() == Some(zone_name(store).await.as_str()) {
        return Ok(false);
    }
    let n = rebuild(store, |_| {}).await?;
    store.fold_buckets(i64::MAX).await?;
    tracing::info!(tickets = n, "KPI rollup rebuilt for the installation's time zone");
    Ok(true)
}

/// Folds the buckets of the days before yesterday (in the cells' zone)
/// into their histograms: late changes mostly touch today and yesterday,
/// which stay as they are. How many days it folded.
pub async fn fold(store: &dyn Store, now: domain::Millis) -> Result<u64, StoreError> {
    let Some(zone) = store.cells_zone().await? else { return Ok(0) };
    let tz = jiff::tz::TimeZone::get(&zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let Some(today) = crate::cockpit::local_date(now, &tz) else { return Ok(0) };
    store.fold_buckets(domain::kpi::cells::day_number(today) - 1).await
}

/// Measures the tickets the rollup lacks or has from fewer events than
/// they have, at most `limit`; returns how many.
pub async fn catch_up(store: &dyn Store, limit: u32) -> Result<usize, StoreError> {
    let business = business_clock(store).await?;
    let ids = store.unmeasured_tickets(limit).await?;
    for id in &ids {
        refresh(store, *id, &business).await?;
    }
    Ok(ids.len())
}

pub const RETIER: &str = "kpi.retier";

/// The job that moves a customer's or an organization's tickets to the
/// tier they have now, after its tier changed at `now`.
pub fn retier_later(holder: store::TierHolder, now: domain::Millis) -> domain::NewJob {
    let (field, id) = match holder {
        store::TierHolder::Customer(c) => ("customer_id", c.0),
        store::TierHolder::Organization(o) => ("organization_id", o.0),
    };
    domain::NewJob::new(RETIER, serde_json::json!({ field: id }), now, now)
        .key(format!("kpi:retier:{field}:{id}:{now}"))
}

/// Moves the holder's tickets to the tier they have now, 1,000 tickets a
/// transaction; how many moved.
pub async fn retier(store: &dyn Store, holder: store::TierHolder) -> Result<usize, StoreError> {
    let mut moved = 0;
    for page in store.tickets_of_tier_holder(holder).await?.chunks(1000) {
        moved += store.retier(page).await?;
    }
    Ok(moved)
}

/// `kpi.retier`: see `retier_later`.
pub struct Retier {
    pub store: std::sync::Arc<dyn Store>,
}

#[async_trait::async_trait]
impl crate::Handler for Retier {
    async fn run(&self, job: &domain::Job, _: domain::Millis) -> Result<(), crate::JobError> {
        let id = |field: &str| job.payload.get(field).and_then(serde_json::Value::as_i64);
        let holder = match (id("customer_id"), id("organization_id")) {
            (Some(c), _) => store::TierHolder::Customer(domain::CustomerId(c)),
            (None, Some(o)) => store::TierHolder::Organization(domain::OrganizationId(o)),
            (None, None) => return Err(crate::JobError::Fail("kpi.retier names no customer or organization".into())),
        };
        let moved = retier(self.store.as_ref(), holder).await?;
        tracing::info!(?holder, moved, "tickets moved to their tier now");
        Ok(())
    }
}
