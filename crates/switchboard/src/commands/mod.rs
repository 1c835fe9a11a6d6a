//! One module per subcommand.

mod admin;
mod bench;
mod bench_cockpit;
mod bench_mail;
mod bench_pages;
mod bench_rules;
mod bench_voice;
mod demo;
mod demo_voice;
mod serve;

use crate::cli::{AdminCommand, BenchCommand, Cli, Command, KpiCommand};
use crate::config::{Config, DEFAULT_CONFIG};

pub async fn run(cli: Cli) -> Result<(), String> {
    let overrides = cli.global.overrides();
    match cli.command {
        Command::Config => {
            print!("{DEFAULT_CONFIG}");
            Ok(())
        }
        Command::Serve => {
            let config = Config::load(cli.global.config.as_deref(), &overrides)?;
            init_logging(&config.log);
            serve::serve(config).await
        }
        Command::Migrate => {
            let config = Config::load(cli.global.config.as_deref(), &overrides)?;
            init_logging(&config.log);
            crate::storage::open(&config).await?;
            println!("Migrations applied to {}.", config.describe_storage());
            Ok(())
        }
        Command::Kpi { command: KpiCommand::Rebuild } => {
            let config = Config::load(cli.global.config.as_deref(), &overrides)?;
            init_logging(&config.log);
            let store = crate::storage::open(&config).await?;
            rebuild_rollup(store.as_ref(), true).await
        }
        Command::Demo { no_serve, tickets } => {
            let mut overrides = overrides;
            if overrides.data_dir.is_none() {
                overrides.data_dir = Some("./switchboard-demo".into());
            }
            let config = Config::load(cli.global.config.as_deref(), &overrides)?;
            init_logging(&config.log);
            demo::demo(config, !no_serve, tickets).await
        }
        Command::Admin { command: AdminCommand::Create { email, name, role } } => {
            let config = Config::load(cli.global.config.as_deref(), &overrides)?;
            init_logging(&config.log);
            admin::create(config, &email, &name, &role).await
        }
        Command::Bench { command: BenchCommand::Api { tickets, creates, queries } } => {
            let config = Config::load(cli.global.config.as_deref(), &overrides)?;
            init_logging("warn");
            bench::api(config, tickets, creates, queries).await
        }
        Command::Bench { command: BenchCommand::Pages { tickets, renders } } => {
            let config = Config::load(cli.global.config.as_deref(), &overrides)?;
            init_logging("warn");
            bench_pages::pages(config, tickets, renders).await
        }
        Command::Bench { command: BenchCommand::Rules { events, open } } => {
            let config = Config::load(cli.global.config.as_deref(), &overrides)?;
            init_logging("warn");
            bench_rules::rules(config, events, open).await
        }
        Command::Bench { command: BenchCommand::Feedback { tickets, answers } } => {
            let config = Config::load(cli.global.config.as_deref(), &overrides)?;
            init_logging("warn");
            bench_voice::feedback(config, tickets, answers).await
        }
        Command::Bench { command: BenchCommand::Cockpit { tickets, runs, rollup_only, keep, days, only } } => {
            let config = Config::load(cli.global.config.as_deref(), &overrides)?;
            init_logging("warn");
            if rollup_only {
                bench_cockpit::rollup_only(config, tickets, runs, keep, days, only.as_deref()).await
            } else {
                bench_cockpit::cockpit(config, tickets, runs).await
            }
        }
        Command::Bench { command: BenchCommand::Mail { messages, replies } } => {
            let config = Config::load(cli.global.config.as_deref(), &overrides)?;
            init_logging("warn");
            bench_mail::mail(config, messages, replies).await
        }
    }
}

fn init_logging(filter: &str) {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| filter.to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
}

/// Measures every ticket again, with a progress bar; prints the rate.
/// `fold`: then folds the buckets of changes measured meanwhile (else the
/// hourly job folds them).
pub(crate) async fn rebuild_rollup(store: &dyn store::Store, fold: bool) -> Result<(), String> {
    let total = store.ticket_ids_after(domain::TicketId(0), u32::MAX).await.map_err(|e| e.to_string())?.len() as u64;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("Measuring tickets {bar:40} {pos}/{len} ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let done = jobs::kpi::rebuild(store, |n| bar.set_position(n)).await.map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!("Measured {done} tickets for the KPIs in {secs:.1} s ({:.0} tickets/s).", done as f64 / secs.max(1e-9));
    if fold {
        // The rebuild writes histograms itself; what is left are the
        // buckets of changes measured while it ran.
        let started = std::time::Instant::now();
        let days = store.fold_buckets(i64::MAX).await.map_err(|e| e.to_string())?;
        if days > 0 {
            println!("Folded {days} days' buckets into histograms in {:.1} s.", started.elapsed().as_secs_f64());
        }
    }
    // The rollup's tables were emptied and filled: the planner needs their
    // statistics anew.
    store.optimize().await.map_err(|e| e.to_string())?;
    Ok(())
}
