//! Cursor pages with absolute `next` links (clients such as zenpy follow
//! the link verbatim).

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Uri, header};
use serde::Serialize;
use store::Cursor;

use crate::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageMeta {
    pub has_more: bool,
    pub after_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageLinks {
    pub next: Option<String>,
}

/// The `meta` and `links` of a page: the next link is this request's URL
/// with `cursor` set to the page's last position.
pub fn page(state: &AppState, headers: &HeaderMap, uri: &Uri, next: Option<Cursor>) -> (PageMeta, PageLinks) {
    let cursor = next.map(|c| c.encode());
    let link = cursor.as_ref().map(|c| {
        let base = state.settings.public_url.clone().unwrap_or_else(|| {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            format!("http://{host}")
        });
        let mut query: BTreeMap<String, String> =
            serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
        query.insert("cursor".into(), c.clone());
        let qs = serde_urlencoded::to_string(&query).unwrap_or_default();
        format!("{}{}?{qs}", base.trim_end_matches('/'), uri.path())
    });
    (PageMeta { has_more: cursor.is_some(), after_cursor: cursor }, PageLinks { next: link })
}

/// `limit` (1 to 100, default 50) and `cursor` of a list request.
pub fn limit_and_cursor(limit: Option<u32>, cursor: Option<&str>) -> Result<(u32, Option<Cursor>), crate::ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(crate::ApiError::bad_request("limit must be between 1 and 100"));
    }
    let cursor = match cursor {
        None | Some("") => None,
        Some(c) => {
            Some(Cursor::decode(c).ok_or_else(|| crate::ApiError::bad_request("cursor is not one this API gave"))?)
        }
    };
    Ok((limit, cursor))
}
