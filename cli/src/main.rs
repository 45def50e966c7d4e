//! The `mantra` command: thin composition of the library crates.
//!
//! Exit codes: 0 clean, 1 findings remain, 2 usage or runtime error.

mod agent_cmd;
mod audit;
mod audit_cmd;
mod doctor_cmd;
mod engine_setup;
mod hooks_cmd;
mod interrupt;
mod output;
mod paths;
mod policy_cmd;
mod rules_cmd;
mod scan_cmd;
mod update_cmd;

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
    /// Run a git hook (invoked by the installed hooks).
    #[command(subcommand)]
    Hook(hooks_cmd::HookCommand),
    /// Install, uninstall and inspect the git hooks.
    #[command(subcommand)]
    Hooks(hooks_cmd::HooksCommand),
    /// Print the version and the detection engine in use.
    Version(rules_cmd::VersionArgs),
    /// Show, validate and describe the effective policy.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCmd),
    /// Check for a new version (when policy allows).
    #[command(subcommand)]
    Update(update_cmd::UpdateCmd),
    /// Local crash reports.
    #[command(subcommand)]
    CrashReports(update_cmd::CrashCmd),
    /// Compliance report for a period (html, json, ocsf, sarif, csv).
    Audit(audit_cmd::AuditArgs),
    #[command(flatten)]
    Agent(agent_cmd::AgentCommand),
    /// Check this machine's health and compliance with policy (read-only).
    Doctor(doctor_cmd::DoctorArgs),
}

fn main() -> ExitCode {
    update_cmd::install_crash_hook();
    end_quietly_on_closed_pipe();
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
        Command::Policy(cmd) => policy_cmd::run(&cmd),
        Command::Update(cmd) => update_cmd::run_update(&cmd, &policy_cmd::effective().policy),
        Command::CrashReports(cmd) => update_cmd::run_crash(&cmd, &policy_cmd::effective().policy),
        Command::Hook(cmd) => hooks_cmd::hook(cmd),
        Command::Hooks(cmd) => hooks_cmd::hooks(cmd),
        Command::Audit(args) => audit_cmd::run(&args),
        Command::Agent(cmd) => agent_cmd::run(cmd),
        Command::Doctor(args) => doctor_cmd::run(&args),
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

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Colour codes only for a person at a terminal: a log file, a CI log
    // or an MDM's capture of stderr gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}
