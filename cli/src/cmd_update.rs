//! `mantra update check`: a thin wrapper over `mantra-update`, which holds
//! the only network code. Never installs anything.

use std::path::PathBuf;

use anyhow::{Context, Result};
use mantra_update::check::{check_for_update, CheckOptions, CheckOutcome};

use crate::settings::Settings;

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

pub fn run(settings: &Settings, cmd: &UpdateCmd) -> Result<u8> {
    let UpdateCmd::Check { json, download } = cmd;
    let opts = CheckOptions {
        download_dir: download.clone(),
        ..CheckOptions::for_this_build()
    };
    let outcome = check_for_update(settings.policy(), &opts).context("update check failed")?;
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
