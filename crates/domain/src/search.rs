//! The search syntax, parsed here once for every backend:
//! words, "phrases", `-exclusion`, and `field:value` terms such as
//! `status:open`, `tag:refund`, `assignee:me`, `priority:urgent`,
//! `created>2026-01-01`. Anything that is not a known field is text; text is
//! reduced to word tokens, so quotes, brackets, `*` or SQL in a query are
//! simply words (or nothing) and never an error.

use crate::{Channel, CustomerId, DomainError, Millis, OrganizationId, Priority, Status, TeamId, TicketType, UserId};

/// A word or a phrase of words, lower-cased alphanumeric tokens only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Word(String),
    Phrase(Vec<String>),
}

/// Full-text part of a query: all `terms` must match, none of `excluded`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextQuery {
    pub terms: Vec<Term>,
    pub excluded: Vec<Term>,
}

impl TextQuery {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.excluded.is_empty()
    }

    /// Every word the query looks for, phrases split into their words (to
    /// mark matches).
    pub fn words(&self) -> Vec<String> {
        self.terms
            .iter()
            .flat_map(|t| match t {
                Term::Word(w) => vec![w.clone()],
                Term::Phrase(ws) => ws.clone(),
            })
            .collect()
    }
}

/// Who a ticket is assigned to, as a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Unassigned,
    User(UserId),
}

/// Tickets by where their SLA stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaFilter {
    /// A running target passed its warning share.
    AtRisk,
    /// A running target is past due.
    Breached,
}

/// Structured filters shared by ticket lists and search. Empty lists mean
/// "any"; every non-empty part must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketFilter {
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    pub types: Vec<TicketType>,
    pub channels: Vec<Channel>,
    pub assignee: Option<AssigneeFilter>,
    pub team_ids: Vec<TeamId>,
    pub no_team: bool,
    pub requester_id: Option<CustomerId>,
    pub organization_id: Option<OrganizationId>,
    /// The ticket has all of these tags.
    pub tags: Vec<String>,
    /// The ticket has none of these tags.
    pub without_tags: Vec<String>,
    pub created_from: Option<Millis>,
    pub created_before: Option<Millis>,
    pub updated_from: Option<Millis>,
    pub updated_before: Option<Millis>,
    pub sla: Option<SlaFilter>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    pub text: TextQuery,
    pub filter: TicketFilter,
}

/// What the parser needs to know about the asker (for `assignee:me`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchContext {
    pub me: Option<UserId>,
}

/// Splits text into lower-case alphanumeric tokens, the same way the
/// full-text indexes of both backends do.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(|t| t.to_lowercase()).collect()
}

fn text_term(raw: &str) -> Option<Term> {
    let mut t = tokens(raw);
    match t.len() {
        0 => None,
        1 => t.pop().map(Term::Word),
        _ => Some(Term::Phrase(t)),
    }
}

/// One whitespace-separated piece of the query, quotes honoured.
struct Chunk {
    negated: bool,
    quoted: bool,
    text: String,
}

fn chunks(input: &str) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut negated = false;
        if first == '-' {
            negated = true;
            chars.next();
        }
        let mut text = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                text.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                // A quoted value after an operator: tag:"two words".
                if c == '"' && text.ends_with([':', '>', '<', '=']) {
                    for c in chars.by_ref() {
                        if c == '"' {
                            break;
                        }
                        text.push(c);
                    }
                    break;
                }
                text.push(c);
            }
        }
        out.push(Chunk { negated, quoted, text });
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

const FIELDS: &[&str] = &[
    "sla",
    "status",
    "priority",
    "type",
    "channel",
    "tag",
    "tags",
    "assignee",
    "team",
    "requester",
    "organization",
    "org",
    "created",
    "updated",
];

