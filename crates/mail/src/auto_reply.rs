//! The acknowledgement a mailbox mails for each new ticket: an
//! admin-editable minijinja template, and the guards that keep it from
//! answering machines (loops) or flooding one address.

use domain::{Customer, Mailbox, Ticket};
use minijinja::{Environment, context};

use crate::parse::InboundEmail;

/// Most acknowledgements one address gets in an hour.
pub const MAX_PER_HOUR: u64 = 3;
pub const HOUR_MS: i64 = 3_600_000;

/// The template compiles; the error says where it does not.
pub fn check(template: &str) -> Result<(), String> {
    let env = Environment::new();
    env.template_from_str(template).map(|_| ()).map_err(|e| e.to_string())
}

/// The acknowledgement's text. Placeholders: `ticket.number`,
/// `ticket.subject`, `customer.name`, `customer.first_name`,
/// `customer.email`, `mailbox.name`, `mailbox.address`; unknown ones are
/// empty.
pub fn render(template: &str, ticket: &Ticket, customer: &Customer, mailbox: &Mailbox) -> Result<String, String> {
    let env = Environment::new();
    let t = env.template_from_str(template).map_err(|e| e.to_string())?;
    let first_name = customer.name.split_whitespace().next().unwrap_or_default();
    t.render(context! {
        ticket => context! { number => ticket.id.0, subject => &ticket.subject },
        customer => context! { name => &customer.name, first_name => first_name, email => &customer.email },
        mailbox => context! { name => &mailbox.name, address => &mailbox.address },
    })
    .map_err(|e| e.to_string())
}

/// Whether this mail may be answered automatically: not automatic itself
/// (`Auto-Submitted`, `Precedence: bulk/list/junk`, list mail, mailer
/// daemons and no-reply senders; see `parse`), not a bounce, not from one
/// of our own mailboxes.
pub fn may_answer(email: &InboundEmail, ours: &[Mailbox]) -> bool {
    !email.automatic && email.bounce.is_none() && !ours.iter().any(|m| m.receives(&email.from.address))
}

/// Plain text as HTML paragraphs.
pub fn to_html(text: &str) -> String {
    text.split("\n\n")
        .map(|p| {
            let escaped = p.trim().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            format!("<p>{}</p>", escaped.replace('\n', "<br>"))
        })
        .collect()
}
