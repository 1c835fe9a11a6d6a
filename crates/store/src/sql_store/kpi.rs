//! The KPI rollup: measured rows and facts per ticket, replaced as a
//! ticket's events arrive, read by period and slice.

use async_trait::async_trait;
use domain::kpi::cells::{BucketKey, CellKey, CellQuery, CellSums, Tally, TicketSubjects};
use domain::kpi::{Measure, MeasureRow, OpenCount, Slice, TicketFacts};
use domain::{Channel, Millis, Priority, Status, TicketId, Tier};

use super::kpi_cells;
use super::{Params, SqlStore};
use crate::rows::word;
use crate::{KpiStore, Result, SqlRow, StoreError, Transaction};

const MEASURE_COLS: &str = "measure, at, value, business, team_id, agent_id, channel, priority";

const FACT_COLS: &str = "f.ticket_id, f.created_at, f.status, f.channel, f.priority, f.team_id, f.agent_id, \
    f.requester_id, f.organization_id, f.tags, f.merged, f.public_replies, f.reopens, f.solved_at";

fn facts(r: &SqlRow) -> Result<TicketFacts> {
    Ok(TicketFacts {
        ticket_id: r.int(0)?,
        created_at: r.int(1)?,
        status: word(Status::parse("status", &r.text(2)?))?,
        channel: word(Channel::parse("channel", &r.text(3)?))?,
        priority: word(Priority::parse("priority", &r.text(4)?))?,
        team_id: r.opt_int(5)?,
        agent_id: r.opt_int(6)?,
        requester_id: r.opt_int(7)?,
        organization_id: r.opt_int(8)?,
        tags: serde_json::from_str(&r.text(9)?).map_err(|e| StoreError::Corrupt(format!("kpi tags: {e}")))?,
        merged: r.bool(10)?,
        public_replies: r.int(11)?,
        reopens: r.int(12)?,
        solved_at: r.opt_int(13)?,
    })
}

fn measured(r: &SqlRow) -> Result<MeasureRow> {
    measured_from(r, 0)
}

/// A measured row from `MEASURE_COLS` starting at column `c`.
fn measured_from(r: &SqlRow, c: usize) -> Result<MeasureRow> {
    Ok(MeasureRow {
        measure: word(Measure::parse("measure", r.str(c)?))?,
        at: r.int(c + 1)?,
        value: r.int(c + 2)?,
        business: r.int(c + 3)?,
        team_id: r.opt_int(c + 4)?,
        agent_id: r.opt_int(c + 5)?,
        channel: word(Channel::parse("channel", r.str(c + 6)?))?,
        priority: word(Priority::parse("priority", r.str(c + 7)?))?,
    })
}

/// `AND …` for the slice; `m` is the measures' alias, or `None` to read
/// team, agent, channel and priority from the facts.
fn slice_sql(slice: &Slice, m: Option<&str>, p: &mut Params) -> String {
    let dims = m.unwrap_or("f");
    let mut sql = String::new();
    if let Some(t) = slice.team_id {
        sql += &format!(" AND {dims}.team_id = {}", p.push(t));
    }
    if let Some(a) = slice.agent_id {
        sql += &format!(" AND {dims}.agent_id = {}", p.push(a));
    }
    if let Some(c) = slice.channel {
        sql += &format!(" AND {dims}.channel = {}", p.push(c.as_str()));
    }
    if let Some(pr) = slice.priority {
        sql += &format!(" AND {dims}.priority = {}", p.push(pr.as_str()));
    }
    if let Some(o) = slice.organization_id {
        // Measured rows carry their ticket's organization (and an index by it).
        sql += &format!(" AND {dims}.organization_id = {}", p.push(o));
    }
    if let Some(tag) = &slice.tag {
        // Tags are stored as a JSON array of plain words, on the ticket's
        // facts and on each of its measured rows (rewritten with them).
        // A tag holds no quote or backslash (`parse_tags`), but may hold
        // `_` or `%`, which match as themselves.
        let quoted = serde_json::to_string(tag).unwrap_or_default().replace('_', "\\_").replace('%', "\\%");
        sql += &format!(" AND {dims}.tags LIKE {} ESCAPE '\\'", p.push(format!("%{quoted}%")));
    }
    if let Some(tier) = slice.tier {
        // The tier kept with the ticket's facts and its measured rows
        // (moved by `retier` when a customer's or organization's tier
        // changes), as the cells have it.
        sql += &format!(" AND {dims}.tier = {}", p.push(tier.as_str()));
    }
    sql
}

/// The last range whose bound `created` is within (0 when none): see `OpenCount`.
fn open_range(created: Millis, until: &[Millis]) -> usize {
    until.iter().skip(1).rposition(|u| created <= *u).map_or(0, |i| i + 1)
}

