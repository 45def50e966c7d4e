//! Installing the hooks: repository scope (the repository's hooks
//! directory, existing hooks moved aside and chained) or user/system scope
//! (`core.hooksPath` in the global/system git config pointing at a directory
//! of Mantra shims that chain to each repository's own hooks).
//!
//! Nothing is clobbered without `force`; re-installing is idempotent;
//! uninstalling restores what was there (moved-aside hooks, the previous
//! `core.hooksPath` recorded in the shim directory's manifest).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::git::{Git, GitError};

/// The marker that identifies a file Mantra wrote.
pub const SHIM_MARKER: &str = "mantra-managed-hook";

/// Suffix of a repository's own hook moved aside by a repository install.
pub const CHAINED_SUFFIX: &str = ".mantra-chained";

/// Manifest in a global/system shim directory.
pub const MANIFEST_FILE: &str = ".mantra-hooks.json";

/// Hooks that scan.
pub const SCANNING_HOOKS: &[&str] = &["pre-commit", "pre-merge-commit", "pre-push"];

/// Every client-side hook git runs by name. A global `core.hooksPath` hides
/// the repository's hooks directory, so the shim directory holds a
/// pass-through shim for each: a repository's own `commit-msg` still runs.
pub const ALL_HOOKS: &[&str] = &[
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "pre-push",
    "post-rewrite",
    "pre-auto-gc",
    "push-to-checkout",
    "sendemail-validate",
    "post-index-change",
    "reference-transaction",
];

/// Hooks that receive data on standard input (buffered for both programs).
const STDIN_HOOKS: &[&str] = &["pre-push", "post-rewrite", "reference-transaction"];

/// Where hooks are installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Repo,
    Global,
    System,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Repo => "repo",
            Scope::Global => "global",
            Scope::System => "system",
        }
    }

    fn config_flag(self) -> &'static str {
        match self {
            Scope::Repo => "--local",
            Scope::Global => "--global",
            Scope::System => "--system",
        }
    }
}

/// Install errors.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("core.hooksPath is already set to {current:?} in the {scope} git config; use --force to replace it (uninstall restores it)")]
    HooksPathSet {
        scope: &'static str,
        current: String,
    },
    #[error("{path} exists and is not a Mantra hook, and {chained} is taken; use --force")]
    HookExists { path: String, chained: String },
    #[error(
        "{0} is not a Mantra shim directory (no {MANIFEST_FILE}); use --force to install into it"
    )]
    ForeignDir(String),
    #[error(
        "this repository's hooks are in {dir}, inside its work tree{}: Mantra does not write \
         into a directory a repository tracks or a hook manager regenerates. Call Mantra from \
         the hook manager instead: run `mantra hook pre-commit` from its pre-commit hook and \
         `mantra hook pre-push` from its pre-push hook (docs/hooks.md, \"Hook managers\")",
        manager.as_deref().map(|m| format!(" (managed by {m})")).unwrap_or_default()
    )]
    InWorkTree {
        dir: String,
        manager: Option<String>,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What to install.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    pub scope: Scope,
    /// Repository (repo scope) — any directory inside it.
    pub repo: PathBuf,
    /// Shim directory (global/system scope).
    pub dir: PathBuf,
    /// Absolute path of the mantra binary recorded in the shims.
    pub mantra_bin: PathBuf,
    /// Shims block when mantra is missing.
    pub fail_closed: bool,
    pub force: bool,
}

/// Recorded in a shim directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub scope: Scope,
    /// `core.hooksPath` in that scope before Mantra replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_hooks_path: Option<String>,
    pub mantra_bin: String,
    pub installed_at: String,
}

/// The largest hook script or manifest read: they are a few KB; bounded,
/// and read without blocking, since anything may sit in a hooks folder.
pub const HOOK_SCRIPT_LIMIT: u64 = 1024 * 1024;

/// Whether a hook file is a Mantra shim.
pub fn is_mantra_shim(path: &Path) -> bool {
    mantra_core::fsio::read(path, HOOK_SCRIPT_LIMIT)
        .map(|b| {
            let head = &b[..b.len().min(512)];
            String::from_utf8_lossy(head).contains(SHIM_MARKER)
        })
        .unwrap_or(false)
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// How a shim finds the hook it chains to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// `$(git rev-parse --git-common-dir)/hooks/<name>` (global/system).
    RepoHooksDir,
    /// `<name>.mantra-chained` beside the shim (repo scope).
    Sibling,
}

