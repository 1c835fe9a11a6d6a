//! The storage conformance suite: the same tests run against every backend,
//! each test on a database of its own. A backend's test file invokes
//! `conformance_tests!(fresh_store)` where `fresh_store()` is an async fn
//! returning a new, migrated, empty `SqlStore` (or `None` to skip, for a
//! backend that is not configured on this machine).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use domain::event::NewEvent;
use domain::lifecycle::{self, NewTicket, TicketPatch};
use domain::policy::TicketScope;
use domain::search::{self, SearchContext};
use domain::{
    Actor, AttachmentId, AuthorKind, Channel, Customer, CustomerId, EventKind, Organization, Priority, Role, Status,
    Team, TeamId, Ticket, TicketId, TicketType, Tier, User, UserId, Visibility,
};

use crate::{
    AuthStore, Cursor, DirectoryStore, IdempotencyKey, JobStore, NewAttachment, NewAuditEntry, NewMessage, PageRequest,
    PrincipalRef, RuleStore, ServiceStore, SqlStore, StoreError, TicketCreate, TicketQuery, TicketSort, TicketStore,
    TicketWrite, WorkspaceStore,
};

/// Expands to a module `$backend` with one `#[tokio::test]` per
/// conformance test, so test names read `sqlite::merge_moves_messages`.
#[macro_export]
macro_rules! conformance_tests {
    ($backend:ident, $fresh:path) => {
        mod $backend {
            $crate::conformance_tests!(@each $fresh;
                ticket_round_trip, events_record_every_change, stale_write_is_refused, list_filters,
                keyset_pages_cover_everything_once, imports_store_what_creates_store, search_words_phrases_exclusions,
                customers_never_match_notes,
                hostile_search_text_is_text, scope_limits_lists, idempotent_create_replays, merge_moves_messages,
                follow_up_links_back, failed_write_leaves_nothing, emails_are_unique,
                staff_principal_follows_reporting_line, sessions_tokens_throttle_audit,
                changes_are_announced_after_commit, concurrent_creates_are_each_right,
                requesters_by_email_are_found_or_created_once, what_a_create_returns_is_what_a_read_returns,
                mail_identity_threads_and_dedupes, mailboxes_and_quarantine, creations_and_updates_interleave,
                new_customers_join_their_domains_organization, workspace_keeps_what_agents_set,
                counts_are_capped_and_texts_joined, jobs_are_claimed_once_retried_and_dead_lettered,
                schedules_run_once_per_occurrence, service_rules_and_ticket_sla, routing_rules_profiles_and_loads,
                triggers_escalations_approvals_incidents, surveys_feedback_and_sentiment,
                kpi_rollup_replaces_and_slices, open_counts_by_status_team_agent_and_age, rebuild_tallies_in_memory,
                a_rebuilds_large_page_is_written_whole, retention_splits_customers_by_support);
        }
    };
    (@each $fresh:path; $($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let Some(store) = $fresh().await else {
                eprintln!("skipped: backend not configured");
                return;
            };
            $crate::conformance::$name(store).await;
        }
    )*};
}

pub const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn staff(id: UserId) -> Actor {
    Actor { kind: AuthorKind::Staff, id: Some(id.0) }
}

pub async fn customer(store: &SqlStore, email: &str) -> CustomerId {
    let email = domain::EmailAddress::parse(email).unwrap();
    let c = Customer::new(&email, email.as_str().split('@').next().unwrap(), T0);
    store.create_customer(c, None, None).await.unwrap().id
}

pub async fn user(store: &SqlStore, email: &str, role: Role, reports_to: Option<UserId>) -> UserId {
    let u = User {
        id: UserId(0),
        email: email.to_string(),
        name: email.to_string(),
        role,
        active: true,
        reports_to,
        time_zone: None,
        created_at: T0,
        updated_at: T0,
    };
    store.create_user(u, Some("hash".into()), None).await.unwrap().id
}

pub async fn team(store: &SqlStore, name: &str, lead: Option<UserId>, members: &[UserId]) -> TeamId {
    let t = Team {
        id: TeamId(0),
        name: name.into(),
        description: String::new(),
        lead_id: lead,
        member_ids: members.to_vec(),
        created_at: T0,
        updated_at: T0,
    };
    store.create_team(t, None).await.unwrap().id
}

pub fn message(author: Actor, visibility: Visibility, body: &str, at: i64) -> NewMessage {
    NewMessage {
        visibility,
        author_kind: author.kind,
        author_id: author.id,
        channel: Channel::Email,
        body_text: body.into(),
        body_html: format!("<p>{body}</p>"),
        metadata: serde_json::json!({}),
        attachment_ids: vec![],
        created_at: at,
        email: None,
    }
}

pub struct Spec<'a> {
    pub subject: &'a str,
    pub body: &'a str,
    pub requester: CustomerId,
    pub priority: Priority,
    pub team: Option<TeamId>,
    pub assignee: Option<UserId>,
    pub tags: &'a [&'a str],
    /// How the ticket came in (its first message too).
    pub channel: Channel,
    pub at: i64,
}

pub fn spec<'a>(subject: &'a str, body: &'a str, requester: CustomerId, at: i64) -> Spec<'a> {
    Spec {
        subject,
        body,
        requester,
        priority: Priority::Normal,
        team: None,
        assignee: None,
        tags: &[],
        channel: Channel::Email,
        at,
    }
}

pub fn new_ticket(s: &Spec<'_>) -> TicketCreate {
    let actor = Actor { kind: AuthorKind::Customer, id: Some(s.requester.0) };
    let (ticket, events) = lifecycle::open_ticket(
        NewTicket {
            subject: s.subject.into(),
            status: None,
            priority: s.priority,
            ticket_type: TicketType::Question,
            channel: s.channel,
            requester_id: s.requester,
            organization_id: None,
            assignee_id: s.assignee,
            team_id: s.team,
            tags: s.tags.iter().map(|t| t.to_string()).collect(),
            custom_fields: BTreeMap::new(),
            problem_id: None,
            follow_up_of: None,
        },
        actor,
        s.at,
    )
    .unwrap();
    TicketCreate {
        ticket,
        events,
        messages: vec![NewMessage { channel: s.channel, ..message(actor, Visibility::Public, s.body, s.at) }],
        new_requester: None,
    }
}

pub async fn create(store: &SqlStore, s: Spec<'_>) -> Ticket {
    let id = store.create_ticket(new_ticket(&s), None).await.unwrap().id;
    store.ticket(id).await.unwrap().unwrap()
}

async fn patch(store: &SqlStore, t: &Ticket, p: TicketPatch, by: UserId, at: i64) -> Ticket {
    let (next, events) = lifecycle::apply_patch(t, &p, staff(by), at).unwrap();
    store
        .write_ticket(TicketWrite { ticket: next, expected_version: t.version, events, messages: vec![] })
        .await
        .unwrap();
    store.ticket(t.id).await.unwrap().unwrap()
}

/// Writes an internal note by `by` on `t` through the lifecycle rules.
async fn add_note(store: &SqlStore, t: &Ticket, by: UserId, text: &str, at: i64) {
    let (next, events) = match lifecycle::add_message(t, Visibility::Internal, staff(by), at).unwrap() {
        lifecycle::MessageOutcome::Added { ticket, events } => (ticket, events),
        lifecycle::MessageOutcome::FollowUp => unreachable!(),
    };
    let messages = vec![message(staff(by), Visibility::Internal, text, at)];
    store.write_ticket(TicketWrite { ticket: next, expected_version: t.version, events, messages }).await.unwrap();
}

fn query(scope: TicketScope, q: &str) -> TicketQuery {
    let parsed = search::parse(q, SearchContext { me: Some(UserId(1)) }).unwrap();
    TicketQuery {
        scope,
        filter: parsed.filter,
        text: parsed.text,
        staff_text: true,
        sort: TicketSort::newest_first(),
        after: None,
        limit: 100,
    }
}

async fn ids(store: &SqlStore, q: &TicketQuery) -> Vec<i64> {
    let mut ids: Vec<i64> = store.tickets(q).await.unwrap().items.iter().map(|t| t.id.0).collect();
    ids.sort();
    ids
}

pub async fn ticket_round_trip(store: SqlStore) {
    let c = customer(&store, "ann@example.com").await;
    let t = create(
        &store,
        Spec {
            tags: &["refund", "vip"],
            priority: Priority::High,
            ..spec("Refund please", "I was charged twice", c, T0)
        },
    )
    .await;
    assert!(t.id.0 >= 1000, "ticket numbers start at 1000");
    assert_eq!(t.subject, "Refund please");
    assert_eq!(t.status, Status::New);
    assert_eq!(t.priority, Priority::High);
    assert_eq!(t.tags, vec!["refund", "vip"]);
    assert_eq!(t.version, 1);
    let msgs = store.messages(t.id, true).await.unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].body_text, "I was charged twice");
    assert_eq!(msgs[0].author_kind, AuthorKind::Customer);
    assert!(store.ticket(TicketId(999_999)).await.unwrap().is_none());
}

pub async fn events_record_every_change(store: SqlStore) {
    let c = customer(&store, "ann@example.com").await;
    let agent = user(&store, "agent@support.test", Role::Agent, None).await;
    let t = create(&store, spec("Printer on fire", "smoke", c, T0)).await;
    let t = patch(
        &store,
        &t,
        TicketPatch { assignee_id: Some(Some(agent)), priority: Some(Priority::Urgent), ..Default::default() },
        agent,
        T0 + 1000,
    )
    .await;
    assert_eq!(t.status, Status::Open, "assigning a new ticket opens it");
    add_note(&store, &t, agent, "calling the fire brigade", T0 + 2000).await;
    let events = store.events(t.id).await.unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::Created,
            EventKind::MessageAdded,
            EventKind::PriorityChanged,
            EventKind::Assigned,
            EventKind::StatusChanged,
            EventKind::MessageAdded
        ]
    );
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
    let prio = &events[2];
    assert_eq!((prio.from.clone(), prio.to.clone()), (serde_json::json!("normal"), serde_json::json!("urgent")));
    assert_eq!(prio.actor, staff(agent));
    assert_eq!(prio.at, T0 + 1000);
    let note = &events[5];
    assert_eq!(note.to["visibility"], "internal");
    assert!(note.to["message_id"].as_i64().is_some());
    // Customers do not get internal notes.
    assert_eq!(store.messages(t.id, false).await.unwrap().len(), 1);
    assert_eq!(store.messages(t.id, true).await.unwrap().len(), 2);

    // Logged time is an event that leaves the ticket's version alone.
    let entry = domain::TimeEntry {
        agent_id: agent,
        ms: 300_000,
        source: domain::TimeSource::Agent,
        note: "call".into(),
        at: T0 + 3000,
        by: staff(agent),
    };
    let version = store.ticket(t.id).await.unwrap().unwrap().version;
    store.append_events(t.id, vec![entry.event()]).await.unwrap();
    let events = store.events(t.id).await.unwrap();
    assert_eq!(events.last().map(|e| (e.seq, e.kind)), Some((7, EventKind::TimeLogged)));
    assert_eq!(domain::TimeEntry::of_events(&events), vec![entry.clone()]);
    assert_eq!(store.ticket(t.id).await.unwrap().unwrap().version, version);
    let missing = store.append_events(TicketId(9_999), vec![entry.event()]).await.unwrap_err();
    assert!(matches!(missing, StoreError::NotFound), "{missing:?}");
}

pub async fn stale_write_is_refused(store: SqlStore) {
    let c = customer(&store, "ann@example.com").await;
    let t = create(&store, spec("Two agents", "race", c, T0)).await;
    let (a, ea) = lifecycle::apply_patch(
        &t,
        &TicketPatch { priority: Some(Priority::High), ..Default::default() },
        staff(UserId(1)),
        T0 + 1,
    )
    .unwrap();
    let (b, eb) = lifecycle::apply_patch(
        &t,
        &TicketPatch { priority: Some(Priority::Low), ..Default::default() },
        staff(UserId(2)),
        T0 + 2,
    )
    .unwrap();
    store
        .write_ticket(TicketWrite { ticket: a, expected_version: t.version, events: ea, messages: vec![] })
        .await
        .unwrap();
    let err = store
        .write_ticket(TicketWrite { ticket: b, expected_version: t.version, events: eb, messages: vec![] })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    let now = store.ticket(t.id).await.unwrap().unwrap();
    assert_eq!(now.priority, Priority::High);
    assert_eq!(store.events(t.id).await.unwrap().len(), 3, "the refused write left no events");
}

pub async fn list_filters(store: SqlStore) {
    let c1 = customer(&store, "a@example.com").await;
    let c2 = customer(&store, "b@example.com").await;
    let agent = user(&store, "agent@support.test", Role::Agent, None).await;
    let billing = team(&store, "Billing", None, &[agent]).await;
    let t1 = create(&store, Spec { team: Some(billing), tags: &["refund"], ..spec("one", "x", c1, T0) }).await;
    let t2 = create(
        &store,
        Spec { assignee: Some(agent), priority: Priority::Urgent, ..spec("two", "x", c2, T0 + 86_400_000) },
    )
    .await;
    let t3 = create(&store, Spec { tags: &["refund", "vip"], ..spec("three", "x", c1, T0 + 2 * 86_400_000) }).await;
    let all = TicketScope::All;
    assert_eq!(ids(&store, &query(all.clone(), "")).await, vec![t1.id.0, t2.id.0, t3.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "status:open")).await, vec![t2.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "status:new")).await, vec![t1.id.0, t3.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "priority:urgent")).await, vec![t2.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "tag:refund")).await, vec![t1.id.0, t3.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "tag:refund tag:vip")).await, vec![t3.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "tag:refund -tag:vip")).await, vec![t1.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "assignee:none")).await, vec![t1.id.0, t3.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), &format!("assignee:{}", agent.0))).await, vec![t2.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), &format!("team:{}", billing.0))).await, vec![t1.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), &format!("requester:{}", c1.0))).await, vec![t1.id.0, t3.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "channel:email")).await.len(), 3);
    assert_eq!(ids(&store, &query(all.clone(), "channel:chat")).await, Vec::<i64>::new());
    assert_eq!(ids(&store, &query(all.clone(), "created>2026-01-01")).await, vec![t2.id.0, t3.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "created:2026-01-02")).await, vec![t2.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "created<2026-01-02 updated<2026-01-02")).await, vec![t1.id.0]);
    // Sorting by priority puts the urgent ticket first.
    let mut q = query(all, "");
    q.sort = TicketSort::parse("-priority").unwrap();
    assert_eq!(store.tickets(&q).await.unwrap().items[0].id, t2.id);
}