/// Unsolved tickets grouped by the database (PostgreSQL hashes the groups).
async fn grouped_open(store: &SqlStore, filter: &str, mut p: Params, until: &[Millis]) -> Result<Vec<OpenCount>> {
    let whens: String = until
        .iter()
        .enumerate()
        .skip(1)
        .rev()
        .map(|(i, u)| format!(" WHEN f.created_at <= {} THEN {i}", p.push(*u)))
        .collect();
    let range = if whens.is_empty() { "0".to_string() } else { format!("CASE{whens} ELSE 0 END") };
    let sql = format!(
        "SELECT f.status, f.team_id, f.agent_id, {range}, COUNT(*), MIN(f.created_at) FROM kpi_tickets f \
         WHERE f.status IN ('new', 'open', 'pending', 'on_hold'){filter} GROUP BY 1, 2, 3, 4"
    );
    store
        .fetch(&sql, p.values)
        .await?
        .iter()
        .map(|r| {
            Ok(OpenCount {
                status: word(Status::parse("status", &r.text(0)?))?,
                team_id: r.opt_int(1)?,
                agent_id: r.opt_int(2)?,
                range: usize::try_from(r.int(3)?).unwrap_or(0),
                tickets: r.int(4)?,
                first_created: r.int(5)?,
            })
        })
        .collect()
}

/// Status, team, agent and range of unsolved tickets, counted as (tickets,
/// first created).
type OpenGroup = (Status, Option<i64>, Option<i64>, usize);

/// Unsolved tickets read from the status index and counted here. SQLite
/// groups only by sorting every row, and chose each one's range by a
/// CASE: 49–74 ms for 46,000 unsolved tickets, against ~20 ms to read
/// and count them.
async fn counted_open(store: &SqlStore, filter: &str, p: Params, until: &[Millis]) -> Result<Vec<OpenCount>> {
    let sql = format!(
        "SELECT f.status, f.team_id, f.agent_id, f.created_at FROM kpi_tickets f \
         WHERE f.status IN ('new', 'open', 'pending', 'on_hold'){filter}"
    );
    let mut counts: std::collections::HashMap<OpenGroup, (i64, Millis), foldhash::fast::RandomState> =
        Default::default();
    for r in store.fetch(&sql, p.values).await? {
        let created = r.int(3)?;
        let key =
            (word(Status::parse("status", &r.text(0)?))?, r.opt_int(1)?, r.opt_int(2)?, open_range(created, until));
        let count = counts.entry(key).or_insert((0, created));
        count.0 += 1;
        count.1 = count.1.min(created);
    }
    Ok(counts
        .into_iter()
        .map(|((status, team_id, agent_id, range), (tickets, first_created))| OpenCount {
            status,
            team_id,
            agent_id,
            range,
            tickets,
            first_created,
        })
        .collect())
}

/// Ids a statement lists at most (see `kpi_cells::CHUNK`).
const IDS: usize = 500;

/// What a ticket's rollup held before it was replaced: the organization
/// and tags its cells were kept by, and its rows.
#[derive(Default)]
struct Replaced {
    organization_id: Option<i64>,
    tags: Vec<String>,
    tier: Option<Tier>,
    rows: Vec<MeasureRow>,
}

/// A stored tier word, or none (a row from before tiers were kept).
fn tier_word(text: Option<String>) -> Option<Tier> {
    text.and_then(|t| Tier::parse("tier", &t).ok())
}

/// Each (requester, organization)'s ticket tier now (`Tier::of_ticket`),
/// read from the directory a few statements for the whole batch.
async fn tiers_now(tx: &mut dyn Transaction, pairs: &[(Option<i64>, Option<i64>)]) -> Result<Vec<Tier>> {
    let mut of = std::collections::HashMap::new();
    for (table, ids) in [
        ("customers", pairs.iter().filter_map(|p| p.0).collect::<Vec<i64>>()),
        ("organizations", pairs.iter().filter_map(|p| p.1).collect::<Vec<i64>>()),
    ] {
        let mut ids = ids;
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(IDS) {
            let mut p = Params::default();
            let list = p.list(chunk);
            for r in tx.fetch(&format!("SELECT id, tier FROM {table} WHERE id IN ({list})"), p.values).await? {
                of.insert((table, r.int(0)?), word(Tier::parse("tier", &r.text(1)?))?);
            }
        }
    }
    Ok(pairs
        .iter()
        .map(|(c, o)| {
            let requester = c.and_then(|c| of.get(&("customers", c)).copied()).unwrap_or(Tier::Standard);
            Tier::of_ticket(requester, o.and_then(|o| of.get(&("organizations", o)).copied()))
        })
        .collect())
}

