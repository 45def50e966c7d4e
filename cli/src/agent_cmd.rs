//! The session-agent commands: `index`, `agent run`, `sessions list|show`,
//! `search`, `share`, `delete`, `wipe`. Thin: argument parsing, progress,
//! output formats; the work is in `mantra-agent`. Index runs, retention,
//! deletions and wipes are recorded in the compliance event log.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use mantra_agent::export::{Encryption, ShareFormat};
use mantra_agent::index::{IndexEvent, IndexOptions, IndexReport};
use mantra_agent::keys::KeyProvider;
use mantra_agent::model::Assistant;
use mantra_agent::store::delete::DeleteScope;
use mantra_agent::store::query::{Highlight, SessionFilter};
use mantra_agent::store::{OpenMode, Store};
use mantra_agent::{AgentConfig, DataDir, DiscoveryEnv, Timestamp};
use mantra_core::audit_log::{self, AuditEvent, AuditRecord, DeleteTarget};
use mantra_core::time::{now_ms, parse_time};
use mantra_detect::{EngineKind, ScanOptions, Scanner};
use mantra_policy::Policy;

/// The agent's subcommands, flattened into the top-level command.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Index every discovered AI session into the encrypted store.
    Index(IndexArgs),
    /// The background agent that keeps the store current.
    #[command(subcommand)]
    Agent(AgentSub),
    /// List and show indexed sessions.
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// Full-text search over indexed sessions (secrets shown redacted).
    Search(SearchArgs),
    /// Write a redacted export of one session for sharing.
    Share(ShareArgs),
    /// Delete sessions from the store by project, time or id.
    Delete(DeleteArgs),
    /// Remove the store, its key, logs, exposure list and caches.
    Wipe(WipeArgs),
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Print the run's report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Worker threads for parsing and scanning (default: one per core, at most 4).
    #[arg(long, default_value_t = 0, hide = true)]
    threads: usize,
}

#[derive(Debug, Subcommand)]
pub enum AgentSub {
    /// Watch the assistants' session folders and index changes as they happen.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Seconds between full re-discoveries of session files.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    rediscover: u64,
    /// Seconds after start before the first periodic update check (when
    /// policy allows one): machines that start together do not all ask at
    /// once, and a short-lived agent never asks.
    #[arg(long, default_value_t = 600, value_name = "SECS", hide = true)]
    update_check_delay: u64,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCmd {
    /// List sessions, most recent first.
    List(ListArgs),
    /// Show one session's messages (redacted).
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Ignore project isolation: look in every project.
    #[arg(long, conflicts_with = "project")]
    all_projects: bool,
    /// Only this project (path or unique name).
    #[arg(long, value_name = "P")]
    project: Option<String>,
    /// Only sessions active since T (RFC 3339 date/time, or 30m, 12h, 7d, 4w ago).
    #[arg(long, value_name = "T")]
    since: Option<String>,
    /// At most this many sessions.
    #[arg(long)]
    limit: Option<u32>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Ignore project isolation: look in every project.
    #[arg(long, conflicts_with = "project")]
    all_projects: bool,
    /// Session id (the assistant's, or a unique prefix).
    id: String,
    /// Look the session up in this project only.
    #[arg(long, value_name = "P")]
    project: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Ignore project isolation: look in every project.
    #[arg(long, conflicts_with = "project")]
    all_projects: bool,
    /// Words to find (all must occur; `word*` matches a prefix).
    #[arg(required = true)]
    query: Vec<String>,
    /// Only this project (path or unique name).
    #[arg(long, value_name = "P")]
    project: Option<String>,
    /// At most this many results.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShareArgs {
    /// Ignore project isolation: look in every project.
    #[arg(long, conflicts_with = "project")]
    all_projects: bool,
    /// Session id (the assistant's, or a unique prefix).
    id: String,
    /// Output file.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// md, json or html (default: from the file extension, else md).
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// Encrypt to the age format with the passphrase in MANTRA_SHARE_PASSPHRASE
    /// (or to --recipient).
    #[arg(long)]
    encrypt: bool,
    /// Encrypt to this age X25519 recipient (age1…); implies --encrypt.
    #[arg(long, value_name = "AGE1…")]
    recipient: Option<String>,
    /// Look the session up in this project only.
    #[arg(long, value_name = "P")]
    project: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).multiple(false)))]
