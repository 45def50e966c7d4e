//! `mantra hook <name>` (what git runs) and `mantra hooks
//! install|uninstall|status` (what an admin or developer runs).

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use mantra_detect::EngineKind;
use mantra_hooks::install::{self, InstallOptions, Scope};
use mantra_hooks::run::{self, HookSetup, BYPASS_ENV};
use mantra_hooks::{Git, HookConfig, TranscriptPolicy};

use crate::paths;

/// Test seam: a JSON file of [`HookConfig`] fields that replaces the
/// policy-derived settings. Honoured only by builds with the `test-roots`
/// feature: in a shipped build any user could otherwise lower the
/// organisation's settings or allow bypasses.
#[cfg(feature = "test-roots")]
pub const HOOKS_CONFIG_ENV: &str = "MANTRA_HOOKS_CONFIG";

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    Repo,
    Global,
    System,
}

impl From<ScopeArg> for Scope {
    fn from(s: ScopeArg) -> Self {
        match s {
            ScopeArg::Repo => Scope::Repo,
            ScopeArg::Global => Scope::Global,
            ScopeArg::System => Scope::System,
        }
    }
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// repo: this repository's hooks directory; global: core.hooksPath in
    /// the user's git config; system: in the system git config.
    #[arg(long, value_enum, default_value_t = ScopeArg::Repo)]
    pub scope: ScopeArg,
    /// Shim directory for global/system scope (default: `<data dir>/git-hooks`
    /// for global, a machine-wide directory for system).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Repository for repo scope (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
}

/// Installing and inspecting hooks.
#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Install the pre-commit, pre-merge-commit and pre-push hooks.
    Install {
        #[command(flatten)]
        target: InstallArgs,
        /// Replace an existing core.hooksPath or a taken chained-hook name
        /// (the previous value is restored by uninstall).
        #[arg(long)]
        force: bool,
    },
    /// Remove Mantra's hooks and restore what was there.
    Uninstall {
        #[command(flatten)]
        target: InstallArgs,
    },
    /// Report where the hooks would not run.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Look for repositories under these directories.
        #[arg(long, value_name = "DIR", num_args = 1..)]
        roots: Vec<PathBuf>,
        /// How deep to look under each root.
        #[arg(long, default_value_t = 6)]
        max_depth: usize,
    },
}

/// The effective hook settings: what policy decides, the data-directory
/// paths, and (test builds only) `MANTRA_HOOKS_CONFIG`.
pub fn hook_config(policy: &mantra_policy::Policy) -> Result<HookConfig> {
    let mut config = config_from_policy(policy);
    // Test builds only: a JSON file replaces the policy-derived settings, so
    // end-to-end tests can try every combination. Never in a shipped build,
    // where it would let any user lower the organisation's settings.
    #[cfg(feature = "test-roots")]
    if let Some(path) = std::env::var_os(HOOKS_CONFIG_ENV).filter(|v| !v.is_empty()) {
        let shown = std::path::Path::new(&path).display().to_string();
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {shown}"))?;
        config =
            serde_json::from_str(&text).with_context(|| format!("invalid hook config {shown}"))?;
    }
    if let Some(key) = crate::engine_setup::fingerprint_key(policy) {
        config.fingerprint_key = key;
    }
    if let Some(data) = paths::data_dir().map(mantra_core::DataDir::new) {
        config
            .exposure_list
            .get_or_insert_with(|| data.exposure_file());
        config.audit_log.get_or_insert_with(|| data.audit_log());
        config.session_store.get_or_insert_with(|| data.db_path());
    }
    Ok(config)
}

/// The hook settings the effective policy decides. Repository-local
/// suppressions count only when policy honours repository configuration and
/// the allowlists are not admin-only.
fn config_from_policy(policy: &mantra_policy::Policy) -> HookConfig {
    let hooks = &policy.hooks;
    let mut config = HookConfig {
        block_severity: hooks.block_severity,
        block_ai_transcripts: if hooks.block_ai_transcripts {
            TranscriptPolicy::Always
        } else {
            TranscriptPolicy::WithSecrets
        },
        fail_closed: hooks.fail_closed,
        allow_bypass_env: hooks.allow_bypass_env,
        required: hooks
            .required
            .iter()
            .map(|h| h.as_str().to_string())
            .collect(),
        honour_repo_config: policy.honor_repo_config
            && policy.allowlist.merge == mantra_policy::AllowlistMerge::Merge,
        allow_regexes: policy.allowlist.regexes.clone(),
        allow_paths: policy.allowlist.paths.clone(),
        ..HookConfig::default()
    };
    if let Some(key) = crate::engine_setup::fingerprint_key(policy) {
        config.fingerprint_key = key;
    }
    config
}