/// Replaces the tickets' rows within `tx`, a few statements for the whole
/// batch; for each item, what it had, or `None` when a view from as
/// many events is stored (or a later item of the batch is the same
/// ticket's).
async fn replace_many(
    tx: &mut dyn Transaction,
    lock: &str,
    items: &[(TicketFacts, Vec<MeasureRow>, i64)],
    tiers: &[Tier],
) -> Result<Vec<Option<Replaced>>> {
    let mut ids: Vec<i64> = items.iter().map(|i| i.0.ticket_id).collect();
    ids.sort_unstable();
    ids.dedup();
    // Two nodes measuring one ticket take turns, so each subtracts the
    // rows the other left; locked in id order so they never deadlock.
    let mut stored = std::collections::HashMap::new();
    for chunk in ids.chunks(IDS) {
        let mut p = Params::default();
        let list = p.list(chunk);
        tx.fetch(&format!("SELECT id FROM tickets WHERE id IN ({list}) ORDER BY id{lock}"), p.values.clone()).await?;
        for r in tx
            .fetch(
                &format!(
                    "SELECT ticket_id, events_seen, organization_id, tags, tier FROM kpi_tickets \
                     WHERE ticket_id IN ({list})"
                ),
                p.values,
            )
            .await?
        {
            stored.insert(r.int(0)?, (r.int(1)?, r.opt_int(2)?, r.text(3)?, tier_word(r.opt_text(4)?)));
        }
    }
    // The last item of a ticket wins; the others are skipped.
    let mut last = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        last.insert(item.0.ticket_id, i);
    }
    let written: Vec<usize> = (0..items.len())
        .filter(|&i| {
            let (f, _, seen) = &items[i];
            last.get(&f.ticket_id) == Some(&i) && stored.get(&f.ticket_id).is_none_or(|s| s.0 < *seen)
        })
        .collect();
    let replaced: Vec<i64> =
        written.iter().map(|&i| items[i].0.ticket_id).filter(|id| stored.contains_key(id)).collect();
    let mut old: std::collections::HashMap<i64, Replaced> = std::collections::HashMap::new();
    for id in &replaced {
        if let Some((_, organization_id, tags, tier)) = stored.get(id) {
            let tags = serde_json::from_str(tags).map_err(|e| StoreError::Corrupt(format!("kpi tags: {e}")))?;
            old.insert(*id, Replaced { organization_id: *organization_id, tags, tier: *tier, rows: Vec::new() });
        }
    }
    for chunk in replaced.chunks(IDS) {
        let mut p = Params::default();
        let list = p.list(chunk);
        let rows = tx
            .fetch(
                &format!("SELECT ticket_id, {MEASURE_COLS} FROM kpi_measures WHERE ticket_id IN ({list})"),
                p.values.clone(),
            )
            .await?;
        for r in rows {
            old.entry(r.int(0)?).or_default().rows.push(measured_from(&r, 1)?);
        }
        tx.execute(&format!("DELETE FROM kpi_measures WHERE ticket_id IN ({list})"), p.values.clone()).await?;
        tx.execute(&format!("DELETE FROM kpi_measure_tags WHERE ticket_id IN ({list})"), p.values.clone()).await?;
        tx.execute(&format!("DELETE FROM kpi_tickets WHERE ticket_id IN ({list})"), p.values).await?;
    }
    // A ticket's tags as stored, on its facts and on each measured row.
    let tags: Vec<String> =
        items.iter().map(|(f, _, _)| serde_json::to_string(&f.tags).unwrap_or_else(|_| "[]".into())).collect();
    let facts: Vec<Vec<crate::SqlValue>> = written
        .iter()
        .map(|&i| {
            let (f, _, seen) = &items[i];
            vec![
                f.ticket_id.into(),
                f.created_at.into(),
                f.status.as_str().into(),
                f.channel.as_str().into(),
                f.priority.as_str().into(),
                f.team_id.into(),
                f.agent_id.into(),
                f.requester_id.into(),
                f.organization_id.into(),
                tags[i].clone().into(),
                f.merged.into(),
                f.public_replies.into(),
                f.reopens.into(),
                f.solved_at.into(),
                (*seen).into(),
                tiers[i].as_str().into(),
            ]
        })
        .collect();
    tx.insert_rows(
        "INSERT INTO kpi_tickets (ticket_id, created_at, status, channel, priority, team_id, agent_id, \
         requester_id, organization_id, tags, merged, public_replies, reopens, solved_at, events_seen, tier)",
        facts,
        "",
        false,
    )
    .await?;
    let rows: Vec<Vec<crate::SqlValue>> = written
        .iter()
        .flat_map(|&i| items[i].1.iter().map(move |r| (i, r)))
        .map(|(i, r)| {
            let mut values = measured_values(&items[i].0, r, tiers[i]);
            values.push(tags[i].clone().into());
            values
        })
        .collect();
    tx.insert_rows(
        "INSERT INTO kpi_measures (ticket_id, measure, at, value, business, team_id, agent_id, channel, \
         priority, organization_id, tier, tags)",
        rows,
        "",
        false,
    )
    .await?;
    tx.insert_rows(
        "INSERT INTO kpi_measure_tags (ticket_id, measure, at, value, business, team_id, agent_id, channel, \
         priority, organization_id, tier, tag, seq)",
        tag_rows(items, &written, tiers),
        "",
        false,
    )
    .await?;
    let mut out: Vec<Option<Replaced>> = (0..items.len()).map(|_| None).collect();
    for i in written {
        out[i] = Some(old.remove(&items[i].0.ticket_id).unwrap_or_default());
    }
    Ok(out)
}