pub struct DeleteArgs {
    /// Delete every session of this project (path or unique name).
    #[arg(long, value_name = "P", group = "scope")]
    project: Option<String>,
    /// Delete sessions whose last activity is before T (RFC 3339, or 30d ago…).
    #[arg(long, value_name = "T", group = "scope")]
    before: Option<String>,
    /// Delete one session.
    #[arg(long, value_name = "ID", group = "scope")]
    session: Option<String>,
}

#[derive(Debug, Args)]
pub struct WipeArgs {
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
}

/// Sets up logging for an agent command: the daily rolling file under the
/// data directory for commands that index or delete, stderr for the rest.
/// Keep the returned guard alive until exit.
pub fn init_logging(
    cmd: &AgentCommand,
    level: &str,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let wants_file = matches!(
        cmd,
        AgentCommand::Index(_) | AgentCommand::Agent(_) | AgentCommand::Delete(_)
    );
    if wants_file {
        if let Some(dir) = mantra_agent::data_dir() {
            let retention = crate::policy_cmd::effective().policy.logging.retention_days;
            if let Ok(guard) =
                mantra_agent::logging::init(&DataDir::new(dir).log_dir(), level, retention)
            {
                return Some(guard);
            }
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    None
}

/// Runs an agent command with the default settings.
pub fn run(cmd: AgentCommand) -> Result<u8> {
    let policy = crate::policy_cmd::effective().policy;
    run_with_config(cmd, &policy, &config_from_policy(&policy))
}

/// The agent settings the effective policy decides.
pub fn config_from_policy(policy: &mantra_policy::Policy) -> AgentConfig {
    let sources = &policy.agent.sources;
    let enabled = [
        (Assistant::ClaudeCode, sources.claude_code),
        (Assistant::Codex, sources.codex),
        (Assistant::GeminiCli, sources.gemini),
        (Assistant::Cursor, sources.cursor),
        (Assistant::CopilotChat, sources.copilot_chat),
        (Assistant::Cline, sources.cline),
        (Assistant::RooCode, sources.roo_code),
        (Assistant::Continue, sources.continue_dev),
        (Assistant::Aider, sources.aider),
        (Assistant::Opencode, sources.opencode),
    ];
    let mut config = AgentConfig {
        redact_at_rest: policy.agent.redact_at_rest,
        retention_days: (policy.agent.retention_days > 0).then_some(policy.agent.retention_days),
        project_isolation: policy.agent.project_isolation,
        enabled_sources: enabled
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(a, _)| a)
            .collect(),
        key_fallback: policy.storage.key_fallback,
        ..AgentConfig::default()
    };
    if let Some(key) = crate::engine_setup::fingerprint_key(policy) {
        config.fingerprint_key = key;
    }
    config
}

/// Runs an agent command with policy-derived settings.
pub fn run_with_config(cmd: AgentCommand, policy: &Policy, config: &AgentConfig) -> Result<u8> {
    let dir = DataDir::new(
        mantra_agent::data_dir().context("cannot determine the data directory; set MANTRA_HOME")?,
    );
    match cmd {
        AgentCommand::Index(a) => index(&dir, policy, config, a),
        AgentCommand::Agent(AgentSub::Run(a)) => agent_run(&dir, policy, config, a),
        AgentCommand::Sessions(SessionsCmd::List(a)) => sessions_list(&dir, config, a),
        AgentCommand::Sessions(SessionsCmd::Show(a)) => sessions_show(&dir, config, a),
        AgentCommand::Search(a) => search(&dir, config, a),
        AgentCommand::Share(a) => share(&dir, policy, config, a),
        AgentCommand::Delete(a) => delete(&dir, config, a),
        AgentCommand::Wipe(a) => wipe(&dir, config, a),
    }
}

fn keys(dir: &DataDir, config: &AgentConfig) -> Result<Box<dyn KeyProvider>> {
    Ok(Box::new(mantra_agent::lifecycle::system_keys(dir, config)?))
}

fn open(dir: &DataDir, config: &AgentConfig, mode: OpenMode) -> Result<Store> {
    let keys = keys(dir, config)?;
    Ok(mantra_agent::lifecycle::open_store(
        dir,
        keys.as_ref(),
        mode,
    )?)
}

/// The scanner of indexing and sharing: the rules policy puts in force
/// (custom, disabled, severity floor) and its allowlisted secrets, exactly
/// as `scan` and the hooks use them, so a secret an organisation's rule
/// catches at commit is also redacted at rest and listed as exposed.
fn scanner(dir: &DataDir, policy: &Policy, config: &AgentConfig) -> Result<Arc<Scanner>> {
    let (rules, errors) = crate::engine_setup::policy_rules(policy).build();
    for e in &errors {
        tracing::warn!("rule not loaded: {e}");
    }
    let mut opts = ScanOptions {
        fingerprint_key: config.fingerprint_key.clone(),
        engine_cache_dir: Some(dir.cache_dir()),
        ..Default::default()
    };
    crate::engine_setup::apply_policy(&mut opts, policy);
    let s = Scanner::new(Arc::new(rules), EngineKind::default_available(), opts)
        .context("cannot build the detection engine")?;
    Ok(Arc::new(s))
}

fn discovery_env() -> Result<DiscoveryEnv> {
    DiscoveryEnv::from_process().context("cannot determine the home directory (set HOME)")
}

/// Appends `event` to the compliance event log. The operation it records
/// has already happened, so a log that cannot be written is a warning.
fn record_event(dir: &DataDir, event: AuditEvent) {
    let path = dir.audit_log();
    let record = AuditRecord {
        time: Timestamp(now_ms()).to_rfc3339(),
        user: mantra_core::user::current_user(),
        event,
    };
    if let Err(e) = audit_log::append(&path, &record) {
        tracing::warn!("cannot write the audit log {}: {e}", path.display());
        eprintln!(
            "mantra: warning: cannot write the audit log {}: {e}",
            path.display()
        );
    }
}

/// The project a query is limited to: `--project`, else (under project
/// isolation) the indexed project holding the current directory, else none
/// with `--all-projects` or without isolation.
fn project_scope(
    store: &Store,
    config: &AgentConfig,
    project: Option<&str>,
    all_projects: bool,
) -> Result<Option<i64>> {
    if let Some(p) = project {
        return Ok(Some(store.resolve_project(p)?.id));
    }
    if all_projects || !config.project_isolation {
        return Ok(None);
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    match store.project_containing(&cwd.to_string_lossy())? {
        Some(p) => Ok(Some(p.id)),
        None => bail!(
            "project isolation is on and {} is not inside an indexed project: \
             pass --project P, or --all-projects",
            cwd.display()
        ),
    }
}

fn index(dir: &DataDir, policy: &Policy, config: &AgentConfig, a: IndexArgs) -> Result<u8> {
    // First: from here on a stop request ends the run at a safe point.
    let cancel = crate::interrupt::install(crate::interrupt::INTERRUPTED)?;
    let env = discovery_env()?;
    let mut store = open(dir, config, OpenMode::Create)?;
    let scanner = scanner(dir, policy, config)?;
    let sources = mantra_agent::discover_all(&env);
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} indexing [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let report = mantra_agent::index::index_sources(
        &mut store,
        &scanner,
        config,
        &sources,
        &IndexOptions {
            threads: a.threads,
            ..IndexOptions::default()
        },
        &cancel,
        &mut |ev| match ev {
            IndexEvent::Planned { bytes, .. } => bar.set_length(bytes),
            IndexEvent::Done { bytes } => bar.inc(bytes),
        },
    )?;
    bar.finish_and_clear();
    if let Some(days) = config.retention_days {
        apply_retention(&mut store, dir, days)?;
    }
    let exposed = mantra_agent::lifecycle::write_exposures(&store, dir, &config.fingerprint_key)?;
    let elapsed = started.elapsed();
    record_event(
        dir,
        AuditEvent::Index {
            files_seen: report.sources_seen,
            files_indexed: report.sources_indexed,
            files_failed: report.sources_failed,
            messages: report.messages,
            findings: report.findings,
            duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        },
    );
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report_json(&report, exposed, elapsed))?
        );
    } else {
        print_report(&report, exposed, elapsed);
    }
    Ok(index_exit_code(&report))
}

