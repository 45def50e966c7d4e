//! `mantra hooks install|uninstall|status`: what an admin or a developer
//! runs to put the git hooks in place and see where they would not run.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use mantra_hooks::install::{self, InstallOptions, Scope};

use crate::settings::Settings;

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

/// Where global/system shims live by default.
fn default_dir(settings: &Settings, scope: Scope) -> Result<PathBuf> {
    match scope {
        Scope::Global => settings
            .data_dir_if_any()
            .map(|d| d.git_hooks_dir())
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

fn install_options(
    settings: &Settings,
    target: &InstallArgs,
    force: bool,
) -> Result<InstallOptions> {
    let scope: Scope = target.scope.into();
    let dir = match &target.dir {
        Some(d) => std::path::absolute(d).context("cannot resolve --dir")?,
        None => default_dir(settings, scope)?,
    };
    let repo = match &target.repo {
        Some(r) => r.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let exe = std::env::current_exe().context("cannot find the mantra binary")?;
    let mantra_bin = exe.canonicalize().unwrap_or(exe);
    let config = settings.hook_config()?;
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
pub fn run(settings: &Settings, cmd: HooksCommand) -> Result<u8> {
    match cmd {
        HooksCommand::Install { target, force } => {
            let opts = install_options(settings, &target, force)?;
            for line in install::install(&opts)? {
                println!("{line}");
            }
            Ok(0)
        }
        HooksCommand::Uninstall { target } => {
            let opts = install_options(settings, &target, false)?;
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
            let config = settings.hook_config()?;
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
