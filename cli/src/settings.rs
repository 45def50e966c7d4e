//! Everything a command needs to know about this machine, resolved once.
//!
//! `main` builds one [`Settings`] before running any command (the role of
//! ripgrep's `HiArgs`): the effective policy with its provenance, the data
//! directory, the agent's and the hooks' configuration derived from policy,
//! the organisation's fingerprint key, the user and the time the command
//! started. Commands read it and never load policy themselves, so every
//! command sees the same policy and the same rules: `scan`, the hooks,
//! indexing, sharing and `audit` cannot disagree about what a secret is.
//!
//! The rule set is built on first use (the hooks must start in a few
//! milliseconds, and `mantra version` needs no rules), then kept.
//!
//! `MANTRA_TEST_ROOT` re-roots every policy path (and the user config), and
//! the OS log's syslog socket (`<root>/dev/log`, which a test binds), only
//! in builds with the `test-roots` cargo feature; a default build ignores
//! it, so a user cannot escape policy, or the OS log, by setting a
//! variable.

use std::ffi::OsString;
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use mantra_agent::model::Assistant;
use mantra_agent::AgentConfig;
use mantra_core::datadir::DataDir;
use mantra_core::os_log::OsLog;
use mantra_detect::{EngineKind, RuleSet, RuleSetBuilder, ScanOptions, Scanner};
use mantra_hooks::{HookConfig, TranscriptPolicy};
use mantra_policy::{Effective, LoadOptions, Policy};

/// Test seam: a JSON file of [`HookConfig`] fields that replaces the
/// policy-derived hook settings. Honoured only by builds with the
/// `test-roots` feature: in a shipped build any user could otherwise lower
/// the organisation's settings or allow bypasses.
#[cfg(feature = "test-roots")]
pub const HOOKS_CONFIG_ENV: &str = "MANTRA_HOOKS_CONFIG";

/// The settings of one run of `mantra`.
pub struct Settings {
    /// Where policy was read from (doctor reports the system root).
    pub policy_sources: LoadOptions,
    /// The effective policy and how it came about.
    pub effective: Effective,
    /// The per-user data directory; `None` when no home can be determined.
    data_dir: Option<DataDir>,
    /// The session agent's settings, from policy.
    pub agent: AgentConfig,
    /// The git hooks' settings, from policy (or, in test builds, the
    /// `MANTRA_HOOKS_CONFIG` file, which can be unreadable).
    hooks: std::result::Result<HookConfig, String>,
    /// The organisation's fingerprint key, when it has one.
    pub fingerprint_key: Option<Vec<u8>>,
    /// The user running this command, as the compliance log records it.
    pub user: Option<String>,
    /// Where compliance events are mirrored besides the file.
    pub os_log: OsLog,
    /// When this command started (ms since the epoch): relative times on
    /// the command line (`7d`) count back from it.
    pub started_ms: i64,
    /// The rules policy puts in force, built on first use.
    rules: OnceLock<Arc<RuleSet>>,
}

impl Settings {
    /// Resolves the settings of this process.
    pub fn load() -> Settings {
        let env = |k: &str| std::env::var_os(k);
        let policy_sources = load_options_from(&env);
        let os_log = os_log_from(&env);
        let effective = mantra_policy::load(&policy_sources);
        let data_dir = DataDir::locate();
        let fingerprint_key = fingerprint_key(&effective.policy);
        let agent = agent_config(&effective.policy, fingerprint_key.as_deref());
        let hooks = hook_config(
            &effective.policy,
            data_dir.as_ref(),
            fingerprint_key.as_deref(),
        )
        .map(|config| HookConfig {
            os_log: os_log.clone(),
            ..config
        })
        .map_err(|e| format!("{e:#}"));
        Settings {
            policy_sources,
            effective,
            data_dir,
            agent,
            hooks,
            fingerprint_key,
            user: mantra_core::user::current_user(),
            os_log,
            started_ms: mantra_core::time::now_ms(),
            rules: OnceLock::new(),
        }
    }

