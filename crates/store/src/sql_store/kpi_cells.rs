//! The rollup's cells (domain::kpi::cells): written as deltas, read
//! summed by the database.

use domain::kpi::Measure;
use std::collections::BTreeMap;

use domain::kpi::cells::{
    BucketKey, CellKey, CellQuery, CellSums, CellView, Clock, PeriodParts, Tally, decode_counts, encode_counts,
    is_duration, week_start,
};

use super::Params;
use crate::rows::word;
use crate::{Result, SqlRow, SqlValue, Transaction};

/// Rows a statement: 9 (8) parameters each. Their placeholders appear once
/// each in order, so SQLite binds them anonymously (named ones are looked
/// up in time quadratic in their number); fewer, larger statements save a
/// hand-off to the database thread each.
const CHUNK: usize = 200;

/// The zone the cells count local days in, as recorded by the last rebuild.
pub(super) async fn zone(tx: &mut dyn Transaction) -> Result<Option<jiff::tz::TimeZone>> {
    let rows = tx.fetch("SELECT zone FROM kpi_cells_zone", vec![]).await?;
    Ok(rows.first().map(|r| r.text(0)).transpose()?.and_then(|z| jiff::tz::TimeZone::get(&z).ok()))
}

/// Adds a tally's changes to the stored cells and buckets.
pub(super) async fn add(tx: &mut dyn Transaction, delta: &Tally) -> Result<()> {
    add_cells(tx, "kpi_cells", delta.cells.iter().collect()).await?;
    // The weeks with their days, in the same transaction, so a read that
    // takes whole weeks from them sums what the days would.
    let weeks = delta.week_cells();
    add_cells(tx, "kpi_week_cells", weeks.iter().collect()).await?;
    let mut buckets: Vec<(&BucketKey, &i64)> = delta.buckets.iter().collect();
    buckets.sort_unstable_by(|(x, _), (y, _)| {
        (x.view, x.measure, x.day, x.clock, x.lower, &x.a, &x.b)
            .cmp(&(y.view, y.measure, y.day, y.clock, y.lower, &y.a, &y.b))
    });
    let rows = buckets
        .iter()
        .map(|(k, n)| {
            vec![
                k.view.as_str().into(),
                k.measure.as_str().into(),
                k.day.into(),
                k.clock.as_str().into(),
                k.a.clone().into(),
                k.b.clone().into(),
                k.lower.into(),
                (**n).into(),
            ]
        })
        .collect();
    tx.insert_rows(
        "INSERT INTO kpi_buckets (kind, measure, day, clock, a, b, lower_ms, n)",
        rows,
        "ON CONFLICT (kind, measure, day, clock, a, b, lower_ms) DO UPDATE SET n = kpi_buckets.n + excluded.n",
        false,
    )
    .await?;
    // The days the fold will find buckets on.
    let days: std::collections::BTreeSet<i64> = delta.buckets.keys().map(|k| k.day).collect();
    let rows = days.into_iter().map(|d| vec![d.into()]).collect();
    tx.insert_rows("INSERT INTO kpi_bucket_days (day)", rows, "ON CONFLICT (day) DO NOTHING", false).await?;
    Ok(())
}

/// Adds cell deltas to `table` (the days' cells or the weeks').
async fn add_cells(tx: &mut dyn Transaction, table: &str, cells: Vec<(&CellKey, &CellSums)>) -> Result<()> {
    insert_cells(tx, table, cell_rows(cells)).await
}

/// Cell deltas as rows, in the order every writer writes them.
fn cell_rows(mut cells: Vec<(&CellKey, &CellSums)>) -> Vec<Vec<SqlValue>> {
    // In one order for every writer, so two writers touching the same
    // cells lock them in the same order (no deadlock on PostgreSQL): by the
    // numbers first, the subjects' names only on a tie (comparing names
    // first was a tenth of a rebuild's time).
    cells.sort_unstable_by(|(x, _), (y, _)| {
        (x.view, x.measure, x.day, x.hour, &x.a, &x.b).cmp(&(y.view, y.measure, y.day, y.hour, &y.a, &y.b))
    });
    cells
        .iter()
        .map(|(k, s)| {
            vec![
                k.view.as_str().into(),
                k.measure.as_str().into(),
                k.day.into(),
                k.hour.into(),
                k.a.clone().into(),
                k.b.clone().into(),
                s.n.into(),
                s.value.into(),
                s.business.into(),
            ]
        })
        .collect()
}

