//! Settings of the agent that policy decides. The policy crate is wired in
//! by the command layer; here they are plain fields with documented
//! defaults, so the library and its tests need no policy.

use std::collections::BTreeSet;

use crate::model::Assistant;

/// What to do when the OS keychain cannot hold the store key: the policy
/// model's type (`storage.key_fallback`).
pub use mantra_policy::KeyFallback;

/// Policy-derived agent settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// Store message text with every secret replaced by
    /// `[REDACTED:rule-id]` (policy `agent.redact_at_rest`). Default: true,
    /// as in the policy model. Search and show output is redacted either way.
    pub redact_at_rest: bool,
    /// Delete sessions whose last message is older than this many days after
    /// each index run (policy `agent.retention_days`). Default: `None`, keep
    /// everything.
    pub retention_days: Option<u32>,
    /// Keep queries and exports within one project unless asked (policy
    /// `agent.project_isolation`): without `--project` the commands use the
    /// project holding the current directory, and `--all-projects` widens
    /// them. Default: true, as in the policy model. Scoped queries are
    /// always isolated.
    pub project_isolation: bool,
    /// Sources to index (policy `agent.sources`). Default: every assistant.
    pub enabled_sources: BTreeSet<Assistant>,
    /// Keychain fallback (policy `storage.key_fallback`). Default: file.
    pub key_fallback: KeyFallback,
    /// Key of the finding fingerprints (policy `detect.fingerprint_key`).
    /// Default: the published `mantra_detect` key.
    pub fingerprint_key: Vec<u8>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            redact_at_rest: true,
            retention_days: None,
            project_isolation: true,
            enabled_sources: Assistant::ALL.into_iter().collect(),
            key_fallback: KeyFallback::File,
            fingerprint_key: mantra_detect::finding::DEFAULT_FINGERPRINT_KEY.to_vec(),
        }
    }
}
