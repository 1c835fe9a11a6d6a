//! Where the new part of a reply ends: quoted history and signatures are
//! folded for display, while the full text stays stored.

/// Byte offset in `text` where the quoted history or signature starts, if
/// there is one. Everything before it is what the sender wrote now.
pub fn fold_at(text: &str) -> Option<usize> {
    let mut offset = 0;
    let mut first_quote: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        let starts_history = t == "--"
            || t == "-- "
            || line.trim_end_matches(['\r', '\n']) == "-- "
            || t.starts_with("-----Original Message-----")
            || t.starts_with("---------- Forwarded message")
            || t.starts_with("________________________________")
            || (t.starts_with("On ") && t.ends_with("wrote:"))
            || (t.starts_with("Am ") && t.ends_with("schrieb:"))
            || (t.starts_with("Le ") && t.ends_with("a écrit :"))
            || (t.starts_with("El ") && t.ends_with("escribió:"))
            || t.starts_with("Sent from my ");
        if starts_history && offset > 0 {
            return Some(offset);
        }
        if t.starts_with('>') {
            first_quote.get_or_insert(offset);
        } else if !t.is_empty() {
            // Text after a quote: an inline reply, keep everything.
            first_quote = None;
        }
        offset += line.len();
    }
    first_quote.filter(|q| *q > 0)
}