/// The engine the hooks use. The pure-Rust engine starts in a few
/// milliseconds and a commit's added lines are small, where Hyperscan's
/// start-up (database load) dominates; see docs/BENCHMARKS.md.
const HOOK_ENGINE: EngineKind = EngineKind::Rust;

/// `mantra hook …`: exit code 0 allowed, 1 blocked, 2 could not check
/// (blocks when fail-closed).
pub fn hook(cmd: HookCommand) -> Result<u8> {
    let policy = crate::policy_cmd::effective().policy;
    let config = match hook_config(&policy) {
        Ok(c) => c,
        Err(e) => {
            // Without a readable configuration, the safe defaults apply.
            eprintln!("mantra: warning: {e:#}; using the default hook settings");
            HookConfig::default()
        }
    };
    let (rules, errors) = crate::engine_setup::policy_rules(&policy).build();
    for e in &errors {
        tracing::warn!("rule not loaded: {e}");
    }
    let setup = HookSetup {
        config,
        rules: Arc::new(rules),
        // MANTRA_HOOK_ENGINE (hyperscan|rust) exists for benchmarking.
        engine: std::env::var("MANTRA_HOOK_ENGINE")
            .ok()
            .and_then(|e| EngineKind::parse(&e))
            .filter(|k| EngineKind::available().contains(k))
            .unwrap_or(HOOK_ENGINE),
        engine_cache_dir: paths::cache_dir(),
        bypass: std::env::var(BYPASS_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty()),
        user: mantra_core::user::current_user(),
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

/// Where global/system shims live by default.
fn default_dir(scope: Scope) -> Result<PathBuf> {
    match scope {
        Scope::Global => paths::data_dir()
            .map(|d| mantra_core::DataDir::new(d).git_hooks_dir())
            .context("no data directory (set MANTRA_HOME or HOME), pass --dir"),
        _ => Ok(system_hooks_dir()),
    }
}

#[cfg(target_os = "macos")]
fn system_hooks_dir() -> PathBuf {
    PathBuf::from("/Library/Application Support/Mantra/git-hooks")
}

#[cfg(windows)]
fn system_hooks_dir() -> PathBuf {
    std::env::var_os("ProgramData")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"))
        .join(r"Mantra\git-hooks")
}

#[cfg(not(any(target_os = "macos", windows)))]
fn system_hooks_dir() -> PathBuf {
    PathBuf::from("/usr/local/lib/mantra/git-hooks")
}

fn install_options(target: &InstallArgs, force: bool) -> Result<InstallOptions> {
    let scope: Scope = target.scope.into();
    let dir = match &target.dir {
        Some(d) => std::path::absolute(d).context("cannot resolve --dir")?,
        None => default_dir(scope)?,
    };
    let repo = match &target.repo {
        Some(r) => r.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let exe = std::env::current_exe().context("cannot find the mantra binary")?;
    let mantra_bin = exe.canonicalize().unwrap_or(exe);
    let config = hook_config(&crate::policy_cmd::effective().policy)?;
    Ok(InstallOptions {
        scope,
        repo,
        dir,
        mantra_bin,
        fail_closed: config.fail_closed,
        force,
    })
}

/// `mantra hooks …`.
pub fn hooks(cmd: HooksCommand) -> Result<u8> {
    match cmd {
        HooksCommand::Install { target, force } => {
            let opts = install_options(&target, force)?;
            for line in install::install(&opts)? {
                println!("{line}");
            }
            Ok(0)
        }
        HooksCommand::Uninstall { target } => {
            let opts = install_options(&target, false)?;
            for line in install::uninstall(&opts)? {
                println!("{line}");
            }
            Ok(0)
        }
        HooksCommand::Status {
            json,
            roots,
            max_depth,
        } => {
            let config = hook_config(&crate::policy_cmd::effective().policy)?;
            let status = mantra_hooks::status::status(&roots, &config.required, max_depth);
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print_status(&status);
            }
            Ok(if status.ok { 0 } else { 1 })
        }
    }
}

fn print_status(status: &mantra_hooks::status::Status) {
    for s in [&status.global, &status.system] {
        match &s.hooks_path {
            Some(p) => {
                let states: Vec<String> = s
                    .hooks
                    .iter()
                    .map(|h| format!("{} {:?}", h.name, h.state))
                    .collect();
                println!(
                    "{} core.hooksPath = {p} ({})",
                    s.scope.name(),
                    states.join(", ")
                );
            }
            None => println!("{} core.hooksPath: not set", s.scope.name()),
        }
    }
    for r in &status.repos {
        if r.problems.is_empty() {
            println!("ok       {}", r.path);
        } else {
            println!("PROBLEM  {}", r.path);
            for p in &r.problems {
                println!("           {p}");
            }
        }
    }
    println!(
        "{}",
        if status.ok {
            "hooks: ok"
        } else {
            "hooks: problems found"
        }
    );
}
