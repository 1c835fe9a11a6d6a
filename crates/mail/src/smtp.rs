//! The built-in SMTP receiver, for small installations and tests: mail
//! sent to a mailbox's address (or its `+token` form) is filed like pushed
//! mail. mailin-embedded runs the SMTP dialogue on a thread pool of its
//! own; each transaction is filed on the application's runtime. Unknown
//! recipients are refused at `RCPT` (550), mail over the size limit at the
//! end of `DATA` (552), and a filing failure (storage down) answers 451 so
//! the sender tries again later: nothing accepted is lost.

use std::io;
use std::net::{IpAddr, TcpListener};
use std::sync::Arc;

use domain::{Mailbox, Millis};
use mailin_embedded::{Handler, Response, response};

use crate::Inbox;

/// One SMTP connection's handler (cloned per connection).
#[derive(Clone)]
pub struct SmtpReceiver {
    inbox: Inbox,
    runtime: tokio::runtime::Handle,
    clock: Arc<dyn Fn() -> Millis + Send + Sync>,
    max_bytes: usize,
    /// The first recipient that is one of our mailboxes.
    mailbox: Option<(Mailbox, String)>,
    data: Vec<u8>,
    too_big: bool,
}

impl SmtpReceiver {
    pub fn new(
        inbox: Inbox,
        runtime: tokio::runtime::Handle,
        clock: Arc<dyn Fn() -> Millis + Send + Sync>,
        max_bytes: usize,
    ) -> Self {
        Self { inbox, runtime, clock, max_bytes, mailbox: None, data: Vec::new(), too_big: false }
    }

    fn reset(&mut self) {
        self.mailbox = None;
        self.data.clear();
        self.too_big = false;
    }
}

/// An answer to the final `.` of a message. mailin stays in the DATA state
/// after an answer marked as an error, reading the client's next command
/// as message text (a `QUIT` then waits forever); the transaction is over
/// either way, so the answer keeps its code but is not marked.
fn end_of_data(code: u16, message: &str) -> Response {
    let mut r = Response::custom(code, message.to_string());
    r.is_error = false;
    r
}

impl Handler for SmtpReceiver {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> Response {
        self.reset();
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let to = to.trim().trim_start_matches('<').trim_end_matches('>').to_ascii_lowercase();
        let mailboxes = match self.runtime.block_on(self.inbox.store.mailboxes()) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "SMTP: reading mailboxes");
                return response::INTERNAL_ERROR;
            }
        };
        match mailboxes.into_iter().find(|m| m.active && m.receives(&to)) {
            Some(m) => {
                if self.mailbox.is_none() {
                    self.mailbox = Some((m, to));
                }
                response::OK
            }
            None => response::NO_MAILBOX,
        }
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, _to: &[String]) -> Response {
        self.data.clear();
        self.too_big = false;
        if self.mailbox.is_none() { response::NO_MAILBOX } else { response::OK }
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.data.len() + buf.len() > self.max_bytes {
            self.too_big = true;
            self.data.clear();
        } else if !self.too_big {
            self.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if self.too_big {
            self.reset();
            return end_of_data(552, "Message exceeds the size limit");
        }
        let Some((mailbox, recipient)) = self.mailbox.take() else {
            return end_of_data(554, "No valid recipients");
        };
        // As an MTA does: the envelope recipient, which may carry the
        // reply token when the headers do not.
        let mut raw = format!("Delivered-To: {recipient}\r\n").into_bytes();
        raw.append(&mut self.data);
        let now = (self.clock)();
        match self.runtime.block_on(self.inbox.ingest(&mailbox, &raw, now)) {
            Ok(_) => response::OK,
            Err(e) => {
                tracing::error!(mailbox = %mailbox.address, error = %e, "SMTP: filing failed; the sender will retry");
                end_of_data(451, "Local error in processing; try again later")
            }
        }
    }
}

/// Serves SMTP on `listener` on a thread of its own, for the life of the
/// process.
pub fn serve(receiver: SmtpReceiver, listener: TcpListener, name: &str) -> io::Result<()> {
    let mut server = mailin_embedded::Server::new(receiver);
    server.with_name(name).with_num_threads(8).with_tcp_listener(listener);
    std::thread::Builder::new().name("smtp-receiver".into()).spawn(move || {
        if let Err(e) = server.serve() {
            tracing::error!(error = %e, "the SMTP receiver stopped");
        }
    })?;
    Ok(())
}
