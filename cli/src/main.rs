//! The `mantra` command: thin composition of the library crates.
//!
//! Exit codes: 0 clean, 1 findings remain, 2 usage or runtime error.

mod agent_cmd;
mod engine_setup;
mod output;
mod paths;
mod rules_cmd;
mod scan_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Mantra keeps secrets out of AI coding sessions and out of git.
#[derive(Debug, Parser)]
#[command(name = "mantra", version, about, propagate_version = true)]
struct Cli {
    /// Log verbosity on stderr (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "warn", env = "MANTRA_LOG")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan files, directories or stdin (`-`) for secrets.
    Scan(scan_cmd::ScanArgs),
    /// Write a copy of a file with every secret replaced by [REDACTED:rule-id].
    Redact(scan_cmd::RedactArgs),
    /// Manage baselines of accepted secrets.
    #[command(subcommand)]
    Baseline(scan_cmd::BaselineCommand),
    /// List and check detection rules.
    #[command(subcommand)]
    Rules(rules_cmd::RulesCommand),
    /// Print the version and the detection engine in use.
    Version(rules_cmd::VersionArgs),
    #[command(flatten)]
    Agent(agent_cmd::AgentCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _log_guard = match &cli.command {
        Command::Agent(cmd) => agent_cmd::init_logging(cmd, &cli.log_level),
        _ => {
            init_logging(&cli.log_level);
            None
        }
    };
    let result = match cli.command {
        Command::Scan(args) => scan_cmd::scan(args),
        Command::Redact(args) => scan_cmd::redact(args),
        Command::Baseline(cmd) => scan_cmd::baseline(cmd),
        Command::Rules(cmd) => rules_cmd::run(cmd),
        Command::Version(args) => rules_cmd::version(args),
        Command::Agent(cmd) => agent_cmd::run(cmd),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("mantra: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
