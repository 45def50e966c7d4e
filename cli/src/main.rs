//! The `mantra` command: thin composition of the library crates.
//!
//! Exit codes: 0 clean, 1 findings remain, 2 usage or runtime error.

mod agent_store;
mod audit;
mod interrupt;
mod logging;
mod out_file;
mod output;
mod rule_args;
mod scanning;
mod settings;
mod update_schedule;

// One module per command.
mod cmd_agent;
mod cmd_audit;
mod cmd_baseline;
mod cmd_crash_reports;
mod cmd_delete;
mod cmd_doctor;
mod cmd_hook;
mod cmd_hooks;
mod cmd_index;
mod cmd_policy;
mod cmd_redact;
mod cmd_rules;
mod cmd_scan;
mod cmd_search;
mod cmd_sessions;
mod cmd_share;
mod cmd_update;
mod cmd_version;
mod cmd_wipe;

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
    Scan(cmd_scan::ScanArgs),
    /// Write a copy of a file with every secret replaced by [REDACTED:rule-id].
    Redact(cmd_redact::RedactArgs),
    /// Manage baselines of accepted secrets.
    #[command(subcommand)]
    Baseline(cmd_baseline::BaselineCommand),
    /// List and check detection rules.
    #[command(subcommand)]
    Rules(cmd_rules::RulesCommand),
    /// Run a git hook (invoked by the installed hooks).
    #[command(subcommand)]
    Hook(cmd_hook::HookCommand),
    /// Install, uninstall and inspect the git hooks.
    #[command(subcommand)]
    Hooks(cmd_hooks::HooksCommand),
    /// Print the version and the detection engine in use.
    Version(cmd_version::VersionArgs),
    /// Show, validate and describe the effective policy.
    #[command(subcommand)]
    Policy(cmd_policy::PolicyCmd),
    /// Check for a new version (when policy allows).
    #[command(subcommand)]
    Update(cmd_update::UpdateCmd),
    /// Local crash reports.
    #[command(subcommand)]
    CrashReports(cmd_crash_reports::CrashCmd),
    /// Compliance report for a period (html, json, ocsf, sarif, csv).
    Audit(cmd_audit::AuditArgs),
    /// Index every discovered AI session into the encrypted store.
    Index(cmd_index::IndexArgs),
    /// The background agent that keeps the store current.
    #[command(subcommand)]
    Agent(cmd_agent::AgentSub),
    /// List and show indexed sessions.
    #[command(subcommand)]
    Sessions(cmd_sessions::SessionsCmd),
    /// Full-text search over indexed sessions (secrets shown redacted).
    Search(cmd_search::SearchArgs),
    /// Write a redacted export of one session for sharing.
    Share(cmd_share::ShareArgs),
    /// Delete sessions from the store by project, time or id.
    Delete(cmd_delete::DeleteArgs),
    /// Remove the store, its key, logs and caches; the compliance event log stays.
    ///
    /// The exposure list and the agent's daily logs go too. The compliance
    /// event log (logs/audit.jsonl) is kept and records the wipe, unless
    /// policy sets logging.wipe_erases_trail.
    Wipe(cmd_wipe::WipeArgs),
    /// Check this machine's health and compliance with policy (read-only).
    Doctor(cmd_doctor::DoctorArgs),
}

impl Command {
    /// The commands whose log an admin reads later: they log to the
    /// rolling file under the data directory.
    fn logs_to_file(&self) -> bool {
        matches!(
            self,
            Command::Index(_) | Command::Agent(_) | Command::Delete(_)
        )
    }
}

fn main() -> ExitCode {
    install_crash_hook();
    end_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let settings = settings::Settings::load();
    let _log_guard = logging::init(&settings, cli.command.logs_to_file(), &cli.log_level);
    let s = &settings;
    let result = match cli.command {
        Command::Scan(args) => cmd_scan::run(s, args),
        Command::Redact(args) => cmd_redact::run(s, args),
        Command::Baseline(cmd) => cmd_baseline::run(s, cmd),
        Command::Rules(cmd) => cmd_rules::run(s, cmd),
        Command::Version(args) => cmd_version::run(args),
        Command::Policy(cmd) => cmd_policy::run(s, &cmd),
        Command::Update(cmd) => cmd_update::run(s, &cmd),
        Command::CrashReports(cmd) => cmd_crash_reports::run(s, &cmd),
        Command::Hook(cmd) => cmd_hook::run(s, cmd),
        Command::Hooks(cmd) => cmd_hooks::run(s, cmd),
        Command::Audit(args) => cmd_audit::run(s, &args),
        Command::Index(args) => cmd_index::run(s, args),
        Command::Agent(cmd_agent::AgentSub::Run(args)) => cmd_agent::run(s, args),
        Command::Sessions(cmd) => cmd_sessions::run(s, cmd),
        Command::Search(args) => cmd_search::run(s, args),
        Command::Share(args) => cmd_share::run(s, args),
        Command::Delete(args) => cmd_delete::run(s, args),
        Command::Wipe(args) => cmd_wipe::run(s, args),
        Command::Doctor(args) => cmd_doctor::run(s, &args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mantra: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Crash reports stay on this machine until policy allows an upload.
/// Installed before anything else runs, so a panic anywhere is recorded.
fn install_crash_hook() {
    if let Some(dir) = mantra_core::datadir::DataDir::locate() {
        mantra_update::crash::install_panic_hook(dir.crash_reports_dir());
    }
}

/// A reader that stops early (`mantra rules list | head`) closes the pipe:
/// the output nobody reads is not an error, and certainly not a crash.
/// `println!` panics on a closed stdout; that panic ends the process with
/// success and without a crash report, as other well-behaved tools do.
fn end_quietly_on_closed_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("");
        // The panic carries only the I/O error's text: EPIPE's on Unix,
        // ERROR_NO_DATA's (232) on Windows.
        let lower = message.to_ascii_lowercase();
        if lower.starts_with("failed printing to stdout")
            && (lower.contains("broken pipe") || lower.contains("os error 232"))
        {
            std::process::exit(0);
        }
        previous(info);
    }));
}

/// Whether an error comes from writing to a closed pipe.
fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