fn split_field(text: &str) -> Option<(&str, Op, &str)> {
    let pos = text.find([':', '>', '<'])?;
    let (name, rest) = text.split_at(pos);
    let name_lower = name.to_ascii_lowercase();
    if !FIELDS.contains(&name_lower.as_str()) {
        return None;
    }
    let (op, value) = if let Some(v) = rest.strip_prefix(">=") {
        (Op::Ge, v)
    } else if let Some(v) = rest.strip_prefix("<=") {
        (Op::Le, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (Op::Gt, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Op::Lt, v)
    } else {
        (Op::Eq, rest.get(1..).unwrap_or_default())
    };
    // `status:` with nothing after it is just text.
    if value.is_empty() { None } else { Some((name, op, value)) }
}

/// Start of the day `date` in UTC, and of the next day.
fn day_bounds(field: &str, raw: &str) -> Result<(Millis, Millis), DomainError> {
    let date: jiff::civil::Date =
        raw.parse().map_err(|_| DomainError::new(field, format!("'{raw}' is not a date as YYYY-MM-DD")))?;
    let start = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| DomainError::new(field, e.to_string()))?
        .timestamp()
        .as_millisecond();
    Ok((start, start + 86_400_000))
}

fn set_range(
    field: &str,
    op: Op,
    raw: &str,
    from: &mut Option<Millis>,
    before: &mut Option<Millis>,
) -> Result<(), DomainError> {
    let (start, next) = day_bounds(field, raw)?;
    match op {
        Op::Eq => {
            *from = Some(start);
            *before = Some(next);
        }
        Op::Gt => *from = Some(next),
        Op::Ge => *from = Some(start),
        Op::Lt => *before = Some(start),
        Op::Le => *before = Some(next),
    }
    Ok(())
}

/// Values of an enum field; a negated term keeps every other value.
fn enum_values<T: Copy + PartialEq>(all: &[T], value: T, negated: bool) -> Vec<T> {
    if negated { all.iter().copied().filter(|v| *v != value).collect() } else { vec![value] }
}

fn parse_id(field: &str, raw: &str) -> Result<i64, DomainError> {
    raw.trim_start_matches('#').parse().map_err(|_| DomainError::new(field, format!("'{raw}' is not an id")))
}