/// A measured row's values as both `kpi_measures` and `kpi_measure_tags`
/// begin theirs: ticket, measure, instant, values, team, agent, channel,
/// priority, and the ticket's organization and tier now.
fn measured_values(f: &TicketFacts, r: &MeasureRow, tier: Tier) -> Vec<crate::SqlValue> {
    vec![
        f.ticket_id.into(),
        r.measure.as_str().into(),
        r.at.into(),
        r.value.into(),
        r.business.into(),
        r.team_id.into(),
        r.agent_id.into(),
        r.channel.as_str().into(),
        r.priority.as_str().into(),
        f.organization_id.into(),
        tier.as_str().into(),
    ]
}

/// `kpi_measure_tags`' rows for the written items: each measured row once
/// for each of its ticket's tags (a tag listed twice counts once), `seq`
/// its place among the ticket's rows.
fn tag_rows(
    items: &[(TicketFacts, Vec<MeasureRow>, i64)],
    written: &[usize],
    tiers: &[Tier],
) -> Vec<Vec<crate::SqlValue>> {
    let mut out = Vec::new();
    for &i in written {
        let (f, rows, _) = &items[i];
        let mut tags: Vec<&String> = f.tags.iter().collect();
        tags.sort_unstable();
        tags.dedup();
        for tag in tags {
            for (seq, r) in rows.iter().enumerate() {
                let mut values = measured_values(f, r, tiers[i]);
                values.extend([tag.as_str().into(), (seq as i64).into()]);
                out.push(values);
            }
        }
    }
    out
}

/// What saving measured tickets wrote (`KpiStore::save_measures_untallied`):
/// the zone the cells count days in (none: no cells kept), and for each
/// ticket written, its item, its tier now and what it replaced.
pub struct UntalliedMeasures {
    zone: Option<jiff::tz::TimeZone>,
    changes: Vec<(usize, Tier, Replaced)>,
}

/// The fewest tickets a half of a page written on two connections holds
/// (`save_measures_untallied`): smaller pages are one transaction.
const HALF_PAGE_MIN: usize = 100;

impl UntalliedMeasures {
    /// How many tickets were written.
    pub fn written(&self) -> usize {
        self.changes.len()
    }

    /// One page's result from its two parts' results: `self` saved the
    /// items before `offset`, `next` those from `offset` on.
    fn followed_by(mut self, next: UntalliedMeasures, offset: usize) -> UntalliedMeasures {
        self.zone = self.zone.or(next.zone);
        self.changes.extend(next.changes.into_iter().map(|(i, tier, old)| (i + offset, tier, old)));
        self
    }

    /// Adds the written tickets' change of cells to `delta`: each one's
    /// rows now in, its replaced rows out. `items` are those saved.
    pub fn tally_into(&self, items: &[(TicketFacts, Vec<MeasureRow>, i64)], delta: &mut Tally) {
        let Some(tz) = &self.zone else { return };
        for (i, tier, old) in &self.changes {
            let (f, rows, _) = &items[*i];
            let now = TicketSubjects { organization_id: f.organization_id, tags: &f.tags, tier: Some(*tier) };
            let then = TicketSubjects { organization_id: old.organization_id, tags: &old.tags, tier: old.tier };
            delta.add_change(now, rows, then, &old.rows, tz);
        }
    }
}

impl SqlStore {
    /// Replaces the tickets' rows and facts within `tx`, holding off
    /// other measurements (and a rebuild's clearing) meanwhile.
    async fn write_measures(
        &self,
        tx: &mut dyn Transaction,
        items: &[(TicketFacts, Vec<MeasureRow>, i64)],
    ) -> Result<UntalliedMeasures> {
        if let Some(lock) = self.db.lock_table("kpi_cells_zone", true) {
            tx.execute(&lock, vec![]).await?;
        }
        let zone = kpi_cells::zone(tx).await?;
        let pairs: Vec<_> = items.iter().map(|(f, _, _)| (f.requester_id, f.organization_id)).collect();
        let tiers = tiers_now(tx, &pairs).await?;
        let replaced = replace_many(tx, self.db.lock_rows(), items, &tiers).await?;
        let changes = replaced
            .into_iter()
            .zip(tiers)
            .enumerate()
            .filter_map(|(i, (old, tier))| old.map(|old| (i, tier, old)))
            .collect();
        Ok(UntalliedMeasures { zone, changes })
    }

