//! `switchboard bench feedback`: what the voice of the customer costs over
//! a large store: recording a survey answer (sentiment, storage, hooks),
//! the inbox's summary and first page, the customer-insights report of 30
//! and 90 days, and the pure parts (sentiment per message, topics over
//! many texts).

use std::time::Instant;

use domain::sentiment::SentimentAnalyser;
use domain::survey::{Answer, CsatScale, FeedbackFilter, Rating, SurveyInvitation, SurveyKind};
use domain::{Channel, Customer, EmailAddress, SurveyInvitationId, TicketId};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::PageRequest;

use super::bench::{Seed, fill, ms, vocabulary};
use crate::config::Config;

fn record(h: &mut Histogram<u64>, started: Instant) {
    let _ = h.record(started.elapsed().as_micros().max(1) as u64);
}

async fn timed<F, Fut, T>(runs: usize, mut f: F) -> Result<Histogram<u64>, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let mut h = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    for _ in 0..runs {
        let started = Instant::now();
        f().await?;
        record(&mut h, started);
    }
    Ok(h)
}

fn line(what: &str, h: &Histogram<u64>) {
    println!("  {what:<52} p50 {:>8.2} ms   p99 {:>8.2} ms", ms(h, 0.5), ms(h, 0.99));
}

pub async fn feedback(config: Config, tickets: u64, answers: u64) -> Result<(), String> {
    let err = |e: store::StoreError| e.to_string();
    let now = web::Clock::now(&web::SystemClock);
    let (store, backend, dir) = super::bench::bench_store(&config, "feedback").await?;
    println!(
        "switchboard bench feedback: {backend}, {} cores; {tickets} tickets over a year, {answers} survey answers",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let mut rng = StdRng::seed_from_u64(6);
    let (agents, teams) = super::bench::staff_in_store(store.as_ref(), now).await?;
    let mut customers = Vec::new();
    for i in 0..1000 {
        let email = EmailAddress::parse(&format!("c{i}@bench.test")).map_err(|e| e.message)?;
        customers.push(
            store
                .create_customer(Customer::new(&email, &format!("Customer {i}"), now), None, None)
                .await
                .map_err(err)?
                .id,
        );
    }
    let words = vocabulary(&mut rng, 2_000);
    let seed = Seed { customers: customers.clone(), teams, agents, words: words.clone() };
    let started = Instant::now();
    fill(store.as_ref(), &mut rng, &seed, tickets).await?;
    println!("  stored {tickets} tickets in {:.1} s", started.elapsed().as_secs_f64());

    // Answers to the newest tickets' invitations, recorded as the answer page does.
    let comments = [
        "Quick and friendly, thank you!",
        "Took days to get an answer, very disappointed.",
        "The export still fails.",
        "",
        "Great support as always.",
    ];
    let mut h = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    // The newest tickets, by their stored numbers (numbering need not start at 1).
    let stored = store.ticket_subjects(0, now + 1, tickets.min(u64::from(u32::MAX)) as u32).await.map_err(err)?;
    let newest: Vec<TicketId> = stored.iter().rev().take(answers as usize).map(|t| t.id).collect();
    let wall = Instant::now();
    for ticket in newest {
        let inv = SurveyInvitation {
            id: SurveyInvitationId(0),
            kind: SurveyKind::Csat,
            scale: CsatScale::GoodBad,
            ticket_id: Some(ticket),
            customer_id: customers[rng.random_range(0..customers.len())],
            channel: Channel::Email,
            sent_at: now - 3_600_000,
            expires_at: now + 86_400_000,
            answered_at: None,
        };
        let Some(id) = store.create_invitation(inv.clone(), None).await.map_err(err)? else { continue };
        let comment = comments[rng.random_range(0..comments.len())];
        let answer = Answer {
            score: i64::from(rng.random_bool(0.8)),
            reason: None,
            comment: (!comment.is_empty()).then(|| comment.to_string()),
        };
        let started = Instant::now();
        jobs::survey::record(store.as_ref(), &SurveyInvitation { id, ..inv }, answer, now).await.map_err(err)?;
        record(&mut h, started);
    }
    let rate = answers.min(tickets) as f64 / wall.elapsed().as_secs_f64();
    line(&format!("record an answer ({rate:.0} answers/s incl. invitations)"), &h);

    let all = FeedbackFilter::default();
    line(
        "feedback summary (CSAT, NPS, CES of all answers)",
        &timed(50, || async { store.score_counts(&all).await.map_err(err) }).await?,
    );
    let bad = FeedbackFilter { rating: Some(Rating::Bad), with_comment: true, ..Default::default() };
    line(
        "inbox first page (bad, with a comment)",
        &timed(50, || async { store.feedback_list(&bad, PageRequest { after: None, limit: 50 }).await.map_err(err) })
            .await?,
    );
    for days in [30, 90] {
        let h = timed(5, || async { jobs::insights::report(store.as_ref(), now, days).await.map_err(err) }).await?;
        let r = jobs::insights::report(store.as_ref(), now, days).await.map_err(err)?;
        line(&format!("insights report, {days} days ({} tickets)", r.tickets), &h);
    }

    // The pure parts.
    let texts: Vec<String> = (0..10_000)
        .map(|_| {
            (0..rng.random_range(4..12))
                .map(|_| words[rng.random_range(0..words.len())].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let vader = insight::sentiment::vader();
    let started = Instant::now();
    for t in &texts {
        std::hint::black_box(vader.analyse(t));
    }
    println!("  sentiment of a message: {:.1} µs", started.elapsed().as_micros() as f64 / texts.len() as f64);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let started = Instant::now();
    let found = insight::topics::find_topics(&insight::topics::Analyser::default(), &refs, 12, 50);
    println!("  topics over {} texts: {:.0} ms ({} topics)", refs.len(), started.elapsed().as_millis(), found.len());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
