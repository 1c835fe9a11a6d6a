//! Storage for Switchboard: the traits the application uses, the errors they
//! return, and one SQL implementation of them (`SqlStore`) shared by every
//! backend. A backend crate (`store-sqlite`, `store-pg`) supplies only what
//! differs between SQL dialects: connecting, binding values, migrations,
//! transactions, the full-text clause and change notification.

mod cursor;
pub mod database;
mod error;
pub mod model;
mod rows;
mod sql_store;
pub mod traits;

pub mod conformance;

pub use cursor::Cursor;
pub use database::{Database, OwnedWriter, SqlRow, SqlValue, Transaction, storable_text};
pub use error::StoreError;
pub use model::*;
pub use sql_store::{PreparedImport, SqlStore, UntalliedMeasures};
pub use traits::*;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
