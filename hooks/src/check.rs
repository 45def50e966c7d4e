//! Scanning added lines and deciding what blocks.
//!
//! Each file's added lines are joined into one buffer (with a map back to
//! their line numbers) and scanned by the detection engine, so findings are
//! reported at their line in the new version of the file. Every added line
//! is also cut into candidate tokens whose keyed fingerprints are looked up
//! in the agent's exposure list: an exposed secret no rule matches (a
//! password pasted into a session) is still caught.
//!
//! Binary content (see `mantra_detect::walk::ContentKind`) is scanned too:
//! with the high-confidence rules (every rule but the generic ones) and
//! against the exposure list. Nothing is skipped for holding NUL bytes.
//!
//! The exposure list is kept as fingerprints only; the details of the
//! secrets a change holds are read at the end, in a second pass.
//!
//! Suppression: the engine applies inline `mantra:allow`, the baselines and
//! the allow regexes to rule findings. Exposed secrets ignore inline markers
//! (a developer cannot wave through a key an AI session saw) and honour only
//! baselines, which are reviewed.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use mantra_core::exposure::{candidate_fingerprints, Exposure, ExposureError, ExposureIndex};
use mantra_detect::baseline::Baseline;
use mantra_detect::walk::{content_kind, ContentKind};
use mantra_detect::{EngineKind, RuleSet, ScanOptions, ScanState, Scanner, Severity};

use crate::config::{HookConfig, TranscriptPolicy, REPO_BASELINE_FILE};
use crate::diff::FileAdditions;
use crate::transcript::{is_ai_transcript, looks_like_transcript};

/// Errors preparing or running a check.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("invalid allow regex {0:?}: {1}")]
    AllowRegex(String, String),
    #[error("invalid allowed path glob {0:?}: {1}")]
    AllowPath(String, String),
    #[error("cannot start the detection engine: {0}")]
    Engine(String),
    #[error("scan failed on {path}: {message}")]
    Scan { path: String, message: String },
    /// The exposure list cannot be used and policy is fail-closed.
    #[error("{0}; secrets exposed in AI sessions cannot be recognised.\nmantra: fix: run `mantra index` (it rewrites the exposure list under the current key)")]
    ExposureList(String),
}

/// One secret found in what is committed or pushed.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The commit it is in (pre-push), `None` when staged.
    pub commit: Option<String>,
    pub path: String,
    pub line: u64,
    pub column: u64,
    pub rule_id: String,
    pub rule_name: String,
    /// `None` when only the exposure list knows it.
    pub severity: Option<Severity>,
    pub redacted: String,
    pub fingerprint: String,
    /// The AI sessions it was exposed in, when it is in the exposure list.
    pub exposure: Option<Exposure>,
    /// It is inside an AI transcript file.
    pub in_transcript: bool,
    /// It blocks (otherwise it is a warning).
    pub blocks: bool,
}

/// An AI transcript file blocked by `block_ai_transcripts: always`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptFile {
    pub commit: Option<String>,
    pub path: String,
}

/// The result of checking a set of changes.
#[derive(Debug, Default)]
pub struct Outcome {
    pub hits: Vec<Hit>,
    pub transcripts: Vec<TranscriptFile>,
    pub files: usize,
    pub lines: usize,
    /// Remarks that do not weaken the check.
    pub notes: Vec<String>,
    /// What weakens the check without stopping it (fail-open): shown as
    /// `mantra: warning: …`.
    pub warnings: Vec<String>,
    /// Files scanned as binary content (high-confidence rules only).
    pub binary_files: usize,
}

impl Outcome {
    pub fn blocked(&self) -> bool {
        !self.transcripts.is_empty() || self.hits.iter().any(|h| h.blocks)
    }
}

/// The scanner and everything a check compares against.
pub struct Checker {
    scanner: Scanner,
    config: HookConfig,
    exposures: Option<ExposureIndex>,
    baseline: HashSet<String>,
    allow_paths: GlobSet,
    notes: Vec<String>,
    warnings: Vec<String>,
}