/// The POSIX sh text of one shim.
pub fn shim_script(hook: &str, mantra_bin: &Path, fail_closed: bool, chain: Chain) -> String {
    let scan = SCANNING_HOOKS.contains(&hook);
    let stdin = STDIN_HOOKS.contains(&hook);
    let chain_line = match chain {
        Chain::RepoHooksDir => "common=$(git rev-parse --git-common-dir 2>/dev/null) && chained=\"$common/hooks/$MANTRA_SHIM_HOOK\"",
        Chain::Sibling => "case \"$0\" in */*) chained=\"${0%/*}/$MANTRA_SHIM_HOOK.mantra-chained\" ;; *) chained=\"./$MANTRA_SHIM_HOOK.mantra-chained\" ;; esac",
    };
    format!(
        r#"#!/bin/sh
# {SHIM_MARKER} (v1): written by `mantra hooks install`; `mantra hooks uninstall`
# removes it and restores what was there. Do not edit.
MANTRA_SHIM_HOOK={hook}
MANTRA_SHIM_BIN={bin}
MANTRA_SHIM_FAIL_CLOSED={fail_closed}
MANTRA_SHIM_SCAN={scan}
MANTRA_SHIM_STDIN={stdin}

chained=
{chain_line}
if [ -z "$chained" ] || [ ! -f "$chained" ] || [ ! -x "$chained" ] || [ "$chained" -ef "$0" ]; then
  chained=
fi

# A shim further down the chain (repo scope under a global install) does
# not scan twice.
if [ "${{MANTRA_HOOK_RAN:-}}" = "$MANTRA_SHIM_HOOK" ]; then
  MANTRA_SHIM_SCAN=0
fi

if [ "$MANTRA_SHIM_SCAN" = 1 ]; then
  bin=$MANTRA_SHIM_BIN
  if [ ! -x "$bin" ]; then
    bin=$(command -v mantra 2>/dev/null) || bin=
  fi
  if [ -z "$bin" ]; then
    if [ "$MANTRA_SHIM_FAIL_CLOSED" = 1 ]; then
      echo "mantra: the mantra program is missing ($MANTRA_SHIM_BIN, and none on PATH): $MANTRA_SHIM_HOOK blocked (fail-closed). Reinstall Mantra or contact your administrator." >&2
      exit 1
    fi
    echo "mantra: warning: the mantra program is missing; $MANTRA_SHIM_HOOK not checked for secrets." >&2
    MANTRA_SHIM_SCAN=0
  fi
fi

if [ "$MANTRA_SHIM_SCAN" = 1 ]; then
  if [ -z "$chained" ]; then
    exec "$bin" hook "$MANTRA_SHIM_HOOK" "$@"
  fi
  if [ "$MANTRA_SHIM_STDIN" = 1 ]; then
    tmp=$(mktemp "${{TMPDIR:-/tmp}}/mantra-hook.XXXXXX") || exit 1
    trap 'rm -f "$tmp"' EXIT
    trap 'exit 130' INT TERM
    cat >"$tmp" || exit 1
    "$bin" hook "$MANTRA_SHIM_HOOK" "$@" <"$tmp" || exit $?
    MANTRA_HOOK_RAN=$MANTRA_SHIM_HOOK "$chained" "$@" <"$tmp"
    exit $?
  fi
  "$bin" hook "$MANTRA_SHIM_HOOK" "$@" || exit $?
  MANTRA_HOOK_RAN=$MANTRA_SHIM_HOOK exec "$chained" "$@"
fi

if [ -n "$chained" ]; then
  exec "$chained" "$@"
fi
exit 0
"#,
        bin = sh_quote(&mantra_bin.to_string_lossy()),
        fail_closed = u8::from(fail_closed),
        scan = u8::from(scan),
        stdin = u8::from(stdin),
    )
}

/// Writes a hook script atomically, `0755` (git runs it; everyone may read
/// it, as git's own sample hooks).
fn write_executable(path: &Path, text: &str) -> Result<(), InstallError> {
    mantra_core::fsio::write_atomic(path, text.as_bytes(), 0o755).map_err(io(path))
}

/// The hooks directory a repository-scope install writes to: a local
/// `core.hooksPath` when set (its hooks are the ones git runs), else
/// `<git-common-dir>/hooks` (shared by all worktrees).
pub fn repo_hooks_dir(git: &Git) -> Result<PathBuf, InstallError> {
    let top = git.text(&["rev-parse", "--show-toplevel"]).ok();
    if let Some(local) = git.text_opt(&[
        "config",
        "--local",
        "--type=path",
        "--get",
        "core.hooksPath",
    ])? {
        let p = PathBuf::from(&local);
        return Ok(match (p.is_absolute(), top) {
            (true, _) | (false, None) => p,
            (false, Some(top)) => PathBuf::from(top).join(p),
        });
    }
    let common = git.text(&["rev-parse", "--path-format=absolute", "--git-common-dir"])?;
    Ok(PathBuf::from(common).join("hooks"))
}

