//! Mantra's secret detection engine, and nothing else: pure detection.
//!
//! This crate owns the rules (YAML, compiled in or supplied at run time,
//! checked by [`check`]), the matching engines (Hyperscan prefilter or pure
//! Rust, same results), the content views (raw bytes and decoded JSON
//! strings), findings (location, redacted preview, keyed fingerprint,
//! suppression), redacted copies of content ([`redact`]), baselines of
//! accepted findings ([`baseline`]), reports of findings ([`report`]) and
//! the walk over files to scan ([`walk`]). It reads bytes and files.
//!
//! It does not own on-disk state shared with other crates (the data
//! directory, the compliance event log, the exposure list, timestamps, the
//! severity type, the fingerprint function: all in `mantra-core`, below
//! it), and it knows nothing of policy (settings arrive as
//! [`ScanOptions`] and [`RuleSetBuilder`] calls), sessions or git.
//!
//! The pipeline: a [`engine`] prefilter reports where each rule may match,
//! [`confirm`] finds the exact matches with the `regex` crate, [`filter`]
//! drops placeholders and look-alikes, and the [`scanner`] maps every secret
//! back to its place in the file, de-duplicates it across views, applies
//! suppressions and builds the [`Finding`].

pub mod baseline;
pub mod check;
mod confirm;
pub mod engine;
pub mod filter;
pub mod finding;
pub mod redact;
pub mod report;
pub mod rule;
pub mod ruleset;
pub mod scanner;
pub mod view;
pub mod walk;

pub use engine::EngineKind;
pub use finding::{Finding, ViewKind};
pub use rule::{RuleDef, Severity};
pub use ruleset::{RuleLoadError, RuleSet, RuleSetBuilder};
pub use scanner::{JsonViews, ScanOptions, ScanState, Scanner};