    /// A time given on the command line (`--since`, `--before`…): RFC 3339
    /// (date or date-time), or a duration before this command started
    /// (`30m`, `12h`, `7d`, `4w`).
    pub fn parse_time(&self, s: &str) -> Result<i64> {
        Ok(mantra_core::time::parse_time(s, self.started_ms)?)
    }

    /// The effective policy.
    pub fn policy(&self) -> &Policy {
        &self.effective.policy
    }

    /// The data directory, or an error saying how to name one.
    pub fn data_dir(&self) -> Result<&DataDir> {
        self.data_dir
            .as_ref()
            .context("cannot determine the data directory; set MANTRA_HOME or HOME")
    }

    /// The data directory when there is one (for optional uses: caches).
    pub fn data_dir_if_any(&self) -> Option<&DataDir> {
        self.data_dir.as_ref()
    }

    /// The hooks' settings, or why they cannot be read.
    pub fn hook_config(&self) -> Result<&HookConfig> {
        self.hooks.as_ref().map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// The rules policy puts in force (see [`policy_rules`]), built once.
    /// Rules that fail to load are reported and left out.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.rules
            .get_or_init(|| {
                let (rules, errors) = policy_rules(self.policy()).build();
                for e in &errors {
                    eprintln!("mantra: warning: rule not loaded: {e}");
                }
                Arc::new(rules)
            })
            .clone()
    }

    /// The scan options policy decides: the organisation's fingerprint key,
    /// the allowlisted secret patterns and the engine cache under the data
    /// directory. A pattern that does not compile was already reported by
    /// policy validation; it is skipped here.
    pub fn scan_options(&self) -> ScanOptions {
        let mut options = ScanOptions {
            engine_cache_dir: self.data_dir.as_ref().map(DataDir::cache_dir),
            ..ScanOptions::default()
        };
        if let Some(key) = &self.fingerprint_key {
            options.fingerprint_key = key.clone();
        }
        options.allow_regexes.extend(
            self.policy()
                .allowlist
                .regexes
                .iter()
                .filter_map(|r| regex::bytes::Regex::new(r).ok()),
        );
        options
    }

    /// The scanner of indexing and sharing: the rules policy puts in force
    /// and its allowlisted secrets, exactly as `scan` and the hooks use
    /// them, so a secret an organisation's rule catches at commit is also
    /// redacted at rest and listed as exposed.
    pub fn agent_scanner(&self) -> Result<Arc<Scanner>> {
        let mut options = self.scan_options();
        options.fingerprint_key = self.agent.fingerprint_key.clone();
        let scanner = Scanner::new(self.rules(), EngineKind::default_available(), options)
            .context("cannot build the detection engine")?;
        Ok(Arc::new(scanner))
    }
}

/// The rules policy puts in force: built-in rules, plus `rules.custom`
/// (replacing a built-in of the same id), minus `rules.disabled`, at or above
/// `rules.min_severity`. Every command that scans starts here; `scan` and
/// `rules` then add what their command line asks for.
pub fn policy_rules(policy: &Policy) -> RuleSetBuilder {
    let mut builder = RuleSetBuilder::with_builtin();
    builder.add_values("policy rules.custom", &policy.rules.custom);
    builder.disable(policy.rules.disabled.iter().cloned());
    builder.min_severity(policy.rules.min_severity);
    builder
}

/// The organisation's fingerprint key: policy's `fingerprint_key`, else
/// `MANTRA_FINGERPRINT_KEY`, else `None` (the published default). Scans,
/// the agent's exposure list and the hooks all take it from here: a secret
/// only matches across them when they fingerprint with the same key.
fn fingerprint_key(policy: &Policy) -> Option<Vec<u8>> {
    policy
        .fingerprint_key
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(|k| k.as_bytes().to_vec())
        .or_else(|| {
            std::env::var_os("MANTRA_FINGERPRINT_KEY")
                .filter(|v| !v.is_empty())
                .map(|v| v.to_string_lossy().as_bytes().to_vec())
        })
}

