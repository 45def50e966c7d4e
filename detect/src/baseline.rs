//! Baselines: the secrets a team has reviewed and accepted, by fingerprint.
//!
//! Keyed on the secret, not on its line, so a baseline survives edits,
//! rebases and squashes. A baseline holds no secret, only keyed fingerprints
//! and redacted previews, so it can be committed.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

pub const BASELINE_VERSION: u32 = 1;

/// One accepted secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    pub fingerprint: String,
    pub rule_id: String,
    /// Where it was seen when the baseline was made (informational).
    pub path: String,
    pub redacted: String,
}

/// The baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub entries: Vec<BaselineEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("not a Mantra baseline: {0}")]
    Parse(String),
    #[error(
        "baseline version {0} is not supported (this Mantra reads version {BASELINE_VERSION})"
    )]
    Version(u32),
}

impl Baseline {
    /// A baseline accepting every finding given, one entry per fingerprint.
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        let mut seen = HashSet::new();
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .filter(|f| seen.insert(f.fingerprint.clone()))
            .map(|f| BaselineEntry {
                fingerprint: f.fingerprint.clone(),
                rule_id: f.rule_id.clone(),
                path: f.path.clone(),
                redacted: f.redacted.clone(),
            })
            .collect();
        entries.sort_by(|a, b| (&a.path, &a.fingerprint).cmp(&(&b.path, &b.fingerprint)));
        Baseline {
            version: BASELINE_VERSION,
            entries,
        }
    }

    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let b: Baseline =
            serde_json::from_str(text).map_err(|e| BaselineError::Parse(e.to_string()))?;
        if b.version != BASELINE_VERSION {
            return Err(BaselineError::Version(b.version));
        }
        if let Some(bad) = b.entries.iter().find(|e| {
            e.fingerprint.len() != 64 || !e.fingerprint.bytes().all(|c| c.is_ascii_hexdigit())
        }) {
            return Err(BaselineError::Parse(format!(
                "fingerprint {:?} is not 64 hex digits",
                bad.fingerprint
            )));
        }
        Ok(b)
    }

    pub fn to_json(&self) -> String {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    pub fn fingerprints(&self) -> HashSet<String> {
        self.entries
            .iter()
            .map(|e| e.fingerprint.to_ascii_lowercase())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_and_wrong_versions() {
        assert!(Baseline::parse("nope").is_err());
        assert!(matches!(
            Baseline::parse(r#"{"version":9,"entries":[]}"#),
            Err(BaselineError::Version(9))
        ));
        let bad = r#"{"version":1,"entries":[{"fingerprint":"xyz","rule_id":"r","path":"p","redacted":"r"}]}"#;
        assert!(Baseline::parse(bad).is_err());
    }
}
