//! Request extractors: JSON bodies with clear errors, the signed-in caller,
//! `If-Match` and `Idempotency-Key`.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use bytes::Bytes;
use domain::policy::Action;
use domain::{Actor, AuthorKind, Principal, Ticket, UserId};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use store::PrincipalRef;

use crate::accounts::{SESSION_COOKIE, hash_token};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A JSON body: wrong content type is 415, a body over the limit 413,
/// malformed JSON, unknown fields and wrong types 400 with serde's message
/// (which names the field). Keeps the raw bytes for idempotency.
pub struct ApiJson<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let raw = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::bad_request(e.body_text())
            }
        })?;
        let value = serde_json::from_slice(&raw).map_err(|e| ApiError::BadRequest {
            code: if e.is_data() { "invalid_field" } else { "invalid_json" },
            message: e.to_string(),
        })?;
        Ok(Self { value, raw })
    }
}

/// The signed-in caller, from a bearer token or the session cookie.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub who: PrincipalRef,
    /// The session's token hash, when signed in by cookie.
    pub session: Option<String>,
}

fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|all| {
        all.split(';').map(str::trim).find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=').map(str::to_string))
    })
}

/// A cookie-authenticated write must come from our own pages: browsers send
/// `Sec-Fetch-Site` and `Origin` on cross-site requests, and we refuse them.
fn cross_site(parts: &Parts) -> bool {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let site = parts.headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(site, Some("cross-site") | Some("same-site")) {
        return true;
    }
    let origin = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(o), Some(h)) => o.split("://").nth(1) != Some(h),
        _ => false,
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let now = state.now();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let (key, session) = match (bearer, cookie(parts, SESSION_COOKIE)) {
            (Some(token), _) => (format!("t:{}", hash_token(token)), None),
            (None, Some(token)) => {
                if cross_site(parts) {
                    return Err(ApiError::Forbidden);
                }
                let hash = hash_token(&token);
                (format!("s:{hash}"), Some(hash))
            }
            (None, None) => return Err(ApiError::Unauthorized("sign in, or send Authorization: Bearer <token>")),
        };
        if let Some((who, principal)) = state.caches.principal(&key, now) {
            return Ok(Caller { principal, who, session });
        }
        let who = match &session {
            None => {
                let (_, user) = state
                    .store
                    .api_token(&key[2..], now)
                    .await?
                    .ok_or(ApiError::Unauthorized("the API token is unknown or revoked"))?;
                PrincipalRef::Staff(user)
            }
            Some(hash) => state
                .store
                .session(hash, now)
                .await?
                .ok_or(ApiError::Unauthorized("the session has ended; sign in again"))?,
        };
        let principal = match who {
            PrincipalRef::Staff(id) => {
                let (user, p) = state.store.staff_principal(id).await?.ok_or(ApiError::Unauthorized("unknown user"))?;
                if !user.active {
                    return Err(ApiError::Unauthorized("this account is deactivated"));
                }
                Principal::Staff(p)
            }
            PrincipalRef::Customer(id) => {
                let (_, p) =
                    state.store.customer_principal(id).await?.ok_or(ApiError::Unauthorized("unknown customer"))?;
                Principal::Customer(p)
            }
        };
        state.caches.remember_principal(&key, now, who, &principal);
        Ok(Caller { principal, who, session })
    }
}

impl Caller {
    pub fn actor(&self) -> Actor {
        match self.who {
            PrincipalRef::Staff(u) => Actor { kind: AuthorKind::Staff, id: Some(u.0) },
            PrincipalRef::Customer(c) => Actor { kind: AuthorKind::Customer, id: Some(c.0) },
        }
    }

    /// `staff:7` or `customer:3`, for the audit log and idempotency scopes.
    pub fn label(&self) -> String {
        match self.who {
            PrincipalRef::Staff(u) => format!("staff:{u}"),
            PrincipalRef::Customer(c) => format!("customer:{c}"),
        }
    }

    pub fn staff_id(&self) -> Option<UserId> {
        match self.who {
            PrincipalRef::Staff(u) => Some(u),
            PrincipalRef::Customer(_) => None,
        }
    }

    /// Allows the action or answers 403, recording the refusal.
    pub async fn require(&self, state: &AppState, action: Action) -> ApiResult<()> {
        if self.principal.may(action, None) {
            return Ok(());
        }
        state.audit(&self.label(), &format!("{action:?}"), "-", false, serde_json::Value::Null).await;
        Err(ApiError::Forbidden)
    }

    /// Allows an action on a ticket. A ticket the caller may not see is 404,
    /// so ids do not leak; one they see but may not change is 403.
    pub async fn require_ticket(&self, state: &AppState, action: Action, ticket: &Ticket) -> ApiResult<()> {
        if self.principal.may(action, Some(ticket)) {
            return Ok(());
        }
        state
            .audit(
                &self.label(),
                &format!("{action:?}"),
                &format!("ticket:{}", ticket.id),
                false,
                serde_json::Value::Null,
            )
            .await;
        if self.principal.can_see(ticket) { Err(ApiError::Forbidden) } else { Err(ApiError::NotFound) }
    }
}

/// The `If-Match` header, as the ticket version it names.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(raw) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = raw.to_str().map_err(|_| ApiError::bad_request("If-Match is not text"))?;
        if text.trim() == "*" {
            return Ok(IfMatch(None));
        }
        parse_etag(text).map(|v| IfMatch(Some(v))).ok_or_else(|| {
            ApiError::bad_request(format!("If-Match must be an ETag this API gave, like \"3\"; got {text}"))
        })
    }
}

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

fn parse_etag(text: &str) -> Option<i64> {
    text.trim().trim_start_matches("W/").trim_matches('"').parse().ok()
}

/// The `Idempotency-Key` header, if sent.
pub struct IdempotencyHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(raw) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let key = raw.to_str().map_err(|_| ApiError::bad_request("Idempotency-Key must be text"))?.trim();
        if key.is_empty() || key.len() > 255 {
            return Err(ApiError::bad_request("Idempotency-Key must be 1 to 255 characters"));
        }
        Ok(Self(Some(key.to_string())))
    }
}

impl IdempotencyHeader {
    /// The storage key: scoped to the caller and the route, with a hash of
    /// the body so a reused key with a different body is refused.
    pub fn key(&self, caller: &Caller, route: &str, body: &[u8]) -> Option<store::IdempotencyKey> {
        let key = self.0.as_ref()?;
        Some(store::IdempotencyKey {
            scope: format!("{}:{route}", caller.label()),
            key: key.clone(),
            request_hash: hex::encode(Sha256::digest(body)),
        })
    }
}

/// For optional fields of an update: absent stays `None`, `null` becomes
/// `Some(None)` (clear the field), a value `Some(Some(v))`.
pub fn nullable<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}