pub async fn keyset_pages_cover_everything_once(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let mut batch = Vec::new();
    for i in 0..57 {
        // Several tickets share a creation time, so the id breaks ties.
        let subject = format!("ticket {i}");
        let mut s = spec(&subject, "body", c, T0 + (i / 3) * 1000);
        s.priority = [Priority::Low, Priority::Normal, Priority::High][(i % 3) as usize];
        batch.push(new_ticket(&s));
    }
    let created = store.import_tickets(batch).await.unwrap();
    store.optimize().await.unwrap();
    for sort in ["-created", "created", "-updated", "priority", "-priority", "id", "-id"] {
        let mut q = query(TicketScope::All, "");
        q.sort = TicketSort::parse(sort).unwrap();
        q.limit = 10;
        let mut seen = Vec::new();
        let mut last_key: Option<(i64, i64)> = None;
        loop {
            let page = store.tickets(&q).await.unwrap();
            for t in &page.items {
                let key = (q.sort.key(t), t.id.0);
                if let Some(prev) = last_key {
                    if q.sort.descending {
                        assert!(key < prev, "{sort}: order")
                    } else {
                        assert!(key > prev, "{sort}: order")
                    }
                }
                last_key = Some(key);
                seen.push(t.id);
            }
            match page.next {
                Some(c) => q.after = Some(Cursor::decode(&c.encode()).unwrap()),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 57, "{sort}: every ticket once");
        assert_eq!(sorted, {
            let mut c = created.clone();
            c.sort();
            c
        });
    }
}

/// An import (made into rows first, then stored) stores what a creation
/// stores: the same ticket, messages and events, its `message_added`
/// events naming its own stored messages, searchable at once. A page
/// that needs the database (a requester to create) goes the creation's
/// way, and numbers follow on.
pub async fn imports_store_what_creates_store(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let mut first = new_ticket(&spec("Export fails", "the export button gives an error", c, T0));
    first.messages.push(message(staff(UserId(1)), Visibility::Internal, "a known fraudster", T0 + 5));
    first.messages.push(message(staff(UserId(1)), Visibility::Public, "Try again now", T0 + 5));
    let created = store.create_ticket(first.clone(), None).await.unwrap().id;
    let page = store.prepare_import(vec![first, new_ticket(&spec("Invoice", "where is my invoice", c, T0 + 10))]);
    assert_eq!(page.len(), 2);
    let imported = store.import_prepared(page).await.unwrap();
    assert_eq!(imported.len(), 2);
    assert!(created < imported[0] && imported[0] < imported[1]);

    let ticket = |id| {
        let store = &store;
        async move { store.ticket(id).await.unwrap().unwrap() }
    };
    assert_eq!(domain::Ticket { id: created, ..ticket(imported[0]).await }, ticket(created).await);
    let (made, messages) =
        (store.messages(created, true).await.unwrap(), store.messages(imported[0], true).await.unwrap());
    assert_eq!(messages.len(), 3);
    for (m, k) in made.iter().zip(&messages) {
        assert_eq!(k.ticket_id, imported[0]);
        assert_eq!(domain::Message { id: m.id, ticket_id: created, ..k.clone() }, *m);
    }
    let (made, copied) = (store.events(created).await.unwrap(), store.events(imported[0]).await.unwrap());
    assert_eq!(made.len(), copied.len());
    let mut named = Vec::new();
    for (e, k) in made.iter().zip(&copied) {
        assert_eq!(
            (k.ticket_id, k.seq, k.at, k.actor, k.kind, &k.field, &k.from),
            (imported[0], e.seq, e.at, e.actor, e.kind, &e.field, &e.from)
        );
        if e.kind == EventKind::MessageAdded {
            named.push(k.to["message_id"].as_i64().unwrap());
            let mut to = k.to.clone();
            to["message_id"] = e.to["message_id"].clone();
            assert_eq!(to, e.to);
        } else {
            assert_eq!(k.to, e.to);
        }
    }
    assert_eq!(named, messages.iter().map(|m| m.id.0).collect::<Vec<_>>());
    assert_eq!(ids(&store, &query(TicketScope::All, "fraudster")).await, vec![created.0, imported[0].0]);
    assert_eq!(ids(&store, &query(TicketScope::All, "invoice")).await, vec![imported[1].0]);

    let mut newcomer = new_ticket(&spec("Hello", "first time here", c, T0 + 20));
    let email = domain::EmailAddress::parse("b@example.com").unwrap();
    newcomer.new_requester = Some(Customer::new(&email, "b", T0));
    let later = store.import_tickets(vec![newcomer]).await.unwrap();
    let b = store.customer_by_email("b@example.com").await.unwrap().unwrap();
    assert_eq!(ticket(later[0]).await.requester_id, b.id);
    assert!(later[0] > imported[1]);
}

pub async fn search_words_phrases_exclusions(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let a = create(&store, spec("Export to CSV fails", "The export button gives an error", c, T0)).await;
    let b = create(&store, spec("Invoice question", "Where is my invoice for the export license?", c, T0 + 1)).await;
    let d = create(&store, spec("Password reset", "Cannot reset password; error E-42", c, T0 + 2)).await;
    let all = TicketScope::All;
    assert_eq!(ids(&store, &query(all.clone(), "export")).await, vec![a.id.0, b.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "EXPORT error")).await, vec![a.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "\"export button\"")).await, vec![a.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "\"button export\"")).await, Vec::<i64>::new());
    assert_eq!(ids(&store, &query(all.clone(), "export -invoice")).await, vec![a.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "-export")).await, vec![d.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "e-42")).await, vec![d.id.0]);
    assert_eq!(ids(&store, &query(all.clone(), "error status:new")).await, vec![a.id.0, d.id.0]);
    // Subject changes are searchable at once.
    let a2 = patch(
        &store,
        &a,
        TicketPatch { subject: Some("Spreadsheet download broken".into()), ..Default::default() },
        UserId(1),
        T0 + 5,
    )
    .await;
    assert_eq!(ids(&store, &query(all.clone(), "spreadsheet")).await, vec![a2.id.0]);
    assert_eq!(ids(&store, &query(all, "csv")).await, Vec::<i64>::new());
}

pub async fn customers_never_match_notes(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let t = create(&store, spec("Login trouble", "cannot sign in", c, T0)).await;
    add_note(&store, &t, UserId(1), "customer is a known fraudster", T0 + 1).await;
    let mut q = query(TicketScope::All, "fraudster");
    assert_eq!(ids(&store, &q).await, vec![t.id.0]);
    q.staff_text = false;
    assert_eq!(ids(&store, &q).await, Vec::<i64>::new());
    let mut q = query(TicketScope::All, "sign");
    q.staff_text = false;
    assert_eq!(ids(&store, &q).await, vec![t.id.0]);
}

pub async fn hostile_search_text_is_text(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let t = create(&store, spec("Drop table", "robert'); DROP TABLE tickets; -- said hi", c, T0)).await;
    for q in [
        "'); DROP TABLE tickets; --",
        "\"unbalanced",
        "((( NEAR(a b) ))) * ^ :",
        "a OR b AND NOT c",
        "-\"\" - -- ---",
        "col:value {subject} : x",
        "'' \\ % _ $1 ?",
    ] {
        let parsed = search::parse(q, SearchContext::default()).unwrap();
        let tq = TicketQuery {
            scope: TicketScope::All,
            filter: parsed.filter,
            text: parsed.text,
            staff_text: true,
            sort: TicketSort::newest_first(),
            after: None,
            limit: 10,
        };
        store.tickets(&tq).await.unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    assert_eq!(ids(&store, &query(TicketScope::All, "'); DROP TABLE tickets; --")).await, vec![t.id.0]);
    assert!(store.ticket(t.id).await.unwrap().is_some());
}

pub async fn scope_limits_lists(store: SqlStore) {
    let c1 = customer(&store, "a@example.com").await;
    let c2 = customer(&store, "b@example.com").await;
    let agent = user(&store, "agent@support.test", Role::Agent, None).await;
    let other = user(&store, "other@support.test", Role::Agent, None).await;
    let a = team(&store, "A", None, &[agent]).await;
    let b = team(&store, "B", None, &[other]).await;
    let in_a = create(&store, Spec { team: Some(a), ..spec("in a", "x", c1, T0) }).await;
    let in_b = create(&store, Spec { team: Some(b), ..spec("in b", "x", c2, T0) }).await;
    let in_b_mine =
        create(&store, Spec { team: Some(b), assignee: Some(agent), ..spec("in b mine", "x", c2, T0) }).await;
    let general = create(&store, spec("no team", "x", c1, T0)).await;
    let (_, principal) = store.staff_principal(agent).await.unwrap().unwrap();
    let agent_scope = domain::Principal::Staff(principal).ticket_scope();
    assert_eq!(ids(&store, &query(agent_scope.clone(), "")).await, vec![in_a.id.0, in_b_mine.id.0, general.id.0]);
    assert_eq!(ids(&store, &query(agent_scope, "x")).await, vec![in_a.id.0, in_b_mine.id.0, general.id.0]);
    let (_, cp) = store.customer_principal(c2).await.unwrap().unwrap();
    let customer_scope = domain::Principal::Customer(cp).ticket_scope();
    assert_eq!(ids(&store, &query(customer_scope, "")).await, vec![in_b.id.0, in_b_mine.id.0]);
}

pub async fn idempotent_create_replays(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let key = IdempotencyKey { scope: "staff:1".into(), key: "k-1".into(), request_hash: "h1".into() };
    let first = store.create_ticket(new_ticket(&spec("once", "x", c, T0)), Some(key.clone())).await.unwrap();
    let again = store.create_ticket(new_ticket(&spec("once", "x", c, T0)), Some(key.clone())).await.unwrap();
    assert!(!first.replayed);
    assert!(again.replayed);
    assert_eq!(first.id, again.id);
    let other = IdempotencyKey { request_hash: "h2".into(), ..key.clone() };
    let err = store.create_ticket(new_ticket(&spec("different", "y", c, T0)), Some(other)).await.unwrap_err();
    assert!(matches!(err, StoreError::IdempotencyMismatch));
    // The same key from someone else is a different key.
    let theirs = IdempotencyKey { scope: "staff:2".into(), ..key };
    assert!(!store.create_ticket(new_ticket(&spec("once", "x", c, T0)), Some(theirs)).await.unwrap().replayed);
    assert_eq!(ids(&store, &query(TicketScope::All, "")).await.len(), 2);
}

pub async fn merge_moves_messages(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let src = create(&store, spec("Duplicate", "second mail about kangaroo", c, T0)).await;
    let dst = create(&store, spec("Original", "first mail", c, T0 + 1)).await;
    let ((s, se), (t, te)) = lifecycle::merge(&src, &dst, staff(UserId(1)), T0 + 10).unwrap();
    store
        .merge_tickets(
            TicketWrite { ticket: s, expected_version: src.version, events: se, messages: vec![] },
            TicketWrite { ticket: t, expected_version: dst.version, events: te, messages: vec![] },
        )
        .await
        .unwrap();
    let src_now = store.ticket(src.id).await.unwrap().unwrap();
    assert_eq!(src_now.status, Status::Closed);
    assert_eq!(src_now.merged_into, Some(dst.id));
    assert!(store.messages(src.id, true).await.unwrap().is_empty());
    assert_eq!(store.messages(dst.id, true).await.unwrap().len(), 2);
    assert_eq!(ids(&store, &query(TicketScope::All, "kangaroo")).await, vec![dst.id.0]);
    let kinds: Vec<EventKind> = store.events(dst.id).await.unwrap().iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::MergedFrom));
}

pub async fn follow_up_links_back(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let t = create(&store, spec("Done", "thanks", c, T0)).await;
    let t =
        patch(&store, &t, TicketPatch { status: Some(Status::Solved), ..Default::default() }, UserId(1), T0 + 1).await;
    let t =
        patch(&store, &t, TicketPatch { status: Some(Status::Closed), ..Default::default() }, UserId(1), T0 + 2).await;
    let actor = Actor { kind: AuthorKind::Customer, id: Some(c.0) };
    let (ticket, events) = lifecycle::open_ticket(lifecycle::follow_up_of(&t, Channel::Email), actor, T0 + 3).unwrap();
    let id = store
        .create_follow_up(
            TicketCreate {
                ticket,
                events,
                messages: vec![message(actor, Visibility::Public, "it broke again", T0 + 3)],
                new_requester: None,
            },
            t.id,
            T0 + 3,
        )
        .await
        .unwrap();
    let f = store.ticket(id).await.unwrap().unwrap();
    assert_eq!(f.follow_up_of, Some(t.id));
    assert_eq!(f.status, Status::New);
    let original_events = store.events(t.id).await.unwrap();
    let last = original_events.last().unwrap();
    assert_eq!(last.kind, EventKind::FollowUpCreated);
    assert_eq!(last.to, serde_json::json!(id.0));
    assert_eq!(store.ticket(t.id).await.unwrap().unwrap(), t, "the closed ticket itself is unchanged");
}

pub async fn failed_write_leaves_nothing(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let mut new = new_ticket(&spec("Half", "written", c, T0));
    new.messages[0].attachment_ids = vec![AttachmentId(424_242)];
    new.new_requester = Some(Customer { email: "new@example.com".into(), ..store.customer(c).await.unwrap().unwrap() });
    let err = store.create_ticket(new, None).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "{err:?}");
    assert!(store.customer_by_email("new@example.com").await.unwrap().is_none(), "the new requester was rolled back");
    assert!(store.tickets(&query(TicketScope::All, "")).await.unwrap().items.is_empty());
    assert!(ids(&store, &query(TicketScope::All, "written")).await.is_empty());
    // A real attachment attaches once, and not to a second message.
    let a = store
        .create_attachment(NewAttachment {
            uploader: PrincipalRef::Customer(c),
            file_name: "a.txt".into(),
            content_type: "text/plain".into(),
            size: 3,
            storage_key: "k".into(),
            created_at: T0,
        })
        .await
        .unwrap();
    let mut ok = new_ticket(&spec("With file", "see file", c, T0));
    ok.messages[0].attachment_ids = vec![a.id];
    ok.new_requester = Some(Customer {
        id: CustomerId(0),
        email: "new@example.com".into(),
        ..store.customer(c).await.unwrap().unwrap()
    });
    let id = store.create_ticket(ok, None).await.unwrap().id;
    let requester = store.customer_by_email("new@example.com").await.unwrap().unwrap();
    assert_eq!(store.ticket(id).await.unwrap().unwrap().requester_id, requester.id);
    assert_eq!(store.messages(id, false).await.unwrap()[0].attachments[0].file_name, "a.txt");
    let (_, _, on_ticket) = store.attachment(a.id).await.unwrap().unwrap();
    assert_eq!(on_ticket, Some(id));
    let mut again = new_ticket(&spec("Steal file", "x", c, T0));
    again.messages[0].attachment_ids = vec![a.id];
    assert!(store.create_ticket(again, None).await.is_err());
    assert_eq!(store.tickets(&query(TicketScope::All, "")).await.unwrap().items.len(), 1);
}

