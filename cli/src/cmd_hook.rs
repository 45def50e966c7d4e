//! `mantra hook <name>`: what git runs before a commit, a merge commit or
//! a push. Exit code 0 allowed, 1 blocked, 2 could not check (blocks when
//! fail-closed).

use std::io::Read;

use anyhow::{Context, Result};
use clap::Subcommand;
use mantra_detect::EngineKind;
use mantra_hooks::run::{self, HookSetup, BYPASS_ENV};
use mantra_hooks::{Git, HookConfig};

use crate::settings::Settings;

/// The hooks git runs.
#[allow(clippy::enum_variant_names)] // named after git's hooks
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Scan the staged changes (run by git before a commit).
    PreCommit,
    /// Same as pre-commit, for merges that commit without conflicts.
    PreMergeCommit,
    /// Scan the commits being pushed (ref lines on stdin, as git gives them).
    PrePush {
        /// Remote name (given by git).
        remote: Option<String>,
        /// Remote URL (given by git).
        url: Option<String>,
    },
}

/// The engine the hooks use. The pure-Rust engine starts in a few
/// milliseconds and a commit's added lines are small, where Hyperscan's
/// start-up (database load) dominates; see docs/BENCHMARKS.md.
const HOOK_ENGINE: EngineKind = EngineKind::Rust;

/// Runs the hook git asked for.
pub fn run(settings: &Settings, cmd: HookCommand) -> Result<u8> {
    let config = match settings.hook_config() {
        Ok(c) => c.clone(),
        Err(e) => {
            // Without a readable configuration, the safe defaults apply.
            eprintln!("mantra: warning: {e:#}; using the default hook settings");
            HookConfig::default()
        }
    };
    let setup = HookSetup {
        config,
        rules: settings.rules(),
        // MANTRA_HOOK_ENGINE (hyperscan|rust) exists for benchmarking.
        engine: std::env::var("MANTRA_HOOK_ENGINE")
            .ok()
            .and_then(|e| EngineKind::parse(&e))
            .filter(|k| EngineKind::available().contains(k))
            .unwrap_or(HOOK_ENGINE),
        engine_cache_dir: settings.data_dir_if_any().map(|d| d.cache_dir()),
        bypass: std::env::var(BYPASS_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty()),
        user: settings.user.clone(),
    };
    let git = Git::current();
    let mut err = std::io::stderr().lock();
    Ok(match cmd {
        HookCommand::PreCommit | HookCommand::PreMergeCommit => {
            run::pre_commit(&git, &setup, &mut err)
        }
        HookCommand::PrePush { .. } => {
            let mut input = Vec::new();
            std::io::stdin()
                .read_to_end(&mut input)
                .context("cannot read the pre-push ref lines from stdin")?;
            let mut input = String::from_utf8_lossy(&input).into_owned();
            if input.trim().is_empty() {
                input = pre_commit_framework_refs().unwrap_or_default();
            }
            run::pre_push(&git, &setup, &input, &mut err)
        }
    })
}

/// The pre-commit framework runs pre-push hooks without git's ref lines and
/// describes the push in `PRE_COMMIT_FROM_REF` / `PRE_COMMIT_TO_REF`
/// instead (neither when the branch starts at a root commit); turn them into
/// one ref line. An unknown or missing "from" is treated as a new branch:
/// commits on no remote-tracking ref.
fn pre_commit_framework_refs() -> Option<String> {
    if std::env::var_os("PRE_COMMIT").is_none() && std::env::var_os("PRE_COMMIT_TO_REF").is_none() {
        return None;
    }
    let git = Git::current();
    let peel = |r: &str| {
        git.text(&["rev-parse", "--verify", "-q", &format!("{r}^{{commit}}")])
            .ok()
    };
    let to = std::env::var("PRE_COMMIT_TO_REF")
        .ok()
        .or_else(|| std::env::var("PRE_COMMIT_LOCAL_BRANCH").ok())
        .unwrap_or_else(|| "HEAD".into());
    let to = peel(&to)?;
    let from = std::env::var("PRE_COMMIT_FROM_REF")
        .ok()
        .and_then(|f| peel(&f))
        .unwrap_or_else(|| "0".repeat(to.len()));
    let branch =
        std::env::var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_else(|_| "refs/heads/unknown".into());
    Some(format!("HEAD {to} {branch} {from}\n"))
}