pub fn parse(input: &str, ctx: SearchContext) -> Result<SearchQuery, DomainError> {
    let mut q = SearchQuery::default();
    for chunk in chunks(input) {
        let field = if chunk.quoted { None } else { split_field(&chunk.text) };
        let Some((name, op, value)) = field else {
            if let Some(term) = text_term(&chunk.text) {
                if chunk.negated { q.text.excluded.push(term) } else { q.text.terms.push(term) }
            }
            continue;
        };
        let name = name.to_ascii_lowercase();
        let f = &mut q.filter;
        let neg = chunk.negated;
        match name.as_str() {
            "created" => set_range("created", op, value, &mut f.created_from, &mut f.created_before)?,
            "updated" => set_range("updated", op, value, &mut f.updated_from, &mut f.updated_before)?,
            _ if op != Op::Eq => {
                return Err(DomainError::new(&name, format!("{name} takes {name}:value, not a comparison")));
            }
            "status" => f.statuses.extend(enum_values(Status::ALL, Status::parse("status", value)?, neg)),
            "priority" => f.priorities.extend(enum_values(Priority::ALL, Priority::parse("priority", value)?, neg)),
            "type" => f.types.extend(enum_values(TicketType::ALL, TicketType::parse("type", value)?, neg)),
            "channel" => f.channels.extend(enum_values(Channel::ALL, Channel::parse("channel", value)?, neg)),
            "tag" | "tags" => {
                let tag = value.to_lowercase();
                if neg { f.without_tags.push(tag) } else { f.tags.push(tag) }
            }
            "assignee" => {
                f.assignee = Some(match value.to_ascii_lowercase().as_str() {
                    "none" | "unassigned" => AssigneeFilter::Unassigned,
                    "me" => AssigneeFilter::User(
                        ctx.me.ok_or_else(|| DomainError::new("assignee", "assignee:me needs a staff user"))?,
                    ),
                    other => AssigneeFilter::User(UserId(parse_id("assignee", other)?)),
                })
            }
            "team" => match value.to_ascii_lowercase().as_str() {
                "none" => f.no_team = true,
                other => f.team_ids.push(TeamId(parse_id("team", other)?)),
            },
            "requester" => f.requester_id = Some(CustomerId(parse_id("requester", value)?)),
            "organization" | "org" => f.organization_id = Some(OrganizationId(parse_id("organization", value)?)),
            "sla" => {
                f.sla = Some(match value.to_ascii_lowercase().as_str() {
                    "at_risk" | "risk" => SlaFilter::AtRisk,
                    "breached" => SlaFilter::Breached,
                    other => {
                        return Err(DomainError::new("sla", format!("'{other}' is not one of: at_risk, breached")));
                    }
                })
            }
            _ => {}
        }
    }
    // Several values of one enum field mean "any of them".
    let f = &mut q.filter;
    f.statuses.dedup();
    f.priorities.dedup();
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> SearchQuery {
        parse(s, SearchContext { me: Some(UserId(7)) }).unwrap()
    }

    #[test]
    fn words_phrases_exclusions() {
        let q = p(r#"refund "credit card" -spam -"out of office""#);
        assert_eq!(q.text.terms, vec![Term::Word("refund".into()), Term::Phrase(vec!["credit".into(), "card".into()])]);
        assert_eq!(
            q.text.excluded,
            vec![Term::Word("spam".into()), Term::Phrase(vec!["out".into(), "of".into(), "office".into()])]
        );
    }

    #[test]
    fn fields() {
        let q = p("status:open tag:Refund assignee:me priority:urgent created>2026-01-01 -tag:spam");
        assert_eq!(q.filter.statuses, vec![Status::Open]);
        assert_eq!(q.filter.tags, vec!["refund"]);
        assert_eq!(q.filter.without_tags, vec!["spam"]);
        assert_eq!(q.filter.assignee, Some(AssigneeFilter::User(UserId(7))));
        assert_eq!(q.filter.priorities, vec![Priority::Urgent]);
        // After 2026-01-01 means from the start of 2 January, UTC.
        assert_eq!(q.filter.created_from, Some(1_767_312_000_000));
        assert!(q.text.is_empty());
        let q = p("-status:solved created:2026-01-01");
        assert_eq!(q.filter.statuses.len(), Status::ALL.len() - 1);
        assert_eq!(q.filter.created_before.unwrap() - q.filter.created_from.unwrap(), 86_400_000);
    }

    #[test]
    fn sla_terms() {
        assert_eq!(p("sla:at_risk").filter.sla, Some(SlaFilter::AtRisk));
        assert_eq!(p("SLA:breached refund").filter.sla, Some(SlaFilter::Breached));
        assert_eq!(parse("sla:late", SearchContext::default()).unwrap_err().field, "sla");
    }

    #[test]
    fn hostile_text_is_just_words() {
        let q = p(r#"'; DROP TABLE tickets; -- (a OR b) * "unterminated NEAR(x y) error: foo:bar"#);
        let words = q.text.words();
        assert!(words.contains(&"drop".to_string()));
        assert!(words.iter().all(|w| w.chars().all(char::is_alphanumeric)));
        assert_eq!(p("*** ((( )))").text, TextQuery::default());
        assert_eq!(p("status:").text.terms, vec![Term::Word("status".into())]);
    }

    #[test]
    fn bad_field_values_are_clear_errors() {
        let e = parse("status:nope", SearchContext::default()).unwrap_err();
        assert!(e.message.contains("open"));
        assert!(parse("created>yesterday", SearchContext::default()).is_err());
        assert!(parse("assignee:me", SearchContext::default()).is_err());
    }
}