pub async fn emails_are_unique(store: SqlStore) {
    customer(&store, "ann@example.com").await;
    let c = Customer {
        tier: Tier::Vip,
        annual_value_cents: Some(100),
        ..Customer::new(&domain::EmailAddress::parse("ann@example.com").unwrap(), "Other Ann", T0)
    };
    let err = store.create_customer(c, None, None).await.unwrap_err();
    assert!(matches!(&err, StoreError::Duplicate(col) if col == "email"), "{err:?}");
    assert!(store.customer_by_email("ANN@example.com").await.unwrap().is_some());
    let org = Organization {
        id: domain::OrganizationId(0),
        name: "Acme".into(),
        domains: vec!["acme.test".into()],
        tier: Tier::Priority,
        notes: String::new(),
        shares_tickets: true,
        created_at: T0,
        updated_at: T0,
    };
    let id = store.create_organization(org.clone(), None).await.unwrap().id;
    assert_eq!(store.organization(id).await.unwrap().unwrap().domains, vec!["acme.test"]);
    assert!(matches!(store.create_organization(org, None).await.unwrap_err(), StoreError::Duplicate(_)));
}

pub async fn staff_principal_follows_reporting_line(store: SqlStore) {
    let head = user(&store, "head@support.test", Role::Manager, None).await;
    let manager = user(&store, "manager@support.test", Role::Manager, Some(head)).await;
    let agent = user(&store, "agent@support.test", Role::Agent, Some(manager)).await;
    let billing = team(&store, "Billing", Some(manager), &[agent]).await;
    let tech = team(&store, "Technical", None, &[agent, manager]).await;
    let (_, p) = store.staff_principal(head).await.unwrap().unwrap();
    let mut reports = p.report_ids.clone();
    reports.sort();
    assert_eq!(reports, vec![manager, agent]);
    let (_, p) = store.staff_principal(manager).await.unwrap().unwrap();
    assert_eq!(p.led_team_ids, vec![billing]);
    assert_eq!(p.team_ids, vec![tech]);
    let (_, p) = store.staff_principal(agent).await.unwrap().unwrap();
    let mut teams = p.team_ids.clone();
    teams.sort();
    assert_eq!(teams, vec![billing, tech]);
    assert!(p.report_ids.is_empty());
    let mut t = store.team(billing).await.unwrap().unwrap();
    t.member_ids = vec![agent, manager];
    store.update_team(&t).await.unwrap();
    assert_eq!(store.team(billing).await.unwrap().unwrap().member_ids.len(), 2);
    assert_eq!(store.teams().await.unwrap().len(), 2);
    let page = store.users(PageRequest { after: None, limit: 2 }).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let rest = store.users(PageRequest { after: Some(page.next.unwrap().id), limit: 2 }).await.unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next.is_none());
}

pub async fn sessions_tokens_throttle_audit(store: SqlStore) {
    let u = user(&store, "agent@support.test", Role::Agent, None).await;
    let who = PrincipalRef::Staff(u);
    store.create_session("s1", who, T0, T0 + 1000).await.unwrap();
    assert_eq!(store.session("s1", T0 + 999).await.unwrap(), Some(who));
    assert_eq!(store.session("s1", T0 + 1000).await.unwrap(), None, "expired");
    store.delete_sessions_of(who).await.unwrap();
    assert_eq!(store.session("s1", T0).await.unwrap(), None);
    let tok = store.create_api_token(u, "laptop", "th", T0).await.unwrap();
    assert_eq!(store.api_token("th", T0).await.unwrap(), Some((tok.id, u)));
    assert_eq!(store.api_tokens(u).await.unwrap()[0].last_used_at, Some(T0));
    assert!(store.revoke_api_token(u, tok.id, T0 + 1).await.unwrap());
    assert!(!store.revoke_api_token(u, tok.id, T0 + 2).await.unwrap(), "revoked once");
    assert_eq!(store.api_token("th", T0).await.unwrap(), None);
    for i in 0..3 {
        store.record_login_failure("ann@x.test", T0 + i).await.unwrap();
    }
    assert_eq!(store.login_failures_since("ann@x.test", T0 + 1).await.unwrap(), 2);
    store.clear_login_failures("ann@x.test").await.unwrap();
    assert_eq!(store.login_failures_since("ann@x.test", 0).await.unwrap(), 0);
    let creds = store.credentials("AGENT@support.test").await.unwrap().unwrap();
    assert_eq!(creds.principal, who);
    for i in 0..5 {
        store
            .append_audit(NewAuditEntry {
                at: T0 + i,
                actor: "staff:1".into(),
                action: "user.create".into(),
                target: format!("user:{i}"),
                outcome: "allowed".into(),
                detail: serde_json::json!({}),
            })
            .await
            .unwrap();
    }
    let page = store.audit(PageRequest { after: None, limit: 3 }).await.unwrap();
    assert_eq!(page.items[0].target, "user:4", "newest first");
    let rest = store.audit(PageRequest { after: page.next.map(|c| c.id), limit: 3 }).await.unwrap();
    assert_eq!(rest.items.len(), 2);
}

pub async fn changes_are_announced_after_commit(store: SqlStore) {
    let mut rx = store.subscribe();
    let c = customer(&store, "a@example.com").await;
    let t = create(&store, spec("Live", "x", c, T0)).await;
    let change = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
    assert_eq!(change.ticket_id, t.id);
    assert!(change.kinds.contains(&EventKind::Created));
    // A refused write announces nothing.
    let (b, eb) = lifecycle::apply_patch(
        &t,
        &TicketPatch { priority: Some(Priority::Low), ..Default::default() },
        staff(UserId(2)),
        T0 + 2,
    )
    .unwrap();
    let _ = store.write_ticket(TicketWrite { ticket: b, expected_version: 77, events: eb, messages: vec![] }).await;
    assert!(tokio::time::timeout(std::time::Duration::from_millis(300), rx.recv()).await.is_err());
}

/// Many creations at once (batched into one transaction on SQLite): each
/// gets its own ticket, a shared idempotency key yields one ticket, and one
/// bad request fails alone.
pub async fn requesters_by_email_are_found_or_created_once(store: SqlStore) {
    let known = customer(&store, "known@example.com").await;
    let org = store
        .create_organization(
            Organization {
                id: domain::OrganizationId(0),
                name: "Acme".into(),
                domains: vec![],
                tier: Tier::Standard,
                notes: String::new(),
                shares_tickets: false,
                created_at: T0,
                updated_at: T0,
            },
            None,
        )
        .await
        .unwrap()
        .id;
    let mut c = store.customer(known).await.unwrap().unwrap();
    c.organization_id = Some(org);
    store.update_customer(&c).await.unwrap();
    let mut jobs = Vec::new();
    for i in 0..30 {
        let store = store.clone();
        let email = ["known@example.com", "new1@example.com", "new2@example.com"][i % 3];
        let mut new = new_ticket(&spec(&format!("by email {i}"), "body", CustomerId(0), T0 + i as i64));
        new.new_requester = Some(Customer::new(&domain::EmailAddress::parse(email).unwrap(), &format!("Name {i}"), T0));
        jobs.push(tokio::spawn(async move { (email, store.create_ticket(new, None).await.unwrap().id) }));
    }
    for job in jobs {
        let (email, id) = job.await.unwrap();
        let requester = store.customer_by_email(email).await.unwrap().unwrap();
        let t = store.ticket(id).await.unwrap().unwrap();
        assert_eq!(t.requester_id, requester.id, "{email}");
        assert_eq!(t.organization_id, requester.organization_id, "{email}");
        let created = &store.events(id).await.unwrap()[0];
        assert_eq!(created.to["requester_id"], serde_json::json!(requester.id.0));
    }
    assert_eq!(store.customer_by_email("known@example.com").await.unwrap().unwrap().organization_id, Some(org));
    let all = store.customers(PageRequest { after: None, limit: 100 }, None).await.unwrap();
    assert_eq!(all.items.len(), 3, "each email is one customer");
}

pub async fn concurrent_creates_are_each_right(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let mut jobs = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        let mut new = new_ticket(&spec(&format!("parallel {i}"), "body", c, T0 + i));
        let key =
            (i % 10 == 0).then(|| IdempotencyKey { scope: "s".into(), key: "same".into(), request_hash: "h".into() });
        if i == 7 {
            new.messages[0].attachment_ids = vec![AttachmentId(999_999)];
        }
        jobs.push(tokio::spawn(async move { (i, store.create_ticket(new, key).await) }));
    }
    let mut ids = Vec::new();
    let mut keyed = Vec::new();
    for job in jobs {
        let (i, result) = job.await.unwrap();
        match (i, result) {
            (7, r) => assert!(matches!(r, Err(StoreError::MissingReference(_))), "{r:?}"),
            (i, Ok(created)) if i % 10 == 0 => keyed.push(created),
            (_, Ok(created)) => ids.push(created.id),
            (i, Err(e)) => panic!("{i}: {e}"),
        }
    }
    assert_eq!(ids.len(), 35);
    let first = keyed.iter().find(|k| !k.replayed).expect("one keyed create made the ticket");
    assert!(keyed.iter().all(|k| k.id == first.id));
    assert_eq!(keyed.iter().filter(|k| !k.replayed).count(), 1);
    ids.push(first.id);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 36);
    let all = store.tickets(&query(TicketScope::All, "parallel")).await.unwrap();
    assert_eq!(all.items.len(), 36);
    for id in ids {
        let events = store.events(id).await.unwrap();
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(store.messages(id, true).await.unwrap().len(), 1);
    }
}

/// Creations (on SQLite, the writer thread's own connection) and other
/// writes (the shared write connection) running at once all succeed: both
/// queue for the one write lock instead of failing as "locked".
pub async fn creations_and_updates_interleave(store: SqlStore) {
    let c = customer(&store, "mix@example.com").await;
    let agent = user(&store, "agent@support.test", Role::Agent, None).await;
    let mut existing = Vec::new();
    for i in 0..10 {
        existing.push(create(&store, spec(&format!("existing {i}"), "body", c, T0 + i)).await);
    }
    let mut creates = Vec::new();
    for i in 0..30 {
        let store = store.clone();
        let new = new_ticket(&spec(&format!("mixed {i}"), "body", c, T0 + 100 + i));
        creates.push(tokio::spawn(async move { store.create_ticket(new, None).await }));
    }
    let mut updates = Vec::new();
    for t in existing.clone() {
        let store = store.clone();
        updates.push(tokio::spawn(async move {
            let p = TicketPatch { priority: Some(Priority::Urgent), ..Default::default() };
            patch(&store, &t, p, agent, T0 + 1_000).await
        }));
    }
    for job in creates {
        job.await.unwrap().unwrap();
    }
    for job in updates {
        assert_eq!(job.await.unwrap().priority, Priority::Urgent);
    }
    assert_eq!(store.tickets(&query(TicketScope::All, "mixed")).await.unwrap().items.len(), 30);
    for t in existing {
        let kinds: Vec<EventKind> = store.events(t.id).await.unwrap().iter().map(|e| e.kind).collect();
        assert_eq!(kinds.last(), Some(&EventKind::PriorityChanged), "{kinds:?}");
    }
}

/// A new customer without an organization joins the one whose email
/// domains hold theirs: created directly, or as a ticket's requester.
pub async fn new_customers_join_their_domains_organization(store: SqlStore) {
    let org = |name: &str, domains: &[&str]| Organization {
        id: domain::OrganizationId(0),
        name: name.into(),
        domains: domains.iter().map(|d| d.to_string()).collect(),
        tier: Tier::Standard,
        notes: String::new(),
        shares_tickets: false,
        created_at: T0,
        updated_at: T0,
    };
    let acme = store.create_organization(org("Acme", &["acme.test", "acme-mail.test"]), None).await.unwrap().id;
    let other = store.create_organization(org("Other", &["other.test"]), None).await.unwrap().id;
    let new = |email: &str| Customer::new(&domain::EmailAddress::parse(email).unwrap(), "Someone", T0);
    let id = store.create_customer(new("Bob@Acme-Mail.test"), None, None).await.unwrap().id;
    assert_eq!(store.customer(id).await.unwrap().unwrap().organization_id, Some(acme));
    // Only whole domains: not a subdomain, not a longer name.
    for email in ["eve@sub.acme.test", "eve@notacme.test", "eve@acme.testing"] {
        let id = store.create_customer(new(email), None, None).await.unwrap().id;
        assert_eq!(store.customer(id).await.unwrap().unwrap().organization_id, None, "{email}");
    }
    // A given organization is kept.
    let mut chosen = new("carl@acme.test");
    chosen.organization_id = Some(other);
    let id = store.create_customer(chosen, None, None).await.unwrap().id;
    assert_eq!(store.customer(id).await.unwrap().unwrap().organization_id, Some(other));
    // A requester created with a ticket, and the ticket, get it too.
    let mut t = new_ticket(&spec("by mail", "body", CustomerId(0), T0));
    t.new_requester = Some(new("dora@other.test"));
    let ticket = store.create_ticket(t, None).await.unwrap().id;
    let ticket = store.ticket(ticket).await.unwrap().unwrap();
    assert_eq!(ticket.organization_id, Some(other));
    assert_eq!(store.customer(ticket.requester_id).await.unwrap().unwrap().organization_id, Some(other));
}

/// The stored ticket a create hands back equals what reading it returns.
pub async fn what_a_create_returns_is_what_a_read_returns(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let mut new = new_ticket(&Spec { tags: &["x"], ..spec("Returned", "first", c, T0) });
    new.messages.push(message(staff(UserId(1)), Visibility::Internal, "a note", T0));
    let created = store.create_ticket(new, None).await.unwrap();
    let stored = created.stored.expect("a new ticket without attachments comes back whole");
    assert_eq!(stored.ticket, store.ticket(created.id).await.unwrap().unwrap());
    assert_eq!(stored.messages, store.messages(created.id, true).await.unwrap());
    assert_eq!(stored.events, store.events(created.id).await.unwrap());
}

fn email_identity(message_id: &str, hash: &str) -> domain::EmailIdentity {
    domain::EmailIdentity {
        mailbox_id: None,
        direction: domain::Direction::Inbound,
        message_id: Some(message_id.into()),
        in_reply_to: None,
        references: vec![],
        from: "a@example.com".into(),
        to: vec!["support@example.com".into()],
        cc: vec![],
        subject: "Help".into(),
        content_hash: hash.into(),
        raw_key: Some(format!("raw/{hash}")),
    }
}

