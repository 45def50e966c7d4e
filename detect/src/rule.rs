//! Rule definitions: the YAML format, its validation, and the built-in set.
//!
//! A rule is data, not code. Everything needed to decide whether a byte
//! sequence is a secret lives in the YAML: the pattern (whose first capture
//! group is the secret), the literal keywords a prefilter can look for, an
//! optional entropy floor and checksum validator, and the examples that prove
//! the rule does what its name says.

use serde::{Deserialize, Serialize};

/// The one severity type, owned by the ground floor (`mantra-core`).
pub use mantra_core::Severity;

/// A checksum that a candidate secret must pass, for token formats that carry
/// one. A candidate failing it is not a secret of that kind (a typo, a
/// look-alike, a truncated copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validator {
    /// GitHub and npm "base62 tokens": `<prefix>_` + 30 base62 characters +
    /// the CRC32 of those 30 characters, base62-encoded on 6 characters.
    Base62Crc32,
}

/// One rule as written in YAML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// Stable identifier, kebab-case (`github-pat-classic`). Baselines,
    /// policy and SARIF refer to rules by it.
    pub id: String,
    /// Human name, shown in reports.
    pub name: String,
    pub severity: Severity,
    /// Regular expression (Rust `regex` syntax, also accepted by Hyperscan).
    /// The first capture group is the secret; without a group the whole match
    /// is. It must have a bounded maximum length.
    pub pattern: String,
    /// Case-insensitive literals; every match contains at least one. They are
    /// what the pure-Rust engine prefilters on.
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy, in bits per byte, of the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_entropy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<Validator>,
    /// Low-confidence rules (generic "secret-looking value for a secret-named
    /// key") yield to a specific rule that finds the same secret.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generic: bool,
    /// Regexes over the secret: a candidate matching any is not a secret of
    /// this kind (an identifier, a file path, a reference).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Texts in which this rule, and only this rule, must find a secret.
    pub examples: Vec<String>,
    /// Texts in which no rule may find anything.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

/// The built-in rule files, compiled into the binary.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] =
    &include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
