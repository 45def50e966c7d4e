//! The compliance report of `mantra audit`: what every output format is
//! rendered from, and the `--format json` document itself.
//!
//! Field names are stable; `schema_version` changes when one is renamed or
//! removed (adding a field does not change it). Times are RFC 3339 UTC.
//! Nothing here holds a secret or a session's message text: secrets appear
//! as rule, severity, redacted preview and keyed fingerprint.

use mantra_agent::store::stats::{FindingRecord, GroupCount};
use mantra_core::audit_log::{DeleteTarget, LoggedSecret};
use serde::Serialize;

/// Version of this document's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditReport {
    pub schema_version: u32,
    pub generated_at: String,
    pub period: ReportPeriod,
    pub host: Host,
    pub policy: PolicySummary,
    /// Pass/warning/fail checks (hooks coverage, encryption, …).
    pub checks: Vec<ComplianceCheck>,
    pub hooks: HooksCoverage,
    pub store: StoreSummary,
    pub sessions: SessionSummary,
    pub findings: FindingSummary,
    pub exposures: ExposureSummary,
    pub git: GitSummary,
    pub retention: RetentionSummary,
    pub deletions: Vec<Deletion>,
    pub wipes: Vec<Wipe>,
    pub index_runs: IndexRuns,
    pub event_log: EventLogSummary,
}

/// The period covered: `since` (absent: from the beginning) to `until`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReportPeriod {
    pub since: Option<String>,
    pub until: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Host {
    pub hostname: String,
    pub user: Option<String>,
    /// `linux`, `macos`, `windows`.
    pub os: String,
    pub mantra_version: String,
}

/// The effective policy and where it came from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicySummary {
    /// Every source read, weakest first (`policy_file /etc/mantra/policy.yaml`).
    pub sources: Vec<String>,
    /// Every key's effective value (sensitive values are placeholders).
    pub settings: Vec<PolicySetting>,
    /// Unknown keys, invalid values and unreadable sources.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySetting {
    pub key: String,
    pub value: serde_json::Value,
    /// `default`, `recommended`, `user`, `mandatory`.
    pub level: String,
    pub source: String,
    pub origin: Option<String>,
}

/// `pass`, `warning` or `fail` (OCSF compliance status 1, 2, 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Warning,
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warning => "warning",
            CheckStatus::Fail => "fail",
        }
    }
}

/// One compliance check.
#[derive(Debug, Clone, Serialize)]
pub struct ComplianceCheck {
    /// Stable control id, e.g. `MANTRA-HOOKS-01`.
    pub control: String,
    pub title: String,
    pub status: CheckStatus,
    pub detail: String,
}

/// Required hooks against what is installed at global and system scope.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HooksCoverage {
    pub required: Vec<String>,
    pub scopes: Vec<ScopeCoverage>,
    /// Every required hook is Mantra's, executable, at global or system scope.
    pub covered: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScopeCoverage {
    /// `global` or `system`.
    pub scope: String,
    pub hooks_path: Option<String>,
    pub hooks: Vec<HookCoverage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HookCoverage {
    pub name: String,
    /// `ok`, `missing`, `not-executable`, `not-mantra`.
    pub state: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreSummary {
    /// A session store exists (a fresh machine has none yet).
    pub present: bool,
    pub path: String,
    /// The store opened as an encrypted (SQLCipher) database.
    pub encrypted: bool,
}

/// Sessions whose last activity falls in the period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionSummary {
    pub total: u64,
    pub by_assistant: Vec<GroupCount>,
    /// `key` is null for sessions without a project.
    pub by_project: Vec<GroupCount>,
}

/// Findings in messages of the period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingSummary {
    pub total: u64,
    pub by_severity: Vec<GroupCount>,
    pub by_rule: Vec<GroupCount>,
    pub by_assistant: Vec<GroupCount>,
    pub by_project: Vec<GroupCount>,
    /// `key` is the UTC day `YYYY-MM-DD`, in date order.
    pub by_day: Vec<GroupCount>,
    pub items: Vec<FindingRecord>,
}