/// `mantra index` exits 130 when interrupted, 2 when a source could not be
/// read (the others are indexed, and the failures listed above), else 0.
fn index_exit_code(report: &IndexReport) -> u8 {
    if report.cancelled {
        crate::interrupt::INTERRUPTED
    } else if report.sources_failed > 0 {
        2
    } else {
        0
    }
}

/// Deletes the sessions idle for longer than `days` and logs the run in
/// the compliance event log. Returns how many sessions went.
fn apply_retention(store: &mut Store, dir: &DataDir, days: u32) -> Result<u64> {
    let n = store.apply_retention(days, now_ms())?;
    if n > 0 {
        tracing::info!(sessions = n, days, "retention applied");
    }
    record_event(dir, AuditEvent::Retention { days, sessions: n });
    Ok(n)
}

/// How often the long-running agent applies the retention period (a
/// one-shot `mantra index` applies it at every run).
const AGENT_RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

fn report_json(r: &IndexReport, exposed: usize, elapsed: std::time::Duration) -> serde_json::Value {
    serde_json::json!({
        "sources_seen": r.sources_seen,
        "sources_indexed": r.sources_indexed,
        "sources_unchanged": r.sources_unchanged,
        "sources_failed": r.sources_failed,
        "bytes": r.bytes,
        "sessions": r.sessions,
        "messages": r.messages,
        "findings": r.findings,
        "exposed_secrets": exposed,
        "skipped_corrupt_records": r.parse.skipped_corrupt,
        "seconds": elapsed.as_secs_f64(),
        "cancelled": r.cancelled,
        "errors": r.errors.iter().map(|(p, e)| serde_json::json!({"path": p, "error": e})).collect::<Vec<_>>(),
    })
}

