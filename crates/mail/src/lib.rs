//! The email channel: MIME parsing, safe HTML, threading, and filing
//! inbound mail as ticket messages exactly once.

pub mod html;
pub mod ingest;
pub mod parse;
pub mod quote;
pub mod thread;

pub use ingest::{Inbox, IngestError, Outcome};