    /// `save_measures_many` within `tx` (the pool's, or the single
    /// writer's own connection).
    pub(super) async fn save_measures_in(
        &self,
        mut tx: Box<dyn Transaction>,
        items: &[(TicketFacts, Vec<MeasureRow>, i64)],
    ) -> Result<usize> {
        let written = self.write_measures(tx.as_mut(), items).await?;
        if written.changes.is_empty() {
            return Ok(0);
        }
        let mut delta = Tally::default();
        written.tally_into(items, &mut delta);
        delta.drop_unchanged();
        kpi_cells::add(tx.as_mut(), &delta).await?;
        tx.commit().await?;
        Ok(written.changes.len())
    }

    /// `save_measures_untallied` within `tx`.
    pub(super) async fn save_untallied_in(
        &self,
        mut tx: Box<dyn Transaction>,
        items: &[(TicketFacts, Vec<MeasureRow>, i64)],
    ) -> Result<UntalliedMeasures> {
        let written = self.write_measures(tx.as_mut(), items).await?;
        if !written.changes.is_empty() {
            tx.commit().await?;
        }
        Ok(written)
    }

    /// `add_rebuilt` within `tx`.
    pub(super) async fn add_rebuilt_in(
        &self,
        mut tx: Box<dyn Transaction>,
        prepared: kpi_cells::PreparedTally,
        complete: bool,
    ) -> Result<()> {
        if let Some(lock) = self.db.lock_table("kpi_cells_zone", true) {
            tx.execute(&lock, vec![]).await?;
        }
        kpi_cells::add_rebuilt(tx.as_mut(), prepared).await?;
        if complete {
            tx.execute("UPDATE kpi_cells_zone SET complete = TRUE", vec![]).await?;
        }
        tx.commit().await
    }

    async fn clear_rollup(&self, zone: &str, complete: bool) -> Result<()> {
        let mut tx = self.begin().await?;
        // Waits for measurements in flight and holds off new ones, so none
        // adds to the cells a delta computed from rows this deletes.
        if let Some(lock) = self.db.lock_table("kpi_cells_zone", false) {
            tx.execute(&lock, vec![]).await?;
        }
        for table in [
            "kpi_measures",
            "kpi_measure_tags",
            "kpi_tickets",
            "kpi_cells",
            "kpi_buckets",
            "kpi_bucket_days",
            "kpi_histograms",
            "kpi_week_cells",
            "kpi_week_histograms",
            "kpi_cells_zone",
        ] {
            tx.execute(&format!("DELETE FROM {table}"), vec![]).await?;
        }
        tx.execute("INSERT INTO kpi_cells_zone (zone, complete) VALUES ($1, $2)", vec![zone.into(), complete.into()])
            .await?;
        tx.commit().await
    }
}

#[async_trait]
impl KpiStore for SqlStore {
    async fn save_measures(&self, f: &TicketFacts, rows: &[MeasureRow], events_seen: i64) -> Result<bool> {
        let items = [(f.clone(), rows.to_vec(), events_seen)];
        Ok(self.save_measures_many(&items).await? == 1)
    }

    async fn save_measures_many(&self, items: &[(TicketFacts, Vec<MeasureRow>, i64)]) -> Result<usize> {
        if let Some(writer) = &self.writer {
            // On the writer's own connection (SQLite): its statements run
            // one after the other without a hand-off between threads each.
            let items = items.to_vec();
            return super::writer::ask(writer, |reply| super::writer::Work::Measures { items, reply }).await;
        }
        self.save_measures_in(self.begin().await?, items).await
    }

    async fn events_of_tickets(&self, after: TicketId, upto: TicketId) -> Result<Vec<domain::TicketEvent>> {
        let sql = format!(
            "SELECT {} FROM ticket_events WHERE ticket_id > $1 AND ticket_id <= $2 ORDER BY ticket_id, seq",
            crate::rows::EVENT_COLS
        );
        self.fetch(&sql, vec![after.0.into(), upto.0.into()]).await?.iter().map(crate::rows::event).collect()
    }