fn print_report(r: &IndexReport, exposed: usize, elapsed: std::time::Duration) {
    let secs = elapsed.as_secs_f64().max(1e-6);
    eprintln!(
        "mantra: indexed {} of {} source(s) ({:.1} MB in {:.2} s, {:.0} MB/s), {} unchanged; \
         {} message(s), {} finding(s); {} exposed secret(s) listed{}",
        r.sources_indexed,
        r.sources_seen,
        r.bytes as f64 / 1e6,
        secs,
        r.bytes as f64 / 1e6 / secs,
        r.sources_unchanged,
        r.messages,
        r.findings,
        exposed,
        if r.sources_failed > 0 {
            format!("; {} source(s) could not be read", r.sources_failed)
        } else {
            String::new()
        }
    );
    for (p, e) in r.errors.iter().take(10) {
        eprintln!("mantra: warning: {}: {e}", p.display());
    }
    if r.errors.len() > 10 {
        eprintln!(
            "mantra: warning: {} more source(s) could not be read (--json lists them all)",
            r.errors.len() - 10
        );
    }
    if r.cancelled {
        eprintln!("mantra: interrupted; the next run resumes from the last committed batch");
    }
}

fn agent_run(dir: &DataDir, policy: &Policy, config: &AgentConfig, a: RunArgs) -> Result<u8> {
    let env = discovery_env()?;
    // Held until return: one agent per data directory, and `mantra doctor`
    // tells a running agent by this lock.
    let _lock = mantra_agent::lock::AgentLock::acquire(dir)?;
    // Before the slow start-up (engine build): a stop request from then on
    // is a clean exit that releases the lock and clears the pid.
    // A service manager's stop is this service's normal end: exit 0 even
    // when forced.
    let cancel = crate::interrupt::install(0)?;
    let mut store = open(dir, config, OpenMode::Create)?;
    let scanner = scanner(dir, policy, config)?;
    crate::update_cmd::spawn_periodic_checks(
        policy.clone(),
        dir.update_state_file(),
        std::time::Duration::from_secs(a.update_check_delay),
        cancel.clone(),
    );
    let opts = mantra_agent::watch::WatchOptions {
        rediscover: std::time::Duration::from_secs(a.rediscover.max(1)),
        ..Default::default()
    };
    let mut last_retention: Option<std::time::Instant> = None;
    tracing::info!(data_dir = %dir.root.display(), "agent started");
    eprintln!("mantra: agent watching AI session folders (Ctrl-C to stop)");
    mantra_agent::watch::run(
        &env,
        &mut store,
        &scanner,
        config,
        dir,
        &opts,
        &cancel,
        &mut |r| {
            tracing::info!(
                indexed = r.sources_indexed,
                messages = r.messages,
                findings = r.findings,
                "indexed changes"
            );
        },
        &mut |store| {
            let Some(days) = config.retention_days else {
                return;
            };
            if last_retention.is_some_and(|t| t.elapsed() < AGENT_RETENTION_EVERY) {
                return;
            }
            last_retention = Some(std::time::Instant::now());
            match apply_retention(store, dir, days) {
                // Deleted sessions may have been the only ones exposing a
                // secret: the hooks' list follows the store.
                Ok(n) if n > 0 => {
                    if let Err(e) = mantra_agent::lifecycle::write_exposures(
                        store,
                        dir,
                        &config.fingerprint_key,
                    ) {
                        tracing::warn!("exposure list not written: {e}");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("retention not applied: {e:#}"),
            }
        },
    )?;
    tracing::info!("agent stopped");
    eprintln!("mantra: agent stopped");
    Ok(0)
}

fn sessions_list(dir: &DataDir, config: &AgentConfig, a: ListArgs) -> Result<u8> {
    let store = open(dir, config, OpenMode::Existing)?;
    let project_id = project_scope(&store, config, a.project.as_deref(), a.all_projects)?;
    let since = a
        .since
        .as_deref()
        .map(|s| parse_time(s, now_ms()))
        .transpose()?;
    let rows = store.list_sessions(&SessionFilter {
        project_id,
        since,
        limit: a.limit,
    })?;
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(0);
    }
    if rows.is_empty() {
        eprintln!("mantra: no sessions");
        return Ok(0);
    }
    writeln!(
        out,
        "{:<24} {:<12} {:>5} {:>7}  {:<36}  PROJECT / TITLE",
        "LAST ACTIVITY", "ASSISTANT", "MSGS", "SECRETS", "ID"
    )?;
    for r in rows {
        let when = r
            .last_at
            .as_deref()
            .or(r.started_at.as_deref())
            .unwrap_or("-");
        let title: String = r
            .title
            .as_deref()
            .unwrap_or("")
            .chars()
            .take(60)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        writeln!(
            out,
            "{:<24} {:<12} {:>5} {:>7}  {:<36}  {}{}{}",
            when,
            r.assistant,
            r.messages,
            r.findings,
            r.id,
            r.project.as_deref().unwrap_or("-"),
            if title.is_empty() { "" } else { " — " },
            title
        )?;
    }
    Ok(0)
}

fn sessions_show(dir: &DataDir, config: &AgentConfig, a: ShowArgs) -> Result<u8> {
    let store = open(dir, config, OpenMode::Existing)?;
    let project_id = project_scope(&store, config, a.project.as_deref(), a.all_projects)?;
    let s = store.find_session(&a.id, project_id)?;
    let messages = store.session_messages(s.rowid)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        let doc = serde_json::json!({ "session": s, "messages": messages });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(0);
    }
    writeln!(out, "session   {} ({})", s.id, s.assistant)?;
    writeln!(out, "project   {}", s.project.as_deref().unwrap_or("-"))?;
    if let Some(t) = &s.title {
        writeln!(out, "title     {t}")?;
    }
    writeln!(
        out,
        "time      {} .. {}",
        s.started_at.as_deref().unwrap_or("-"),
        s.last_at.as_deref().unwrap_or("-")
    )?;
    writeln!(
        out,
        "messages  {}   secrets found: {}",
        s.messages, s.findings
    )?;
    writeln!(out, "source    {}", s.source)?;
    for m in messages {
        writeln!(
            out,
            "\n── {} · {}{}",
            m.role,
            m.timestamp,
            if m.timestamp_estimated {
                " (estimated)"
            } else {
                ""
            }
        )?;
        writeln!(out, "{}", m.text)?;
        for f in &m.findings {
            writeln!(out, "   ! {} [{}] {}", f.rule_id, f.severity, f.preview)?;
        }
    }
    Ok(0)
}