/// Adds rows of `cell_rows` to `table`.
async fn insert_cells(tx: &mut dyn Transaction, table: &str, rows: Vec<Vec<SqlValue>>) -> Result<()> {
    tx.insert_rows(
        &format!("INSERT INTO {table} (kind, measure, day, hour, a, b, n, sum_value, sum_business)"),
        rows,
        &format!(
            "ON CONFLICT (kind, measure, day, hour, a, b) DO UPDATE SET n = {table}.n + excluded.n, \
             sum_value = {table}.sum_value + excluded.sum_value, \
             sum_business = {table}.sum_business + excluded.sum_business"
        ),
        false,
    )
    .await?;
    Ok(())
}

/// What follows the day in a table's key: the hour in the cells (only
/// arrivals have hours other than 0), the clock in buckets and histograms.
#[derive(Clone, Copy, PartialEq)]
enum KeyAfterDay {
    Hour,
    Clock,
}

/// Which tables a part of a period is read from: the days' or the weeks'.
#[derive(Clone, Copy, PartialEq)]
enum Grain {
    Day,
    Week,
}

/// A part of a period: its grain and its inclusive range of day numbers
/// (for weeks, their Mondays).
#[derive(Clone, Copy)]
struct Part {
    grain: Grain,
    first: i64,
    last: i64,
}

impl Part {
    fn cells(self) -> &'static str {
        match self.grain {
            Grain::Day => "kpi_cells",
            Grain::Week => "kpi_week_cells",
        }
    }

    fn histograms(self) -> &'static str {
        match self.grain {
            Grain::Day => "kpi_histograms",
            Grain::Week => "kpi_week_histograms",
        }
    }

    fn step(self) -> usize {
        match self.grain {
            Grain::Day => 1,
            Grain::Week => 7,
        }
    }
}

/// Where a query's period is read: its whole weeks from the week tables
/// when its days are summed, every day from the day tables when they are
/// kept apart.
fn parts(q: &CellQuery) -> Vec<Part> {
    let day = |(first, last)| Part { grain: Grain::Day, first, last };
    let periods = PeriodParts::of(q.first_day, q.last_day);
    if q.by_day || periods.weeks.is_none() {
        return vec![day((q.first_day, q.last_day))];
    }
    let mut parts: Vec<Part> = periods.head.map(day).into_iter().collect();
    parts.extend(periods.weeks.map(|(first, last)| Part { grain: Grain::Week, first, last }));
    parts.extend(periods.tail.map(day));
    parts
}

/// Periods up to this many days (or weeks) are listed one by one when one
/// subject is read (see `filter`).
const LISTED_DAYS: i64 = 800;