    async fn measure_rows(
        &self,
        measures: &[Measure],
        from: Millis,
        to: Millis,
        slice: &Slice,
    ) -> Result<Vec<MeasureRow>> {
        if measures.is_empty() {
            return Ok(vec![]);
        }
        let mut p = Params::default();
        // A tag's rows have their own table, keyed by tag: fewer than a
        // team's (read from its index otherwise), more than an agent's or
        // an organization's. (Parameters pushed in the order they appear.)
        let (table, rest) = match &slice.tag {
            Some(tag) if slice.agent_id.is_none() && slice.organization_id.is_none() => (
                format!("kpi_measure_tags m WHERE m.tag = {} AND", p.push(tag.as_str())),
                Slice { tag: None, ..slice.clone() },
            ),
            _ => ("kpi_measures m WHERE".to_string(), slice.clone()),
        };
        let names: Vec<&str> = measures.iter().map(|m| m.as_str()).collect();
        let list = p.list(&names);
        let (from, to) = (p.push(from), p.push(to));
        let filter = slice_sql(&rest, Some("m"), &mut p);
        let sql = format!(
            "SELECT m.measure, m.at, m.value, m.business, m.team_id, m.agent_id, m.channel, m.priority \
             FROM {table} m.measure IN ({list}) AND m.at >= {from} AND m.at < {to}{filter}"
        );
        self.fetch(&sql, p.values).await?.iter().map(measured).collect()
    }

    async fn open_counts(&self, slice: &Slice, until: &[Millis]) -> Result<Vec<OpenCount>> {
        let mut p = Params::default();
        let filter = slice_sql(slice, None, &mut p);
        let mut counts = if self.db.hashes_groups() {
            grouped_open(self, &filter, p, until).await?
        } else {
            counted_open(self, &filter, p, until).await?
        };
        counts.sort_by_key(|c| (c.status, c.team_id, c.agent_id, c.range));
        Ok(counts)
    }

    async fn ticket_facts(&self, ticket: TicketId) -> Result<Option<TicketFacts>> {
        let sql = format!("SELECT {FACT_COLS} FROM kpi_tickets f WHERE f.ticket_id = $1");
        self.fetch_one(&sql, vec![ticket.0.into()]).await?.as_ref().map(facts).transpose()
    }

    async fn ticket_measures(&self, ticket: TicketId) -> Result<Vec<MeasureRow>> {
        self.fetch(
            &format!("SELECT {MEASURE_COLS} FROM kpi_measures WHERE ticket_id = $1 ORDER BY at, measure"),
            vec![ticket.0.into()],
        )
        .await?
        .iter()
        .map(measured)
        .collect()
    }

    async fn clear_measures(&self, zone: &str) -> Result<()> {
        self.clear_rollup(zone, true).await
    }

    async fn start_rebuild(&self, zone: &str) -> Result<()> {
        self.clear_rollup(zone, false).await
    }

    async fn save_measures_untallied(
        &self,
        items: &[(TicketFacts, Vec<MeasureRow>, i64)],
    ) -> Result<UntalliedMeasures> {
        match &self.writer {
            Some(writer) => {
                let items = items.to_vec();
                super::writer::ask(writer, |reply| super::writer::Work::MeasuresUntallied { items, reply }).await
            }
            // The pool (PostgreSQL): a page written as two transactions at
            // once on two connections. The database's inserts are most of a
            // page's cost, and one connection kept one of its cores busy.
            // A rebuild's page holds distinct tickets, each half locks its
            // own in id order, so the halves never wait on each other.
            None if items.len() >= 2 * HALF_PAGE_MIN => {
                let (first, second) = items.split_at(items.len() / 2);
                let (a, b) =
                    tokio::try_join!(async { self.save_untallied_in(self.begin().await?, first).await }, async {
                        self.save_untallied_in(self.begin().await?, second).await
                    },)?;
                Ok(a.followed_by(b, first.len()))
            }
            None => self.save_untallied_in(self.begin().await?, items).await,
        }
    }

