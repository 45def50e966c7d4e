//! `mantra update check` and `mantra crash-reports list|upload`: thin
//! wrappers over `mantra-update`, which holds the only network code.

use std::path::PathBuf;

use anyhow::{Context, Result};
use mantra_policy::Policy;
use mantra_update::check::{check_for_update, CheckOptions, CheckOutcome};
use mantra_update::crash;

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
    if let Some(dir) = crash::data_dir() {
        crash::install_panic_hook(crash::reports_dir(&dir));
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
    let data = crash::data_dir().context("no data directory (set MANTRA_HOME or HOME)")?;
    let dir = crash::reports_dir(&data);
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
