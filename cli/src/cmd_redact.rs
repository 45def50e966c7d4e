//! `mantra redact`: a copy of a file with every secret replaced by
//! `[REDACTED:rule-id]`.

use std::io::Seek;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use mantra_detect::ScanOptions;

use crate::out_file::{self, Access};
use crate::rule_args::RuleArgs;
use crate::scanning::{build_scanner, ScanInput};
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// File to redact (`-` for stdin).
    pub path: PathBuf,
    /// Where to write the redacted copy (default: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
}

pub fn run(settings: &Settings, args: RedactArgs) -> Result<u8> {
    let mut input = ScanInput::single(args.path.clone(), args.rules.clone());
    let scanner = build_scanner(settings, &mut input, ScanOptions::default())?;
    let mut state = scanner.state()?;
    // Streamed twice, never held whole: once to find the secrets (in
    // bounded chunks), once to copy it with them replaced. Standard input
    // cannot be read twice, so it is spooled to an unnamed temporary file
    // (0600, gone when closed, never visible by name).
    let (mut file, display) = if args.path.as_os_str() == "-" {
        let mut spool = tempfile::tempfile().context("cannot create a temporary file")?;
        std::io::copy(&mut std::io::stdin().lock(), &mut spool).context("cannot read stdin")?;
        (spool, "<stdin>".to_string())
    } else {
        let display = args.path.display().to_string();
        let file = mantra_core::fsio::open_file(&args.path)?;
        (file, display)
    };
    file.rewind()
        .with_context(|| format!("cannot read {display}"))?;
    let findings = scanner.scan_reader(&mut state, &file, &display)?;
    file.rewind()
        .with_context(|| format!("cannot read {display}"))?;
    let input = std::io::BufReader::with_capacity(256 * 1024, file);
    let count = match args.out.as_deref() {
        None => {
            let out = std::io::BufWriter::new(std::io::stdout().lock());
            mantra_detect::redact::redact_stream(input, out, &findings)
                .context("cannot write to stdout")?
        }
        Some(path) => {
            let mut count = 0;
            out_file::write_atomic_with(path, Access::Owner, |out| {
                count = mantra_detect::redact::redact_stream(
                    input,
                    std::io::BufWriter::new(out),
                    &findings,
                )?;
                Ok(())
            })?;
            count
        }
    };
    eprintln!("mantra: redacted {count} secret(s) in {display}");
    Ok(0)
}
