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
}
