//! `mantra scan`: report the secrets in files, directories or stdin.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use mantra_detect::baseline::Baseline;
use mantra_detect::ScanOptions;

use crate::out_file::{self, Access};
use crate::output;
use crate::scanning::{build_scanner, run_scan, ScanInput};
use crate::settings::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Sarif,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: ScanInput,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Suppress secrets whose fingerprints are in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Print secrets in clear. Never use this where output is logged.
    #[arg(long)]
    pub show_secrets: bool,
    /// Ignore `mantra:allow` markers.
    #[arg(long)]
    pub no_inline_allow: bool,
}

pub fn run(settings: &Settings, args: ScanArgs) -> Result<u8> {
    let started = Instant::now();
    let mut options = ScanOptions {
        reveal_secrets: args.show_secrets,
        inline_allow: !args.no_inline_allow,
        ..ScanOptions::default()
    };
    if let Some(path) = &args.baseline {
        // A baseline holds one 64-character fingerprint per accepted
        // secret: 64 MiB is a million of them.
        let text = mantra_core::fsio::read_to_string(path, 64 * 1024 * 1024)
            .with_context(|| format!("cannot read baseline {}", path.display()))?;
        let baseline =
            Baseline::parse(&text).with_context(|| format!("baseline {}", path.display()))?;
        options.baseline = baseline.fingerprints();
    }
    let mut input = args.input;
    let scanner = build_scanner(settings, &mut input, options)?;
    let result = run_scan(&scanner, &input)?;
    let report = match args.format {
        Format::Human => output::human(&result.findings, args.show_secrets),
        Format::Json => mantra_detect::report::to_json(&result.findings),
        Format::Jsonl => mantra_detect::report::to_jsonl(&result.findings),
        Format::Sarif => mantra_detect::report::to_sarif(
            &result.findings,
            scanner.rules(),
            env!("CARGO_PKG_VERSION"),
        ),
    };
    out_file::write_output(args.out.as_deref(), report.as_bytes(), Access::Owner)?;
    output::summary(&result, started.elapsed(), scanner.engine());
    Ok(if !result.findings.is_empty() {
        1
    } else if result.errors > 0 {
        2
    } else {
        0
    })
}