pub async fn mail_identity_threads_and_dedupes(store: SqlStore) {
    use crate::MailStore;
    let c = customer(&store, "a@example.com").await;
    let other = customer(&store, "b@example.com").await;
    let mut new = new_ticket(&spec("Mail", "first mail", c, T0));
    new.messages[0].email = Some(email_identity("m1@example.com", "h1"));
    new.events.push(NewEvent {
        at: T0,
        actor: Actor::system(),
        kind: EventKind::CollaboratorAdded,
        field: None,
        from: serde_json::Value::Null,
        to: serde_json::json!(other.0),
    });
    let id = store.create_ticket(new, None).await.unwrap().id;
    assert_eq!(store.collaborators(id).await.unwrap(), vec![other]);
    assert_eq!(store.ticket_by_message_ids(&["nope".into(), "m1@example.com".into()]).await.unwrap(), Some(id));
    assert_eq!(store.ticket_by_message_ids(&[]).await.unwrap(), None);
    let (mid, tid) = store.message_by_hash("h1").await.unwrap().unwrap();
    assert_eq!(tid, id);
    let (identity, on) = store.message_email(mid).await.unwrap().unwrap();
    assert_eq!((identity, on), (email_identity("m1@example.com", "h1"), id));

    // The same mail again is refused, and nothing of its write remains.
    let mut again = new_ticket(&spec("Mail again", "first mail", c, T0 + 1));
    again.messages[0].email = Some(email_identity("m1@example.com", "h1"));
    let err = store.create_ticket(again, None).await.unwrap_err();
    assert!(matches!(&err, StoreError::Duplicate(what) if what == "content_hash"), "{err:?}");
    assert_eq!(store.tickets(&query(TicketScope::All, "")).await.unwrap().items.len(), 1);

    // A reply on the ticket is found by its own Message-ID.
    let t = store.ticket(id).await.unwrap().unwrap();
    let (next, events) = match lifecycle::add_message(&t, Visibility::Public, staff(UserId(1)), T0 + 2).unwrap() {
        lifecycle::MessageOutcome::Added { ticket, events } => (ticket, events),
        lifecycle::MessageOutcome::FollowUp => unreachable!(),
    };
    let mut reply = message(staff(UserId(1)), Visibility::Public, "reply", T0 + 2);
    reply.email = Some(domain::EmailIdentity {
        direction: domain::Direction::Outbound,
        ..email_identity("out1@switchboard.test", "h2")
    });
    store
        .write_ticket(TicketWrite { ticket: next, expected_version: t.version, events, messages: vec![reply] })
        .await
        .unwrap();
    assert_eq!(store.ticket_by_message_ids(&["out1@switchboard.test".into()]).await.unwrap(), Some(id));
}

pub async fn mailboxes_and_quarantine(store: SqlStore) {
    use crate::{MailStore, NewQuarantine};
    let address = domain::EmailAddress::parse("Support@Example.com").unwrap();
    let m = domain::Mailbox::new(&address, "Support", None, T0);
    let id = store.create_mailbox(m.clone(), "hash1", None).await.unwrap().id;
    let err = store.create_mailbox(m.clone(), "hash2", None).await.unwrap_err();
    assert!(matches!(&err, StoreError::Duplicate(what) if what == "address"), "{err:?}");
    let stored = store.mailbox(id).await.unwrap().unwrap();
    assert_eq!(stored.address, "support@example.com");
    assert_eq!(store.mailbox_by_token("hash1").await.unwrap().unwrap().id, id);
    store.set_mailbox_token(id, "hash3").await.unwrap();
    assert!(store.mailbox_by_token("hash1").await.unwrap().is_none());
    let mut renamed = stored.clone();
    renamed.name = "Help desk".into();
    renamed.active = false;
    store.update_mailbox(&renamed).await.unwrap();
    assert_eq!(store.mailboxes().await.unwrap(), vec![renamed]);

    let q = NewQuarantine {
        mailbox_id: Some(id),
        content_hash: "bad".into(),
        raw_key: "raw/bad".into(),
        size: 10,
        reason: "no From".into(),
        received_at: T0,
    };
    let first = store.quarantine(q.clone()).await.unwrap();
    let second = store.quarantine(NewQuarantine { reason: "still no From".into(), ..q }).await.unwrap();
    assert_eq!(first, second, "the same mail is one entry");
    let entry = store.quarantine_entry(first).await.unwrap().unwrap();
    assert_eq!((entry.attempts, entry.reason.as_str(), entry.resolved_at), (2, "still no From", None));
    store.resolve_quarantine(first, None, T0 + 5).await.unwrap();
    let page = store.quarantined(PageRequest { after: None, limit: 10 }).await.unwrap();
    assert_eq!(page.items[0].resolved_at, Some(T0 + 5));

    let secret = store.instance_secret("reply_token", "abc").await.unwrap();
    assert_eq!(secret, "abc");
    assert_eq!(store.instance_secret("reply_token", "other").await.unwrap(), "abc", "the first value stays");
}

pub async fn workspace_keeps_what_agents_set(store: SqlStore) {
    use domain::{
        AgentStatus, InstanceSettings, Macro, MacroActions, MacroId, NotificationPrefs, SavedView, ViewColumn, ViewId,
    };
    let ada = user(&store, "ada@support.test", Role::Agent, None).await;
    let bo = user(&store, "bo@support.test", Role::Agent, None).await;

    // Status: never set is offline; each change is kept, a repeat is not.
    assert!(store.agent_statuses().await.unwrap().is_empty());
    store.set_agent_status(ada, AgentStatus::Offline, T0).await.unwrap();
    store.set_agent_status(ada, AgentStatus::Online, T0 + 1_000).await.unwrap();
    store.set_agent_status(ada, AgentStatus::Online, T0 + 2_000).await.unwrap();
    store.set_agent_status(ada, AgentStatus::Away, T0 + 3_000).await.unwrap();
    assert_eq!(store.agent_statuses().await.unwrap(), vec![(ada, AgentStatus::Away, T0 + 3_000)]);
    assert_eq!(
        store.agent_status_changes(ada, T0, T0 + 10_000).await.unwrap(),
        vec![(AgentStatus::Online, T0 + 1_000), (AgentStatus::Away, T0 + 3_000)]
    );
    assert_eq!(store.agent_status_changes(ada, T0 + 2_000, T0 + 3_000).await.unwrap(), vec![]);
    // History for occupancy: each agent's status entering the window, then its changes.
    store
        .import_status_changes(vec![
            (bo, AgentStatus::Online, T0 - 5_000),
            (bo, AgentStatus::Offline, T0 + 2_500),
            (bo, AgentStatus::Online, T0 + 4_000),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.status_history(T0 + 2_000, T0 + 4_000).await.unwrap(),
        vec![
            (ada, AgentStatus::Online, T0 + 1_000),
            (ada, AgentStatus::Away, T0 + 3_000),
            (bo, AgentStatus::Online, T0 - 5_000),
            (bo, AgentStatus::Offline, T0 + 2_500),
        ]
    );
    assert_eq!(
        store.agent_statuses().await.unwrap(),
        vec![(ada, AgentStatus::Away, T0 + 3_000), (bo, AgentStatus::Online, T0 + 4_000)],
        "an import leaves each agent in their latest status"
    );

    // Preferences: defaults until saved.
    assert_eq!(store.preferences(bo).await.unwrap(), NotificationPrefs::default());
    let prefs = NotificationPrefs { desktop: true, new_in_my_teams: true, ..Default::default() };
    store.set_preferences(bo, &prefs).await.unwrap();
    store.set_preferences(bo, &prefs).await.unwrap();
    assert_eq!(store.preferences(bo).await.unwrap(), prefs);

    // Macros: shared for all, personal for their owner only.
    let mac = |owner: Option<UserId>, name: &str| Macro {
        id: MacroId(0),
        owner_id: owner,
        name: name.into(),
        body: "Hi {{ customer.first_name }}".into(),
        public: true,
        actions: MacroActions { status: Some(Status::Pending), add_tags: vec!["x".into()], ..Default::default() },
        active: true,
        created_at: T0,
        updated_at: T0,
    };
    let shared = store.create_macro(mac(None, "Refund done")).await.unwrap();
    let mine = store.create_macro(mac(Some(ada), "Ada's hello")).await.unwrap();
    let names = |ms: Vec<Macro>| ms.into_iter().map(|m| m.name).collect::<Vec<_>>();
    assert_eq!(names(store.macros(Some(ada)).await.unwrap()), vec!["Ada's hello", "Refund done"]);
    assert_eq!(names(store.macros(Some(bo)).await.unwrap()), vec!["Refund done"]);
    assert_eq!(names(store.macros(None).await.unwrap()), vec!["Refund done"]);
    let mut m = store.macro_by_id(shared).await.unwrap().unwrap();
    assert_eq!(m.actions.status, Some(Status::Pending));
    m.body = "Bye".into();
    m.active = false;
    store.update_macro(&m).await.unwrap();
    assert_eq!(store.macro_by_id(shared).await.unwrap().unwrap(), m);
    assert!(store.delete_macro(mine).await.unwrap());
    assert!(!store.delete_macro(mine).await.unwrap());
    assert!(matches!(store.update_macro(&Macro { id: mine, ..m.clone() }).await, Err(StoreError::NotFound)));

    // Views: shared first, then the owner's, by position.
    let view = |owner: Option<UserId>, name: &str, position: i64| SavedView {
        id: ViewId(0),
        owner_id: owner,
        name: name.into(),
        query: "status:open tag:vip".into(),
        columns: vec![ViewColumn::Number, ViewColumn::Subject],
        sort: "-updated".into(),
        position,
        created_at: T0,
        updated_at: T0,
    };
    store.create_view(view(Some(ada), "B mine", 0)).await.unwrap();
    let a_mine = store.create_view(view(Some(ada), "A mine", 1)).await.unwrap();
    store.create_view(view(None, "Team VIPs", 5)).await.unwrap();
    store.create_view(view(Some(bo), "Bo's", 0)).await.unwrap();
    let listed: Vec<String> = store.saved_views(ada).await.unwrap().into_iter().map(|v| v.name).collect();
    assert_eq!(listed, vec!["Team VIPs", "B mine", "A mine"]);
    let mut v = store.saved_view(a_mine).await.unwrap().unwrap();
    assert_eq!(v.columns, vec![ViewColumn::Number, ViewColumn::Subject]);
    v.owner_id = None;
    v.columns = vec![ViewColumn::Tags];
    store.update_view(&v).await.unwrap();
    assert_eq!(store.saved_view(a_mine).await.unwrap().unwrap(), v);
    assert_eq!(store.saved_views(bo).await.unwrap().len(), 3, "now shared");
    assert!(store.delete_view(a_mine).await.unwrap());

    // Presence: a heartbeat per agent, old ones left out, leaving removes.
    let c = customer(&store, "c@example.com").await;
    let t = create(&store, spec("Printer", "on fire", c, T0)).await;
    store.touch_presence(t.id, ada, false, T0).await.unwrap();
    store.touch_presence(t.id, bo, false, T0 + 1_000).await.unwrap();
    store.touch_presence(t.id, bo, true, T0 + 20_000).await.unwrap();
    assert_eq!(store.presence(t.id, T0 + 10_000).await.unwrap(), vec![(bo, true, T0 + 20_000)]);
    assert_eq!(store.presence(t.id, T0).await.unwrap().len(), 2);
    store.leave_ticket(t.id, bo).await.unwrap();
    assert_eq!(store.presence(t.id, T0).await.unwrap(), vec![(ada, false, T0)]);

    // Instance settings: defaults until saved.
    assert_eq!(store.instance_settings().await.unwrap(), InstanceSettings::default());
    let s = InstanceSettings { helpdesk_name: "Acme Support".into(), time_zone: "Europe/Berlin".into() };
    store.set_instance_settings(&s).await.unwrap();
    store.set_instance_settings(&s).await.unwrap();
    assert_eq!(store.instance_settings().await.unwrap(), s);
}

pub async fn counts_are_capped_and_texts_joined(store: SqlStore) {
    let c = customer(&store, "a@example.com").await;
    let c2 = customer(&store, "b@example.com").await;
    let found: Vec<CustomerId> =
        store.customers_by_ids(&[c2, CustomerId(999), c]).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(found, vec![c, c2]);
    assert!(store.customers_by_ids(&[]).await.unwrap().is_empty());
    let agent = user(&store, "agent@support.test", Role::Agent, None).await;
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(
            create(
                &store,
                Spec {
                    tags: if i % 2 == 0 { &["even"] } else { &[] },
                    ..spec(&format!("t{i}"), "first words", c, T0 + i)
                },
            )
            .await,
        );
    }
    let all = TicketScope::All;
    assert_eq!(store.count_tickets(&query(all.clone(), ""), 100).await.unwrap(), 7);
    assert_eq!(store.count_tickets(&query(all.clone(), "tag:even"), 100).await.unwrap(), 4);
    assert_eq!(store.count_tickets(&query(all.clone(), "tag:even"), 3).await.unwrap(), 3, "capped");
    assert_eq!(store.count_tickets(&query(all.clone(), "words"), 100).await.unwrap(), 7);
    assert_eq!(store.count_tickets(&query(all, "nothing"), 100).await.unwrap(), 0);
    add_note(&store, &made[0], agent, "secret note", T0 + 100).await;
    let texts = store.ticket_texts(&[made[0].id, made[1].id], false).await.unwrap();
    assert_eq!(texts, vec![(made[0].id, "first words".to_string()), (made[1].id, "first words".to_string())]);
    let staff_texts = store.ticket_texts(&[made[0].id], true).await.unwrap();
    assert_eq!(staff_texts, vec![(made[0].id, "first words\n\nsecret note".to_string())]);
    assert!(store.ticket_texts(&[], true).await.unwrap().is_empty());
}

pub async fn jobs_are_claimed_once_retried_and_dead_lettered(store: SqlStore) {
    use domain::{JobStatus, NewJob};
    let job = |n: i64| NewJob::new("test.echo", serde_json::json!({ "n": n }), T0 + n, T0);
    // Keys make a job exist once.
    let a = store.enqueue_job(job(1).key("ticket:1:breach")).await.unwrap();
    let again = store.enqueue_job(job(99).key("ticket:1:breach")).await.unwrap();
    assert_eq!(a, again);
    let b = store.enqueue_job(job(2)).await.unwrap();
    let later = store.enqueue_job(job(1_000_000)).await.unwrap();

    // Due jobs only, each claimed by one holder until its lease passes.
    let claimed = store.claim_jobs(T0 + 10, "node-a", T0 + 60_000, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![a, b]);
    assert_eq!(
        (claimed[0].status, claimed[0].attempts, claimed[0].payload["n"].as_i64()),
        (JobStatus::Running, 1, Some(1))
    );
    assert!(store.claim_jobs(T0 + 20, "node-b", T0 + 60_000, 10).await.unwrap().is_empty());
    assert!(!store.complete_job(a, "node-b", T0 + 30).await.unwrap(), "only the holder completes");
    assert!(store.complete_job(a, "node-a", T0 + 30).await.unwrap());
    // node-a dies holding b: after the lease, node-b takes it; node-a's late word counts for nothing.
    let taken = store.claim_jobs(T0 + 60_000, "node-b", T0 + 120_000, 10).await.unwrap();
    assert_eq!((taken.len(), taken[0].id, taken[0].attempts), (1, b, 2));
    assert!(!store.complete_job(b, "node-a", T0 + 60_001).await.unwrap());
    // A failure is retried at its time; the last one is dead.
    assert!(store.fail_job(b, "node-b", "smtp 451", Some(T0 + 90_000), T0 + 60_002).await.unwrap());
    assert!(store.claim_jobs(T0 + 89_999, "node-b", T0 + 200_000, 10).await.unwrap().is_empty());
    let retried = store.claim_jobs(T0 + 90_000, "node-b", T0 + 200_000, 10).await.unwrap();
    assert_eq!(retried[0].last_error.as_deref(), Some("smtp 451"));
    assert!(store.fail_job(b, "node-b", "still failing", None, T0 + 90_001).await.unwrap());
    let dead = store.jobs(Some(JobStatus::Dead), PageRequest { after: None, limit: 10 }).await.unwrap();
    assert_eq!(dead.items.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b]);
    assert_eq!(dead.items[0].finished_at, Some(T0 + 90_001));
    assert!(store.retry_job(b, T0 + 100_000).await.unwrap());
    assert!(!store.retry_job(a, T0 + 100_000).await.unwrap(), "only dead jobs are retried");
    let b_now = store.job(b).await.unwrap().unwrap();
    assert_eq!((b_now.status, b_now.attempts, b_now.run_at), (JobStatus::Queued, 0, T0 + 100_000));
    assert_eq!(
        store.jobs(None, PageRequest { after: None, limit: 10 }).await.unwrap().items[0].id,
        later,
        "newest first"
    );
    assert_eq!(store.delete_done_jobs(T0 + 31).await.unwrap(), 1);
    assert!(store.job(a).await.unwrap().is_none());

    // Four claimers at once over 200 jobs: each job is claimed exactly once.
    for n in 0..200 {
        store.enqueue_job(NewJob::new("test.many", serde_json::json!({ "n": n }), T0, T0)).await.unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = s.claim_jobs(T0 + 1, &format!("w{w}"), T0 + 1_000_000, 7).await.unwrap();
                if got.is_empty() {
                    return mine;
                }
                for j in got {
                    if j.kind == "test.many" {
                        mine.push(j.id);
                    }
                    assert!(s.complete_job(j.id, &format!("w{w}"), T0 + 2).await.unwrap());
                }
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!((count, all.len()), (200, 200), "every job once, none twice");
}