/// The agent settings the effective policy decides.
fn agent_config(policy: &Policy, fingerprint_key: Option<&[u8]>) -> AgentConfig {
    let sources = &policy.agent.sources;
    let enabled = [
        (Assistant::ClaudeCode, sources.claude_code),
        (Assistant::Codex, sources.codex),
        (Assistant::GeminiCli, sources.gemini),
        (Assistant::Cursor, sources.cursor),
        (Assistant::CopilotChat, sources.copilot_chat),
        (Assistant::Cline, sources.cline),
        (Assistant::RooCode, sources.roo_code),
        (Assistant::Continue, sources.continue_dev),
        (Assistant::Aider, sources.aider),
        (Assistant::Opencode, sources.opencode),
    ];
    let mut config = AgentConfig {
        redact_at_rest: policy.agent.redact_at_rest,
        retention_days: (policy.agent.retention_days > 0).then_some(policy.agent.retention_days),
        project_isolation: policy.agent.project_isolation,
        enabled_sources: enabled
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(a, _)| a)
            .collect(),
        key_fallback: policy.storage.key_fallback,
        ..AgentConfig::default()
    };
    if let Some(key) = fingerprint_key {
        config.fingerprint_key = key.to_vec();
    }
    config
}

/// The hook settings: what policy decides, the data-directory paths, and
/// (test builds only) `MANTRA_HOOKS_CONFIG`. Repository-local suppressions
/// count only when policy honours repository configuration and the
/// allowlists are not admin-only.
fn hook_config(
    policy: &Policy,
    data_dir: Option<&DataDir>,
    fingerprint_key: Option<&[u8]>,
) -> Result<HookConfig> {
    let hooks = &policy.hooks;
    #[allow(unused_mut)] // replaced below in test builds
    let mut config = HookConfig {
        block_severity: hooks.block_severity,
        block_ai_transcripts: if hooks.block_ai_transcripts {
            TranscriptPolicy::Always
        } else {
            TranscriptPolicy::WithSecrets
        },
        fail_closed: hooks.fail_closed,
        allow_bypass_env: hooks.allow_bypass_env,
        required: hooks
            .required
            .iter()
            .map(|h| h.as_str().to_string())
            .collect(),
        honour_repo_config: policy.honor_repo_config
            && policy.allowlist.merge == mantra_policy::AllowlistMerge::Merge,
        allow_regexes: policy.allowlist.regexes.clone(),
        allow_paths: policy.allowlist.paths.clone(),
        ..HookConfig::default()
    };
    #[cfg(feature = "test-roots")]
    if let Some(path) = std::env::var_os(HOOKS_CONFIG_ENV).filter(|v| !v.is_empty()) {
        let path = std::path::PathBuf::from(path);
        let text = mantra_core::fsio::read_to_string(&path, 1024 * 1024)
            .with_context(|| format!("cannot read {}", path.display()))?;
        config = serde_json::from_str(&text)
            .with_context(|| format!("invalid hook config {}", path.display()))?;
    }
    if let Some(key) = fingerprint_key {
        config.fingerprint_key = key.to_vec();
    }
    if let Some(data) = data_dir {
        config
            .exposure_list
            .get_or_insert_with(|| data.exposure_file());
        config.audit_log.get_or_insert_with(|| data.audit_log());
        config.session_store.get_or_insert_with(|| data.db_path());
    }
    Ok(config)
}

/// Where this process reads policy from.
fn load_options_from(env: &dyn Fn(&str) -> Option<OsString>) -> LoadOptions {
    #[cfg(feature = "test-roots")]
    if let Some(root) = env("MANTRA_TEST_ROOT").filter(|r| !r.is_empty()) {
        return test_root_options(std::path::PathBuf::from(root), env);
    }
    let _ = env;
    LoadOptions::system()
}

/// Where compliance events are mirrored: the OS log, or in test builds
/// under `MANTRA_TEST_ROOT` the syslog socket `<root>/dev/log`.
fn os_log_from(env: &dyn Fn(&str) -> Option<OsString>) -> OsLog {
    #[cfg(feature = "test-roots")]
    if let Some(root) = env("MANTRA_TEST_ROOT").filter(|r| !r.is_empty()) {
        return OsLog::Socket(std::path::PathBuf::from(root).join("dev/log"));
    }
    let _ = env;
    OsLog::System
}

