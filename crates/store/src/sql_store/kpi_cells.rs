//! The rollup's cells (domain::kpi::cells): written as deltas, read
//! summed by the database.

use domain::kpi::Measure;
use std::collections::BTreeMap;

use domain::kpi::cells::{
    BucketKey, CellKey, CellQuery, CellSums, CellView, Clock, Tally, decode_counts, encode_counts, is_duration,
};

use super::Params;
use crate::rows::word;
use crate::{Result, SqlRow, Transaction};

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
    // In one order for every writer, so two writers touching the same
    // cells lock them in the same order (no deadlock on PostgreSQL): by the
    // numbers first, the subjects' names only on a tie (comparing names
    // first was a tenth of a rebuild's time).
    let mut cells: Vec<(&CellKey, &CellSums)> = delta.cells.iter().collect();
    cells.sort_unstable_by(|(x, _), (y, _)| {
        (x.view, x.measure, x.day, x.hour, &x.a, &x.b).cmp(&(y.view, y.measure, y.day, y.hour, &y.a, &y.b))
    });
    for chunk in cells.chunks(CHUNK) {
        let mut p = Params::default();
        let values: Vec<String> = chunk
            .iter()
            .map(|(k, s)| {
                format!(
                    "({}, {}, {}, {}, {}, {}, {}, {}, {})",
                    p.push(k.view.as_str()),
                    p.push(k.measure.as_str()),
                    p.push(k.day),
                    p.push(k.hour),
                    p.push(k.a.clone()),
                    p.push(k.b.clone()),
                    p.push(s.n),
                    p.push(s.value),
                    p.push(s.business),
                )
            })
            .collect();
        tx.execute(
            &format!(
                "INSERT INTO kpi_cells (kind, measure, day, hour, a, b, n, sum_value, sum_business) VALUES {} \
                 ON CONFLICT (kind, measure, day, hour, a, b) DO UPDATE SET n = kpi_cells.n + excluded.n, \
                 sum_value = kpi_cells.sum_value + excluded.sum_value, \
                 sum_business = kpi_cells.sum_business + excluded.sum_business",
                values.join(", ")
            ),
            p.values,
        )
        .await?;
    }
    let mut buckets: Vec<(&BucketKey, &i64)> = delta.buckets.iter().collect();
    buckets.sort_unstable_by(|(x, _), (y, _)| {
        (x.view, x.measure, x.day, x.clock, x.lower, &x.a, &x.b)
            .cmp(&(y.view, y.measure, y.day, y.clock, y.lower, &y.a, &y.b))
    });
    for chunk in buckets.chunks(CHUNK) {
        let mut p = Params::default();
        let values: Vec<String> = chunk
            .iter()
            .map(|(k, n)| {
                format!(
                    "({}, {}, {}, {}, {}, {}, {}, {})",
                    p.push(k.view.as_str()),
                    p.push(k.measure.as_str()),
                    p.push(k.day),
                    p.push(k.clock.as_str()),
                    p.push(k.a.clone()),
                    p.push(k.b.clone()),
                    p.push(k.lower),
                    p.push(**n),
                )
            })
            .collect();
        tx.execute(
            &format!(
                "INSERT INTO kpi_buckets (kind, measure, day, clock, a, b, lower_ms, n) VALUES {} \
                 ON CONFLICT (kind, measure, day, clock, a, b, lower_ms) DO UPDATE SET n = kpi_buckets.n + excluded.n",
                values.join(", ")
            ),
            p.values,
        )
        .await?;
    }
    // The days the fold will find buckets on.
    let days: std::collections::BTreeSet<i64> = delta.buckets.keys().map(|k| k.day).collect();
    let days: Vec<i64> = days.into_iter().collect();
    for chunk in days.chunks(CHUNK) {
        let mut p = Params::default();
        let values: Vec<String> = chunk.iter().map(|d| format!("({})", p.push(*d))).collect();
        tx.execute(
            &format!("INSERT INTO kpi_bucket_days (day) VALUES {} ON CONFLICT (day) DO NOTHING", values.join(", ")),
            p.values,
        )
        .await?;
    }
    Ok(())
}

/// What follows the day in a table's key: the hour in the cells (only
/// arrivals have hours other than 0), the clock in buckets and histograms.
#[derive(Clone, Copy, PartialEq)]
enum KeyAfterDay {
    Hour,
    Clock,
}

/// Periods up to this many days are listed day by day when one subject is
/// read (see `filter`).
const LISTED_DAYS: i64 = 800;

