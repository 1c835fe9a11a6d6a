//! Mail HTML made safe to show: scripts, handlers and `javascript:` links
//! removed, remote images blocked (they track the reader), `cid:` images
//! pointed at the stored attachments.

use std::borrow::Cow;
use std::collections::HashMap;

use ammonia::{Builder, UrlRelative};

/// Where a stored attachment is served; the only relative URL kept.
pub const ATTACHMENT_PATH: &str = "/api/v1/attachments/";

/// Sanitizes mail HTML. `cid_urls` maps a part's Content-ID to the URL of
/// its stored attachment.
pub fn sanitize(html: &str, cid_urls: &HashMap<String, String>) -> String {
    let cids = cid_urls.clone();
    let mut schemes = ammonia::Builder::default().clone_url_schemes();
    schemes.insert("cid");
    Builder::default()
        .url_schemes(schemes)
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(move |element, attribute, value| match (element, attribute) {
            ("img", "src") => {
                let cid = value.strip_prefix("cid:")?;
                cids.get(cid).map(|url| Cow::Owned(url.clone()))
            }
            (_, "srcset") | (_, "background") => None,
            _ => Some(Cow::Borrowed(value)),
        })
        .url_relative(UrlRelative::Custom(Box::new(keep_attachment_urls)))
        .clean(html)
        .to_string()
}

fn keep_attachment_urls(url: &str) -> Option<Cow<'_, str>> {
    url.starts_with(ATTACHMENT_PATH).then_some(Cow::Borrowed(url))
}

/// Plain text of an HTML body, for mail that has no text part.
pub fn to_text(html: &str) -> String {
    let mut spaced = html.to_string();
    for tag in ["<br", "</p", "</div", "</li", "</tr", "</h1", "</h2", "</h3", "</blockquote"] {
        spaced = spaced.replace(tag, &format!("\n{tag}")).replace(&tag.to_uppercase(), &format!("\n{tag}"));
    }
    let stripped = Builder::empty().clean(&spaced).to_string();
    let text = stripped
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut out = String::new();
    let mut blank = 0;
    for line in lines {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line.trim_start_matches(' '));
        out.push('\n');
    }
    out.trim().to_string()
}
