//! `/search`: the query syntax over subjects and messages (internal notes
//! too, for staff), matches highlighted in the subject and in a snippet of
//! the conversation, 50 results a page; a search can be saved as a view.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::search::{self, SearchContext};
use serde::Deserialize;
use store::{Cursor, TicketSort};

use super::names::Names;
use super::{PageError, Shell, Staff, render};
use crate::AppState;
use crate::api::tickets::ticket_query;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search_page))
}

/// Text cut into pieces, each a match or not.
pub(crate) type Marked = Vec<(String, bool)>;

/// Marks every word of `text` that is one of `words` (compared as the
/// search indexes compare: lower-case alphanumeric tokens).
pub(crate) fn highlight(text: &str, words: &[String]) -> Marked {
    let mut out: Marked = Vec::new();
    let mut piece = String::new();
    let mut in_word = false;
    let flush = |piece: &mut String, in_word: bool, out: &mut Marked| {
        if piece.is_empty() {
            return;
        }
        let hit = in_word && words.contains(&piece.to_lowercase());
        match out.last_mut() {
            Some((last, false)) if !hit => last.push_str(piece),
            _ => out.push((std::mem::take(piece), hit)),
        }
        piece.clear();
    };
    for c in text.chars() {
        let w = c.is_alphanumeric();
        if w != in_word {
            flush(&mut piece, in_word, &mut out);
            in_word = w;
        }
        piece.push(c);
    }
    flush(&mut piece, in_word, &mut out);
    out
}

/// About `width` characters of `text` around its first match.
pub(crate) fn snippet(text: &str, words: &[String], width: usize) -> Marked {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = flat.chars().collect();
    let lower: String = flat.to_lowercase();
    let first = words
        .iter()
        .filter_map(|w| lower.find(w.as_str()))
        .min()
        .map(|byte| lower[..byte].chars().count())
        .unwrap_or(0);
    let start = first.saturating_sub(width / 3);
    let end = (start + width).min(chars.len());
    let mut piece: String = chars[start..end].iter().collect();
    if start > 0 {
        piece.insert(0, '…');
    }
    if end < chars.len() {
        piece.push('…');
    }
    highlight(&piece, words)
}

struct Hit {
    id: i64,
    subject: Marked,
    snippet: Marked,
    status: &'static str,
    requester: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    shell: Shell,
    q: String,
    error: Option<String>,
    hits: Vec<Hit>,
    next: Option<String>,
    searched: bool,
}

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    q: String,
    cursor: Option<String>,
}

async fn search_page(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(p): Query<Params>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &caller, "/search").await?;
    let q = p.q.trim().to_string();
    let mut page = SearchPage { shell, q: q.clone(), error: None, hits: vec![], next: None, searched: !q.is_empty() };
    if q.is_empty() {
        return Ok(render(&page)?.into_response());
    }
    let parsed = match search::parse(&q, SearchContext { me: caller.staff_id() }) {
        Ok(p) => p,
        Err(e) => {
            page.error = Some(e.message);
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let words = parsed.text.words();
    let after = match p.cursor.as_deref() {
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| ApiError::bad_request("not a page of this search"))?),
        None => None,
    };
    // Newest change first: the ticket an agent looks for is usually live.
    let sort = TicketSort::parse("-updated").unwrap_or_else(TicketSort::newest_first);
    let query = ticket_query(&caller, &q, sort, after, 50)?;
    let found = state.store.tickets(&query).await?;
    let ids: Vec<_> = found.items.iter().map(|t| t.id).collect();
    let texts = if words.is_empty() { vec![] } else { state.store.ticket_texts(&ids, true).await? };
    let names = Names::load(&state, &found.items).await?;
    page.hits = found
        .items
        .iter()
        .map(|t| {
            let text = texts.iter().find(|(id, _)| *id == t.id).map(|(_, s)| s.as_str()).unwrap_or_default();
            Hit {
                id: t.id.0,
                subject: highlight(&t.subject, &words),
                snippet: if words.is_empty() { vec![] } else { snippet(text, &words, 180) },
                status: t.status.as_str(),
                requester: names.customer(t.requester_id.0),
                updated: page.shell.when(t.updated_at).text,
            }
        })
        .collect();
    page.next = found.next.map(|c| {
        format!(
            "/search?{}",
            serde_urlencoded::to_string([("q", q.as_str()), ("cursor", &c.encode())]).unwrap_or_default()
        )
    });
    Ok(render(&page)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_marked_as_words() {
        let words = vec!["refund".to_string(), "card".to_string()];
        let marked = highlight("Refund to my card, not cardboard!", &words);
        assert_eq!(
            marked,
            vec![
                ("Refund".to_string(), true),
                (" to my ".to_string(), false),
                ("card".to_string(), true),
                (", not cardboard!".to_string(), false)
            ]
        );
        let long = format!("{} the refund arrived {}", "word ".repeat(100), "tail ".repeat(100));
        let s = snippet(&long, &words, 60);
        assert!(s.first().is_some_and(|(t, _)| t.starts_with('…')));
        assert!(s.iter().any(|(t, hit)| *hit && t == "refund"));
        assert!(s.iter().map(|(t, _)| t.chars().count()).sum::<usize>() <= 62);
    }
}
