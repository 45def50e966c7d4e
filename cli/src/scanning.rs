//! What `scan`, `redact` and `baseline create` share: the input options,
//! building the scanner from settings and the command line, scanning every
//! input.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use mantra_detect::walk::{self, FileOutcome, WalkOptions};
use mantra_detect::{Finding, JsonViews, ScanOptions, Scanner};

use crate::rule_args::RuleArgs;
use crate::settings::Settings;

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

impl ScanInput {
    /// The options of one input given on the command line (`redact FILE`).
    pub fn single(path: PathBuf, rules: RuleArgs) -> ScanInput {
        ScanInput {
            paths: vec![path],
            respect_gitignore: false,
            follow: false,
            exclude: vec![],
            threads: 1,
            json_views: JsonViewArg::Auto,
            fingerprint_key: None,
            rules,
        }
    }

    fn json_views(&self) -> JsonViews {
        match self.json_views {
            JsonViewArg::Auto => JsonViews::Auto,
            JsonViewArg::Always => JsonViews::Always,
            JsonViewArg::Never => JsonViews::Never,
        }
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
pub fn run_scan(scanner: &Scanner, input: &ScanInput) -> Result<ScanResult> {
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

/// Builds the scanner from the settings and the command line. The
/// organisation's fingerprint key from policy wins over `--fingerprint-key`,
/// so that fingerprints match the organisation's baselines; the policy's
/// allowlisted paths join `--exclude`.
pub fn build_scanner(
    settings: &Settings,
    input: &mut ScanInput,
    mut options: ScanOptions,
) -> Result<Scanner> {
    let rules = input.rules.rule_set(settings)?;
    let policy = settings.scan_options();
    options.json_views = input.json_views();
    options.fingerprint_key = match (&settings.policy().fingerprint_key, &input.fingerprint_key) {
        (Some(org), _) if !org.is_empty() => org.as_bytes().to_vec(),
        (_, Some(flag)) => flag.as_bytes().to_vec(),
        _ => policy.fingerprint_key,
    };
    options.engine_cache_dir = policy.engine_cache_dir;
    options.allow_regexes.extend(policy.allow_regexes);
    input
        .exclude
        .extend(settings.policy().allowlist.paths.iter().cloned());
    Ok(Scanner::new(rules, input.rules.engine()?, options)?)
}
