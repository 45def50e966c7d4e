//! Mantra's secret detection engine.
//!
//! This crate owns the rules (YAML, compiled in or supplied at run time), the
//! matching engines (Hyperscan prefilter or pure Rust, same results), the
//! content views (raw bytes and decoded JSON strings), and findings
//! (location, redaction, fingerprint, suppression). It reads bytes and files;
//! it does not know about policy sources, sessions or git.
//!
//! The pipeline: a [`engine`] prefilter reports where each rule may match,
//! [`confirm`] finds the exact matches with the `regex` crate, [`filter`]
//! drops placeholders and look-alikes, and the [`scanner`] maps every secret
//! back to its place in the file, de-duplicates it across views, applies
//! suppressions and builds the [`Finding`].

pub mod audit_log;
pub mod baseline;
pub mod check;
mod confirm;
pub mod engine;
pub mod exposure;
pub mod filter;
pub mod finding;
pub mod redact;
pub mod report;
pub mod rule;
pub mod ruleset;
pub mod scanner;
pub mod time;
pub mod view;
pub mod walk;

pub use engine::EngineKind;
pub use finding::{Finding, ViewKind};
pub use rule::{RuleDef, Severity};
pub use ruleset::{RuleLoadError, RuleSet, RuleSetBuilder};
pub use scanner::{JsonViews, ScanOptions, ScanState, Scanner};