    async fn add_rebuilt(&self, tally: Tally, complete: bool) -> Result<()> {
        // Made into rows (and the tally freed) on a blocking thread, not
        // on the writer nor on the caller's task.
        let prepared = tokio::task::spawn_blocking(move || kpi_cells::prepare_rebuilt(&tally))
            .await
            .map_err(|e| StoreError::Backend(format!("preparing a rebuild's cells: {e}")))?;
        if let Some(writer) = &self.writer {
            let prepared = Box::new(prepared);
            return super::writer::ask(writer, |reply| super::writer::Work::Rebuilt { prepared, complete, reply })
                .await;
        }
        // The pool (PostgreSQL): the cells and the histograms, about as much
        // work each, as two transactions at once on two connections. Their
        // tables differ, so they never wait on each other; the rebuild is
        // marked complete only once both are in.
        let (cells, histograms) = prepared.into_cells_and_histograms();
        tokio::try_join!(async { self.add_rebuilt_in(self.begin().await?, cells, false).await }, async {
            self.add_rebuilt_in(self.begin().await?, histograms, false).await
        },)?;
        if complete {
            let mut tx = self.begin().await?;
            tx.execute("UPDATE kpi_cells_zone SET complete = TRUE", vec![]).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    async fn cells_zone(&self) -> Result<Option<String>> {
        self.fetch_one("SELECT zone FROM kpi_cells_zone WHERE complete", vec![]).await?.map(|r| r.text(0)).transpose()
    }

    async fn kpi_cells(&self, q: &CellQuery) -> Result<Vec<(CellKey, CellSums)>> {
        if q.measures.is_empty() {
            return Ok(vec![]);
        }
        let mut p = Params::default();
        let sql = kpi_cells::cells_sql(q, &mut p);
        self.fetch(&sql, p.values).await?.iter().map(|r| kpi_cells::cell(r, q)).collect()
    }

    async fn kpi_buckets(&self, q: &CellQuery) -> Result<Vec<(BucketKey, i64)>> {
        if q.measures.is_empty() {
            return Ok(vec![]);
        }
        use std::collections::BTreeMap;
        let mut summed: BTreeMap<kpi_cells::BucketGroup, BTreeMap<i64, i64>> = BTreeMap::new();
        let mut p = Params::default();
        let sql = kpi_cells::histograms_sql(q, &mut p);
        for r in self.fetch(&sql, p.values).await? {
            let (group, counts) = kpi_cells::histogram(&r, q)?;
            let into = summed.entry(group).or_default();
            for (lower, n) in counts {
                *into.entry(lower).or_default() += n;
            }
        }
        let mut p = Params::default();
        let sql = kpi_cells::buckets_sql(q, &mut p);
        for r in self.fetch(&sql, p.values).await? {
            let (k, n) = kpi_cells::bucket(&r, q)?;
            *summed.entry((k.a, k.b, k.measure, k.day, k.clock)).or_default().entry(k.lower).or_default() += n;
        }
        let view = q.view;
        Ok(summed
            .into_iter()
            .flat_map(|((a, b, measure, day, clock), counts)| {
                counts.into_iter().filter(|(_, n)| *n != 0).map(move |(lower, n)| {
                    (BucketKey { view, a: a.clone(), b: b.clone(), measure, day, clock, lower }, n)
                })
            })
            .collect())
    }

    async fn fold_buckets(&self, before_day: i64) -> Result<u64> {
        let days: Vec<i64> = self
            .fetch("SELECT day FROM kpi_bucket_days WHERE day < $1 ORDER BY day", vec![before_day.into()])
            .await?
            .iter()
            .map(|r| r.int(0))
            .collect::<Result<_>>()?;
        for day in &days {
            let mut tx = self.begin().await?;
            // Holds off measurements while the day's buckets move, so no
            // delta lands in a bucket row this deletes.
            if let Some(lock) = self.db.lock_table("kpi_cells_zone", false) {
                tx.execute(&lock, vec![]).await?;
            }
            kpi_cells::fold_day(tx.as_mut(), *day).await?;
            tx.commit().await?;
        }
        Ok(days.len() as u64)
    }

    async fn ticket_ids_after(&self, after: TicketId, limit: u32) -> Result<Vec<TicketId>> {
        self.fetch(
            "SELECT id FROM tickets WHERE id > $1 ORDER BY id LIMIT $2",
            vec![after.0.into(), i64::from(limit).into()],
        )
        .await?
        .iter()
        .map(|r| Ok(TicketId(r.int(0)?)))
        .collect()
    }

    async fn unmeasured_tickets(&self, limit: u32) -> Result<Vec<TicketId>> {
        self.fetch(
            "SELECT t.id FROM tickets t LEFT JOIN kpi_tickets f ON f.ticket_id = t.id \
             WHERE f.ticket_id IS NULL OR f.events_seen < (SELECT MAX(seq) FROM ticket_events e WHERE e.ticket_id = t.id) \
             ORDER BY t.id LIMIT $1",
            vec![i64::from(limit).into()],
        )
        .await?
        .iter()
        .map(|r| Ok(TicketId(r.int(0)?)))
        .collect()
    }

    async fn retention(&self, from: Millis, to: Millis) -> Result<crate::Retention> {
        // Both backends: CASE and SUM widened to 64 bits (PostgreSQL's SUM
        // of a bigint is a numeric).
        let sql = "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM tickets t WHERE t.requester_id = c.id \
                   AND t.created_at >= $1 AND t.created_at < $2) THEN 1 ELSE 0 END AS BIGINT), COUNT(*), \
                   CAST(COALESCE(SUM(CASE WHEN c.churned_at < $2 THEN 1 ELSE 0 END), 0) AS BIGINT), \
                   CAST(COALESCE(SUM(c.annual_value_cents), 0) AS BIGINT) \
                   FROM customers c WHERE c.created_at < $1 AND (c.churned_at IS NULL OR c.churned_at >= $1) \
                   GROUP BY 1";
        let mut out = crate::Retention::default();
        for r in self.fetch(sql, vec![from.into(), to.into()]).await? {
            let cohort =
                crate::CustomerCohort { customers: r.int(1)?, churned: r.int(2)?, annual_value_cents: r.int(3)? };
            if r.int(0)? == 1 {
                out.supported = cohort;
            } else {
                out.unsupported = cohort;
            }
        }
        Ok(out)
    }

    async fn tickets_of_tier_holder(&self, holder: crate::TierHolder) -> Result<Vec<TicketId>> {
        // The tickets' own indexes: the rollup's facts have none by these.
        let (column, id) = match holder {
            crate::TierHolder::Customer(c) => ("requester_id", c.0),
            crate::TierHolder::Organization(o) => ("organization_id", o.0),
        };
        self.fetch(&format!("SELECT id FROM tickets WHERE {column} = $1 ORDER BY id"), vec![id.into()])
            .await?
            .iter()
            .map(|r| Ok(TicketId(r.int(0)?)))
            .collect()
    }

    async fn retier(&self, tickets: &[TicketId]) -> Result<usize> {
        let mut tx = self.begin().await?;
        if let Some(lock) = self.db.lock_table("kpi_cells_zone", true) {
            tx.execute(&lock, vec![]).await?;
        }
        let zone = kpi_cells::zone(tx.as_mut()).await?;
        let mut ids: Vec<i64> = tickets.iter().map(|t| t.0).collect();
        ids.sort_unstable();
        ids.dedup();
        // (ticket, requester, organization, tags, stored tier)
        let mut stored = Vec::new();
        for chunk in ids.chunks(IDS) {
            let mut p = Params::default();
            let list = p.list(chunk);
            // Locked as `replace_many` locks them, so a measurement in
            // flight and this take turns.
            let lock = self.db.lock_rows();
            tx.fetch(&format!("SELECT id FROM tickets WHERE id IN ({list}) ORDER BY id{lock}"), p.values.clone())
                .await?;
            let sql = format!(
                "SELECT ticket_id, requester_id, organization_id, tags, tier FROM kpi_tickets \
                 WHERE ticket_id IN ({list}) ORDER BY ticket_id"
            );
            for r in tx.fetch(&sql, p.values).await? {
                let tags: Vec<String> =
                    serde_json::from_str(&r.text(3)?).map_err(|e| StoreError::Corrupt(format!("kpi tags: {e}")))?;
                stored.push((r.int(0)?, r.opt_int(1)?, r.opt_int(2)?, tags, tier_word(r.opt_text(4)?)));
            }
        }
        let pairs: Vec<_> = stored.iter().map(|s| (s.1, s.2)).collect();
        let now = tiers_now(tx.as_mut(), &pairs).await?;
        let moved: Vec<(usize, Tier)> =
            now.into_iter().enumerate().filter(|(i, tier)| stored[*i].4 != Some(*tier)).collect();
        if moved.is_empty() {
            return Ok(0);
        }
        let mut delta = Tally::default();
        for chunk in moved.chunks(IDS) {
            let mut p = Params::default();
            let chunk_ids: Vec<i64> = chunk.iter().map(|(i, _)| stored[*i].0).collect();
            let list = p.list(&chunk_ids);
            let mut rows: std::collections::HashMap<i64, Vec<MeasureRow>> = std::collections::HashMap::new();
            let sql = format!("SELECT ticket_id, {MEASURE_COLS} FROM kpi_measures WHERE ticket_id IN ({list})");
            for r in tx.fetch(&sql, p.values).await? {
                rows.entry(r.int(0)?).or_default().push(measured_from(&r, 1)?);
            }
            for (i, tier) in chunk {
                let (id, _, organization_id, tags, old) = &stored[*i];
                let Some(tz) = &zone else { break };
                let rows = rows.get(id).map(Vec::as_slice).unwrap_or_default();
                let then = TicketSubjects { organization_id: *organization_id, tags, tier: *old };
                let now = TicketSubjects { tier: Some(*tier), ..then };
                delta.add_change(now, rows, then, rows, tz);
            }
        }
        delta.drop_unchanged();
        for tier in Tier::ALL {
            let to: Vec<i64> = moved.iter().filter(|(_, t)| t == tier).map(|(i, _)| stored[*i].0).collect();
            for chunk in to.chunks(IDS) {
                let mut p = Params::default();
                let word = p.push(tier.as_str());
                let list = p.list(chunk);
                tx.execute(
                    &format!("UPDATE kpi_tickets SET tier = {word} WHERE ticket_id IN ({list})"),
                    p.values.clone(),
                )
                .await?;
                tx.execute(
                    &format!("UPDATE kpi_measures SET tier = {word} WHERE ticket_id IN ({list})"),
                    p.values.clone(),
                )
                .await?;
                tx.execute(&format!("UPDATE kpi_measure_tags SET tier = {word} WHERE ticket_id IN ({list})"), p.values)
                    .await?;
            }
        }
        kpi_cells::add(tx.as_mut(), &delta).await?;
        tx.commit().await?;
        Ok(moved.len())
    }
}