/// Secrets exposed in AI sessions, and whether they reached git.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExposureSummary {
    /// Distinct secrets (fingerprints).
    pub secrets: u64,
    /// Distinct sessions holding at least one.
    pub sessions: u64,
    pub items: Vec<ExposedSecret>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExposedSecret {
    /// The store's record of it (flattened: same JSON fields).
    #[serde(flatten)]
    pub record: mantra_agent::store::stats::ExposureRecord,
    /// Hook blocks of this secret in the period.
    pub blocked: u64,
    /// Bypasses that let this secret into a commit or push.
    pub bypassed: u64,
}

/// Hook blocks and bypasses from the event log.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GitSummary {
    pub blocks: u64,
    /// Blocks that stopped at least one secret exposed in a session.
    pub blocks_of_exposed: u64,
    pub bypasses: u64,
    /// Bypasses that let at least one secret through.
    pub bypasses_with_secrets: u64,
    /// Bypasses that let at least one exposed secret through.
    pub bypasses_of_exposed: u64,
    /// Bypass records of older Mantra versions that let nothing through
    /// (`would_block: false`): not counted as bypasses. Newer versions do
    /// not record an unneeded bypass.
    pub unneeded_bypasses: u64,
    /// A secret exposed in a session reached a commit or push (by bypass).
    pub exposed_secret_reached_git: bool,
    pub events: Vec<GitEvent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GitEvent {
    pub time: String,
    /// `block` or `bypass`.
    pub kind: String,
    pub hook: String,
    pub repo: String,
    pub user: Option<String>,
    /// The developer's reason, for a bypass.
    pub reason: Option<String>,
    pub secrets: Vec<LoggedSecret>,
    pub transcripts: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RetentionSummary {
    /// `agent.retention_days` in force; absent: sessions are kept.
    pub days: Option<u32>,
    /// Index runs that applied it in the period.
    pub runs: u64,
    pub sessions_removed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deletion {
    pub time: String,
    pub user: Option<String>,
    pub target: DeleteTarget,
    pub sessions: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Wipe {
    pub time: String,
    pub user: Option<String>,
    pub items: u64,
    pub key_removed: bool,
    /// The event log before it was erased (policy
    /// `logging.wipe_erases_trail`).
    pub trail_erased: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexRuns {
    pub runs: u64,
    pub files_indexed: u64,
    pub messages: u64,
    pub findings: u64,
    pub last: Option<String>,
}

/// The compliance event log the git and lifecycle sections come from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventLogSummary {
    pub path: String,
    /// Records in the period.
    pub records: u64,
    /// Lines that could not be read (torn or garbage), in the whole log.
    pub skipped_lines: u64,
    /// The hash chain of the whole log.
    pub chain: ChainSummary,
    /// The OS log events are mirrored to.
    pub os_log: OsLogSummary,
}

/// The event log's hash chain, verified over the whole file (not only the
/// period). `head_seq` and `head_hash` are what the newest copy in the OS
/// log or the SIEM must show.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChainSummary {
    /// `intact`, `empty`, `incomplete` (parts not verifiable: legacy lines,
    /// torn writes) or `broken`.
    pub status: String,
    /// Chained records verified (up to the first break).
    pub records: u64,
    pub head_seq: Option<u64>,
    /// Hex SHA-256 of the head record's line.
    pub head_hash: Option<String>,
    /// Lines from before the chain (older Mantra), not verifiable.
    pub legacy_lines: u64,
    /// Torn or unreadable lines the chain skips over (line numbers).
    pub unreadable_lines: Vec<u64>,
    /// The last line is cut short.
    pub torn_tail: bool,
    /// The first bad position, when broken.
    pub first_break: Option<ChainBreak>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainBreak {
    /// 1-based line number in the file.
    pub line: u64,
    pub expected_seq: u64,
    /// What is wrong there.
    pub problem: String,
}

/// Where events are mirrored, and whether it takes them now.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OsLogSummary {
    /// `syslog /dev/log`, `unified log (/usr/bin/logger)`, …
    pub target: String,
    pub available: bool,
    /// Why it is unavailable.
    pub problem: Option<String>,
}
