//! `mantra agent run`: the background agent that watches the assistants'
//! session folders and keeps the store, the exposure list and the retention
//! period current.

use anyhow::Result;
use clap::{Args, Subcommand};
use mantra_agent::store::OpenMode;

use crate::agent_store;
use crate::settings::Settings;

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

/// How often the long-running agent applies the retention period (a
/// one-shot `mantra index` applies it at every run).
const AGENT_RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Runs the agent until a stop request.
pub fn run(settings: &Settings, a: RunArgs) -> Result<u8> {
    let dir = settings.data_dir()?;
    let config = &settings.agent;
    let env = agent_store::discovery_env()?;
    // Held until return: one agent per data directory, and `mantra doctor`
    // tells a running agent by this lock.
    let lock = mantra_agent::lock::AgentLock::acquire(dir)?;
    // Before the slow start-up (engine build): a stop request from then on
    // ends the agent at the next step, releasing the lock and clearing the
    // pid; forced (a step that outlasts the grace period), the pid is
    // cleared all the same. A service manager's stop is this service's
    // normal end: exit 0 even when forced.
    let pid_clearer = lock.pid_clearer()?;
    let cancel = crate::interrupt::install(0, crate::interrupt::SERVICE_GRACE, move || {
        pid_clearer.clear()
    })?;
    let stopping = || cancel.load(std::sync::atomic::Ordering::SeqCst);
    let mut store = agent_store::open(settings, OpenMode::Create)?;
    if stopping() {
        return Ok(0);
    }
    let scanner = settings.agent_scanner()?;
    if stopping() {
        return Ok(0);
    }
    crate::update_schedule::spawn_periodic_checks(
        settings.policy().clone(),
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
            match agent_store::apply_retention(store, settings, days) {
                // Deleted sessions may have been the only ones exposing a
                // secret: the hooks' list follows the store.
                Ok(n) if n > 0 => {
                    if let Err(e) = agent_store::write_exposures(store, settings) {
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
