//! `mantra baseline create`: record the secrets a team accepts, by
//! fingerprint, so later scans report only new ones.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Subcommand;
use mantra_detect::baseline::Baseline;
use mantra_detect::ScanOptions;

use crate::out_file::{self, Access};
use crate::scanning::{build_scanner, run_scan, ScanInput};
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan and write every finding's fingerprint to a baseline file.
    Create {
        #[command(flatten)]
        input: ScanInput,
        /// Baseline file to write.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: PathBuf,
    },
}

pub fn run(settings: &Settings, cmd: BaselineCommand) -> Result<u8> {
    match cmd {
        BaselineCommand::Create { mut input, out } => {
            let scanner = build_scanner(settings, &mut input, ScanOptions::default())?;
            let result = run_scan(&scanner, &input)?;
            if result.errors > 0 {
                bail!(
                    "{} file(s) could not be scanned; baseline not written",
                    result.errors
                );
            }
            let baseline = Baseline::from_findings(&result.findings);
            out_file::write_atomic(&out, baseline.to_json().as_bytes(), Access::Owner)?;
            let unique: HashSet<&str> = result
                .findings
                .iter()
                .map(|f| f.fingerprint.as_str())
                .collect();
            eprintln!(
                "mantra: wrote {} fingerprint(s) to {}",
                unique.len(),
                out.display()
            );
            Ok(0)
        }
    }
}
