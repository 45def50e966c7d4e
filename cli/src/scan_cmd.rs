//! `mantra scan`, `mantra redact` and `mantra baseline`.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use mantra_detect::baseline::Baseline;
use mantra_detect::walk::{self, FileOutcome, WalkOptions};
use mantra_detect::{Finding, JsonViews, ScanOptions, Scanner};

use crate::engine_setup::RuleArgs;
use crate::output;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JsonViewArg {
    Auto,
    Always,
    Never,
}

/// Options that decide what is scanned and how.
#[derive(Debug, Args)]
pub struct ScanInput {
    /// Files or directories to scan; `-` reads stdin.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Skip files that .gitignore/.ignore exclude (off by default: AI session
    /// stores live in hidden and ignored directories).
    #[arg(long)]
    pub respect_gitignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow: bool,
    /// Do not scan paths matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Worker threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Also scan decoded JSON string values: auto (JSON files), always, never.
    #[arg(long, value_enum, default_value_t = JsonViewArg::Auto)]
    pub json_views: JsonViewArg,
    /// Fingerprint secrets under this organisation key instead of the
    /// published default.
    #[arg(long, env = "MANTRA_FINGERPRINT_KEY", hide_env_values = true)]
    pub fingerprint_key: Option<String>,
    #[command(flatten)]
    pub rules: RuleArgs,
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

impl ScanInput {
    fn scan_options(&self) -> ScanOptions {
        let mut options = ScanOptions {
            json_views: match self.json_views {
                JsonViewArg::Auto => JsonViews::Auto,
                JsonViewArg::Always => JsonViews::Always,
                JsonViewArg::Never => JsonViews::Never,
            },
            ..ScanOptions::default()
        };
        if let Some(key) = &self.fingerprint_key {
            options.fingerprint_key = key.as_bytes().to_vec();
        }
        options
    }

    fn walk_options(&self) -> WalkOptions {
        WalkOptions {
            respect_gitignore: self.respect_gitignore,
            follow_symlinks: self.follow,
            threads: self.threads,
            exclude: self.exclude.clone(),
            max_file_size: None,
        }
    }
}

/// What a scan produced.
pub struct ScanResult {
    pub findings: Vec<Finding>,
    /// Files scanned, binary ones included.
    pub files: u64,
    /// Of those, binary files (scanned with the high-confidence rules only).
    pub binary: u64,
    /// Files not scanned (excluded by a path glob, over the size limit):
    /// counted so that the summary never reports fewer files than were
    /// found without saying why.
    pub skipped: u64,
    pub bytes: u64,
    pub errors: u64,
}

/// Scans every input, reporting unreadable files on stderr as it goes.
fn run_scan(scanner: &Scanner, input: &ScanInput) -> Result<ScanResult> {
    let result = Mutex::new(ScanResult {
        findings: Vec::new(),
        files: 0,
        binary: 0,
        skipped: 0,
        bytes: 0,
        errors: 0,
    });
    let record = |outcome: FileOutcome| {
        let Ok(mut r) = result.lock() else { return };
        match outcome {
            FileOutcome::Scanned {
                findings,
                bytes,
                binary,
                ..
            } => {
                r.files += 1;
                r.binary += u64::from(binary);
                r.bytes += bytes;
                r.findings.extend(findings);
            }
            FileOutcome::Skipped { path, reason } => {
                r.skipped += 1;
                tracing::info!(%path, %reason, "skipped");
            }
            FileOutcome::Failed { path, error } => {
                r.errors += 1;
                eprintln!("mantra: cannot scan {path}: {error}");
            }
        }
    };
    let (stdin, paths): (Vec<&PathBuf>, Vec<&PathBuf>) =
        input.paths.iter().partition(|p| p.as_os_str() == "-");
    if !stdin.is_empty() {
        let mut state = scanner.state()?;
        let findings = scanner
            .scan_reader(&mut state, std::io::stdin().lock(), "<stdin>")
            .context("cannot scan stdin")?;
        record(FileOutcome::Scanned {
            path: "<stdin>".into(),
            findings,
            bytes: 0,
            binary: false,
        });
    }
    // A path that does not resolve (missing, or a dangling link) is reported
    // and the others are still scanned.
    let (existing, missing): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.into_iter().cloned().partition(|p| p.exists());
    for p in missing {
        record(FileOutcome::Failed {
            path: p.display().to_string(),
            error: "no such file or directory".into(),
        });
    }
    walk::scan_paths(scanner, &existing, &input.walk_options(), record)?;
    let mut result = result
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a scanning thread panicked"))?;
    result.findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
    });
    Ok(result)
}

/// Builds the scanner from the effective policy and the command line. The
/// organisation's fingerprint key from policy wins over `--fingerprint-key`,
/// so that fingerprints match the organisation's baselines.
fn build_scanner(input: &mut ScanInput, mut options: ScanOptions) -> Result<Scanner> {
    let policy = crate::policy_cmd::effective().policy;
    let rules = input.rules.rule_set(&policy)?;
    let base = input.scan_options();
    options.json_views = base.json_views;
    options.fingerprint_key = base.fingerprint_key;
    options.engine_cache_dir = crate::paths::cache_dir();
    crate::engine_setup::apply_policy(&mut options, &policy);
    input.exclude.extend(policy.allowlist.paths.iter().cloned());
    Ok(Scanner::new(rules, input.rules.engine()?, options)?)
}

pub fn scan(args: ScanArgs) -> Result<u8> {
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
    let scanner = build_scanner(&mut input, options)?;
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
    write_output(args.out.as_deref(), report.as_bytes())?;
    output::summary(&result, started.elapsed(), scanner.engine());
    Ok(if !result.findings.is_empty() {
        1
    } else if result.errors > 0 {
        2
    } else {
        0
    })
}

/// Writes to a file atomically (temp file + rename), or to stdout.
pub fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .context("cannot write to stdout")
        }
        Some(path) => write_atomic(path, bytes),
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// Writes `path` through a temporary file beside it, renamed over it once
/// `write` succeeded and the data is synced: the old file stays whole until
/// then (also when it is the file being read, as with `redact f -o f`).
fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    write(tmp.as_file_mut())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

pub fn redact(args: RedactArgs) -> Result<u8> {
    let mut input = ScanInput {
        paths: vec![args.path.clone()],
        respect_gitignore: false,
        follow: false,
        exclude: vec![],
        threads: 1,
        json_views: JsonViewArg::Auto,
        fingerprint_key: None,
        rules: args.rules.clone(),
    };
    let scanner = build_scanner(&mut input, ScanOptions::default())?;
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
    use std::io::Seek;
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
            write_atomic_with(path, |out| {
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

pub fn baseline(cmd: BaselineCommand) -> Result<u8> {
    match cmd {
        BaselineCommand::Create { mut input, out } => {
            let scanner = build_scanner(&mut input, ScanOptions::default())?;
            let result = run_scan(&scanner, &input)?;
            if result.errors > 0 {
                bail!(
                    "{} file(s) could not be scanned; baseline not written",
                    result.errors
                );
            }
            let baseline = Baseline::from_findings(&result.findings);
            write_atomic(&out, baseline.to_json().as_bytes())?;
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
