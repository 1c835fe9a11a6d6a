//! Routing: rules that send a new ticket to a team (by mailbox, channel,
//! words, customer tier or organization, custom field), and the way each
//! team then gives it to an agent: manually, round robin, least loaded, or
//! by skills and language, only ever to agents who are online, not out of
//! office, and under their capacity for the ticket's channel.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::str_enum::str_enum;
use crate::{
    AgentStatus, Channel, DomainError, FieldId, MailboxId, Millis, OrganizationId, TeamId, Ticket, Tier, UserId,
};

/// Which new tickets a routing rule takes; empty lists mean any, every
/// non-empty part must hold; any one of `words` is enough.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RouteConditions {
    pub mailbox_ids: Vec<MailboxId>,
    pub channels: Vec<Channel>,
    /// Words in the subject or the first message (any of them).
    pub words: Vec<String>,
    pub tiers: Vec<Tier>,
    pub organization_ids: Vec<OrganizationId>,
    #[schema(value_type = Object)]
    pub custom_fields: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoutingRule {
    pub id: crate::RoutingRuleId,
    pub name: String,
    /// Tried lowest first; the first that matches routes the ticket.
    pub position: i64,
    pub active: bool,
    pub conditions: RouteConditions,
    pub team_id: TeamId,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What a rule can look at in a new ticket.
pub struct NewTicketFacts<'a> {
    pub ticket: &'a Ticket,
    /// Subject and first message, lower-cased words.
    pub words: &'a [String],
    pub mailbox: Option<MailboxId>,
    pub tier: Tier,
    pub field_keys: &'a HashMap<FieldId, String>,
}

impl RouteConditions {
    pub fn matches(&self, f: &NewTicketFacts<'_>) -> bool {
        let t = f.ticket;
        (self.mailbox_ids.is_empty() || f.mailbox.is_some_and(|m| self.mailbox_ids.contains(&m)))
            && (self.channels.is_empty() || self.channels.contains(&t.channel))
            && (self.words.is_empty()
                || self.words.iter().any(|w| crate::search::tokens(w).iter().all(|tok| f.words.contains(tok))))
            && (self.tiers.is_empty() || self.tiers.contains(&f.tier))
            && (self.organization_ids.is_empty()
                || t.organization_id.is_some_and(|o| self.organization_ids.contains(&o)))
            && self
                .custom_fields
                .iter()
                .all(|(key, want)| t.custom_fields.iter().any(|(id, v)| f.field_keys.get(id) == Some(key) && v == want))
    }
}

/// The team the first matching active rule names.
pub fn route(rules: &[RoutingRule], f: &NewTicketFacts<'_>) -> Option<TeamId> {
    let mut ordered: Vec<&RoutingRule> = rules.iter().filter(|r| r.active).collect();
    ordered.sort_by_key(|r| (r.position, r.id));
    ordered.into_iter().find(|r| r.conditions.matches(f)).map(|r| r.team_id)
}

str_enum!(
    /// How a team gives its new tickets to agents.
    AssignMode { Manual = "manual", RoundRobin = "round_robin", LeastLoaded = "least_loaded", Skills = "skills" }
);

/// A team's assignment settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRouting {
    pub mode: AssignMode,
    /// Most open tickets an agent holds per channel (absent: no limit).
    #[serde(default)]
    pub capacity: BTreeMap<Channel, i64>,
    /// When an agent goes offline, their new and open tickets in this team
    /// go back to the team and are assigned again.
    #[serde(default)]
    pub reassign_when_offline: bool,
}

impl Default for TeamRouting {
    fn default() -> Self {
        Self { mode: AssignMode::Manual, capacity: BTreeMap::new(), reassign_when_offline: false }
    }
}

/// What routing knows about an agent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AgentProfile {
    /// e.g. `billing`, `sap`: a ticket tagged with a skill needs an agent who has it.
    pub skills: Vec<String>,
    /// Language codes (`en`, `de`); empty: any customer.
    pub languages: Vec<String>,
    /// Out of office until then (UTC ms): not given new work.
    pub out_of_office_until: Option<Millis>,
}

pub fn check_profile(p: &AgentProfile) -> Result<AgentProfile, Vec<DomainError>> {
    let mut errors = Vec::new();
    let skills = crate::ticket::parse_tags(&p.skills)
        .map_err(|e| errors.push(DomainError::new("skills", e.message)))
        .unwrap_or_default();
    let mut languages: Vec<String> =
        p.languages.iter().map(|l| l.trim().to_lowercase()).filter(|l| !l.is_empty()).collect();
    if languages.iter().any(|l| l.len() > 12 || !l.chars().all(|c| c.is_ascii_alphabetic() || c == '-')) {
        errors.push(DomainError::new("languages", "language codes such as en, de, pt-br"));
    }
    languages.sort();
    languages.dedup();
    if errors.is_empty() {
        Ok(AgentProfile { skills, languages, out_of_office_until: p.out_of_office_until })
    } else {
        Err(errors)
    }
}