/// A repository's own `core.hooksPath` into its work tree (`.husky`, a
/// `githooks/` folder) holds files the repository tracks, or that its hook
/// manager rewrites: shims there would be committed, with this machine's
/// binary path in them, or silently replaced. Refused, with the way to
/// cover such a repository.
fn refuse_work_tree_dir(git: &Git, dir: &Path) -> Result<(), InstallError> {
    let Ok(top) = git.text(&["rev-parse", "--show-toplevel"]) else {
        return Ok(()); // a bare repository has no work tree
    };
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let top = canonical(Path::new(&top));
    let common = git
        .text(&["rev-parse", "--path-format=absolute", "--git-common-dir"])
        .map(|c| canonical(Path::new(&c)))?;
    // The directory may not exist yet: judge by its nearest existing parent.
    let mut probe = dir.to_path_buf();
    while !probe.exists() {
        match probe.parent() {
            Some(parent) => probe = parent.to_path_buf(),
            None => break,
        }
    }
    let rest = dir.strip_prefix(&probe).unwrap_or(Path::new(""));
    let resolved = canonical(&probe).join(rest);
    if resolved.starts_with(&top) && !resolved.starts_with(&common) {
        return Err(InstallError::InWorkTree {
            dir: dir.display().to_string(),
            manager: crate::status::manager_of(&dir.to_string_lossy(), dir),
        });
    }
    Ok(())
}

/// Installs; returns a line per action taken.
pub fn install(opts: &InstallOptions) -> Result<Vec<String>, InstallError> {
    match opts.scope {
        Scope::Repo => install_repo(opts),
        Scope::Global | Scope::System => install_dir(opts),
    }
}

/// Uninstalls; returns a line per action taken.
pub fn uninstall(opts: &InstallOptions) -> Result<Vec<String>, InstallError> {
    match opts.scope {
        Scope::Repo => uninstall_repo(opts),
        Scope::Global | Scope::System => uninstall_dir(opts),
    }
}

fn install_repo(opts: &InstallOptions) -> Result<Vec<String>, InstallError> {
    let git = Git::in_dir(&opts.repo);
    let dir = repo_hooks_dir(&git)?;
    refuse_work_tree_dir(&git, &dir)?;
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let mut actions = Vec::new();
    // Check everything first so a refusal changes nothing.
    for hook in SCANNING_HOOKS {
        let path = dir.join(hook);
        let chained = dir.join(format!("{hook}{CHAINED_SUFFIX}"));
        if path.exists() && !is_mantra_shim(&path) && chained.exists() && !opts.force {
            return Err(InstallError::HookExists {
                path: path.display().to_string(),
                chained: chained.display().to_string(),
            });
        }
    }
    for hook in SCANNING_HOOKS {
        let path = dir.join(hook);
        let chained = dir.join(format!("{hook}{CHAINED_SUFFIX}"));
        if path.symlink_metadata().is_ok() && !is_mantra_shim(&path) {
            std::fs::rename(&path, &chained).map_err(io(&path))?;
            actions.push(format!(
                "moved {} to {} (it still runs, after Mantra)",
                path.display(),
                chained.display()
            ));
        }
        let script = shim_script(hook, &opts.mantra_bin, opts.fail_closed, Chain::Sibling);
        if mantra_core::fsio::read_to_string(&path, HOOK_SCRIPT_LIMIT)
            .ok()
            .as_deref()
            != Some(script.as_str())
        {
            write_executable(&path, &script)?;
            actions.push(format!("installed {}", path.display()));
        }
    }
    if actions.is_empty() {
        actions.push(format!("already installed in {}", dir.display()));
    }
    Ok(actions)
}

fn uninstall_repo(opts: &InstallOptions) -> Result<Vec<String>, InstallError> {
    let git = Git::in_dir(&opts.repo);
    let dir = repo_hooks_dir(&git)?;
    let mut actions = Vec::new();
    for hook in SCANNING_HOOKS {
        let path = dir.join(hook);
        let chained = dir.join(format!("{hook}{CHAINED_SUFFIX}"));
        if !is_mantra_shim(&path) {
            if path.exists() {
                actions.push(format!("left {} (not a Mantra hook)", path.display()));
            }
            continue;
        }
        std::fs::remove_file(&path).map_err(io(&path))?;
        actions.push(format!("removed {}", path.display()));
        if chained.symlink_metadata().is_ok() {
            std::fs::rename(&chained, &path).map_err(io(&chained))?;
            actions.push(format!("restored {}", path.display()));
        }
    }
    if actions.is_empty() {
        actions.push(format!("no Mantra hooks in {}", dir.display()));
    }
    Ok(actions)
}

fn config_git() -> Git {
    Git::current()
}