/// `WHERE …` shared by the reads of one part of a period. For one subject
/// (`a`: an organization among hundreds, a tag, a team) every key column
/// before `a` is fixed — the days and hours (or clocks) listed — so the
/// database seeks that subject's cells instead of reading every subject's
/// cells of the period.
fn filter(q: &CellQuery, measures: &[Measure], after_day: KeyAfterDay, part: Part, p: &mut Params) -> String {
    let names: Vec<&str> = measures.iter().map(|m| m.as_str()).collect();
    let mut sql = format!(" WHERE kind = {} AND measure IN ({})", p.push(q.view.as_str()), p.list(&names));
    let seek = q.a.is_some() && part.first <= part.last && part.last - part.first < LISTED_DAYS * part.step() as i64;
    if seek {
        // Whole numbers the store made, written inline: a list of
        // parameters this long costs more to bind than to parse.
        let days: Vec<String> = (part.first..=part.last).step_by(part.step()).map(|d| d.to_string()).collect();
        sql += &format!(" AND day IN ({})", days.join(", "));
        match after_day {
            // Week cells keep every hour in hour 0.
            KeyAfterDay::Hour if measures == [Measure::Created] && part.grain == Grain::Day => {
                let hours: Vec<String> = (0..24).map(|h| h.to_string()).collect();
                sql += &format!(" AND hour IN ({})", hours.join(", "));
            }
            KeyAfterDay::Hour => sql += " AND hour = 0",
            KeyAfterDay::Clock => {}
        }
    } else {
        sql += &format!(" AND day >= {} AND day <= {}", p.push(part.first), p.push(part.last));
    }
    if after_day == KeyAfterDay::Clock {
        match q.clock {
            Some(c) => sql += &format!(" AND clock = {}", p.push(c.as_str())),
            None if seek => sql += " AND clock IN ('calendar', 'business')",
            None => {}
        }
    }
    if let Some(a) = &q.a {
        sql += &format!(" AND a = {}", p.push(a.clone()));
    }
    if let Some(b) = &q.b {
        sql += &format!(" AND b = {}", p.push(b.clone()));
    }
    sql
}

fn view(r: &SqlRow, q: &CellQuery, i: usize) -> Result<(CellView, Measure)> {
    Ok((q.view, word(Measure::parse("measure", &r.text(i)?))?))
}

pub(super) fn cells_sql(q: &CellQuery, p: &mut Params) -> String {
    let (cols, group) = if q.by_day { ("day, hour", ", day, hour") } else { ("0, 0", "") };
    // Arrivals (keyed by hour) apart from the other measures (hour 0) in
    // the days, so each part lists only the hours it has.
    let (arrivals, others): (Vec<Measure>, Vec<Measure>) = q.measures.iter().partition(|m| **m == Measure::Created);
    let mut selects: Vec<String> = Vec::new();
    for part in parts(q) {
        if part.grain == Grain::Day && !arrivals.is_empty() && !others.is_empty() {
            selects.push(format!("{}{}", part.cells(), filter(q, &arrivals, KeyAfterDay::Hour, part, p)));
            selects.push(format!("{}{}", part.cells(), filter(q, &others, KeyAfterDay::Hour, part, p)));
        } else {
            selects.push(format!("{}{}", part.cells(), filter(q, &q.measures, KeyAfterDay::Hour, part, p)));
        }
    }
    let from = match selects.as_slice() {
        [one] => one.clone(),
        _ => {
            let all: Vec<String> = selects.iter().map(|s| format!("SELECT * FROM {s}")).collect();
            format!("({}) c", all.join(" UNION ALL "))
        }
    };
    format!(
        "SELECT a, b, measure, {cols}, CAST(SUM(n) AS BIGINT), CAST(SUM(sum_value) AS BIGINT), \
         CAST(SUM(sum_business) AS BIGINT) FROM {from} GROUP BY a, b, measure{group}"
    )
}

pub(super) fn cell(r: &SqlRow, q: &CellQuery) -> Result<(CellKey, CellSums)> {
    let (view, measure) = view(r, q, 2)?;
    Ok((
        CellKey { view, a: r.text(0)?, b: r.text(1)?, measure, day: r.int(3)?, hour: r.int(4)? },
        CellSums { n: r.int(5)?, value: r.int(6)?, business: r.int(7)? },
    ))
}

/// The buckets not folded yet, of every day of the period.
pub(super) fn buckets_sql(q: &CellQuery, p: &mut Params) -> String {
    let (cols, group) = if q.by_day { ("day", ", day") } else { ("0", "") };
    let every_day = Part { grain: Grain::Day, first: q.first_day, last: q.last_day };
    let where_ = filter(q, &q.measures, KeyAfterDay::Clock, every_day, p);
    format!(
        "SELECT a, b, measure, {cols}, clock, lower_ms, CAST(SUM(n) AS BIGINT) FROM kpi_buckets{where_} \
         GROUP BY a, b, measure, clock, lower_ms{group} HAVING SUM(n) <> 0"
    )
}

