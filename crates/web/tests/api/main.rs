//! The HTTP API, tested as clients use it: the real application on port 0,
//! spoken to over HTTP. Every test runs on SQLite and on PostgreSQL, each
//! on a database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod support;

mod access;
mod attachments;
mod auth;
mod bad_input;
mod browser;
mod cockpit;
mod feedback;
mod fields;
mod jobs;
mod mail;
mod openapi;
mod pages;
mod search;
mod service_rules;
mod simulated;
mod sla;
mod smtp_sink;
mod stream;
mod tickets;
mod workspace;
mod workspace_pages;
