//! Mantra's policy: one typed model, read from built-in defaults, user
//! configuration, policy files and MDM sources, merged with provenance.
//!
//! This crate owns the policy model and how it is read and merged. It knows
//! nothing of detection, sessions or hooks: other crates read the effective
//! values it produces.