impl Checker {
    /// Builds the checker for a repository rooted at `repo_root`: loads the
    /// repository baseline (when repository config is honoured) and the
    /// exposure list. A list that cannot be used (unreadable, not a regular
    /// file, too large, damaged, made under another key) is an error when
    /// policy is fail-closed and a warning otherwise; a missing one is
    /// silent until the agent has indexed sessions, a warning after (see
    /// docs/hooks.md).
    pub fn new(
        config: HookConfig,
        rules: Arc<RuleSet>,
        engine: EngineKind,
        engine_cache_dir: Option<&Path>,
        repo_root: Option<&Path>,
    ) -> Result<Self, CheckError> {
        let mut notes = Vec::new();
        let mut baseline = config.baseline_fingerprints.clone();
        if config.honour_repo_config {
            if let Some(root) = repo_root {
                let path = root.join(REPO_BASELINE_FILE);
                // Read at every commit: bounded, and a FIFO or device in
                // its place is refused instead of hanging `git commit`.
                match mantra_core::fsio::read_to_string(&path, 64 * 1024 * 1024) {
                    Ok(text) => match Baseline::parse(&text) {
                        Ok(b) => baseline.extend(b.entries.into_iter().map(|e| e.fingerprint)),
                        Err(e) => notes.push(format!("{REPO_BASELINE_FILE} ignored: {e}")),
                    },
                    Err(e) if e.is_not_found() => {}
                    Err(e) => notes.push(format!("{REPO_BASELINE_FILE} unreadable: {e}")),
                }
            }
        }
        let mut allow_regexes = Vec::new();
        for r in &config.allow_regexes {
            allow_regexes.push(
                regex::bytes::Regex::new(r)
                    .map_err(|e| CheckError::AllowRegex(r.clone(), e.to_string()))?,
            );
        }
        let mut globs = GlobSetBuilder::new();
        for g in &config.allow_paths {
            globs.add(Glob::new(g).map_err(|e| CheckError::AllowPath(g.clone(), e.to_string()))?);
        }
        let allow_paths = globs
            .build()
            .map_err(|e| CheckError::AllowPath(String::new(), e.to_string()))?;
        let options = ScanOptions {
            fingerprint_key: config.fingerprint_key.clone(),
            inline_allow: config.honour_repo_config,
            allow_regexes,
            baseline: baseline.clone(),
            engine_cache_dir: engine_cache_dir.map(Path::to_path_buf),
            ..ScanOptions::default()
        };
        let scanner =
            Scanner::new(rules, engine, options).map_err(|e| CheckError::Engine(e.to_string()))?;
        let mut warnings = Vec::new();
        let exposures = match load_exposures(&config) {
            Ok((index, warning)) => {
                warnings.extend(warning);
                index
            }
            Err(problem) if config.fail_closed => return Err(CheckError::ExposureList(problem)),
            Err(problem) => {
                warnings.push(format!(
                    "{problem}; secrets exposed in AI sessions are not recognised (policy is fail-open). Fix: run `mantra index`"
                ));
                None
            }
        };
        Ok(Self {
            scanner,
            config,
            exposures,
            baseline,
            allow_paths,
            notes,
            warnings,
        })
    }

    pub fn config(&self) -> &HookConfig {
        &self.config
    }

    pub fn exposure_count(&self) -> usize {
        self.exposures.as_ref().map_or(0, ExposureIndex::len)
    }

    /// Starts checking a change; files are then given one at a time
    /// ([`CheckRun::file`]) as git's diff is read.
    pub fn begin(&self) -> Result<CheckRun<'_>, CheckError> {
        let state = self
            .scanner
            .state()
            .map_err(|e| CheckError::Engine(e.to_string()))?;
        Ok(CheckRun {
            checker: self,
            state,
            outcome: Outcome {
                notes: self.notes.clone(),
                warnings: self.warnings.clone(),
                ..Outcome::default()
            },
            exposed: HashSet::new(),
        })
    }

    /// Checks the added lines of `files` (all in memory). `all_paths`
    /// lists every changed file for `block_ai_transcripts: always`.
    pub fn check(
        &self,
        files: Vec<FileAdditions>,
        all_paths: &[(Option<String>, String)],
    ) -> Result<Outcome, CheckError> {
        let mut run = self.begin()?;
        for f in files {
            run.file(f)?;
        }
        run.finish(all_paths)
    }
}

/// One check in progress: the scanner's state, the outcome so far and the
/// fingerprints found in the exposure list.
pub struct CheckRun<'a> {
    checker: &'a Checker,
    state: ScanState,
    outcome: Outcome,
    exposed: HashSet<String>,
}

