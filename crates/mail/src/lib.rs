//! The email channel: MIME parsing, safe HTML, threading, and filing
//! inbound mail as ticket messages exactly once, and sending replies
//! through a durable outbox.

pub mod auto_reply;
pub mod delivery;
pub mod html;
pub mod imap;
pub mod ingest;
pub mod outbound;
pub mod parse;
pub mod quote;
pub mod smtp;
pub mod thread;

pub use ingest::{Inbox, IngestError, Outcome};
