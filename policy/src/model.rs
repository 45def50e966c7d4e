//! The typed policy model: what every other crate reads.
//!
//! Each field here is one policy key; its dotted name is the field path
//! (`hooks.block_severity`). The documentation, validation and restrictive
//! value of every key live in [`crate::keys`], which a test binds to these
//! types key by key. Defaults are the `Default` impls below.

use serde::{Deserialize, Serialize};

/// The effective policy: every key has a value (the default when no source
/// sets it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub network: Network,
    pub updates: Updates,
    pub crash_reports: CrashReports,
    /// Always `false`: Mantra has no telemetry. The key exists so an admin
    /// can state it and see it reported.
    pub telemetry: bool,
    pub rules: Rules,
    pub allowlist: Allowlist,
    /// Whether repository-local configuration (rule files, ignore files,
    /// inline `mantra:allow`) may add suppressions.
    pub honor_repo_config: bool,
    /// Organisation key for secret fingerprints (HMAC-SHA-256). `None`: the
    /// published default key.
    pub fingerprint_key: Option<String>,
    pub hooks: Hooks,
    pub agent: Agent,
    pub storage: Storage,
    pub logging: Logging,
}

impl Policy {
    /// Update checks may open a connection: both the kill switch and the
    /// feature key allow it.
    pub fn update_checks_allowed(&self) -> bool {
        self.network.enabled && self.updates.enabled
    }

