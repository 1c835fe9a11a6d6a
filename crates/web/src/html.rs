//! Message bodies: plain text plus sanitized HTML, whichever the client sent.

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text and keeps its paragraphs and line breaks, for messages sent
/// as plain text.
pub fn text_to_html(text: &str) -> String {
    escape(&text.replace("\r\n", "\n"))
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", p.replace('\n', "<br>")))
        .collect::<Vec<_>>()
        .concat()
}

/// Keeps safe markup only: no scripts, styles, event handlers or remote
/// images (which would tell a sender when an agent opened their message).
pub fn sanitize(html: &str) -> String {
    let mut b = ammonia::Builder::default();
    b.url_schemes(["http", "https", "mailto", "cid"].into_iter().collect());
    b.attribute_filter(|element, attribute, value| {
        if element == "img" && attribute == "src" && !value.starts_with("cid:") {
            return None;
        }
        Some(value.into())
    });
    b.link_rel(Some("noopener noreferrer nofollow"));
    b.clean(html).to_string()
}

/// The text of an HTML body, for search and plain-text views.
pub fn html_to_text(html: &str) -> String {
    let stripped = ammonia::Builder::empty().clean(html).to_string();
    stripped
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_remote_images_are_removed() {
        let dirty = r#"<p onclick="x()">Hi <script>alert(1)</script><img src="https://t.example/p.gif"><img src="cid:logo"></p>"#;
        let clean = sanitize(dirty);
        assert!(!clean.contains("script"));
        assert!(!clean.contains("onclick"));
        assert!(!clean.contains("t.example"));
        assert!(clean.contains("cid:logo"));
    }

    #[test]
    fn text_becomes_escaped_paragraphs() {
        assert_eq!(text_to_html("a <b>\nc\n\nd"), "<p>a &lt;b&gt;<br>c</p><p>d</p>");
        assert_eq!(html_to_text("<p>Fish &amp; chips</p>"), "Fish & chips");
    }
}