/// The folded histograms a bucket query reads (`histogram` parses a row):
/// the whole weeks' and the other days'.
pub(super) fn histograms_sql(q: &CellQuery, p: &mut Params) -> String {
    let selects: Vec<String> = parts(q)
        .into_iter()
        .map(|part| {
            let where_ = filter(q, &q.measures, KeyAfterDay::Clock, part, p);
            format!("SELECT a, b, measure, day, clock, counts FROM {}{where_}", part.histograms())
        })
        .collect();
    selects.join(" UNION ALL ")
}

/// Where a bucket count is summed: subject, measure, day (0 unless by
/// day) and clock; the lower bound is kept apart, so summing a histogram
/// clones no names per bucket.
pub(super) type BucketGroup = (String, String, Measure, i64, Clock);

/// A folded histogram row: its group and its (lower bound, count) pairs.
pub(super) fn histogram(r: &SqlRow, q: &CellQuery) -> Result<(BucketGroup, Vec<(i64, i64)>)> {
    let (_, measure) = view(r, q, 2)?;
    let day = if q.by_day { r.int(3)? } else { 0 };
    let clock = word(Clock::parse("clock", &r.text(4)?))?;
    Ok(((r.text(0)?, r.text(1)?, measure, day, clock), decode_counts(&r.text(5)?)))
}

/// A folded histogram's key but the day: kind, measure, clock, a, b.
type FoldKey = (String, String, String, String, String);

/// The key of a row that starts with kind, measure, clock, a, b.
fn fold_key(r: &SqlRow) -> Result<FoldKey> {
    Ok((r.text(0)?, r.text(1)?, r.text(2)?, r.text(3)?, r.text(4)?))
}

/// The rows of one day (or week) of histograms or buckets. Every view and
/// duration listed, so each read and delete seeks the day in the key
/// (kind, measure, day, …) rather than scanning.
fn on(day: i64, p: &mut Params) -> String {
    let kinds: Vec<&str> = CellView::ALL.iter().map(|v| v.as_str()).collect();
    let measures: Vec<&str> = Measure::ALL.iter().filter(|m| is_duration(**m)).map(|m| m.as_str()).collect();
    format!("kind IN ({}) AND measure IN ({}) AND day = {}", p.list(&kinds), p.list(&measures), p.push(day))
}

/// A rebuild's summed tally as rows (`prepare_rebuilt`, away from the
/// writer): the cells' and week cells' deltas, and the buckets as counts
/// to add to the histograms of each day and week.
pub(super) struct PreparedTally {
    cells: Vec<Vec<SqlValue>>,
    week_cells: Vec<Vec<SqlValue>>,
    days: Vec<DayCounts>,
    weeks: Vec<DayCounts>,
}

/// Counts to add to one day's (or week's) histograms, by key, in order:
/// (lower bound, count) pairs.
type DayCounts = (i64, Vec<(FoldKey, Vec<(i64, i64)>)>);

impl PreparedTally {
    /// The cells' part and the histograms' part: two tables each, written
    /// apart (PostgreSQL writes them at once on two connections).
    pub(super) fn into_cells_and_histograms(self) -> (PreparedTally, PreparedTally) {
        let PreparedTally { cells, week_cells, days, weeks } = self;
        (
            PreparedTally { cells, week_cells, days: vec![], weeks: vec![] },
            PreparedTally { cells: vec![], week_cells: vec![], days, weeks },
        )
    }
}

