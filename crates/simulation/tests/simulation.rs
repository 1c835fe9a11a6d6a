//! The simulated department: its shape, its determinism, and that every
//! history it produces is one the domain's lifecycle accepts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use domain::{Channel, CustomerId, TeamId, UserId};
use simulation::arrivals::local;
use simulation::engine::simulate;
use simulation::{AgentSpec, CustomerSpec, DAY, Department, HOUR, Shift, StepKind, TeamSpec, Topic};

/// 2026-06-01 00:00 UTC, a Monday.
const START: i64 = 1_780_272_000_000;

fn topic(name: &str, weight: f64) -> Topic {
    Topic { name: name.into(), subjects: vec![format!("{name} question")], weight, tag: None }
}

fn department(tickets: usize, seed: u64) -> Department {
    let teams = vec![
        TeamSpec { id: TeamId(1), weight: 1.0, topics: vec![topic("Invoices", 2.0), topic("Refunds", 1.0)] },
        TeamSpec { id: TeamId(2), weight: 1.0, topics: vec![topic("Export", 1.0), topic("Errors", 3.0)] },
    ];
    let n = Department::agents_for(tickets, 90);
    let agents = (0..n)
        .map(|i| AgentSpec {
            id: UserId(100 + i as i64),
            team: i % 2,
            live: i % 3 == 0,
            shift: [Shift::EARLY, Shift::LATE, Shift::WEEKEND][i % 3],
            pace: 0.8 + (i % 5) as f64 * 0.1,
        })
        .collect();
    let customers = (0..300).map(|i| CustomerSpec { id: CustomerId(1000 + i), organization: None }).collect();
    let end = START + 90 * DAY;
    Department {
        seed,
        start: START,
        end,
        zone: jiff::tz::TimeZone::get("Europe/Berlin").unwrap(),
        tickets,
        growth: 1.15,
        teams,
        agents,
        customers,
        spike: Some(simulation::department::Spike { team: 1, topic: 0, from: end - 3 * DAY, factor: 10.0 }),
        product: None,
    }
}

