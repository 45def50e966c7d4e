//! `mantra crash-reports list|upload`: the crash reports kept on this
//! machine, uploaded only when policy allows.

use anyhow::{Context, Result};
use mantra_update::crash;

use crate::settings::Settings;

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

pub fn run(settings: &Settings, cmd: &CrashCmd) -> Result<u8> {
    let dir = settings.data_dir()?.crash_reports_dir();
    match cmd {
        CrashCmd::List => {
            for p in crash::pending(&dir) {
                println!("{}", p.display());
            }
        }
        CrashCmd::Upload { json } => {
            let out = crash::upload_pending(settings.policy(), &dir)
                .context("uploading crash reports")?;
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
