//! Mantra's secret detection engine.
//!
//! This crate owns the rules (YAML, compiled in or supplied at run time), the
//! matching engines (Hyperscan prefilter or pure Rust, same results), the
//! content views (raw bytes and decoded JSON strings), and findings
//! (location, redaction, fingerprint, suppression). It reads bytes and files;
//! it does not know about policy sources, sessions or git.

pub mod rule;