#[test]
fn a_department_of_twenty_thousand_tickets() {
    let d = department(20_000, 7);
    let sim = simulate(&d);
    assert_eq!(sim.scripts.len(), 20_000);
    // Arrivals in order, within the period.
    assert!(sim.scripts.windows(2).all(|w| w[0].arrival.at <= w[1].arrival.at));
    assert!(sim.scripts.iter().all(|s| s.arrival.at >= d.start && s.arrival.at < d.end));
    // Seasonality: a weekday has several times a Sunday's arrivals, office hours far more than nights.
    let mut by_weekday = [0usize; 7];
    let mut by_hour = [0usize; 24];
    for s in &sim.scripts {
        let (w, h) = local(&d.zone, s.arrival.at);
        by_weekday[w] += 1;
        by_hour[h] += 1;
    }
    assert!(by_weekday[0] > 3 * by_weekday[6], "{by_weekday:?}");
    assert!(by_hour[10] > 10 * by_hour[3], "{by_hour:?}");
    // Growth: the last month busier than the first.
    let month = |m: i64| sim.scripts.iter().filter(|s| (s.arrival.at - d.start) / (30 * DAY) == m).count();
    assert!(month(2) > month(0), "{} vs {}", month(2), month(0));
    // The spike: the export topic's daily arrivals in the last three days several times those before.
    let export = |from: i64, to: i64| {
        sim.scripts
            .iter()
            .filter(|s| s.arrival.team == 1 && s.arrival.topic == 0 && (from..to).contains(&s.arrival.at))
            .count() as f64
            / ((to - from) / DAY) as f64
    };
    let (before, during) = (export(d.end - 31 * DAY, d.end - 3 * DAY), export(d.end - 3 * DAY, d.end));
    assert!(during > 5.0 * before, "{during} vs {before}");
    // A channel mix with every channel.
    for c in Channel::ALL {
        assert!(sim.scripts.iter().any(|s| s.arrival.channel == *c), "{c:?}");
    }
    // Agents busy but not swamped.
    let occupancy = sim.occupancy();
    assert!((0.4..0.95).contains(&occupancy), "occupancy {occupancy}");
    // Each touch is logged as work, and the shifts are the time on shift:
    // the demo's occupancy from logged time and status history is the simulation's.
    let mut logged = vec![0i64; d.agents.len()];
    for step in sim.scripts.iter().flat_map(|s| &s.steps) {
        if let simulation::StepKind::Work { agent, ms } = step.kind {
            logged[agent] += ms;
        }
    }
    assert_eq!(logged, sim.busy_ms);
    let mut on_shift = vec![0i64; d.agents.len()];
    for (agent, from, to) in &sim.shifts {
        on_shift[*agent] += (*to).min(d.end) - from;
    }
    assert_eq!(on_shift, sim.shift_ms);
    // Most tickets answered and solved; the queue does not grow without end.
    let replied: Vec<i64> = sim
        .scripts
        .iter()
        .filter_map(|s| {
            s.steps
                .iter()
                .find(|st| matches!(st.kind, StepKind::Reply { .. } | StepKind::Greet { .. }))
                .map(|st| st.at - s.arrival.at)
        })
        .collect();
    assert!(replied.len() > 19_000, "{}", replied.len());
    let mut waits = replied.clone();
    waits.sort_unstable();
    let median = waits[waits.len() / 2];
    assert!(median > 60_000 && median < 6 * HOUR, "median first reply {median} ms");
    let solved_live = sim
        .scripts
        .iter()
        .filter(|s| s.arrival.channel == Channel::Chat)
        .filter_map(|s| {
            s.steps
                .iter()
                .find(|st| matches!(st.kind, StepKind::Reply { .. } | StepKind::Greet { .. }))
                .map(|st| st.at - s.arrival.at)
        })
        .collect::<Vec<_>>();
    let mut chat = solved_live;
    chat.sort_unstable();
    println!(
        "occupancy {occupancy:.2}, median first reply {} s, chat {} s, p90 {} s",
        median / 1000,
        chat[chat.len() / 2] / 1000,
        waits[waits.len() * 9 / 10] / 1000
    );
    assert!(chat[chat.len() / 2] < median, "chats are answered sooner than the written channels");
    // Reopens and closes happen, and every history is one the lifecycle accepts.
    assert!(sim.scripts.iter().any(|s| s.steps.iter().any(|st| st.kind == StepKind::Close)));
    let answers = sim.scripts.iter().filter(|s| s.answer.is_some()).count();
    assert!(answers > 4_000, "{answers}");
    // Surveys go to every solved ticket; about 38% answer, none after the end.
    let sent = sim.scripts.iter().filter(|s| s.survey_sent_at.is_some()).count();
    let rate = answers as f64 / sent as f64;
    assert!((0.33..0.40).contains(&rate), "{answers} answers of {sent} surveys");
    assert!(
        sim.scripts
            .iter()
            .all(|s| s.answer.is_none_or(|a| s.survey_sent_at == Some(a.sent_at) && a.answered_at < d.end))
    );
    for (n, s) in sim.scripts.iter().enumerate() {
        simulation::story::tell(&d, n, s).unwrap();
    }
    println!(
        "occupancy {occupancy:.2}, median first reply {} min, chat {} min, answers {answers}",
        median / 60_000,
        chat[chat.len() / 2] / 60_000
    );
}

#[test]
fn the_same_seed_gives_the_same_department() {
    let (a, b, c) = (simulate(&department(2_000, 1)), simulate(&department(2_000, 1)), simulate(&department(2_000, 2)));
    let shape = |s: &simulation::engine::Simulation| {
        s.scripts.iter().map(|x| (x.arrival.at, x.steps.clone(), x.answer.map(|a| a.good))).collect::<Vec<_>>()
    };
    assert_eq!(shape(&a), shape(&b));
    assert_ne!(shape(&a), shape(&c));
}

#[test]
fn the_staff_grows_with_the_tickets() {
    assert_eq!(Department::agents_for(20_000, 90), 10);
    assert_eq!(Department::agents_for(1_000, 90), 10);
    assert_eq!(Department::agents_for(10_000_000, 90), 5005);
}