/// `core.hooksPath` in a global/system config.
pub fn scope_hooks_path(scope: Scope) -> Result<Option<String>, GitError> {
    config_git().text_opt(&[
        "config",
        scope.config_flag(),
        "--type=path",
        "--get",
        "core.hooksPath",
    ])
}

fn same_dir(a: &str, b: &Path) -> bool {
    let a = PathBuf::from(a);
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    let text =
        mantra_core::fsio::read_to_string(&dir.join(MANIFEST_FILE), HOOK_SCRIPT_LIMIT).ok()?;
    serde_json::from_str(&text).ok()
}

fn install_dir(opts: &InstallOptions) -> Result<Vec<String>, InstallError> {
    let dir = &opts.dir;
    let current = scope_hooks_path(opts.scope)?;
    let existing = read_manifest(dir);
    let previous = match &current {
        Some(c) if same_dir(c, dir) => existing
            .as_ref()
            .and_then(|m| m.previous_hooks_path.clone()),
        Some(c) => {
            if !opts.force {
                return Err(InstallError::HooksPathSet {
                    scope: opts.scope.name(),
                    current: c.clone(),
                });
            }
            Some(c.clone())
        }
        None => None,
    };
    let dir_has_foreign = dir.is_dir()
        && existing.is_none()
        && std::fs::read_dir(dir)
            .map_err(io(dir))?
            .flatten()
            .any(|e| !is_mantra_shim(&e.path()));
    if dir_has_foreign && !opts.force {
        return Err(InstallError::ForeignDir(dir.display().to_string()));
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut actions = Vec::new();
    for hook in ALL_HOOKS {
        let path = dir.join(hook);
        let script = shim_script(
            hook,
            &opts.mantra_bin,
            opts.fail_closed,
            Chain::RepoHooksDir,
        );
        if mantra_core::fsio::read_to_string(&path, HOOK_SCRIPT_LIMIT)
            .ok()
            .as_deref()
            != Some(script.as_str())
        {
            write_executable(&path, &script)?;
            actions.push(format!("wrote {}", path.display()));
        }
    }
    let manifest = Manifest {
        version: 1,
        scope: opts.scope,
        previous_hooks_path: previous,
        mantra_bin: opts.mantra_bin.display().to_string(),
        installed_at: existing.as_ref().map_or_else(
            || mantra_core::time::Timestamp::now().to_rfc3339(),
            |m| m.installed_at.clone(),
        ),
    };
    if existing.as_ref() != Some(&manifest) {
        let path = dir.join(MANIFEST_FILE);
        let json = serde_json::to_string_pretty(&manifest).map_err(|e| InstallError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        std::fs::write(&path, json + "\n").map_err(io(&path))?;
    }
    let wanted = dir.display().to_string();
    if current.as_deref().is_none_or(|c| !same_dir(c, dir)) {
        config_git().output(&[
            "config",
            opts.scope.config_flag(),
            "core.hooksPath",
            &wanted,
        ])?;
        actions.push(format!(
            "set core.hooksPath={wanted} in the {} git config",
            opts.scope.name()
        ));
    }
    if actions.is_empty() {
        actions.push(format!("already installed in {wanted}"));
    }
    Ok(actions)
}

fn uninstall_dir(opts: &InstallOptions) -> Result<Vec<String>, InstallError> {
    let dir = &opts.dir;
    let manifest = read_manifest(dir);
    let mut actions = Vec::new();
    match scope_hooks_path(opts.scope)? {
        Some(c) if same_dir(&c, dir) => {
            match manifest
                .as_ref()
                .and_then(|m| m.previous_hooks_path.clone())
            {
                Some(prev) => {
                    config_git().output(&[
                        "config",
                        opts.scope.config_flag(),
                        "core.hooksPath",
                        &prev,
                    ])?;
                    actions.push(format!("restored core.hooksPath={prev}"));
                }
                None => {
                    config_git().output(&[
                        "config",
                        opts.scope.config_flag(),
                        "--unset",
                        "core.hooksPath",
                    ])?;
                    actions.push(format!(
                        "unset core.hooksPath in the {} git config",
                        opts.scope.name()
                    ));
                }
            }
        }
        Some(c) => actions.push(format!("left core.hooksPath={c} (not Mantra's)")),
        None => {}
    }
    if dir.is_dir() {
        for entry in std::fs::read_dir(dir).map_err(io(dir))?.flatten() {
            let path = entry.path();
            if is_mantra_shim(&path) || entry.file_name() == MANIFEST_FILE {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
        }
        if std::fs::remove_dir(dir).is_ok() {
            actions.push(format!("removed {}", dir.display()));
        }
    }
    if actions.is_empty() {
        actions.push("nothing to uninstall".into());
    }
    Ok(actions)
}