/// An agent who might take the ticket, as routing sees them now.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub user: UserId,
    pub status: AgentStatus,
    pub profile: AgentProfile,
    /// Open tickets they hold, per channel.
    pub load: HashMap<Channel, i64>,
}

impl Candidate {
    fn total(&self) -> i64 {
        self.load.values().sum()
    }
}

/// What the ticket asks of its agent.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    pub channel: Option<Channel>,
    /// Skills the ticket's tags name (those some agent in the team has).
    pub skills: Vec<String>,
    /// The customer's language, if known (`de` from `de-AT`).
    pub language: Option<String>,
}

/// The agent to give the ticket to, or `None` (it stays with the team).
/// Only agents online, not out of office at `now` and under capacity for
/// the channel may take it. Round robin takes the next such agent after
/// `last` (by user id, wrapping round); least loaded the one with the
/// fewest open tickets (then the lowest id); skills first keeps the agents
/// with every needed skill and the customer's language, then least loaded.
pub fn choose_agent(
    mode: AssignMode,
    team: &TeamRouting,
    candidates: &[Candidate],
    needs: &Needs,
    last: Option<UserId>,
    now: Millis,
) -> Option<UserId> {
    let available = |c: &&Candidate| {
        c.status == AgentStatus::Online
            && c.profile.out_of_office_until.is_none_or(|until| until <= now)
            && needs.channel.is_none_or(|ch| match team.capacity.get(&ch) {
                Some(cap) => c.load.get(&ch).copied().unwrap_or(0) < *cap,
                None => true,
            })
    };
    let mut pool: Vec<&Candidate> = candidates.iter().filter(available).collect();
    pool.sort_by_key(|c| c.user);
    let least = |pool: &[&Candidate]| pool.iter().min_by_key(|c| (c.total(), c.user)).map(|c| c.user);
    match mode {
        AssignMode::Manual => None,
        AssignMode::RoundRobin => {
            let after = last.and_then(|l| pool.iter().position(|c| c.user > l));
            pool.get(after.unwrap_or(0)).map(|c| c.user)
        }
        AssignMode::LeastLoaded => least(&pool),
        AssignMode::Skills => {
            let fit: Vec<&Candidate> = pool
                .into_iter()
                .filter(|c| needs.skills.iter().all(|s| c.profile.skills.contains(s)))
                .filter(|c| match &needs.language {
                    Some(lang) if !c.profile.languages.is_empty() => {
                        c.profile.languages.iter().any(|l| l == lang || lang.starts_with(&format!("{l}-")))
                    }
                    _ => true,
                })
                .collect();
            least(&fit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: i64, status: AgentStatus) -> Candidate {
        Candidate { user: UserId(id), status, profile: AgentProfile::default(), load: HashMap::new() }
    }

    #[test]
    fn round_robin_is_fair_over_ten_thousand_tickets() {
        let team = TeamRouting { mode: AssignMode::RoundRobin, ..Default::default() };
        let mut agents: Vec<Candidate> = (1..=7).map(|i| agent(i * 10, AgentStatus::Online)).collect();
        agents.push(agent(5, AgentStatus::Away));
        agents.push(agent(95, AgentStatus::Offline));
        let mut last = None;
        let mut counts: HashMap<UserId, i64> = HashMap::new();
        for _ in 0..10_000 {
            let chosen = choose_agent(AssignMode::RoundRobin, &team, &agents, &Needs::default(), last, 0).unwrap();
            *counts.entry(chosen).or_default() += 1;
            last = Some(chosen);
        }
        assert_eq!(counts.len(), 7, "only online agents: {counts:?}");
        let (min, max) = (counts.values().min().unwrap(), counts.values().max().unwrap());
        assert!(max - min <= 1, "{counts:?}");
        // Someone joining the rotation is taken in id order, then it wraps.
        assert_eq!(
            choose_agent(AssignMode::RoundRobin, &team, &agents, &Needs::default(), Some(UserId(70)), 0),
            Some(UserId(10))
        );
        assert_eq!(
            choose_agent(AssignMode::RoundRobin, &team, &agents, &Needs::default(), Some(UserId(25)), 0),
            Some(UserId(30))
        );
    }

    #[test]
    fn capacity_status_and_out_of_office_are_respected() {
        let mut team = TeamRouting { mode: AssignMode::LeastLoaded, ..Default::default() };
        team.capacity.insert(Channel::Chat, 2);
        let mut a = agent(1, AgentStatus::Online);
        a.load.insert(Channel::Chat, 2);
        let mut b = agent(2, AgentStatus::Online);
        b.load.insert(Channel::Email, 9);
        let mut c = agent(3, AgentStatus::Online);
        c.profile.out_of_office_until = Some(1_000);
        let needs = |ch| Needs { channel: Some(ch), ..Default::default() };
        let all = [a.clone(), b.clone(), c.clone()];
        // Chat: the first is full, the third away until 1,000; the second takes it.
        assert_eq!(
            choose_agent(AssignMode::LeastLoaded, &team, &all, &needs(Channel::Chat), None, 500),
            Some(UserId(2))
        );
        // Email has no limit: the least loaded is the first (2 open against 9).
        assert_eq!(
            choose_agent(AssignMode::LeastLoaded, &team, &all, &needs(Channel::Email), None, 500),
            Some(UserId(1))
        );
        // Back from leave, the third has nothing open.
        assert_eq!(
            choose_agent(AssignMode::LeastLoaded, &team, &all, &needs(Channel::Email), None, 1_000),
            Some(UserId(3))
        );
        // Everyone full or gone: nobody; the ticket waits in the team.
        b.load.insert(Channel::Chat, 2);
        assert_eq!(choose_agent(AssignMode::LeastLoaded, &team, &[a, b], &needs(Channel::Chat), None, 500), None);
        assert_eq!(choose_agent(AssignMode::Manual, &team, &all, &needs(Channel::Email), None, 500), None);
    }

    #[test]
    fn skills_and_languages_pick_who_fits() {
        let team = TeamRouting { mode: AssignMode::Skills, ..Default::default() };
        let mut sap = agent(1, AgentStatus::Online);
        sap.profile.skills = vec!["sap".into()];
        sap.load.insert(Channel::Email, 5);
        let mut german = agent(2, AgentStatus::Online);
        german.profile.skills = vec!["sap".into(), "billing".into()];
        german.profile.languages = vec!["de".into()];
        german.load.insert(Channel::Email, 1);
        let general = agent(3, AgentStatus::Online);
        let all = [sap, german, general];
        let needs = |skills: &[&str], lang: Option<&str>| Needs {
            channel: Some(Channel::Email),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            language: lang.map(str::to_string),
        };
        assert_eq!(
            choose_agent(AssignMode::Skills, &team, &all, &needs(&["sap"], Some("de-at")), None, 0),
            Some(UserId(2))
        );
        assert_eq!(
            choose_agent(AssignMode::Skills, &team, &all, &needs(&["sap"], Some("fr")), None, 0),
            Some(UserId(1)),
            "the German speaker does not speak French"
        );
        assert_eq!(
            choose_agent(AssignMode::Skills, &team, &all, &needs(&[], None), None, 0),
            Some(UserId(3)),
            "no skill needed: the least loaded"
        );
        assert_eq!(choose_agent(AssignMode::Skills, &team, &all, &needs(&["legal"], None), None, 0), None);
    }

    #[test]
    fn the_first_matching_rule_routes() {
        use std::collections::BTreeMap;
        let t = Ticket {
            id: crate::TicketId(1),
            subject: "Invoice wrong".into(),
            status: crate::Status::New,
            priority: crate::Priority::Normal,
            ticket_type: crate::TicketType::Question,
            channel: Channel::Email,
            requester_id: crate::CustomerId(1),
            organization_id: None,
            assignee_id: None,
            team_id: None,
            tags: vec![],
            custom_fields: BTreeMap::new(),
            problem_id: None,
            merged_into: None,
            follow_up_of: None,
            created_at: 0,
            updated_at: 0,
            solved_at: None,
            version: 1,
        };
        let rule = |id: i64, position: i64, c: RouteConditions, team: i64| RoutingRule {
            id: crate::RoutingRuleId(id),
            name: "r".into(),
            position,
            active: true,
            conditions: c,
            team_id: TeamId(team),
            created_at: 0,
            updated_at: 0,
        };
        let rules = [
            rule(1, 2, RouteConditions { words: vec!["invoice".into(), "refund".into()], ..Default::default() }, 10),
            rule(2, 1, RouteConditions { tiers: vec![Tier::Vip], ..Default::default() }, 20),
            rule(3, 3, RouteConditions { mailbox_ids: vec![MailboxId(4)], ..Default::default() }, 30),
        ];
        let keys = HashMap::new();
        let words: Vec<String> = crate::search::tokens("Invoice wrong I was charged twice");
        let facts = |tier, mailbox| NewTicketFacts { ticket: &t, words: &words, mailbox, tier, field_keys: &keys };
        assert_eq!(route(&rules, &facts(Tier::Vip, None)), Some(TeamId(20)), "VIP first, by position");
        assert_eq!(route(&rules, &facts(Tier::Standard, None)), Some(TeamId(10)), "a word of the rule");
        let none: Vec<String> = vec!["hello".into()];
        let quiet = NewTicketFacts {
            ticket: &t,
            words: &none,
            mailbox: Some(MailboxId(4)),
            tier: Tier::Standard,
            field_keys: &keys,
        };
        assert_eq!(route(&rules, &quiet), Some(TeamId(30)));
        let nothing =
            NewTicketFacts { ticket: &t, words: &none, mailbox: None, tier: Tier::Standard, field_keys: &keys };
        assert_eq!(route(&rules, &nothing), None);
    }
}