/// `WHERE …` shared by the reads. For one subject (`a`: an organization
/// among hundreds, a tag, a team) every key column before `a` is fixed —
/// the days and hours (or clocks) listed — so the database seeks that
/// subject's cells instead of reading every subject's cells of the period.
fn filter(q: &CellQuery, measures: &[Measure], after_day: KeyAfterDay, p: &mut Params) -> String {
    let names: Vec<&str> = measures.iter().map(|m| m.as_str()).collect();
    let mut sql = format!(" WHERE kind = {} AND measure IN ({})", p.push(q.view.as_str()), p.list(&names));
    let seek = q.a.is_some() && q.first_day <= q.last_day && q.last_day - q.first_day < LISTED_DAYS;
    if seek {
        // Whole numbers the store made, written inline: a list of
        // parameters this long costs more to bind than to parse.
        let days: Vec<String> = (q.first_day..=q.last_day).map(|d| d.to_string()).collect();
        sql += &format!(" AND day IN ({})", days.join(", "));
        match after_day {
            KeyAfterDay::Hour if measures == [Measure::Created] => {
                let hours: Vec<String> = (0..24).map(|h| h.to_string()).collect();
                sql += &format!(" AND hour IN ({})", hours.join(", "));
            }
            KeyAfterDay::Hour => sql += " AND hour = 0",
            KeyAfterDay::Clock => {}
        }
    } else {
        sql += &format!(" AND day >= {} AND day <= {}", p.push(q.first_day), p.push(q.last_day));
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
    // Arrivals (keyed by hour) apart from the other measures (hour 0),
    // so each part lists only the hours it has.
    let (arrivals, others): (Vec<Measure>, Vec<Measure>) = q.measures.iter().partition(|m| **m == Measure::Created);
    let from = match (arrivals.is_empty(), others.is_empty()) {
        (false, false) => format!(
            "(SELECT * FROM kpi_cells{} UNION ALL SELECT * FROM kpi_cells{}) c",
            filter(q, &arrivals, KeyAfterDay::Hour, p),
            filter(q, &others, KeyAfterDay::Hour, p)
        ),
        _ => format!("kpi_cells{}", filter(q, &q.measures, KeyAfterDay::Hour, p)),
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

pub(super) fn buckets_sql(q: &CellQuery, p: &mut Params) -> String {
    let (cols, group) = if q.by_day { ("day", ", day") } else { ("0", "") };
    let where_ = filter(q, &q.measures, KeyAfterDay::Clock, p);
    format!(
        "SELECT a, b, measure, {cols}, clock, lower_ms, CAST(SUM(n) AS BIGINT) FROM kpi_buckets{where_} \
         GROUP BY a, b, measure, clock, lower_ms{group} HAVING SUM(n) <> 0"
    )
}

/// The folded histograms a bucket query reads (`histogram` parses a row).
pub(super) fn histograms_sql(q: &CellQuery, p: &mut Params) -> String {
    let where_ = filter(q, &q.measures, KeyAfterDay::Clock, p);
    format!("SELECT a, b, measure, day, clock, counts FROM kpi_histograms{where_}")
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

/// Folds one day's buckets into its histograms, within `tx`.
pub(super) async fn fold_day(tx: &mut dyn Transaction, day: i64) -> Result<()> {
    type Key = (String, String, String, String, String);
    // Every view and duration listed, so each read and delete seeks the
    // day in the key (kind, measure, day, …) rather than scanning.
    let of_day = |p: &mut Params| {
        let kinds: Vec<&str> = CellView::ALL.iter().map(|v| v.as_str()).collect();
        let measures: Vec<&str> = Measure::ALL.iter().filter(|m| is_duration(**m)).map(|m| m.as_str()).collect();
        format!("kind IN ({}) AND measure IN ({}) AND day = {}", p.list(&kinds), p.list(&measures), p.push(day))
    };
    let mut folded: BTreeMap<Key, BTreeMap<i64, i64>> = BTreeMap::new();
    let mut p = Params::default();
    let sql = format!("SELECT kind, measure, clock, a, b, counts FROM kpi_histograms WHERE {}", of_day(&mut p));
    for r in tx.fetch(&sql, p.values).await? {
        let counts = folded.entry((r.text(0)?, r.text(1)?, r.text(2)?, r.text(3)?, r.text(4)?)).or_default();
        for (lower, n) in decode_counts(&r.text(5)?) {
            *counts.entry(lower).or_default() += n;
        }
    }
    let mut p = Params::default();
    let sql = format!("SELECT kind, measure, clock, a, b, lower_ms, n FROM kpi_buckets WHERE {}", of_day(&mut p));
    for r in tx.fetch(&sql, p.values).await? {
        let key = (r.text(0)?, r.text(1)?, r.text(2)?, r.text(3)?, r.text(4)?);
        *folded.entry(key).or_default().entry(r.int(5)?).or_default() += r.int(6)?;
    }
    for table in ["kpi_histograms", "kpi_buckets"] {
        let mut p = Params::default();
        tx.execute(&format!("DELETE FROM {table} WHERE {}", of_day(&mut p)), p.values).await?;
    }
    tx.execute("DELETE FROM kpi_bucket_days WHERE day = $1", vec![day.into()]).await?;
    let rows: Vec<(Key, String)> = folded
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
            &format!(
                "INSERT INTO kpi_histograms (kind, measure, day, clock, a, b, counts) VALUES {}",
                values.join(", ")
            ),
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