fn search(dir: &DataDir, config: &AgentConfig, a: SearchArgs) -> Result<u8> {
    let mut store = open(dir, config, OpenMode::Existing)?;
    let project_id = project_scope(&store, config, a.project.as_deref(), a.all_projects)?;
    let tty = std::io::stdout().is_terminal() && !a.json;
    let hl = if tty {
        Highlight {
            open: "\x1b[1;33m".into(),
            close: "\x1b[0m".into(),
        }
    } else {
        Highlight {
            open: "«".into(),
            close: "»".into(),
        }
    };
    let query = a.query.join(" ");
    let hits = store.search(&query, project_id, a.limit, &hl)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&hits)?)?;
        return Ok(0);
    }
    if hits.is_empty() {
        eprintln!("mantra: no matches");
        return Ok(0);
    }
    for h in hits {
        writeln!(
            out,
            "{}  {}  {}  {}  ({})",
            h.timestamp,
            h.assistant,
            h.session,
            h.project.as_deref().unwrap_or("-"),
            h.role
        )?;
        let snippet: String = h.snippet.replace(['\n', '\r'], " ");
        writeln!(out, "    {snippet}")?;
    }
    Ok(0)
}

fn share(dir: &DataDir, policy: &Policy, config: &AgentConfig, a: ShareArgs) -> Result<u8> {
    let format = match &a.format {
        Some(f) => ShareFormat::parse(f)
            .with_context(|| format!("unknown format {f:?} (expected md, json or html)"))?,
        None => a
            .out
            .extension()
            .and_then(|e| e.to_str())
            .and_then(ShareFormat::parse)
            .unwrap_or(ShareFormat::Markdown),
    };
    let encryption = if let Some(r) = &a.recipient {
        Encryption::Recipient(r.clone())
    } else if a.encrypt {
        match std::env::var("MANTRA_SHARE_PASSPHRASE") {
            Ok(p) if !p.is_empty() => Encryption::Passphrase(p),
            _ => bail!(
                "--encrypt needs a passphrase in MANTRA_SHARE_PASSPHRASE, or --recipient age1…"
            ),
        }
    } else {
        Encryption::None
    };
    let store = open(dir, config, OpenMode::Existing)?;
    let project_id = project_scope(&store, config, a.project.as_deref(), a.all_projects)?;
    let s = store.find_session(&a.id, project_id)?;
    let messages = store.session_messages(s.rowid)?;
    let rendered = mantra_agent::export::render(&s, &messages, format);
    let scanner = scanner(dir, policy, config)?;
    if let Err(e) = mantra_agent::export::verify_clean(&scanner, rendered.as_bytes(), format) {
        eprintln!("mantra: {e}; nothing was written");
        return Ok(1);
    }
    let bytes = mantra_agent::export::encrypt(rendered.as_bytes(), &encryption)?;
    mantra_agent::export::write_private(&a.out, &bytes)?;
    eprintln!(
        "mantra: wrote {} ({} message(s){})",
        a.out.display(),
        messages.len(),
        match encryption {
            Encryption::None => "",
            _ => ", age-encrypted",
        }
    );
    Ok(0)
}

