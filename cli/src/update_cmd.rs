//! `mantra update check` and `mantra crash-reports list|upload`: thin
//! wrappers over `mantra-update`, which holds the only network code.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mantra_policy::Policy;
use mantra_update::check::{check_for_update, CheckOptions, CheckOutcome};
use mantra_update::crash;
use mantra_update::schedule;

#[derive(Debug, clap::Subcommand)]
pub enum UpdateCmd {
    /// Fetch the signed update manifest now (when policy allows), verify it
    /// and report. Never installs anything.
    Check {
        #[arg(long)]
        json: bool,
        /// Also fetch the new version into DIR and verify its SHA-256.
        #[arg(long, value_name = "DIR")]
        download: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum CrashCmd {
    /// List local crash reports not yet uploaded.
    List,
    /// Upload pending crash reports (only when policy allows).
    Upload {
        #[arg(long)]
        json: bool,
    },
}

/// Installs the crash-report panic hook (call once, early in `main`).
pub fn install_crash_hook() {
    if let Some(dir) = mantra_core::DataDir::locate() {
        crash::install_panic_hook(dir.crash_reports_dir());
    }
}

pub fn run_update(cmd: &UpdateCmd, policy: &Policy) -> Result<u8> {
    let UpdateCmd::Check { json, download } = cmd;
    let opts = CheckOptions {
        download_dir: download.clone(),
        ..CheckOptions::for_this_build()
    };
    let outcome = check_for_update(policy, &opts).context("update check failed")?;
    if *json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
        return Ok(0);
    }
    match outcome {
        CheckOutcome::Disabled { reason } => {
            println!("Update check disabled by policy: {reason}. Nothing was sent.")
        }
        CheckOutcome::UpToDate { current, .. } => println!("Mantra {current} is up to date."),
        CheckOutcome::UpdateAvailable {
            current,
            latest,
            url,
            downloaded,
            ..
        } => {
            println!("Mantra {latest} is available (this is {current}): {url}");
            if let Some(p) = downloaded {
                println!("Downloaded and verified: {}", p.display());
            }
        }
    }
    Ok(0)
}

pub fn run_crash(cmd: &CrashCmd, policy: &Policy) -> Result<u8> {
    let data =
        mantra_core::DataDir::locate().context("no data directory (set MANTRA_HOME or HOME)")?;
    let dir = data.crash_reports_dir();
    match cmd {
        CrashCmd::List => {
            for p in crash::pending(&dir) {
                println!("{}", p.display());
            }
        }
        CrashCmd::Upload { json } => {
            let out = crash::upload_pending(policy, &dir).context("uploading crash reports")?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                match out {
                    crash::UploadOutcome::Disabled { reason, pending } => {
                        println!("Upload disabled by policy: {reason}. {pending} report(s) kept locally.")
                    }
                    crash::UploadOutcome::Uploaded { count } => {
                        println!("Uploaded {count} report(s).")
                    }
                }
            }
        }
    }
    Ok(0)
}

/// Starts the agent's periodic update check on its own thread (a slow or
/// unreachable server never holds up indexing): the first after
/// `first_delay`, then every `updates.check_interval_hours`, counted from
/// the last check recorded at `state` so restarts do not ask again early.
/// Each outcome is recorded there and logged. With updates or the network
/// off by policy, each check records "disabled" without opening a socket.
pub fn spawn_periodic_checks(
    policy: Policy,
    state: PathBuf,
    first_delay: Duration,
    cancel: Arc<AtomicBool>,
) {
    let interval = policy.updates.check_interval_hours;
    if interval == 0 {
        return;
    }
    let started = Instant::now();
    let spawned = std::thread::Builder::new()
        .name("mantra-update-check".into())
        .spawn(move || {
            let opts = CheckOptions::for_this_build();
            loop {
                let now = unix_now();
                let due = schedule::next_due(schedule::read(&state).as_ref(), interval, now);
                let Some(due) = due else { return };
                let wait = Duration::from_secs(due.saturating_sub(now))
                    .max(first_delay.saturating_sub(started.elapsed()));
                if !sleep_unless_cancelled(wait, &cancel) {
                    return;
                }
                let (last, written) =
                    schedule::check_and_record(&policy, &opts, &state, unix_now());
                match last.result.as_str() {
                    "update_available" => tracing::info!(
                        latest = last.latest.as_deref().unwrap_or(""),
                        "a new version of Mantra is available"
                    ),
                    "error" => tracing::warn!(
                        detail = last.detail.as_deref().unwrap_or(""),
                        "update check failed"
                    ),
                    _ => tracing::debug!(result = %last.result, "update check"),
                }
                if let Err(e) = written {
                    // Without a record the next check would be due at once:
                    // stop rather than ask the server every second.
                    tracing::warn!("update check not recorded, periodic checks stop: {e}");
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("periodic update checks not started: {e}");
    }
}

/// Sleeps `wait` in short steps; false as soon as `cancel` is set.
fn sleep_unless_cancelled(wait: Duration, cancel: &AtomicBool) -> bool {
    let until = Instant::now() + wait;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_secs(1)));
    }
}

fn unix_now() -> u64 {
    u64::try_from(mantra_core::time::now_ms() / 1000).unwrap_or(0)
}
