//! The `mantra` command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// --- policy (issue 3) ---
mod policy_cmd;
mod update_cmd;
// --- end policy ---

#[derive(Debug, Parser)]
#[command(
    name = "mantra",
    version,
    about = "Keeps secrets out of AI coding sessions and out of git."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    // --- policy (issue 3) ---
    /// Show, validate and describe the effective policy.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCmd),
    /// Check for a new version (when policy allows).
    #[command(subcommand)]
    Update(update_cmd::UpdateCmd),
    /// Local crash reports.
    #[command(subcommand)]
    CrashReports(update_cmd::CrashCmd),
    // --- end policy ---
}

fn main() -> ExitCode {
    update_cmd::install_crash_hook(); // policy (issue 3)
    let cli = Cli::parse();
    let result = match &cli.command {
        // --- policy (issue 3) ---
        Command::Policy(cmd) => policy_cmd::run(cmd),
        Command::Update(cmd) => update_cmd::run_update(cmd, &policy_cmd::effective().policy),
        Command::CrashReports(cmd) => update_cmd::run_crash(cmd, &policy_cmd::effective().policy),
        // --- end policy ---
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("mantra: {e:#}");
            ExitCode::from(2)
        }
    }
}