fn delete(dir: &DataDir, config: &AgentConfig, a: DeleteArgs) -> Result<u8> {
    let mut store = open(dir, config, OpenMode::Existing)?;
    let (scope, target) = if let Some(p) = &a.project {
        let project = store.resolve_project(p)?;
        (
            DeleteScope::Project(project.id),
            DeleteTarget::Project(project.path),
        )
    } else if let Some(t) = &a.before {
        let before = parse_time(t, now_ms())?;
        (
            DeleteScope::Before(before),
            DeleteTarget::Before(Timestamp(before).to_rfc3339()),
        )
    } else if let Some(id) = &a.session {
        let session = store.find_session(id, None)?;
        (
            DeleteScope::Session(session.rowid),
            DeleteTarget::Session(session.id),
        )
    } else {
        bail!("give --project, --before or --session");
    };
    let n = store.delete(&scope)?;
    record_event(
        dir,
        AuditEvent::Delete {
            target,
            sessions: n,
        },
    );
    store.compact()?;
    mantra_agent::lifecycle::write_exposures(&store, dir, &config.fingerprint_key)?;
    tracing::info!(sessions = n, "sessions deleted");
    eprintln!("mantra: deleted {n} session(s); the store was compacted");
    Ok(0)
}

fn wipe(dir: &DataDir, config: &AgentConfig, a: WipeArgs) -> Result<u8> {
    if !a.yes {
        if !std::io::stdin().is_terminal() {
            bail!("wipe needs confirmation: run it in a terminal, or pass --yes");
        }
        eprint!(
            "This deletes every indexed session, the store key, logs and the exposure list in {}.\n\
             Type 'wipe' to confirm: ",
            dir.root.display()
        );
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        if line.trim() != "wipe" {
            eprintln!("mantra: nothing was deleted");
            return Ok(2);
        }
    }
    let keys = keys(dir, config)?;
    let report = mantra_agent::lifecycle::wipe(dir, keys.as_ref())?;
    // The old log went with everything else; the fresh one starts with this.
    record_event(
        dir,
        AuditEvent::Wipe {
            items: report.removed.len() as u64,
            key_removed: report.key_removed,
        },
    );
    eprintln!(
        "mantra: wiped {} item(s){}",
        report.removed.len(),
        if report.key_removed {
            " and the store key"
        } else {
            ""
        }
    );
    Ok(0)
}

#[cfg(test)]
mod policy_mapping_tests {
    use super::*;

    #[test]
    fn agent_settings_follow_policy() {
        let mut policy = mantra_policy::Policy::default();
        let defaults = config_from_policy(&policy);
        assert_eq!(defaults.enabled_sources.len(), Assistant::ALL.len());
        assert_eq!(defaults.retention_days, None);

        policy.agent.sources.codex = false;
        policy.agent.retention_days = 30;
        policy.agent.redact_at_rest = false;
        policy.storage.key_fallback = mantra_policy::KeyFallback::Deny;
        policy.fingerprint_key = Some("org-key".into());
        let c = config_from_policy(&policy);
        assert!(!c.enabled_sources.contains(&Assistant::Codex));
        assert!(c.enabled_sources.contains(&Assistant::ClaudeCode));
        assert_eq!(c.retention_days, Some(30));
        assert!(!c.redact_at_rest);
        assert_eq!(c.key_fallback, mantra_policy::KeyFallback::Deny);
        assert_eq!(c.fingerprint_key, b"org-key");
    }
}