/// Test builds only: every path under the root, files owned by whoever runs
/// the test, the platform from `MANTRA_TEST_PLATFORM`, and on "windows" the
/// registry from `<root>/registry.reg`.
#[cfg(feature = "test-roots")]
fn test_root_options(
    root: std::path::PathBuf,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> LoadOptions {
    use mantra_policy::Platform;
    let platform = match env("MANTRA_TEST_PLATFORM")
        .and_then(|p| p.into_string().ok())
        .as_deref()
    {
        Some("macos") => Platform::MacOs,
        Some("windows") => Platform::Windows,
        Some("linux") => Platform::Linux,
        _ => Platform::current(),
    };
    #[cfg(unix)]
    let uid = mantra_policy::files::effective_uid().unwrap_or(0);
    #[cfg(not(unix))]
    let uid = 0;
    let mut opts = LoadOptions::rooted(&root, platform, uid);
    if platform == Platform::Windows {
        opts.registry = std::fs::read(root.join("registry.reg"))
            .ok()
            .and_then(|b| mantra_policy::MemRegistry::from_reg_bytes(&b).ok())
            .map(|r| {
                std::sync::Arc::new(r) as std::sync::Arc<dyn mantra_policy::Registry + Send + Sync>
            });
    }
    opts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with_root(k: &str) -> Option<OsString> {
        (k == "MANTRA_TEST_ROOT").then(|| OsString::from("/tmp/mantra-escape"))
    }

    #[cfg(not(feature = "test-roots"))]
    #[test]
    fn default_build_ignores_mantra_test_root() {
        let opts = load_options_from(&env_with_root);
        assert_eq!(opts.system_root, std::path::PathBuf::from("/"));
        assert_eq!(opts.owner, mantra_policy::OwnerRule::ROOT);
        assert!(!opts.policy_file_paths().0.starts_with("/tmp/mantra-escape"));
        assert_eq!(os_log_from(&env_with_root), OsLog::System);
    }

    #[cfg(feature = "test-roots")]
    #[test]
    fn test_roots_build_reroots_everything() {
        let opts = load_options_from(&env_with_root);
        assert_eq!(
            opts.system_root,
            std::path::PathBuf::from("/tmp/mantra-escape")
        );
        assert!(opts
            .user_config
            .as_ref()
            .is_some_and(|p| p.starts_with("/tmp/mantra-escape")));
        assert_eq!(
            os_log_from(&env_with_root),
            OsLog::Socket("/tmp/mantra-escape/dev/log".into())
        );
    }

    #[test]
    fn agent_settings_follow_policy() {
        let mut policy = Policy::default();
        let defaults = agent_config(&policy, None);
        assert_eq!(defaults.enabled_sources.len(), Assistant::ALL.len());
        assert_eq!(defaults.retention_days, None);

        policy.agent.sources.codex = false;
        policy.agent.retention_days = 30;
        policy.agent.redact_at_rest = false;
        policy.storage.key_fallback = mantra_policy::KeyFallback::Deny;
        let c = agent_config(&policy, Some(b"org-key"));
        assert!(!c.enabled_sources.contains(&Assistant::Codex));
        assert!(c.enabled_sources.contains(&Assistant::ClaudeCode));
        assert_eq!(c.retention_days, Some(30));
        assert!(!c.redact_at_rest);
        assert_eq!(c.key_fallback, mantra_policy::KeyFallback::Deny);
        assert_eq!(c.fingerprint_key, b"org-key");
    }

    #[test]
    fn policy_key_wins_over_the_environment() {
        let policy = Policy {
            fingerprint_key: Some("org-key".into()),
            ..Policy::default()
        };
        assert_eq!(fingerprint_key(&policy).as_deref(), Some(&b"org-key"[..]));
    }
}
