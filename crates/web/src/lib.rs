//! Switchboard's HTTP layer: the JSON API under `/api/v1`, the live event
//! stream and the OpenAPI document. Handlers parse input at the edge, ask
//! the policy, call the domain and storage, and map errors to statuses.

pub mod accounts;
pub mod api;
mod app;
mod background;
mod cache;
pub mod clock;
mod error;
mod extract;
mod html;
mod pages;
mod state;

pub use app::{Application, Settings};
pub use clock::{Clock, SystemClock};
pub use error::ApiError;
pub use state::AppState;
