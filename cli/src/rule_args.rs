//! The rule options every command that scans takes (`--rules`,
//! `--disable-rule`, `--min-severity`, `--engine`), applied on top of the
//! rules policy puts in force.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use mantra_detect::{EngineKind, RuleSet, Severity};

use crate::settings::{policy_rules, Settings};

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

    /// Whether the command line changes the rules policy puts in force.
    fn adds_to_policy(&self) -> bool {
        !self.rule_files.is_empty() || !self.disabled.is_empty() || self.min_severity.is_some()
    }

    /// The rules policy puts in force (built-in, custom, disabled, severity
    /// floor), then the command line's. Rules that fail to load are
    /// reported on stderr and left out; the rest still run.
    pub fn rule_set(&self, settings: &Settings) -> Result<Arc<RuleSet>> {
        if !self.adds_to_policy() {
            return Ok(settings.rules());
        }
        let policy = settings.policy();
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