pub async fn schedules_run_once_per_occurrence(store: SqlStore) {
    use domain::Schedule;
    let s = Schedule {
        name: "automations".into(),
        kind: "automations.run".into(),
        payload: serde_json::json!({}),
        every_ms: 60_000,
        next_run_at: T0,
    };
    store.ensure_schedule(&s).await.unwrap();
    store.ensure_schedule(&Schedule { every_ms: 300_000, next_run_at: T0 + 999, ..s.clone() }).await.unwrap();
    let stored = store.schedules().await.unwrap();
    assert_eq!((stored[0].every_ms, stored[0].next_run_at), (300_000, T0), "updated, keeping its next run");
    // Two nodes see it due: one moves it and enqueues the occurrence's job.
    let (n1, n2) = (s.job(T0, T0 + 5), s.job(T0, T0 + 6));
    assert!(store.advance_schedule("automations", T0, T0 + 300_000, n1).await.unwrap());
    assert!(!store.advance_schedule("automations", T0, T0 + 300_000, n2).await.unwrap());
    let jobs = store.claim_jobs(T0 + 10, "n", T0 + 100, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].idempotency_key.as_deref(), Some(format!("schedule:automations:{T0}").as_str()));
    assert_eq!(store.schedules().await.unwrap()[0].next_run_at, T0 + 300_000);
}

pub async fn service_rules_and_ticket_sla(store: SqlStore) {
    use domain::sla::{SlaConditions, SlaPolicy, SlaState, SlaTarget, SlaTargetKind, TicketSla};
    use domain::{Calendar, CalendarId, OpenHours, SlaPolicyId};
    let cal = Calendar {
        id: CalendarId(0),
        name: "Berlin office".into(),
        time_zone: "Europe/Berlin".into(),
        hours: vec![OpenHours { day: "monday".into(), from: "09:00".into(), to: "17:00".into() }],
        holidays: vec![],
        created_at: T0,
        updated_at: T0,
    };
    let cid = store.create_calendar(cal.clone()).await.unwrap();
    let mut c = store.calendar(cid).await.unwrap().unwrap();
    assert_eq!(c.hours, cal.hours);
    c.name = "Berlin".into();
    store.update_calendar(&c).await.unwrap();
    assert_eq!(store.calendars().await.unwrap(), vec![c]);

    let policy = |name: &str, position: i64| SlaPolicy {
        id: SlaPolicyId(0),
        name: name.into(),
        position,
        active: true,
        conditions: SlaConditions {
            priorities: vec![Priority::Urgent],
            tags: vec!["vip".into()],
            ..Default::default()
        },
        targets: vec![SlaTarget { kind: SlaTargetKind::FirstReply, minutes: 60, business_hours: true }],
        calendar_id: Some(cid),
        pause_on: vec![Status::Pending],
        warn_percent: 75,
        created_at: T0,
        updated_at: T0,
    };
    let b = store.create_sla_policy(policy("B", 2)).await.unwrap();
    let a = store.create_sla_policy(policy("A", 1)).await.unwrap();
    let listed = store.sla_policies().await.unwrap();
    assert_eq!(listed.iter().map(|p| p.id).collect::<Vec<_>>(), vec![a, b]);
    assert_eq!(listed[0].conditions.tags, vec!["vip".to_string()]);
    let mut p = listed[0].clone();
    p.active = false;
    store.update_sla_policy(&p).await.unwrap();
    assert!(!store.sla_policies().await.unwrap()[0].active);
    assert!(store.delete_sla_policy(b).await.unwrap());

    // A ticket's SLA: saved with its events (no version change), filtered on.
    let customer_id = customer(&store, "c@example.com").await;
    let t = create(&store, spec("Down", "all of it", customer_id, T0)).await;
    let other = create(&store, spec("Fine", "x", customer_id, T0)).await;
    assert_eq!(store.tickets_with_stale_sla(T0, 10).await.unwrap(), vec![t.id, other.id], "never evaluated");
    let state = |at_risk: bool, breached: bool| SlaState {
        policy_id: a,
        targets: vec![],
        cycles: vec![],
        next_check_at: None,
        at_risk,
        breached,
    };
    let sla =
        TicketSla { ticket_id: t.id, ticket_version: t.version, state: Some(state(true, false)), evaluated_at: T0 + 1 };
    let warned = NewEvent::change(
        T0 + 1,
        Actor::system(),
        EventKind::SlaWarning,
        "first_reply",
        serde_json::Value::Null,
        serde_json::json!({ "cycle": T0 }),
    );
    assert!(store.save_ticket_sla(&sla, std::slice::from_ref(&warned)).await.unwrap());
    assert_eq!(store.ticket(t.id).await.unwrap().unwrap().version, t.version, "SLA events do not change the version");
    assert_eq!(store.events(t.id).await.unwrap().last().unwrap().kind, EventKind::SlaWarning);
    // Evaluated again (and twice at once, as the scheduler and a change
    // can): an event already recorded is not recorded again.
    let breached = NewEvent { kind: EventKind::SlaBreached, at: T0 + 2, ..warned.clone() };
    let both = [warned.clone(), breached];
    let (first, second) = tokio::join!(store.save_ticket_sla(&sla, &both), store.save_ticket_sla(&sla, &both));
    assert!(first.unwrap() && second.unwrap());
    let kinds: Vec<EventKind> = store
        .events(t.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .filter(|k| k.as_str().starts_with("sla_"))
        .collect();
    assert_eq!(kinds, vec![EventKind::SlaWarning, EventKind::SlaBreached]);
    assert_eq!(store.ticket_sla(t.id).await.unwrap().unwrap(), sla);
    assert_eq!(store.tickets_with_stale_sla(T0, 10).await.unwrap(), vec![other.id]);
    let all = TicketScope::All;
    assert_eq!(ids(&store, &query(all.clone(), "sla:at_risk")).await, vec![t.id.0]);
    assert!(ids(&store, &query(all.clone(), "sla:breached")).await.is_empty());
    // An older evaluation arriving late is dropped; a newer one replaces.
    let newer = TicketSla { ticket_version: t.version + 5, state: Some(state(false, true)), ..sla.clone() };
    assert!(store.save_ticket_sla(&newer, &[]).await.unwrap());
    assert!(!store.save_ticket_sla(&sla, &[]).await.unwrap());
    assert_eq!(ids(&store, &query(all.clone(), "sla:breached")).await, vec![t.id.0]);
    assert!(ids(&store, &query(all, "sla:at_risk")).await.is_empty());
}

pub async fn routing_rules_profiles_and_loads(store: SqlStore) {
    use domain::routing::{AgentProfile, AssignMode, RouteConditions, RoutingRule, TeamRouting};
    use domain::{Channel, RoutingRuleId};
    let ada = user(&store, "ada@support.test", Role::Agent, None).await;
    let bo = user(&store, "bo@support.test", Role::Agent, None).await;
    let billing = team(&store, "Billing", None, &[ada, bo]).await;
    let rule = |name: &str, position: i64| RoutingRule {
        id: RoutingRuleId(0),
        name: name.into(),
        position,
        active: true,
        conditions: RouteConditions {
            words: vec!["invoice".into()],
            channels: vec![Channel::Email],
            ..Default::default()
        },
        team_id: billing,
        created_at: T0,
        updated_at: T0,
    };
    let second = store.create_routing_rule(rule("second", 2)).await.unwrap();
    let first = store.create_routing_rule(rule("first", 1)).await.unwrap();
    let rules = store.routing_rules().await.unwrap();
    assert_eq!(rules.iter().map(|r| r.id).collect::<Vec<_>>(), vec![first, second]);
    assert_eq!(rules[0].conditions.words, vec!["invoice".to_string()]);
    let mut r = rules[1].clone();
    r.active = false;
    store.update_routing_rule(&r).await.unwrap();
    assert!(!store.routing_rules().await.unwrap()[1].active);
    assert!(store.delete_routing_rule(first).await.unwrap());

    // A team is manual until set; round robin moves on only from where it stands.
    assert_eq!(store.team_routing(billing).await.unwrap(), (TeamRouting::default(), None));
    let mut settings = TeamRouting { mode: AssignMode::RoundRobin, reassign_when_offline: true, ..Default::default() };
    settings.capacity.insert(Channel::Chat, 3);
    store.set_team_routing(billing, &settings).await.unwrap();
    assert!(store.advance_round_robin(billing, None, ada).await.unwrap());
    assert!(!store.advance_round_robin(billing, None, bo).await.unwrap(), "another node moved it first");
    assert!(store.advance_round_robin(billing, Some(ada), bo).await.unwrap());
    assert_eq!(store.team_routing(billing).await.unwrap(), (settings, Some(bo)));
    let other = team(&store, "Other", None, &[]).await;
    assert!(store.advance_round_robin(other, None, ada).await.unwrap(), "a team never set starts too");

    // Profiles: defaults until set.
    let p =
        AgentProfile { skills: vec!["sap".into()], languages: vec!["de".into()], out_of_office_until: Some(T0 + 5) };
    store.set_agent_profile(ada, &p).await.unwrap();
    assert_eq!(store.agent_profiles(&[ada, bo]).await.unwrap(), vec![(ada, p), (bo, AgentProfile::default())]);

    // Loads: open work per agent and channel.
    let c = customer(&store, "c@example.com").await;
    for (subject, status) in [("a", None), ("b", None), ("c", Some(Status::Pending))] {
        let t = create(&store, Spec { assignee: Some(ada), ..spec(subject, "x", c, T0) }).await;
        if let Some(s) = status {
            patch(&store, &t, TicketPatch { status: Some(s), ..Default::default() }, ada, T0 + 1).await;
        }
    }
    assert_eq!(
        store.agent_loads(&[ada, bo]).await.unwrap(),
        vec![(ada, Channel::Email, 2)],
        "pending work waits on the customer"
    );
    assert!(store.agent_loads(&[]).await.unwrap().is_empty());
}

pub async fn triggers_escalations_approvals_incidents(store: SqlStore) {
    use domain::notification::NewNotification;
    use domain::rules::incident::{IncidentMatch, MajorIncident};
    use domain::rules::{
        Approval, ApprovalKind, ApprovalState, Condition, Escalation, EscalationSource, EscalationState,
        EscalationTier, Op, PriorityMatrix, PriorityOutcome, RuleAction, RuleActionKind, RuleKind, RunOn, ServiceRule,
    };
    use domain::{ApprovalId, EscalationId, ServiceRuleId};
    let ada = user(&store, "ada@support.test", Role::Agent, None).await;
    let c = customer(&store, "c@example.com").await;
    let t = create(&store, spec("Export is down", "x", c, T0)).await;

    // Rules of each kind, in position order; firings are once per mark.
    let rule = |kind: RuleKind, name: &str, position: i64| ServiceRule {
        id: ServiceRuleId(0),
        kind,
        name: name.into(),
        position,
        active: true,
        run_on: RunOn::Both,
        all: vec![Condition { field: "status".into(), op: Op::Is, value: serde_json::json!("pending") }],
        any: vec![],
        actions: vec![RuleAction { action: RuleActionKind::SetStatus, value: serde_json::json!("solved") }],
        created_at: T0,
        updated_at: T0,
    };
    let b = store.create_service_rule(rule(RuleKind::Trigger, "b", 2)).await.unwrap();
    let a = store.create_service_rule(rule(RuleKind::Trigger, "a", 1)).await.unwrap();
    let auto = store.create_service_rule(rule(RuleKind::Automation, "auto", 1)).await.unwrap();
    let triggers = store.service_rules(RuleKind::Trigger).await.unwrap();
    assert_eq!(triggers.iter().map(|r| r.id).collect::<Vec<_>>(), vec![a, b]);
    assert_eq!(triggers[0].all[0].value, serde_json::json!("pending"));
    let mut changed = triggers[1].clone();
    changed.active = false;
    changed.run_on = RunOn::Create;
    store.update_service_rule(&changed).await.unwrap();
    assert_eq!(store.service_rule(b).await.unwrap().unwrap(), changed);
    assert!(store.mark_rule_fired(auto, t.id, "v2", T0).await.unwrap());
    assert!(!store.mark_rule_fired(auto, t.id, "v2", T0).await.unwrap(), "once per mark");
    assert!(store.delete_service_rule(auto).await.unwrap());
    assert!(store.service_rules(RuleKind::Automation).await.unwrap().is_empty());
    assert_eq!(store.unclosed_tickets(TicketId(0), 10).await.unwrap().len(), 1);

    // Settings by key.
    assert!(store.setting("priority_matrix").await.unwrap().is_none());
    let m = serde_json::to_value(PriorityMatrix::default()).unwrap();
    store.set_setting("priority_matrix", &m).await.unwrap();
    assert_eq!(store.setting("priority_matrix").await.unwrap(), Some(m));

    // Escalations: an automatic one once while open, with its event.
    let esc = Escalation {
        id: EscalationId(0),
        ticket_id: t.id,
        tier: EscalationTier::Manager,
        source: EscalationSource::Vip,
        reason: "VIP customer".into(),
        raised_by: None,
        state: EscalationState::Open,
        outcome: None,
        resolved_by: None,
        created_at: T0 + 1,
        resolved_at: None,
    };
    let ev = |kind: EventKind| {
        NewEvent::change(T0 + 1, Actor::system(), kind, "escalation", serde_json::Value::Null, serde_json::Value::Null)
    };
    let id = store.create_escalation(esc.clone(), ev(EventKind::Escalated)).await.unwrap().unwrap();
    assert!(store.create_escalation(esc.clone(), ev(EventKind::Escalated)).await.unwrap().is_none());
    let open = store.escalations(Some(EscalationState::Open), None, 50).await.unwrap();
    assert_eq!(open.len(), 1);
    let mut done = open[0].clone();
    done.state = EscalationState::Resolved;
    done.outcome = Some("called the customer".into());
    done.resolved_by = Some(ada);
    done.resolved_at = Some(T0 + 2);
    assert!(store.resolve_escalation(&done, ev(EventKind::EscalationResolved)).await.unwrap());
    assert!(!store.resolve_escalation(&done, ev(EventKind::EscalationResolved)).await.unwrap());
    assert_eq!(store.escalation(id).await.unwrap().unwrap(), Escalation { id, ..done });
    let kinds: Vec<EventKind> = store.events(t.id).await.unwrap().iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == EventKind::Escalated).count(), 1);
    assert!(kinds.contains(&EventKind::EscalationResolved));

    // Approvals: a decision lands once.
    let ap = Approval {
        id: ApprovalId(0),
        ticket_id: t.id,
        kind: ApprovalKind::Refund,
        amount_minor: 12_000,
        currency: "EUR".into(),
        reason: "double charge".into(),
        requested_by: ada,
        state: ApprovalState::Pending,
        approver_id: None,
        escalated: false,
        decided_by: None,
        decision_reason: None,
        created_at: T0,
        due_at: T0 + 3_600_000,
        decided_at: None,
    };
    let aid = store.create_approval(ap.clone(), ev(EventKind::ApprovalRequested)).await.unwrap();
    let mut decided = store.approval(aid).await.unwrap().unwrap();
    assert_eq!(decided, Approval { id: aid, ..ap });
    decided.state = ApprovalState::Approved;
    decided.decided_by = Some(ada);
    decided.decision_reason = Some("ok".into());
    decided.decided_at = Some(T0 + 5);
    assert!(store.update_pending_approval(&decided, ev(EventKind::ApprovalDecided)).await.unwrap());
    assert!(!store.update_pending_approval(&decided, ev(EventKind::ApprovalDecided)).await.unwrap());
    assert_eq!(store.approvals(Some(ApprovalState::Approved), Some(t.id)).await.unwrap(), vec![decided]);
    assert!(store.approvals(Some(ApprovalState::Pending), None).await.unwrap().is_empty());

    // Notices.
    let n = |text: &str| NewNotification {
        user_id: ada,
        kind: "escalation".into(),
        text: text.into(),
        ticket_id: Some(t.id),
        created_at: T0,
    };
    store.notify(vec![n("one"), n("two\0")]).await.unwrap();
    assert_eq!(store.unread_notifications(ada).await.unwrap(), 2);
    let list = store.notifications(ada, true, 10).await.unwrap();
    assert_eq!(list[0].text, "two\u{FFFD}");
    assert_eq!(store.mark_notifications_read(ada, T0 + 9).await.unwrap(), 2);
    assert_eq!(store.unread_notifications(ada).await.unwrap(), 0);
    assert_eq!(store.notifications(ada, false, 10).await.unwrap().len(), 2);

    // Assessed priority.
    let outcome = PriorityMatrix { enabled: true, ..Default::default() }
        .assess(&domain::rules::priority::PriorityInputs { text: "down", ..Default::default() });
    store.save_ticket_priority(t.id, &outcome, T0).await.unwrap();
    assert_eq!(store.ticket_priority(t.id).await.unwrap(), Some::<PriorityOutcome>(outcome));

    // Major incidents: incidents linked, solved all together in one write.
    let problem = create(&store, spec("Export outage", "x", c, T0)).await;
    let mi = MajorIncident {
        problem_id: problem.id,
        title: String::new(),
        active: true,
        matching: IncidentMatch { words: vec!["export".into()], tags: vec![] },
        linked: 0,
        created_at: T0,
    };
    store.save_major_incident(&mi).await.unwrap();
    let mut writes = Vec::new();
    for i in 0..3 {
        let inc = create(&store, spec(&format!("incident {i}"), "x", c, T0)).await;
        let (next, events) = lifecycle::apply_patch(
            &inc,
            &TicketPatch {
                problem_id: Some(Some(problem.id)),
                ticket_type: Some(TicketType::Incident),
                status: Some(Status::Solved),
                ..Default::default()
            },
            staff(ada),
            T0 + 1,
        )
        .unwrap();
        writes.push(TicketWrite { ticket: next, expected_version: inc.version, events, messages: vec![] });
    }
    let mut stale = writes[0].clone();
    stale.expected_version += 7;
    let mut bad = writes.clone();
    bad.push(stale);
    assert!(store.write_tickets(bad).await.is_err(), "one stale write fails them all");
    assert!(store.linked_incidents(problem.id).await.unwrap().is_empty());
    store.write_tickets(writes).await.unwrap();
    assert_eq!(store.linked_incidents(problem.id).await.unwrap().len(), 3);
    let got = store.major_incident(problem.id).await.unwrap().unwrap();
    assert_eq!((got.linked, got.title.as_str(), got.active), (3, "Export outage", true));
    store.save_major_incident(&MajorIncident { active: false, ..mi }).await.unwrap();
    assert!(store.major_incidents(true).await.unwrap().is_empty());
    assert_eq!(store.major_incidents(false).await.unwrap().len(), 1);

    // Tags per window.
    let tagged = create(&store, Spec { tags: &["export"], ..spec("tagged", "x", c, T0 + 10) }).await;
    assert_eq!(store.tag_counts(T0 + 10, T0 + 11).await.unwrap(), vec![("export".to_string(), 1)]);
    assert!(store.tag_counts(T0 + 11, T0 + 20).await.unwrap().is_empty());
    let _ = tagged;
}

