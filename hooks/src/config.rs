//! The settings the hooks obey, with their documented defaults.
//!
//! Policy (`mantra-policy`) will fill this struct; until then the command
//! line builds it from defaults. Every field has a default so a machine
//! without policy is protected.

use std::collections::HashSet;
use std::path::PathBuf;

use mantra_core::os_log::OsLog;
use mantra_detect::finding::DEFAULT_FINGERPRINT_KEY;
use mantra_detect::Severity;
use serde::{Deserialize, Serialize};

/// What to do with AI assistant transcript files (Claude Code / Codex JSONL,
/// `.aider.chat.history.md`, `.specstory/history/*.md`, …) being committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TranscriptPolicy {
    /// Treat them like any other file.
    Never,
    /// Block them when they hold any secret, whatever its severity (default).
    #[default]
    WithSecrets,
    /// Block them always.
    Always,
}

/// Hook settings. Defaults: block at `medium` and above, block transcripts
/// holding secrets, fail closed on scanner errors, no bypass.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HookConfig {
    /// Findings at or above this severity block (default `medium`). Lower
    /// ones are shown as warnings. Exposed secrets block whatever this says.
    pub block_severity: Severity,
    /// AI transcript files (default `with-secrets`).
    pub block_ai_transcripts: TranscriptPolicy,
    /// Block when the scan cannot run (git or engine error). Default true.
    pub fail_closed: bool,
    /// Honour `MANTRA_BYPASS=reason` (audited). Default false.
    pub allow_bypass_env: bool,
    /// Hooks an admin requires (`pre-commit`, `pre-push`); `mantra hooks
    /// status` reports repositories where they would not run.
    pub required: Vec<String>,
    /// Key of the keyed fingerprints (organisation key); the published
    /// default otherwise. Must match the agent's to use its exposure list.
    #[serde(skip)]
    pub fingerprint_key: Vec<u8>,
    /// Honour repository-local suppressions: inline `mantra:allow` and
    /// `.mantra-baseline.json` at the repository root. Default true.
    pub honour_repo_config: bool,
    /// Secrets matching any of these regexes are not reported.
    pub allow_regexes: Vec<String>,
    /// Files matching any of these globs (repository-relative) are skipped.
    pub allow_paths: Vec<String>,
    /// Fingerprints accepted organisation-wide (an admin baseline).
    pub baseline_fingerprints: HashSet<String>,
    /// Where the agent's exposure list is (`<data_dir>/exposures.json`).
    pub exposure_list: Option<PathBuf>,
    /// The agent's session store (`<data_dir>/sessions.db`): when it exists
    /// the agent has indexed, so a missing exposure list is warned about.
    pub session_store: Option<PathBuf>,
    /// The compliance event log blocks and bypasses are written to
    /// (`<data_dir>/logs/audit.jsonl`, see `mantra_core::audit_log`).
    /// Without it a bypass is refused.
    pub audit_log: Option<PathBuf>,
    /// Where events are mirrored besides the file (the OS log). Set by
    /// the command line; `Off` by default so library tests never write
    /// to the machine's log.
    #[serde(skip)]
    pub os_log: OsLog,
    /// Shortest candidate token compared with the exposure list.
    pub exposure_min_token_len: usize,
}

impl std::fmt::Debug for HookConfig {
    // Hand-written: the fingerprint key is not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookConfig")
            .field("block_severity", &self.block_severity)
            .field("block_ai_transcripts", &self.block_ai_transcripts)
            .field("fail_closed", &self.fail_closed)
            .field("allow_bypass_env", &self.allow_bypass_env)
            .field("required", &self.required)
            .field("honour_repo_config", &self.honour_repo_config)
            .field("exposure_list", &self.exposure_list)
            .field("session_store", &self.session_store)
            .field("audit_log", &self.audit_log)
            .field("os_log", &self.os_log)
            .finish_non_exhaustive()
    }
}

impl Default for HookConfig {
    fn default() -> Self {
        Self {
            block_severity: Severity::Medium,
            block_ai_transcripts: TranscriptPolicy::WithSecrets,
            fail_closed: true,
            allow_bypass_env: false,
            required: vec!["pre-commit".into(), "pre-push".into()],
            fingerprint_key: DEFAULT_FINGERPRINT_KEY.to_vec(),
            honour_repo_config: true,
            allow_regexes: Vec::new(),
            allow_paths: Vec::new(),
            baseline_fingerprints: HashSet::new(),
            exposure_list: None,
            session_store: None,
            audit_log: None,
            os_log: OsLog::Off,
            exposure_min_token_len: 8,
        }
    }
}

/// Name of the repository baseline read when repository config is honoured.
pub const REPO_BASELINE_FILE: &str = ".mantra-baseline.json";