/// Makes a rebuild's summed tally into rows.
pub(super) fn prepare_rebuilt(tally: &Tally) -> PreparedTally {
    let cells = cell_rows(tally.cells.iter().filter(|(_, s)| **s != CellSums::default()).collect());
    let week_cells = cell_rows(tally.week_cells().iter().collect());
    // The buckets as histograms, by day and by week: a few per view,
    // subject and measure instead of one row per bucket. Grouped by hash,
    // then the groups (far fewer) put in order.
    let mut days: foldhash::HashMap<Group, Vec<(i64, i64)>> = foldhash::HashMap::default();
    let mut weeks: foldhash::HashMap<Group, Vec<(i64, i64)>> = foldhash::HashMap::default();
    for (k, n) in tally.buckets.iter().filter(|(_, n)| **n != 0) {
        let (view, measure, clock, a, b) = (k.view, k.measure, k.clock, k.a.as_str(), k.b.as_str());
        days.entry((k.day, view, measure, clock, a, b)).or_default().push((k.lower, *n));
        weeks.entry((week_start(k.day), view, measure, clock, a, b)).or_default().push((k.lower, *n));
    }
    PreparedTally { cells, week_cells, days: by_day(days), weeks: by_day(weeks) }
}

/// A histogram's day (or week), view, measure, clock and subjects.
type Group<'a> = (i64, CellView, Measure, Clock, &'a str, &'a str);

/// Grouped counts by day (or week), in order, keyed as stored.
fn by_day(groups: foldhash::HashMap<Group<'_>, Vec<(i64, i64)>>) -> Vec<DayCounts> {
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_unstable_by_key(|(group, _)| *group);
    let mut out: Vec<DayCounts> = Vec::new();
    for ((day, view, measure, clock, a, b), counts) in groups {
        let key = (
            view.as_str().to_string(),
            measure.as_str().to_string(),
            clock.as_str().to_string(),
            a.to_string(),
            b.to_string(),
        );
        match out.last_mut() {
            Some((d, keys)) if *d == day => keys.push((key, counts)),
            _ => out.push((day, vec![(key, counts)])),
        }
    }
    out
}

/// Adds a prepared rebuild's tally (see `KpiStore::add_rebuilt`) within `tx`.
pub(super) async fn add_rebuilt(tx: &mut dyn Transaction, prepared: PreparedTally) -> Result<()> {
    insert_cells(tx, "kpi_cells", prepared.cells).await?;
    insert_cells(tx, "kpi_week_cells", prepared.week_cells).await?;
    add_histograms(tx, "kpi_histograms", prepared.days).await?;
    add_histograms(tx, "kpi_week_histograms", prepared.weeks).await
}

/// Adds counts to the stored histograms of `table`, one day (or week) at
/// a time: the day's stored ones read, the counts summed, the changed
/// ones written back.
async fn add_histograms(tx: &mut dyn Transaction, table: &str, adds: Vec<DayCounts>) -> Result<()> {
    for (day, keys) in adds {
        let mut p = Params::default();
        let sql = format!("SELECT kind, measure, clock, a, b, counts FROM {table} WHERE {}", on(day, &mut p));
        let mut stored = read_histograms(tx, &sql, p.values).await?;
        let mut rows = Vec::with_capacity(keys.len());
        for (key, counts) in keys {
            let mut sum = stored.remove(&key).unwrap_or_default();
            for (lower, n) in counts {
                *sum.entry(lower).or_default() += n;
            }
            let (kind, measure, clock, a, b) = key;
            rows.push(vec![
                kind.into(),
                measure.into(),
                day.into(),
                clock.into(),
                a.into(),
                b.into(),
                encode_counts(&sum).into(),
            ]);
        }
        tx.insert_rows(
            &format!("INSERT INTO {table} (kind, measure, day, clock, a, b, counts)"),
            rows,
            "ON CONFLICT (kind, measure, day, clock, a, b) DO UPDATE SET counts = excluded.counts",
            false,
        )
        .await?;
    }
    Ok(())
}