pub async fn surveys_feedback_and_sentiment(store: SqlStore) {
    use crate::FeedbackStore;
    use domain::sentiment::{Sentiment, SentimentLabel};
    use domain::survey::{CsatScale, Feedback, FeedbackFilter, Rating, SurveyInvitation, SurveyKind};
    use domain::{FeedbackId, SurveyInvitationId};
    let c = customer(&store, "rater@example.com").await;
    let t = create(&store, spec("Export fails", "x", c, T0)).await;
    let inv = |ticket: Option<TicketId>, kind: SurveyKind, at: i64| SurveyInvitation {
        id: SurveyInvitationId(0),
        kind,
        scale: CsatScale::Five,
        ticket_id: ticket,
        customer_id: c,
        channel: Channel::Email,
        sent_at: at,
        expires_at: at + 1000,
        answered_at: None,
    };
    let sent = NewEvent::new(T0 + 10, Actor::system(), EventKind::SurveySent);
    let id = store.create_invitation(inv(Some(t.id), SurveyKind::Csat, T0 + 10), Some(sent)).await.unwrap().unwrap();
    // A ticket is asked once per kind; NPS invitations carry no ticket.
    assert_eq!(store.create_invitation(inv(Some(t.id), SurveyKind::Csat, T0 + 20), None).await.unwrap(), None);
    let nps = store.create_invitation(inv(None, SurveyKind::Nps, T0 + 30), None).await.unwrap().unwrap();
    assert_ne!(nps, id);
    assert_eq!(store.invitation(id).await.unwrap().unwrap().ticket_id, Some(t.id));
    assert_eq!(store.ticket_invitation(t.id, SurveyKind::Csat).await.unwrap().unwrap().id, id);
    assert_eq!(store.last_surveyed(c, None).await.unwrap(), Some(T0 + 30));
    assert_eq!(store.last_surveyed(c, Some(SurveyKind::Csat)).await.unwrap(), Some(T0 + 10));
    let events = store.events(t.id).await.unwrap();
    assert!(events.iter().any(|e| e.kind == EventKind::SurveySent));

    let answer = |score: i64, comment: Option<&str>, at: i64| Feedback {
        id: FeedbackId(0),
        invitation_id: id,
        kind: SurveyKind::Csat,
        scale: CsatScale::Five,
        score,
        rating: SurveyKind::Csat.rating(CsatScale::Five, score),
        reason: Some("slow".into()),
        comment: comment.map(String::from),
        sentiment: Some(-0.5),
        ticket_id: Some(t.id),
        customer_id: c,
        agent_id: None,
        team_id: None,
        channel: Some(Channel::Email),
        tier: Tier::Standard,
        answered_at: at,
        updated_at: at,
        reviewed_at: None,
        reviewed_by: None,
        review_note: None,
    };
    let received = NewEvent::new(T0 + 40, Actor::system(), EventKind::SatisfactionReceived);
    let f = store.save_feedback(answer(2, Some("too slow"), T0 + 40), Some(received)).await.unwrap();
    // Answering again updates the same answer and keeps its first time.
    let again = store.save_feedback(answer(5, None, T0 + 50), None).await.unwrap();
    assert_eq!(again, f);
    let stored = store.feedback(f).await.unwrap().unwrap();
    assert_eq!((stored.score, stored.rating, stored.comment.clone()), (5, Rating::Good, None));
    assert_eq!((stored.answered_at, stored.updated_at), (T0 + 40, T0 + 50));
    assert_eq!(stored.sentiment, Some(-0.5));
    assert_eq!(store.invitation(id).await.unwrap().unwrap().answered_at, Some(T0 + 40));
    assert_eq!(store.invitation_feedback(id).await.unwrap().unwrap().id, f);

    let all = FeedbackFilter::default();
    assert_eq!(store.feedback_list(&all, PageRequest { after: None, limit: 10 }).await.unwrap().items.len(), 1);
    let bad = FeedbackFilter { rating: Some(Rating::Bad), ..Default::default() };
    assert!(store.feedback_list(&bad, PageRequest { after: None, limit: 10 }).await.unwrap().items.is_empty());
    let commented = FeedbackFilter { with_comment: true, ..Default::default() };
    assert!(store.feedback_list(&commented, PageRequest { after: None, limit: 10 }).await.unwrap().items.is_empty());
    let later = FeedbackFilter { from: Some(T0 + 41), ..Default::default() };
    assert!(store.feedback_list(&later, PageRequest { after: None, limit: 10 }).await.unwrap().items.is_empty());
    // The cockpit's slices: channel and tier as the answer recorded them;
    // tag, priority and organization as the ticket's KPI facts hold them.
    let facts = domain::kpi::TicketFacts {
        ticket_id: t.id.0,
        created_at: T0,
        status: Status::Solved,
        channel: Channel::Email,
        priority: Priority::Normal,
        team_id: None,
        agent_id: None,
        requester_id: Some(c.0),
        organization_id: None,
        tags: vec!["export".into()],
        merged: false,
        public_replies: 1,
        reopens: 0,
        solved_at: Some(T0 + 5),
    };
    assert!(crate::KpiStore::save_measures(&store, &facts, &[], 99).await.unwrap());
    for (filter, want) in [
        (FeedbackFilter { channel: Some(Channel::Email), ..Default::default() }, 1),
        (FeedbackFilter { channel: Some(Channel::Chat), ..Default::default() }, 0),
        (FeedbackFilter { tier: Some(Tier::Standard), ..Default::default() }, 1),
        (FeedbackFilter { tier: Some(Tier::Vip), ..Default::default() }, 0),
        (FeedbackFilter { tag: Some("export".into()), priority: Some(Priority::Normal), ..Default::default() }, 1),
        (FeedbackFilter { tag: Some("refund".into()), ..Default::default() }, 0),
        (FeedbackFilter { organization_id: Some(5), ..Default::default() }, 0),
    ] {
        let found = store.feedback_list(&filter, PageRequest { after: None, limit: 10 }).await.unwrap().items.len();
        let counted: i64 = store.score_counts(&filter).await.unwrap().iter().map(|s| s.count).sum();
        assert_eq!((found, counted), (want, want as i64), "{filter:?}");
    }
    // Counted per agent in one pass: this answer has none.
    let by_agent = store.score_counts_by(&FeedbackFilter::default(), false).await.unwrap();
    assert_eq!(by_agent.iter().map(|(a, c)| (*a, c.score, c.count)).collect::<Vec<_>>(), vec![(None, 5, 1)]);
    let reviewer = user(&store, "lead@support.test", Role::Manager, None).await;
    assert!(store.review_feedback(f, reviewer, "called the customer", T0 + 60).await.unwrap());
    assert!(!store.review_feedback(FeedbackId(f.0 + 99), reviewer, "x", T0).await.unwrap());
    let unreviewed = FeedbackFilter { reviewed: Some(false), ..Default::default() };
    assert!(store.feedback_list(&unreviewed, PageRequest { after: None, limit: 10 }).await.unwrap().items.is_empty());
    let r = store.feedback(f).await.unwrap().unwrap();
    assert_eq!((r.reviewed_by, r.review_note.as_deref()), (Some(reviewer), Some("called the customer")));

    // Imported answers: the second ticket's is stored with its invitation
    // and events; one for the first ticket's CSAT again is skipped.
    let t2 = create(&store, spec("Refund", "x", c, T0)).await;
    let imported = |ticket: TicketId, score: i64| crate::ImportedAnswer {
        invitation: inv(Some(ticket), SurveyKind::Csat, T0 + 10),
        sent_event: Some(NewEvent::new(T0 + 10, Actor::system(), EventKind::SurveySent)),
        feedback: Some(Feedback { ticket_id: Some(ticket), ..answer(score, Some("fine"), T0 + 45) }),
        answer_event: Some(NewEvent::new(T0 + 45, Actor::system(), EventKind::SatisfactionReceived)),
    };
    assert_eq!(store.import_answers(vec![imported(t2.id, 4), imported(t.id, 1)]).await.unwrap(), 1);
    let inv2 = store.ticket_invitation(t2.id, SurveyKind::Csat).await.unwrap().unwrap();
    assert_eq!(inv2.answered_at, Some(T0 + 45));
    let f2 = store.invitation_feedback(inv2.id).await.unwrap().unwrap();
    assert_eq!((f2.score, f2.ticket_id, f2.comment.as_deref()), (4, Some(t2.id), Some("fine")));
    let kinds: Vec<EventKind> = store.events(t2.id).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::SurveySent) && kinds.contains(&EventKind::SatisfactionReceived), "{kinds:?}");
    assert_eq!(store.feedback(f).await.unwrap().unwrap().score, 5, "the first ticket's answer is untouched");

    // A survey sent and not answered is stored as sent.
    let t3 = create(&store, spec("Unanswered", "x", c, T0)).await;
    let unanswered = crate::ImportedAnswer { feedback: None, answer_event: None, ..imported(t3.id, 1) };
    assert_eq!(store.import_answers(vec![unanswered]).await.unwrap(), 0, "no answer stored");
    let inv3 = store.ticket_invitation(t3.id, SurveyKind::Csat).await.unwrap().unwrap();
    assert_eq!(inv3.answered_at, None);
    assert!(store.invitation_feedback(inv3.id).await.unwrap().is_none());
    let kinds: Vec<EventKind> = store.events(t3.id).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::SurveySent) && !kinds.contains(&EventKind::SatisfactionReceived), "{kinds:?}");

    let count = store.response_count(SurveyKind::Csat, T0, T0 + 100).await.unwrap();
    assert_eq!((count.sent, count.answered), (3, 2));
    assert_eq!(store.response_count(SurveyKind::Nps, T0, T0 + 100).await.unwrap().answered, 0);

    assert!(!store.unsubscribed(c).await.unwrap());
    store.set_unsubscribed(c, true, T0).await.unwrap();
    store.set_unsubscribed(c, true, T0).await.unwrap();
    assert!(store.unsubscribed(c).await.unwrap());
    store.set_unsubscribed(c, false, T0).await.unwrap();
    assert!(!store.unsubscribed(c).await.unwrap());

    let m = store.messages(t.id, true).await.unwrap()[0].id;
    let s = Sentiment { score: -0.6, label: SentimentLabel::Negative };
    store.save_message_sentiment(m, t.id, s).await.unwrap();
    store.save_message_sentiment(m, t.id, Sentiment { score: 0.5, label: SentimentLabel::Positive }).await.unwrap();
    assert_eq!(
        store.message_sentiments(t.id).await.unwrap(),
        vec![(m, Sentiment { score: 0.5, label: SentimentLabel::Positive })]
    );
}

