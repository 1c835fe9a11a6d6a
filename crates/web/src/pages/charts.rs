//! Charts drawn as SVG on the server: no script, scalable, and each shown
//! with a table of the same numbers for screen readers. Text in a chart is
//! escaped here, so a chart can be put into a page as it is.

/// An SVG made by this module (so safe to embed).
#[derive(Debug, Clone)]
pub(crate) struct Svg(String);

impl Svg {
    pub fn markup(&self) -> &str {
        &self.0
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Daily counts as bars, the days from `highlight_from` on marked (a
/// spike); `label` names the chart for assistive technology.
pub(crate) fn daily_bars(values: &[i64], highlight_from: Option<usize>, label: &str) -> Svg {
    let (w, h) = (300.0_f64, 60.0_f64);
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = values.len().max(1) as f64;
    let bar = w / n;
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    for (i, v) in values.iter().enumerate() {
        let bh = (*v as f64 / max * (h - 2.0)).max(if *v > 0 { 1.0 } else { 0.0 });
        let class = if highlight_from.is_some_and(|f| i >= f) { "bar spike" } else { "bar" };
        out.push_str(&format!(
            "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{v}</title></rect>",
            i as f64 * bar + 0.5,
            h - bh,
            (bar - 1.0).max(0.5),
            bh
        ));
    }
    out.push_str("</svg>");
    Svg(out)
}

/// A horizontal bar per row, for shares (0–1) such as CSAT by topic.
pub(crate) fn share_bars(rows: &[(String, f64)], label: &str) -> Svg {
    let line = 18.0_f64;
    let (w, h) = (360.0_f64, line * rows.len().max(1) as f64);
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    for (i, (name, share)) in rows.iter().enumerate() {
        let y = i as f64 * line;
        let bw = share.clamp(0.0, 1.0) * 200.0;
        out.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\" class=\"label\">{}</text><rect class=\"bar\" x=\"150\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\"></rect><text x=\"{:.1}\" y=\"{:.1}\" class=\"label\">{:.0}%</text>",
            y + 13.0,
            escape(&name.chars().take(22).collect::<String>()),
            y + 3.0,
            line - 6.0,
            155.0 + bw,
            y + 13.0,
            share * 100.0
        ));
    }
    out.push_str("</svg>");
    Svg(out)
}

/// Two daily series side by side per day (arrivals and solves), each bar
/// titled with its number.
pub(crate) fn daily_pairs(a: &[i64], b: &[i64], label: &str) -> Svg {
    let (w, h) = (600.0_f64, 120.0_f64);
    let max = a.iter().chain(b).copied().max().unwrap_or(0).max(1) as f64;
    let n = a.len().max(b.len()).max(1) as f64;
    let slot = w / n;
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    for (series, (values, class)) in [(a, "bar"), (b, "bar second")].iter().enumerate() {
        for (i, v) in values.iter().enumerate() {
            let bh = (*v as f64 / max * (h - 2.0)).max(if *v > 0 { 1.0 } else { 0.0 });
            out.push_str(&format!(
                "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{v}</title></rect>",
                i as f64 * slot + series as f64 * slot / 2.0 + 0.25,
                h - bh,
                (slot / 2.0 - 0.5).max(0.25),
                bh
            ));
        }
    }
    out.push_str("</svg>");
    Svg(out)
}

/// Daily shares (0–1) as bars on a fixed 0–100% scale; a day with none
/// is a gap. Each bar is titled with its percentage.
pub(crate) fn daily_shares(values: &[Option<f64>], label: &str) -> Svg {
    let (w, h) = (600.0_f64, 80.0_f64);
    let slot = w / values.len().max(1) as f64;
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    for (i, v) in values.iter().enumerate() {
        let Some(share) = v else { continue };
        let bh = (share.clamp(0.0, 1.0) * (h - 2.0)).max(1.0);
        out.push_str(&format!(
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\"><title>{:.0}%</title></rect>",
            i as f64 * slot + 0.25,
            h - bh,
            (slot - 0.5).max(0.25),
            share * 100.0
        ));
    }
    out.push_str("</svg>");
    Svg(out)
}

/// A horizontal bar per row for counts (buckets of a distribution, a mix).
pub(crate) fn count_bars(rows: &[(String, i64)], label: &str) -> Svg {
    let line = 18.0_f64;
    let (w, h) = (420.0_f64, line * rows.len().max(1) as f64);
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    for (i, (name, count)) in rows.iter().enumerate() {
        let y = i as f64 * line;
        let bw = *count as f64 / max * 220.0;
        out.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\" class=\"label\">{}</text><rect class=\"bar\" x=\"140\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\"></rect><text x=\"{:.1}\" y=\"{:.1}\" class=\"label\">{count}</text>",
            y + 13.0,
            escape(&name.chars().take(20).collect::<String>()),
            y + 3.0,
            line - 6.0,
            145.0 + bw,
            y + 13.0,
        ));
    }
    out.push_str("</svg>");
    Svg(out)
}

/// A grid of counts (weekday × hour), darker for more.
pub(crate) fn heatmap(grid: &[Vec<i64>], row_labels: &[&str], label: &str) -> Svg {
    let cell = 16.0_f64;
    let cols = grid.iter().map(Vec::len).max().unwrap_or(0);
    let (w, h) = (40.0 + cell * cols as f64, cell * grid.len().max(1) as f64);
    let max = grid.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    for (r, row) in grid.iter().enumerate() {
        let y = r as f64 * cell;
        let name = row_labels.get(r).copied().unwrap_or_default();
        out.push_str(&format!("<text x=\"0\" y=\"{:.1}\" class=\"label\">{}</text>", y + 12.0, escape(name)));
        for (c, v) in row.iter().enumerate() {
            let opacity = 0.08 + 0.92 * (*v as f64 / max);
            out.push_str(&format!(
                "<rect class=\"cell\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill-opacity=\"{opacity:.2}\"><title>{} {c:02}:00 {v}</title></rect>",
                40.0 + c as f64 * cell,
                cell - 1.0,
                cell - 1.0,
                escape(name)
            ));
        }
    }
    out.push_str("</svg>");
    Svg(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_mark_and_escape() {
        let s = daily_bars(&[0, 5, 10], Some(2), "Tickets <a>");
        let m = s.markup();
        assert!(m.contains("aria-label=\"Tickets &lt;a&gt;\""));
        assert_eq!(m.matches("<rect").count(), 3);
        assert_eq!(m.matches("bar spike").count(), 1);
        assert!(m.contains("height=\"58.0\""), "the highest bar fills the chart: {m}");
        let s = share_bars(&[("<b>".into(), 0.5)], "CSAT");
        assert!(s.markup().contains("&lt;b&gt;") && s.markup().contains("50%"));
    }

    #[test]
    fn pairs_counts_and_heatmaps_draw_every_value() {
        let p = daily_pairs(&[1, 2], &[3, 0], "In and out");
        assert_eq!(p.markup().matches("<rect").count(), 4);
        assert_eq!(p.markup().matches("bar second").count(), 2);
        let c = count_bars(&[("under 15 min".into(), 4), ("1–4 h".into(), 2)], "Spread");
        assert!(c.markup().contains(">4</text>") && c.markup().contains("width=\"220.0\""), "{}", c.markup());
        let m = heatmap(&[vec![0, 5], vec![10, 0]], &["Mon", "Tue"], "Arrivals");
        assert_eq!(m.markup().matches("class=\"cell\"").count(), 4);
        assert!(m.markup().contains("fill-opacity=\"1.00\"><title>Tue 00:00 10"));
    }
}
