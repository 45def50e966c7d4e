//! Mantra's git hooks.
//!
//! This crate owns what the `pre-commit`, `pre-merge-commit` and `pre-push`
//! hooks scan (the added lines of exactly what is committed or pushed, read
//! through the git CLI), the decision to block (severity, suppression,
//! exposure in an AI session, AI transcript files, scanner errors, the
//! audited bypass), the messages shown to the developer, and installing the
//! hooks at repository, user (global) or system scope with chaining to the
//! repository's own hooks.
//!
//! It does not read policy sources (the caller fills a [`HookConfig`]), parse
//! command lines, or decide where Mantra's data directory is.

pub mod check;
pub mod collect;
pub mod config;
pub mod diff;
pub mod git;
pub mod install;
pub mod report;
pub mod run;
pub mod status;
pub mod transcript;

pub use check::{Checker, Hit, Outcome};
pub use config::{HookConfig, TranscriptPolicy};
pub use git::{Git, GitError};