impl CheckRun<'_> {
    /// Checks one file's added lines, then lets them go.
    pub fn file(&mut self, file: FileAdditions) -> Result<(), CheckError> {
        let checker = self.checker;
        if checker.allow_paths.is_match(&file.path) {
            return Ok(());
        }
        self.outcome.files += 1;
        self.outcome.lines += file.line_count();
        let transcript = is_ai_transcript(&file.path)
            || file
                .lines()
                .next()
                .is_some_and(|(n, l)| n == 1 && looks_like_transcript(&file.path, l));
        let transcript_blocks =
            transcript && checker.config.block_ai_transcripts != TranscriptPolicy::Never;
        let mut findings = checker
            .scanner
            .scan_bytes(&mut self.state, &file.text, &file.path)
            .map_err(|e| CheckError::Scan {
                path: file.path.clone(),
                message: e.to_string(),
            })?;
        if content_kind(&file.text) == ContentKind::Binary {
            self.outcome.binary_files += 1;
            checker.scanner.keep_high_confidence(&mut findings);
        }
        let mut reported: HashSet<(u64, String)> = HashSet::new();
        for f in findings {
            let Some(line) = f.line.checked_sub(1).and_then(|i| file.new_line(i)) else {
                continue;
            };
            let exposed = checker
                .exposures
                .as_ref()
                .is_some_and(|x| x.contains(&f.fingerprint));
            if exposed {
                self.exposed.insert(f.fingerprint.clone());
            }
            let blocks =
                exposed || f.severity >= checker.config.block_severity || transcript_blocks;
            reported.insert((line, f.fingerprint.clone()));
            self.outcome.hits.push(Hit {
                commit: file.commit.clone(),
                path: file.path.clone(),
                line,
                column: f.column,
                rule_id: f.rule_id,
                rule_name: f.rule_name,
                severity: Some(f.severity),
                redacted: f.redacted,
                fingerprint: f.fingerprint,
                exposure: None,
                in_transcript: transcript,
                blocks,
            });
        }
        let Some(index) = checker.exposures.as_ref().filter(|x| !x.is_empty()) else {
            return Ok(());
        };
        for (line, text) in file.lines() {
            for (token, fp) in candidate_fingerprints(
                &checker.config.fingerprint_key,
                text,
                checker.config.exposure_min_token_len,
            ) {
                if !index.contains(&fp)
                    || checker.baseline.contains(&fp)
                    || !reported.insert((line, fp.clone()))
                {
                    continue;
                }
                self.exposed.insert(fp.clone());
                let offset = (token.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                let column = char_count(&text[..offset.min(text.len())]) + 1;
                self.outcome.hits.push(Hit {
                    commit: file.commit.clone(),
                    path: file.path.clone(),
                    line,
                    column,
                    // Replaced by the list's entry in `finish`.
                    rule_id: "exposed-secret".into(),
                    rule_name: "secret exposed in an AI session".into(),
                    severity: None,
                    redacted: mantra_detect::finding::redact(&String::from_utf8_lossy(token)),
                    fingerprint: fp,
                    exposure: None,
                    in_transcript: transcript,
                    blocks: true,
                });
            }
        }
        Ok(())
    }

    /// Reads the details of the exposed secrets found, applies
    /// `block_ai_transcripts: always` to `all_paths`, and returns the
    /// outcome.
    pub fn finish(mut self, all_paths: &[(Option<String>, String)]) -> Result<Outcome, CheckError> {
        let checker = self.checker;
        if let Some(index) = &checker.exposures {
            let details = index
                .details(&self.exposed)
                .map_err(|e| CheckError::ExposureList(e.to_string()))?;
            for hit in &mut self.outcome.hits {
                let Some(exposure) = details.get(&hit.fingerprint) else {
                    continue;
                };
                if hit.severity.is_none() {
                    hit.rule_id = exposure.rule_id.clone();
                    hit.redacted = exposure.redacted.clone();
                }
                hit.exposure = Some(exposure.clone());
            }
        }
        if checker.config.block_ai_transcripts == TranscriptPolicy::Always {
            let mut seen = HashSet::new();
            for (commit, path) in all_paths {
                if is_ai_transcript(path)
                    && !checker.allow_paths.is_match(path)
                    && seen.insert((commit.clone(), path.clone()))
                {
                    self.outcome.transcripts.push(TranscriptFile {
                        commit: commit.clone(),
                        path: path.clone(),
                    });
                }
            }
        }
        Ok(self.outcome)
    }
}

fn char_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

/// Loads the exposure list: the index and a warning, or what makes it
/// unusable.
fn load_exposures(config: &HookConfig) -> Result<(Option<ExposureIndex>, Option<String>), String> {
    let Some(path) = &config.exposure_list else {
        return Ok((None, None));
    };
    match ExposureIndex::open(path) {
        Ok(index) if index.made_with(&config.fingerprint_key) => Ok((Some(index), None)),
        Ok(_) => Err(format!(
            "the exposure list {} was made under another fingerprint key",
            path.display()
        )),
        Err(ExposureError::Input(e)) if e.is_not_found() => {
            // The agent writes the list after its first index: before that
            // there is nothing to compare with. After it, a missing list
            // means exposed secrets go unrecognised: said, not blocked (the
            // first index of a large home takes minutes, and the store
            // exists from its start).
            let indexed = config.session_store.as_deref().is_some_and(Path::exists);
            Ok((
                None,
                indexed.then(|| {
                    format!(
                        "the exposure list {} is missing although sessions are indexed; secrets exposed in AI sessions are not recognised. Fix: run `mantra index`",
                        path.display()
                    )
                }),
            ))
        }
        Err(e) => Err(e.to_string()),
    }
}
