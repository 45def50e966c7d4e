//! Scanning added lines and deciding what blocks.
//!
//! Each file's added lines are joined into one buffer (with a map back to
//! their line numbers) and scanned by the detection engine, so findings are
//! reported at their line in the new version of the file. Every added line
//! is also cut into candidate tokens whose keyed fingerprints are looked up
//! in the agent's exposure list: an exposed secret no rule matches (a
//! password pasted into a session) is still caught.
//!
//! Suppression: the engine applies inline `mantra:allow`, the baselines and
//! the allow regexes to rule findings. Exposed secrets ignore inline markers
//! (a developer cannot wave through a key an AI session saw) and honour only
//! baselines, which are reviewed.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use mantra_detect::baseline::Baseline;
use mantra_detect::exposure::{candidate_fingerprints, Exposure, ExposureList};
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
    /// Non-fatal problems (unreadable exposure list, …).
    pub notes: Vec<String>,
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
    exposures: HashMap<String, Exposure>,
    baseline: HashSet<String>,
    allow_paths: GlobSet,
    notes: Vec<String>,
}

impl Checker {
    /// Builds the checker for a repository rooted at `repo_root`: loads the
    /// repository baseline (when repository config is honoured) and the
    /// exposure list (a missing list is normal; an unreadable one or one
    /// made under another key is noted and skipped).
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
                match std::fs::read_to_string(&path) {
                    Ok(text) => match Baseline::parse(&text) {
                        Ok(b) => baseline.extend(b.entries.into_iter().map(|e| e.fingerprint)),
                        Err(e) => notes.push(format!("{REPO_BASELINE_FILE} ignored: {e}")),
                    },
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
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
        let exposures = load_exposures(&config, &mut notes);
        Ok(Self {
            scanner,
            config,
            exposures,
            baseline,
            allow_paths,
            notes,
        })
    }

    pub fn config(&self) -> &HookConfig {
        &self.config
    }

    pub fn exposure_count(&self) -> usize {
        self.exposures.len()
    }

    /// Checks the added lines of `files`. `all_paths` lists every changed
    /// file (binary ones too) for `block_ai_transcripts: always`.
    pub fn check(
        &self,
        files: &[FileAdditions],
        all_paths: &[(Option<String>, String)],
    ) -> Result<Outcome, CheckError> {
        let mut outcome = Outcome {
            notes: self.notes.clone(),
            ..Outcome::default()
        };
        let mut state = self
            .scanner
            .state()
            .map_err(|e| CheckError::Engine(e.to_string()))?;
        for file in files {
            if self.allow_paths.is_match(&file.path) {
                continue;
            }
            outcome.files += 1;
            outcome.lines += file.lines.len();
            self.check_file(&mut state, file, &mut outcome)?;
        }
        if self.config.block_ai_transcripts == TranscriptPolicy::Always {
            let mut seen = HashSet::new();
            for (commit, path) in all_paths {
                if is_ai_transcript(path)
                    && !self.allow_paths.is_match(path)
                    && seen.insert((commit.clone(), path.clone()))
                {
                    outcome.transcripts.push(TranscriptFile {
                        commit: commit.clone(),
                        path: path.clone(),
                    });
                }
            }
        }
        Ok(outcome)
    }

    fn check_file(
        &self,
        state: &mut ScanState,
        file: &FileAdditions,
        outcome: &mut Outcome,
    ) -> Result<(), CheckError> {
        let transcript = is_ai_transcript(&file.path)
            || file
                .lines
                .first()
                .is_some_and(|l| l.line == 1 && looks_like_transcript(&file.path, &l.text));
        let transcript_blocks =
            transcript && self.config.block_ai_transcripts != TranscriptPolicy::Never;
        // Join the added lines; line i of the buffer is file.lines[i].
        let mut buffer = Vec::new();
        for l in &file.lines {
            buffer.extend_from_slice(&l.text);
            buffer.push(b'\n');
        }
        let findings = self
            .scanner
            .scan_bytes(state, &buffer, &file.path)
            .map_err(|e| CheckError::Scan {
                path: file.path.clone(),
                message: e.to_string(),
            })?;
        let mut reported: HashSet<(u64, String)> = HashSet::new();
        for f in findings {
            let Some(added) = usize::try_from(f.line)
                .ok()
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| file.lines.get(i))
            else {
                continue;
            };
            let exposure = self.exposures.get(&f.fingerprint).cloned();
            let blocks =
                exposure.is_some() || f.severity >= self.config.block_severity || transcript_blocks;
            reported.insert((added.line, f.fingerprint.clone()));
            outcome.hits.push(Hit {
                commit: file.commit.clone(),
                path: file.path.clone(),
                line: added.line,
                column: f.column,
                rule_id: f.rule_id,
                rule_name: f.rule_name,
                severity: Some(f.severity),
                redacted: f.redacted,
                fingerprint: f.fingerprint,
                exposure,
                in_transcript: transcript,
                blocks,
            });
        }
        if self.exposures.is_empty() {
            return Ok(());
        }
        for added in &file.lines {
            for (token, fp) in candidate_fingerprints(
                &self.config.fingerprint_key,
                &added.text,
                self.config.exposure_min_token_len,
            ) {
                let Some(exposure) = self.exposures.get(&fp) else {
                    continue;
                };
                if self.baseline.contains(&fp) || !reported.insert((added.line, fp.clone())) {
                    continue;
                }
                let offset = (token.as_ptr() as usize).saturating_sub(added.text.as_ptr() as usize);
                let column = char_count(&added.text[..offset.min(added.text.len())]) + 1;
                outcome.hits.push(Hit {
                    commit: file.commit.clone(),
                    path: file.path.clone(),
                    line: added.line,
                    column,
                    rule_id: exposure.rule_id.clone(),
                    rule_name: "secret exposed in an AI session".into(),
                    severity: None,
                    redacted: exposure.redacted.clone(),
                    fingerprint: fp,
                    exposure: Some(exposure.clone()),
                    in_transcript: transcript,
                    blocks: true,
                });
            }
        }
        Ok(())
    }
}

fn char_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

fn load_exposures(config: &HookConfig, notes: &mut Vec<String>) -> HashMap<String, Exposure> {
    let Some(path) = &config.exposure_list else {
        return HashMap::new();
    };
    if !path.exists() {
        return HashMap::new();
    }
    match ExposureList::read(path) {
        Ok(list) if list.made_with(&config.fingerprint_key) => list
            .exposures
            .into_iter()
            .map(|e| (e.fingerprint.clone(), e))
            .collect(),
        Ok(_) => {
            notes.push(format!(
                "the exposure list {} was made under another fingerprint key; AI-session exposure is not checked",
                path.display()
            ));
            HashMap::new()
        }
        Err(e) => {
            notes.push(format!("{e}; AI-session exposure is not checked"));
            HashMap::new()
        }
    }
}