/// Asserts that the rollup's cells and buckets are exactly the tally of
/// its measured rows, in its zone.
pub async fn cells_equal_rows(store: &dyn crate::Store) {
    use domain::kpi::Measure;
    use domain::kpi::cells::{CellQuery, CellView, Tally, TicketSubjects};
    let zone = store.cells_zone().await.unwrap().expect("cells are kept");
    let tz = jiff::tz::TimeZone::get(&zone).unwrap();
    // Each ticket's rows with the organization, tags and tier it has now
    // (the tier from the directory: every change of it was moved).
    let mut expected = Tally::default();
    // And each tag's rows, by tier: what a tag's slice reads from the rows.
    let mut tagged: std::collections::BTreeMap<(String, Option<domain::Tier>), Vec<domain::kpi::MeasureRow>> =
        ["refund", "vip", "export"].iter().map(|t| ((t.to_string(), None), Vec::new())).collect();
    let mut after = domain::TicketId(0);
    loop {
        let ids = store.ticket_ids_after(after, 100).await.unwrap();
        let Some(last) = ids.last() else { break };
        after = *last;
        for id in ids {
            let Some(f) = store.ticket_facts(id).await.unwrap() else { continue };
            let rows = store.ticket_measures(id).await.unwrap();
            let requester = match f.requester_id {
                Some(c) => store.customer(CustomerId(c)).await.unwrap().map(|c| c.tier),
                None => None,
            };
            let organization = match f.organization_id {
                Some(o) => store.organization(domain::OrganizationId(o)).await.unwrap().map(|o| o.tier),
                None => None,
            };
            let tier = domain::Tier::of_ticket(requester.unwrap_or(domain::Tier::Standard), organization);
            let subjects = TicketSubjects { organization_id: f.organization_id, tags: &f.tags, tier: Some(tier) };
            expected.add_ticket(subjects, &rows, &tz);
            let mut tags = f.tags.clone();
            tags.sort();
            tags.dedup();
            for tag in tags {
                for key in [(tag.clone(), None), (tag.clone(), Some(tier))] {
                    tagged.entry(key).or_default().extend(rows.iter().cloned());
                }
            }
        }
    }
    let mut actual = Tally::default();
    for view in CellView::ALL {
        let q = CellQuery {
            view: *view,
            a: None,
            b: None,
            measures: Measure::ALL.to_vec(),
            first_day: -1_000_000,
            last_day: 1_000_000,
            by_day: true,
            clock: None,
        };
        actual.cells.extend(store.kpi_cells(&q).await.unwrap().into_iter().filter(|(_, s)| s.n != 0));
        actual.buckets.extend(store.kpi_buckets(&q).await.unwrap());
    }
    assert_eq!(actual.cells, expected.cells, "cells");
    assert_eq!(actual.buckets, expected.buckets, "buckets");
    periods_sum_their_days(store, &expected).await;
    let key = |r: &domain::kpi::MeasureRow| {
        (r.at, r.measure.as_str(), r.value, r.business, r.team_id, r.agent_id, r.channel.as_str(), r.priority.as_str())
    };
    for ((tag, tier), mut rows) in tagged {
        let slice = domain::kpi::Slice { tag: Some(tag.clone()), tier, ..Default::default() };
        let mut read = store.measure_rows(Measure::ALL, i64::MIN / 2, i64::MAX / 2, &slice).await.unwrap();
        rows.sort_by_key(key);
        read.sort_by_key(key);
        assert_eq!(read, rows, "the rows of tag {tag:?} (tier {tier:?})");
    }
}

/// Summed over periods (their whole weeks read from the week tables, the
/// other days from the days'), the cells and buckets are the sums of the
/// tally's days: for every view, and for one subject of each (the seek).
async fn periods_sum_their_days(store: &dyn crate::Store, expected: &domain::kpi::cells::Tally) {
    use domain::kpi::Measure;
    use domain::kpi::cells::{CellQuery, CellSums, CellView, Clock};
    use std::collections::BTreeMap;
    let days: Vec<i64> = expected.cells.keys().map(|k| k.day).collect();
    let (Some(first), Some(last)) = (days.iter().min().copied(), days.iter().max().copied()) else { return };
    for (from, to) in [(first - 7, last + 7), (first, last), (first - 3, last + 9)] {
        for view in CellView::ALL {
            let some_a = expected.cells.keys().find(|k| k.view == *view).map(|k| k.a.clone());
            for a in [None, some_a] {
                let q = CellQuery {
                    view: *view,
                    a: a.clone(),
                    b: None,
                    measures: Measure::ALL.to_vec(),
                    first_day: from,
                    last_day: to,
                    by_day: false,
                    clock: None,
                };
                let holds = |v: CellView, subject: &str, day: i64| {
                    v == *view && a.as_deref().is_none_or(|a| a == subject) && day >= from && day <= to
                };
                let mut want: BTreeMap<(String, String, Measure), CellSums> = BTreeMap::new();
                for (k, s) in expected.cells.iter().filter(|(k, _)| holds(k.view, &k.a, k.day)) {
                    *want.entry((k.a.clone(), k.b.clone(), k.measure)).or_default() += *s;
                }
                want.retain(|_, s| s.n != 0);
                let got: BTreeMap<(String, String, Measure), CellSums> = store
                    .kpi_cells(&q)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|(_, s)| s.n != 0)
                    .map(|(k, s)| ((k.a, k.b, k.measure), s))
                    .collect();
                assert_eq!(got, want, "cells of {view} {a:?}, days {from}..={to}");
                let mut want: BTreeMap<(String, String, Measure, Clock, i64), i64> = BTreeMap::new();
                for (k, n) in expected.buckets.iter().filter(|(k, _)| holds(k.view, &k.a, k.day)) {
                    *want.entry((k.a.clone(), k.b.clone(), k.measure, k.clock, k.lower)).or_default() += n;
                }
                want.retain(|_, n| *n != 0);
                let got: BTreeMap<(String, String, Measure, Clock, i64), i64> = store
                    .kpi_buckets(&q)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|(k, n)| ((k.a, k.b, k.measure, k.clock, k.lower), n))
                    .collect();
                assert_eq!(got, want, "buckets of {view} {a:?}, days {from}..={to}");
            }
        }
    }
}

/// The customers at a period's start (created before, not churned before),
/// split by whether they requested a ticket created in it, with their
/// churn in it and their annual value (the ROI report's groups).
pub async fn retention_splits_customers_by_support(store: SqlStore) {
    use crate::KpiStore;
    let c = customer(&store, "kpi@example.com").await;
    create(&store, spec("Refund", "x", c, T0)).await;
    let with = |email: &str, value: Option<i64>, churned: Option<i64>, at: i64| {
        let email = domain::EmailAddress::parse(email).unwrap();
        let mut k = Customer::new(&email, "k", at);
        k.annual_value_cents = value;
        k.churned_at = churned;
        k
    };
    for k in [
        with("quiet@example.com", Some(500), Some(T0 + 50), T0),
        with("loyal@example.com", Some(700), None, T0),
        with("gone@example.com", Some(900), Some(T0), T0),
        with("later@example.com", Some(300), None, T0 + 10),
    ] {
        store.create_customer(k, None, None).await.unwrap();
    }
    let cohort =
        |customers, churned, annual_value_cents| crate::CustomerCohort { customers, churned, annual_value_cents };
    // `c` asked at T0 (in [T0, T0 + 1)); quiet churned in the period, gone
    // before it, later joined after its start.
    let r = store.retention(T0 + 1, T0 + 100).await.unwrap();
    assert_eq!(r.supported, cohort(0, 0, 0));
    assert_eq!(r.unsupported, cohort(3, 1, 1200));
    let r = store.retention(T0, T0 + 1).await.unwrap();
    assert_eq!((r.supported, r.unsupported), (cohort(0, 0, 0), cohort(0, 0, 0)), "nobody was created before T0");
    create(&store, spec("Question", "x", c, T0 + 20)).await;
    let r = store.retention(T0 + 1, T0 + 100).await.unwrap();
    assert_eq!((r.supported, r.unsupported), (cohort(1, 0, 0), cohort(2, 1, 1200)));
    let r = store.retention(T0 + 1, T0 + 40).await.unwrap();
    assert_eq!(r.unsupported, cohort(2, 0, 1200), "quiet churned after the end");
}

/// A measured row of normal priority whose business time is half its
/// calendar time.
fn measured_row(
    measure: domain::kpi::Measure,
    at: i64,
    value: i64,
    team: i64,
    agent: i64,
    channel: Channel,
) -> domain::kpi::MeasureRow {
    domain::kpi::MeasureRow {
        measure,
        at,
        value,
        business: value / 2,
        team_id: Some(team),
        agent_id: Some(agent),
        channel,
        priority: Priority::Normal,
    }
}

/// A rebuild that sums its pages' cells in memory (`start_rebuild`,
/// `save_measures_untallied`, `add_rebuilt`) leaves the cells and
/// histograms a measurement at a time would: with two additions into the
/// same days and weeks, and with tickets measured again by the live path
/// both after their page was added and while it was still in memory.
pub async fn rebuild_tallies_in_memory(store: SqlStore) {
    use crate::KpiStore;
    use domain::kpi::cells::Tally;
    use domain::kpi::{Measure, TicketFacts};
    const DAY: i64 = 86_400_000;
    let c = customer(&store, "rebuild@example.com").await;
    let mut ids = Vec::new();
    for subject in ["One", "Two", "Three", "Four"] {
        ids.push(create(&store, spec(subject, "x", c, T0)).await.id);
    }
    let facts = |id: TicketId, team: i64, tags: &[&str]| TicketFacts {
        ticket_id: id.0,
        created_at: T0,
        status: Status::Solved,
        channel: Channel::Email,
        priority: Priority::Normal,
        team_id: Some(team),
        agent_id: Some(5),
        requester_id: Some(c.0),
        organization_id: Some(7),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        merged: false,
        public_replies: 1,
        reopens: 0,
        solved_at: Some(T0 + 9 * DAY),
    };
    // Durations that fall in the same buckets, days and weeks across tickets.
    let rows = |team: i64, first_reply: i64, solved_after: i64| {
        let row = |measure, at, value| measured_row(measure, at, value, team, 5, Channel::Email);
        vec![
            row(Measure::Created, T0, 0),
            row(Measure::FirstReply, T0 + first_reply, first_reply),
            row(Measure::FullResolution, T0 + solved_after, solved_after),
        ]
    };
    let item = |i: usize, team: i64, frt: i64, solved: i64, seen: i64| {
        (facts(ids[i], team, &["billing"]), rows(team, frt, solved), seen)
    };
    store.start_rebuild("Europe/Berlin").await.unwrap();
    assert_eq!(store.cells_zone().await.unwrap(), None, "the cells do not count while a rebuild runs");
    let first = vec![item(0, 1, 60_000, 2 * DAY, 3), item(1, 1, 61_000, 8 * DAY, 3)];
    let saved = store.save_measures_untallied(&first).await.unwrap();
    assert_eq!(saved.written(), 2);
    let mut tally = Tally::default();
    saved.tally_into(&first, &mut tally);
    store.add_rebuilt(tally, false).await.unwrap();
    assert_eq!(store.cells_zone().await.unwrap(), None, "not complete yet");
    let second = vec![item(2, 2, 59_000, 2 * DAY, 3), item(3, 1, 3_600_000, 9 * DAY, 3)];
    let saved = store.save_measures_untallied(&second).await.unwrap();
    assert_eq!(store.save_measures_untallied(&second).await.unwrap().written(), 0, "replayed views are refused");
    let mut tally = Tally::default();
    saved.tally_into(&second, &mut tally);
    // Measured again meanwhile: one whose page was added, one whose page
    // is still summed in memory.
    let again = vec![item(0, 2, 120_000, 3 * DAY, 5), item(2, 1, 7_200_000, 20 * DAY, 5)];
    assert_eq!(store.save_measures_many(&again).await.unwrap(), 2);
    store.add_rebuilt(tally, true).await.unwrap();
    assert_eq!(store.cells_zone().await.unwrap().as_deref(), Some("Europe/Berlin"));
    cells_equal_rows(&store).await;
    store.fold_buckets(i64::MAX).await.unwrap();
    cells_equal_rows(&store).await;
}

/// A rebuild's page of many tickets (which PostgreSQL writes as two
/// transactions at once) is written whole, each ticket tallied from its
/// own rows: the cells equal the rows, and the page again writes nothing.
pub async fn a_rebuilds_large_page_is_written_whole(store: SqlStore) {
    use crate::KpiStore;
    use domain::kpi::cells::Tally;
    use domain::kpi::{Measure, TicketFacts};
    const DAY: i64 = 86_400_000;
    let c = customer(&store, "page@example.com").await;
    let mut page = Vec::new();
    for i in 0..250i64 {
        let id = create(&store, spec("Page", "x", c, T0)).await.id;
        // Each ticket its own team, channel and durations, so a ticket
        // tallied from another's rows shows in the cells.
        let team = 1 + i % 3;
        let channel = [Channel::Email, Channel::Chat, Channel::Phone][(i % 3) as usize];
        let facts = TicketFacts {
            ticket_id: id.0,
            created_at: T0,
            status: Status::Solved,
            channel,
            priority: Priority::Normal,
            team_id: Some(team),
            agent_id: Some(10 + i % 7),
            requester_id: Some(c.0),
            organization_id: None,
            tags: vec![],
            merged: false,
            public_replies: 1,
            reopens: 0,
            solved_at: Some(T0 + (1 + i % 5) * DAY),
        };
        let row = |measure, at, value| measured_row(measure, at, value, team, 10 + i % 7, channel);
        let rows = vec![
            row(Measure::Created, T0 + i * 60_000, 0),
            row(Measure::FirstReply, T0 + i * 60_000 + (i + 1) * 30_000, (i + 1) * 30_000),
            row(Measure::FullResolution, T0 + (1 + i % 5) * DAY, (1 + i % 5) * DAY - i * 60_000),
        ];
        page.push((facts, rows, 3));
    }
    store.start_rebuild("UTC").await.unwrap();
    let saved = store.save_measures_untallied(&page).await.unwrap();
    assert_eq!(saved.written(), 250);
    let mut tally = Tally::default();
    saved.tally_into(&page, &mut tally);
    store.add_rebuilt(tally, true).await.unwrap();
    assert_eq!(store.save_measures_untallied(&page).await.unwrap().written(), 0, "the page again writes nothing");
    let last = page.last().map(|(f, _, _)| TicketId(f.ticket_id)).unwrap();
    assert_eq!(store.ticket_measures(last).await.unwrap().len(), 3, "the second half's rows");
    cells_equal_rows(&store).await;
}