/// Folds one day's buckets into its histograms and its week's, within `tx`.
pub(super) async fn fold_day(tx: &mut dyn Transaction, day: i64) -> Result<()> {
    let mut p = Params::default();
    let sql = format!("SELECT kind, measure, clock, a, b, lower_ms, n FROM kpi_buckets WHERE {}", on(day, &mut p));
    let mut buckets: Vec<(FoldKey, i64, i64)> = Vec::new();
    for r in tx.fetch(&sql, p.values).await? {
        buckets.push((fold_key(&r)?, r.int(5)?, r.int(6)?));
    }
    let mut p = Params::default();
    let sql = format!("SELECT kind, measure, clock, a, b, counts FROM kpi_histograms WHERE {}", on(day, &mut p));
    let mut folded = read_histograms(tx, &sql, p.values).await?;
    // The week's histograms these buckets touch (only those: a late
    // change to an old day touches a few).
    let week = week_start(day);
    let touched = |p: &mut Params| {
        let week = on(week, p);
        format!(
            "{week} AND (kind, measure, clock, a, b) IN (SELECT kind, measure, clock, a, b FROM kpi_buckets WHERE {})",
            on(day, p)
        )
    };
    let mut p = Params::default();
    let sql = format!("SELECT kind, measure, clock, a, b, counts FROM kpi_week_histograms WHERE {}", touched(&mut p));
    let mut weekly = read_histograms(tx, &sql, p.values).await?;
    for (key, lower, n) in buckets {
        *weekly.entry(key.clone()).or_default().entry(lower).or_default() += n;
        *folded.entry(key).or_default().entry(lower).or_default() += n;
    }
    let mut p = Params::default();
    tx.execute(&format!("DELETE FROM kpi_week_histograms WHERE {}", touched(&mut p)), p.values).await?;
    for table in ["kpi_histograms", "kpi_buckets"] {
        let mut p = Params::default();
        tx.execute(&format!("DELETE FROM {table} WHERE {}", on(day, &mut p)), p.values).await?;
    }
    tx.execute("DELETE FROM kpi_bucket_days WHERE day = $1", vec![day.into()]).await?;
    insert_histograms(tx, "kpi_histograms", day, folded).await?;
    insert_histograms(tx, "kpi_week_histograms", week, weekly).await
}

/// Stored histograms by key, their counts summed.
async fn read_histograms(
    tx: &mut dyn Transaction,
    sql: &str,
    params: Vec<crate::SqlValue>,
) -> Result<BTreeMap<FoldKey, BTreeMap<i64, i64>>> {
    let mut out: BTreeMap<FoldKey, BTreeMap<i64, i64>> = BTreeMap::new();
    for r in tx.fetch(sql, params).await? {
        let counts = out.entry(fold_key(&r)?).or_default();
        for (lower, n) in decode_counts(&r.text(5)?) {
            *counts.entry(lower).or_default() += n;
        }
    }
    Ok(out)
}

/// Writes the histograms of one day (or week) that are not empty.
async fn insert_histograms(
    tx: &mut dyn Transaction,
    table: &str,
    day: i64,
    histograms: BTreeMap<FoldKey, BTreeMap<i64, i64>>,
) -> Result<()> {
    let rows: Vec<(FoldKey, String)> = histograms
        .into_iter()
        .map(|(k, counts)| (k, encode_counts(&counts)))
        .filter(|(_, text)| !text.is_empty())
        .collect();
    for chunk in rows.chunks(CHUNK) {
        let mut p = Params::default();
        let values: Vec<String> = chunk
            .iter()
            .map(|((kind, measure, clock, a, b), counts)| {
                format!(
                    "({}, {}, {}, {}, {}, {}, {})",
                    p.push(kind.clone()),
                    p.push(measure.clone()),
                    p.push(day),
                    p.push(clock.clone()),
                    p.push(a.clone()),
                    p.push(b.clone()),
                    p.push(counts.clone()),
                )
            })
            .collect();
        tx.execute(
            &format!("INSERT INTO {table} (kind, measure, day, clock, a, b, counts) VALUES {}", values.join(", ")),
            p.values,
        )
        .await?;
    }
    Ok(())
}

pub(super) fn bucket(r: &SqlRow, q: &CellQuery) -> Result<(BucketKey, i64)> {
    let (view, measure) = view(r, q, 2)?;
    Ok((
        BucketKey {
            view,
            a: r.text(0)?,
            b: r.text(1)?,
            measure,
            day: r.int(3)?,
            clock: word(Clock::parse("clock", &r.text(4)?))?,
            lower: r.int(5)?,
        },
        r.int(6)?,
    ))
}
