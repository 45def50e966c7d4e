//! Building the rule set and scanner from command-line options.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use mantra_detect::{EngineKind, RuleSet, RuleSetBuilder, Severity};
use mantra_policy::Policy;

/// Options shared by every command that scans.
#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// Extra rule file(s) (YAML `rules: [...]`); a rule with a built-in id
    /// overrides it.
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,
    /// Disable rule ids (repeatable, or comma-separated).
    #[arg(long = "disable-rule", value_name = "ID", value_delimiter = ',')]
    pub disabled: Vec<String>,
    /// Ignore rules below this severity.
    #[arg(long, value_name = "SEVERITY")]
    pub min_severity: Option<Severity>,
    /// Matching engine: hyperscan (default where built in) or rust.
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,
}

impl RuleArgs {
    pub fn engine(&self) -> Result<EngineKind> {
        match &self.engine {
            None => Ok(EngineKind::default_available()),
            Some(name) => {
                let kind = EngineKind::parse(name).with_context(|| {
                    format!("unknown engine {name:?} (expected hyperscan or rust)")
                })?;
                if !EngineKind::available().contains(&kind) {
                    bail!("the {name} engine is not compiled into this build");
                }
                Ok(kind)
            }
        }
    }

    /// Loads built-in rules, then the policy's (disabled ids, custom rules,
    /// severity floor), then the command line's. Rules that fail to load are
    /// reported on stderr and left out; the rest still run.
    pub fn rule_set(&self, policy: &Policy) -> Result<Arc<RuleSet>> {
        let mut builder = policy_rules(policy);
        if let Some(floor) = self.min_severity {
            builder.min_severity(floor.max(policy.rules.min_severity));
        }
        for path in &self.rule_files {
            let text = read_rule_file(path)?;
            builder.add_yaml(&path.display().to_string(), &text);
        }
        builder.disable(self.disabled.iter().cloned());
        let (rules, errors) = builder.build();
        for e in &errors {
            eprintln!("mantra: warning: rule not loaded: {e}");
        }
        Ok(Arc::new(rules))
    }
}

/// The largest rule file read: the built-in rules, all of them, are a few
/// hundred kilobytes.
const RULE_FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// Reads a rule file given on the command line: bounded, and refused when
/// it is not a regular file (a FIFO would block, a device never end).
pub fn read_rule_file(path: &std::path::Path) -> Result<String> {
    mantra_core::fsio::read_to_string(path, RULE_FILE_LIMIT)
        .with_context(|| format!("cannot read rule file {}", path.display()))
}

/// The rules policy puts in force: built-in rules, plus `rules.custom`
/// (replacing a built-in of the same id), minus `rules.disabled`, at or above
/// `rules.min_severity`. `mantra scan` and the git hooks both start here, so
/// a commit is checked against the same rules as a scan.
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
pub fn fingerprint_key(policy: &Policy) -> Option<Vec<u8>> {
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

/// The scan options policy decides: the organisation's fingerprint key and
/// the allowlisted secret patterns. A pattern that does not compile was
/// already reported by policy validation; it is skipped here.
pub fn apply_policy(options: &mut mantra_detect::ScanOptions, policy: &Policy) {
    if let Some(key) = fingerprint_key(policy) {
        options.fingerprint_key = key;
    }
    options.allow_regexes.extend(
        policy
            .allowlist
            .regexes
            .iter()
            .filter_map(|r| regex::bytes::Regex::new(r).ok()),
    );
}
