//! The command line. Every option is explained in `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Overrides;

/// Switchboard: the open-source customer-support platform. Agents answer
/// customers from one queue; managers see exactly how the department does.
///
/// Configuration comes from the built-in defaults (see `switchboard config`),
/// a TOML file (--config, or ./switchboard.toml if present), SWITCHBOARD_*
/// environment variables and DATABASE_URL, and these flags, in rising order.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// A TOML configuration file.
    #[arg(long, global = true, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 0.0.0.0:8080 (port 0 picks a free port).
    #[arg(long, global = true)]
    pub listen: Option<String>,
    /// Directory for the SQLite database and attachments.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…); without it, SQLite in the data directory.
    #[arg(long, global = true)]
    pub database_url: Option<String>,
}

impl Global {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP server (applies migrations first). On an empty database
    /// it creates the first admin and prints a one-time password.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Start the server on a simulated department: 3 teams, 10 agents
    /// (more for larger runs), 200 customers and 20,000 tickets over 90
    /// days, and print how to sign in.
    /// Uses ./switchboard-demo unless --data-dir or --database-url is given.
    Demo {
        /// Create the sample data and exit instead of serving.
        #[arg(long)]
        no_serve: bool,
        /// Tickets the simulation creates over the 90 days (the planted spike included; up to 10M for benchmarks).
        #[arg(long, default_value_t = 20_000)]
        tickets: usize,
    },
    /// The KPI rollup (what the cockpit reads).
    Kpi {
        #[command(subcommand)]
        command: KpiCommand,
    },
    /// Manage staff accounts from the command line.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print the commented default configuration file.
    Config,
    /// Measure performance and print figures.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KpiCommand {
    /// Measure every ticket again from its events (after changing the KPI
    /// calendar, or to check the rollup), with a progress bar.
    Rebuild,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin (or other staff) account and print its password once.
    Create {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// The name shown to people.
        #[arg(long, default_value = "Administrator")]
        name: String,
        /// agent, manager or admin.
        #[arg(long, default_value = "admin")]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The JSON API: ticket creations per second with 1 and 32 clients,
    /// list and search latency over a large store, and memory. Runs against
    /// a fresh database (SQLite in a temporary directory, or --database-url).
    Api {
        /// Tickets stored before measuring list and search.
        #[arg(long, default_value_t = 1_000_000)]
        tickets: u64,
        /// Ticket creations measured per client count.
        #[arg(long, default_value_t = 20_000)]
        creates: u64,
        /// List and search requests measured.
        #[arg(long, default_value_t = 2_000)]
        queries: u64,
    },
    /// The workspace: server render time (p50, p99) of the ticket page with
    /// 100 messages and of 50-row ticket lists, as an agent, over a large
    /// store. Runs against a fresh database.
    Pages {
        /// Tickets stored before measuring.
        #[arg(long, default_value_t = 1_000_000)]
        tickets: u64,
        /// Renders measured per page.
        #[arg(long, default_value_t = 2_000)]
        renders: u64,
    },
    /// Service rules: cost per new ticket of the rules (50 triggers, 20 SLA
    /// policies, 10 routing rules) in memory and as the stored jobs a node
    /// runs, and the scheduler's claim cost with many open SLA clocks.
    Rules {
        /// New tickets run through the stored rules and SLA jobs.
        #[arg(long, default_value_t = 2_000)]
        events: u64,
        /// Open tickets whose SLA clocks wait as jobs.
        #[arg(long, default_value_t = 1_000_000)]
        open: u64,
    },
    /// The manager cockpit: the simulated department stored (tickets per
    /// second), the KPI rollup built and kept current, and the cockpit and
    /// weekly report answered over it. Runs against a fresh database.
    Cockpit {
        /// Tickets in the simulated department (90 days).
        #[arg(long, default_value_t = 100_000)]
        tickets: usize,
        /// Requests measured per figure.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Skip the simulation: write this many tickets' measured rows
        /// (a year of them, 5 teams of 10 agents, 50 organizations, 20 tags) straight into the rollup,
        /// then time the cockpit over them (for 1M and 10M tickets).
        #[arg(long)]
        rollup_only: bool,
        /// With --rollup-only: keep the SQLite store in this directory (with
        /// --database-url: keep that database, and note in this directory
        /// when it was written); a later run over the same directory times
        /// the cockpit again without writing (10M tickets take over an
        /// hour to write).
        #[arg(long)]
        keep: Option<std::path::PathBuf>,
        /// With --rollup-only: the days the tickets spread over. A
        /// dashboard reads only its window, so 2.5M tickets over 91 days
        /// load each window (7, 30, 90 days) as 10M a year would.
        #[arg(long, default_value_t = 365)]
        days: i64,
        /// With --rollup-only: time only the views and reports whose name
        /// holds this text (as printed, e.g. "an agent's email"), to
        /// profile one of them.
        #[arg(long)]
        only: Option<String>,
    },
    /// Voice of the customer: recording survey answers, the feedback
    /// inbox's summary and first page, and the customer-insights report of
    /// 30 and 90 days over a large store; sentiment and topics alone.
    Feedback {
        /// Tickets stored (over the last year) before measuring.
        #[arg(long, default_value_t = 100_000)]
        tickets: u64,
        /// Survey answers recorded (to the newest tickets).
        #[arg(long, default_value_t = 5_000)]
        answers: u64,
    },
    /// Email: inbound messages per second through the push endpoint (parse,
    /// thread, store) and outbound replies per second from the outbox to a
    /// local SMTP sink. Runs against a fresh database.
    Mail {
        /// Raw messages pushed (a mix of new tickets, replies, HTML,
        /// attachments and 1% unparseable).
        #[arg(long, default_value_t = 10_000)]
        messages: u64,
        /// Replies sent by email.
        #[arg(long, default_value_t = 2_000)]
        replies: u64,
    },
}
