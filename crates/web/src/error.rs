//! The API's one error type: each variant has its status and a stable code,
//! rendered as `{"error": {"code", "message", "details"}}`. Internal errors
//! are logged (inside the request's span, so with its request id) and shown
//! only as "internal error".

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::DomainError;
use serde_json::{Value, json};
use store::StoreError;

#[derive(Debug)]
pub enum ApiError {
    /// Malformed request: bad JSON, unknown fields, wrong types, bad query.
    BadRequest {
        code: &'static str,
        message: String,
    },
    /// Well-formed but breaks a rule; details name each field.
    Invalid(Vec<DomainError>),
    Unauthorized(&'static str),
    Forbidden,
    NotFound,
    /// No endpoint at this path.
    NoRoute,
    Conflict {
        code: &'static str,
        message: String,
    },
    /// `If-Match` did not match; carries the current representation.
    Stale {
        current: Value,
        etag: String,
    },
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyRequests {
        retry_after_secs: u64,
    },
    /// Storage failed for a reason that may pass (database, disk): retry.
    Unavailable(String),
    Internal(String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest { code: "bad_request", message: message.into() }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid(vec![DomainError::new(field, message)])
    }

    /// One line for people outside HTTP (the command line).
    pub fn describe(&self) -> String {
        match self {
            ApiError::Invalid(errors) => {
                errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
            }
            other => other.parts().2,
        }
    }

    /// The stable code clients match on (`invalid`, `stale`, `not_found` …).
    pub fn code(&self) -> &'static str {
        self.parts().1
    }

    fn parts(&self) -> (StatusCode, &'static str, String, Value) {
        match self {
            ApiError::BadRequest { code, message } => (StatusCode::BAD_REQUEST, code, message.clone(), Value::Null),
            ApiError::Invalid(errors) => {
                let mut fields = serde_json::Map::new();
                for e in errors {
                    let entry = fields.entry(e.field.clone()).or_insert_with(|| json!([]));
                    if let Some(list) = entry.as_array_mut() {
                        list.push(json!(e.message));
                    }
                }
                let message = errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", message, json!({ "fields": fields }))
            }
            ApiError::Unauthorized(why) => (StatusCode::UNAUTHORIZED, "unauthorized", why.to_string(), Value::Null),
            ApiError::Forbidden => {
                (StatusCode::FORBIDDEN, "forbidden", "your role does not allow this".into(), Value::Null)
            }
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "no such record".into(), Value::Null),
            ApiError::NoRoute => (
                StatusCode::NOT_FOUND,
                "no_route",
                "there is no such endpoint; see /api/v1/openapi.json".into(),
                Value::Null,
            ),
            ApiError::Conflict { code, message } => (StatusCode::CONFLICT, code, message.clone(), Value::Null),
            ApiError::Stale { current, .. } => (
                StatusCode::PRECONDITION_FAILED,
                "stale",
                "the ticket was changed by someone else since you loaded it; here is its current state".into(),
                json!({ "current": current }),
            ),
            ApiError::PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body is too large".into(), Value::Null)
            }
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send JSON with Content-Type: application/json".into(),
                Value::Null,
            ),
            ApiError::TooManyRequests { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("too many attempts; try again in {retry_after_secs} seconds"),
                Value::Null,
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "storage is unavailable; try again later".into(),
                Value::Null,
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; it has been logged".into(),
                Value::Null,
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) | ApiError::Unavailable(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let (status, code, message, details) = self.parts();
        let body = json!({ "error": { "code": code, "message": message, "details": details } });
        let mut response = (status, axum::Json(body)).into_response();
        match &self {
            ApiError::TooManyRequests { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            ApiError::Stale { etag, .. } => {
                if let Ok(v) = HeaderValue::from_str(etag) {
                    response.headers_mut().insert(header::ETAG, v);
                }
            }
            ApiError::Unauthorized(_) => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Invalid(vec![e])
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Duplicate(field) => {
                ApiError::Conflict { code: "duplicate", message: format!("{field} is already taken") }
            }
            StoreError::VersionConflict => ApiError::Conflict {
                code: "conflict",
                message: "the record was changed by someone else; reload and try again".into(),
            },
            StoreError::IdempotencyMismatch => ApiError::Conflict {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was already used for a different request".into(),
            },
            StoreError::MissingReference(what) => ApiError::invalid("reference", format!("{what} does not exist")),
            StoreError::Backend(m) | StoreError::Corrupt(m) => ApiError::Internal(m),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
