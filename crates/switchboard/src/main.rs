//! `switchboard`: the customer-support platform in one binary.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod config;
mod mailboxes;
mod storage;

use clap::Parser;

/// mimalloc returns freed memory to the system (glibc keeps a 19 MiB
/// arena per thread that ever hashed a password) and is faster here.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