/// The backlog's counts (`open_counts`), which SQLite counts in Rust and
/// PostgreSQL groups in SQL: unsolved tickets only, per status, team,
/// agent and age range, each with its oldest creation, in that order.
pub async fn open_counts_by_status_team_agent_and_age(store: SqlStore) {
    use crate::KpiStore;
    use domain::kpi::{Measure, MeasureRow, OpenCount, Slice, TicketFacts};
    let c = customer(&store, "backlog@example.com").await;
    let tickets = [
        (Status::Open, Some(1), Some(5), T0 - 100),
        (Status::Open, Some(1), Some(5), T0 - 60),
        (Status::Open, Some(1), Some(5), T0 - 40),
        (Status::Open, Some(1), Some(5), T0 - 5),
        (Status::Pending, Some(2), None, T0 - 70),
        (Status::New, None, None, T0),
        (Status::Solved, Some(1), Some(5), T0 - 100),
    ];
    for (i, (status, team_id, agent_id, created_at)) in tickets.into_iter().enumerate() {
        let t = create(&store, spec(&format!("backlog {i}"), "x", c, created_at)).await;
        let facts = TicketFacts {
            ticket_id: t.id.0,
            created_at,
            status,
            channel: Channel::Email,
            priority: Priority::Normal,
            team_id,
            agent_id,
            requester_id: Some(c.0),
            organization_id: None,
            tags: vec![],
            merged: false,
            public_replies: 0,
            reopens: 0,
            solved_at: (status == Status::Solved).then_some(T0),
        };
        let created = MeasureRow {
            measure: Measure::Created,
            at: created_at,
            value: 0,
            business: 0,
            team_id,
            agent_id,
            channel: Channel::Email,
            priority: Priority::Normal,
        };
        assert!(store.save_measures(&facts, &[created], 1).await.unwrap());
    }
    let count = |status, team_id, agent_id, range, tickets, first_created| OpenCount {
        status,
        team_id,
        agent_id,
        range,
        tickets,
        first_created,
    };
    // Ranges: 0 newer than T0 − 30; 1 after T0 − 60 up to T0 − 30; 2 up
    // to T0 − 60 (a bound holds what was created at it).
    let until = [T0, T0 - 30, T0 - 60];
    assert_eq!(
        store.open_counts(&Slice::default(), &until).await.unwrap(),
        vec![
            count(Status::New, None, None, 0, 1, T0),
            count(Status::Open, Some(1), Some(5), 0, 1, T0 - 5),
            count(Status::Open, Some(1), Some(5), 1, 1, T0 - 40),
            count(Status::Open, Some(1), Some(5), 2, 2, T0 - 100),
            count(Status::Pending, Some(2), None, 2, 1, T0 - 70),
        ]
    );
    let team = Slice { team_id: Some(1), ..Slice::default() };
    assert_eq!(
        store.open_counts(&team, &[]).await.unwrap(),
        vec![count(Status::Open, Some(1), Some(5), 0, 4, T0 - 100)],
        "no bounds: one range"
    );
}

pub async fn kpi_rollup_replaces_and_slices(store: SqlStore) {
    use crate::KpiStore;
    use domain::kpi::{Measure, MeasureRow, Slice, TicketFacts};
    let c = customer(&store, "kpi@example.com").await;
    let a = create(&store, spec("Refund", "x", c, T0)).await;
    let b = create(&store, spec("Export", "x", c, T0)).await;
    let f = |id: TicketId, status: Status, tags: &[&str], org: Option<i64>| TicketFacts {
        ticket_id: id.0,
        created_at: T0,
        status,
        channel: Channel::Email,
        priority: Priority::Normal,
        team_id: Some(1),
        agent_id: Some(5),
        requester_id: Some(c.0),
        organization_id: org,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        merged: false,
        public_replies: 1,
        reopens: 0,
        solved_at: (status == Status::Solved).then_some(T0 + 50),
    };
    let row = |m: Measure, at: i64, value: i64, team: Option<i64>, channel: Channel| MeasureRow {
        measure: m,
        at,
        value,
        business: value / 2,
        team_id: team,
        agent_id: Some(5),
        channel,
        priority: Priority::Normal,
    };
    let a_rows = vec![
        row(Measure::Created, T0, 0, Some(1), Channel::Email),
        row(Measure::FirstReply, T0 + 10, 10, Some(1), Channel::Email),
    ];
    assert!(store.save_measures(&f(a.id, Status::Open, &["refund"], Some(9)), &a_rows, 3).await.unwrap());
    // An older view (fewer events) never replaces a newer one.
    assert!(!store.save_measures(&f(a.id, Status::New, &[], None), &a_rows[..1], 2).await.unwrap());
    assert_eq!(store.ticket_facts(a.id).await.unwrap().unwrap().tags, vec!["refund".to_string()]);
    let b_rows = vec![
        row(Measure::Created, T0, 0, Some(2), Channel::Chat),
        row(Measure::FirstReply, T0 + 30, 30, Some(2), Channel::Chat),
    ];
    assert!(store.save_measures(&f(b.id, Status::Solved, &["export"], None), &b_rows, 4).await.unwrap());
    let all = Slice::default();
    let frt = store.measure_rows(&[Measure::FirstReply], T0, T0 + 100, &all).await.unwrap();
    let mut values: Vec<(i64, i64)> = frt.iter().map(|r| (r.value, r.business)).collect();
    values.sort();
    assert_eq!(values, vec![(10, 5), (30, 15)]);
    assert_eq!(
        store.measure_rows(&[Measure::FirstReply], T0, T0 + 30, &all).await.unwrap().len(),
        1,
        "to is exclusive"
    );
    let team2 = Slice { team_id: Some(2), ..Slice::default() };
    assert_eq!(
        store.measure_rows(&[Measure::Created, Measure::FirstReply], T0, T0 + 100, &team2).await.unwrap().len(),
        2
    );
    let chat = Slice { channel: Some(Channel::Chat), ..Slice::default() };
    assert_eq!(store.measure_rows(&[Measure::FirstReply], T0, T0 + 100, &chat).await.unwrap()[0].value, 30);
    let tagged = Slice { tag: Some("refund".into()), ..Slice::default() };
    assert_eq!(store.measure_rows(&[Measure::FirstReply], T0, T0 + 100, &tagged).await.unwrap()[0].value, 10);
    let org = Slice { organization_id: Some(9), ..Slice::default() };
    assert_eq!(store.measure_rows(&[Measure::Created], T0, T0 + 100, &org).await.unwrap().len(), 1);
    let org_team = |team| Slice { organization_id: Some(9), team_id: Some(team), ..Slice::default() };
    assert_eq!(store.measure_rows(&[Measure::Created], T0, T0 + 100, &org_team(1)).await.unwrap().len(), 1);
    assert!(store.measure_rows(&[Measure::Created], T0, T0 + 100, &org_team(2)).await.unwrap().is_empty());
    // Combinations with a team read its index alone (it carries every
    // column a slice reads or filters on): the values come back whole.
    let team_channel = |channel| Slice { team_id: Some(2), channel: Some(channel), ..Slice::default() };
    let chat_rows =
        store.measure_rows(&[Measure::FirstReply], T0, T0 + 100, &team_channel(Channel::Chat)).await.unwrap();
    assert_eq!(chat_rows, vec![b_rows[1].clone()]);
    assert!(
        store
            .measure_rows(&[Measure::FirstReply], T0, T0 + 100, &team_channel(Channel::Email))
            .await
            .unwrap()
            .is_empty()
    );
    let agent_channel = |agent| Slice { agent_id: Some(agent), channel: Some(Channel::Chat), ..Slice::default() };
    assert_eq!(store.measure_rows(&[Measure::FirstReply], T0, T0 + 100, &agent_channel(5)).await.unwrap(), chat_rows);
    assert!(store.measure_rows(&[Measure::FirstReply], T0, T0 + 100, &agent_channel(6)).await.unwrap().is_empty());
    let tag_team = |team| Slice { tag: Some("refund".into()), team_id: Some(team), ..Slice::default() };
    assert_eq!(
        store.measure_rows(&[Measure::FirstReply], T0, T0 + 100, &tag_team(1)).await.unwrap(),
        vec![a_rows[1].clone()]
    );
    assert!(store.measure_rows(&[Measure::FirstReply], T0, T0 + 100, &tag_team(2)).await.unwrap().is_empty());
    // A tag is matched whole, read from the tag's rows or with an
    // organization's: `_` and `%` are no patterns.
    for tag in ["ref_nd", "%", "refun", "efund"] {
        for organization_id in [None, Some(9)] {
            let slice = Slice { tag: Some(tag.into()), organization_id, ..Slice::default() };
            assert!(store.measure_rows(Measure::ALL, T0, T0 + 100, &slice).await.unwrap().is_empty(), "{tag}");
        }
    }
    let org_tag = Slice { tag: Some("refund".into()), organization_id: Some(9), ..Slice::default() };
    assert_eq!(
        store.measure_rows(&[Measure::FirstReply], T0, T0 + 100, &org_tag).await.unwrap(),
        vec![a_rows[1].clone()]
    );
    // Only the unsolved, counted by creation range: created at T0, so
    // within `until[i]` for the bounds at or after T0 (the last such wins).
    let open = domain::kpi::OpenCount {
        status: Status::Open,
        team_id: Some(1),
        agent_id: Some(5),
        range: 1,
        tickets: 1,
        first_created: T0,
    };
    assert_eq!(store.open_counts(&all, &[T0 + 10, T0, T0 - 1]).await.unwrap(), vec![open.clone()]);
    assert_eq!(store.open_counts(&all, &[]).await.unwrap(), vec![domain::kpi::OpenCount { range: 0, ..open.clone() }]);
    assert_eq!(
        store.open_counts(&all, &[T0 + 10, T0 - 5]).await.unwrap(),
        vec![domain::kpi::OpenCount { range: 0, ..open.clone() }],
        "none of the later bounds hold it: range 0"
    );
    let other_team = Slice { team_id: Some(2), ..Slice::default() };
    assert!(store.open_counts(&other_team, &[]).await.unwrap().is_empty());
    assert_eq!(store.ticket_measures(b.id).await.unwrap(), b_rows);
    let lagging = store.unmeasured_tickets(10).await.unwrap();
    assert!(lagging.is_empty(), "both measured from all their events: {lagging:?}");
    assert_eq!(store.ticket_ids_after(TicketId(0), 10).await.unwrap(), vec![a.id, b.id]);
    assert_eq!(store.ticket_ids_after(a.id, 10).await.unwrap(), vec![b.id]);
    assert_eq!(store.cells_zone().await.unwrap(), None, "no cells before the first rebuild");
    store.clear_measures("Europe/Berlin").await.unwrap();
    assert_eq!(store.cells_zone().await.unwrap().as_deref(), Some("Europe/Berlin"));
    assert!(store.ticket_facts(a.id).await.unwrap().is_none());
    assert_eq!(store.unmeasured_tickets(10).await.unwrap(), vec![a.id, b.id]);
    // Many at once, as the rebuild writes them.
    let many = vec![
        (f(a.id, Status::Open, &[], None), a_rows.clone(), 3),
        (f(b.id, Status::Solved, &[], None), b_rows.clone(), 4),
    ];
    assert_eq!(store.save_measures_many(&many).await.unwrap(), 2);
    assert_eq!(store.save_measures_many(&many).await.unwrap(), 0, "replayed views are refused");
    assert_eq!(store.ticket_measures(a.id).await.unwrap(), a_rows);
    cells_equal_rows(&store).await;
    // A ticket measured again: its old rows leave the cells, its new ones enter.
    let a_later = vec![
        row(Measure::Created, T0, 0, Some(1), Channel::Email),
        row(Measure::FirstReply, T0 + 10, 10, Some(3), Channel::Email),
        row(Measure::FullResolution, T0 + 90_000_000, 90_000_000, Some(3), Channel::Email),
    ];
    assert!(store.save_measures(&f(a.id, Status::Solved, &[], Some(7)), &a_later, 6).await.unwrap());
    cells_equal_rows(&store).await;
    // Folding finds every day with buckets (T0's and the resolution's a
    // day later) and leaves none unfolded; the cells read the same.
    let count = |table: &'static str| {
        let store = store.clone();
        async move { store.fetch(&format!("SELECT COUNT(*) FROM {table}"), vec![]).await.unwrap()[0].int(0).unwrap() }
    };
    assert_eq!(count("kpi_bucket_days").await, 2);
    assert_eq!(store.fold_buckets(i64::MAX).await.unwrap(), 2);
    assert_eq!((count("kpi_buckets").await, count("kpi_bucket_days").await), (0, 0));
    assert!(count("kpi_histograms").await > 0);
    cells_equal_rows(&store).await;
    // Its rows follow the ticket to its new organization.
    let in_org = |o| Slice { organization_id: Some(o), ..Slice::default() };
    assert!(store.measure_rows(&[Measure::Created], T0, T0 + 100, &in_org(9)).await.unwrap().is_empty());
    let mut moved = store.measure_rows(Measure::ALL, T0, T0 + 100_000_000, &in_org(7)).await.unwrap();
    moved.sort_by_key(|r| r.at);
    assert_eq!(moved, a_later);
    let q = domain::kpi::cells::CellQuery {
        view: domain::kpi::cells::CellView::Team,
        a: None,
        b: None,
        measures: vec![Measure::FirstReply],
        first_day: 0,
        last_day: 100_000,
        by_day: false,
        clock: None,
    };
    let mut teams: Vec<(String, i64, i64)> = store
        .kpi_cells(&q)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, s)| s.n != 0)
        .map(|(k, s)| (k.a, s.n, s.value))
        .collect();
    teams.sort();
    assert_eq!(teams, vec![("2".into(), 1, 30), ("3".into(), 1, 10)], "team 1's reply moved to team 3");
    let events = store.events_of_tickets(TicketId(0), b.id).await.unwrap();
    let order: Vec<(i64, i64)> = events.iter().map(|e| (e.ticket_id.0, e.seq)).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "by ticket, then sequence");
    assert!(order.iter().any(|o| o.0 == a.id.0) && order.iter().any(|o| o.0 == b.id.0));
    assert!(
        store.events_of_tickets(a.id, b.id).await.unwrap().iter().all(|e| e.ticket_id == b.id),
        "after is exclusive"
    );
}