    /// Crash reports may be uploaded: both the kill switch and the feature
    /// key allow it.
    pub fn crash_upload_allowed(&self) -> bool {
        self.network.enabled && self.crash_reports.enabled
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    /// Kill switch for all network activity.
    pub enabled: bool,
}

impl Default for Network {
    fn default() -> Self {
        Network { enabled: true }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Updates {
    pub enabled: bool,
    /// Manifest URL; `{channel}` is replaced by the channel name.
    pub url: String,
    pub channel: Channel,
    /// Hours between the agent's automatic update checks (`mantra agent
    /// run`; the first comes 10 minutes after it starts), 1–720. To have
    /// none, set `updates.enabled: false`.
    pub check_interval_hours: u32,
}

/// Default update manifest location. `{channel}` is substituted.
pub const DEFAULT_UPDATE_URL: &str = "https://updates.gonewx.com/mantra/{channel}/manifest.json";
/// Default crash report endpoint.
pub const DEFAULT_CRASH_URL: &str = "https://crash.gonewx.com/mantra/v1/reports";

impl Default for Updates {
    fn default() -> Self {
        Updates {
            enabled: true,
            url: DEFAULT_UPDATE_URL.to_string(),
            channel: Channel::Stable,
            check_interval_hours: 24,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Stable,
    Beta,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Stable => "stable",
            Channel::Beta => "beta",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrashReports {
    /// Upload crash reports. Local reports are always written.
    pub enabled: bool,
    pub url: String,
}

impl Default for CrashReports {
    fn default() -> Self {
        CrashReports {
            enabled: false,
            url: DEFAULT_CRASH_URL.to_string(),
        }
    }
}

/// How bad a leak of a kind of secret is: the one severity type, owned by
/// the ground floor (`mantra-core`) and re-exported here for policy keys.
pub use mantra_core::severity::{Severity, UnknownSeverity};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Ids of built-in rules switched off.
    pub disabled: Vec<String>,
    /// Extra rule definitions, opaque here: the detection crate parses and
    /// validates them (they have the same shape as a built-in rule file entry).
    pub custom: Vec<serde_json::Value>,
    /// Findings below this severity are not reported.
    pub min_severity: Severity,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            disabled: Vec::new(),
            custom: Vec::new(),
            min_severity: Severity::Low,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AllowlistMerge {
    /// Allowlist entries from every source (user config included) add up.
    #[default]
    Merge,
    /// Only administrator sources (policy files, MDM) count; user-config and
    /// repository-local allowlists are ignored.
    AdminOnly,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Allowlist {
    /// Glob patterns of paths never scanned.
    pub paths: Vec<String>,
    /// Regexes; a candidate secret matching one is not reported.
    pub regexes: Vec<String>,
    pub merge: AllowlistMerge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HookKind {
    #[serde(rename = "pre-commit")]
    PreCommit,
    #[serde(rename = "pre-push")]
    PrePush,
}

impl HookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::PreCommit => "pre-commit",
            HookKind::PrePush => "pre-push",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hooks {
    /// Hooks that must run in every repository; `mantra hooks status`,
    /// `doctor` and `audit` report where they would not (missing, or hidden
    /// by a repository's own `core.hooksPath` or hook manager). Both by
    /// default: a gap nobody asked to see is still a gap.
    pub required: Vec<HookKind>,
    /// Findings at or above this severity block the commit or push.
    pub block_severity: Severity,
    /// Block committing any AI session transcript, even one without a
    /// secret. One that holds a secret is blocked whatever this says.
    pub block_ai_transcripts: bool,
    /// Block when the scan itself fails (error, timeout).
    pub fail_closed: bool,
    /// Honour `MANTRA_BYPASS=<reason>` to let one commit or push through;
    /// every use is audited.
    pub allow_bypass_env: bool,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            required: vec![HookKind::PreCommit, HookKind::PrePush],
            block_severity: Severity::Medium,
            block_ai_transcripts: false,
            fail_closed: true,
            allow_bypass_env: false,
        }
    }
}

/// Which assistants' sessions the agent indexes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentSources {
    pub claude_code: bool,
    pub codex: bool,
    pub gemini: bool,
    pub cursor: bool,
    pub copilot_chat: bool,
    pub cline: bool,
    pub roo_code: bool,
    #[serde(rename = "continue")]
    pub continue_dev: bool,
    pub aider: bool,
    pub opencode: bool,
}

impl Default for AgentSources {
    fn default() -> Self {
        AgentSources {
            claude_code: true,
            codex: true,
            gemini: true,
            cursor: true,
            copilot_chat: true,
            cline: true,
            roo_code: true,
            continue_dev: true,
            aider: true,
            opencode: true,
        }
    }
}

impl AgentSources {
    /// Whether the source named as in policy (`claude_code`, `continue`, …)
    /// is enabled. Unknown names are not enabled.
    pub fn is_enabled(&self, name: &str) -> bool {
        match name {
            "claude_code" => self.claude_code,
            "codex" => self.codex,
            "gemini" => self.gemini,
            "cursor" => self.cursor,
            "copilot_chat" => self.copilot_chat,
            "cline" => self.cline,
            "roo_code" => self.roo_code,
            "continue" => self.continue_dev,
            "aider" => self.aider,
            "opencode" => self.opencode,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Agent {
    pub sources: AgentSources,
    /// Store transcripts with detected secrets redacted.
    pub redact_at_rest: bool,
    /// Delete sessions older than this many days; 0 keeps them.
    pub retention_days: u32,
    /// Keep each project's sessions separate (search and export stay within
    /// one project unless asked otherwise).
    pub project_isolation: bool,
}

impl Default for Agent {
    fn default() -> Self {
        Agent {
            sources: AgentSources::default(),
            redact_at_rest: true,
            retention_days: 0,
            project_isolation: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Encryption {
    /// The session store is always encrypted; no key, no store.
    #[default]
    Required,
    /// Accepted, and treated exactly like `required`: the session store is
    /// never written in plain text (its file must never start with
    /// `SQLite format 3`), and a key is always available unless
    /// `key_fallback: deny` forbids the key file where no keychain is
    /// reachable — then nothing is stored.
    Optional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum KeyFallback {
    /// Without an OS keychain, keep the store key in a `0600` file.
    #[default]
    File,
    /// Without an OS keychain, refuse to open the store.
    Deny,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Storage {
    pub encryption: Encryption,
    pub key_fallback: KeyFallback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Logging {
    pub level: LogLevel,
    pub retention_days: u32,
    /// `mantra wipe` also erases the compliance event log (recorded in the
    /// OS log first). Default false: the trail is kept.
    pub wipe_erases_trail: bool,
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            level: LogLevel::Info,
            retention_days: 14,
            wipe_erases_trail: false,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            network: Network::default(),
            updates: Updates::default(),
            crash_reports: CrashReports::default(),
            telemetry: false,
            rules: Rules::default(),
            allowlist: Allowlist::default(),
            honor_repo_config: true,
            fingerprint_key: None,
            hooks: Hooks::default(),
            agent: Agent::default(),
            storage: Storage::default(),
            logging: Logging::default(),
        }
    }
}
